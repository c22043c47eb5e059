"""The language region: a causal language model that answers instructions, several at once.

Each subtask becomes a chat: the instruction, preceded by the results of the subtasks it
depends on. An inference engine (`modules.engines`: llama.cpp, vLLM or transformers) decodes
it, batched with the region's other subtasks; an `AnswerShaper` decides what of it to show.
A subtask may prefill for other replicas or decode from their prefill (`modules.handoff`).
A language region may be paired with a draft region on another device, whose tokens its
engine verifies, or draft for others (`modules.pairing`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from bus.protocol import Decoding, Subtask
from modules.engines import (
    ALONE,
    Assist,
    Engine,
    Guide,
    Message,
    Piece,
    SamplingSettings,
    Stream,
    create_engine,
    pick_engine,
)
from modules.engines.formats import model_in_format
from modules.errors import EngineError
from modules.handoff import HandoffReport, RegionHandoff
from modules.openings import answer_start, items_asked_for
from modules.pairing import Pairing
from modules.prompts import answer_chat, shared_chat
from modules.region import Region
from modules.shaping import AnswerShaper, written
from modules.tools import (
    NO_TOOL,
    arguments_start,
    choice_schema,
    choice_text,
    parameters,
    tool_names,
    tools_chat,
)

PARTS_LENGTH = 1.25
"""The parts of an answer together wrap up at this many times one answer's wrap-up point
(two parts at 5/8 of it each, three at 5/12): three paragraphs in parts read about as long
as one model writes them whole (one or two sentences each), and the longest part, which the
user waits for, is short (figures in docs/benchmarks.md)."""
ITEM_TOKENS = 40
"""Tokens a list that names its number is given per item asked for, where that is more than
the region's own budget ("Give me seven tips..." gets 280)."""
MAX_RESUMES = 4
"""How many times an answer goes on after the model stopped where it may not end."""
CLIENT_SAMPLING = (
    "temperature", "top_p", "seed", "frequency_penalty", "presence_penalty", "logprobs",
)  # fmt: skip
"""`Decoding` fields that override the region's sampling settings where a client sets them."""
NO_OPTIONS = Decoding()
CHOICE_TOKENS = 48
log = logging.getLogger("cortex.language")


@dataclass
class Reply:
    """What `LanguageRegion.generate` returns once its pieces are out."""

    prompt_tokens: int = 0
    finish_reason: str = "stop"
    """``stop`` (the model or the answer's shape ended it) or ``length`` (a budget cut it)."""
    notes: list[str] = field(default_factory=list)
    """Where the reply falls short of what was asked, and why (a list's missing items)."""
    prefill_s: float = 0.0
    """From submitting the chat to its first token (`Stream.prefill_s`)."""
    imported_tokens: int = 0
    kv_note: str = ""
    """Why an imported KV state was not used (`Stream.kv_note`)."""


