"""The language region: a causal language model that answers instructions, several at once.

Each subtask becomes a chat: the instruction, preceded by the results of the subtasks it
depends on. An inference engine (`modules.engines`: llama.cpp, vLLM or transformers) decodes
it, batched with the region's other subtasks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator
from dataclasses import replace
from typing import Any

from bus.protocol import Subtask
from modules.engines import Engine, Guide, Message, Piece, create_engine, pick_engine
from modules.region import Region

SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly and accurately."
WRAP_UP_SHARE = 1 / 2
"""Once this share of an answer's token budget is spent, the answer ends where it may end
(`may_end_here`), so the budget rarely cuts a sentence or a list in half."""
SENTENCE_END = re.compile(r"(?:[^\d\s][.!?…]|[。！？])[\"'”’)\]*]*[ \t]*$")
LIST_ITEM = re.compile(r"\s*(?:\d+[.)]|[-*•+])\s")
log = logging.getLogger("cortex.language")


class LanguageRegion(Region):
    """A delegate that decodes answers with a causal language model."""

    kind = "language"
    description = "Answer questions, explain, compare, summarise and write text."
    concurrent = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine: Engine | None = None
        self.engine_note = ""

    def setup(self) -> None:
        settings = self.settings
        device = settings.placement.device_type
        name, why = pick_engine(settings.engine, settings.model, device == "cuda")
        self.engine = create_engine(
            name,
            settings.model,
            device=device,
            threads=settings.placement.threads,
            max_concurrent=max(1, settings.max_concurrent),
            context_length=settings.context_length,
        ).start()
        self.engine_note = f"{name} ({why}), {self.engine.max_concurrent} at once"
        log.info("%s: %s runs %s in %.2f s", self.name, name, settings.model, self.engine.load_s)

    def describe(self) -> str:
        return self.engine_note

    def handle(self, subtask: Subtask) -> Generator[Piece, None, dict[str, Any]]:
        prompt_tokens = yield from self.generate(answer_chat(subtask), subtask.max_new_tokens)
        return {"prompt_tokens": prompt_tokens}

    def generate(
        self,
        messages: list[Message],
        max_new_tokens: int | None = None,
        guide: Guide | None = None,
    ) -> Generator[Piece, None, int]:
        """Decodes a reply to a chat, within the model's context; returns the prompt's length
        in tokens. Prose ends at a sentence end once `WRAP_UP_SHARE` of the budget is spent.

        Raises:
            BadRequestError: The instruction is empty, or the chat leaves no room to answer.
        """
        assert self.engine is not None, "setup() loads the engine"
        sampling = replace(
            self.settings.sampling,
            max_new_tokens=max_new_tokens or self.settings.sampling.max_new_tokens,
            guide=guide,
        )
        if guide is not None:  # structured output repeats its keys: loop control is for prose
            sampling = replace(sampling, repetition_penalty=1.0, no_repeat_ngram=0)
        wrap_up = sampling.max_new_tokens * WRAP_UP_SHARE if guide is None else float("inf")
        stream = self.engine.submit(messages, sampling)
        tail = ""
        try:
            for count, piece in enumerate(stream, start=1):
                yield piece
                tail = (tail + piece.text)[-256:]
                if count >= wrap_up and may_end_here(tail):
                    break
        finally:
            stream.cancel()
        return stream.prompt_tokens

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


def may_end_here(text: str) -> bool:
    """Whether an answer that ends with `text` may stop here: after a sentence of prose, or
    after a paragraph or stanza (a blank line), but never inside a list, which runs to its
    end (it is not known how many items were asked for)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines or LIST_ITEM.match(lines[-1]):
        return False
    return text.rstrip(" \t").endswith("\n\n") or (
        not text.endswith("\n") and bool(SENTENCE_END.search(lines[-1]))
    )


def answer_chat(subtask: Subtask) -> list[Message]:
    """The chat a delegate answers for one subtask: the system prompt, then the instruction
    with the results it depends on as notes."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": with_notes(subtask.instruction, subtask.inputs)},
    ]


def with_notes(instruction: str, notes: dict[str, str]) -> str:
    if not notes:
        return instruction
    lines = "\n".join(f"- {text.strip()}" for text in notes.values())
    return f"Notes:\n{lines}\n\n{instruction}"
