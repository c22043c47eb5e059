"""The language region: a causal language model that answers one instruction at a time.

Each subtask becomes a chat: the instruction, preceded by the results of the subtasks it
depends on. Tokens are decoded one by one with a KV cache (`modules.generation`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import torch

from bus.protocol import Subtask
from modules.errors import BadRequestError
from modules.generation import Piece, decode
from modules.models import load_causal_lm
from modules.region import Region

SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly and accurately."


class LanguageRegion(Region):
    """A delegate that decodes answers with a causal language model."""

    kind = "language"
    description = "Answer questions, explain, compare, summarise and write text."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model: Any = None
        self.tokenizer: Any = None
        self.stop_ids: tuple[int, ...] = ()
        self.context_length = 0

    def setup(self) -> None:
        placement = self.settings.placement
        if self.device.type == "cpu":
            torch.set_num_threads(placement.threads)
        self.tokenizer, model = load_causal_lm(self.settings.model)
        self.model = model.to(self.device)
        self.stop_ids = stop_ids(self.tokenizer, model)
        self.context_length = int(getattr(model.config, "max_position_embeddings", 2048))

    def handle(self, subtask: Subtask) -> Iterator[Piece]:
        yield from self.generate(answer_chat(subtask), subtask.max_new_tokens)

    def generate(
        self, messages: list[dict[str, str]], max_new_tokens: int | None = None
    ) -> Iterator[Piece]:
        """Decodes a reply to a chat, within the model's context.

        Raises:
            BadRequestError: The instruction is empty, or the chat leaves no room to answer.
        """
        if not messages[-1]["content"].strip():
            raise BadRequestError("the instruction is empty; say what the region should do")
        prompt = chat_ids(self.tokenizer, messages)
        room = self.context_length - len(prompt)
        if room < 1:
            raise BadRequestError(
                f"the request is {len(prompt)} tokens long, but {self.settings.model} reads at "
                f"most {self.context_length}; shorten it"
            )
        sampling = self.settings.sampling
        limit = min(max_new_tokens or sampling.max_new_tokens, room)
        yield from decode(
            self.model,
            self.tokenizer,
            prompt,
            replace(sampling, max_new_tokens=limit),
            self.stop_ids,
        )


def answer_chat(subtask: Subtask) -> list[dict[str, str]]:
    """The chat a delegate answers for one subtask: the system prompt, then the instruction
    with the results it depends on as notes."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": with_notes(subtask.instruction, subtask.inputs)},
    ]


def chat_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """A chat rendered with the model's template, as token ids."""
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    if hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return list(ids)


def with_notes(instruction: str, notes: dict[str, str]) -> str:
    if not notes:
        return instruction
    lines = "\n".join(f"- {text.strip()}" for text in notes.values())
    return f"Notes:\n{lines}\n\n{instruction}"


def stop_ids(tokenizer: Any, model: Any) -> tuple[int, ...]:
    """Every token id that ends a reply: EOS from the tokenizer and the generation config."""
    ids: list[int] = []
    for candidate in (
        tokenizer.eos_token_id,
        getattr(model.generation_config, "eos_token_id", None),
    ):
        if isinstance(candidate, int):
            ids.append(candidate)
        elif isinstance(candidate, Sequence):
            ids.extend(int(i) for i in candidate)
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(end_of_turn, int) and end_of_turn != tokenizer.unk_token_id:
        ids.append(end_of_turn)
    return tuple(dict.fromkeys(ids))
