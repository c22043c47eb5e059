"""The status bar: bus rate, a sparkline of tokens per second, devices busy, which Cortex this
is (its Ray cluster and process, as `cortex status` names them), the dashboard."""

from __future__ import annotations

import os
from collections import deque

from textual.containers import Horizontal
from textual.widgets import Label, Sparkline

SPARKLINE_SECONDS = 60


class StatusBar(Horizontal):
    """Refreshed once a second by the app."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.token_rates: deque[float] = deque([0.0] * SPARKLINE_SECONDS, maxlen=SPARKLINE_SECONDS)

    def compose(self):
        yield Label("bus 0 msg/s", id="bus-rate")
        yield Label("0 tok/s", id="token-rate")
        yield Sparkline(list(self.token_rates), id="token-sparkline")
        yield Label("devices busy 0/0", id="busy")
        yield Label("", id="cortex")
        yield Label("dashboard: starting", id="dashboard")

    def refresh_figures(
        self, messages_per_s: float, tokens_per_s: float, busy: int, total: int
    ) -> None:
        self.token_rates.append(tokens_per_s)
        self.query_one("#bus-rate", Label).update(f"bus {messages_per_s:,.0f} msg/s")
        self.query_one("#token-rate", Label).update(f"{tokens_per_s:,.0f} tok/s")
        self.query_one("#token-sparkline", Sparkline).data = list(self.token_rates)
        self.query_one("#busy", Label).update(f"devices busy {busy}/{total}")

    def show_dashboard(self, url: str | None) -> None:
        text = url or "off (cortex chat --dashboard starts it)"
        self.query_one("#dashboard", Label).update(f"dashboard: {text}")

    def show_cortex(self, ray_address: str | None) -> None:
        """Which Cortex this is: its Ray cluster and this process (`cortex status --pid`)."""
        where = f"Ray {ray_address}, pid {os.getpid()}" if ray_address else "in-process, no Ray"
        self.query_one("#cortex", Label).update(where)
