"""The plan view: the current turn's subtasks, with region, state and time."""

from __future__ import annotations

import time

from textual.widgets import DataTable

COLUMNS = ("#", "region", "state", "time", "subtask")
"""The subtask last: where the panes are narrow, its end is what is cut."""


class PlanView(DataTable):
    """A row per subtask (and the planner's own plan stream)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="none", zebra_stripes=True, **kwargs)
        self.instructions: dict[str, str] = {}
        self._started: dict[str, float] = {}

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column)

    def reset(self) -> None:
        self.clear()
        self.instructions.clear()
        self._started.clear()

    def add_step(self, step_id: str, region: str, instruction: str, state: str = "queued") -> None:
        if step_id in self.instructions:
            return
        self.instructions[step_id] = instruction
        self.add_row(step_id, region, state, "", instruction[:60], key=step_id)

    def mark_running(self, step_id: str, replica: str) -> None:
        if step_id not in self.instructions:
            self.add_step(
                step_id,
                replica,
                {"plan": "planning"}.get(step_id, ""),
                "running",
            )
        if step_id in self._started:
            return
        self._started[step_id] = time.monotonic()
        self.update_cell(step_id, "region", replica, update_width=True)
        self.update_cell(step_id, "state", "running", update_width=True)

    def mark_done(self, step_id: str, ok: bool, seconds: float) -> None:
        if step_id not in self.instructions:
            return
        self.update_cell(step_id, "state", "done" if ok else "[red]failed[/red]")
        self.update_cell(step_id, "time", f"{seconds:.1f} s", update_width=True)

    def states(self) -> dict[str, str]:
        """Each row's state, for tests and the status bar."""
        return {key: str(self.get_cell(key, "state")) for key in self.instructions}
