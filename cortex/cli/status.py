"""`cortex status`: what a running Cortex is doing.

Without an address it shows the Cortex of this user on this machine, asked through its
driver's record (`cortex.runtime.drivers`), and lists the others; with ``--address`` (or
``RAY_ADDRESS``) it attaches to that Ray cluster and finds the Cortexes there by namespace.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict
from typing import Any

from cortex.cli.console import JsonOutput
from cortex.cli.options import typed_text
from cortex.errors import CortexError


def add_parser(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="show a running Cortex: devices, regions, bus",
        description="Show a running Cortex: every region's device, state, tokens per second "
        "and busy fraction, the bus's rate and latency, the dashboard, what listens beyond "
        "loopback. Without --address: your Cortex on this machine, the one started last "
        "(the others are listed).",
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.add_argument("--pid", type=int, help="the Cortex whose driver has this process id")
    status.add_argument("--config", metavar="PATH", help="the cortex.toml Cortex was started with")
    status.add_argument(
        "--namespace",
        type=typed_text,
        help="the Ray namespace of the regions (default: the configuration's)",
    )
    status.add_argument(
        "--address",
        metavar="HOST:PORT",
        type=typed_text,
        help="look at the Cortexes on this Ray cluster (default: yours on this machine)",
    )
    status.set_defaults(run=run)


def run(args: argparse.Namespace, output: JsonOutput) -> int:
    if args.address or os.environ.get("RAY_ADDRESS"):
        status = _on_cluster(args)
    else:
        status = _on_this_machine(args)
    if args.json:
        output.emit(status)
    else:
        print(format_status(status))
    return 0


def _on_this_machine(args: argparse.Namespace) -> dict[str, Any]:
    """The status of this user's Cortex that `--pid`/`--namespace` pick (else the one started
    last), asked of its driver, with the others listed."""
    from cortex.runtime.drivers import ask_driver, running_drivers

    drivers = running_drivers()
    picked = [
        driver
        for driver in drivers
        if args.pid in (None, driver.pid) and args.namespace in (None, driver.namespace)
    ]
    if not picked:
        raise CortexError(_none_running(drivers))
    shown = picked[0]
    others = [asdict(driver) for driver in drivers if driver != shown]
    return ask_driver(shown) | {"also_running": others}


def _none_running(drivers: list[Any]) -> str:
    """Why there is nothing to show, and what to do."""
    if drivers:
        running = ", ".join(f"pid {d.pid} `{d.command}` in {d.namespace!r}" for d in drivers)
        return f"no Cortex of yours matches; running: {running}"
    return (
        "no Cortex of yours runs on this machine; start one (`cortex chat`), or look at a "
        "Ray cluster's with `cortex status --address HOST:PORT`"
    )


def _on_cluster(args: argparse.Namespace) -> dict[str, Any]:
    """The status of a Cortex on the Ray cluster at `--address` (or ``RAY_ADDRESS``): the one
    in `--namespace`, else the first of the configured namespace's family."""
    from cortex.config import load_config
    from cortex.runtime.cluster import cluster_address
    from cortex.runtime.status import attach, collect_status, running_cortexes

    base = load_config(args.config).runtime.namespace
    dashboard = attach(args.address, args.namespace or base)
    cluster = str(cluster_address(args.address))
    running = [args.namespace] if args.namespace else running_cortexes(base)
    if not running:
        raise CortexError(
            f"no Cortex runs on the Ray cluster at {cluster}: none in Ray namespace {base!r} "
            "or the next ones; --namespace names another"
        )
    others = [{"namespace": namespace, "pid": None} for namespace in running[1:]]
    status = collect_status(running[0], dashboard) | {"also_running": others}
    return status | {"driver": None, "cluster": cluster}


