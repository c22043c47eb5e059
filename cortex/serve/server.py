"""`cortex serve`: the OpenAI Chat Completions API in front of a running brain.

    POST /v1/chat/completions   model "cortex": one turn; a text region's instance name: that
                                region alone (`Brain.stream`); "stream": true for SSE chunks
    GET  /v1/models             "cortex" and every text region instance
    GET  /health                every region's state, and each process's resident memory

Each request runs in a thread of its own (a turn blocks until its answer is done), so clients
are served at once; a client that goes away cancels its turn. With an API key every request
needs ``Authorization: Bearer KEY``. The wire format is in `cortex.serve.api`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from bus.errors import BusError
from bus.protocol import Token
from bus.tokenbus import Delivery
from bus.topics import as_topic
from cortex.errors import CortexError
from cortex.runtime.brain import Brain
from cortex.serve.api import (
    ApiError,
    ChatRequest,
    chunk,
    completion,
    completion_id,
    conversation,
    parse_request,
    turn_event,
    turn_summary,
    turn_usage,
    usage,
)
from modules.errors import BadRequestError, ContextLengthError, RegionError
from modules.host import resident_mb

BRAIN_MODEL = "cortex"
"""The model id of the whole brain: a turn planned and answered by every region."""
TEXT_KINDS = ("language", "planning")
"""Region kinds whose instances are served as models of their own."""
DISCONNECT_POLL_S = 0.5


@dataclass
class Reply:
    """What a request's worker thread hands to its response, in order: ``text`` (answer
    text), ``event`` (a ``cortex`` event), then ``done`` (text, usage, summary) or ``error``
    (an `ApiError`). Setting `cancel` asks the worker to stop."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    cancel: threading.Event = field(default_factory=threading.Event)
    asked: float = 0.0
    """When the client was last checked for having gone (`time.monotonic`)."""

    def put(self, kind: str, value: Any) -> None:
        """Called from the worker thread."""
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (kind, value))

    def ready(self) -> list[tuple[str, Any]]:
        """Everything queued now, without waiting."""
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


@dataclass(frozen=True)
class Outcome:
    text: str
    usage: dict[str, int]
    summary: dict[str, Any] | None = None


def as_api_error(error: BaseException) -> ApiError:
    """The error object a failed turn or region call becomes."""
    if isinstance(error, ContextLengthError):
        return ApiError(400, str(error), param="messages", code="context_length_exceeded")
    if isinstance(error, BadRequestError):
        return ApiError(400, str(error), param="messages")
    if isinstance(error, (CortexError, RegionError, BusError)):
        return ApiError(500, str(error), "server_error")
    return ApiError(500, f"{type(error).__name__}: {error}", "server_error")


def served_models(brain: Brain) -> list[str]:
    """The model ids this brain answers as: the whole brain, then each text region."""
    regions = [i.name for i in brain.instances if i.settings.kind in TEXT_KINDS]
    return [BRAIN_MODEL, *regions]


def _ask(brain: Brain, chat: ChatRequest, reply: Reply) -> Callable[[], None]:
    """The worker for a turn of the whole brain (the conversation is checked first)."""
    question, history = conversation(chat)

    def on_delivery(delivery: Delivery) -> None:
        message, topic = delivery.message, as_topic(delivery.topic)
        if isinstance(message, Token) and topic.turn is not None and topic.channel == "out":
            if message.text:
                reply.put("text", message.text)
        elif chat.cortex_events and (event := turn_event(delivery)) is not None:
            reply.put("event", event)

    def work() -> None:
        try:
            record = brain.ask(
                question, on_delivery=on_delivery, history=history, cancel=reply.cancel
            )
        except BaseException as error:  # noqa: BLE001 - every failure goes to the client
            reply.put("error", as_api_error(error))
            return
        summary = turn_summary(record) if chat.cortex_events else None
        reply.put("done", Outcome(record.answer, turn_usage(record), summary))

    return work


def _region(brain: Brain, chat: ChatRequest, reply: Reply) -> Callable[[], None]:
    """The worker for one text region answering the last user message alone."""
    question, _ = conversation(chat)

    def work() -> None:
        stream = brain.stream(chat.model, question, max_new_tokens=chat.token_limit)
        try:
            while not reply.cancel.is_set():
                token = next(stream)
                if token.text:
                    reply.put("text", token.text)
                if chat.cortex_events:
                    event = {"type": "token", "stream": token.stream_id, "region": chat.model}
                    reply.put("event", event | {"text": token.text})
            stream.close()  # tells the region to stop
        except StopIteration as finished:
            result = finished.value
            prompt = result.data.get("prompt_tokens")
            tokens = usage(prompt if isinstance(prompt, int) else 0, result.tokens)
            reply.put("done", Outcome(result.text, tokens))
        except BaseException as error:  # noqa: BLE001 - every failure goes to the client
            reply.put("error", as_api_error(error))

    return work


