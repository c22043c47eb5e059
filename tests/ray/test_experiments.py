"""`cortex.experiments.run` on the local Ray cluster with a tiny model: every mode runs, the
files are written, the pipeline moves one hidden state per token between its stages, and in
speculative mode the model, drafting for itself on the other device, keeps its own text."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from cortex.experiments import ExperimentSpec, run
from cortex.experiments.spec import Request
from modules.models import save_tiny_llama

pytestmark = pytest.mark.ray


def test_every_mode_runs_and_writes_its_results(ray_cluster: None, tmp_path: Path) -> None:
    model = save_tiny_llama(tmp_path / "model", 256, layers=4, initializer_range=0.5)
    spec = ExperimentSpec(
        name="tiny",
        model=str(model),
        devices=2,
        modes=["pipeline", "concurrent", "sequential", "batched", "speculative"],
        draft_model=str(model),
        max_new_tokens=12,
        requests=[
            Request(text="Compare tea and coffee.", subtasks=["About tea.", "About coffee."])
        ],
    )
    results = run(spec, tmp_path / "out", progress=False)

    modes = {"pipeline", "concurrent", "sequential", "batched", "speculative"}
    assert set(results.modes) == modes
    for figures in results.modes.values():
        assert figures["tokens"] == 24  # two subtasks of 12 tokens, in every mode
        assert figures["tokens_per_s"] > 0 and figures["ttft_s"] > 0
        assert len(figures["device_busy"]) == 2
        assert all(0 <= b <= 1 for b in figures["device_busy"])
    for one_device in ("sequential", "batched"):
        assert results.modes[one_device]["device_busy"][1] == 0  # device 1 never works
    pipeline = results.modes["pipeline"]
    assert pipeline["bytes_per_decode_token"] == 64 * 4  # hidden size x float32
    assert pipeline["prefill_bytes"] % (64 * 4) == 0 and pipeline["prefill_bytes"] > 64 * 4
    assert pipeline["hop_latency_ms"] > 0
    assert results.pipeline_matches_unsplit is True
    assert results.speedup["pipeline"] == 1.0
    speculative = results.modes["speculative"]
    assert speculative["device_busy"][1] > 0  # the draft drafted on device 1
    assert speculative["draft_proposed"] > 0 and speculative["acceptance_rate"] > 0.5
    assert speculative["identical_text"] is True and speculative["speedup"] > 0

    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert (
        saved["modes"]["concurrent"]["tokens_per_s"] == results.modes["concurrent"]["tokens_per_s"]
    )
    assert set(saved["speedup"]) == modes
    assert {"tokens_per_s", "acceptance_rate", "speedup", "identical_text"} <= set(
        saved["modes"]["speculative"]
    )
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert [r["mode"] for r in rows] == list(spec.modes)
    assert Image.open(tmp_path / "out" / "timeline.png").size[0] == 1200


def test_the_disaggregated_mode_prefills_on_device_1_and_decodes_on_device_0(
    ray_cluster: None, tmp_path: Path
) -> None:
    model = save_tiny_llama(tmp_path / "model", 1024, layers=4, initializer_range=0.5)
    spec = ExperimentSpec(
        name="tiny-disaggregated",
        model=str(model),
        engine="transformers",
        devices=2,
        modes=["sequential", "disaggregated"],
        max_new_tokens=12,
        prompt_cache=False,
        requests=[Request(text="Here is a long text. " * 120 + "Summarise it.")],
    )
    results = run(spec, tmp_path / "out", progress=False)

    handed = results.modes["disaggregated"]["handoff"]
    assert len(handed) == 1 and handed[0]["imported_tokens"] > 400 and not handed[0]["note"]
    assert set(handed[0]["predicted_s"]) == {"device 0", "device 1", "disaggregated"}
    assert handed[0]["took_s"] > 0 and handed[0]["kv_bytes"] > 0
    run_record = results.runs["disaggregated"][0]
    prefill = [s for s in run_record.spans if s.worker == "prefill"]
    decode = [s for s in run_record.spans if s.worker == "language"]
    assert [s.device for s in prefill] == [1] and [s.device for s in decode] == [0]
    assert decode[0].start >= prefill[0].start  # it decoded once the prefill was handed over
    assert run_record.outputs == results.runs["sequential"][0].outputs  # the same text
