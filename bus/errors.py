"""Errors raised by the token bus.

Every failure a caller can act on has its own class; all derive from `BusError`.
"""

from __future__ import annotations

from typing import Literal

DecodeFailure = Literal["too_large", "not_msgpack", "not_a_message", "newer_schema", "invalid"]


class BusError(Exception):
    """Base class of every token bus error."""


class TopicError(BusError, ValueError):
    """A topic name or subscription pattern is malformed."""


class BusEncodeError(BusError):
    """A message cannot be put on the bus (for instance, it is over the frame size limit)."""


class BusDecodeError(BusError):
    """A frame taken off the bus is not a valid message.

    Attributes:
        reason: Which check failed: ``too_large``, ``not_msgpack``, ``not_a_message``,
            ``newer_schema`` or ``invalid``.
    """

    def __init__(self, reason: DecodeFailure, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: DecodeFailure = reason
        self.detail = detail


class BusClosedError(BusError):
    """The bus or subscription was used after `close()`."""


class BusConnectError(BusError):
    """The bus proxy could not be reached, or a subscription did not become live in time."""
