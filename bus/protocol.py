"""The messages that travel on the token bus.

Every message is a frozen pydantic model with a `kind` tag and a `schema_version`; the
`Message` union decodes any of them. Bulk data (images, audio) never rides the bus: a message
names a file path instead.
"""

from __future__ import annotations

import time
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    NonNegativeInt,
    PositiveInt,
    TypeAdapter,
)

from bus.streams import StreamId

SCHEMA_VERSION = 1

JsonScalar = str | int | float | bool | None

EventCode = Literal[
    "gap",
    "reordered",
    "malformed",
    "probe",
    "region_died",
    "region_lost",
    "region_restarted",
    "subtask_failed",
    "plan_repair",
    "remark",
    "spoken",
    "cancel",
    "draft_refused",
]
"""What an `Event` reports. The bus itself: a ``gap`` or a ``reordered`` token in a stream, a
``malformed`` frame, a subscription's ``probe``. The supervisor: a region process that
``region_died``, was ``region_restarted`` or ``region_lost`` for good. A region: a
``subtask_failed``, the planner's ``plan_repair``, a watcher's ``remark``, the answer
``spoken``. A driver: ``cancel`` (on a region's inbox: stop every subtask of the turn named in
``data["turn_id"]``; on a draft region's draft topic: stop drafting ``data["stream_id"]``). A
draft region: ``draft_refused`` (it cannot draft for that target: another tokenizer)."""
PART_ID = r"^[^/]+$"
"""Turn and subtask ids: non-empty, without '/', as they are parts of a `StreamId`."""


def now() -> float:
    """Wall-clock time in Unix seconds, the timestamp every message carries."""
    return time.time()


