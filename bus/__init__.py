"""The token bus: messages, codec, topics, transports, recorder and benchmark.

`bus` knows nothing of regions, placement or the TUI, and imports nothing else of Cortex.
"""

from bus.codec import DEFAULT_MAX_FRAME_BYTES, decode, encode
from bus.errors import (
    BusClosedError,
    BusConnectError,
    BusDecodeError,
    BusEncodeError,
    BusError,
    TopicError,
)
from bus.inprocess import InProcessBus
from bus.protocol import (
    SCHEMA_VERSION,
    Event,
    Message,
    Subtask,
    SubtaskResult,
    Token,
    UserTurn,
)
from bus.recorder import Recorder, read_log, record
from bus.tokenbus import Delivery, Subscription, SubscriptionStats, TokenBus
from bus.topics import Pattern, Topic
from bus.zmq_bus import BusEndpoints, ZmqTokenBus

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "SCHEMA_VERSION",
    "BusClosedError",
    "BusConnectError",
    "BusDecodeError",
    "BusEncodeError",
    "BusEndpoints",
    "BusError",
    "Delivery",
    "Event",
    "InProcessBus",
    "Message",
    "Pattern",
    "Recorder",
    "Subscription",
    "SubscriptionStats",
    "Subtask",
    "SubtaskResult",
    "Token",
    "Topic",
    "TokenBus",
    "TopicError",
    "UserTurn",
    "ZmqTokenBus",
    "decode",
    "encode",
    "read_log",
    "record",
]
