"""The media steps of a turn: a picture looked at, a recording heard, the answer spoken.

`MediaSteps` is the part of `cortex.turns.turn.Turn` that starts the vision and speech
regions on what the turn carries, and hears back from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bus.protocol import SubtaskResult
from bus.topics import turn_out
from cortex.errors import TurnError
from cortex.turns.records import TurnState

if TYPE_CHECKING:
    from cortex.turns.turn import Turn

SPEAK_ID = "speak"


class MediaSteps:
    """Starting the media regions and taking their results, for `Turn`."""

    def _start_media(self: Turn, step_id: str, region: str, instruction: str, **media: str) -> None:
        self.scheduler.add(self._subtask(step_id, region, instruction, **media))
        self._dispatch()

    def _heard(self: Turn, result: SubtaskResult) -> None:
        transcript = str(result.data.get("text", "")).strip() if result.ok else ""
        if not transcript and not self.question:
            reason = result.error if not result.ok else result.data.get("note", "no speech")
            raise TurnError(f"the recording gave no question: {reason}")
        if not transcript:
            self.notes.append(f"the recording gave no words ({result.error or 'no speech'})")
        self.notes += [f"the recording: {note}" for note in result.data.get("notes", [])]
        self.question = " ".join(part for part in (self.question, transcript) if part)
        self._ask_planner()

    def _follow_answer(self) -> None:
        """Has the speech region speak the answer's stream as it is decoded."""
        speakers = self.scheduler.replicas.get("speech")
        if not speakers:
            raise TurnError("speaking the answer needs a speech region; none runs")
        self._send(
            next(iter(speakers)),
            self._subtask(
                SPEAK_ID,
                "speech",
                "",
                speak_stream=turn_out(self.turn_id).name,
                output_path=self.speak_to,
            ),
        )

    def _on_spoken(self: Turn, result: SubtaskResult) -> None:
        if not result.ok:
            raise TurnError(f"speaking the answer failed: {result.error}")
        if result.data.get("wav"):  # the speech region reports the file when it is written
            self.spoken = dict(result.data)
            if self.state == TurnState.SPEAKING:
                self.state = TurnState.DONE
