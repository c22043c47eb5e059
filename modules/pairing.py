"""A text region's place in a draft pairing: a target's line to its draft, a draft's service to
its targets, the tokenizer they must share, and the figures `cortex status` shows.

A language region builds one `Pairing` in `setup()` from its options (set by placement):
``draft`` (this region verifies that draft region's tokens: `modules.speculation`) and
``drafts`` (this region drafts for others: `modules.draft`). A region that is neither still
reports its tokenizer, so a pairing can be checked when the regions have loaded.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bus.tokenbus import TokenBus
from modules.draft import DraftServer
from modules.engines import Engine, Message, SamplingSettings
from modules.engines.speculative import SpeculationFigures
from modules.errors import EngineError
from modules.speculation import BusProposer, DraftLink, tokenizer_fingerprint

CALIBRATION_CHAT: list[Message] = [
    {"role": "user", "content": "Describe a quiet morning in a small town, in a paragraph."}
]
CALIBRATION_TOKENS = 12
"""Tokens a target with a draft decodes alone at start, to measure the rate its speed-up is
counted against."""


class Pairing:
    """What one region instance does in a draft pairing (see the module's docstring).

    Args:
        engine: The region's started engine.
        bus: The region's bus connection (None: a region used without a bus pairs with none).
        name: The region's instance name.
        options: The region's options: ``draft``, ``draft_runs``, ``drafts``, ``drafts_for``.

    Raises:
        EngineError: The region has a draft, but its engine cannot verify drafts (vLLM).
    """

    def __init__(
        self, engine: Engine, bus: TokenBus | None, name: str, options: dict[str, Any]
    ) -> None:
        self.tokenizer = tokenizer_fingerprint(engine.tokenize)
        self.link: DraftLink | None = None
        self.drafts: DraftServer | None = None
        self.alone_tokens_per_s = 0.0
        """A target's own decode rate, measured at start (see `CALIBRATION_TOKENS`)."""
        self.note = ""
        """What the region's engine note adds: whom it drafts for, or its draft."""
        self._totals: dict[str, Any] = {}
        self._counting = threading.Lock()
        if bus is None:
            return
        if options.get("drafts"):
            self.drafts = DraftServer(engine, bus, name, self.tokenizer)
            self.note = ", drafts for " + ", ".join(options.get("drafts_for", ()))
        if draft := options.get("draft"):
            if not engine.verifies:
                raise EngineError(
                    f"{name} has a draft, but its {engine.name} engine cannot verify draft "
                    "tokens; use engine = 'llama.cpp' or 'transformers', or remove draft"
                )
            self.alone_tokens_per_s = calibrate(engine)
            runs = bool(options.get("draft_runs", True))
            self.link = DraftLink(bus, name, draft, self.tokenizer, runs)
            self.note = f", draft {draft}"

    def proposer(self) -> BusProposer | None:
        """Draft tokens for one new stream, where the region has a draft."""
        return self.link.proposer() if self.link is not None else None

    def count(self, figures: SpeculationFigures) -> dict[str, Any]:
        """One stream's speculation figures, with its speed-up over the target alone; the
        region's totals (for `cortex status`) take them in."""
        stream = figures.as_dict()
        rate, base = figures.tokens_per_s, self.alone_tokens_per_s
        stream["speedup"] = round(rate / base, 3) if rate and base else None
        with self._counting:
            totals = self._totals
            for key in ("streams", "proposed", "accepted", "fallbacks"):
                totals.setdefault(key, 0)
            totals["streams"] += 1
            totals["proposed"] += figures.proposed
            totals["accepted"] += figures.accepted
            totals["fallbacks"] += bool(figures.fallback)
            proposed, accepted = totals["proposed"], totals["accepted"]
            totals["acceptance_rate"] = round(accepted / proposed, 4) if proposed else None
            totals["window"] = figures.window
            totals["speedup"] = stream["speedup"]
            totals["alone_tokens_per_s"] = base
        return stream

    def status_fields(self) -> dict[str, Any]:
        """The region's tokenizer, and how its draft fares or what it drafts."""
        fields: dict[str, Any] = {"tokenizer": self.tokenizer}
        if self.link is not None:
            with self._counting:
                fields["speculation"] = {"draft": self.link.draft, **self._totals}
        if self.drafts is not None:
            fields["drafting"] = {
                "streams": self.drafts.active,
                "epochs": self.drafts.streams,
                "proposed": self.drafts.proposed,
            }
        return fields

    def close(self) -> None:
        for part in (self.link, self.drafts):
            if part is not None:
                part.close()


def calibrate(engine: Engine) -> float:
    """The engine's own greedy decode rate in tokens per second, on a short answer."""
    greedy = SamplingSettings(CALIBRATION_TOKENS, repetition_penalty=1.0, no_repeat_ngram=0)
    times = [time.perf_counter() for _ in engine.generate(CALIBRATION_CHAT, greedy)]
    span = times[-1] - times[0] if len(times) > 2 else 0.0
    return round((len(times) - 1) / span, 2) if span > 0 else 0.0
