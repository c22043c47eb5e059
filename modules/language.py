"""The language region: a causal language model that answers instructions, several at once.

Each subtask becomes a chat: the instruction, preceded by the results of the subtasks it
depends on. An inference engine (`modules.engines`: llama.cpp, vLLM or transformers) decodes
it, batched with the region's other subtasks; an `AnswerShaper` decides what of it to show.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator
from dataclasses import replace
from typing import Any

from bus.protocol import Subtask
from modules.engines import (
    Engine,
    Guide,
    Message,
    Piece,
    SamplingSettings,
    create_engine,
    pick_engine,
)
from modules.region import Region
from modules.shaping import MIN_LIST_ITEMS, AnswerShaper

SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly and accurately."
PARTS_LENGTH = 1.25
"""The parts of an answer together wrap up at this many times one answer's wrap-up point
(two parts at 5/8 of it each, three at 5/12): three paragraphs in parts read about as long
as one model writes them whole (one or two sentences each), and the longest part, which the
user waits for, is short (figures in docs/benchmarks.md)."""
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
ASKED_NUMBER = re.compile(
    rf"\b(\d{{1,2}}|{'|'.join(NUMBER_WORDS)})\s+(?!(?:minutes?|hours?|days?|years?|times)\b)"
    r"(?:[a-z]+\s+)?[a-z]+s\b",
    re.IGNORECASE,
)
"""A number of things asked for: "three tips", "4 Greek gods" (not "in 30 minutes")."""
ASKED_THING = re.compile(
    r"(?:what|who|which|where)(?:\s+(is|are|was|were)\s+|'s\s+)((?:the|a|an)\s+[^,;:\"?]+|[\w-]+)\?",
    re.IGNORECASE,
)
"""A question that asks what one thing is: "What is the capital of Spain?", "Who was the
first person on the moon?", "What's a mortgage?"."""
NOT_ONE_THING = re.compile(r"\b(?:and|or|not|I|me|my|we|us|our|you|your|it|its|this|that)\b", re.I)
"""Words that make the thing asked about two things, the user, or something said before."""
LIST_ASKED = re.compile(
    r"(?:give|write|make|list|create|prepare|draft|suggest|provide|share|compile|name)"
    r"(?:\s+(?:me|us))?(?:\s+(?:a|an|the))?\s+"
    r"((?:\S+\s+){0,2}(?:list|checklist|to-do list|tips|ideas|steps|ways|reasons|suggestions)\b"
    r"[^.!?]*)[.!]?",
    re.IGNORECASE,
)
"""An instruction to write one list ("Give me a packing list for a ski trip.", "Give three
tips for saving money."); group 1 is the list, as its heading."""
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
        prompt_tokens = yield from self.generate(
            answer_chat(subtask, answer_start(subtask.instruction)),
            subtask.max_new_tokens,
            share=min(1.0, PARTS_LENGTH / subtask.parts),
            items=items_asked_for(subtask.instruction),
            avoid=subtask.avoid,
        )
        return {"prompt_tokens": prompt_tokens}

    def generate(
        self,
        messages: list[Message],
        max_new_tokens: int | None = None,
        guide: Guide | None = None,
        share: float = 1.0,
        items: int = MIN_LIST_ITEMS,
        avoid: str = "",
    ) -> Generator[Piece, None, int]:
        """Decodes a reply to a chat, within the model's context; returns the prompt's length
        in tokens. Past `WRAP_UP_SHARE` of the budget, prose ends at the next point where it
        may (`may_end_here`), and text is held back until each sentence or line is complete:
        where the budget runs out first, the unfinished sentence is dropped, not shown cut.
        `share` < 1 brings that point forward for one part of a longer answer: three parts
        each wrap up at 5/12 of it (Skeleton-of-Thought's short point expansions), so the
        whole answer is not three answers long. A list ends only after `items` items.
        `avoid`: text not to repeat (`SamplingSettings.avoid`). A chat that ends with an
        assistant message is continued from it, and that text is yielded first (as pieces of
        its own tokens, the text on the last). See `AnswerShaper`.

        Raises:
            BadRequestError: The instruction is empty, or the chat leaves no room to answer.
        """
        assert self.engine is not None, "setup() loads the engine"
        sampling = self._sampling(max_new_tokens, guide, avoid)
        continued = bool(messages) and messages[-1]["role"] == "assistant"
        shaper = AnswerShaper(
            sampling.max_new_tokens,
            share,
            items,
            wraps_up=guide is None and self.settings.end_at_sentence,
            start=messages[-1]["content"] if continued else "",
        )
        stream = self.engine.submit(messages, sampling)
        if shaper.start:
            yield from shaper.opening(self.engine.tokenize(shaper.start))
        try:
            for piece in stream:
                yield from shaper.feed(piece)
                if shaper.done:
                    break
            else:  # the model ended it, or the budget
                yield from shaper.finish(stream.finish_reason)
        finally:
            stream.cancel()
        return stream.prompt_tokens

    def _sampling(
        self, max_new_tokens: int | None, guide: Guide | None, avoid: str
    ) -> SamplingSettings:
        """The region's sampling settings for one reply."""
        sampling = replace(
            self.settings.sampling,
            max_new_tokens=max_new_tokens or self.settings.sampling.max_new_tokens,
            guide=guide,
            avoid=avoid,
        )
        if guide is not None:  # structured output repeats its keys: loop control is for prose
            sampling = replace(sampling, repetition_penalty=1.0, no_repeat_ngram=0)
        return sampling

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


