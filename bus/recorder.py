"""The session log: every frame a subscription delivers, appended to a file, and read back.

A log is a sequence of records, each a 4-byte big-endian length followed by that many bytes
of msgpack ``[topic, received, payload]`` (payload is the frame exactly as it travelled).
Each record is flushed as it is written, so a crash loses at most the record being written;
the reader detects such a truncated tail, warns, and stops there.
"""

from __future__ import annotations

import logging
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from bus.codec import decode, pack_record, unpack_record
from bus.errors import BusDecodeError
from bus.resource import Resource
from bus.tokenbus import Delivery, Subscription, TokenBus
from bus.topics import Pattern, Topic

log = logging.getLogger("cortex.bus")

_LENGTH = struct.Struct(">I")
_POLL_S = 0.1


class Recorder(Resource):
    """Appends deliveries to a session log file.

    Args:
        path: The log file; created (with its folder) if missing, appended to if present.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = self.path.open("ab")
        self.written = 0

    def write(self, delivery: Delivery) -> None:
        """Appends one delivery and flushes it to the operating system."""
        record = pack_record([delivery.topic, delivery.received, delivery.payload])
        self._file.write(_LENGTH.pack(len(record)) + record)
        self._file.flush()
        self.written += 1

    def close(self) -> None:
        self._file.close()


class Recording:
    """A background thread that records everything a subscription delivers until stopped."""

    def __init__(self, subscription: Subscription, recorder: Recorder) -> None:
        self.subscription = subscription
        self.recorder = recorder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bus-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Records what has already arrived, then closes the subscription and the file."""
        self._stop.set()
        self._thread.join()
        self.subscription.close()
        self.recorder.close()

    def _run(self) -> None:
        while True:
            delivery = self.subscription.recv(timeout=0 if self._stop.is_set() else _POLL_S)
            if delivery is not None:
                self.recorder.write(delivery)
            elif self._stop.is_set():
                return


def record(bus: TokenBus, path: str | Path, *patterns: Pattern | Topic | str) -> Recording:
    """Starts recording every frame on `patterns` (default: all topics) into `path`."""
    subscription = bus.subscribe(*(patterns or ("*",)))
    return Recording(subscription, Recorder(path))


def read_log(path: str | Path) -> Iterator[Delivery]:
    """Yields a session log's deliveries in the order they were recorded.

    A truncated last record is reported with a warning and ends the log; a record whose
    payload no longer decodes is reported and skipped.
    """
    with Path(path).open("rb") as file:
        index = 0
        while header := file.read(_LENGTH.size):
            index += 1
            size = _LENGTH.unpack(header)[0] if len(header) == _LENGTH.size else None
            body = file.read(size) if size is not None else b""
            if size is None or len(body) < size:
                log.warning(
                    "%s: record %d is truncated (a crash while writing?); stopped there",
                    path,
                    index,
                )
                return
            try:
                yield _delivery(body)
            except BusDecodeError as error:
                log.warning("%s: record %d skipped: %s", path, index, error)


def _delivery(body: bytes) -> Delivery:
    record = unpack_record(body)
    if (
        not isinstance(record, list)
        or len(record) != 3
        or not isinstance(record[0], str)
        or not isinstance(record[1], float)
        or not isinstance(record[2], bytes)
    ):
        raise BusDecodeError("not_a_message", "a log record must be [topic, received, payload]")
    topic, received, payload = record
    return Delivery(topic, decode(payload), received, payload)
