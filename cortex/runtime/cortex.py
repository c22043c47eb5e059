"""`Cortex`: start or attach Ray, start the bus, place the regions as actors, shut down.

    with Cortex() as brain:                    # the default configuration
        record = brain.ask("Compare tea and coffee on caffeine, taste and price.")
        print(record.answer)

Regions are Ray actors named after their instances (``planning``, ``language-0``...) in the
configuration's namespace; tokens travel over the ZeroMQ bus, control over Ray. A driver owns
its namespace: when another Cortex already runs in it on the same cluster, this one takes
the next free one (``cortex-2``, ``cortex-3``...), so two Cortex commands share a cluster
without touching each other's regions or bus. Everything a driver starts ends with it. Once
its regions run, a driver records itself and serves its status for `cortex status`
(`cortex.runtime.drivers`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import ray

from bus.proxy import LOOPBACK, claim_proxy
from bus.recorder import Recording, record
from bus.zmq_bus import BusEndpoints, ZmqTokenBus
from cortex.config import CortexConfig
from cortex.errors import CortexError
from cortex.runtime.actors import RegionActor
from cortex.runtime.brain import Brain, Progress, StartupEvent, region_ready
from cortex.runtime.cluster import (
    MAX_CORTEXES,
    cluster_address,
    connect_ray,
    cortex_namespaces,
    start_local_ray,
)
from cortex.runtime.drivers import DriverRecord, StatusServer
from cortex.runtime.metrics import BusMetrics, MetricsReporter, TurnMetrics
from cortex.runtime.placement import (
    check_drafts,
    check_nodes,
    pin_to_devices,
    plan_instances,
)
from cortex.runtime.reaper import Reaper, start_reaper
from cortex.runtime.status import collect_status
from cortex.runtime.supervisor import Supervisor
from modules import errors as region_errors
from modules.errors import message_of
from modules.models import is_gguf, resolve

REGION_LOAD_TIMEOUT_S = 600
REGION_RESTARTS = 3
"""How many times Ray restarts a region whose process died (it reloads its model)."""


class Cortex(Brain):
    """The brain on Ray: one actor per region instance, tokens on the ZeroMQ bus.

    Args:
        config: A `CortexConfig`, a path to a ``cortex.toml``, or None for the default.
        address: A Ray cluster to attach to (``HOST:PORT`` or ``auto``); None takes
            ``RAY_ADDRESS``, and without it starts a local cluster (or uses the Ray already
            initialised in this process).
        session_log: Where to append each turn; None picks a fresh file.
        progress: Called at each step of start-up (model conversion, each region's loading).
        only: Start only these regions (``[regions.NAME]`` names).
        devices: Put each instance (by name) on a numbered device (see `pin_to_devices`).
    """

    def __init__(
        self,
        config: CortexConfig | str | Path | None = None,
        *,
        address: str | None = None,
        session_log: str | Path | None = None,
        progress: Progress | None = None,
        only: set[str] | None = None,
        devices: dict[str, int] | None = None,
    ) -> None:
        super().__init__(config, session_log=session_log, progress=progress, only=only)
        self.address = cluster_address(address)
        self.devices = devices
        self.namespace: str | None = None
        """The Ray namespace of this driver's regions and bus proxy, once started."""
        self._actors: dict[str, Any] = {}
        self._owns_ray = False
        self._proxy: Any = None
        self._reaper: Reaper | None = None
        self._started = False
        self._reporter: MetricsReporter | None = None
        self._recording: Recording | None = None
        self._supervisor: Supervisor | None = None
        self._status_server: StatusServer | None = None
        self.bus_log = self.session.path.with_suffix(".bus")
        """Every message of the session, as it travelled (`cortex replay` draws it)."""

    def start(self) -> Cortex:
        if self._started:
            return self
        self._started = True
        try:
            self._start_ray()
            endpoints = self._claim_namespace()
            bus = self.config.bus
            self.bus = ZmqTokenBus(endpoints, hwm=bus.hwm, max_frame_bytes=bus.max_frame_bytes)
            self._reporter = MetricsReporter(
                BusMetrics(self.bus.traffic, "driver"), TurnMetrics(self)
            ).start()
            self._recording = record(self.bus, self.bus_log)
            self._prepare_models()
            gpus = ray.cluster_resources().get("GPU", 0)
            self.instances = plan_instances(self.config, gpus, only=self.only)
            check_nodes(self.instances, ray.cluster_resources())
            if self.devices is not None:
                use_gpus = self.config.runtime.device != "cpu" and gpus >= len(
                    set(self.devices.values())
                )
                self.instances = pin_to_devices(
                    self.instances, self.devices, use_gpus, os.cpu_count() or 1
                )
            self._start_regions(endpoints)
            self._supervisor = Supervisor(self.bus, self._actors).start()
            self._status_server = self._serve_status()
        except BaseException:
            self.shutdown()
            raise
        return self

    def shutdown(self) -> None:
        """Stops every region, the bus proxy, and Ray if this object started it."""
        _stop_each(self._status_server, self._supervisor)
        self._status_server = self._supervisor = None
        if stops := [actor.stop.remote() for actor in self._actors.values()]:
            ray.wait(stops, num_returns=len(stops), timeout=30)  # a dead region's fails at once
        for actor in self._actors.values():
            ray.kill(actor)
        self._actors.clear()
        _stop_each(self._reporter, self._recording)
        self._reporter = self._recording = None
        if self.bus is not None:
            self.bus.close()
            self.bus = None
        if self._proxy is not None and ray.is_initialized():
            with contextlib.suppress(ray.exceptions.RayError):  # its process died meanwhile
                ray.get(self._proxy.stop.remote(), timeout=30)
            ray.kill(self._proxy)
        self._proxy = self.namespace = None
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
        if self._reaper is not None:
            self._reaper.close()
            self._reaper = None
        self._started = False

    def regions(self) -> list[dict[str, Any]]:
        return ray.get([actor.info.remote() for actor in self._actors.values()], timeout=30)

    def _start_ray(self) -> None:
        if ray.is_initialized():  # the program's own Ray: its dashboard, if it runs one
            dashboard = ray._private.worker.get_dashboard_url()
            self.dashboard_url = f"http://{dashboard}" if dashboard else None
            return
        runtime = self.config.runtime
        if self.address is not None:
            self.progress(StartupEvent(f"attaching to Ray at {self.address}"))
            context = connect_ray(self.address, runtime.namespace)
        else:
            self.progress(StartupEvent("starting Ray"))
            self._reaper = start_reaper()
            context = start_local_ray(
                runtime.namespace, runtime.dashboard, runtime.dashboard_host
            )
        self._owns_ray = True
        if context.dashboard_url:
            self.dashboard_url = f"http://{context.dashboard_url}"

    def _serve_status(self) -> StatusServer:
        """Records this driver and serves its status (what `cortex status` shows)."""
        assert self.namespace is not None
        namespace, dashboard = self.namespace, self.dashboard_url
        self.ray_address = ray.get_runtime_context().gcs_address
        local = self._owns_ray and self.address is None
        record = DriverRecord.of_this_process(self.ray_address, namespace, local)
        return StatusServer(
            record,
            lambda: collect_status(namespace, dashboard)
            | {"driver": asdict(record), "cluster": record.ray_address},
        ).start()

    def _claim_namespace(self) -> BusEndpoints:
        """Starts this driver's bus proxy in the first namespace of the configured one's
        family (``cortex``, ``cortex-2``...) that no other Cortex uses; returns its endpoints.
        """
        host = LOOPBACK if self.address is None else ray.util.get_node_ip_address()
        bus, base = self.config.bus, self.config.runtime.namespace
        for candidate in cortex_namespaces(base):
            claimed = claim_proxy(candidate, host, bus.hwm, bus.max_frame_bytes)
            if claimed is not None:
                self._proxy, endpoints = claimed
                if candidate != base:
                    self.progress(
                        StartupEvent(
                            f"another Cortex runs in Ray namespace {base!r}; "
                            f"this one runs in {candidate!r}"
                        )
                    )
                self.namespace = candidate
                return endpoints
        raise CortexError(
            f"{MAX_CORTEXES} Cortex drivers already run on this Ray cluster; stop one, or "
            "set another runtime.namespace"
        )

    def _prepare_models(self) -> None:
        """Converts embedded models once, here, where the user sees the progress (a GGUF model
        that llama.cpp runs needs no conversion)."""
        regions = [r for n, r in self.config.regions.items() if self.only is None or n in self.only]
        specs = {r.model for r in regions if not (is_gguf(r.model) and r.engine != "transformers")}
        for spec in sorted(specs):
            resolve(spec, lambda line: self.progress(StartupEvent(line)))

    def _start_regions(self, endpoints: BusEndpoints) -> None:
        pending = {}
        for instance in self.instances:
            actor = (
                ray.remote(RegionActor)
                .options(
                    name=instance.name,
                    namespace=self.namespace,
                    num_cpus=0,
                    num_gpus=instance.num_gpus,
                    resources=instance.resources,
                    max_concurrency=3,  # info and stop calls, and the supervisor's watch
                    max_restarts=REGION_RESTARTS,
                )
                .remote(instance.class_path, instance.settings, endpoints)
            )
            self._actors[instance.name] = actor
            pending[actor.info.remote()] = instance.name  # answered once the model has loaded
            self.progress(StartupEvent(f"loading {instance.name}", instance.name, "loading"))
        total = len(pending)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=REGION_LOAD_TIMEOUT_S)
            if not ready:
                raise CortexError(f"regions did not load in time: {', '.join(pending.values())}")
            name = pending.pop(ready[0])
            try:
                info = self.started[name] = ray.get(ready[0])
            except ray.exceptions.RayError as error:
                self.progress(StartupEvent(f"{name} failed", name, "failed"))
                raise CortexError(f"region {name} failed to start: {_cause(error)}") from None
            ready_now = total - len(pending)
            self.progress(region_ready(name, info["device"], info["load_s"], ready_now, total))
        check_drafts(self.instances, self.started)


def _stop_each(*parts: Any) -> None:
    """Stops each part that started (None: it did not)."""
    for part in parts:
        if part is not None:
            part.stop()


def _cause(error: Exception) -> str:
    """The innermost message of a Ray task error, without Ray's traceback framing; where only
    the traceback's last line is left (an actor that died starting), a region's error is
    said in plain words there too (`message_of`)."""
    cause = getattr(error, "cause", None)
    if cause is not None:
        return message_of(cause)
    last = str(error).splitlines()[-1]
    name, _, message = last.partition(": ")
    kind = getattr(region_errors, name.rpartition(".")[2], None)
    plain = isinstance(kind, type) and issubclass(kind, region_errors.RegionError) and message
    return message if plain else last
