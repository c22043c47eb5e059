"""A text region's side of KV handoffs: prefill for others, and import instead of prefilling.

A subtask with `kv_export` prefills the prompt's shared start (the system prompt, the earlier
exchanges and the request's context: what every part of the request has in common), keeps
its KV state for other replicas (`bus.handoff.KvHolder`) and decodes its own part from it;
with mode ``prefill`` it prefills the whole prompt, for the replica that decodes it. A
subtask with `kv_import` fetches the state over the bus and decodes from it, prefilling only
the rest of its prompt. Whatever goes wrong on the way (the state is lost, late, corrupt, or
made by another model) the region prefills the prompt itself and says so in the result's
``kv_note`` and a ``handoff`` event: the answer is the same, only later. The region's device
speeds, measured at start (`modules.speeds`), live here too: placement reads them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bus.handoff import KvHolder, KvIdentity, KvState, TransferError, fetch_state
from bus.protocol import Event, Subtask
from bus.tokenbus import TokenBus
from bus.topics import region_out
from modules.engines import Engine, Message
from modules.engines.kv import check_import, common_prefix, other_format
from modules.errors import EngineError, HandoffError
from modules.region import RegionSettings
from modules.speeds import DeviceSpeeds, measured_speeds

log = logging.getLogger("cortex.handoff")


@dataclass
class HandoffReport:
    """What a subtask's KV handoff did, for its result's data and the turn's notes."""

    exported_tokens: int = 0
    imported_tokens: int = 0
    source: str = ""
    prefill_s: float = 0.0
    """The prefill of the shared start (or, for a ``prefill`` subtask, the prompt) here."""
    wait_s: float = 0.0
    transfer_s: float = 0.0
    bytes: int = 0
    note: str = ""
    """Why a state was not used (the region prefilled itself), or what it came from."""

    def data(self) -> dict[str, Any]:
        """The report as a result's data: only what happened."""
        fields = {
            "kv_exported_tokens": self.exported_tokens,
            "kv_imported_tokens": self.imported_tokens,
            "kv_source": self.source,
            "kv_prefill_s": round(self.prefill_s, 4),
            "kv_wait_s": round(self.wait_s, 4),
            "kv_transfer_s": round(self.transfer_s, 4),
            "kv_bytes": self.bytes,
            "kv_note": self.note,
        }
        return {key: value for key, value in fields.items() if value}


