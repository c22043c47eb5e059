"""Which replicas of a turn hand each other their prefill.

Two cases, both decided here from what each text replica measured at start (its prefill
and decode rates and what a token's KV state weighs, `modules.speeds`):

- **Shared prefill.** Parts of one request that share a long start (the pasted text every
  part is about, the exchanges they build on) should not each prefill it: the first part
  dispatched prefills it and keeps its KV state (`kv_export`), every later part imports it
  (`kv_import`) and prefills only its own instruction.
- **Prefill here, decode there.** A long prompt is prefilled on the replica fastest at
  prefill and decoded on the one the scheduler gave it, when the rates and the transfer's
  cost predict the answer starts sooner than with a prefill where it decodes.

Prompt lengths are estimated from characters (`CHARS_PER_TOKEN`): the driver holds no
tokenizer, and the choice only needs their size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bus.protocol import Subtask
from cortex.config import HandoffConfig

CHARS_PER_TOKEN = 4.0
OVERHEAD_S = 0.05
"""A handoff's fixed cost beyond its bytes: the request, the header, the import."""
SYSTEM_TOKENS = 20
"""The system prompt and chat template around a delegate's chat, in tokens."""


@dataclass(frozen=True)
class ReplicaSpeeds:
    """A text replica's measured rates and what a token's KV state weighs there."""

    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    kv_bytes_per_token: int
    role: str = "any"

    @classmethod
    def of(cls, info: dict[str, Any]) -> ReplicaSpeeds | None:
        """From a region's status; None for a region that hands no KV state over."""
        if not info.get("kv_bytes_per_token"):
            return None
        return cls(
            info.get("prefill_tokens_per_s", 0.0),
            info.get("decode_tokens_per_s", 0.0),
            info["kv_bytes_per_token"],
            info.get("role", "any"),
        )

    @property
    def measured(self) -> bool:
        return self.prefill_tokens_per_s > 0 and self.decode_tokens_per_s > 0


@dataclass(frozen=True)
class Prediction:
    """Seconds until a prompt is prefilled, there or handed over."""

    tokens: int
    local_s: float
    """Prefilled where it decodes."""
    split_s: float
    """Prefilled on the prefill replica, then handed over."""
    transfer_s: float

    def describe(self, prefill: str, decode: str) -> str:
        return (
            f"a {self.tokens}-token prompt: prefill on {prefill} and hand over "
            f"{self.split_s:.2f} s (transfer {self.transfer_s:.2f} s) against "
            f"{self.local_s:.2f} s on {decode}"
        )


def estimated_tokens(*texts: str) -> int:
    return int(sum(len(text) for text in texts) / CHARS_PER_TOKEN)


def predict(
    tokens: int, prefill: ReplicaSpeeds, decode: ReplicaSpeeds, bandwidth_mb_s: float
) -> Prediction:
    """How long a prompt takes to be ready to decode on `decode`, prefilled there or on
    `prefill` and sent over the bus."""
    transfer = tokens * prefill.kv_bytes_per_token / (bandwidth_mb_s * 1e6) + OVERHEAD_S
    split = tokens / prefill.prefill_tokens_per_s + transfer
    return Prediction(tokens, tokens / decode.prefill_tokens_per_s, split, transfer)


@dataclass(frozen=True)
class Handoff:
    """How a brain's text replicas hand each other their prefill: the ``[handoff]``
    settings and each replica's measured speeds, by instance name."""

    config: HandoffConfig
    speeds: dict[str, ReplicaSpeeds]


