"""The engine interface: start a model, stream a request's tokens, cancel, report figures.

An engine owns one text model on one device and decodes every request submitted to it,
several at once (continuous batching: each step decodes one token of every running request
and prefills newcomers in the same batch). It knows nothing of the bus or of regions: a
request goes in as a chat, its tokens come out as `Piece`s on a `Stream`.

Subclasses provide the model-specific parts (`load`, `render`, `step`, `detokenizer`,
`release`); the request bookkeeping (queueing, stop strings, EOS, token limits, cancel,
figures) is shared here.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from modules.errors import BadRequestError, ContextLengthError, EngineError

Message = dict[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": text}``."""
FinishReason = Literal["stop", "length", "cancelled", "error"]

DEFAULT_REPETITION_PENALTY = 1.1
"""Divides the logit of every token among the last `PENALTY_WINDOW` generated ones (the CTRL
paper's penalty, as llama.cpp and transformers apply it). 1.0 turns it off."""
PENALTY_WINDOW = 64
SEED_LIMIT = 2**32
"""Seeds are below this: llama.cpp's sampler takes a 32-bit unsigned seed."""
DEFAULT_NO_REPEAT_NGRAM = 6
"""Longest run of generated tokens that may appear twice: a small model's loop (the same
sentence or list line again and again) is cut off before it repeats. 0 turns it off."""


@dataclass(frozen=True)
class Guide:
    """Guided output: the decoded text must match a JSON schema or a GBNF grammar.

    Exactly one of the two is set. GBNF is llama.cpp's grammar dialect, which xgrammar and
    vLLM also read.
    """

    json_schema: dict[str, Any] | None = None
    grammar: str | None = None

    def __post_init__(self) -> None:
        if (self.json_schema is None) == (self.grammar is None):
            raise ValueError("a Guide takes exactly one of json_schema and grammar")


@dataclass(frozen=True)
class SamplingSettings:
    """How tokens are chosen and when decoding stops; every engine reads the same fields."""

    max_new_tokens: int = 128
    temperature: float = 0.0
    """0 decodes greedily; higher values sample more freely."""
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    """Decoding stops once the text contains any of these; the stop string is not yielded."""
    repetition_penalty: float = DEFAULT_REPETITION_PENALTY
    no_repeat_ngram: int = DEFAULT_NO_REPEAT_NGRAM
    """transformers' no-repeat n-gram rule; llama.cpp's DRY sampler with the same length;
    not applied by vLLM."""
    guide: Guide | None = None
    avoid: str = ""
    """Text the output must not repeat (other parts of the same answer): its tokens count as
    already generated for `no_repeat_ngram` and the repetition penalty. Not applied by vLLM."""

    def __post_init__(self) -> None:
        """Raises `BadRequestError` naming the first field out of its range."""
        checks = (
            (self.max_new_tokens >= 1, "max_new_tokens must be at least 1"),
            (0.0 <= self.temperature < math.inf, "temperature must be a number >= 0"),
            (0.0 < self.top_p <= 1.0, "top_p must be in (0, 1]"),
            (0 <= self.seed < SEED_LIMIT, f"seed must be in [0, {SEED_LIMIT})"),
            (0.0 < self.repetition_penalty < math.inf, "repetition_penalty must be > 0"),
            (self.no_repeat_ngram >= 0, "no_repeat_ngram must be >= 0 (0 turns it off)"),
        )
        for holds, rule in checks:
            if not holds:  # a NaN fails every comparison, so it lands here too
                raise BadRequestError(f"bad sampling settings: {rule}")


@dataclass
class Piece:
    """One decoded token and the text it adds (empty while a multi-byte character is open,
    or while the text might still turn into a stop string)."""

    token_id: int
    text: str