class LanguageRegion(Region):
    """A delegate that decodes answers with a causal language model."""

    kind = "language"
    description = "Answer questions, explain, compare, summarise and write text."
    concurrent = True
    hands_off_kv: ClassVar[bool] = True  # it measures its device's speeds, hands KV over

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine: Engine | None = None
        self.engine_note = ""
        self._streams: dict[str, list[Stream]] = {}
        """The engine streams of each subtask being handled, by its stream id."""
        self._stopped: set[str] = set()
        """Stream ids interrupted (their next engine stream is cancelled at once too)."""
        self._handling = threading.local()
        """The stream id of the subtask a host thread is handling."""
        self.handoff: RegionHandoff | None = None
        """Measured speeds, and KV states held for and fetched from other replicas."""
        self.pairing: Pairing | None = None
        """Its draft, or its targets, once set up."""

    def setup(self) -> None:
        settings = self.settings
        device = settings.placement.device_type
        name, why = pick_engine(settings.engine, settings.model, device == "cuda")
        model = model_in_format(settings.model, settings.weights, settings.placement.threads)
        self.engine = create_engine(
            name,
            model,
            device=device,
            threads=settings.placement.threads,
            max_concurrent=max(1, settings.max_concurrent),
            context_length=settings.context_length,
            batch_invariant=settings.batch_invariant,
            prompt_cache=settings.prompt_cache,
        ).start()
        weights = f", {settings.weights} weights" if settings.weights else ""
        self.engine_note = f"{name} ({why}), {self.engine.max_concurrent} at once{weights}"
        log.info("%s: %s runs %s in %.2f s", self.name, name, model, self.engine.load_s)
        if self.hands_off_kv and not settings.options.get("drafts"):  # drafts take no subtask
            self.handoff = RegionHandoff.start(self.bus, self.name, self.engine, settings)
        self.pairing = Pairing(self.engine, self.bus, self.name, settings.options)
        self.engine_note += self.pairing.note

    def describe(self) -> str:
        return self.engine_note

    def device_speeds(self) -> dict[str, Any]:
        return self.handoff.figures() if self.handoff is not None else {}

    def status_fields(self) -> dict[str, Any]:
        return self.pairing.status_fields() if self.pairing is not None else {}

    def handle(self, subtask: Subtask) -> Generator[Piece, None, dict[str, Any]]:
        self._handling.stream_id = subtask.stream_id
        self._streams[subtask.stream_id] = []
        try:
            options = subtask.decoding
            if subtask.mode == "prefill":  # for the replica that decodes it (`modules.handoff`)
                if self.handoff is None:
                    raise EngineError(f"{self.name} cannot prefill for another replica")
                start = answer_start(subtask.instruction, self.settings.openings)
                chat = answer_chat(subtask, start)
                return self.handoff.prefill_only(subtask, self.engine_or_fail().render(chat))
            if options.tools and options.tool_choice != NO_TOOL:
                return (yield from self._tool_call(subtask))
            return (yield from self._answer(subtask))
        finally:
            self._streams.pop(subtask.stream_id, None)
            self._stopped.discard(subtask.stream_id)

    def interrupt(self, stream_id: str) -> None:
        if stream_id in self._streams:
            self._stopped.add(stream_id)
        for stream in self._streams.get(stream_id, []):
            stream.cancel()

    def _answer(
        self, subtask: Subtask, chat_start: str = ""
    ) -> Generator[Piece, None, dict[str, Any]]:
        """The answer in words (or JSON, under the client's schema), after `chat_start`: text
        already yielded (a tool choice) that counts against the client's token cap."""
        options = subtask.decoding
        guide = None if options.json_schema is None else Guide(json_schema=options.json_schema)
        cap = options.max_tokens
        if cap is not None and chat_start:
            cap = max(1, cap - len(self.engine_or_fail().tokenize(chat_start)))
        start = ""  # log-probabilities are the model's: no opening is written for it
        if guide is None and options.logprobs is None:
            start = answer_start(subtask.instruction, self.settings.openings)
        if start and cap is not None and len(self.engine_or_fail().tokenize(start)) >= cap:
            start = ""  # the opening alone would spend the client's whole budget
        items = items_asked_for(subtask.instruction)
        budget = subtask.max_new_tokens or max(
            self.settings.sampling.max_new_tokens, (items or 0) * ITEM_TOKENS
        )
        chat, dropped = self.fitting(subtask, start, cap or budget)
        report, kv = HandoffReport(), None
        if self.handoff is not None:
            kv = self.handoff.state_for(subtask, chat, shared_chat(subtask), report)
        draft = self.pairing.proposer() if self.pairing is not None else None
        try:
            reply = yield from self.generate(
                chat,
                budget,
                guide,
                share=min(1.0, PARTS_LENGTH / subtask.parts),
                items=items,
                avoid=subtask.avoid,
                options=options,
                cap=cap,
                assist=Assist(draft, kv),
            )
        finally:
            if draft is not None:
                draft.close()
        data: dict[str, Any] = {"prompt_tokens": reply.prompt_tokens, "prefill_s": reply.prefill_s}
        data["finish_reason"] = reply.finish_reason
        data["notes"] = reply.notes
        if self.handoff is not None:
            data |= self.handoff.settle(subtask, report, reply.imported_tokens, reply.kv_note)
        if draft is not None and self.pairing is not None:
            data["speculation"] = self.pairing.count(draft.figures)
        if dropped:
            data["notes"].append(f"the {dropped} oldest exchanges were left out to fit the context")
        return data

    def _tool_call(self, subtask: Subtask) -> Generator[Piece, None, dict[str, Any]]:
        """A tool's choice, then its arguments under its parameters schema, or the answer in
        words where the model chose none (see `modules.tools`)."""
        engine = self.engine_or_fail()
        options = subtask.decoding
        choice, names = options.tool_choice, tool_names(options.tools)
        chat = tools_chat(answer_chat(subtask), options.tools, may_answer=choice == "auto")
        if choice == "auto" or (choice == "required" and len(names) > 1):
            schema = choice_schema(options.tools, may_answer=choice == "auto")
            text = []
            for piece in self.generate(chat, CHOICE_TOKENS, Guide(json_schema=schema)):
                text.append(piece.text)
                yield piece
            name = str(json.loads("".join(text))["tool"])
        else:  # the client named the tool, or only one may be called: Cortex writes the choice
            name = names[0] if choice == "required" else choice
            chosen = choice_text(name)
            yield from AnswerShaper(1, start=chosen).opening(engine.tokenize(chosen))
        if name == NO_TOOL:
            return (yield from self._answer(subtask, chat_start=choice_text(name)))
        call = [*chat, {"role": "assistant", "content": arguments_start(name)}]
        guide = Guide(json_schema=parameters(options.tools, name))
        cap = options.max_tokens
        if cap is not None:  # the choice counts against the client's cap
            cap = max(1, cap - len(engine.tokenize(choice_text(name))))
        reply = yield from self.generate(call, subtask.max_new_tokens, guide, cap=cap, shown=False)
        return {"prompt_tokens": reply.prompt_tokens, "finish_reason": reply.finish_reason}

    def engine_or_fail(self) -> Engine:
        assert self.engine is not None, "setup() loads the engine"
        return self.engine

    def fitting(self, subtask: Subtask, start: str, budget: int) -> tuple[list[Message], int]:
        """The subtask's chat, leaving out its oldest earlier exchanges while the prompt and
        `budget` (at most half the context) do not fit; returns it and how many were left out."""
        if not subtask.earlier:
            return answer_chat(subtask, start), 0
        engine = self.engine_or_fail()
        room = engine.context_length - min(budget, engine.context_length // 2)
        for dropped in range(len(subtask.earlier) + 1):
            shorter = subtask.model_copy(update={"earlier": subtask.earlier[dropped:]})
            chat = answer_chat(shorter, start)
            if len(engine.render(chat)) <= room:
                break
        return chat, dropped

    def generate(
        self,
        messages: list[Message],
        max_new_tokens: int | None = None,
        guide: Guide | None = None,
        share: float = 1.0,
        items: int | None = None,
        avoid: str = "",
        options: Decoding = NO_OPTIONS,
        cap: int | None = None,
        shown: bool = True,
        assist: Assist = ALONE,
    ) -> Generator[Piece, None, Reply]:
        """Decodes a reply to a chat, within the model's context; returns the prompt's length
        in tokens and why it ended. Past `WRAP_UP_SHARE` of the budget, prose ends at the next
        point where it may (`may_end_here`); text is held until each sentence or line is
        complete, and one the budget cuts is dropped. `share` < 1 brings that point forward
        for one part of a longer answer (three parts: 5/12 of it each, as Skeleton-of-Thought
        expands points briefly). A list ends only after `items` items; where the model stops
        short of them, or after a line announcing what follows, the reply goes on from there
        (the next item's number, a line break), up to `MAX_RESUMES` times within the budget.
        `avoid`: text not to repeat. `options`: what the client asked; `cap`: its token cap,
        counting a continued assistant message's start; what it cuts is shown cut. A chat that
        ends with an assistant message is continued, its text yielded first (as pieces of its
        own tokens, the text on the last) unless `shown` is False. `assist`: a draft to verify (the
        text stays the same), the prompt start's KV state prefilled elsewhere. See
        `AnswerShaper`.

        Raises:
            BadRequestError: The instruction is empty, or the chat leaves no room to answer.
        """
        engine = self.engine_or_fail()
        budget = max_new_tokens or self.settings.sampling.max_new_tokens
        continued = bool(messages) and messages[-1]["role"] == "assistant"
        start = messages[-1]["content"] if continued else ""
        opening = engine.tokenize(start) if start and shown else []
        limit = budget if cap is None else max(1, cap - len(opening))
        sampling = self._sampling(limit, guide, avoid, options)
        shaper = AnswerShaper(
            budget,
            share,
            items,
            wraps_up=guide is None and self.settings.end_at_sentence,
            start=start,
            keep_cut=cap is not None,
        )
        if opening:
            yield from shaper.opening(opening)
        chat = messages[:-1] if continued else messages
        return (yield from self._decode(chat, sampling, shaper, assist))

    def _decode(
        self,
        chat: list[Message],
        sampling: SamplingSettings,
        shaper: AnswerShaper,
        assist: Assist,
    ) -> Generator[Piece, None, Reply]:
        """Decodes the reply to `chat` after the shaper's start, going on where the model
        stopped but the answer may not end (`AnswerShaper.resumption`); the first stream has
        the `assist` (a draft to verify, a KV state to import); a resumed one decodes alone and
        prefills itself."""
        engine = self.engine_or_fail()
        reply, reason, text, spent = Reply(), None, shaper.start, 0
        resumed: list[Piece] = []  # shown only once the model writes after them
        for resumes in range(MAX_RESUMES + 1):
            request = [*chat, {"role": "assistant", "content": text}] if text else chat
            left = replace(sampling, max_new_tokens=sampling.max_new_tokens - spent)
            stream = self._submit(request, left, assist if resumes == 0 else ALONE)
            reply.prompt_tokens = reply.prompt_tokens or stream.prompt_tokens
            try:
                for piece in stream:
                    text, spent = text + piece.text, spent + 1
                    for shown in [*resumed, piece]:
                        yield from shaper.feed(shown)
                    resumed = []
                    if shaper.done:
                        break
            finally:
                stream.cancel()
            if not resumes:
                reply.prefill_s, reply.kv_note = stream.prefill_s, stream.kv_note
                reply.imported_tokens = stream.imported_tokens
            reason = stream.finish_reason
            # A request for log-probabilities gets the model's own tokens, none written for it.
            may_go_on = reason == "stop" and not shaper.done and sampling.logprobs is None
            going_on = shaper.resumption() if may_go_on else ""
            ids = engine.tokenize(going_on) if going_on and not resumed else []
            if not ids or spent + len(ids) >= sampling.max_new_tokens or resumes == MAX_RESUMES:
                break
            text, spent, resumed = text + going_on, spent + len(ids), written(going_on, ids)
        if not shaper.done:
            yield from shaper.finish(reason)
        reply.finish_reason = "length" if reason == "length" and not shaper.done else "stop"
        reply.notes = shaper.shortfall(reason, sampling.max_new_tokens)
        return reply

    def _submit(self, chat: list[Message], sampling: SamplingSettings, assist: Assist) -> Stream:
        """Starts decoding `chat` (with what `assist` lends) for the subtask this thread
        handles, so that an interrupt cancels it (at once where the subtask was interrupted
        already)."""
        stream = self.engine_or_fail().submit(chat, sampling, assist)
        handling = getattr(self._handling, "stream_id", "")
        self._streams.get(handling, []).append(stream)
        if handling in self._stopped:
            stream.cancel()
        return stream

    def _sampling(
        self, max_new_tokens: int, guide: Guide | None, avoid: str, options: Decoding
    ) -> SamplingSettings:
        """The region's sampling settings for one reply, with what the client asked."""
        base = self.settings.sampling
        asked = {name: getattr(options, name) for name in CLIENT_SAMPLING}
        sampling = replace(
            base,
            max_new_tokens=max_new_tokens,
            guide=guide,
            avoid=avoid,
            stop=tuple(dict.fromkeys((*base.stop, *options.stop))),
            **{name: value for name, value in asked.items() if value is not None},
        )
        if guide is not None:  # structured output repeats its keys: loop control is for prose
            sampling = replace(sampling, repetition_penalty=1.0, no_repeat_ngram=0)
        return sampling

    def close(self) -> None:
        if self.pairing is not None:
            self.pairing.close()
        if self.handoff is not None:
            self.handoff.close()
        if self.engine is not None:
            self.engine.close()
