"""The work behind a chat completion: each choice decoded on a thread of its own.

A request for ``n`` choices starts ``n`` workers at once, each with its own seed: on the
``cortex`` model each is a turn (the scheduler spreads their parts over the replicas), on a
region model each is a stream to that instance (its engine batches them). A worker hands
what it makes to the request's `Reply`, in order: ``text`` (answer text), ``logprob`` (a
token's entry, where asked), ``event`` (a ``cortex`` event), then ``done`` (a `Choice`) or
``error`` (an `ApiError`). Setting `Reply.cancel` stops every worker, and the regions' work
on it, queued or decoding.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bus.protocol import Token
from bus.tokenbus import Delivery
from bus.topics import as_topic
from cortex.runtime.brain import Brain
from cortex.serve.api import (
    Choice,
    as_api_error,
    logprob_entry,
    tool_call,
    turn_event,
    turn_summary,
    turn_usage,
)
from cortex.serve.api import usage as usage_of
from cortex.serve.errors import ApiError
from cortex.serve.fields import ChatRequest, decoding
from cortex.serve.messages import Conversation
from modules.tools import ToolCallReader

BRAIN_MODEL = "cortex"
"""The model id of the whole brain: a turn planned and answered by every region."""
Item = tuple[str, int, Any]
"""(kind, choice index, value) as a worker hands it over."""


@dataclass
class Reply:
    """What a request's workers hand to its response. Setting `cancel` stops them."""

    loop: asyncio.AbstractEventLoop
    choices: int = 1
    queue: asyncio.Queue[Item] = field(default_factory=asyncio.Queue)
    cancel: threading.Event = field(default_factory=threading.Event)
    asked: float = 0.0
    """When the client was last checked for having gone (`time.monotonic`)."""
    files: list[Path] = field(default_factory=list)
    """The request's pictures and recordings, removed once it is answered."""

    def put(self, kind: str, index: int, value: Any) -> None:
        """Called from a worker thread."""
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (kind, index, value))

    def finished(self) -> None:
        """Stops what still runs for the request and removes its files."""
        self.cancel.set()
        for file in self.files:
            file.unlink(missing_ok=True)

    def ready(self) -> list[Item]:
        """Everything queued now, without waiting."""
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


def check_model(chat: ChatRequest, conversation: Conversation) -> None:
    """Refuses what a model cannot take, before any work starts.

    Raises:
        ApiError: 400 for pictures or recordings sent to a region model, or more than one of
            either in a turn; for log-probabilities asked of the ``cortex`` model (its answer
            holds text Cortex writes between its regions' tokens) or with tools.
    """
    if chat.logprobs and chat.model == BRAIN_MODEL:
        raise ApiError(
            400,
            f"logprobs: the {BRAIN_MODEL} model's answer joins several regions' streams and "
            "text Cortex writes; ask a region model (GET /v1/models) for log-probabilities",
            param="logprobs",
        )
    if chat.logprobs and chat.tools:
        raise ApiError(400, "logprobs: not offered with tools; leave one out", param="logprobs")
    media = len(conversation.images) + len(conversation.recordings)
    if chat.model != BRAIN_MODEL and media:
        raise ApiError(
            400,
            f"{chat.model} reads text only; send pictures and recordings to model {BRAIN_MODEL!r}",
            param="messages",
        )
    if len(conversation.images) > 1 or len(conversation.recordings) > 1:
        raise ApiError(400, "a turn takes one picture and one recording", param="messages")


def start(brain: Brain, chat: ChatRequest, conversation: Conversation, reply: Reply) -> None:
    """Starts one worker per choice."""
    worker = _turn if chat.model == BRAIN_MODEL else _region
    for index in range(chat.n):
        work = worker(brain, chat, conversation, index, reply)
        threading.Thread(target=work, name=f"cortex-choice-{index}", daemon=True).start()


def _calls(chat: ChatRequest, calls: list[tuple[str, str]]) -> list[dict[str, Any]]:
    kept = calls[:1] if chat.parallel_tool_calls is False else calls
    return [tool_call(name, arguments) for name, arguments in kept]


def _turn(
    brain: Brain, chat: ChatRequest, conversation: Conversation, index: int, reply: Reply
) -> Callable[[], None]:
    """The worker of one choice on the whole brain."""

    def on_delivery(delivery: Delivery) -> None:
        message, topic = delivery.message, as_topic(delivery.topic)
        if isinstance(message, Token) and topic.turn is not None and topic.channel == "out":
            if message.text:
                reply.put("text", index, message.text)
        elif chat.cortex_events and (event := turn_event(delivery)) is not None:
            reply.put("event", index, event)

    def work() -> None:
        context = "\n\n".join(t for t in (conversation.system, conversation.tool_results) if t)
        try:
            record = brain.ask(
                conversation.question,
                on_delivery=on_delivery,
                history=conversation.history,
                image=conversation.images[0] if conversation.images else None,
                audio=conversation.recordings[0] if conversation.recordings else None,
                cancel=reply.cancel,
                options=decoding(chat, index),
                context=context,
            )
        except BaseException as error:  # noqa: BLE001 - every failure goes to the client
            reply.put("error", index, as_api_error(error))
            return
        summary = turn_summary(record) if chat.cortex_events else None
        calls = _calls(chat, record.tool_calls)
        finish = "tool_calls" if calls else record.finish_reason
        choice = Choice(record.answer, finish, turn_usage(record), calls, summary=summary)
        reply.put("done", index, choice)

    return work


def _region(
    brain: Brain, chat: ChatRequest, conversation: Conversation, index: int, reply: Reply
) -> Callable[[], None]:
    """The worker of one choice of a text region answering the conversation alone."""
    options = decoding(chat, index)
    reader = ToolCallReader() if options.tools and options.tool_choice != "none" else None

    def work() -> None:
        stream = brain.stream(
            chat.model,
            conversation.instruction,
            cancel=reply.cancel,
            decoding=options,
            system=conversation.system,
            earlier=tuple(conversation.history),
        )
        texts, logprobs = [], []
        try:
            while True:
                token = next(stream)
                text = reader.feed(token.text) if reader is not None else token.text
                if text:
                    texts.append(text)
                    reply.put("text", index, text)
                if token.logprob is not None:
                    logprobs.append(logprob_entry(token.logprob))
                    reply.put("logprob", index, logprobs[-1])
                if chat.cortex_events:
                    event = {"type": "token", "stream": token.stream_id, "region": chat.model}
                    reply.put("event", index, event | {"text": token.text})
        except StopIteration as finished:
            result = finished.value
        except BaseException as error:  # noqa: BLE001 - every failure goes to the client
            reply.put("error", index, as_api_error(error))
            return
        prompt = result.data.get("prompt_tokens")
        tokens = usage_of(prompt if isinstance(prompt, int) else 0, result.tokens)
        calls = _calls(chat, [(reader.call, reader.arguments)] if reader and reader.call else [])
        finish = "tool_calls" if calls else str(result.data.get("finish_reason", "stop"))
        notes = [str(note) for note in result.data.get("notes") or []]
        content = logprobs if chat.logprobs else None
        reply.put("done", index, Choice("".join(texts), finish, tokens, calls, notes, content))

    return work
