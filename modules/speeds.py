"""What a text replica's device is fast at: its prefill and decode rates, measured once.

At start a text region runs a short probe through its own engine, as llama.cpp's
``llama-bench`` does with pp512 and tg128: it prefills `PREFILL_TOKENS` tokens of a prompt
(prompt processing, compute-bound) and decodes `DECODE_TOKENS` tokens one at a time (token
generation, memory-bound). The rates are cached per engine, weights and device in the
user's cache (``speeds.json``), so later starts read them instead of measuring; probes on one
machine take turns (a file lock), so replicas starting together do not slow each other's.
Delete the file to measure again.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modules.engines import Engine, SamplingSettings
from modules.errors import EngineError
from modules.models import cache_dir

log = logging.getLogger("cortex.speeds")

PREFILL_TOKENS = 256
DECODE_TOKENS = 32
PROBE_TEXT = (
    "The history of the printing press begins in the fifteenth century, when movable type "
    "changed how books were made, sold and read across Europe and then the world. "
)
PROBE_PROMPT = "Count slowly from one to one hundred, one number a line."


@dataclass(frozen=True)
class DeviceSpeeds:
    """A replica's measured rates on its device."""

    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    probe: str
    """What was measured: ``pp256 tg32`` (prompt tokens prefilled, tokens decoded)."""
    measured: str
    """When (local time), so a stale figure can be told from a fresh one."""
    cached: bool = False
    """Read from the cache rather than measured at this start."""

    def figures(self) -> dict[str, Any]:
        return asdict(self)


def device_key(engine: Engine, device: str) -> str:
    """What the rates depend on: the engine, the weights, the device and its threads."""
    weights = engine.kv_identity().weights if _hands_off(engine) else engine.model
    return f"{engine.name}|{weights}|{device}|{engine.threads} threads|{hardware(engine.device)}"


def hardware(device: str) -> str:
    """The processor's name: the GPU's, or the CPU's from /proc/cpuinfo."""
    if device.startswith("cuda"):
        import torch

        return str(torch.cuda.get_device_name(0))
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return os.uname().machine


def measured_speeds(engine: Engine, device: str) -> DeviceSpeeds:
    """The rates of `engine` on `device` (its label), from the cache or measured now."""
    from filelock import FileLock

    key = device_key(engine, device)
    path = cache_dir() / "speeds.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):  # one probe at a time on this machine
        known = _read(path)
        if key in known:
            return DeviceSpeeds(**{**known[key], "cached": True})
        speeds = probe(engine)
        known[key] = {k: v for k, v in speeds.figures().items() if k != "cached"}
        path.write_text(json.dumps(known, indent=1) + "\n")
    log.info(
        "%s: prefill %.1f tok/s, decode %.1f tok/s (%s)",
        device,
        speeds.prefill_tokens_per_s,
        speeds.decode_tokens_per_s,
        speeds.probe,
    )
    return speeds


def probe(engine: Engine) -> DeviceSpeeds:
    """Measures prefill and decode through the engine's own requests: a warm-up, a prompt
    answered with one token (its prefill), then a greedy answer timed token to token."""
    greedy = SamplingSettings(
        max_new_tokens=DECODE_TOKENS + 1, repetition_penalty=1.0, no_repeat_ngram=0
    )
    one_token = SamplingSettings(max_new_tokens=1)
    text_ids = engine.tokenize(PROBE_TEXT)
    length = max(2, min(PREFILL_TOKENS, engine.context_length - DECODE_TOKENS - 1))
    prompt = (text_ids * (length // len(text_ids) + 1))[:length]
    list(engine.submit_ids(prompt[::-1][:8], one_token))  # the first call allocates buffers
    started = time.perf_counter()
    list(engine.submit_ids(prompt, one_token))
    prefill_s = time.perf_counter() - started
    times = [time.perf_counter() for _ in engine.submit_ids(engine.tokenize(PROBE_PROMPT), greedy)]
    decoded = len(times) - 1  # the first token comes with the prompt's prefill
    decode = decoded / (times[-1] - times[0]) if decoded > 0 and times[-1] > times[0] else 0.0
    return DeviceSpeeds(
        round(length / prefill_s, 1),
        round(decode, 1),
        f"pp{length} tg{decoded}",
        time.strftime("%Y-%m-%d %H:%M"),
    )


def _hands_off(engine: Engine) -> bool:
    try:
        engine.kv_identity()
    except EngineError:  # an engine without KV handoff has no weights identity
        return False
    return True


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}