@dataclass(eq=False)
class RegionHandoff:
    """A text region's device speeds, and the KV states it exports and imports."""

    bus: TokenBus | None
    """The region's bus (None: no KV state is held or fetched)."""
    name: str
    """The region instance."""
    engine: Engine
    """Its started engine."""
    wait_s: float
    """How long an import waits for its state (the exporter may be prefilling)."""
    speeds: DeviceSpeeds | None = None
    """What the start-up probe measured (None: not measured)."""
    identity: KvIdentity | None = field(default=None, init=False)
    holder: KvHolder | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        try:
            self.identity = self.engine.kv_identity()
        except EngineError:
            return  # this engine hands no KV state over: every subtask prefills itself
        if self.bus is not None:
            self.holder = KvHolder(self.bus, self.name)

    @classmethod
    def start(
        cls, bus: TokenBus | None, name: str, engine: Engine, settings: RegionSettings
    ) -> RegionHandoff:
        """Measures the device's speeds (or reads them from the cache) and starts holding."""
        label = settings.placement.label()
        speeds = measured_speeds(engine, label) if settings.speed_probe else None
        return cls(bus, name, engine, settings.handoff_wait_s, speeds)

    def figures(self) -> dict[str, Any]:
        """The measured speeds, and what a token's KV state weighs (0: none is handed)."""
        weighs = self.engine.kv_bytes_per_token() if self.holder is not None else 0
        speeds = self.speeds.figures() if self.speeds is not None else {}
        return speeds | {"kv_bytes_per_token": weighs}

    def state_for(
        self,
        subtask: Subtask,
        chat: list[Message],
        shared: list[Message],
        report: HandoffReport,
    ) -> KvState | None:
        """The KV state a subtask decodes from: the one another replica holds for it
        (`kv_import`), or the start its chat shares with the other parts of its request
        (`shared`, a chat), prefilled here and held for them (`kv_export`). None: prefill
        the prompt whole (nothing to hand over, or the handoff failed: `report.note`)."""
        if not (subtask.kv_export or subtask.kv_import):
            return None
        if self.holder is None:
            report.note = f"{self.name} cannot hand KV state over; prefilled here"
            return None
        if subtask.kv_import:
            return self.fetch(subtask, report)
        prompt, start = self.engine.render(chat), self.engine.render(shared)
        length = self.engine.importable(min(common_prefix(prompt, start), len(prompt) - 1))
        if length < 1:
            self.holder.fail(subtask.kv_export, "the parts share no prompt start to import")
            return None
        return self.prefill(prompt[:length], subtask.kv_export, report)

    def prefill(self, prompt: list[int], handoff_id: str, report: HandoffReport) -> KvState | None:
        """Prefills `prompt` here and holds its state under `handoff_id`; None (and the
        importers told why) if the engine cannot."""
        assert self.holder is not None
        try:
            state = self.engine.prefill(prompt)
        except EngineError as error:
            self.holder.fail(handoff_id, f"{self.name} could not prefill it: {error}")
            report.note = f"the prefill for the other replicas failed ({error}); prefilled whole"
            return None
        self.holder.hold(handoff_id, state)
        report.prefill_s = state.prefill_s
        report.exported_tokens, report.bytes = len(state.tokens), len(state.data)
        return state

    def fetch(self, subtask: Subtask, report: HandoffReport) -> KvState | None:
        """The state a subtask imports, or None (the reason in `report.note`)."""
        assert self.bus is not None and self.identity is not None
        source = subtask.kv_source
        try:
            fetched = fetch_state(self.bus, source, subtask.kv_import, self.name, self.wait_s)
            check_import(fetched.state, self.identity)
        except (TransferError, HandoffError) as error:
            report.note = f"the KV state from {source} was not used ({error}); prefilled here"
            log.info("%s: %s", self.name, report.note)
            return None
        state = fetched.state
        report.source, report.bytes = source, len(state.data)
        report.wait_s, report.transfer_s = fetched.wait_s, fetched.transfer_s
        if other_format(state, self.identity):
            report.note = f"decoded from a KV state {state.identity.model} prefilled on {source}"
        return state

    def prefill_only(self, subtask: Subtask, prompt: list[int]) -> dict[str, Any]:
        """A ``prefill`` subtask: the prompt prefilled, as far as its decoder imports it, and held.

        Raises:
            EngineError: This region's engine hands no KV state over.
        """
        if self.holder is None:
            raise EngineError(f"{self.name}'s engine cannot prefill for another replica")
        report = HandoffReport()
        # The decoder computes the prompt's last token itself, for its first new token.
        length = self.engine.importable(len(prompt) - 1)
        if length < 1:
            self.holder.fail(subtask.kv_export, "the prompt is too short to hand over")
        else:
            self.prefill(prompt[:length], subtask.kv_export, report)
        return {"prompt_tokens": len(prompt), **report.data()}

    def settle(
        self, subtask: Subtask, report: HandoffReport, imported: int, engine_note: str
    ) -> dict[str, Any]:
        """A decoded subtask's handoff figures for its result; a handoff that did not go as
        planned is also told to its turn (a ``handoff`` event on the region's output)."""
        report.imported_tokens, report.note = imported, engine_note or report.note
        if report.note and self.bus is not None:
            data = {"turn_id": subtask.turn_id, "subtask_id": subtask.subtask_id}
            event = Event(code="handoff", source=self.name, detail=report.note, data=data)
            self.bus.publish(region_out(self.name), event)
        return report.data()

    def close(self) -> None:
        if self.holder is not None:
            self.holder.close()