@dataclass(frozen=True)
class EngineFigures:
    """What an engine reports for status screens and benchmarks."""

    engine: str
    device: str
    load_s: float
    max_concurrent: int
    running: int
    waiting: int
    tokens: int
    """Tokens decoded since start."""
    tokens_per_s: float
    """Decode rate over the last few seconds, all requests together."""


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

    def put(self, piece: Piece) -> None:
        self.completion_tokens += 1
        self._queue.put(piece)

    def end(self, reason: FinishReason, error: BaseException | None = None) -> None:
        self.finish_reason, self.error = reason, error
        self._queue.put(_END)


class StopMatcher:
    """Holds back pieces while their text could still begin a stop string.

    `feed` returns the pieces safe to emit; once a stop string appears, the piece where it
    starts is cut there, everything after it is dropped, and `stopped` turns True.
    """

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.stopped = False
        self._held: list[Piece] = []

    def feed(self, piece: Piece) -> list[Piece]:
        if not self.stops:
            return [piece]
        self._held.append(piece)
        text = "".join(p.text for p in self._held)
        found = [i for s in self.stops if (i := text.find(s)) != -1]
        if found:
            self.stopped = True
            return _cut(self._held, min(found))
        safe = len(text) - max(
            (k for s in self.stops for k in range(1, len(s)) if text.endswith(s[:k])), default=0
        )
        release: list[Piece] = []
        while self._held and len(self._held[0].text) <= safe:
            safe -= len(self._held[0].text)
            release.append(self._held.pop(0))
        return release

    def flush(self) -> list[Piece]:
        """The pieces still held when decoding ends for another reason."""
        held, self._held = self._held, []
        return held


def _cut(pieces: list[Piece], at: int) -> list[Piece]:
    """The pieces whose text lies before character `at`, the last one shortened."""
    kept: list[Piece] = []
    for piece in pieces:
        if at <= 0:
            break
        kept.append(Piece(piece.token_id, piece.text[:at]))
        at -= len(piece.text)
    return kept


class Detokenizer(ABC):
    """Turns one sequence's token ids into text increments, one token at a time."""

    @abstractmethod
    def add(self, token_id: int) -> str:
        """The text `token_id` completes (empty inside an unfinished character)."""


@dataclass
class Sequence:
    """A request inside an engine: its prompt, how far it got, and where its output goes."""

    prompt: list[int]
    sampling: SamplingSettings
    stream: Stream
    detokenizer: Detokenizer
    stops: StopMatcher
    slot: int = -1
    """The engine's batch slot (llama.cpp's sequence id) while running."""
    prefilled: int = 0
    """Prompt tokens already in the KV cache."""
    generated: list[int] = field(default_factory=list)
    state: Any = None
    """Engine-specific state (a sampler chain, a KV cache)."""

    @property
    def position(self) -> int:
        """Tokens in the KV cache: the next token's position."""
        return self.prefilled + max(0, len(self.generated) - 1)


