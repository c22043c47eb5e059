"""Token ids into text, one token at a time, never re-decoding the whole sequence.

A `Detokenizer` returns the text each new token completes (nothing while a multi-byte
character is still open); `TextAssembler` is one for any transformers tokenizer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Detokenizer(ABC):
    """Turns one request's token ids into text increments, one token at a time."""

    @abstractmethod
    def add(self, token_id: int) -> str:
        """The text `token_id` completes (empty inside an unfinished character)."""


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
