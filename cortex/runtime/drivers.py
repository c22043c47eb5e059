"""The Cortex drivers running on this machine: a record of each, and the status each serves.

A driver (a `cortex` command, or `Cortex` in a program) writes a record once its regions
run: its process, command line, start time, Ray cluster and namespace. Beside the record it
serves its own status on a Unix socket that only its user may open, so `cortex status`
answers from the driver itself, in about a second, without joining Ray. Records live in
``$XDG_RUNTIME_DIR/cortex``, else ``/tmp/cortex-UID``; the next reader removes the record of
a driver whose process is gone (killed, so it could not remove its own).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import socketserver
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from cortex.errors import CortexError

ANSWER_TIMEOUT_S = 10.0
"""How long `ask_driver` waits for a driver's status (it gathers it in about half a second)."""


def runtime_dir() -> Path:
    """This user's folder of driver records, made private (0700) if it is new.

    Raises:
        CortexError: The folder belongs to another user.
    """
    base = os.environ.get("XDG_RUNTIME_DIR")
    uid = os.getuid()
    folder = Path(base) / "cortex" if base else Path(tempfile.gettempdir()) / f"cortex-{uid}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_uid != uid:
        raise CortexError(f"{folder} belongs to another user; remove it or set XDG_RUNTIME_DIR")
    return folder


@dataclass(frozen=True)
class DriverRecord:
    """One running driver, as `cortex status` finds it."""

    pid: int
    created: float
    """The process's start time (a pid used again later is another process)."""
    command: str
    """Its command line, shortened: ``cortex chat``, ``python my_script.py``."""
    ray_address: str
    """The Ray cluster it runs on (its GCS, ``HOST:PORT``)."""
    namespace: str
    local: bool
    """Whether the Ray cluster is its own (local mode), ending with it."""

    @classmethod
    def of_this_process(cls, ray_address: str, namespace: str, local: bool) -> DriverRecord:
        me = psutil.Process()
        command = " ".join([_program(), *sys.argv[1:]])
        shortened = command if len(command) <= 60 else command[:59] + "…"
        return cls(me.pid, me.create_time(), shortened, ray_address, namespace, local)

    @property
    def path(self) -> Path:
        return runtime_dir() / f"{self.name}.json"

    @property
    def socket_path(self) -> Path:
        return runtime_dir() / f"{self.name}.sock"

    @property
    def name(self) -> str:
        """What its files are named: its process and namespace (one process may hold several
        drivers on its cluster, each in a namespace of its own)."""
        return f"{self.pid}-{re.sub(r'[^A-Za-z0-9_.-]', '_', self.namespace)[:40]}"

    def running(self) -> bool:
        """Whether the process that wrote the record still runs."""
        try:
            return abs(psutil.Process(self.pid).create_time() - self.created) < 1.0
        except psutil.Error:
            return False

    def remove(self) -> None:
        for path in (self.path, self.socket_path):
            path.unlink(missing_ok=True)


def _program() -> str:
    """How this process was started, as its user typed it: ``cortex``, ``python -m
    cortex.bench``, ``my_script.py``."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None:
        module = spec.name.removesuffix(".__main__")
        return "cortex" if module == "cortex.cli" else f"python -m {module}"
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"


def running_drivers() -> list[DriverRecord]:
    """The records of this user's drivers that still run, the last started first; the records
    of drivers gone are removed."""
    records = []
    for path in runtime_dir().glob("*.json"):
        try:
            record = DriverRecord(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):  # being written, or not a record
            continue
        if record.running():
            records.append(record)
        else:
            record.remove()
    return sorted(records, key=lambda record: record.created, reverse=True)


class StatusServer:
    """Serves a driver's record and status (`collect()`, as JSON) on the record's socket.

    Args:
        record: The driver's record, written when the server starts and removed when it stops.
        collect: Gathers the status, on the server's thread, once per request.
    """

    def __init__(self, record: DriverRecord, collect: Callable[[], dict[str, Any]]) -> None:
        self.record = record
        collect_status = collect

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    answer: dict[str, Any] = collect_status()
                except Exception as error:  # noqa: BLE001 - said to the asking client
                    answer = {"error": f"this Cortex could not gather its status: {error}"}
                self.wfile.write(json.dumps(answer).encode() + b"\n")

        record.socket_path.unlink(missing_ok=True)
        self._server = socketserver.ThreadingUnixStreamServer(str(record.socket_path), Handler)
        self._server.daemon_threads = True
        os.chmod(record.socket_path, 0o600)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="status-server", daemon=True
        )

    def start(self) -> StatusServer:
        self._thread.start()
        self.record.path.write_text(json.dumps(asdict(self.record)), encoding="utf-8")
        return self

    def stop(self) -> None:
        self.record.remove()
        self._server.shutdown()
        self._server.server_close()


def ask_driver(record: DriverRecord, timeout_s: float = ANSWER_TIMEOUT_S) -> dict[str, Any]:
    """The status a running driver serves.

    Raises:
        CortexError: The driver does not answer within `timeout_s` (busy, or stopping).
    """
    started = time.monotonic()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(timeout_s)
            client.connect(str(record.socket_path))
            with client.makefile("rb") as answer:
                text = answer.readline()
        status: dict[str, Any] = json.loads(text)
    except (OSError, ValueError) as error:
        waited = time.monotonic() - started
        raise CortexError(
            f"the Cortex of `{record.command}` (pid {record.pid}) did not answer "
            f"({error or 'no reply'}, after {waited:.1f} s); it may be stopping"
        ) from None
    with contextlib.suppress(KeyError):
        if status["error"]:
            raise CortexError(status["error"])
    return status
