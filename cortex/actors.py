"""`RegionActor`: the Ray actor around one `RegionHost`, as the dashboard and Prometheus see it.

The actor loads its region in its constructor. Ray records an actor's repr once, when the
constructor returns, for the dashboard's Repr column and log prefixes; loading there makes
that repr say where the region runs and that it is ready (a failed load shows as the
actor's death, with the error). Live state is in `info()`, `cortex status` and the metrics.
"""

from __future__ import annotations

import logging
from typing import Any

from bus.zmq_bus import BusEndpoints
from cortex.metrics import BusMetrics, MetricsReporter, RegionMetrics
from modules.host import RegionHost
from modules.region import RegionSettings

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
        self.host = RegionHost(region_class, settings, endpoints)
        self.host.setup()
        assert self.host.bus is not None
        self.reporter = MetricsReporter(
            RegionMetrics(self.host), BusMetrics(self.host.bus.traffic, settings.name)
        ).start()

    def info(self) -> dict[str, Any]:
        """The region's current status (see `modules.host.RegionStatus`)."""
        return self.host.info()

    def stop(self) -> None:
        """Stops serving and exports the last figures."""
        self.host.stop()
        self.reporter.stop()

    def __repr__(self) -> str:
        return repr(self.host)
