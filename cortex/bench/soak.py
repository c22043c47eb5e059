"""`python -m cortex.bench soak`: many turns in a row, and what they leave behind.

It runs many turns on tiny random models (the real planner, language regions, bus and
supervisor; only the weights are tiny) and reports turns per minute, the resident memory of
every region and of the driver after warm-up and at the end, and the actors left behind after
shutdown.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import ray
from tqdm import tqdm

from cortex.config import CortexConfig, parse_config
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--turns`: how many turns to run after the warm-up."""
    parser.add_argument("--turns", type=int, default=200, help="turns of the soak (200)")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Runs `args.turns` turns and reports rate, memory growth and leaked actors."""
    namespace = f"cortex-soak-{uuid.uuid4().hex[:6]}"
    owns_ray = not ray.is_initialized()
    if owns_ray:  # started here, so it is still up to count what shutdown left behind
        with real_stderr():
            ray.init(logging_level=logging.ERROR, log_to_driver=False, include_dashboard=False)
    with tempfile.TemporaryDirectory() as folder:
        config = soak_config(namespace, Path(folder))
        session = Path(folder) / "session.jsonl"
        with Cortex(config, session_log=session, progress=lambda event: None) as brain:
            figures = run_turns(brain, args.turns, progress=not args.json)
        figures["leaked_actors"] = [
            a["name"]
            for a in ray.util.list_named_actors(all_namespaces=True)
            if a["namespace"] == namespace
        ]
    if owns_ray:
        ray.shutdown()
    return figures


def soak_config(namespace: str, folder: Path) -> CortexConfig:
    """The planner and two language replicas on one tiny random model saved in `folder`."""
    model = str(save_tiny_llama(folder / "model", max_positions=1024))
    return parse_config(
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


def run_turns(brain: Cortex, turns: int, progress: bool) -> dict[str, Any]:
    """Warms up, then asks `turns` questions: the rate and resident memory before and after."""
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
    growth = {name: round(end[name] / start[name] - 1, 4) for name in start if start[name]}
    return {
        "turns": turns,
        "turns_per_minute": round(turns / elapsed * 60, 1),
        "turns_with_a_plan_of_several_steps": planned,
        "rss_mb_start": start,
        "rss_mb_end": end,
        "rss_growth": growth,
    }


def _memory(brain: Cortex) -> dict[str, float]:
    memory = {region["name"]: region["rss_mb"] for region in brain.regions()}
    memory["driver"] = resident_mb()
    return memory


def report(figures: dict[str, Any]) -> str:
    """The rate, then each process's memory at the start and end, then the actors left."""
    lines = [
        f"{figures['turns']} turns on tiny models: {figures['turns_per_minute']} turns/min "
        f"({figures['turns_with_a_plan_of_several_steps']} planned in several steps)",
        f"{'process':<12}{'RSS MiB start':>15}{'end':>10}{'growth':>9}",
    ]
    for name, start in figures["rss_mb_start"].items():
        growth = figures["rss_growth"].get(name)
        shown = "-" if growth is None else f"{growth:+.1%}"
        lines.append(f"{name:<12}{start:>15.1f}{figures['rss_mb_end'][name]:>10.1f}{shown:>9}")
    lines.append(f"actors left after shutdown: {len(figures['leaked_actors'])}")
    return "\n".join(lines)
