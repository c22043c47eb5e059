"""Token-by-token decoding with a KV cache, sampling and stop rules.

`decode` yields each new token with the text it adds as soon as it is produced; it knows
nothing of the bus or of regions. Greedy decoding (temperature 0) yields exactly the tokens
of transformers' `generate`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DynamicCache


@dataclass(frozen=True)
class SamplingSettings:
    """How tokens are chosen and when decoding stops."""

    max_new_tokens: int = 128
    temperature: float = 0.0
    """0 decodes greedily; higher values sample more freely."""
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    """Decoding stops once the text ends with any of these (the stop string is not yielded)."""


@dataclass
class Piece:
    """One decoded token and the text it adds (empty while a multi-byte character is open)."""

    token_id: int
    text: str


@dataclass
class TextAssembler:
    """Turns a growing list of token ids into text increments, character-safe."""

    tokenizer: Any
    ids: list[int] = field(default_factory=list)
    emitted: str = ""

    def add(self, token_id: int) -> str:
        self.ids.append(token_id)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):  # an unfinished multi-byte character: wait for the rest
            return ""
        new, self.emitted = text[len(self.emitted) :], text
        return new


def pick_token(logits: torch.Tensor, settings: SamplingSettings, generator: torch.Generator) -> int:
    """Chooses the next token from one position's logits, [vocab]."""
    if settings.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / settings.temperature, dim=-1)
    if settings.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > settings.top_p
        sorted_probs[outside] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator))


@torch.inference_mode()
def decode(
    model: Any,
    tokenizer: Any,
    prompt_ids: Sequence[int],
    settings: SamplingSettings,
    stop_ids: Sequence[int] = (),
) -> Iterator[Piece]:
    """Decodes up to `settings.max_new_tokens` tokens after `prompt_ids`.

    Stops early on any of `stop_ids` (not yielded) or when the text reaches a stop string.
    """
    device = next(model.parameters()).device
    generator = torch.Generator(device="cpu").manual_seed(settings.seed)
    cache = DynamicCache(config=model.config)
    inputs = torch.tensor([list(prompt_ids)], device=device)  # [1, T]
    assembler = TextAssembler(tokenizer)
    for _ in range(settings.max_new_tokens):
        out = model(input_ids=inputs, cache=cache, use_cache=True)
        token_id = pick_token(out.logits[0, -1].cpu(), settings, generator)
        if token_id in stop_ids:
            return
        text = assembler.add(token_id)
        stop_at = _stop_position(assembler.emitted, settings.stop, len(text))
        if stop_at is not None:
            if stop_at > 0:
                yield Piece(token_id, text[:stop_at])
            return
        yield Piece(token_id, text)
        inputs = torch.tensor([[token_id]], device=device)


def _stop_position(emitted: str, stops: tuple[str, ...], new_length: int) -> int | None:
    """Where in the newest text a stop string begins, or None if none ended here."""
    for stop in stops:
        start = emitted.find(stop, max(0, len(emitted) - new_length - len(stop) + 1))
        if start != -1:
            return max(0, start - (len(emitted) - new_length))
    return None


class _TokenQueue:
    """A `generate` streamer: token ids from the decoding thread, read by the caller."""

    def __init__(self) -> None:
        self.ids: queue.Queue[int | None] = queue.Queue()
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:  # the first call carries the decoder prompt
            self._prompt_seen = True
            return
        for token_id in value.reshape(-1).tolist():
            self.ids.put(int(token_id))

    def end(self) -> None:
        self.ids.put(None)


def stream_generate(model: Any, skip_ids: set[int], **inputs: Any) -> Iterator[int]:
    """Runs an encoder-decoder model's `generate` and yields each new token id as it is
    decoded (ids in `skip_ids`, such as special tokens, are left out)."""
    tokens = _TokenQueue()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with torch.inference_mode():
                model.generate(**inputs, streamer=tokens)
        except BaseException as error:  # noqa: BLE001 - re-raised in the reading thread
            failure.append(error)
            tokens.end()

    worker = threading.Thread(target=run, name="generate", daemon=True)
    worker.start()
    while (token_id := tokens.ids.get()) is not None:
        if token_id not in skip_ids:
            yield token_id
    worker.join()
    if failure:
        raise failure[0]
