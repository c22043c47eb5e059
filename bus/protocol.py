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
    model_validator,
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
    "handoff",
    "draft_refused",
]
"""What an `Event` reports. The bus itself: a ``gap`` or a ``reordered`` token in a stream, a
``malformed`` frame, a subscription's ``probe``. The supervisor: a region process that
``region_died``, was ``region_restarted`` or ``region_lost`` for good. A region: a
``subtask_failed``, the planner's ``plan_repair``, a watcher's ``remark``, the answer
``spoken``, a KV ``handoff`` that did not go as planned (the region prefilled itself). A
driver: ``cancel`` (on a region's inbox: stop every subtask of the turn named in
``data["turn_id"]``; on a draft region's draft topic: stop drafting ``data["stream_id"]``). A
draft region: ``draft_refused`` (it cannot draft for that target: another tokenizer)."""
PART_ID = r"^[^/]+$"
"""Turn and subtask ids: non-empty, without '/', as they are parts of a `StreamId`."""
TRANSFER_ID = r"^[a-z0-9][a-z0-9_-]*$"
"""A KV transfer's id, one segment of its topic ``kv.<transfer_id>``."""
MAX_TOP_LOGPROBS = 20
"""The most alternatives a token's log-probability comes with (OpenAI's limit)."""


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
    logprobs: int | None = Field(
        default=None,
        ge=0,
        le=MAX_TOP_LOGPROBS,
        description="Each token's log-probability, with this many likeliest alternatives.",
    )


class Subtask(BusMessage):
    """One piece of work for a region, usually one line of a plan."""

    kind: Literal["subtask"] = "subtask"
    turn_id: str = Field(pattern=PART_ID)
    subtask_id: str = Field(pattern=PART_ID)
    region: str = Field(min_length=1, description="The kind of region that should do it.")
    mode: Literal["answer", "plan", "prefill"] = Field(
        default="answer",
        description="answer: decode a reply; plan: make a plan; prefill: only prefill the "
        "reply's prompt and keep its KV state (`kv_export`) for the replica that decodes it.",
    )
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
    kv_export: str = Field(
        default="",
        description="Keep the KV state of the prompt's shared start (the system prompt, the "
        "earlier exchanges and the context), or of the whole prompt for mode 'prefill', under "
        "this id, for other replicas to import instead of prefilling it.",
    )
    kv_import: str = Field(
        default="", description="Import the KV state held under this id by `kv_source`."
    )
    kv_source: str = Field(default="", description="The region instance holding `kv_import`.")

    @model_validator(mode="after")
    def _handoff_named(self) -> Subtask:
        if bool(self.kv_import) != bool(self.kv_source):
            raise ValueError("kv_import and kv_source go together: the id and who holds it")
        if self.mode == "prefill" and not self.kv_export:
            raise ValueError("a prefill subtask keeps its KV state: give it a kv_export id")
        return self

    @property
    def stream_id(self) -> str:
        """The id of the token stream this subtask's output travels as."""
        return str(StreamId(self.turn_id, self.subtask_id, self.attempt))


class TokenLogprob(BaseModel):
    """A token's log-probability under the model, and the likeliest tokens at its place."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()
    """(text, log-probability), likeliest first."""


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
    logprob: TokenLogprob | None = None
    """Where the subtask asked for log-probabilities (`Decoding.logprobs`)."""


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


class KvRequest(BusMessage):
    """A receiver asks the holder of a KV state to send it on ``kv.<transfer_id>``."""

    kind: Literal["kv_request"] = "kv_request"
    handoff_id: str = Field(pattern=PART_ID)
    transfer_id: str = Field(pattern=TRANSFER_ID)
    receiver: str = Field(min_length=1)
    window: PositiveInt = Field(description="Chunks the holder may send ahead of the acks.")
    wait_s: float = Field(gt=0, description="How long the holder may wait for the state.")


class KvHeader(BusMessage):
    """What a KV state is, sent before its chunks; `ok` false says why it will not come."""

    kind: Literal["kv_header"] = "kv_header"
    transfer_id: str = Field(pattern=TRANSFER_ID)
    source: str
    ok: bool
    error: str = ""
    engine: str = ""
    model: str = ""
    weights: str = ""
    lineage: str = ""
    layout: str = ""
    tokens: tuple[int, ...] = ()
    total_bytes: NonNegativeInt = 0
    chunks: NonNegativeInt = 0
    sha256: str = ""
    prefill_s: float = 0.0


class KvChunk(BusMessage):
    """One piece of a KV state's bytes, in order from 0, with its own CRC-32."""

    kind: Literal["kv_chunk"] = "kv_chunk"
    transfer_id: str = Field(pattern=TRANSFER_ID)
    seq: NonNegativeInt
    crc32: NonNegativeInt
    data: bytes


class KvAck(BusMessage):
    """The receiver has the first `received` chunks; a non-empty `abort` says it gave up."""

    kind: Literal["kv_ack"] = "kv_ack"
    transfer_id: str = Field(pattern=TRANSFER_ID)
    received: NonNegativeInt
    abort: str = ""


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
    UserTurn
    | Subtask
    | Token
    | SubtaskResult
    | Event
    | Activation
    | DraftRequest
    | Proposal
    | KvRequest
    | KvHeader
    | KvChunk
    | KvAck,
    Field(discriminator="kind"),
]
MESSAGE_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)