async def _next(request: Request, reply: Reply) -> tuple[str, Any] | None:
    """The worker's next item; None once the client has gone (its work is then cancelled).
    Whether it has gone is asked twice a second, however busy the worker is."""
    while True:
        if time.monotonic() - reply.asked > DISCONNECT_POLL_S:
            reply.asked = time.monotonic()
            if await request.is_disconnected():
                reply.cancel.set()
                return None
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(reply.queue.get(), DISCONNECT_POLL_S)


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _chunks(chat: ChatRequest, reply: Reply, first: tuple[str, Any]) -> AsyncIterator[str]:
    """The SSE stream: a role chunk, one chunk per batch of what the worker handed over,
    a closing chunk with the usage, then ``[DONE]``. A client that goes away cancels."""
    ident = completion_id()
    try:
        yield _sse(chunk(ident, chat.model, {"role": "assistant", "content": ""}))
        batch = [first]
        while True:
            texts = [value for kind, value in batch if kind == "text"]
            events = [value for kind, value in batch if kind == "event"]
            if texts or events:
                delta = {"content": "".join(texts)} if texts else {}
                extra: dict[str, Any] = {"cortex": events} if events else {}
                yield _sse(chunk(ident, chat.model, delta, **extra))
            ends = [(kind, value) for kind, value in batch if kind in ("done", "error")]
            if ends:
                for line in _closing(ident, chat, ends[0]):
                    yield line
                return
            batch = [await reply.queue.get(), *reply.ready()]
    finally:
        reply.cancel.set()  # the client went away, or the work is over anyway


def _closing(ident: str, chat: ChatRequest, end: tuple[str, Any]) -> Iterator[str]:
    kind, value = end
    if kind == "error":
        yield _sse(value.body)
        return
    extra = {"cortex": [{"type": "summary", **value.summary}]} if value.summary else {}
    yield _sse(chunk(ident, chat.model, {}, "stop", usage=value.usage, **extra))
    yield "data: [DONE]\n\n"


async def _whole(request: Request, chat: ChatRequest, reply: Reply) -> Response:
    """A whole completion, once the worker is done."""
    while (item := await _next(request, reply)) is not None:
        kind, value = item
        if kind == "error":
            raise value
        if kind == "done":
            extra = {"cortex": value.summary} if value.summary else {}
            return JSONResponse(
                completion(completion_id(), chat.model, value.text, value.usage, **extra)
            )
    return Response(status_code=499)  # nobody is listening any more


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body, status_code=error.status)


class BearerKey:
    """ASGI middleware: a request without ``Authorization: Bearer <key>`` gets a 401 error
    object. (A plain ASGI wrapper passes the connection through untouched, so a handler still
    learns that its client went away.)"""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.expected = f"Bearer {key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope.get("headers", [])).get(b"authorization", b"")
        if scope["type"] == "http" and not hmac.compare_digest(given, self.expected):
            refusal = ApiError(
                401,
                "incorrect API key; send Authorization: Bearer KEY",
                "authentication_error",
                code="invalid_api_key",
            )
            await _error_response(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(brain: Brain, api_key: str | None = None) -> FastAPI:
    """The HTTP application serving a started brain.

    Args:
        brain: A started `Brain` (its regions loaded).
        api_key: When given, every request must carry ``Authorization: Bearer <api_key>``.
    """
    app = FastAPI(title="Cortex", docs_url=None, redoc_url=None, openapi_url=None)
    models = served_models(brain)
    if api_key is not None:
        app.add_middleware(BearerKey, key=api_key)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return _error_response(error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return _error_response(ApiError(error.status_code, f"{request.url.path}: {error.detail}"))

    @app.get("/health")
    async def health() -> JSONResponse:
        try:
            regions = await asyncio.to_thread(brain.regions)
        except Exception as error:  # noqa: BLE001 - a health check reports, never raises
            return JSONResponse({"status": "unavailable", "error": str(error)}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "server": {"pid": os.getpid(), "rss_mb": resident_mb()},
                "regions": {
                    r["name"]: {key: r[key] for key in ("state", "pid", "rss_mb")} for r in regions
                },
            }
        )

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        entries = [{"id": m, "object": "model", "created": 0, "owned_by": "cortex"} for m in models]
        return {"object": "list", "data": entries}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        try:
            data = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ApiError(400, f"the body is not valid JSON: {error}") from None
        chat = parse_request(data)
        if chat.model not in models:
            raise ApiError(
                404,
                f"the model {chat.model!r} does not exist; these do: {', '.join(models)}",
                param="model",
                code="model_not_found",
            )
        reply = Reply(asyncio.get_running_loop())
        worker = (_ask if chat.model == BRAIN_MODEL else _region)(brain, chat, reply)
        threading.Thread(target=worker, name="cortex-request", daemon=True).start()
        if not chat.stream:
            return await _whole(request, chat, reply)
        first = await _next(request, reply)  # a request refused at once gets its status
        if first is None:
            return Response(status_code=499)
        if first[0] == "error":
            raise first[1]
        return StreamingResponse(_chunks(chat, reply, first), media_type="text/event-stream")

    return app


@contextlib.contextmanager
def running_server(
    brain: Brain, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None
) -> Iterator[str]:
    """Serves `brain` from a background thread; yields the base URL (``http://HOST:PORT``,
    the port the system gave when `port` is 0) and stops serving on exit."""
    server = uvicorn.Server(_uvicorn_config(brain, host, port, api_key))
    thread = threading.Thread(target=server.run, name="cortex-server", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise CortexError(f"the server could not listen on {host}:{port}")
        thread.join(timeout=0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def check_listen(host: str, port: int) -> None:
    """Checks that the server could listen on `host`:`port`, before any model loads.

    Raises:
        CortexError: The address is taken or not this machine's.
    """
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise CortexError(
            f"cannot listen on {host}:{port}: {reason}; pick another --port"
        ) from None


def serve(brain: Brain, host: str, port: int, api_key: str | None = None) -> None:
    """Serves `brain` until the process is interrupted (Ctrl-C, SIGTERM)."""
    uvicorn.Server(_uvicorn_config(brain, host, port, api_key)).run()


def _uvicorn_config(brain: Brain, host: str, port: int, api_key: str | None) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(brain, api_key),
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
