"""`python -m cortex.bench slow-subscriber`: does a slow reader slow a region's decoding?

A language region on the default model decodes the regions bench's instruction alone, then
again while subscribers to every topic sleep between reads (a slow screen); it reports both
rates, their ratio, and the messages the sleepers had left unread.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from typing import Any

from bus.zmq_bus import ZmqTokenBus
from cortex.bench.regions import INSTRUCTION
from cortex.config import DEFAULT_MODEL, parse_config
from cortex.runtime.cortex import Cortex

SLEEPERS = 3
NAP_S = 0.02
"""Seconds each sleeper sleeps between two reads."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--tokens`: new tokens per request."""
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per request (64)")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """A language region's decode rate alone, then with `SLEEPERS` subscribers to every topic
    that each sleep `NAP_S` between reads."""
    config = parse_config(
        {
            "runtime": {"namespace": f"cortex-slow-{uuid.uuid4().hex[:6]}", "device": "cpu"},
            "regions": {
                "planning": {},
                "language": {"replicas": 1, "generation": {"max_new_tokens": args.tokens}},
            },
        },
        "slow-subscriber configuration",
    )
    with Cortex(config, only={"language"}, progress=lambda event: None) as brain:
        assert brain.bus is not None
        endpoints = brain.bus.endpoints  # type: ignore[attr-defined]
        _rate(brain)  # warm-up
        alone = _rate(brain)
        stop = threading.Event()
        lagging: list[int] = []
        threads = [
            threading.Thread(target=_sleeper, args=(endpoints, stop, lagging))
            for _ in range(SLEEPERS)
        ]
        for thread in threads:
            thread.start()
        with_sleepers = _rate(brain)
        stop.set()
        for thread in threads:
            thread.join()
    return {
        "tokens_per_request": args.tokens,
        "alone_tok_s": round(alone, 2),
        "with_sleepers_tok_s": round(with_sleepers, 2),
        "ratio": round(with_sleepers / alone, 3),
        "sleepers": SLEEPERS,
        "nap_s": NAP_S,
        "messages_left_unread": sum(lagging),
    }


def _rate(brain: Cortex) -> float:
    """Tokens per second of one stream of `INSTRUCTION`, request to last token."""
    started = time.perf_counter()
    count = sum(1 for _ in brain.stream("language", INSTRUCTION))
    return count / (time.perf_counter() - started)


def _sleeper(endpoints: Any, stop: threading.Event, lagging: list[int]) -> None:
    with ZmqTokenBus(endpoints) as bus:
        everything = bus.subscribe("*")
        while not stop.is_set():
            everything.recv(timeout=0.1)
            time.sleep(NAP_S)
        left = 0
        while everything.recv(timeout=0) is not None:
            left += 1
        lagging.append(left)


def report(figures: dict[str, Any]) -> str:
    """Both rates, and the second as a share of the first."""
    return (
        f"{DEFAULT_MODEL}, {figures['tokens_per_request']} new tokens, one language region\n"
        f"alone                                  {figures['alone_tok_s']:7.2f} tok/s\n"
        f"with {figures['sleepers']} subscribers sleeping {figures['nap_s'] * 1000:.0f} ms "
        f"a read {figures['with_sleepers_tok_s']:7.2f} tok/s ({figures['ratio']:.0%})"
    )