def items_asked_for(instruction: str) -> int:
    """How many items a list answering `instruction` needs: the number it names ("three
    tips", "5 ideas"), else `MIN_LIST_ITEMS`."""
    found = ASKED_NUMBER.search(instruction)
    if found is None:
        return MIN_LIST_ITEMS
    word = found.group(1).lower()
    return int(word) if word.isdigit() else NUMBER_WORDS.index(word) + 1


def answer_chat(subtask: Subtask, start: str = "") -> list[Message]:
    """The chat a delegate answers for one subtask: the system prompt; the exchanges it works
    on (the steps it depends on, asked and answered); the request's shared context, then the
    instruction, with other regions' notes; then `start`, if given, as the answer's start."""
    chat: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for asked, answered in subtask.earlier:
        chat += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    asked = "\n\n".join(text for text in (subtask.context, subtask.instruction) if text)
    chat.append({"role": "user", "content": with_notes(asked, subtask.inputs)})
    return chat + [{"role": "assistant", "content": start}] if start else chat


def answer_start(instruction: str) -> str:
    """How the answer begins, for two kinds of instruction; "" for anything else:
    - a question about one thing: the thing, and the verb ("What is the capital of Spain?"
      -> "The capital of Spain is");
    - a request for one list: the list's heading in the request's words, and its first
      number ("Give me a packing list for a ski trip." -> "Packing list for a ski trip:\n1.").

    Started this way, a small model answers in English and to the point, and lists with
    short items (figures in docs/benchmarks.md).
    """
    text = " ".join(instruction.split())
    if (listed := LIST_ASKED.fullmatch(text)) and not re.search(r",|\band\b", text):
        heading = listed.group(1)
        return f"{heading[:1].upper()}{heading[1:]}:\n1."
    asked = ASKED_THING.fullmatch(text)
    if asked is None or NOT_ONE_THING.search(asked.group(2)):
        return ""
    thing = asked.group(2)
    return f"{thing[:1].upper()}{thing[1:]} {(asked.group(1) or 'is').lower()}"


def with_notes(instruction: str, notes: dict[str, str]) -> str:
    """The instruction after what other regions found (a picture's description) and the
    conversation's earlier turns, as plain text: "Notes:" and bullets led the embedded
    model to repeat the notes instead of answering."""
    if not notes:
        return instruction
    told = "\n".join(text.strip() for text in notes.values())
    return f"{told}\n\n{instruction}"
