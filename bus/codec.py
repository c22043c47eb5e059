"""Turns messages into bus frames and back: the only place msgpack is called.

A payload is the msgpack encoding of one message's fields. Decoding trusts nothing: any
byte string either yields a validated `Message` or raises `BusDecodeError` saying why.
Nothing here ever unpickles or imports a class named by a payload.
"""

from __future__ import annotations

from typing import Any

import msgpack
from pydantic import BaseModel, ValidationError

from bus.errors import BusDecodeError, BusEncodeError
from bus.protocol import MESSAGE_ADAPTER, SCHEMA_VERSION, BusMessage, Message

DEFAULT_MAX_FRAME_BYTES = 1 << 20

# The union's compiled validator, called directly: TypeAdapter.validate_python adds a
# Python-level wrapper that costs a third of the validation time on the hot path.
_validate_message = MESSAGE_ADAPTER.validator.validate_python

_UNPACK_ERRORS = (
    msgpack.exceptions.UnpackException,
    msgpack.exceptions.ExtraData,
    msgpack.exceptions.FormatError,
    msgpack.exceptions.StackError,
    ValueError,
    TypeError,
    RecursionError,
)


def encode(message: BusMessage, max_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> bytes:
    """Encodes one message as a frame payload.

    Messages are nearly flat (every field a plain value, tuple or dict of plain values, or a
    small frozen model of them, packed as its field dict), so their field dict is packed as it
    is, without `model_dump`'s per-field walk.

    Raises:
        BusEncodeError: The message is larger than `max_bytes` or holds an unpackable value.
    """
    try:
        payload: bytes = msgpack.packb(message.__dict__, use_bin_type=True, default=_fields)
    except (TypeError, ValueError) as error:
        raise BusEncodeError(f"{type(message).__name__} cannot be packed: {error}") from None
    if len(payload) > max_bytes:
        raise BusEncodeError(
            f"{type(message).__name__} encodes to {len(payload)} bytes, over the bus frame limit "
            f"of {max_bytes}; send bulk data as a file path, or raise max_frame_bytes"
        )
    return payload


def _fields(value: object) -> dict[str, object]:
    """A nested model's field dict (`Subtask.decoding`); anything else cannot be packed."""
    if isinstance(value, BaseModel):
        return value.__dict__
    raise TypeError(f"can not serialize {type(value).__name__!r} object")


def decode(payload: bytes, max_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> Message:
    """Decodes and validates one frame payload.

    Raises:
        BusDecodeError: The payload is too large, not msgpack, not a message, of a newer
            schema version than this program understands, or fails validation.
    """
    if len(payload) > max_bytes:
        raise BusDecodeError("too_large", f"{len(payload)} bytes, over the limit of {max_bytes}")
    try:
        fields = msgpack.unpackb(payload)  # raw=False and strict_map_key=True are the defaults
    except _UNPACK_ERRORS as error:
        raise BusDecodeError("not_msgpack", f"message is not valid msgpack ({error})") from None
    if type(fields) is not dict:
        raise BusDecodeError("not_a_message", f"payload is a {type(fields).__name__}, not a map")
    version = fields.get("schema_version")
    if type(version) is int and version > SCHEMA_VERSION:
        raise BusDecodeError(
            "newer_schema",
            f"schema_version {version} is newer than {SCHEMA_VERSION}; upgrade cortex-bus",
        )
    try:
        message: Message = _validate_message(fields)
    except ValidationError as error:
        summary = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '<message>'}: {e['msg']}" for e in error.errors()[:3]
        )
        raise BusDecodeError("invalid", summary) from None
    except RecursionError:
        raise BusDecodeError("invalid", "payload nests too deeply") from None
    return message


def pack_record(record: list[Any]) -> bytes:
    """Packs one session-log record (plain lists, strings, numbers and bytes)."""
    packed: bytes = msgpack.packb(record, use_bin_type=True)
    return packed


def unpack_record(data: bytes) -> Any:
    """Unpacks one session-log record packed by `pack_record`.

    Raises:
        BusDecodeError: The bytes are not one msgpack value.
    """
    try:
        return msgpack.unpackb(data)
    except _UNPACK_ERRORS as error:
        raise BusDecodeError("not_msgpack", f"log record is not valid msgpack ({error})") from None
