"""Region panes: one per region instance, showing what it is doing and its tokens live."""

from __future__ import annotations

import time

from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, ProgressBar, Static

STREAM_TAIL = 600
"""Characters of the current stream kept on screen."""


class RegionPane(Vertical):
    """One region instance: name, device, state, subtask, streaming tokens, tokens per second."""

    def __init__(self, name: str) -> None:
        super().__init__(id=f"region-{name}", classes="region")
        self.region_name = name
        self.device = ""
        self.state = "loading"
        self.subtask = ""
        self.tokens = 0
        """Tokens decoded since the region last went from idle to decoding."""
        self.streams: set[str] = set()
        """Streams decoding now (several at once where the region's engine batches)."""
        self.streamed_total = 0
        self.rate = 0.0
        self.speeds = ""
        """The device's measured prefill and decode rates, for text regions."""
        self.speculation = ""
        """How the region's last stream fared with its draft (a target), or how many tokens
        it proposed (a draft region)."""
        self.proposed = 0
        self._stream_start = 0.0
        self._text = ""
        self._title_label = Label(self._title(), classes="region-title")
        self._bar = ProgressBar(total=None, show_eta=False, show_percentage=False)
        self._stream = Static("", classes="region-stream")

    def compose(self):
        yield self._title_label
        yield self._bar
        yield self._stream

    def set_state(self, state: str, device: str = "") -> None:
        self.state = state
        self.device = device or self.device
        self.set_class(state == "decoding", "decoding")
        self.set_class(state == "failed", "failed")
        if state != "loading":
            self._bar.update(total=1, progress=1)
        self._bar.display = state == "loading"
        self._refresh_title()

    def set_speeds(self, prefill: float, decode: float) -> None:
        """Shows the device's measured prefill/decode tokens per second (nothing where none
        were measured)."""
        self.speeds = f"prefill {prefill:,.0f}, decode {decode:,.0f} tok/s" if prefill else ""
        self._refresh_title()

    def begin(self, subtask: str) -> None:
        self.subtask, self.tokens, self._text = subtask, 0, ""
        self._stream_start = time.monotonic()
        self.set_state("decoding")

    def add_token(self, text: str, stream: str) -> None:
        if self.state != "decoding":
            self.begin(self.subtask or "…")
        self.streams.add(stream)
        self.tokens += 1
        self.streamed_total += 1
        elapsed = time.monotonic() - self._stream_start
        self.rate = self.tokens / elapsed if elapsed > 0 else 0.0
        self._text = (self._text + text)[-STREAM_TAIL:]
        self._stream.update(self._text)
        self._refresh_title()

    def drafted(self, tokens: int, target: str) -> None:
        """This draft region proposed `tokens` more tokens to `target`."""
        self.proposed += tokens
        self.speculation = f"drafting for {target} · {self.proposed} tokens proposed"
        self._refresh_title()

    def end(
        self, stream: str, ok: bool, tokens: int, seconds: float, speculation: object = None
    ) -> None:
        """A stream ended; the region is idle once none is left. `speculation`: the stream's
        figures with its draft, if it had one."""
        if isinstance(speculation, dict):
            self.speculation = speculation_line(speculation)
        self.streams.discard(stream)
        if self.streams:
            self._refresh_title()
        else:
            self.rate = tokens / seconds if seconds > 0 else self.rate
            self.set_state("idle")
        if not ok:
            self._stream.update(self._text + "\n[red]subtask failed[/red]")

    def _title(self) -> str:
        parts = [f"[b]{self.region_name}[/b]", self.device or "…", self.state]
        if len(self.streams) > 1:
            parts.append(f"{len(self.streams)} streams")
        if self.tokens:
            parts.append(f"{self.rate:.1f} tok/s · {self.tokens} tokens")
        if self.speeds:  # the device's prefill/decode tok/s
            parts.append(f"[dim]{self.speeds}[/dim]")
        title = " · ".join(parts)
        if self.speculation:
            title += f"\n[dim]{self.speculation}[/dim]"
        return title + (f"\n[dim]{self.subtask}[/dim]" if self.subtask else "")

    def _refresh_title(self) -> None:
        self._title_label.update(self._title())


def speculation_line(figures: dict) -> str:
    """A target's last stream with its draft: ``draft language-draft · 84% accepted ·
    window 12 · 2.61x alone``, or why it decoded alone."""
    parts = [f"draft {figures.get('draft', '?')}"]
    if figures.get("acceptance_rate") is not None:
        parts.append(f"{figures['acceptance_rate']:.0%} accepted")
        parts.append(f"window {figures.get('window')}")
    if figures.get("speedup"):
        parts.append(f"{figures['speedup']:.2f}x alone")
    if figures.get("fallback"):
        parts.append(f"alone: {figures['fallback']}")
    return " · ".join(parts)


class RegionPanes(VerticalScroll):
    """Every region instance's pane, in start-up order."""

    def pane(self, name: str) -> RegionPane:
        """The pane of an instance, created on first use."""
        found = self.query(f"#region-{name}")
        if found:
            return found.first(RegionPane)
        pane = RegionPane(name)
        self.mount(pane)
        return pane

    def panes(self) -> list[RegionPane]:
        return list(self.query(RegionPane))
