"""Modal screens: the help screen and the session picker of `cortex chat --resume`."""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.commands import help_lines

KEYS = (
    ("enter", "send the question (it waits if regions are still loading)"),
    ("f1", "this help"),
    ("f2", "show or hide the region panes and the plan"),
    ("ctrl+s", "save the transcript as Markdown (like /save)"),
    ("ctrl+q / ctrl+c", "quit: every region and Ray shut down"),
    ("escape", "close this screen"),
)


class HelpScreen(ModalScreen[None]):
    """Every key and command."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label("[b]Cortex — keys and commands[/b]")
            yield Static("\n".join(f"{key.ljust(16)}{text}" for key, text in KEYS))
            yield Static("\n".join(help_lines()), markup=False)  # "/save [PATH]" is text
            yield Label("[dim]escape to close[/dim]")


def session_summary(path: Path) -> tuple[str, int]:
    """The first question of a session log and its number of turns."""
    first, turns = "", 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        turns += 1
        first = first or str(record.get("question", ""))
    return first, turns


class SessionPicker(ModalScreen[Path | None]):
    """Lists past sessions, the last used first; the chosen one continues.

    Args:
        sessions: The session logs to list.
        command: Whose sessions they are (``chat``), for the heading; None: every command's.
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "New session")]

    def __init__(self, sessions: list[Path], command: str | None = None) -> None:
        super().__init__()
        self.sessions = sessions
        self.command = command

    def compose(self) -> ComposeResult:
        options = []
        for path in self.sessions:
            first, turns = session_summary(path)
            options.append(Option(f"{path.stem}  ({turns} turns)  {first[:60]}", id=str(path)))
        whose = f"{self.command}'s sessions" if self.command else "every command's sessions"
        with Vertical(id="picker"):
            yield Label(
                f"[b]Continue a session[/b] ({whose})  [dim](escape starts a new one)[/dim]"
            )
            yield OptionList(*options) if options else Label("No saved sessions yet.")
            if self.command:
                yield Label("[dim]cortex chat --resume --all-sessions lists every command's[/dim]")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(Path(event.option.id))
