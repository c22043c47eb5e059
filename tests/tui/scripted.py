"""Scripted fake regions for the terminal app's tests: real hosts and turns, canned text.

Each region streams a fixed text word by word with a short pause per token, so two
delegates visibly decode at the same time, deterministically and without model weights.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator

from bus.protocol import Subtask
from modules.engines import Piece
from modules.manager.parts import split
from modules.planning import PlanningRegion
from modules.region import Region

TOKEN_PAUSE_S = 0.03


def words(text: str) -> Iterator[Piece]:
    for index, word in enumerate(text.split(" ")):
        time.sleep(TOKEN_PAUSE_S)
        yield Piece(index, word if index == 0 else " " + word)


def scripted_answer(instruction: str) -> str:
    """What `ScriptedLanguage` answers to one instruction."""
    return f"About {instruction.rstrip('.?!').lower()}: it depends on the brew."


def expected_answer(question: str) -> str:
    """The turn's answer to a text question on scripted regions: each part's, in order."""
    return "\n\n".join(scripted_answer(part) for part in split(question).parts)


class ScriptedPlanner(PlanningRegion):
    """The real planner; it loads no model (text turns need none: their plan is fixed)."""

    def setup(self) -> None:
        """Loads nothing."""


class ScriptedLanguage(Region):
    kind = "language"
    description = "Answer questions."
    setup_delay_s = 0.0

    def setup(self) -> None:
        time.sleep(self.setup_delay_s)

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        yield from words(scripted_answer(subtask.instruction))


class SlowLanguage(ScriptedLanguage):
    """Takes a moment to load, like a real model."""

    setup_delay_s = 1.5


HEARD = "What do cats eat?"
"""What `ScriptedHearing` hears in any recording."""


class ScriptedVision(Region):
    """Sees a cat in any picture."""

    kind = "vision"
    description = "Say what a picture shows."

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        yield from words("A cat on a sofa.")


class ScriptedHearing(Region):
    """Hears `HEARD` in any recording; the planner never gives it parts of a request."""

    kind = "speech"
    description = "Transcribe recordings."
    takes_subtasks = False

    def handle(self, subtask: Subtask) -> Generator[Piece, None, dict]:
        yield from words(HEARD)
        return {"text": HEARD}


def scripted_config(language: str = "ScriptedLanguage", media: bool = False) -> dict:
    regions = {
        "planning": {"kind": "planning", "class": "tests.tui.scripted:ScriptedPlanner"},
        "language": {"kind": "language", "class": f"tests.tui.scripted:{language}", "replicas": 2},
    }
    if media:
        regions["vision"] = {"kind": "vision", "class": "tests.tui.scripted:ScriptedVision"}
        regions["speech"] = {"kind": "speech", "class": "tests.tui.scripted:ScriptedHearing"}
    return {"runtime": {"namespace": "tui-tests", "turn_timeout_s": 60}, "regions": regions}
