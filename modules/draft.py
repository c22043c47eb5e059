"""The draft's side of a draft pairing: decode ahead for a target, propose every token.

A text region that drafts for others (a draft region) runs a `DraftServer` next to its
engine. For each `DraftRequest` on ``region.<name>.draft`` it decodes greedily after the
target's prompt and accepted tokens, under the target's repetition rules, and publishes each
token as a `Proposal` to the target the moment it is decoded, without waiting for a verdict.
A later epoch of the same stream replaces the one before (its engine stream is cancelled;
llama.cpp keeps the shared prefix in its cache, so resuming costs the new tokens only); a
``cancel`` event ends the stream's drafting. A target whose tokenizer differs is refused.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from bus.errors import BusError
from bus.protocol import DraftRequest, Event, Proposal
from bus.tokenbus import TokenBus
from modules.engines import Engine, SamplingSettings, Stream
from modules.errors import RegionError
from modules.speculation import DraftChannel

log = logging.getLogger("cortex.draft")


@dataclass
class _Drafting:
    """One epoch of one stream's drafting: the request and the engine stream decoding it."""

    request: DraftRequest
    stream: Stream | None
    started: float


class DraftServer(DraftChannel):
    """Drafts for target regions on `engine` (see the module's docstring).

    Args:
        engine: The draft region's started engine.
        bus: The region's bus connection.
        name: The draft region's instance name.
        tokenizer: Its `modules.speculation.tokenizer_fingerprint`.
    """

    def __init__(self, engine: Engine, bus: TokenBus, name: str, tokenizer: str) -> None:
        self.engine, self.name, self.tokenizer = engine, name, tokenizer
        self.streams = 0
        """Epochs drafted since start (a stream's start and each correction)."""
        self.proposed = 0
        """Tokens proposed since start."""
        self._drafting: dict[str, _Drafting] = {}
        self._lock = threading.Lock()
        super().__init__(bus, name)

    @property
    def active(self) -> int:
        """Streams being drafted now."""
        with self._lock:
            return len(self._drafting)

    def close(self) -> None:
        super().close()
        with self._lock:
            for drafting in self._drafting.values():
                if drafting.stream is not None:
                    drafting.stream.cancel()
            self._drafting.clear()

    def take(self, message: Any) -> None:
        if isinstance(message, DraftRequest):
            self._start(message)
        elif isinstance(message, Event) and message.code == "cancel":
            self._end(str(message.data.get("stream_id", "")))

    def _start(self, request: DraftRequest) -> None:
        """Starts drafting one epoch of a stream, ending the epoch before it."""
        if request.tokenizer != self.tokenizer:
            self._publish(
                request.reply_to,
                Event(
                    level="error",
                    code="draft_refused",
                    source=self.name,
                    detail=f"its tokenizer ({self.tokenizer}) is not the target's "
                    f"({request.tokenizer}); pair a draft of the target's model family",
                    data={"stream_id": request.stream_id},
                ),
            )
            return
        with self._lock:
            previous = self._drafting.get(request.stream_id)
            if previous is not None and previous.request.epoch > request.epoch:
                return  # an older correction, overtaken
            self._end_locked(request.stream_id)
            drafting = _Drafting(request, None, time.time())
            self._drafting[request.stream_id] = drafting
            self.streams += 1
        try:
            drafting.stream = self.engine.submit_ids(
                [*request.prompt, *request.accepted], _sampling(request)
            )
        except RegionError as error:  # no room left, or the engine closed: nothing to draft
            log.info("%s: not drafting %s: %s", self.name, request.stream_id, error)
            self._propose(drafting, 0, (), final=True)
            return
        with self._lock:
            if self._drafting.get(request.stream_id) is not drafting:  # ended meanwhile
                drafting.stream.cancel()
                return
        threading.Thread(target=self._pump, args=(drafting,), daemon=True).start()

    def _pump(self, drafting: _Drafting) -> None:
        """Proposes each token of one epoch as the engine decodes it."""
        assert drafting.stream is not None
        position = len(drafting.request.accepted)
        try:
            for piece in drafting.stream:
                self._propose(drafting, position, (piece.token_id,))
                position += 1
        except RegionError:  # its engine failed it: say the epoch ended here
            pass
        if drafting.stream.finish_reason != "cancelled":
            self._propose(drafting, position, (), final=True)

    def _propose(
        self, drafting: _Drafting, position: int, tokens: tuple[int, ...], final: bool = False
    ) -> None:
        request = drafting.request
        proposal = Proposal(
            stream_id=request.stream_id,
            epoch=request.epoch,
            position=position,
            token_ids=tokens,
            final=final,
            draft=self.name,
            started=drafting.started,
        )
        self.proposed += len(tokens)
        self._publish(request.reply_to, proposal)

    def _publish(self, topic: str, message: Proposal | Event) -> None:
        try:
            self.bus.publish(topic, message)
        except BusError as error:  # the target decodes alone once it hears nothing
            log.warning("%s: cannot reach %s: %s", self.name, topic, error)

    def _end(self, stream_id: str) -> None:
        with self._lock:
            self._end_locked(stream_id)

    def _end_locked(self, stream_id: str) -> None:
        drafting = self._drafting.pop(stream_id, None)
        if drafting is not None and drafting.stream is not None:
            drafting.stream.cancel()


def _sampling(request: DraftRequest) -> SamplingSettings:
    """Greedy decoding under the target's repetition rules, its tokens so far counted."""
    return SamplingSettings(
        max_new_tokens=request.max_new_tokens,
        repetition_penalty=request.repetition_penalty,
        no_repeat_ngram=request.no_repeat_ngram,
        history=request.history + request.accepted,
    )
