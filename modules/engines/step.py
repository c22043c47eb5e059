"""The continuous-batching loop of engines whose model Cortex drives one step at a time.

A decode thread admits waiting requests into free slots, calls `step` once for all running
ones, and hands each new token to its request: EOS, stop strings, the token limit and
cancellation end a request and free its slot for the next. A request with a draft verifies
draft tokens instead, one request at a time (`verify`; see `modules.engines.speculative`).
A prefill-only request (`prefill`) ends once its prompt is in the cache, with its KV state
exported. Subclasses provide the model (`load`, `step`, `detokenizer`, and the optional
`admit`, `release`, `verify` and `export_state` hooks; `admit` imports a request's `kv`).
"""

from __future__ import annotations

import itertools
import threading
import time
from abc import abstractmethod
from collections import deque
from dataclasses import replace
from typing import Any

from bus.handoff import KvState
from bus.protocol import TokenLogprob
from modules.engines.detokenizer import Detokenizer
from modules.engines.engine import Engine, EngineFigures
from modules.engines.kv import check_import
from modules.engines.request import ALONE, Assist, Request
from modules.engines.sampling import SamplingSettings, avoided_ids, log_probabilities
from modules.engines.speculative import Proposer
from modules.engines.stopping import StopMatcher
from modules.engines.stream import FinishReason, Piece, Stream
from modules.errors import BadRequestError, EngineError

RATE_WINDOW_S = 5.0
"""`EngineFigures.tokens_per_s` counts the steps of this many last seconds."""
FIRST_VERIFY_S = 0.25
"""What a verification step is taken to last before one is measured."""


