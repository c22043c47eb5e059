"""A stand-in driver for `cortex status` tests: records itself as a Cortex would, serves a
canned status, and runs until its stdin closes. `python -m tests.unit.status_driver NS`."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

from cortex.runtime.drivers import DriverRecord, StatusServer


def canned_status(record: DriverRecord) -> dict[str, Any]:
    """A status as a driver with no regions yet serves it."""
    return {
        "driver": asdict(record),
        "namespace": record.namespace,
        "cluster": record.ray_address,
        "devices": {"nodes": 1, "cpus": 2.0, "gpus": 0.0},
        "dashboard": None,
        "regions": [],
        "bus": {"msgs_per_s": 0.0, "p50_ms": None, "p99_ms": None, "gaps": 0, "malformed": 0},
        "turns": {"answered": 0, "last_first_token_s": None},
        "beyond_loopback": [],
    }


if __name__ == "__main__":
    me = DriverRecord.of_this_process("127.0.0.1:6379", sys.argv[1], True)
    server = StatusServer(me, lambda: canned_status(me)).start()
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes it
    server.stop()