class Engine(ABC):
    """Decodes chats with one model, several requests at once.

    Args:
        model: The model spec (see `modules.models`).
        device: ``cpu`` or ``cuda``.
        threads: CPU threads for decoding.
        max_concurrent: Requests decoded together; more wait their turn.
        context_length: Tokens per request (prompt and answer); 0 takes the model's own.
    """

    name: ClassVar[str] = ""

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        threads: int = 1,
        max_concurrent: int = 4,
        context_length: int = 0,
    ) -> None:
        if max_concurrent < 1:
            raise EngineError("max_concurrent must be at least 1")
        self.model = model
        self.device = device
        self.threads = threads
        self.max_concurrent = max_concurrent
        self.context_length = context_length
        self.load_s = 0.0
        self.eos_ids: frozenset[int] = frozenset()
        self.vocab_size = 0
        """Token ids a prompt may hold are below this (0: not checked)."""

    def start(self) -> Engine:
        """Loads the model and starts decoding; returns self.

        Raises:
            ModelNotFoundError: The model cannot be found.
            EngineError: The engine cannot run here (a missing package, no CUDA).
        """
        started = time.perf_counter()
        self.load()
        self.load_s = round(time.perf_counter() - started, 3)
        self.run()
        return self

    def submit(self, messages: list[Message], sampling: SamplingSettings) -> Stream:
        """Queues a chat for decoding; its pieces arrive on the returned stream. A chat that
        ends with an assistant message is continued from that message's text (which the
        stream does not repeat).

        Raises:
            BadRequestError: The last message is empty, or the chat leaves no room to answer.
            EngineError: The engine is not started or is closed.
        """
        if not messages or not messages[-1]["content"].strip():
            raise BadRequestError("the instruction is empty; say what the region should do")
        return self.submit_ids(self.render(messages), sampling)

    def generate(
        self, messages: list[Message], sampling: SamplingSettings
    ) -> Generator[Piece, None, int]:
        """Decodes one chat and yields its pieces; cancels it if the caller stops early.
        Returns the prompt's length in tokens."""
        stream = self.submit(messages, sampling)
        try:
            yield from stream
        finally:
            stream.cancel()
        return stream.prompt_tokens

    def check_room(self, prompt: list[int], sampling: SamplingSettings) -> SamplingSettings:
        """The settings with the token limit cut to the room the prompt leaves.

        Raises:
            BadRequestError: The prompt is empty or holds a token id outside the vocabulary.
            ContextLengthError: The prompt fills the whole context.
        """
        if not prompt:
            raise BadRequestError("the prompt is empty: give it at least one token")
        if self.vocab_size and not all(0 <= token < self.vocab_size for token in prompt):
            raise BadRequestError(f"the prompt holds token ids outside [0, {self.vocab_size})")
        room = self.context_length - len(prompt)
        if room < 1:
            raise ContextLengthError(
                f"the request is {len(prompt)} tokens long, but {self.model} reads at most "
                f"{self.context_length} per request; shorten it"
            )
        if sampling.max_new_tokens <= room:
            return sampling
        return replace(sampling, max_new_tokens=room)

    @abstractmethod
    def load(self) -> None:
        """Loads the model; sets `context_length` (if 0) and `eos_ids`."""

    @abstractmethod
    def run(self) -> None:
        """Starts decoding what is submitted (a thread, an event loop)."""

    def render(self, messages: list[Message]) -> list[int]:
        """The chat in the model's template, as prompt token ids; control tokens only where
        the template puts them (see `modules.engines.chat`)."""
        from modules.engines.chat import chat_ids

        return chat_ids(messages, self.render_text, self.tokenize)

    @abstractmethod
    def render_text(self, messages: list[Message]) -> str:
        """The chat in the model's template, generation prompt included, as text."""

    @abstractmethod
    def tokenize(self, text: str, special: bool = False) -> list[int]:
        """Token ids of a text; `special` turns control-token text into control tokens."""

    @abstractmethod
    def submit_ids(self, prompt: list[int], sampling: SamplingSettings) -> Stream:
        """Queues a prompt that is already token ids (see `submit`)."""

    @abstractmethod
    def figures(self) -> EngineFigures:
        """Load time, concurrency and decode rate, for status screens and benchmarks."""

    @abstractmethod
    def close(self) -> None:
        """Ends every request and frees the model."""


