"""Ray actors: `RegionActor` around one `RegionHost`, `StageActor` around a pipeline stage.

The actor loads its region in its constructor. Ray records an actor's repr once, when the
constructor returns, for the dashboard's Repr column and log prefixes; loading there makes
that repr say where the region runs and that it is ready (a failed load shows as the
actor's death, with the error). Live state is in `info()`, `cortex status` and the metrics.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from bus.zmq_bus import BusEndpoints, ZmqTokenBus
from cortex.runtime.metrics import BusMetrics, MetricsReporter, RegionMetrics
from modules.host import RegionHost
from modules.region import Placement, RegionSettings

if TYPE_CHECKING:  # torch and transformers load in stage workers only, not in every region's
    from modules.pipeline import StagePlan, StageStats

LOG_FORMAT = "%(asctime)s %(levelname)s [{name}] %(name)s: %(message)s"


class RegionActor:
    """One region instance in its own Ray worker: hosted on the bus, exporting its metrics.

    Args:
        region_class: ``package.module:Class`` of the region.
        settings: The instance's settings.
        endpoints: The bus proxy to connect to.
    """

    def __init__(
        self, region_class: str, settings: RegionSettings, endpoints: BusEndpoints
    ) -> None:
        logging.basicConfig(
            level=logging.INFO, format=LOG_FORMAT.format(name=settings.name), force=True
        )
        settings.placement.pin()
        self.host = RegionHost(region_class, settings, endpoints)
        self.host.setup()
        assert self.host.bus is not None
        self.reporter = MetricsReporter(
            RegionMetrics(self.host), BusMetrics(self.host.bus.traffic, settings.name)
        ).start()
        self._stopped = threading.Event()

    def info(self) -> dict[str, Any]:
        """The region's current status (see `modules.host.RegionStatus`)."""
        return self.host.info()

    def watch(self) -> None:
        """Returns when the region is stopped: the caller learns of a crash by this call's
        error (the supervisor in `cortex.runtime.cortex` keeps one pending per region)."""
        self._stopped.wait()

    def stop(self) -> None:
        """Stops serving and exports the last figures."""
        self._stopped.set()
        self.host.stop()
        self.reporter.stop()

    def __repr__(self) -> str:
        host = getattr(self, "host", None)  # absent when the constructor itself failed
        return repr(host) if host is not None else "Region(not started)"


class StageActor:
    """One stage of a layer-split model (`modules.pipeline`) in its own Ray worker.

    Args:
        plan: Its place in the pipeline.
        endpoints: The bus proxy to connect to.
        placement: The device it runs on.
    """

    def __init__(self, plan: StagePlan, endpoints: BusEndpoints, placement: Placement) -> None:
        logging.basicConfig(
            level=logging.INFO, format=LOG_FORMAT.format(name=f"stage-{plan.index}"), force=True
        )
        import torch

        from modules.pipeline import PipelineStage

        placement.pin()
        torch.set_num_threads(placement.threads)
        self.placement = placement
        self.bus = ZmqTokenBus(endpoints)
        self.stage = PipelineStage(plan, self.bus, placement.torch_device())
        self.stage.setup()

    def take_stats(self) -> StageStats:
        """What the stage measured since the last call."""
        from modules.pipeline import StageStats

        stats, self.stage.stats = self.stage.stats, StageStats()
        return stats

    def stop(self) -> None:
        self.stage.stop()
        self.bus.close()

    def __repr__(self) -> str:
        stage = self.stage
        return (
            f"PipelineStage({stage.plan.index + 1} of {stage.plan.stages}: layers "
            f"{stage.layers.start}-{stage.layers.stop - 1} on {self.placement.label()})"
        )
