"""Every field of a chat completion request: honoured, or refused with a 400 that names it.

`ChatRequest` is what `cortex serve` reads from a body. A field Cortex does not act on is never
accepted silently: `REFUSED` says why each known one is refused and what to use instead, and
any other unknown field is refused by name. `decoding` turns the honoured sampling, stop,
structured-output and tool fields into the `Decoding` every region reads.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bus.protocol import MAX_TOP_LOGPROBS, Decoding
from cortex.serve.errors import ApiError
from modules.engines.sampling import SEED_LIMIT

MAX_CHOICES = 8
REFUSED = {
    "logit_bias": "logit_bias is not supported; use stop, response_format or tools instead",
    "functions": "functions is deprecated; send tools instead",
    "function_call": "function_call is deprecated; send tool_choice instead",
    "audio": "spoken answers come from POST /v1/audio/speech",
    "modalities": "answers are text; spoken answers come from POST /v1/audio/speech",
    "prediction": "predicted outputs are not supported",
    "reasoning_effort": "the models Cortex serves do not reason in a separate channel",
    "verbosity": "verbosity is not supported; say how long an answer should be in the message",
    "web_search_options": "Cortex does not search the web",
    "store": "Cortex does not store completions (the session log keeps each turn)",
    "metadata": "metadata is only kept with stored completions, which Cortex does not offer",
    "service_tier": "Cortex has one service tier",
    "user": "user is not recorded by Cortex; leave it out",
    "safety_identifier": "safety_identifier is not recorded by Cortex; leave it out",
    "prompt_cache_key": "Cortex's prompt cache needs no key (each replica keeps its own)",
}
"""Known OpenAI fields Cortex does not act on, with what to do instead. Each is refused when
it carries a value (null, false and an empty list or object are taken as absent)."""


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_usage: bool = False


class ChatMessage(BaseModel):
    """One message; ``name`` and an assistant's ``tool_calls`` or a tool's ``tool_call_id``
    are read, other keys are kept as sent."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class ChatRequest(BaseModel):
    """A ``POST /v1/chat/completions`` body, every field checked (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=MAX_CHOICES)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    seed: int | None = Field(None, ge=0, lt=SEED_LIMIT)
    stop: str | list[str] | None = None
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    response_format: ResponseFormat | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    cortex_events: bool = False
    """Cortex's extension: add the turn's plan and region streams under ``cortex``."""

    @field_validator("stop")
    @classmethod
    def _four_stops(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and (len(stop) > 4 or not all(stop)):
            raise ValueError("give at most 4 stop strings, none empty")
        return stop

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


def parse_request(data: Any) -> ChatRequest:
    """Validates a decoded JSON body; refuses fields Cortex does not act on.

    Raises:
        ApiError: 400, naming the first field at fault.
    """
    if isinstance(data, dict):
        for name, value in data.items():
            if name in REFUSED and value not in (None, False, [], {}):
                raise ApiError(400, f"{name}: {REFUSED[name]}", param=name, code="unsupported")
        data = {k: v for k, v in data.items() if k not in REFUSED}
    try:
        chat = ChatRequest.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        param = ".".join(str(part) for part in problem["loc"]) or None
        if problem["type"] == "extra_forbidden":
            raise ApiError(
                400, f"{param}: Cortex does not know this field; leave it out", param=param,
                code="unsupported",
            ) from None  # fmt: skip
        raise ApiError(400, f"{param or 'body'}: {problem['msg']}", param=param) from None
    if chat.stream_options is not None and not chat.stream:
        raise ApiError(400, "stream_options: only for streamed requests", param="stream_options")
    if chat.top_logprobs is not None and not chat.logprobs:
        raise ApiError(400, "top_logprobs: set logprobs to true as well", param="top_logprobs")
    return chat


def decoding(chat: ChatRequest, choice: int = 0, base_seed: int = 0) -> Decoding:
    """What the request asks of every region's decoding, for its `choice`-th choice: with
    several choices each gets its own seed (the request's, else `base_seed`, plus `choice`)."""
    seed = chat.seed
    if chat.n > 1:
        seed = ((base_seed if seed is None else seed) + choice) % SEED_LIMIT
    stop = [chat.stop] if isinstance(chat.stop, str) else list(chat.stop or [])
    tools = tuple(_tool(tool, i) for i, tool in enumerate(chat.tools or []))
    return Decoding(
        temperature=chat.temperature,
        top_p=chat.top_p,
        seed=seed,
        max_tokens=chat.token_limit,
        stop=tuple(stop),
        frequency_penalty=chat.frequency_penalty,
        presence_penalty=chat.presence_penalty,
        json_schema=_schema(chat.response_format),
        tools=tools,
        tool_choice=_tool_choice(chat.tool_choice, tools),
        logprobs=(chat.top_logprobs or 0) if chat.logprobs else None,
    )


def _schema(response_format: ResponseFormat | None) -> dict[str, Any] | None:
    if response_format is None or response_format.type == "text":
        return None
    if response_format.type == "json_object":
        return {"type": "object"}
    given = response_format.json_schema or {}
    schema = given.get("schema")
    if not isinstance(schema, dict):
        param = "response_format.json_schema.schema"
        raise ApiError(400, f"{param}: give the JSON schema the answer must follow", param=param)
    return schema


def _tool(tool: dict[str, Any], index: int) -> dict[str, Any]:
    """One of `tools` as regions read it: name, description, parameters."""
    function = tool.get("function")
    param = f"tools.{index}"
    if tool.get("type") != "function" or not isinstance(function, dict):
        raise ApiError(
            400, f'{param}: a tool is {{"type": "function", "function": {{...}}}}', param=param
        )
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(
            400, f"{param}.function.name: name the function", param=f"{param}.function.name"
        )
    schema = function.get("parameters") or {"type": "object"}
    if not isinstance(schema, dict):
        raise ApiError(
            400, f"{param}.function.parameters: a JSON schema", param=f"{param}.function.parameters"
        )
    return {
        "name": name,
        "description": str(function.get("description") or ""),
        "parameters": schema,
    }


def _tool_choice(choice: str | dict[str, Any] | None, tools: tuple[dict[str, Any], ...]) -> str:
    """The choice as regions read it: auto, required, none, or a tool's name."""
    names = [tool["name"] for tool in tools]
    if choice is None:
        return "auto" if tools else "none"
    if isinstance(choice, dict):
        function = choice.get("function")
        choice = function.get("name") if isinstance(function, dict) else None
        if choice not in names:
            raise ApiError(
                400,
                f"tool_choice: name one of the tools ({', '.join(names) or 'none given'})",
                param="tool_choice",
            )
        return str(choice)
    if choice not in ("auto", "required", "none"):
        raise ApiError(400, "tool_choice: auto, required, none or a function", param="tool_choice")
    if choice != "none" and not tools:
        raise ApiError(400, f"tool_choice: {choice!r} needs tools", param="tool_choice")
    return choice
