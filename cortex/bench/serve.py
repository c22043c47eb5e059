"""`python -m cortex.bench serve`: `cortex serve` under load from the official openai client.

The server runs as ``cortex serve`` in a process of its own, with the planner and two
language replicas on tiny random models (``tiny``) or on the embedded SmolLM2-135M
(``default``, 16 new tokens a part). Clients stream a question each per request, 1, then 4,
then 16 at once (`LEVELS`: 500 requests in all). For each level: requests per second, the
time to the first answer text and to the last (p50 and p99, seconds), and errors; and the
resident memory of the server's process and every region's (from ``GET /health``) after the
first 50 requests and after all 500. Then ``n``: the wall time of a request for 3 choices
against one for 1 (sampled, one client, `CHOICE_RUNS` each; the choices decode on both
replicas at once), and a JSON-schema request's parse rate (`JSON_RUNS` requests, each answer
parsed and checked against the schema's required keys).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai

from bus.traffic import latency_percentiles
from cortex.bench.soak import QUESTIONS
from cortex.config import DEFAULT_MODEL
from modules.models import save_tiny_llama

LEVELS = ((1, 50), (4, 150), (16, 300))
"""(clients at once, requests) in the order they run; memory is read after the first level
and after the last."""
KEY = "bench"
START_TIMEOUT_S = 900
CHOICE_RUNS = 5
JSON_RUNS = 20
TRIP = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 40}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--model tiny|default`, repeatable: the models to serve, one after the other;
    `--fields-only`: only n=3 vs n=1 and the JSON parse rate, not the 500 requests."""
    parser.add_argument(
        "--model",
        choices=["tiny", "default"],
        action="append",
        help="the models to serve (repeatable; default: both)",
    )
    parser.add_argument(
        "--fields-only",
        action="store_true",
        help="measure only n=3 vs n=1 and the JSON-schema parse rate",
    )


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One run per model asked for (default: ``tiny``, then ``default``)."""
    models = args.model or ["tiny", "default"]
    return [measure_model(model, not args.fields_only) for model in models]


def measure_model(model: str, load: bool = True) -> dict[str, Any]:
    """Starts a server on `model` (``tiny`` or ``default``), loads it level by level, stops it.

    Raises:
        RuntimeError: The server did not start, or stopped meanwhile.
    """
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "cortex.toml"
        config.write_text(_config_text(model, Path(folder)))
        port = _free_port()
        log = Path(folder) / "server.log"
        with log.open("w") as errors:  # the server keeps its own copy of the file
            server = subprocess.Popen(
                [sys.executable, "-m", "cortex.cli", "serve", "--config", str(config)]
                + ["--port", str(port), "--api-key", KEY]
                + ["--session", str(Path(folder) / "session.jsonl")],
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_healthy(base, server, log)
            client = openai.OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0, timeout=600)
            _one(client, QUESTIONS[0])  # warm-up: the first turn loads lazily built state
            return (
                {"model": model}
                | (_load(base, client) if load else {})
                | {
                    "choices": {f"n{n}_s": _choices_wall(client, n) for n in (1, 3)},
                    "json_parse_rate": _json_rate(client),
                }
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=120)


def _config_text(model: str, folder: Path) -> str:
    spec = DEFAULT_MODEL
    tokens = 16
    if model == "tiny":  # a wide initialisation makes the random model write varied text
        spec = str(save_tiny_llama(folder / "tiny", max_positions=1024, initializer_range=0.3))
        tokens = 24
    return (
        f'[runtime]\nnamespace = "serve-bench-{os.getpid()}"\ndevice = "cpu"\n\n'
        f'[regions.planning]\nmodel = "{spec}"\n\n'
        f'[regions.language]\nmodel = "{spec}"\nreplicas = 2\n\n'
        f"[regions.language.generation]\nmax_new_tokens = {tokens}\n"
        "end_at_sentence = false\n"  # every request decodes the same number of tokens
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _health(base: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{base}/health", headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        health: dict[str, Any] = json.loads(response.read())
        return health


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"cortex serve stopped: {log.read_text()[-2000:]}")
        try:
            _health(base)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(1)
    raise RuntimeError(f"cortex serve did not answer within {START_TIMEOUT_S} s")


def _memory(base: str) -> dict[str, float]:
    health = _health(base)
    regions = {name: r["rss_mb"] for name, r in sorted(health["regions"].items())}
    return {"server": health["server"]["rss_mb"], **regions}


def _load(base: str, client: openai.OpenAI) -> dict[str, Any]:
    levels, memory = [], {}
    asked = 0
    for index, (clients, requests) in enumerate(LEVELS):
        levels.append(_level(client, clients, requests, asked))
        asked += requests
        if index in (0, len(LEVELS) - 1):
            memory[f"after {asked}"] = _memory(base)
    first, last = memory.values()
    growth = {name: round(last[name] / first[name] - 1, 4) for name in first if first[name]}
    return {
        "levels": levels,
        "rss_mb": memory,
        "rss_growth": growth,
    }


def _choices_wall(client: openai.OpenAI, n: int) -> float:
    """Median seconds of a sampled request for `n` choices."""
    walls = []
    for run in range(CHOICE_RUNS):
        started = time.perf_counter()
        client.chat.completions.create(
            model="cortex",
            messages=[{"role": "user", "content": QUESTIONS[run % len(QUESTIONS)]}],
            n=n,
            temperature=0.8,
            seed=run,
        )
        walls.append(time.perf_counter() - started)
    return round(sorted(walls)[len(walls) // 2], 3)


def _json_rate(client: openai.OpenAI) -> float:
    """Share of JSON-schema answers that parse and hold the required keys."""
    parsed = 0
    schema = {"type": "json_schema", "json_schema": {"name": "trip", "schema": TRIP}}
    for run in range(JSON_RUNS):
        answer = client.chat.completions.create(
            model="cortex",
            messages=[
                {"role": "user", "content": f"Plan a trip: {QUESTIONS[run % len(QUESTIONS)]}"}
            ],
            response_format=schema,  # type: ignore[arg-type]
            max_tokens=64,
        )
        try:
            trip = json.loads(answer.choices[0].message.content or "")
        except json.JSONDecodeError:
            continue
        parsed += isinstance(trip, dict) and set(TRIP["required"]) <= set(trip)
    return round(parsed / JSON_RUNS, 3)


def _level(client: openai.OpenAI, clients: int, requests: int, offset: int) -> dict[str, Any]:
    questions = [QUESTIONS[(offset + i) % len(QUESTIONS)] for i in range(requests)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        timings = list(pool.map(lambda q: _one(client, q), questions))
    wall = time.perf_counter() - started
    done = [t for t in timings if not isinstance(t, str)]
    errors = sorted({t for t in timings if isinstance(t, str)})
    firsts = [first for first, _ in done if first is not None]
    lasts = [last for _, last in done]
    return {
        "clients": clients,
        "requests": requests,
        "requests_per_s": round(requests / wall, 2),
        "first_text_s": _percentiles(firsts),
        "last_s": _percentiles(lasts),
        "errors": requests - len(done),
        "error_kinds": errors[:3],
        "without_text": len(done) - len(firsts),
    }


def _percentiles(samples: list[float]) -> dict[str, float | None]:
    found = latency_percentiles(samples)
    p50, p99 = (round(s, 3) for s in found) if found else (None, None)
    return {"p50": p50, "p99": p99}


def _one(client: openai.OpenAI, question: str) -> tuple[float | None, float] | str:
    """Streams one answer: seconds to its first text and to its end, or the error."""
    started = time.perf_counter()
    first = None
    try:
        stream = client.chat.completions.create(
            model="cortex", messages=[{"role": "user", "content": question}], stream=True
        )
        for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - started
    except openai.OpenAIError as error:
        return f"{type(error).__name__}: {error}"[:300]
    return first, time.perf_counter() - started


def report(figures: list[dict[str, Any]]) -> str:
    """The figures as a table per model, then memory."""
    lines = []
    for run in figures:
        lines.append(f"model: {run['model']}")
        if "levels" not in run:
            lines += _fields_report(run)
            continue
        lines.append(
            f"{'clients':>7} {'requests':>8} {'req/s':>7} {'first p50':>9} {'p99':>7} "
            f"{'last p50':>9} {'p99':>7} {'errors':>6}"
        )
        for level in run["levels"]:
            first, last = level["first_text_s"], level["last_s"]
            lines.append(
                f"{level['clients']:>7} {level['requests']:>8} {level['requests_per_s']:>7} "
                f"{first['p50']!s:>9} {first['p99']!s:>7} {last['p50']!s:>9} "
                f"{last['p99']!s:>7} {level['errors']:>6}"
            )
        (early, early_mb), (late, late_mb) = run["rss_mb"].items()
        lines.append(f"{'process':<12} {'RSS MiB ' + early:>18} {late:>10} {'growth':>7}")
        for name, mb in early_mb.items():
            growth = run["rss_growth"].get(name)
            shown = "-" if growth is None else f"{growth:+.1%}"
            lines.append(f"{name:<12} {mb:>18} {late_mb[name]:>10} {shown:>7}")
        lines += _fields_report(run)
    return "\n".join(lines)


def _fields_report(run: dict[str, Any]) -> list[str]:
    n1, n3 = run["choices"]["n1_s"], run["choices"]["n3_s"]
    return [
        f"n=3 vs n=1: {n3} s vs {n1} s ({n3 / n1:.2f}x)",
        f"JSON-schema answers that parse: {run['json_parse_rate']:.0%}",
    ]
