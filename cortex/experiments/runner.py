"""`run(spec)`: every mode of an experiment, repeated, measured, and written out.

Modes run one after another, each on its own actors (so they never share the devices), with
one untimed warm-up pass first. On CPU cores, other programs' use of the cores is measured
before the run and during each mode's timed runs (`cortex.experiments.contention`), and a
mode they overlapped is flagged. Results go to `Results`, and with `out` to
``results.json``, ``results.csv``, ``timeline.png`` (every run of every mode) and the session
and bus logs of the region modes.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray
from tqdm import tqdm

from cortex.config import CortexConfig, load_config
from cortex.errors import PlacementError
from cortex.experiments.contention import CoreWatch, busy_warning
from cortex.experiments.disaggregated import DisaggregatedMode
from cortex.experiments.measures import RunRecord, baseline_of, speedups, summarise
from cortex.experiments.modes import PipelineMode, RegionsMode
from cortex.experiments.spec import ExperimentSpec, load_experiment
from cortex.experiments.speculative import compare as compare_speculative
from cortex.experiments.timeline import Block, draw_timeline
from cortex.runtime.cluster import cluster_address, connect_ray, start_local_ray

EXPERIMENT_NAMESPACE = "cortex-experiments"
"""The Ray namespace of an experiment's driver (each mode's regions take one of their own)."""


@dataclass
class Results:
    """What an experiment measured: each mode's mean figures and every run's spans."""

    spec: ExperimentSpec
    modes: dict[str, dict[str, Any]]
    runs: dict[str, list[RunRecord]]
    machine: dict[str, Any] = field(default_factory=dict)

    @property
    def speedup(self) -> dict[str, float]:
        """Each mode's tokens per second over `pipeline`'s (empty without a pipeline run)."""
        return speedups(self.modes)

    @property
    def pipeline_matches_unsplit(self) -> bool | None:
        """Whether the pipeline decoded the same text as the whole model on one device
        (None unless both `pipeline` and `sequential` ran)."""
        if "pipeline" not in self.runs or "sequential" not in self.runs:
            return None
        unsplit = self.runs["sequential"][0].outputs
        return all(run.outputs == unsplit for run in self.runs["pipeline"])

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment": self.spec.name,
            "description": self.spec.description,
            "spec": self.spec.model_dump(mode="json"),
            "machine": self.machine,
            "modes": self.modes,
            "speedup": self.speedup,
            "pipeline_matches_unsplit": self.pipeline_matches_unsplit,
            "runs": {mode: [run.figures() for run in runs] for mode, runs in self.runs.items()},
        }

    def table(self) -> str:
        """The summary as a text table; its last column compares each mode with the
        baseline (`baseline_of`: the pipeline, else the sequential mode)."""
        baseline = baseline_of(self.modes)
        versus = f"vs {baseline}" if baseline else ""
        lines = [
            f"{'mode':<12}{'wall s':>9}{'tokens':>8}{'tok/s':>9}{'ttft s':>9}  "
            f"{'busy per device':<24}{versus:>14}".rstrip()
        ]
        for mode, figures in self.modes.items():
            busy = " ".join(f"{b:.2f}" for b in figures["device_busy"])
            ttft = "-" if figures["ttft_s"] is None else f"{figures['ttft_s']:.3f}"
            speed = self.speedup.get(mode)
            lines.append(
                f"{mode:<12}{figures['wall_s']:>9.2f}{figures['tokens']:>8.0f}"
                f"{figures['tokens_per_s']:>9.2f}{ttft:>9}  {busy:<24}"
                f"{'' if speed is None else f'{speed:.2f}x':>14}".rstrip()
            )
        if "pipeline" in self.modes:
            p = self.modes["pipeline"]
            lines.append(
                f"pipeline: {p['bytes_per_decode_token']:g} bytes between stages per decoded "
                f"token, {p['prefill_bytes']:g} per prefill, {p['hop_latency_ms']:g} ms per hop"
            )
        for mode, figures in self.modes.items():
            warning = busy_warning(
                mode,
                figures.get("other_cores", 0.0),
                self.machine.get("other_cores_before", 0.0),
                self.machine.get("cpus", 1),
            )
            lines += [warning] if warning else []
        shared = self.spec.devices - self.machine.get("cpus", self.spec.devices)
        if self.machine.get("devices") == "cpu cores" and shared > 0:
            lines.append(
                f"note: {self.spec.devices} devices on {self.machine['cpus']} CPU cores, so "
                f"{shared} device(s) share a core with another"
            )
        for part in self.modes.get("disaggregated", {}).get("handoff", []):
            guess = ", ".join(f"{where} {s:.2f} s" for where, s in part["predicted_s"].items())
            lines.append(
                f"disaggregated, step {part['step']} ({part['prompt_tokens']} prompt tokens): "
                f"the speeds predicted {guess}; it took {part['took_s']:.2f} s: a prefill of "
                f"{part['prefill_s'] or 0:.2f} s, {part['transfer_s'] or 0:.3f} s to carry "
                f"{(part['kv_bytes'] or 0) / 1e6:.1f} MB"
            )
        if "speculative" in self.modes:
            lines.append(_speculative_line(self.modes["speculative"]))
        if self.pipeline_matches_unsplit is not None:
            same = "the same" if self.pipeline_matches_unsplit else "DIFFERENT"
            lines.append(f"pipeline decoded {same} text as the unsplit model (sequential)")
        return "\n".join(lines)

    def save(self, out: str | Path) -> Path:
        """Writes results.json, results.csv and timeline.png into `out`."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(self.to_json(), indent=2) + "\n")
        with (out / "results.csv").open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(
                ["mode", "repetition", "wall_s", "tokens", "tokens_per_s", "ttft_s"]
                + [f"busy_device_{d}" for d in range(self.spec.devices)]
            )
            for mode, runs in self.runs.items():
                for repetition, run in enumerate(runs):
                    f = run.figures()
                    writer.writerow(
                        [mode, repetition, f["wall_s"], f["tokens"], f["tokens_per_s"], f["ttft_s"]]
                        + f["device_busy"]
                    )
        blocks = [
            Block(
                mode if len(runs) == 1 else f"{mode}, run {number} of {len(runs)}",
                [f"device {d}" for d in range(run.devices)],
                run.spans,
                run.start,
                run.end,
            )
            for mode, runs in self.runs.items()
            for number, run in enumerate(runs, start=1)
        ]
        if "pipeline" in self.runs:
            blocks.append(_close_up(self.runs["pipeline"][0]))
        draw_timeline(blocks, out / "timeline.png")
        return out


