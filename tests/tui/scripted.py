"""Scripted fake regions for the terminal app's tests: real hosts and turns, canned text.

Each region streams a fixed text word by word with a short pause per token, so two
delegates visibly decode at the same time, deterministically and without model weights.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from bus.protocol import Subtask
from modules.generation import Piece
from modules.planning import SYNTHESIS_PROMPT, PlanningRegion
from modules.region import Region

TOKEN_PAUSE_S = 0.03
PLAN = (
    "1. [language] Describe the caffeine in tea and coffee.\n2. [language] Compare their price.\n\n"
)
ANSWER = "Tea has **less caffeine** than coffee, and coffee usually costs more."


def words(text: str) -> Iterator[Piece]:
    for index, word in enumerate(text.split(" ")):
        time.sleep(TOKEN_PAUSE_S)
        yield Piece(index, word if index == 0 else " " + word)


class KeywordRouter:
    """Routes everything to language; only requests that compare things need a plan."""

    def route(self, instruction: str, among: set[str] | None = None) -> str:
        return "language"

    def is_simple(self, request: str) -> bool:
        return "compare" not in request.lower()


class ScriptedPlanner(PlanningRegion):
    """The real planner's logic, with its language model replaced by canned text."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.router = KeywordRouter()  # type: ignore[assignment]

    def setup(self) -> None:
        """Loads nothing."""

    def generate(self, messages, max_new_tokens=None) -> Iterator[Piece]:
        yield from words(ANSWER if messages[0]["content"] == SYNTHESIS_PROMPT else PLAN)


class ScriptedLanguage(Region):
    kind = "language"
    description = "Answer questions."
    setup_delay_s = 0.0

    def setup(self) -> None:
        time.sleep(self.setup_delay_s)

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        yield from words(f"About {subtask.instruction.lower()}: it depends on the brew.")


class SlowLanguage(ScriptedLanguage):
    """Takes a moment to load, like a real model."""

    setup_delay_s = 1.5


def scripted_config(language: str = "ScriptedLanguage") -> dict:
    return {
        "runtime": {"namespace": "tui-tests", "turn_timeout_s": 60},
        "regions": {
            "planning": {"kind": "planning", "class": "tests.tui.scripted:ScriptedPlanner"},
            "language": {
                "kind": "language",
                "class": f"tests.tui.scripted:{language}",
                "replicas": 2,
            },
        },
    }