class BusMessage(BaseModel):
    """Fields shared by every message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Annotated[int, Field(ge=1)] = SCHEMA_VERSION
    ts: float = Field(default_factory=now, description="Publisher's Unix time at creation.")


class UserTurn(BusMessage):
    """What the user said in one conversation turn, with optional media files."""

    kind: Literal["user_turn"] = "user_turn"
    turn_id: str = Field(pattern=PART_ID)
    text: str
    image_path: str | None = None
    audio_path: str | None = None


class Decoding(BaseModel):
    """What a client asked of a subtask's decoding, over the region's configured settings;
    None everywhere (the default) leaves those settings as they are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float | None = Field(default=None, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: NonNegativeInt | None = None
    max_tokens: PositiveInt | None = Field(
        default=None, description="A hard cap on every token written, the answer's opening too."
    )
    stop: tuple[str, ...] = ()
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    json_schema: dict[str, JsonValue] | None = Field(
        default=None, description="The answer is JSON valid under this schema (guided decoding)."
    )
    tools: tuple[dict[str, JsonValue], ...] = Field(
        default=(), description="Functions the answer may call: name, description, parameters."
    )
    tool_choice: str = Field(
        default="auto", description="auto, required, none, or the name of the tool to call."
    )


class Subtask(BusMessage):
    """One piece of work for a region, usually one line of a plan."""

    kind: Literal["subtask"] = "subtask"
    turn_id: str = Field(pattern=PART_ID)
    subtask_id: str = Field(pattern=PART_ID)
    region: str = Field(min_length=1, description="The kind of region that should do it.")
    mode: Literal["answer", "plan"] = "answer"
    instruction: str
    context: str = Field(
        default="", description="What the request says around this part, shared by every part."
    )
    depends_on: tuple[str, ...] = ()
    inputs: dict[str, str] = Field(
        default_factory=dict, description="Notes from other kinds of regions, by subtask id."
    )
    earlier: tuple[tuple[str, str], ...] = Field(
        default=(),
        description="(instruction, answer) of the steps this one works on, read as the chat "
        "before it.",
    )
    heading: str = Field(default="", description="A heading the answer shows above this part.")
    system: str = Field(default="", description="A system prompt in place of the region's own.")
    decoding: Decoding = Decoding()
    max_new_tokens: NonNegativeInt | None = None
    parts: PositiveInt = Field(
        default=1, description="How many parts the turn's answer has; this is one of them."
    )
    avoid: str = Field(
        default="", description="What other parts of the answer say, not to be said again."
    )
    image_path: str | None = Field(default=None, description="An image to look at (vision).")
    audio_path: str | None = Field(default=None, description="A recording to transcribe (speech).")
    output_path: str | None = Field(default=None, description="Where to write produced media.")
    speak_stream: str | None = Field(
        default=None, description="A topic whose token stream to speak, sentence by sentence."
    )
    attempt: NonNegativeInt = Field(
        default=0, description="0 the first time; 1 when retried after its region died."
    )

    @property
    def stream_id(self) -> str:
        """The id of the token stream this subtask's output travels as."""
        return str(StreamId(self.turn_id, self.subtask_id, self.attempt))


class Token(BusMessage):
    """One decoded token of a stream; `seq` counts from 0 within the stream.

    A stream ends with a token whose `final` is true; when the end is only known after the
    last real token, that closing token is an empty marker with `token_id` -1.
    """

    END_MARKER_ID: ClassVar[int] = -1

    kind: Literal["token"] = "token"
    stream_id: str = Field(min_length=1)
    seq: NonNegativeInt
    token_id: int
    text: str
    final: bool = False


class SubtaskResult(BusMessage):
    """The outcome of one subtask, published after its last token."""

    kind: Literal["subtask_result"] = "subtask_result"
    turn_id: str = Field(pattern=PART_ID)
    subtask_id: str = Field(pattern=PART_ID)
    stream_id: str = Field(min_length=1)
    region: str
    replica: str
    device: str
    ok: bool
    text: str
    error: str | None = None
    tokens: NonNegativeInt = 0
    started: float
    finished: float
    data: dict[str, JsonValue] = Field(
        default_factory=dict, description="Structured output (labels, a transcript, a file)."
    )


class Event(BusMessage):
    """Something worth reporting: a status change, a heartbeat, a gap, a bad frame, an error."""

    kind: Literal["event"] = "event"
    level: Literal["debug", "info", "warning", "error"] = "info"
    code: EventCode
    source: str = Field(description="Who reports it: a region, a subscription, the proxy.")
    detail: str = ""
    data: dict[str, JsonScalar] = Field(default_factory=dict)


class Activation(BusMessage):
    """A tensor passed between two stages of a layer-split model, raw in `data`.

    A stage's input is the hidden state of every new position (the prompt's at the prefill,
    one per decoded token after), or for the first stage the token ids themselves.
    """

    kind: Literal["activation"] = "activation"
    stream_id: str = Field(min_length=1)
    seq: NonNegativeInt = Field(description="The step: 0 is the prefill, then one per token.")
    position: NonNegativeInt = Field(description="Index of the first position it covers.")
    dtype: Literal["float32", "float16", "bfloat16", "int64"]
    shape: tuple[NonNegativeInt, ...]
    data: bytes


class DraftRequest(BusMessage):
    """A target region asks a draft region to propose the tokens that continue one stream.

    Sent when the stream starts (`epoch` 0) and again, with the next epoch, whenever the
    target's tokens part from what the draft proposed: the draft then drops what it drafted
    after `accepted` and goes on from there. Token ids are the target's (both share one
    tokenizer, which `tokenizer` names).
    """

    kind: Literal["draft_request"] = "draft_request"
    stream_id: str = Field(min_length=1)
    epoch: NonNegativeInt
    prompt: tuple[int, ...] = Field(min_length=1)
    accepted: tuple[int, ...] = Field(
        default=(), description="The target's output so far: drafting continues after it."
    )
    history: tuple[int, ...] = Field(
        default=(), description="Tokens the repetition rules count before the output."
    )
    max_new_tokens: PositiveInt
    repetition_penalty: float = Field(gt=0)
    no_repeat_ngram: NonNegativeInt
    reply_to: str = Field(min_length=1, description="The topic proposals go to.")
    tokenizer: str = Field(description="The target's tokenizer fingerprint.")


class Proposal(BusMessage):
    """Draft tokens for a target's stream: the draft's guess at the output from `position`."""

    kind: Literal["proposal"] = "proposal"
    stream_id: str = Field(min_length=1)
    epoch: NonNegativeInt = Field(description="The `DraftRequest` they follow.")
    position: NonNegativeInt = Field(description="Index in the output of the first token.")
    token_ids: tuple[int, ...]
    final: bool = Field(default=False, description="The draft ended this epoch here.")
    draft: str = Field(min_length=1, description="The draft region instance.")
    started: float = Field(description="When the draft began decoding this epoch.")


Message = Annotated[
    UserTurn | Subtask | Token | SubtaskResult | Event | Activation | DraftRequest | Proposal,
    Field(discriminator="kind"),
]
MESSAGE_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)