def _speculative_line(figures: dict[str, Any]) -> str:
    """What the draft did: its acceptance rate, the speed-up, whether the text held."""
    rate = figures.get("acceptance_rate")
    line = "speculative: " + (
        "no draft tokens verified"
        if rate is None
        else f"{rate:.0%} of {figures['draft_proposed']:g} draft tokens accepted"
    )
    if figures.get("speedup") is not None:
        same = "the same text" if figures["identical_text"] else "DIFFERENT text"
        line += f", {figures['speedup']:.2f}x the target alone, {same}"
    if figures.get("fallbacks"):
        line += f"; {figures['fallbacks']:g} stream(s) fell back to decoding alone"
    return line


def _close_up(run: RunRecord, steps: int = 12) -> Block:
    """A few decode steps from the middle of a pipeline run, where its idle gaps show."""
    starts = sorted(s.start for s in run.spans if s.device == 0)
    middle = max(0, len(starts) // 2 - steps // 2)
    window = starts[middle : middle + steps + 1]
    start, end = window[0], window[-1] if len(window) > 1 else run.end
    lanes = [f"device {d}" for d in range(run.devices)]
    return Block(f"pipeline, {len(window) - 1} decode steps", lanes, run.spans, start, end, True)


def run(
    spec: ExperimentSpec | str | Path,
    out: str | Path | None = None,
    progress: bool = True,
    config: CortexConfig | None = None,
    address: str | None = None,
) -> Results:
    """Runs an experiment on a Ray cluster: the one already initialised in this process, the
    one at `address` (else ``RAY_ADDRESS``), or one of its own started for it. `config`'s
    runtime and bus settings (the default configuration's without it) apply to every mode;
    its device policy decides between GPUs and CPU cores.

    Raises:
        ConfigError: The experiment file is invalid (the message names the field).
        CortexError: A region failed to start or a request failed.
    """
    spec = spec if isinstance(spec, ExperimentSpec) else load_experiment(spec)
    config = config or load_config()
    owns_ray = not ray.is_initialized()
    target = cluster_address(address)
    if owns_ray and target is not None:
        connect_ray(target, EXPERIMENT_NAMESPACE)
    elif owns_ray:
        runtime = config.runtime
        start_local_ray(EXPERIMENT_NAMESPACE, runtime.dashboard, runtime.dashboard_host)
    try:
        machine = _machine(spec, config)
        watch = CoreWatch() if machine["devices"] == "cpu cores" and target is None else None
        if watch is not None:
            machine["other_cores_before"] = round(watch.before(), 2)
        runs, other = _run_modes(spec, config, machine, out, progress, watch)
    finally:
        if owns_ray:
            ray.shutdown()
    machine["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    modes = {mode: summarise(r) | other.get(mode, {}) for mode, r in runs.items()}
    compare_speculative(modes, runs)
    results = Results(spec, modes, runs, machine)
    if out is not None:
        results.save(out)
    return results


def _machine(spec: ExperimentSpec, config: CortexConfig) -> dict[str, Any]:
    """The devices the modes run on: GPUs when the cluster has one per device and the device
    policy allows them, else CPU cores.

    Raises:
        PlacementError: The policy is ``gpu`` and the cluster has too few GPUs.
    """
    gpus = int(ray.cluster_resources().get("GPU", 0))
    policy = config.runtime.device
    if policy == "gpu" and gpus < spec.devices:
        raise PlacementError(
            f"the experiment runs on {spec.devices} devices and the device policy is gpu, but "
            f"the cluster has {gpus} GPUs; use --device cpu or auto"
        )
    use_gpus = policy != "cpu" and gpus >= spec.devices
    return {
        "cpus": os.cpu_count() or 1,
        "gpus": gpus,
        "devices": "gpus" if use_gpus else "cpu cores",
        "platform": platform.platform(),
    }


def _run_modes(
    spec: ExperimentSpec,
    config: CortexConfig,
    machine: dict[str, Any],
    out: str | Path | None,
    progress: bool,
    watch: CoreWatch | None,
) -> tuple[dict[str, list[RunRecord]], dict[str, dict[str, float]]]:
    """Each mode's warm-up pass and timed runs; and, with `watch`, how many cores' worth of
    work other programs did during each mode's timed runs (``other_cores``)."""
    logs = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="cortex-experiment-"))
    total = len(spec.modes) * (spec.repetitions + 1) * len(spec.requests)
    bar = tqdm(total=total, desc=spec.name, unit="request", disable=not progress)
    runs: dict[str, list[RunRecord]] = {}
    other: dict[str, dict[str, float]] = {}
    use_gpus = machine["devices"] == "gpus"
    try:
        for mode in spec.modes:
            bar.set_postfix_str(f"{mode}: starting")
            session = logs / f"{mode}-session.jsonl"
            runner: PipelineMode | RegionsMode = (
                PipelineMode(spec, use_gpus, machine["cpus"])
                if mode == "pipeline"
                else DisaggregatedMode(spec, session, config)
                if mode == "disaggregated"
                else RegionsMode(spec, mode, session, config)
            )
            with runner:
                bar.set_postfix_str(f"{mode}: warming up")
                runner.run_once()
                bar.update(len(spec.requests))
                start = watch.read() if watch is not None else None
                runs[mode] = []
                for repetition in range(spec.repetitions):
                    bar.set_postfix_str(f"{mode}: run {repetition + 1}/{spec.repetitions}")
                    runs[mode].append(runner.run_once())
                    bar.update(len(spec.requests))
                if watch is not None and start is not None:
                    cores = watch.other_cores(start, watch.read())
                    other[mode] = {"other_cores": round(cores, 2)}
    finally:
        bar.close()
    return runs, other
