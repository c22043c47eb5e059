"""The OpenAI Chat Completions responses, as `cortex serve` writes them.

A request's choices end as `Choice`s (text, finish reason, tool calls, usage, notes); this
module builds a whole ``chat.completion`` from them, the ``chat.completion.chunk``s of a
stream, and the ``cortex`` extension: a turn's plan and region streams for clients that ask
with ``"cortex_events": true`` (plain clients never see it). Requests are read in
`cortex.serve.fields` and `cortex.serve.messages`; errors are `cortex.serve.errors.ApiError`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from bus.errors import BusError
from bus.protocol import Event, Subtask, SubtaskResult, Token, TokenLogprob
from bus.tokenbus import Delivery
from bus.topics import as_topic
from cortex.errors import CortexError, TurnCancelled
from cortex.serve.errors import ApiError
from cortex.turns.records import TurnRecord
from modules.errors import BadRequestError, ContextLengthError, RegionError


@dataclass
class Choice:
    """One choice of a completion, once it is decoded."""

    text: str
    finish_reason: str = "stop"
    """``stop``, ``length`` or ``tool_calls``."""
    usage: dict[str, int] = field(default_factory=dict)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What Cortex changed to answer (history left out to fit the context)."""
    logprobs: list[dict[str, Any]] | None = None
    """Each token's `logprob_entry`, where the client asked for log-probabilities."""
    summary: dict[str, Any] | None = None
    """The turn's plan and streams, for ``cortex_events``."""


def as_api_error(error: BaseException) -> ApiError:
    """The error object a failed turn or region call becomes."""
    if isinstance(error, ContextLengthError):
        return ApiError(400, str(error), param="messages", code="context_length_exceeded")
    if isinstance(error, BadRequestError):
        return ApiError(400, str(error), param="messages")
    if isinstance(error, TurnCancelled):
        return ApiError(499, "the client went away", code="cancelled")
    if isinstance(error, (CortexError, RegionError, BusError)):
        return ApiError(500, str(error), "server_error")
    return ApiError(500, f"{type(error).__name__}: {error}", "server_error")


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def tool_call(name: str, arguments: str, index: int | None = None) -> dict[str, Any]:
    """One ``tool_calls`` entry; `index` is set in stream deltas."""
    call: dict[str, Any] = {
        "id": f"call_{uuid.uuid4().hex[:24]}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }
    return call if index is None else {"index": index, **call}


def logprob_entry(logprob: TokenLogprob) -> dict[str, Any]:
    """One token of a choice's ``logprobs.content``: its text, bytes and log-probability, and
    the likeliest tokens at its place (``top_logprobs``, empty unless asked for)."""

    def described(token: str, value: float) -> dict[str, Any]:
        return {"token": token, "logprob": value, "bytes": list(token.encode("utf-8"))}

    top = [described(token, value) for token, value in logprob.top]
    return described(logprob.token, logprob.logprob) | {"top_logprobs": top}


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def total_usage(choices: list[Choice]) -> dict[str, int]:
    """The usage of a completion: every choice's tokens together."""
    prompt = sum(c.usage.get("prompt_tokens", 0) for c in choices)
    return usage(prompt, sum(c.usage.get("completion_tokens", 0) for c in choices))


def turn_usage(record: TurnRecord) -> dict[str, int]:
    """Tokens the delegates read and wrote for a turn's answer (the planner's excluded)."""
    delegates = [s for s in record.streams if s.region != "planning"]
    return usage(sum(s.prompt_tokens for s in delegates), sum(s.tokens for s in delegates))


def chunk(
    ident: str, model: str, index: int, delta: dict[str, Any], finish: str | None = None,
    logprobs: list[dict[str, Any]] | None = None, **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    """One ``chat.completion.chunk`` of choice `index`, with the `logprob_entry` of each
    token it holds where asked; `extra` adds top-level fields."""
    content = None if logprobs is None else {"content": logprobs}
    choice = {"index": index, "delta": delta, "finish_reason": finish, "logprobs": content}
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        **extra,
    }


def usage_chunk(ident: str, model: str, tokens: dict[str, int]) -> dict[str, Any]:
    """The last chunk of a stream whose client asked ``stream_options.include_usage``."""
    return chunk(ident, model, 0, {}) | {"choices": [], "usage": tokens}


def completion(ident: str, model: str, choices: list[Choice], **extra: Any) -> dict[str, Any]:
    """A whole ``chat.completion``; notes, where any, under ``cortex_notes``."""
    notes = [note for choice in choices for note in choice.notes]
    return {
        "id": ident,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": index,
                "message": {
                    "role": "assistant",
                    "content": choice.text if choice.text or not choice.tool_calls else None,
                    **({"tool_calls": choice.tool_calls} if choice.tool_calls else {}),
                },
                "finish_reason": choice.finish_reason,
                "logprobs": None if choice.logprobs is None else {"content": choice.logprobs},
            }
            for index, choice in enumerate(choices)
        ],
        "usage": total_usage(choices),
        **({"cortex_notes": notes} if notes else {}),
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
        fields = message.model_dump(mode="json", include={"region", "instruction", "depends_on"})
        return {"type": "plan", "id": message.subtask_id, **fields}
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
        fields = message.model_dump(include={"replica", "device", "ok", "tokens", "error"})
        return {"type": "result", "id": message.subtask_id, "stream": message.stream_id, **fields}
    if isinstance(message, Event):
        return {"type": "event", **message.model_dump(include={"code", "source", "detail"})}
    return None
