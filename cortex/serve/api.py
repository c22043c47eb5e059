"""The OpenAI Chat Completions wire format, as `cortex serve` reads and writes it.

Requests are validated here (`ChatRequest`, `conversation`); responses are built here: a
whole `completion`, the `chunk`s of a stream, and error objects (`ApiError`) shaped as
OpenAI's: ``{"error": {"message", "type", "param", "code"}}``. The extension field
``cortex`` carries a turn's plan and region streams to clients that ask for them with
``"cortex_events": true``; plain clients never see it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bus.protocol import Event, Subtask, SubtaskResult, Token
from bus.tokenbus import Delivery
from bus.topics import as_topic
from cortex.turns.records import TurnRecord

ErrorType = Literal["invalid_request_error", "authentication_error", "server_error"]


class ApiError(Exception):
    """A request the server refuses or could not answer, as an OpenAI error object.

    Args:
        status: The HTTP status (400, 401, 404, 500...).
        message: What went wrong and what to do, for the client's user.
        kind: OpenAI's error ``type``.
        param: The request field at fault, if one is.
        code: A machine-readable code (``invalid_api_key``, ``context_length_exceeded``...).
    """

    def __init__(
        self,
        status: int,
        message: str,
        kind: ErrorType = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": kind, "param": param, "code": code}}


class ChatMessage(BaseModel):
    """One message of a request; fields OpenAI defines that Cortex does not use are kept."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """A ``POST /v1/chat/completions`` body. Sampling fields (temperature, top_p...) are
    accepted and ignored: each region decodes with its configured settings."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    cortex_events: bool = False
    """Cortex's extension: add the turn's plan and region streams under ``cortex``."""

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


def parse_request(data: Any) -> ChatRequest:
    """Validates a decoded JSON body.

    Raises:
        ApiError: 400, naming the first field at fault.
    """
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        param = ".".join(str(part) for part in problem["loc"]) or None
        raise ApiError(400, f"{param or 'body'}: {problem['msg']}", param=param) from None


def text_of(message: ChatMessage, index: int) -> str:
    """A message's text: its string, or its ``text`` parts joined.

    Raises:
        ApiError: 400 for a part that is not text (images and audio travel as files, not here).
    """
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    texts = []
    for part in message.content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            param = f"messages.{index}.content"
            kind = part.get("type")
            raise ApiError(
                400, f"{param}: only text parts are supported, not {kind!r}", param=param
            )
        texts.append(part["text"])
    return "".join(texts)


def conversation(request: ChatRequest) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last user message) and the earlier (question, answer) pairs.
    System and developer messages are left out: each region has its own instructions.

    Raises:
        ApiError: 400 when the last message is not the user's or its text is empty.
    """
    texts = [(m.role, text_of(m, i)) for i, m in enumerate(request.messages)]
    if texts[-1][0] != "user" or not texts[-1][1].strip():
        raise ApiError(400, "the last message must be the user's, with text", param="messages")
    history, asked = [], None
    for role, text in texts[:-1]:
        if role == "user":
            asked = text
        elif role == "assistant" and asked is not None:
            history.append((asked, text))
            asked = None
    return texts[-1][1], history


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def turn_usage(record: TurnRecord) -> dict[str, int]:
    """Tokens the delegates read and wrote for a turn's answer (the planner's excluded)."""
    delegates = [s for s in record.streams if s.region != "planning"]
    return usage(sum(s.prompt_tokens for s in delegates), sum(s.tokens for s in delegates))


def chunk(
    ident: str,
    model: str,
    delta: dict[str, str],
    finish: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; `extra` adds top-level fields (``usage``, ``cortex``)."""
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        **extra,
    }


def completion(
    ident: str, model: str, text: str, tokens: dict[str, int], **extra: Any
) -> dict[str, Any]:
    """A whole ``chat.completion``."""
    return {
        "id": ident,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": tokens,
        **extra,
    }


def turn_summary(record: TurnRecord) -> dict[str, Any]:
    """The ``cortex`` field of a whole completion: the plan, every stream, the notes."""
    return record.model_dump(include={"plan", "streams", "notes", "wall_s", "first_token_s"})


def turn_event(delivery: Delivery) -> dict[str, Any] | None:
    """A turn's bus message as one ``cortex`` event of a stream, or None for the answer's
    own tokens (they are the chunk's content) and closing markers.

    Events: ``plan`` (a planned step: id, region, instruction, depends_on), ``token`` (a
    region's stream: stream, region, text), ``result`` (a finished stream: id, stream,
    replica, device, ok, tokens, error) and ``event`` (code, source, detail).
    """
    message, topic = delivery.message, as_topic(delivery.topic)
    if isinstance(message, Subtask):
        return {
            "type": "plan",
            "id": message.subtask_id,
            "region": message.region,
            "instruction": message.instruction,
            "depends_on": list(message.depends_on),
        }
    if isinstance(message, Token):
        if topic.region is None or message.token_id == Token.END_MARKER_ID:
            return None
        return {
            "type": "token",
            "stream": message.stream_id,
            "region": topic.region,
            "text": message.text,
        }
    if isinstance(message, SubtaskResult):
        return {
            "type": "result",
            "id": message.subtask_id,
            "stream": message.stream_id,
            "replica": message.replica,
            "device": message.device,
            "ok": message.ok,
            "tokens": message.tokens,
            "error": message.error,
        }
    if isinstance(message, Event):
        return {
            "type": "event",
            "code": message.code,
            "source": message.source,
            "detail": message.detail,
        }
    return None
