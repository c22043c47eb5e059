"""`InProcessCortex`: every region as a thread on the in-process bus, no Ray.

The same regions, hosts, placement and turns as `Cortex`, in one process: for tests (of your
own regions, of the terminal app) and quick experiments. Regions share this process's cores.
"""

from __future__ import annotations

import os
from typing import Any

from bus.inprocess import InProcessBus
from cortex.errors import CortexError
from cortex.runtime.brain import Brain, StartupEvent, region_ready
from cortex.runtime.placement import check_drafts, plan_instances
from modules.errors import message_of
from modules.host import RegionHost


class InProcessCortex(Brain):
    """A brain whose regions run as threads of this process, on an `InProcessBus`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hosts: dict[str, RegionHost] = {}

    def start(self) -> InProcessCortex:
        if self.bus is not None:
            return self
        self.bus = InProcessBus(self.config.bus.max_frame_bytes)
        self.instances = plan_instances(
            self.config, cluster_gpus=0, cpu_count=os.cpu_count(), only=self.only
        )
        for instance in self.instances:
            self.progress(StartupEvent(f"loading {instance.name}", instance.name, "loading"))
        for done, instance in enumerate(self.instances, start=1):
            host = RegionHost(instance.class_path, instance.settings, bus=self.bus)
            self.hosts[instance.name] = host
            try:
                info = self.started[instance.name] = host.setup()
            except Exception as error:
                self.progress(StartupEvent(f"{instance.name} failed", instance.name, "failed"))
                self.shutdown()
                raise CortexError(
                    f"region {instance.name} failed to start: {message_of(error)}"
                ) from error
            self.progress(
                region_ready(
                    instance.name, info["device"], info["load_s"], done, len(self.instances)
                )
            )
        try:
            check_drafts(self.instances, {name: host.info() for name, host in self.hosts.items()})
        except CortexError:
            self.shutdown()
            raise
        return self

    def shutdown(self) -> None:
        for host in self.hosts.values():
            host.stop()
        self.hosts.clear()
        if self.bus is not None:
            self.bus.close()
            self.bus = None

    def regions(self) -> list[dict[str, Any]]:
        return [host.info() for host in self.hosts.values()]
