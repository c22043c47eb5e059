"""`Supervisor`: notices a region's process dying and coming back, and says so on the bus.

Region actors are created with `max_restarts`, so Ray restarts a dead one, and a restarted
`RegionActor` reloads its model in its constructor. The supervisor keeps one `watch()` call
pending per region, which fails the moment the process dies; it then publishes an error
`Event` ``region_died`` on the region's output topic, waits until the restarted actor
answers, and publishes ``region_restarted``. Turns retry the subtasks a dead region held
(`cortex.turns.turn`).
"""

from __future__ import annotations

import logging
from typing import Any

import ray

from bus.protocol import Event
from bus.tokenbus import TokenBus
from bus.topics import region_out
from cortex.runtime.background import Background

log = logging.getLogger("cortex.runtime.supervisor")

_POLL_S = 0.5


class Supervisor(Background):
    """Watches region actors from a background thread of the driver.

    Args:
        bus: Where to publish what happened (the driver's connection).
        actors: The region actors by instance name.
    """

    thread_name = "supervisor"

    def __init__(self, bus: TokenBus, actors: dict[str, Any]) -> None:
        super().__init__()
        self.bus = bus
        self.actors = actors

    def _run(self) -> None:
        watching = {actor.watch.remote(): name for name, actor in self.actors.items()}
        reviving: dict[Any, str] = {}
        while not self._stop.is_set():
            pending = list(watching) + list(reviving)
            if not pending:
                return
            ready, _ = ray.wait(pending, num_returns=1, timeout=_POLL_S)
            if self._stop.is_set():
                return
            for reference in ready:
                if reference in watching:
                    name = watching.pop(reference)
                    if self._died(reference, name):
                        reviving[self.actors[name].info.remote()] = name
                else:
                    name = reviving.pop(reference)
                    self._revived(reference, name, watching, reviving)

    def _died(self, watch: Any, name: str) -> bool:
        """Whether the watch ended by the process dying (not by a normal stop)."""
        try:
            ray.get(watch)
        except ray.exceptions.RayError as error:
            cause = str(error).splitlines()[0][:200]
            log.warning("region %s died: %s", name, cause)
            self._say(name, "region_died", f"{name}'s process died; Ray is restarting it")
            return True
        return False

    def _revived(
        self, probe: Any, name: str, watching: dict[Any, str], reviving: dict[Any, str]
    ) -> None:
        actor = self.actors[name]
        try:
            info = ray.get(probe)
        except ray.exceptions.ActorDiedError:
            self._say(name, "region_lost", f"{name} could not be restarted")
            return
        except ray.exceptions.RayError:  # still restarting: ask again
            reviving[actor.info.remote()] = name
            return
        self._say(name, "region_restarted", f"{name} is back on {info['device']}")
        watching[actor.watch.remote()] = name

    def _say(self, name: str, code: str, detail: str) -> None:
        level = "info" if code == "region_restarted" else "error"
        event = Event(level=level, code=code, source=name, detail=detail, data={"replica": name})
        self.bus.publish(region_out(name), event)
