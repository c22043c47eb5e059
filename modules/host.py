"""`RegionHost` runs one region instance: it serves the region's inbox on the bus.

For each `Subtask` on ``region.<name>.in`` it runs the region, publishes every piece as a
`Token` on ``region.<name>.out`` (and on the subtask's extra topics) the moment it is decoded,
closes the stream with a final token, then publishes a `SubtaskResult`. Nothing a subtask
does can stop the host: a failure becomes a failed result and an error `Event`. A ``cancel``
`Event` on the inbox stops every subtask of its turn (or, with a ``stream_id``, that stream's),
running or waiting: each ends after the token it is on, or at once while it waits for its
engine (`Region.interrupt`), with a result whose error is ``cancelled``.
The host is a plain class; `cortex` wraps it in a Ray actor.
"""

from __future__ import annotations

import importlib
import logging
import os
import queue
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bus.protocol import Event, Subtask, SubtaskResult, Token
from bus.tokenbus import Delivery, Subscription, TokenBus
from bus.topics import region_inbox, region_out
from bus.zmq_bus import BusEndpoints, ZmqTokenBus
from modules.activity import Activity
from modules.errors import RegionError, message_of
from modules.region import Region, RegionSettings

_POLL_S = 0.2
CANCELLED_KEPT = 1024
"""How many cancelled turn (or stream) ids a host remembers, to stop subtasks that arrive late."""
CANCELLED = "cancelled"


@dataclass
class RegionStatus:
    """What a region instance is doing, for screens, `cortex status` and the dashboard."""

    name: str
    kind: str
    replica: int
    device: str
    pid: int = field(default_factory=os.getpid)
    state: str = "created"
    """created, loading, idle, decoding, failed or stopped."""
    engine: str = ""
    """What runs the model, for text regions: the engine, why it was picked, its batch size."""
    running: int = 0
    """Subtasks decoding now (several at once where the engine batches)."""
    max_concurrent: int = 1
    subtask: str = ""
    tokens: int = 0
    """Tokens decoded since start."""
    tokens_per_s: float = 0.0
    """Decode rate of the current or last subtask."""
    busy_fraction: float = 0.0
    """Share of the last minute the model was computing."""
    idle_s: float | None = None
    """Seconds since the model last computed (None: not in the last minute)."""
    subtasks_started: int = 0
    subtasks_done: int = 0
    subtasks_failed: int = 0
    subtasks_cancelled: int = 0
    queue_depth: int = 0
    """Subtasks received and waiting for a free slot."""
    load_s: float = 0.0
    prefill_tokens_per_s: float = 0.0
    """The device's measured prefill rate (text regions; 0 where not measured)."""
    decode_tokens_per_s: float = 0.0
    """The device's measured decode rate, one request (text regions)."""
    speeds_probe: str = ""
    """What measured them, and when (``pp256 tg32, 2025-01-01 12:00``)."""
    kv_bytes_per_token: int = 0
    """What one token's KV state weighs in a handoff (0: this region hands none over)."""
    role: str = "any"
    """What the device is for: any, prefill or decode (configured)."""
    rss_mb: float = 0.0
    """Resident memory of the region's process."""
    error: str = ""


def resident_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MiB (Linux; 0 where /proc is missing)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def import_region(path: str) -> type[Region]:
    """Imports a `Region` subclass named ``package.module:Class``.

    Raises:
        RegionError: The path is malformed, cannot be imported, or is not a Region subclass.
    """
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise RegionError(f"region class {path!r} must look like 'package.module:Class'")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise RegionError(f"cannot import region class {path!r}: {error}") from None
    if not (isinstance(found, type) and issubclass(found, Region)):
        raise RegionError(f"{path!r} is not a subclass of modules.region.Region")
    return found


