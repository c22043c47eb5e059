"""An example of a region of your own: a critic that reads the language streams and remarks.

Use it by adding to a cortex.toml:

    [regions.critic]
    class = "examples.critic:Critic"

It loads no model: it watches every region's output and, whenever a language subtask
finishes, publishes a remark (an `Event` with code ``remark``) on ``region.critic.out``.
"""

from __future__ import annotations

from collections.abc import Iterator

from bus.protocol import SubtaskResult
from bus.tokenbus import Delivery
from modules.region import Region


class Critic(Region):
    kind = "critic"
    description = "Review the language regions' answers."
    watches = ("region.*",)
    takes_subtasks = False

    def observe(self, delivery: Delivery) -> Iterator[str]:
        result = delivery.message
        if not isinstance(result, SubtaskResult) or result.region != "language":
            return
        sentences = [s.strip() for s in result.text.split(".") if s.strip()]
        repeats = len(sentences) - len(set(sentences))
        verdict = f"repeats itself {repeats} time(s)" if repeats else "no repetition"
        rate = result.tokens / max(result.finished - result.started, 1e-9)
        yield (
            f"{result.replica} answered subtask {result.subtask_id} in "
            f"{len(result.text.split())} words at {rate:.1f} tok/s; {verdict}"
        )