@dataclass
class HandoffPlanner:
    """Sets the KV handoff fields of one turn's steps as they are dispatched.

    Args:
        handoff: The settings and the replicas' speeds.
        replicas: The delegates' instance names by region kind, each with its slots.
    """

    handoff: Handoff
    replicas: dict[str, dict[str, int]]
    notes: list[str] = field(default_factory=list)
    """Each prefill handed to another replica, with what the speeds predicted."""
    predictions: list[dict[str, Any]] = field(default_factory=list)
    _shared: dict[str, tuple[str, str]] = field(default_factory=dict)
    """The key of a shared start -> (handoff id, the replica prefilling it)."""

    @property
    def config(self) -> HandoffConfig:
        return self.handoff.config

    @property
    def speeds(self) -> dict[str, ReplicaSpeeds]:
        return self.handoff.speeds

    @property
    def prefillers(self) -> set[str]:
        """Replicas configured to prefill for others (role ``prefill``)."""
        return {name for name, speeds in self.speeds.items() if speeds.role == "prefill"}

    def step_takers(self, kind: str) -> dict[str, int]:
        """The replicas of a kind that take steps, with their slots: all but the prefill-only
        ones, unless none would be left."""
        names = self.replicas.get(kind, {})
        return {n: slots for n, slots in names.items() if n not in self.prefillers} or names

    def route(
        self, replica: str, step: Subtask, load: Callable[[str], int], down: set[str]
    ) -> list[tuple[str, Subtask]]:
        """Where a step's work goes: (instance, subtask) pairs, the step to `replica` last,
        set to share its request's prefill or to import its prompt prefilled on another
        live replica with nothing of this turn to do (`load`), whose prefill comes first."""
        step = self.shared(replica, step, down)
        kind = next((k for k, names in self.replicas.items() if replica in names), "")
        idle = [
            name
            for name in self.replicas.get(kind, {})
            if name not in down and (name in self.prefillers or not load(name))
        ]
        split = self.disaggregate(replica, step, idle)
        if split is None:
            return [(replica, step)]
        prefill, step = split
        return [(step.kv_source, prefill), (replica, step)]

    def shared(self, replica: str, step: Subtask, down: set[str]) -> Subtask:
        """`step` set to export or import its request's shared start, where that pays (a
        step whose exporter died exports it again)."""
        if not self._shares(replica, step):
            return step
        key = hashlib.sha256(repr((step.context, step.earlier)).encode()).hexdigest()[:12]
        if key not in self._shared or self._shared[key][1] in down:
            self._shared[key] = (f"{step.turn_id}-{key}-{step.attempt}", replica)
            return step.model_copy(update={"kv_export": self._shared[key][0]})
        handoff_id, source = self._shared[key]
        return step.model_copy(update={"kv_import": handoff_id, "kv_source": source})

    def _shares(self, replica: str, step: Subtask) -> bool:
        shared = estimated_tokens(step.context, *(text for pair in step.earlier for text in pair))
        return (
            self.config.shared_prefill
            and replica in self.speeds
            and step.parts > 1
            and step.mode == "answer"
            and not (step.kv_export or step.kv_import)
            and shared >= self.config.min_shared_tokens
        )

    def disaggregate(
        self, replica: str, step: Subtask, idle: list[str]
    ) -> tuple[Subtask, Subtask] | None:
        """A prefill subtask for the replica fastest at prefill among `idle` ones, and
        `step` set to import it, when that is predicted to start the answer sooner than a
        prefill on `replica`; None otherwise."""
        decode = self.speeds.get(replica)
        if self.config.disaggregate == "off" or decode is None or step.kv_import:
            return None
        tokens = SYSTEM_TOKENS + estimated_tokens(
            step.context, step.instruction, *(text for pair in step.earlier for text in pair)
        )
        if tokens < self.config.min_prompt_tokens or step.kv_export:
            return None
        candidates = [
            name
            for name in idle
            if name != replica and name in self.speeds and self.speeds[name].measured
        ]
        if not candidates or not decode.measured:
            return None
        source = max(candidates, key=lambda name: self.speeds[name].prefill_tokens_per_s)
        guess = predict(tokens, self.speeds[source], decode, self.config.bandwidth_mb_s)
        self.predictions.append(
            {"step": step.subtask_id, "prefill": source, "decode": replica, **vars(guess)}
        )
        if guess.split_s >= guess.local_s and self.config.disaggregate != "always":
            return None
        self.notes.append(f"step {step.subtask_id}: " + guess.describe(source, replica))
        handoff_id = f"{step.turn_id}-{step.subtask_id}-{step.attempt}"
        prefill = step.model_copy(
            update={
                "subtask_id": f"{step.subtask_id}-prefill",
                "mode": "prefill",
                "kv_export": handoff_id,
            }
        )
        decoded = step.model_copy(update={"kv_import": handoff_id, "kv_source": source})
        return prefill, decoded
