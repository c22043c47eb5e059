"""`Cortex`: start or attach Ray, start the bus, place the regions, run turns, shut down.

    with Cortex() as brain:                    # the default configuration
        record = brain.ask("Compare tea and coffee on caffeine, taste and price.")
        print(record.answer)

Regions are Ray actors named after their instances (``planning``, ``language-0``...) in the
configuration's namespace; tokens travel over the ZeroMQ bus, control over Ray.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import ray

from bus.protocol import Subtask, SubtaskResult, Token
from bus.proxy import LOOPBACK, start_proxy, stop_proxy
from bus.tokenbus import Delivery, Subscription
from bus.topics import Pattern, Topic, region_inbox, region_out
from bus.zmq_bus import ZmqTokenBus
from cortex.config import CortexConfig, load_config
from cortex.errors import CortexError, TurnError
from cortex.placement import Instance, plan_instances, replicas_by_kind
from cortex.sessions import SessionLog
from cortex.turns import Turn, TurnRecord
from modules.errors import BadRequestError
from modules.host import RegionHost
from modules.models import resolve

log = logging.getLogger("cortex")

Progress = Callable[[str], None]


class Cortex:
    """A running brain: the bus, the region actors, and the turns you ask of them.

    Args:
        config: A `CortexConfig`, a path to a ``cortex.toml``, or None for the default.
        address: A Ray cluster to attach to (``HOST:PORT`` or ``auto``); None starts a local
            one (or uses the Ray already initialised in this process).
        session_log: Where to append each turn; None picks a fresh file (see `cortex.sessions`).
        progress: Called with a line at each step of start-up (model conversion, loading).
    """

    def __init__(
        self,
        config: CortexConfig | str | Path | None = None,
        *,
        address: str | None = None,
        session_log: str | Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config = config if isinstance(config, CortexConfig) else load_config(config)
        self.address = address
        self.session = SessionLog(session_log)
        self.progress = progress or log.info
        self.instances: list[Instance] = []
        self.bus: ZmqTokenBus | None = None
        self._actors: dict[str, Any] = {}
        self._owns_ray = False
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Cortex:
        """Starts everything; returns once every region has loaded its model."""
        if self._started:
            return self
        self._started = True
        try:
            self._start_ray()
            namespace = self.config.runtime.namespace
            host = LOOPBACK if self.address is None else ray.util.get_node_ip_address()
            bus_options = self.config.bus
            endpoints = start_proxy(namespace, host, bus_options.hwm, bus_options.max_frame_bytes)
            self.bus = ZmqTokenBus(
                endpoints, hwm=bus_options.hwm, max_frame_bytes=bus_options.max_frame_bytes
            )
            self._prepare_models()
            gpus = ray.cluster_resources().get("GPU", 0)
            self.instances = plan_instances(self.config, gpus)
            self._start_regions(endpoints)
        except BaseException:
            self.shutdown()
            raise
        return self

    def shutdown(self) -> None:
        """Stops every region, the bus proxy, and Ray if this object started it."""
        for actor in self._actors.values():
            with contextlib.suppress(ray.exceptions.RayError):  # already dead: nothing to stop
                ray.get(actor.stop.remote(), timeout=30)
            ray.kill(actor)
        self._actors.clear()
        if self.bus is not None:
            self.bus.close()
            self.bus = None
        if ray.is_initialized():
            stop_proxy(self.config.runtime.namespace)
            if self._owns_ray:
                ray.shutdown()
        self._started = False

    def __enter__(self) -> Cortex:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    # -- use ---------------------------------------------------------------------------------

    def ask(
        self, question: str, on_delivery: Callable[[Delivery], None] | None = None
    ) -> TurnRecord:
        """Runs one turn and returns its record (answer, plan, streams, wall time).

        `on_delivery` sees every token and event of the turn as it arrives; tokens of the
        final answer arrive on the topic ``turn.<id>.out``.

        Raises:
            BadRequestError: The question is empty.
            TurnError: No answer could be produced (the message says why).
        """
        if not question.strip():
            raise BadRequestError("the question is empty; ask something")
        turn = Turn(
            self._running_bus(),
            self.config.planner,
            replicas_by_kind(self.instances),
            question.strip(),
            self.config.runtime.turn_timeout_s,
            on_delivery,
        )
        record = turn.run()
        self.session.append({"type": "turn", **record.model_dump()})
        return record

    def stream(self, instance: str, instruction: str) -> Iterator[Token]:
        """Sends one instruction straight to a region instance and yields its tokens.

        Raises:
            CortexError: No such instance runs.
            TurnError: The region failed the instruction.
        """
        if instance not in self._actors:
            raise CortexError(
                f"no region instance {instance!r}; running: {', '.join(self._actors)}"
            )
        bus = self._running_bus()
        turn_id = uuid.uuid4().hex[:12]
        with bus.subscribe(region_out(instance)) as subscription:
            bus.publish(
                region_inbox(instance),
                Subtask(turn_id=turn_id, subtask_id="1", region=instance, instruction=instruction),
            )
            yield from _tokens_until_result(
                subscription, turn_id, self.config.runtime.turn_timeout_s
            )

    def subscribe(self, *patterns: Pattern | Topic | str) -> Subscription:
        """A live subscription to any bus topics (see `bus.topics` for the pattern syntax)."""
        return self._running_bus().subscribe(*patterns)

    def regions(self) -> list[dict[str, Any]]:
        """Each region instance's status: name, kind, device, state, tokens, tokens per second."""
        return ray.get([actor.info.remote() for actor in self._actors.values()], timeout=30)

    # -- start-up steps -------------------------------------------------------------------------

    def _running_bus(self) -> ZmqTokenBus:
        if self.bus is None:
            raise CortexError("Cortex is not started; use `with Cortex() as brain:` or start()")
        return self.bus

    def _start_ray(self) -> None:
        if ray.is_initialized():
            return
        runtime = self.config.runtime
        options: dict[str, Any] = {
            "namespace": runtime.namespace,
            "logging_level": logging.ERROR,
            "log_to_driver": False,
        }
        if self.address is None:
            options |= {"include_dashboard": runtime.dashboard, "dashboard_host": LOOPBACK}
        else:
            options["address"] = self.address
        self.progress("starting Ray" + (f" (attaching to {self.address})" if self.address else ""))
        ray.init(**options)
        self._owns_ray = True

    def _prepare_models(self) -> None:
        """Converts embedded models once, here, where the user sees the progress."""
        specs = {r.model for r in self.config.regions.values()}
        specs |= {r.router_model for r in self.config.regions.values() if r.kind == "planning"}
        for spec in sorted(specs):
            resolve(spec, self.progress)

    def _start_regions(self, endpoints: Any) -> None:
        namespace = self.config.runtime.namespace
        pending = {}
        for instance in self.instances:
            actor = (
                ray.remote(RegionHost)
                .options(
                    name=instance.name,
                    namespace=namespace,
                    num_cpus=0,
                    num_gpus=instance.num_gpus,
                    max_concurrency=2,
                )
                .remote(instance.class_path, instance.settings, endpoints)
            )
            self._actors[instance.name] = actor
            pending[actor.setup.remote()] = instance.name
        total = len(pending)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=600)
            if not ready:
                raise CortexError(
                    f"regions did not load within 10 minutes: {', '.join(pending.values())}"
                )
            name = pending.pop(ready[0])
            try:
                info = ray.get(ready[0])
            except ray.exceptions.RayError as error:
                raise CortexError(f"region {name} failed to start: {_cause(error)}") from None
            done = total - len(pending)
            self.progress(
                f"[{done}/{total}] {name} ready on {info['device']} ({info['load_s']:.1f} s)"
            )


def _tokens_until_result(
    subscription: Subscription, turn_id: str, timeout_s: float
) -> Iterator[Token]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        delivery = subscription.recv(timeout=0.5)
        if delivery is None:
            continue
        message = delivery.message
        if isinstance(message, Token) and message.stream_id.startswith(turn_id + "/"):
            if message.token_id != Token.END_MARKER_ID:
                yield message
        elif isinstance(message, SubtaskResult) and message.turn_id == turn_id:
            if not message.ok:
                raise TurnError(message.error or "the region failed")
            return
    raise TurnError(f"no result within {timeout_s:.0f} s")


def _cause(error: Exception) -> str:
    """The innermost message of a Ray task error, without Ray's traceback framing."""
    cause = getattr(error, "cause", None)
    return f"{type(cause).__name__}: {cause}" if cause is not None else str(error).splitlines()[-1]