class StepEngine(Engine):
    """An engine whose model Cortex drives one batched step at a time (continuous batching).

    A decode thread admits waiting requests into free slots, calls `step` once for all
    running ones, and hands each new token to its request: EOS, stop strings, the token limit
    and cancellation end a request and free its slot for the next.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: deque[Sequence] = deque()
        self._running: list[Sequence] = []
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._tokens = 0
        self._recent: deque[tuple[float, int]] = deque(maxlen=256)

    def run(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-decode", daemon=True)
        self._thread.start()

    def submit_ids(self, prompt: list[int], sampling: SamplingSettings) -> Stream:
        if self._thread is None or self._closed:
            raise EngineError(f"the {self.name} engine is not running; call start() first")
        sampling = self.check_room(prompt, sampling)
        stream = Stream(len(prompt))
        sequence = Sequence(
            prompt, sampling, stream, self.detokenizer(), StopMatcher(sampling.stop)
        )
        with self._wake:
            self._waiting.append(sequence)
            self._wake.notify()
        return stream

    def figures(self) -> EngineFigures:
        now = time.monotonic()
        recent = [(t, n) for t, n in self._recent if now - t < 5.0]
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

    @abstractmethod
    def detokenizer(self) -> Detokenizer:
        """A fresh text assembler for one sequence."""

    @abstractmethod
    def step(self, running: list[Sequence]) -> dict[int, int]:
        """Runs the model once over every running sequence: prefills what is not yet in the
        cache (as much as fits) and decodes one token for each sequence whose prompt is in.

        Returns:
            The next token of each sequence that got one, by index into `running`.
        """

    def admit(self, sequence: Sequence, slot: int) -> None:  # noqa: B027 - optional hook
        """Prepares a sequence's per-request state (a sampler, a cache) as it starts running.

        Raises:
            BadRequestError: The request's settings cannot be used (a grammar that does not
                parse); only this request fails.
        """

    def release(self, sequence: Sequence) -> None:  # noqa: B027 - optional hook
        """Frees what a finished sequence held (its KV cache entries, its sampler)."""

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._closed and not self._waiting and not self._running:
                    self._wake.wait()
                if self._closed:
                    break
                self._admit_waiting()
            self._drop_cancelled()
            if not self._running:
                continue
            try:
                tokens = self.step(self._running)
            except Exception as error:  # noqa: BLE001 - every running request hears of it
                for sequence in list(self._running):
                    self._finish(sequence, "error", EngineError(f"decoding failed: {error}"))
                continue
            self._recent.append((time.monotonic(), len(tokens)))
            for index, token in sorted(tokens.items(), reverse=True):
                self._accept(self._running[index], token)
        for sequence in [*self._running, *self._waiting]:
            sequence.stream.end("cancelled", EngineError(f"the {self.name} engine was closed"))

    def _admit_waiting(self) -> None:
        used = {s.slot for s in self._running}
        free = [slot for slot in range(self.max_concurrent) if slot not in used]
        while self._waiting and free:
            sequence = self._waiting.popleft()
            if sequence.stream.cancelled.is_set():
                sequence.stream.end("cancelled")
                continue
            sequence.slot = free.pop(0)
            try:
                self.admit(sequence, sequence.slot)
            except BadRequestError as error:
                sequence.stream.end("error", error)
                continue
            except Exception as error:  # noqa: BLE001 - fails this request, not the engine
                sequence.stream.end("error", EngineError(f"the request cannot start: {error}"))
                continue
            self._running.append(sequence)

    def _drop_cancelled(self) -> None:
        for sequence in list(self._running):
            if sequence.stream.cancelled.is_set():
                self._finish(sequence, "cancelled")

    def _accept(self, sequence: Sequence, token: int) -> None:
        """Takes one new token of a sequence: ends it, or sends its text on."""
        sequence.generated.append(token)
        self._tokens += 1
        if token in self.eos_ids:
            self._finish(sequence, "stop")
            return
        for piece in sequence.stops.feed(Piece(token, sequence.detokenizer.add(token))):
            sequence.stream.put(piece)
        if sequence.stops.stopped:
            self._finish(sequence, "stop")
        elif len(sequence.generated) >= sequence.sampling.max_new_tokens:
            self._finish(sequence, "length")

    def _finish(
        self, sequence: Sequence, reason: FinishReason, error: BaseException | None = None
    ) -> None:
        if reason != "stop" or not sequence.stops.stopped:
            for piece in sequence.stops.flush():
                sequence.stream.put(piece)
        self._running.remove(sequence)
        try:
            self.release(sequence)
        finally:
            sequence.stream.end(reason, error)
