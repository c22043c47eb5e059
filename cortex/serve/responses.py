"""A chat completion's HTTP response, whole or streamed, from what its workers hand over.

Whole: the completion once every choice is done. Streamed (server-sent events): for each
choice a role chunk, then one chunk per batch of its text as it decodes, its tool calls and
a closing chunk with its ``finish_reason`` (the last one carries the request's usage), then
a usage chunk when the client asked (``stream_options.include_usage``), then ``[DONE]``.
Whether the client has gone is asked twice a second; a client that left cancels the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from cortex.serve.api import Choice, chunk, completion, completion_id, total_usage, usage_chunk
from cortex.serve.choices import Item, Reply
from cortex.serve.errors import ApiError
from cortex.serve.fields import ChatRequest

DISCONNECT_POLL_S = 0.5


async def next_item(request: Request, reply: Reply) -> Item | None:
    """The workers' next item; None once the client has gone (the work is then cancelled).
    Whether it has gone is asked twice a second, however busy the workers are."""
    while True:
        if time.monotonic() - reply.asked > DISCONNECT_POLL_S:
            reply.asked = time.monotonic()
            if await request.is_disconnected():
                reply.cancel.set()
                return None
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(reply.queue.get(), DISCONNECT_POLL_S)


async def whole(request: Request, chat: ChatRequest, reply: Reply) -> Response:
    """A whole completion, once every choice is done; the first error is the answer."""
    try:
        return await _whole(request, chat, reply)
    finally:
        reply.finished()


async def _whole(request: Request, chat: ChatRequest, reply: Reply) -> Response:
    done: dict[int, Choice] = {}
    while (item := await next_item(request, reply)) is not None:
        kind, index, value = item
        if kind == "error":
            raise value  # the other choices are of no use now
        if kind == "done":
            done[index] = value
        if len(done) == chat.n:
            choices = [done[i] for i in range(chat.n)]
            summary = choices[0].summary if chat.n == 1 else None
            extra = {"cortex": summary} if summary else {}
            return JSONResponse(completion(completion_id(), chat.model, choices, **extra))
    return Response(status_code=499)  # nobody is listening any more


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def streamed(chat: ChatRequest, reply: Reply, first: Item) -> AsyncIterator[str]:
    """The SSE stream of every choice; a client that goes away cancels the work."""
    ident = completion_id()
    done: dict[int, Choice] = {}
    try:
        for index in range(chat.n):
            yield _sse(chunk(ident, chat.model, index, {"role": "assistant", "content": ""}))
        batch = [first]
        while True:
            for index in range(chat.n):
                mine = [(kind, value) for kind, i, value in batch if i == index]
                for line in _lines(ident, chat, index, mine, done):
                    yield line
            if any(kind == "error" for kind, _, _ in batch):
                return
            if len(done) == chat.n:
                if chat.include_usage:
                    yield _sse(usage_chunk(ident, chat.model, total_usage(list(done.values()))))
                yield "data: [DONE]\n\n"
                return
            batch = [await reply.queue.get(), *reply.ready()]
    finally:
        reply.finished()  # the client went away, or the work is over anyway


def _lines(
    ident: str, chat: ChatRequest, index: int, items: list[tuple[str, Any]],
    done: dict[int, Choice],
) -> list[str]:  # fmt: skip
    """The chunks of one choice for a batch of its items."""
    lines = []
    texts = [value for kind, value in items if kind == "text"]
    logprobs = [value for kind, value in items if kind == "logprob"]
    events = [value for kind, value in items if kind == "event"]
    if texts or logprobs or events:
        delta = {"content": "".join(texts)} if texts or logprobs else {}
        extra: dict[str, Any] = {"cortex": events} if events else {}
        entries = logprobs if chat.logprobs else None
        lines.append(_sse(chunk(ident, chat.model, index, delta, None, entries, **extra)))
    for kind, value in items:
        if kind == "error":
            lines.append(_sse(value.body))
            return lines
        if kind != "done":
            continue
        done[index] = value
        if value.tool_calls:
            calls = [{"index": i, **call} for i, call in enumerate(value.tool_calls)]
            lines.append(_sse(chunk(ident, chat.model, index, {"tool_calls": calls})))
        extra = {"cortex": [{"type": "summary", **value.summary}]} if value.summary else {}
        if value.notes:
            extra["cortex_notes"] = value.notes
        if len(done) == chat.n:
            extra["usage"] = total_usage(list(done.values()))
        lines.append(_sse(chunk(ident, chat.model, index, {}, value.finish_reason, **extra)))
    return lines


async def opened(request: Request, chat: ChatRequest, reply: Reply) -> Item:
    """The first item of a stream, so that a request refused at once gets its status.

    Raises:
        ApiError: The first thing a worker said was an error (the client gets its status).
    """
    first = await next_item(request, reply)
    if first is None or first[0] == "error":
        reply.finished()
        raise first[2] if first else ApiError(499, "the client went away", code="cancelled")
    return first