def format_status(status: dict[str, Any]) -> str:
    """The status as a few lines for a terminal: which Cortex, its regions, its bus, what
    listens beyond loopback, and the other Cortexes running."""
    devices, bus = status["devices"], status["bus"]
    lines = [
        _which(status),
        f"cluster: {devices['nodes']} node(s), {devices['cpus']:g} CPUs, {devices['gpus']:g} GPUs"
        f"; dashboard: {status['dashboard'] or 'off'}",
        f"{'REGION':<14}{'KIND':<10}{'DEVICE':<30}{'STATE':<12}{'TOK/S':>7}{'BUSY':>7}{'PID':>8}"
        f"{'PREFILL/DECODE TOK/S':>22}  ENGINE",
    ]
    for r in status["regions"]:
        if r["state"] == "unreachable":
            lines.append(f"{r['name']:<14}{'':<10}{'':<30}unreachable: {r['error']}")
            continue
        lines.append(
            f"{r['name']:<14}{r['region']:<10}{r['device'][:29]:<30}{_state(r):<12}"
            f"{r['tokens_per_s']:>7.1f}{r['busy_fraction']:>7.0%}{r['pid']:>8}"
            f"{_speeds(r):>22}  {_engine(r)}{_pairing(r)}"
        )
    latency = (
        f"latency p50 {bus['p50_ms']} ms, p99 {bus['p99_ms']} ms"
        if bus["p50_ms"] is not None
        else "no traffic"
    )
    lines.append(
        f"bus: {bus['msgs_per_s']:g} msg/s, {latency}; "
        f"{bus['gaps']} gaps, {bus['malformed']} malformed frames so far"
    )
    turns = status["turns"]
    if turns["answered"]:
        first = turns["last_first_token_s"]
        lines.append(
            f"turns: {turns['answered']} answered; the last one's first answer token came "
            + (f"{first:.3f} s after its question" if first is not None else "never")
        )
    if status.get("beyond_loopback"):
        lines.append("warning: listening beyond loopback: " + "; ".join(status["beyond_loopback"]))
    cluster = status.get("cluster") if status.get("driver") is None else None
    lines += [f"also running: {_other(o, cluster)}" for o in status.get("also_running", [])]
    return "\n".join(lines)


def _which(status: dict[str, Any]) -> str:
    """Which Cortex the status shows: its driver's command and process, and its cluster."""
    driver = status.get("driver")
    if driver is None:
        namespace, cluster = status["namespace"], status["cluster"]
        return f"Cortex in Ray namespace {namespace!r} of the cluster at {cluster}"
    since = time.strftime("%H:%M:%S", time.localtime(driver["created"]))
    own = "its own" if driver["local"] else "attached"
    return (
        f"Cortex of `{driver['command']}` (pid {driver['pid']}, since {since}): "
        f"Ray at {driver['ray_address']} ({own}), namespace {driver['namespace']!r}"
    )


def _other(other: dict[str, Any], cluster: str | None) -> str:
    """Another running Cortex, and how to see it (on `cluster`, found by namespace there)."""
    if other.get("pid") is None:
        namespace, address = other["namespace"], str(cluster).partition(" ")[0]
        see = f"cortex status --address {address} --namespace {namespace}"
        return f"namespace {namespace!r} (`{see}`)"
    since = time.strftime("%H:%M:%S", time.localtime(other["created"]))
    return (
        f"`{other['command']}` (pid {other['pid']}, since {since}), Ray at "
        f"{other['ray_address']} (`cortex status --pid {other['pid']}`)"
    )


def _state(region: dict[str, Any]) -> str:
    """``decoding``, or ``idle 12s``: idle for that long since its model last computed."""
    idle_s = region.get("idle_s")
    if region["state"] != "idle" or idle_s is None:
        return str(region["state"])
    return f"idle {idle_s:.0f}s"


def _engine(region: dict[str, Any]) -> str:
    """``llama.cpp 2/4``: the engine's name and subtasks running / at most at once."""
    if not region["engine"]:
        return "-"
    return f"{region['engine'].split()[0]} {region['running']}/{region['max_concurrent']}"


def _speeds(region: dict[str, Any]) -> str:
    """``310/28``: the device's measured prefill and decode tokens per second, and what it
    is kept for when not any (``310/28 prefill``); ``-`` where none were measured."""
    if not region.get("prefill_tokens_per_s"):
        return "-"
    role = "" if region.get("role", "any") == "any" else f" {region['role']}"
    return f"{region['prefill_tokens_per_s']:.0f}/{region['decode_tokens_per_s']:.0f}{role}"


def _pairing(region: dict[str, Any]) -> str:
    """A target's draft and how it fares, or what a draft region drafts; "" for others."""
    if drafting := region.get("drafting"):
        return f"; drafting: {drafting['streams']} stream(s), {drafting['proposed']} proposed"
    speculation = region.get("speculation")
    if not speculation:
        return ""
    line = f"; draft {speculation['draft']}"
    if (rate := speculation.get("acceptance_rate")) is not None:
        line += f": {rate:.0%} accepted, window {speculation['window']}"
    if speculation.get("speedup"):
        line += f", {speculation['speedup']:.2f}x alone"
    if speculation.get("fallbacks"):
        line += f", {speculation['fallbacks']} stream(s) fell back"
    return line
