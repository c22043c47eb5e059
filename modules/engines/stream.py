"""A request's output: the `Piece`s it decodes, in order, and how it ended.

The engine's decoding thread puts pieces on a `Stream` and ends it once; the caller iterates
it from its own thread and may cancel it at any time.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bus.protocol import TokenLogprob

if TYPE_CHECKING:
    from bus.handoff import KvState

FinishReason = Literal["stop", "length", "cancelled", "error"]


@dataclass
class Piece:
    """One decoded token and the text it adds (empty while a multi-byte character is open,
    or while the text might still turn into a stop string)."""

    token_id: int
    text: str
    logprob: TokenLogprob | None = None
    """Set when the request asked for log-probabilities (`SamplingSettings.logprobs`) and the
    model chose this token; None for text Cortex wrote."""


_END = object()


class Stream:
    """One request's output: iterate for `Piece`s as they decode; `cancel()` to stop it.

    Iterating raises the engine's error if the request failed. `finish_reason` is set once
    the stream has ended.
    """

    def __init__(self, prompt_tokens: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.cached_tokens = 0
        """Prompt tokens found in the engine's prompt cache, not prefilled again."""
        self.imported_tokens = 0
        """Prompt tokens whose KV state was imported (`KvState`), not prefilled here."""
        self.kv_note = ""
        """Why an imported KV state was not used, when the engine could not read it."""
        self.kv: KvState | None = None
        """The exported state, for a prefill-only request (`Engine.prefill`)."""
        self.submitted = time.perf_counter()
        self.first_at: float | None = None
        """When the first piece came (`time.perf_counter()`)."""
        self.completion_tokens = 0
        self.finish_reason: FinishReason | None = None
        self.cancelled = threading.Event()
        self._queue: queue.Queue[Any] = queue.Queue()
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[Piece]:
        while (item := self._queue.get()) is not _END:
            yield item
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        """Asks the engine to stop decoding this request; the stream then ends."""
        self.cancelled.set()

    @property
    def prefill_s(self) -> float:
        """Seconds from submitting the request to its first piece: the wait for a slot and
        the prefill of what was neither cached nor imported (0 before the first piece)."""
        return 0.0 if self.first_at is None else round(self.first_at - self.submitted, 4)

    def put(self, piece: Piece) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        self.completion_tokens += 1
        self._queue.put(piece)

    def end(self, reason: FinishReason, error: BaseException | None = None) -> None:
        self.finish_reason, self.error = reason, error
        self._queue.put(_END)
