"""The ``disaggregated`` mode: every prompt prefilled on device 1, decoded on device 0.

Two language regions of one model: ``prefill`` on device 1 (role ``prefill``, its own weight
format from `device_weights`) and ``language`` on device 0 (role ``decode``). Each subtask's
prompt goes to ``prefill`` as a ``prefill`` subtask and its KV state over the bus to
``language``, which decodes (`cortex.turns.handoff`). The run records what the two devices'
measured speeds predicted for each request (all of it on device 0, all of it on device 1,
and split, the transfer included) and what each part took.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bus.protocol import Subtask, SubtaskResult
from cortex.config import CortexConfig
from cortex.experiments.measures import RunRecord
from cortex.experiments.modes import RegionsMode
from cortex.experiments.spec import ExperimentSpec
from cortex.turns.handoff import HandoffPlanner

PREFILL, DECODE = "prefill", "language"


class DisaggregatedMode(RegionsMode):
    """Prefill on device 1, decode on device 0, the KV state handed over the bus."""

    def __init__(self, spec: ExperimentSpec, session_log: Path, config: CortexConfig) -> None:
        super().__init__(spec, "disaggregated", session_log, config)
        self.planner: HandoffPlanner | None = None

    def open(self) -> DisaggregatedMode:
        super().open()
        assert self.brain is not None
        replicas = {"language": {DECODE: 4, PREFILL: 4}}
        self.planner = HandoffPlanner(self.brain.handoff(), replicas)
        return self

    def _names(self) -> list[str]:
        return [DECODE, PREFILL]

    def _devices(self) -> dict[str, int]:
        return {DECODE: 0, PREFILL: 1}

    def _tables(self) -> set[str]:
        return {DECODE, PREFILL}

    def _config(self) -> dict[str, Any]:
        config = super()._config()
        decode = config["regions"]["language"]
        decode["role"] = "decode"
        config["regions"][PREFILL] = {
            **decode,
            "kind": "language",
            "role": "prefill",
            "weights": self.spec.weights(1),
        }
        config["handoff"] = {"shared_prefill": False, "disaggregate": "always"}
        config["handoff"]["min_prompt_tokens"] = 1
        return config

    def _route(self, work: list[tuple[str, Subtask]]) -> list[tuple[str, Subtask]]:
        assert self.planner is not None
        routed = []
        for name, subtask in work:
            routed += self.planner.route(name, subtask, lambda replica: 0, set())
        return routed

    def _note(self, results: list[SubtaskResult], record: RunRecord) -> None:
        """What the speeds predicted for each part, and what its handoff took."""
        assert self.planner is not None
        predicted = {p["step"]: p for p in self.planner.predictions}
        by_id = {result.subtask_id: result for result in results}
        here, there = self.planner.speeds[DECODE], self.planner.speeds[PREFILL]
        new = self.spec.max_new_tokens
        parts = record.extra.setdefault("handoff", [])
        for step, guess in predicted.items():
            prefill, decode = by_id.get(f"{step}-prefill"), by_id.get(step)
            if prefill is None or decode is None:
                continue
            parts.append(
                {
                    "step": step,
                    "prompt_tokens": decode.data.get("prompt_tokens"),
                    "predicted_s": {
                        "device 0": round(guess["local_s"] + new / here.decode_tokens_per_s, 2),
                        "device 1": round(
                            guess["tokens"] / there.prefill_tokens_per_s
                            + new / there.decode_tokens_per_s,
                            2,
                        ),
                        "disaggregated": round(
                            guess["split_s"] + new / here.decode_tokens_per_s, 2
                        ),
                    },
                    "took_s": round(decode.finished - prefill.started, 2),
                    "prefill_s": prefill.data.get("kv_prefill_s"),
                    "waited_s": decode.data.get("kv_wait_s"),
                    "transfer_s": decode.data.get("kv_transfer_s"),
                    "kv_bytes": decode.data.get("kv_bytes"),
                    "imported_tokens": decode.data.get("kv_imported_tokens"),
                    "note": decode.data.get("kv_note", ""),
                }
            )
        self.planner.predictions.clear()
