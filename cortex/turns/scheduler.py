"""The scheduler of a turn's subtasks: which replica runs what, once what it reads is done.

It knows nothing of the bus: the turn tells it what was planned, what finished and which
replica died, and asks it what can start now. With a `Handoff`, a step may share its
request's prefill with the other parts, or have its prompt prefilled on another replica
(`cortex.turns.handoff`); replicas configured to prefill only take no steps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from bus.protocol import Event, Subtask, SubtaskResult
from bus.tokenbus import TokenBus
from bus.topics import region_inbox
from cortex.turns.handoff import Handoff, HandoffPlanner


@dataclass
class Scheduler:
    """Assigns subtasks to replicas in plan order, once their dependencies are done: each to
    the least-loaded replica of its kind with a free slot; a subtask waits only while every
    replica of its kind is full."""

    replicas: dict[str, dict[str, int]]
    """Instance names by region kind, each with how many subtasks it decodes at once."""
    handoff: Handoff | None = None
    steps: dict[str, Subtask] = field(default_factory=dict)
    results: dict[str, SubtaskResult] = field(default_factory=dict)
    running: dict[str, str] = field(default_factory=dict)
    """Subtask id -> the replica working on it."""
    down: set[str] = field(default_factory=set)
    """Replicas whose process died, until Ray has restarted them."""
    retried: set[str] = field(default_factory=set)
    """Steps already run again after their region died."""

    def __post_init__(self) -> None:
        self._planner = HandoffPlanner(self.handoff, self.replicas) if self.handoff else None

    @property
    def notes(self) -> list[str]:
        """Each prefill handed to another replica, with what the speeds predicted."""
        return self._planner.notes if self._planner is not None else []

    def add(self, step: Subtask) -> None:
        self.steps[step.subtask_id] = step

    def finish(self, result: SubtaskResult) -> bool:
        """Records a result; False if it is stale (from an attempt since retried)."""
        step = self.steps.get(result.subtask_id)
        if step is not None and result.stream_id not in (step.stream_id, "-"):
            return False
        self.results[result.subtask_id] = result
        self.running.pop(result.subtask_id, None)
        return True

    def lose(self, replica: str) -> tuple[list[Subtask], list[Subtask]]:
        """A replica's process died: the steps it held are retried once, on whichever
        replica of their kind is free first. Returns (retried, given up: already retried)."""
        self.down.add(replica)
        retried, given_up = [], []
        for step_id, holder in list(self.running.items()):
            if holder != replica:
                continue
            del self.running[step_id]
            step = self.steps[step_id]
            if step_id in self.retried:
                given_up.append(step)
                continue
            self.retried.add(step_id)
            self.steps[step_id] = step.model_copy(update={"attempt": step.attempt + 1})
            retried.append(self.steps[step_id])
        return retried, given_up

    def reask(self, step_id: str, avoid: str) -> Subtask:
        """Runs a step again as a new attempt, told what not to repeat; its current attempt's
        output no longer counts. Returns the attempt dropped."""
        dropped = self.steps[step_id]
        self.running.pop(step_id, None)
        self.results.pop(step_id, None)
        self.steps[step_id] = dropped.model_copy(
            update={"attempt": dropped.attempt + 1, "avoid": avoid}
        )
        return dropped

    def restore(self, replica: str) -> None:
        """A replica is back after a restart: it may take steps again."""
        self.down.discard(replica)

    @property
    def done(self) -> bool:
        return len(self.results) == len(self.steps)

    @property
    def instances(self) -> list[str]:
        """Every replica's instance name."""
        return [name for names in self.replicas.values() for name in names]

    def load(self, replica: str) -> int:
        """Subtasks of this turn running on a replica now."""
        return sum(1 for holder in self.running.values() if holder == replica)

    def _free_replica(self, kind: str) -> str | None:
        """The least-loaded live replica of a kind with a free slot (the first on a tie)."""
        takers = self.replicas.get(kind, {})
        if self._planner is not None:
            takers = self._planner.step_takers(kind)
        free = [
            (self.load(name), index, name)
            for index, (name, slots) in enumerate(takers.items())
            if name not in self.down and self.load(name) < slots
        ]
        return min(free)[2] if free else None

    def ready(self) -> list[tuple[str, Subtask]]:
        """Takes every step that can start now: (replica, subtask with its inputs filled),
        and any prefill subtask a step's prompt goes to first."""
        started = []
        for step_id, step in self.steps.items():
            if step_id in self.running or step_id in self.results:
                continue
            if not all(dep in self.results for dep in step.depends_on):
                continue
            replica = self._free_replica(step.region)
            if replica is None:
                continue
            self.running[step_id] = replica
            step = self._with_inputs(step)
            if self._planner is None:
                started.append((replica, step))
            else:
                started += self._planner.route(replica, step, self.load, self.down)
        return started

    def _with_inputs(self, step: Subtask) -> Subtask:
        """`step` with what its dependencies produced: the answer of a step of its own kind
        as an earlier exchange (it works on that answer: "..., then translate it"), another
        kind's output as a note (a picture's description)."""
        inputs, earlier = dict(step.inputs), list(step.earlier)
        for dep in step.depends_on:
            before = self.steps.get(dep)
            if before is not None and before.region == step.region:
                earlier.append((before.instruction, result_text(self.results[dep])))
            else:
                inputs[dep] = result_text(self.results[dep])
        return step.model_copy(update={"inputs": inputs, "earlier": tuple(earlier)})


def failed_result(step: Subtask, stream_id: str, replica: str, error: str) -> SubtaskResult:
    """The result of a step that could not run, or not to its end."""
    now = time.time()
    return SubtaskResult(
        turn_id=step.turn_id,
        subtask_id=step.subtask_id,
        stream_id=stream_id,
        region=step.region,
        replica=replica,
        device="-",
        ok=False,
        text="",
        error=error,
        started=now,
        finished=now,
    )


def result_text(result: SubtaskResult) -> str:
    """A result as a dependent step reads it: its text, or why it failed."""
    return result.text if result.ok else f"(this part failed: {result.error})"

def cancel_work(bus: TokenBus, turn_id: str, instances: Iterable[str], stream_id: str = "") -> None:
    """Tells each region instance to stop every subtask of a turn, or only the one decoding
    `stream_id` (see `modules.host`)."""
    data = {"turn_id": turn_id, "stream_id": stream_id} if stream_id else {"turn_id": turn_id}
    for instance in instances:
        bus.publish(region_inbox(instance), Event(code="cancel", source="driver", data=data))
