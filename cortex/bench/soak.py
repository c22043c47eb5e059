"""Reliability benchmarks: a long soak of turns, and decoding beside slow subscribers.

`soak` runs many turns on tiny random models (the real planner, language regions,
bus and supervisor; only the weights are tiny) and reports turns per minute, the resident
memory of every region and of the driver after warm-up and at the end, and the actors left
behind after shutdown. `slow_subscribers` measures a region's decode rate with and without
subscribers that sleep between reads.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import ray
from tqdm import tqdm

from bus.zmq_bus import ZmqTokenBus
from cortex.config import parse_config
from cortex.runtime.cluster import real_stderr
from cortex.runtime.cortex import Cortex
from modules.host import resident_mb
from modules.models import save_tiny_llama

QUESTIONS = (
    "Compare tea and coffee on caffeine and taste.",
    "What is the capital of France?",
    "Compare trains and planes for a trip to Berlin.",
    "Name three colours.",
)
WARM_UP_TURNS = 5


def soak(turns: int = 200, progress: bool = True) -> dict[str, Any]:
    """Runs `turns` turns and reports rate, memory growth and leaked actors."""
    namespace = f"cortex-soak-{uuid.uuid4().hex[:6]}"
    owns_ray = not ray.is_initialized()
    if owns_ray:  # started here, so it is still up to count what shutdown left behind
        with real_stderr():
            ray.init(logging_level=logging.ERROR, log_to_driver=False, include_dashboard=False)
    with tempfile.TemporaryDirectory() as folder:
        model = str(save_tiny_llama(Path(folder) / "model", max_positions=1024))
        config = parse_config(
            {
                "runtime": {"namespace": namespace, "device": "cpu"},
                "regions": {
                    "planning": {"model": model, "generation": {"max_new_tokens": 32}},
                    "language": {
                        "model": model,
                        "replicas": 2,
                        "generation": {"max_new_tokens": 24},
                    },
                },
            },
            "soak configuration",
        )
        session = Path(folder) / "session.jsonl"
        with Cortex(config, session_log=session, progress=lambda event: None) as brain:
            for index in range(WARM_UP_TURNS):
                brain.ask(QUESTIONS[index % len(QUESTIONS)])
            start = _memory(brain)
            started = time.perf_counter()
            planned = 0
            for index in tqdm(range(turns), desc="soak", unit="turn", disable=not progress):
                record = brain.ask(QUESTIONS[index % len(QUESTIONS)])
                planned += len(record.plan) > 1
            elapsed = time.perf_counter() - started
            end = _memory(brain)
        leaked = [
            a["name"]
            for a in ray.util.list_named_actors(all_namespaces=True)
            if a["namespace"] == namespace
        ]
    if owns_ray:
        ray.shutdown()
    growth = {name: round(end[name] / start[name] - 1, 4) for name in start if start[name]}
    return {
        "turns": turns,
        "turns_per_minute": round(turns / elapsed * 60, 1),
        "turns_with_a_plan_of_several_steps": planned,
        "rss_mb_start": start,
        "rss_mb_end": end,
        "rss_growth": growth,
        "leaked_actors": leaked,
    }


def _memory(brain: Cortex) -> dict[str, float]:
    memory = {region["name"]: region["rss_mb"] for region in brain.regions()}
    memory["driver"] = resident_mb()
    return memory


def slow_subscribers(tokens: int = 64, sleepers: int = 3, nap_s: float = 0.02) -> dict[str, Any]:
    """A language region's decode rate alone, then with `sleepers` subscribers to every topic
    that each sleep `nap_s` between reads (a slow screen)."""
    config = parse_config(
        {
            "runtime": {"namespace": f"cortex-slow-{uuid.uuid4().hex[:6]}", "device": "cpu"},
            "regions": {
                "planning": {},
                "language": {"replicas": 1, "generation": {"max_new_tokens": tokens}},
            },
        },
        "slow-subscriber configuration",
    )
    instruction = "Write a long story about a dragon who learns to bake bread."
    with Cortex(config, only={"language"}, progress=lambda event: None) as brain:
        assert brain.bus is not None
        endpoints = brain.bus.endpoints  # type: ignore[attr-defined]

        def rate() -> float:
            started = time.perf_counter()
            count = sum(1 for _ in brain.stream("language", instruction))
            return count / (time.perf_counter() - started)

        rate()  # warm-up
        alone = rate()
        stop = threading.Event()
        lagging: list[int] = []
        threads = [
            threading.Thread(target=_sleeper, args=(endpoints, nap_s, stop, lagging))
            for _ in range(sleepers)
        ]
        for thread in threads:
            thread.start()
        with_sleepers = rate()
        stop.set()
        for thread in threads:
            thread.join()
    return {
        "tokens_per_request": tokens,
        "alone_tok_s": round(alone, 2),
        "with_sleepers_tok_s": round(with_sleepers, 2),
        "ratio": round(with_sleepers / alone, 3),
        "sleepers": sleepers,
        "nap_s": nap_s,
        "messages_left_unread": sum(lagging),
    }


def _sleeper(endpoints: Any, nap_s: float, stop: threading.Event, lagging: list[int]) -> None:
    with ZmqTokenBus(endpoints) as bus:
        everything = bus.subscribe("*")
        while not stop.is_set():
            everything.recv(timeout=0.1)
            time.sleep(nap_s)
        left = 0
        while everything.recv(timeout=0) is not None:
            left += 1
        lagging.append(left)
