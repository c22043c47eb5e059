"""Decoding helpers for transformers models: incremental text, token choice, streamed generate.

`TextAssembler` turns token ids into text increments; `pick_token` chooses a token from
logits (greedy or top-p); `stream_generate` streams an encoder-decoder model's `generate`.
The text engine built on them is `modules.engines.hf`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import torch

from modules.engines.base import Detokenizer, Piece, SamplingSettings

__all__ = ["Piece", "SamplingSettings", "TextAssembler", "pick_token", "stream_generate"]


class TextAssembler(Detokenizer):
    """Turns a growing list of token ids into text increments, character-safe.

    Each call decodes only a short window of recent ids (as vLLM and TGI detokenize
    incrementally), so a long answer costs the same per token as a short one.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.emitted = ""
        """All text returned so far."""
        self._prefix = 0
        self._read = 0

    def add(self, token_id: int) -> str:
        self.ids.append(token_id)
        before = self._decode(self.ids[self._prefix : self._read])
        text = self._decode(self.ids[self._prefix :])
        if len(text) <= len(before) or text.endswith("\ufffd"):  # a character still open
            return ""
        new = text[len(before) :]
        self._prefix, self._read = self._read, len(self.ids)
        self.emitted += new
        return new

    def _decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))


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