class RegionHost:
    """Hosts one region instance on the bus.

    Args:
        region_class: ``package.module:Class`` of the region.
        settings: The instance's settings.
        endpoints: The bus proxy to connect to; None to use `bus` instead.
        bus: An already connected bus (tests use the in-process one).
    """

    def __init__(
        self,
        region_class: str,
        settings: RegionSettings,
        endpoints: BusEndpoints | None = None,
        bus: TokenBus | None = None,
    ) -> None:
        self.region = import_region(region_class)(settings)
        self.status = RegionStatus(
            settings.name, settings.kind, settings.replica, settings.placement.label()
        )
        self.activity = Activity()
        self._endpoints = endpoints
        self._bus = bus
        self._owns_bus = bus is None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._counting = threading.Lock()
        self._work: queue.Queue[Delivery] = queue.Queue()
        self._cancelled: OrderedDict[str, None] = OrderedDict()
        """Turn ids whose subtasks are to stop, the latest last."""
        self._active: dict[str, Subtask] = {}
        """The subtasks being handled, by stream id."""
        self._out = region_out(settings.name)
        self.log = logging.getLogger(f"cortex.region.{settings.name}")

    def setup(self) -> dict[str, Any]:
        """Connects to the bus, loads the model, and starts serving the inbox."""
        self.status.state = "loading"
        started = time.perf_counter()
        try:
            if self._bus is None:
                assert self._endpoints is not None, "a RegionHost needs endpoints or a bus"
                self._bus = ZmqTokenBus(self._endpoints)
            self.region.bus = self._bus
            self.region.setup()
        except Exception as error:
            self.status.state, self.status.error = "failed", message_of(error)
            raise
        self.status.load_s = round(time.perf_counter() - started, 2)
        self.status.engine = self.region.describe()
        self.status.max_concurrent = self.region.slots
        self._note_speeds(self.region.device_speeds())
        inbox = self._bus.subscribe(region_inbox(self.region.name), *self.region.watches)
        self.status.state = "idle"
        self._threads = [
            threading.Thread(target=self._receive, args=(inbox,), name="inbox", daemon=True),
            *(
                threading.Thread(target=self._serve, name=f"work-{slot}", daemon=True)
                for slot in range(self.region.slots)
            ),
        ]
        for thread in self._threads:
            thread.start()
        engine = f" ({self.status.engine})" if self.status.engine else ""
        self.log.info("ready on %s%s in %.1f s", self.status.device, engine, self.status.load_s)
        return self.info()

    def _note_speeds(self, speeds: dict[str, Any]) -> None:
        status = self.status
        status.role = self.region.settings.role
        status.kv_bytes_per_token = speeds.get("kv_bytes_per_token", 0)
        if "probe" in speeds:
            status.prefill_tokens_per_s = speeds["prefill_tokens_per_s"]
            status.decode_tokens_per_s = speeds["decode_tokens_per_s"]
            cached = ", cached" if speeds["cached"] else ""
            status.speeds_probe = f"{speeds['probe']}, {speeds['measured']}{cached}"

    @property
    def bus(self) -> TokenBus | None:
        """The bus connection, once `setup()` made it."""
        return self._bus

    def info(self) -> dict[str, Any]:
        """The current status as a plain dict."""
        self.status.busy_fraction = round(self.activity.fraction(), 4)
        self.status.idle_s = self.activity.idle_s()
        self.status.rss_mb = resident_mb()
        with self._work.mutex:
            waiting = [d for d in self._work.queue if isinstance(d.message, Subtask)]
        self.status.queue_depth = len(waiting)
        return {**asdict(self.status), **self.region.status_fields()}

    def stop(self) -> None:
        """Stops serving after the current subtask, and closes the bus connection."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self.region.close()  # first: its own subscriptions' threads end before the bus does
        if self._bus is not None and self._owns_bus:
            self._bus.close()
        self.status.state = "stopped"

    def __repr__(self) -> str:
        s = self.status
        return f"Region({s.name}: {s.kind} replica {s.replica} on {s.device}, {s.state})"

    def run(self, subtask: Subtask) -> SubtaskResult:
        """Runs one subtask, publishing its tokens and result; never raises for the subtask."""
        assert self._bus is not None
        with self._counting:
            self.status.running += 1
            self.status.state, self.status.subtask = "decoding", subtask.instruction[:80]
            self.status.subtasks_started += 1
        started = time.time()
        pieces: list[str] = []
        self._active[subtask.stream_id] = subtask
        try:
            error, data = self._decode(subtask, pieces)
        finally:
            self._active.pop(subtask.stream_id, None)
        end = Token(
            stream_id=subtask.stream_id,
            seq=len(pieces),
            token_id=Token.END_MARKER_ID,
            text="",
            final=True,
        )
        self._bus.publish(self._out, end)
        result = SubtaskResult(
            turn_id=subtask.turn_id,
            subtask_id=subtask.subtask_id,
            stream_id=subtask.stream_id,
            region=self.region.kind,
            replica=self.region.name,
            device=self.status.device,
            ok=not error,
            text="".join(pieces),
            error=error or None,
            tokens=len(pieces),
            started=started,
            finished=time.time(),
            data=data,
        )
        self._count_end(error)  # before it is announced: whoever hears it sees the counts
        self._bus.publish(self._out, result)
        return result

    def _decode(self, subtask: Subtask, pieces: list[str]) -> tuple[str, dict[str, Any]]:
        """Publishes the subtask's tokens as the region yields them, appending each one's text
        to `pieces`; returns the error ("" if none) and the region's result data."""
        assert self._bus is not None
        clock = time.perf_counter()
        try:
            output = self.region.handle(subtask)
            while True:
                if self._is_cancelled(subtask):
                    output.close()  # the region's engine cancels its stream
                    return CANCELLED, {}
                step_start = time.perf_counter()
                try:
                    piece = next(output)
                except StopIteration as finished:
                    if self._is_cancelled(subtask):  # interrupted while it waited or decoded
                        return CANCELLED, {}
                    return "", finished.value or {}
                finally:
                    self.activity.record(step_start, time.perf_counter())
                token = Token(
                    stream_id=subtask.stream_id,
                    seq=len(pieces),
                    token_id=piece.token_id,
                    text=piece.text,
                    logprob=piece.logprob,
                )
                self._bus.publish(self._out, token)
                pieces.append(piece.text)
                with self._counting:
                    self.status.tokens += 1
                self.status.tokens_per_s = round(len(pieces) / (time.perf_counter() - clock), 2)
        except Exception as failure:  # noqa: BLE001 - any failure of one subtask is reported
            self._report_failure(subtask, failure)
            return message_of(failure), {"error_kind": type(failure).__name__}

    def _is_cancelled(self, subtask: Subtask) -> bool:
        return subtask.turn_id in self._cancelled or subtask.stream_id in self._cancelled

    def _count_end(self, error: str) -> None:
        with self._counting:
            self.status.running -= 1
            if not self.status.running:
                self.status.state, self.status.subtask = "idle", ""
            if error == CANCELLED:
                self.status.subtasks_cancelled += 1
            elif error:
                self.status.subtasks_failed += 1
            else:
                self.status.subtasks_done += 1

    def _report_failure(self, subtask: Subtask, failure: Exception) -> None:
        assert self._bus is not None
        expected = isinstance(failure, (RegionError, ValueError))
        if not expected:
            self.log.error("subtask %s failed:\n%s", subtask.subtask_id, traceback.format_exc())
        self._bus.publish(
            self._out,
            Event(
                level="error",
                code="subtask_failed",
                source=self.region.name,
                detail=message_of(failure),
                data={"turn_id": subtask.turn_id, "subtask_id": subtask.subtask_id},
            ),
        )

    def _receive(self, inbox: Subscription) -> None:
        """Moves deliveries from the bus to the work queue, so waiting subtasks are counted;
        a ``cancel`` takes effect here at once, ahead of the queue."""
        while not self._stop.is_set():
            delivery = inbox.recv(timeout=_POLL_S)
            if delivery is None:
                continue
            message = delivery.message
            if isinstance(message, Event) and message.code == "cancel":
                data = message.data
                self._cancel(str(data.get("stream_id") or data.get("turn_id", "")))
            else:
                self._work.put(delivery)

    def _cancel(self, key: str) -> None:
        """Marks a turn's subtasks (or one stream's, by its id) to stop: the running ones
        after their current token, the waiting ones as soon as a slot takes them."""
        self._cancelled[key] = None
        if len(self._cancelled) > CANCELLED_KEPT:
            self._cancelled.popitem(last=False)
        for subtask in list(self._active.values()):
            if self._is_cancelled(subtask):
                self.region.interrupt(subtask.stream_id)

    def _serve(self) -> None:
        inbox_topic = region_inbox(self.region.name).name
        while not self._stop.is_set():
            try:
                delivery = self._work.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if delivery.topic == inbox_topic and isinstance(delivery.message, Subtask):
                self.run(delivery.message)
            elif delivery.topic not in (inbox_topic, self._out.name):
                self._observe(delivery)
            elif isinstance(delivery.message, Event):
                self.log.warning("%s: %s", delivery.message.code, delivery.message.detail)

    def _observe(self, delivery: Delivery) -> None:
        assert self._bus is not None
        try:
            for remark in self.region.observe(delivery):
                if isinstance(remark, str):
                    remark = Event(code="remark", source=self.region.name, detail=remark)
                self._bus.publish(self._out, remark)
        except Exception:  # noqa: BLE001 - a watcher's bug must not stop the inbox
            self.log.exception("observe() failed on %s", delivery.topic)
