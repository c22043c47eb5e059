"""What a turn produced, as `cortex ask --json` prints it and the session log keeps it."""

from __future__ import annotations

import enum

from pydantic import BaseModel, JsonValue

from bus.protocol import Subtask, SubtaskResult


class PlanEntry(BaseModel):
    id: str
    region: str
    instruction: str
    depends_on: list[str]

    @classmethod
    def of(cls, step: Subtask) -> PlanEntry:
        """The plan's entry for one of its steps."""
        return cls(
            id=step.subtask_id,
            region=step.region,
            instruction=step.instruction,
            depends_on=list(step.depends_on),
        )


class StreamRecord(BaseModel):
    """One decoded stream: who decoded it, where, when (Unix seconds) and how many tokens."""

    id: str
    region: str
    replica: str
    device: str
    start: float
    end: float
    tokens: int
    prompt_tokens: int = 0
    """The prompt's length in tokens, where the region reports it (text regions do)."""
    speculation: dict[str, JsonValue] | None = None
    """How the region's draft fared on this stream (a target with a draft): tokens proposed
    and accepted, acceptance rate, window, speed-up, and why it fell back, if it did."""

    @classmethod
    def of(cls, result: SubtaskResult) -> StreamRecord:
        """The record of the stream that ended with `result`."""
        prompt = result.data.get("prompt_tokens")
        speculation = result.data.get("speculation")
        return cls(
            id=result.stream_id,
            region=result.region,
            replica=result.replica,
            device=result.device,
            start=result.started,
            end=result.finished,
            tokens=result.tokens,
            prompt_tokens=prompt if isinstance(prompt, int) else 0,
            speculation=speculation if isinstance(speculation, dict) else None,
        )


class TurnRecord(BaseModel):
    """Everything a turn produced."""

    turn_id: str
    question: str
    answer: str
    plan: list[PlanEntry]
    streams: list[StreamRecord]
    wall_s: float
    first_token_s: float | None = None
    """Seconds from the question to the answer's first token (None if nothing was answered)."""
    notes: list[str] = []
    """Repairs of the plan and failures of subtasks, in the order they happened."""
    spoken: dict[str, str | float] = {}
    """Where the answer was spoken to (``wav``) and for how long (``seconds``), if it was."""
    finish_reason: str = "stop"
    """``stop``, ``length`` (a token cap cut the answer) or ``tool_calls``."""
    tool_calls: list[tuple[str, str]] = []
    """The tools the answer calls, in plan order: (name, arguments as JSON text)."""


class TurnState(enum.StrEnum):
    LISTENING = "listening"
    PLANNING = "planning"
    ANSWERING = "answering"
    SPEAKING = "speaking"
    DONE = "done"
