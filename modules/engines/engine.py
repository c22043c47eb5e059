"""The engine interface: start a model, stream a request's tokens, cancel, report figures.

An engine owns one text model on one device and decodes every request submitted to it, several
at once. It knows nothing of the bus or of regions: a request goes in as a chat, its tokens
come out as `Piece`s on a `Stream`.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import ClassVar

from bus.handoff import KvIdentity, KvState
from modules.engines.chat import Message, chat_ids
from modules.engines.request import ALONE, Assist
from modules.engines.sampling import SamplingSettings
from modules.engines.stream import Piece, Stream
from modules.errors import BadRequestError, ContextLengthError, EngineError


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


class Engine(ABC):
    """Decodes chats with one model, several requests at once.

    Args:
        model: The model spec (see `modules.models`).
        device: ``cpu`` or ``cuda``.
        threads: CPU threads for decoding.
        max_concurrent: Requests decoded together; more wait their turn.
        context_length: Tokens per request (prompt and answer); 0 takes the model's own.
        batch_invariant: A greedy request gets the same tokens whatever the engine held or
            decodes beside it: each sequence is computed alone, its prompt in fixed chunks
            (llama.cpp, transformers; vLLM is asked for its batch-invariant mode). False
            batches sequences into shared forward passes: faster, not bit-exact.
        prompt_cache: Whether a prompt may reuse the KV cache a slot kept of an earlier one
            (llama.cpp); False prefills every prompt whole (benchmarks of prefill).
    """

    name: ClassVar[str] = ""
    verifies: ClassVar[bool] = False
    """Whether requests may come with a draft whose tokens the engine verifies."""

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        threads: int = 1,
        max_concurrent: int = 4,
        context_length: int = 0,
        batch_invariant: bool = True,
        prompt_cache: bool = True,
    ) -> None:
        if max_concurrent < 1:
            raise EngineError("max_concurrent must be at least 1")
        self.model = model
        self.device = device
        self.threads = threads
        self.max_concurrent = max_concurrent
        self.context_length = context_length
        self.batch_invariant = batch_invariant
        self.prompt_cache = prompt_cache
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

    def submit(
        self, messages: list[Message], sampling: SamplingSettings, assist: Assist = ALONE
    ) -> Stream:
        """Queues a chat for decoding; its pieces arrive on the returned stream. A chat that
        ends with an assistant message is continued from that message's text (which the
        stream does not repeat). `assist`: a draft to verify, a KV state to import.

        Raises:
            BadRequestError: The last message is empty, or the chat leaves no room to answer.
            HandoffError: `kv` was made by another model or engine.
            EngineError: The engine is not started or is closed, or it cannot verify drafts.
        """
        if not messages or not messages[-1]["content"].strip():
            raise BadRequestError("the instruction is empty; say what the region should do")
        return self.submit_ids(self.render(messages), sampling, assist)

    def prefill(self, prompt: list[int]) -> KvState:
        """Prefills a prompt (token ids) and exports its KV state, for another replica of this
        model to import instead of prefilling it (`submit`'s `kv`).

        Raises:
            EngineError: The engine cannot export KV state, or the prefill failed.
        """
        raise EngineError(f"the {self.name} engine cannot export a prefilled KV state")

    def importable(self, tokens: int) -> int:
        """How many tokens of a prefilled prompt start of `tokens` another replica's import
        reuses: exporting more is prefill work the importer repeats."""
        return tokens

    def kv_identity(self) -> KvIdentity:
        """The engine and weights a KV state of this engine belongs to."""
        raise EngineError(f"the {self.name} engine cannot hand KV state over")

    def kv_bytes_per_token(self) -> int:
        """What the KV cache holds per token, by the model's shape: layers x 2 (keys and
        values) x KV heads x head size x bytes per element (0 where unknown)."""
        return 0

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
        return chat_ids(messages, self.render_text, self.tokenize)

    @abstractmethod
    def render_text(self, messages: list[Message]) -> str:
        """The chat in the model's template, generation prompt included, as text."""

    @abstractmethod
    def tokenize(self, text: str, special: bool = False) -> list[int]:
        """Token ids of a text; `special` turns control-token text into control tokens."""

    @abstractmethod
    def submit_ids(
        self, prompt: list[int], sampling: SamplingSettings, assist: Assist = ALONE
    ) -> Stream:
        """Queues a prompt that is already token ids (see `submit`)."""

    @abstractmethod
    def figures(self) -> EngineFigures:
        """Load time, concurrency and decode rate, for status screens and benchmarks."""

    @abstractmethod
    def close(self) -> None:
        """Ends every request and frees the model."""