class StepEngine(Engine):
    """An engine whose model Cortex drives one batched step at a time (continuous batching).

    Running requests are kept by request id, so one that finishes never moves another.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: deque[Request] = deque()
        self._running: dict[int, Request] = {}
        self._ids = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._tokens = 0
        self._recent: deque[tuple[float, int]] = deque(maxlen=256)
        self._verify_s = FIRST_VERIFY_S
        """How long a verification step takes, as measured (a moving average)."""

    def run(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-decode", daemon=True)
        self._thread.start()

    def submit_ids(
        self, prompt: list[int], sampling: SamplingSettings, assist: Assist = ALONE
    ) -> Stream:
        if assist.kv is not None:
            check_import(assist.kv, self.kv_identity())
        sampling = self.check_room(prompt, sampling)
        draft = self._checked_draft(assist.draft, sampling)
        return self._queue(prompt, sampling, replace(assist, draft=draft))

    def prefill(self, prompt: list[int]) -> KvState:
        started = time.perf_counter()
        stream = self._queue(prompt, self.check_room(prompt, SamplingSettings()), export=True)
        for _ in stream:  # a prefill-only request decodes nothing
            pass
        if stream.kv is None:
            raise EngineError(f"the prefill ended without a KV state ({stream.finish_reason})")
        took = round(time.perf_counter() - started, 4)
        return replace(stream.kv, prefill_s=took)

    def _queue(
        self,
        prompt: list[int],
        sampling: SamplingSettings,
        assist: Assist = ALONE,
        export: bool = False,
    ) -> Stream:
        if self._thread is None or self._closed:
            raise EngineError(f"the {self.name} engine is not running; call start() first")
        stream = Stream(len(prompt))
        with self._wake:
            request = Request(
                next(self._ids),
                prompt,
                sampling,
                stream,
                self.detokenizer(),
                StopMatcher(sampling.stop),
                draft=assist.draft,
                kv=assist.kv,
                export=export,
            )
            self._waiting.append(request)
            self._wake.notify()
        return stream

    def figures(self) -> EngineFigures:
        now = time.monotonic()
        recent = [(t, n) for t, n in self._recent if now - t < RATE_WINDOW_S]
        span = now - recent[0][0] if len(recent) > 1 else 0.0
        rate = sum(n for _, n in recent[1:]) / span if span > 0 else 0.0
        return EngineFigures(
            self.name,
            self.device,
            self.load_s,
            self.max_concurrent,
            len(self._running),
            len(self._waiting),
            self._tokens,
            round(rate, 2),
        )

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _checked_draft(self, draft: Proposer | None, sampling: SamplingSettings) -> Proposer | None:
        """The draft a request may speculate with, or None when it must decode alone (its
        figures then say why)."""
        if draft is not None and not self.verifies:
            raise EngineError(f"the {self.name} engine cannot verify draft tokens")
        if draft is not None and (why := self.decodes_alone(sampling)):
            draft.figures.fallback = why
            return None
        return draft

    def decodes_alone(self, sampling: SamplingSettings) -> str:
        """Why a request with these settings cannot verify drafts ("" if it can): guided
        output cannot, as its grammar cannot take tokens back, nor a request that asks for
        log-probabilities (a verification step keeps no logits per accepted token)."""
        if sampling.guide is not None:
            return "guided output decodes alone"
        return (
            "a request for log-probabilities decodes alone" if sampling.logprobs is not None else ""
        )

    @abstractmethod
    def token_text(self, token: int) -> str:
        """One token's own text (its bytes read as UTF-8, with replacement characters)."""

    def note_logprob(self, request: Request, logits: Any, token: int) -> None:
        """Keeps the chosen `token`'s log-probability under `logits` (a tensor, [vocab]) for
        its piece, where the request asked for log-probabilities."""
        if (top := request.sampling.logprobs) is None:
            return
        logprob, best = log_probabilities(logits, token, top)
        alternatives = tuple((self.token_text(t), value) for t, value in best)
        request.logprob = TokenLogprob(
            token=self.token_text(token), logprob=logprob, top=alternatives
        )

    @abstractmethod
    def detokenizer(self) -> Detokenizer:
        """A fresh text assembler for one request."""

    @abstractmethod
    def step(self, running: list[Request]) -> dict[int, int]:
        """Runs the model once over every running request: prefills what is not yet in the
        cache (as much as fits) and decodes one token for each request whose prompt is in.

        Args:
            running: The running requests, in the order they were admitted.

        Returns:
            The next token of each request that got one, by request id.
        """

    def admit(self, request: Request, slot: int) -> None:  # noqa: B027 - optional hook
        """Prepares a request's own state (a sampler, a cache) as it starts running.

        Raises:
            BadRequestError: The request's settings cannot be used (a grammar that does not
                parse); only this request fails.
        """

    def release(self, request: Request) -> None:  # noqa: B027 - optional hook
        """Frees what a finished request held (its KV cache entries, its sampler)."""

    def verify(self, request: Request, proposed: list[int]) -> list[int]:
        """Runs the model once over a speculating request's last token and `proposed`, the
        draft tokens after it (none: an ordinary step of this request alone), and keeps in
        the cache only what the target agrees with.

        Returns:
            The target's tokens: the longest prefix of `proposed` it accepts, then its own
            next token (1 to len(proposed) + 1 tokens).
        """
        raise NotImplementedError(f"the {self.name} engine cannot verify draft tokens")

    def export_state(self, request: Request) -> tuple[bytes, str]:
        """The KV state of a prefill-only request whose prompt is all in the cache: the
        engine's bytes and how to read them (`KvState.layout`)."""
        raise EngineError(f"the {self.name} engine cannot export a prefilled KV state")

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._closed and not self._waiting and not self._running:
                    self._wake.wait()
                if self._closed:
                    break
            self._drop_cancelled()  # first, so a request resubmitted at once finds its slot
            with self._wake:
                self._admit_waiting()
            if self._running:
                self._step_running()
        for request in [*self._running.values(), *self._waiting]:
            if request.draft is not None:
                request.draft.close()
            request.stream.end("cancelled", EngineError(f"the {self.name} engine was closed"))

    def _step_running(self) -> None:
        """One model step over the running requests that do not speculate (each takes its
        new token; a prefill-only one whose prompt is in exports its KV state), then one
        verification for each that does."""
        ordinary = [r for r in self._running.values() if not r.speculating]
        speculating = [r for r in self._running.values() if r.speculating]
        if ordinary:
            try:
                tokens = self.step(ordinary)
            except Exception as error:  # noqa: BLE001 - every request of the step hears of it
                for request in ordinary:
                    self._finish(request, "error", EngineError(f"decoding failed: {error}"))
                tokens = {}
            self._recent.append((time.monotonic(), len(tokens)))
            for request_id, token in tokens.items():
                self._accept(self._running[request_id], token)
            for request in list(self._running.values()):
                if request.export and request.prefilled >= len(request.prompt):
                    self._export(request)
        for request in speculating:
            if request.request_id in self._running:
                self._speculate(request, alone=len(self._running) == 1)

    def _speculate(self, request: Request, alone: bool) -> None:
        """One verification step of a speculating request; it takes every token it yields.
        When the draft has nothing yet, a request decoding `alone` (no one else waits on it)
        waits for its first token at most about as long as a step takes: a late draft costs
        a step, never more."""
        draft = request.draft
        assert draft is not None
        began = time.monotonic()
        proposed: list[int] = []
        if not draft.figures.fallback:
            room = request.sampling.max_new_tokens - len(request.generated) - 1
            wait_s = self._verify_s if alone else 0.0
            offered = draft.proposals(request.generated, min(draft.window.size, room), wait_s)
            proposed = list(itertools.takewhile(self._known_token, offered))[: max(0, room)]
        verifying = time.monotonic()
        try:
            tokens = self.verify(request, proposed)
        except Exception as error:  # noqa: BLE001 - this request hears of it
            self._finish(request, "error", EngineError(f"decoding failed: {error}"))
            return
        self._verify_s = 0.8 * self._verify_s + 0.2 * (time.monotonic() - verifying)
        draft.record(len(proposed), len(tokens) - 1, began)
        self._recent.append((time.monotonic(), len(tokens)))
        for token in tokens:
            if request.request_id not in self._running:
                return
            self._accept(request, token)
        if request.request_id in self._running:
            draft.settle(request.generated)

    def _known_token(self, token: int) -> bool:
        return 0 <= token < self.vocab_size if self.vocab_size else token >= 0

    def _export(self, request: Request) -> None:
        """Ends a prefill-only request with its KV state on its stream."""
        started = time.perf_counter()
        try:
            data, layout = self.export_state(request)
        except Exception as error:  # noqa: BLE001 - fails this request, not the engine
            self._finish(request, "error", EngineError(f"exporting the KV state failed: {error}"))
            return
        took = round(time.perf_counter() - started, 5)
        identity = self.kv_identity()
        request.stream.kv = KvState(identity, tuple(request.prompt), data, layout, export_s=took)
        self._finish(request, "stop")

    def _admit_waiting(self) -> None:
        used = {request.slot for request in self._running.values()}
        free = [slot for slot in range(self.max_concurrent) if slot not in used]
        while self._waiting and free:
            request = self._waiting.popleft()
            if request.stream.cancelled.is_set():
                request.stream.end("cancelled")
                continue
            request.slot = self.pick_slot(request, free)
            free.remove(request.slot)
            try:
                self.admit(request, request.slot)
            except BadRequestError as error:
                request.stream.end("error", error)
                continue
            except Exception as error:  # noqa: BLE001 - fails this request, not the engine
                request.stream.end("error", EngineError(f"the request cannot start: {error}"))
                continue
            self._running[request.request_id] = request
            if request.draft is not None:
                request.draft.begin(
                    request.prompt, request.sampling, avoided_ids(request.sampling, self.tokenize)
                )

    def pick_slot(self, request: Request, free: list[int]) -> int:
        """The free slot a request runs in (the first; an engine with a prompt cache picks
        the slot whose cache it can reuse most of)."""
        return free[0]

    def _drop_cancelled(self) -> None:
        for request in list(self._running.values()):
            if request.stream.cancelled.is_set():
                self._finish(request, "cancelled")

    def _accept(self, request: Request, token: int) -> None:
        """Takes one new token of a request: ends it, or sends its text on."""
        request.generated.append(token)
        self._tokens += 1
        if token in self.eos_ids:
            self._finish(request, "stop")
            return
        decoded = Piece(token, request.detokenizer.add(token), request.logprob)
        request.logprob = None
        for piece in request.stops.feed(decoded):
            request.stream.put(piece)
        if request.stops.stopped:
            self._finish(request, "stop")
        elif len(request.generated) >= request.sampling.max_new_tokens:
            self._finish(request, "length")

    def _finish(
        self, request: Request, reason: FinishReason, error: BaseException | None = None
    ) -> None:
        if reason != "stop" or not request.stops.stopped:
            for piece in request.stops.flush():
                request.stream.put(piece)
        del self._running[request.request_id]
        try:
            if request.draft is not None:
                request.draft.close()
            self.release(request)
        finally:
            request.stream.end(reason, error)
