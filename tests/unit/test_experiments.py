"""Experiments without Ray: figures from synthetic spans, the pipeline's byte counts, the
experiment file's errors, the timeline picture, and replaying a recorded bus log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from bus import Recorder, SubtaskResult
from bus.codec import encode
from bus.tokenbus import Delivery
from cortex.cli import main
from cortex.errors import ConfigError, CortexError
from cortex.experiments import load_experiment
from cortex.experiments.contention import CoreWatch, Reading
from cortex.experiments.measures import RunRecord, Span, speedups, summarise
from cortex.experiments.modes import _pipeline_figures
from cortex.experiments.replay import replay_block
from cortex.experiments.runner import Results
from cortex.experiments.timeline import Block, colour, draw_timeline
from modules.pipeline import StageStats

EXPERIMENTS = Path(__file__).parents[2] / "experiments"
DATA = Path(__file__).parents[1] / "data"


def two_device_run() -> RunRecord:
    """10 s on two devices: device 0 works 0-4 and 6-10 s, device 1 works 0-5 s."""
    run = RunRecord("concurrent", devices=2, start=100.0, end=110.0, tokens=90)
    run.spans = [
        Span(0, "language-0", "r0/1", 100.0, 104.0, 40),
        Span(0, "language-0", "r1/1", 106.0, 110.0, 20),
        Span(1, "language-1", "r0/2", 100.0, 105.0, 30),
    ]
    run.ttft_s = [0.2, 0.4]
    return run


def test_figures_come_from_the_spans() -> None:
    figures = two_device_run().figures()
    assert figures["wall_s"] == 10.0 and figures["tokens"] == 90
    assert figures["tokens_per_s"] == 9.0
    assert figures["device_busy"] == [0.8, 0.5]
    assert figures["device_tokens_per_s"] == [6.0, 3.0]
    assert figures["ttft_s"] == pytest.approx(0.3)


def test_pipeline_stage_spans_alternate_and_each_device_idles() -> None:
    run = RunRecord("pipeline", devices=2, start=0.0, end=1.0, tokens=10)
    for step in range(10):  # stage 0 works the first 40% of each step, stage 1 the next 50%
        run.spans.append(Span(0, "stage-0", "step", step / 10, step / 10 + 0.04, 1))
        run.spans.append(Span(1, "stage-1", "step", step / 10 + 0.04, step / 10 + 0.09, 1))
    figures = run.figures()
    assert figures["device_busy"] == [0.4, 0.5]
    assert figures["device_tokens_per_s"] == [10.0, 10.0]


def test_repetitions_average_and_speedup_is_over_pipeline() -> None:
    first, second = two_device_run(), two_device_run()
    second.end = 120.0  # twice the wall time: half the rate, half the busy share
    summary = summarise([first, second])
    assert summary["repetitions"] == 2 and summary["tokens_per_s"] == pytest.approx(6.75)
    assert summary["device_busy"] == [0.6, 0.375]
    modes = {"pipeline": {"tokens_per_s": 10.0}, "concurrent": {"tokens_per_s": 21.0}}
    assert speedups(modes) == {"pipeline": 1.0, "concurrent": 2.1}
    assert speedups({"sequential": {"tokens_per_s": 3.0}, "batched": {"tokens_per_s": 6.0}}) == {
        "sequential": 1.0,
        "batched": 2.0,
    }
    assert speedups({"concurrent": {"tokens_per_s": 3.0}}) == {}


def test_pipeline_bytes_are_hidden_size_times_dtype_per_token() -> None:
    hidden, prompt = 576 * 4, 37
    stage = StageStats(
        bytes_in=[(0, hidden * prompt)] + [(step, hidden) for step in range(1, 48)],
        hop_ms=[0.5, 0.7, 0.6],
    )
    figures = _pipeline_figures([stage])
    assert figures["bytes_per_decode_token"] == 2304
    assert figures["prefill_bytes"] == 2304 * 37
    assert figures["hop_latency_ms"] == pytest.approx(0.6)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n' + text)
    return path


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('modes = ["warp"]\n[[requests]]\ntext = "Hi"\n', "modes.0: Input should be 'sequential'"),
        (
            'modes = ["concurrent"]\nregions = ["language", "poetry"]\n[[requests]]\ntext = "Hi"\n',
            "regions: regions.1: unknown region 'poetry'",
        ),
        (
            'modes = ["concurrent"]\nregions = ["language", "vision"]\n'
            '[[requests]]\ntext = "Hi"\nimage = "missing.jpg"\n',
            "requests.0.image: no file at",
        ),
        (
            'modes = ["concurrent"]\n[[requests]]\ntext = "Look"\nimage = "cat.jpg"\n',
            "requests.0.image: needs a vision region",
        ),
        (
            'modes = ["pipeline"]\nregions = ["language", "planning"]\n[[requests]]\ntext = "Hi"\n',
            "pipeline mode splits the language model only",
        ),
        ('modes = ["sequential"]\nrequests = []\n', "requests: List should have at least 1 item"),
        (
            'modes = ["disaggregated"]\ndevices = 1\n[[requests]]\ntext = "Hi"\n',
            "disaggregated prefills on device 1 and decodes on device 0",
        ),
        (
            'modes = ["sequential"]\nengine = "transformers"\ndevice_weights = ["q8_0"]\n'
            '[[requests]]\ntext = "Hi"\n',
            "weight formats are GGUF files for llama.cpp",
        ),
        (
            'modes = ["concurrent"]\ndevice_weights = ["", "q8_0"]\n[[requests]]\ntext = "Hi"\n',
            "the concurrent mode runs one weight format",
        ),
        (
            'modes = ["speculative"]\n[[requests]]\ntext = "Hi"\n',
            "speculative mode needs a draft_model",
        ),
        (
            'modes = ["speculative"]\ndraft_model = "embedded:smollm2-135m-instruct"\n'
            'devices = 1\n[[requests]]\ntext = "Hi"\n',
            "set devices = 2",
        ),
    ],
)
def test_a_bad_experiment_file_names_the_field(tmp_path: Path, body: str, named: str) -> None:
    (tmp_path / "cat.jpg").write_bytes((DATA / "cat.jpg").read_bytes())
    with pytest.raises(ConfigError, match="bad.toml: ") as raised:
        load_experiment(write(tmp_path, body))
    assert named in str(raised.value)


def test_cli_reports_a_bad_experiment_without_starting_anything(tmp_path: Path, capsys) -> None:
    assert main(["run", str(write(tmp_path, 'modes = ["warp"]\n'))]) == 1
    assert "modes.0" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "absent.toml")]) == 2
    assert "no experiment file at" in capsys.readouterr().err


def test_shipped_experiments_load() -> None:
    specs = {p.stem: load_experiment(p) for p in EXPERIMENTS.glob("*.toml")}
    assert set(specs) == {
        "pipeline_vs_concurrent",
        "batched_vs_concurrent",
        "manager_delegates",
        "multimodal_turn",
        "disaggregated",
        "speculative",
    }
    assert specs["pipeline_vs_concurrent"].devices == 2
    assert set(specs["pipeline_vs_concurrent"].modes) == {
        "pipeline",
        "concurrent",
        "sequential",
        "batched",
    }
    assert specs["batched_vs_concurrent"].engine == "llama.cpp"
    assert specs["manager_delegates"].planner
    assert {"vision", "speech"} <= set(specs["multimodal_turn"].regions)
    disaggregated = specs["disaggregated"]
    assert disaggregated.weights(1) == "q8_0" and not disaggregated.prompt_cache
    speculative = specs["speculative"]
    assert (speculative.engine, speculative.draft_engine) == ("transformers", "llama.cpp")
    assert speculative.modes == ["sequential", "speculative"]


def test_timeline_draws_busy_spans_on_their_lanes(tmp_path: Path) -> None:
    run = two_device_run()
    path = draw_timeline(
        [Block("concurrent", ["device 0", "device 1"], run.spans, run.start, run.end)],
        tmp_path / "t.png",
    )
    image = Image.open(path).convert("RGB")
    left, scale = 16 + 170, (1200 - 170 - 32) / 10
    lane_y = [16 + 24 + 13, 16 + 24 + 26 + 13]
    assert image.getpixel((int(left + 2 * scale), lane_y[0])) == colour("language-0")
    assert image.getpixel((int(left + 5 * scale), lane_y[0])) == (238, 238, 238)  # idle
    assert image.getpixel((int(left + 2 * scale), lane_y[1])) == colour("language-1")
    assert image.getpixel((int(left + 7 * scale), lane_y[1])) == (238, 238, 238)


def test_replay_draws_the_subtasks_of_a_bus_log(tmp_path: Path) -> None:
    log = tmp_path / "session.bus"
    with Recorder(log) as recorder:
        for replica, device, start in (("language-0", "gpu:0", 1.0), ("language-1", "gpu:1", 1.5)):
            result = SubtaskResult(
                turn_id="t1",
                subtask_id=replica[-1],
                stream_id=f"t1/{replica[-1]}",
                region="language",
                replica=replica,
                device=device,
                ok=True,
                text="x",
                tokens=12,
                started=start,
                finished=start + 2,
            )
            recorder.write(Delivery(f"region.{replica}.out", result, start + 2, encode(result)))
    block = replay_block(log)
    assert block.lanes == ["gpu:0 (language-0)", "gpu:1 (language-1)"]
    assert [(s.device, s.start, s.end, s.tokens) for s in block.spans] == [
        (0, 1.0, 3.0, 12),
        (1, 1.5, 3.5, 12),
    ]
    assert (block.start, block.end) == (1.0, 3.5)
    assert main(["replay", str(log), "--out", str(tmp_path / "t.png")]) == 0
    assert Image.open(tmp_path / "t.png").size[0] == 1200
    with pytest.raises(CortexError, match="no bus log at"):
        replay_block(tmp_path / "none.bus")


def results_of(modes: dict[str, list[RunRecord]], machine: dict | None = None) -> Results:
    spec = load_experiment(EXPERIMENTS / "batched_vs_concurrent.toml")
    summaries = {mode: summarise(runs) for mode, runs in modes.items()}
    return Results(spec, summaries, modes, machine or {"cpus": 2, "devices": "cpu cores"})


def test_the_table_compares_with_the_mode_that_ran() -> None:
    sequential = two_device_run()
    sequential.end = 120.0
    with_sequential = results_of({"sequential": [sequential], "concurrent": [two_device_run()]})
    heading, first, second = with_sequential.table().splitlines()[:3]
    assert heading.endswith("vs sequential") and "pipeline" not in heading
    assert first.endswith("1.00x") and second.endswith("2.00x")
    alone = results_of({"concurrent": [two_device_run()]}).table().splitlines()[0]
    assert alone.endswith("busy per device")


def test_a_mode_other_programs_shared_the_cores_with_is_flagged() -> None:
    results = results_of(
        {"sequential": [two_device_run()], "concurrent": [two_device_run()]},
        {"cpus": 2, "devices": "cpu cores", "other_cores_before": 0.05},
    )
    results.modes["sequential"]["other_cores"] = 0.1
    results.modes["concurrent"]["other_cores"] = 1.3
    warnings = [line for line in results.table().splitlines() if line.startswith("warning")]
    assert warnings == [
        "warning: during concurrent, other programs used 1.30 of the 2 cores (0.05 in the "
        "second before the first mode): its figures understate these devices; run it again on "
        "an idle machine"
    ]


def test_other_programs_work_is_the_machine_s_less_the_experiment_s() -> None:
    watch = CoreWatch()
    start = Reading(at=0.0, machine_s=10.0, ours_s={1: 5.0})
    end = Reading(at=2.0, machine_s=13.0, ours_s={1: 6.0, 2: 0.5})  # 2 started meanwhile
    assert watch.other_cores(start, end) == pytest.approx(0.75)
    reading = watch.read()
    assert os.getpid() in reading.ours_s and reading.machine_s > 0


def test_the_timeline_draws_every_run_of_every_mode(tmp_path: Path, monkeypatch) -> None:
    drawn: list[Block] = []
    monkeypatch.setattr(
        "cortex.experiments.runner.draw_timeline", lambda blocks, path: drawn.extend(blocks)
    )
    results_of({"concurrent": [two_device_run(), two_device_run()]}).save(tmp_path)
    assert [block.title for block in drawn] == ["concurrent, run 1 of 2", "concurrent, run 2 of 2"]


def test_each_region_kind_has_a_colour_of_its_own() -> None:
    kinds = ["planning", "language", "vision", "speech", "stage", "critic"]
    colours = [colour(f"{kind}-0", tuple(kinds)) for kind in kinds]
    for index, first in enumerate(colours):
        for second in colours[index + 1 :]:
            assert sum(abs(a - b) for a, b in zip(first, second, strict=True)) > 90
    assert len({colour(f"language-{replica}") for replica in range(3)}) == 3


def test_run_takes_the_options_of_every_command_that_starts_regions(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    shown = capsys.readouterr().out
    assert all(option in shown for option in ("--config", "--address", "--device", "--out"))
