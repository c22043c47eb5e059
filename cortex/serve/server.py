"""`cortex serve`: the OpenAI API in front of a running brain.

    POST /v1/chat/completions       model "cortex": one turn per choice; a text region's
                                    instance name: that region alone; "stream": true for SSE
    POST /v1/audio/transcriptions   the speech region hears a recording (Whisper's form)
    POST /v1/audio/speech           the speech region speaks text into a WAV file
    GET  /v1/models[/{id}]          "cortex" and every text region instance
    GET  /health                    every region's state, and each process's resident memory

Each request's choices run on threads of their own (`cortex.serve.choices`), so clients are
served at once; a client that goes away cancels its work. With an API key every request
needs ``Authorization: Bearer KEY`` (a browser's CORS preflight excepted); with CORS origins,
pages from them may call the API. Requests are read in `cortex.serve.fields` and
`cortex.serve.messages`, responses written in `cortex.serve.api` and `cortex.serve.responses`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from cortex.errors import CortexError
from cortex.runtime.brain import Brain
from cortex.serve.audio import add_audio_routes
from cortex.serve.choices import BRAIN_MODEL, Reply, check_model, start
from cortex.serve.errors import ApiError
from cortex.serve.fields import parse_request
from cortex.serve.messages import read_conversation
from cortex.serve.responses import opened, streamed, whole
from modules.host import resident_mb

TEXT_KINDS = ("language", "planning")
"""Region kinds whose instances are served as models of their own."""


def served_models(brain: Brain) -> list[str]:
    """The model ids this brain answers as: the whole brain, then each text region."""
    regions = [i.name for i in brain.instances if i.settings.kind in TEXT_KINDS]
    return [BRAIN_MODEL, *regions]


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body, status_code=error.status)


class BearerKey:
    """ASGI middleware: a request without ``Authorization: Bearer <key>`` gets a 401 error
    object; a browser's CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``)
    carries no key and is let through. (A plain ASGI wrapper passes the connection through
    untouched, so a handler still learns that its client went away.)"""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.expected = f"Bearer {key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        given = headers.get(b"authorization", b"")
        preflight = scope.get("method") == "OPTIONS" and b"access-control-request-method" in headers
        allowed = preflight or hmac.compare_digest(given, self.expected)
        if scope["type"] == "http" and not allowed:
            refusal = ApiError(
                401,
                "incorrect API key; send Authorization: Bearer KEY",
                "authentication_error",
                code="invalid_api_key",
            )
            await _error_response(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    brain: Brain, api_key: str | None = None, cors_origins: tuple[str, ...] = (),
    allow_fetch: bool = False,
) -> FastAPI:  # fmt: skip
    """The HTTP application serving a started brain.

    Args:
        brain: A started `Brain` (its regions loaded).
        api_key: When given, every request must carry ``Authorization: Bearer <api_key>``.
        cors_origins: Web origins whose pages may call the API (``*`` for any); none: no CORS.
        allow_fetch: Whether a picture may be given by an http(s) URL for the server to fetch.
    """
    app = FastAPI(title="Cortex", docs_url=None, redoc_url=None, openapi_url=None)
    models = served_models(brain)
    media = Path(tempfile.mkdtemp(prefix="cortex-serve-"))
    if api_key is not None:
        app.add_middleware(BearerKey, key=api_key)
    if cors_origins:  # outermost: a preflight is answered before any key is asked for
        app.add_middleware(
            CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["*"],
            allow_headers=["*"],
        )  # fmt: skip

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return _error_response(error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return _error_response(ApiError(error.status_code, f"{request.url.path}: {error.detail}"))

    _add_status_routes(app, brain, models)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        chat = parse_request(await _json(request))
        if chat.model not in models:
            raise _unknown_model(chat.model, models)
        conversation = read_conversation(chat, media, allow_fetch)
        try:
            check_model(chat, conversation)
        except ApiError:
            Reply(asyncio.get_running_loop(), files=conversation.files).finished()
            raise
        reply = Reply(asyncio.get_running_loop(), chat.n, files=conversation.files)
        start(brain, chat, conversation, reply)
        if not chat.stream:
            return await whole(request, chat, reply)
        first = await opened(request, chat, reply)
        return StreamingResponse(streamed(chat, reply, first), media_type="text/event-stream")

    add_audio_routes(app, brain, media)
    return app


def _add_status_routes(app: FastAPI, brain: Brain, models: list[str]) -> None:
    """``GET /health``, ``GET /v1/models`` and ``GET /v1/models/{id}``."""

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
        return {"object": "list", "data": [_model_entry(m) for m in models]}

    @app.get("/v1/models/{model_id}")
    async def get_model(model_id: str) -> dict[str, Any]:
        if model_id not in models:
            raise _unknown_model(model_id, models)
        return _model_entry(model_id)


def _model_entry(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 0, "owned_by": "cortex"}


def _unknown_model(model: str, models: list[str]) -> ApiError:
    return ApiError(
        404,
        f"the model {model!r} does not exist; these do: {', '.join(models)}",
        param="model",
        code="model_not_found",
    )


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from None


@contextlib.contextmanager
def running_server(
    brain: Brain, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> Iterator[str]:
    """Serves `brain` from a background thread; yields the base URL (``http://HOST:PORT``,
    the port the system gave when `port` is 0) and stops serving on exit. `options` go to
    `create_app` (``api_key``, ``cors_origins``, ``allow_fetch``)."""
    server = uvicorn.Server(_uvicorn_config(create_app(brain, **options), host, port))
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


def serve(brain: Brain, host: str, port: int, **options: Any) -> None:
    """Serves `brain` until the process is interrupted (Ctrl-C, SIGTERM); `options` go to
    `create_app`."""
    uvicorn.Server(_uvicorn_config(create_app(brain, **options), host, port)).run()


def _uvicorn_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5
    )
