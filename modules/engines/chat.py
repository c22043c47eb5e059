"""Chat prompts as token ids, with what people typed kept as text.

A chat template wraps each message in control tokens (ChatML's ``<|im_start|>`` and
``<|im_end|>``). Tokenizing the rendered chat as one string with special tokens parsed would
also turn control text *typed by a user* into control tokens: a question could end its own
turn or open a fake assistant turn. So the template is rendered around placeholders; the
template's own text is tokenized with special tokens, each message's content without.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from modules.errors import EngineError

Message = dict[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": text}``."""
Render = Callable[[list[Message]], str]
"""Renders a chat with the model's template, generation prompt included, as text."""
Tokenize = Callable[[str, bool], list[int]]
"""Token ids of a text; the flag says whether control-token text becomes control tokens."""


_TOKENIZING = threading.Lock()
"""One tokenizer call at a time: a transformers tokenizer applies `split_special_tokens` to its
shared backend for the length of a call, so a request submitted from another thread at the
same moment could be tokenized with the other's setting (its template's control tokens split
into plain text)."""


def chat_ids(messages: list[Message], render: Render, tokenize: Tokenize) -> list[int]:
    """The prompt token ids of a chat, control tokens only where the template put them. A
    chat that ends with an assistant message asks for that message to be continued: its text
    is the start of the answer, after the template's generation prompt.

    Raises:
        EngineError: The template alters message text, so contents cannot be kept apart.
    """
    if messages and messages[-1]["role"] == "assistant":
        return chat_ids(messages[:-1], render, tokenize) + tokenize(messages[-1]["content"], False)
    nonce = uuid.uuid4().hex[:8]
    marks = [f"@@message-{i}-{nonce}@@" for i in range(len(messages))]
    rendered = render([{**m, "content": mark} for m, mark in zip(messages, marks, strict=True)])
    parts = re.split(f"(@@message-\\d+-{nonce}@@)", rendered)
    if [p for p in parts if p in marks] != marks:
        raise EngineError("the model's chat template changes message text; it cannot be used")
    contents = dict(zip(marks, (m["content"] for m in messages), strict=True))
    ids: list[int] = []
    for part in parts:
        if part in contents:
            ids += tokenize(contents[part], False)
        elif part:
            ids += tokenize(part, True)
    return ids


class TokenizerChat:
    """`render_text` and `tokenize` from a transformers tokenizer (`self.tokenizer`), for
    engines that run transformers models."""

    tokenizer: Any

    def render_text(self, messages: list[Message]) -> str:
        return str(
            self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        )

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        with _TOKENIZING:
            encoded = self.tokenizer(
                text, add_special_tokens=False, split_special_tokens=not special
            )
        return list(encoded["input_ids"])


def tokenizer_chat_ids(tokenizer: Any, messages: list[Message]) -> list[int]:
    """`chat_ids` with a transformers tokenizer's chat template and vocabulary."""
    chat = TokenizerChat()
    chat.tokenizer = tokenizer
    return chat_ids(messages, chat.render_text, chat.tokenize)
