"""Speculative decoding without a model: the accept/reject rule's distribution, the window,
the draft protocol between a target's proposer and a draft server on the in-process bus
(corrections, a silent draft, a refused tokenizer), the configuration of draft regions,
the speculative experiment's figures and the metrics."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import torch
from scipy.stats import chisquare

from bus import Event, InProcessBus
from bus.topics import region_out
from cortex.cli.status import format_status
from cortex.config import parse_config
from cortex.errors import ConfigError
from cortex.experiments.measures import RunRecord
from cortex.experiments.speculative import compare
from cortex.runtime import metrics as region_metrics
from cortex.runtime.placement import check_drafts, plan_instances, replicas_by_kind
from modules import speculation
from modules.draft import DraftServer
from modules.engines import Piece, SamplingSettings, Stream
from modules.engines.sampling import speculative_pick
from modules.engines.speculative import MAX_WINDOW, Proposer, Window
from modules.speculation import DraftLink
from tui.regions import speculation_line

P = torch.tensor([0.40, 0.25, 0.15, 0.10, 0.06, 0.04])


@pytest.mark.slow
@pytest.mark.parametrize("proposed", [0, 3, 5])
def test_speculative_pick_draws_from_the_target_whatever_is_proposed(proposed: int) -> None:
    generator = torch.Generator().manual_seed(7)
    draws = 8_000
    counts = torch.zeros(len(P))
    kept = 0
    for _ in range(draws):
        token, accepted = speculative_pick(P * 3, proposed, generator)  # weights, unnormalised
        counts[token] += 1
        kept += accepted
    assert chisquare(counts.numpy(), (P * draws).numpy()).pvalue > 1e-3
    assert abs(kept / draws - float(P[proposed])) < 0.025  # accepted with probability p(x)


def test_a_proposal_the_target_rules_out_is_never_kept() -> None:
    generator = torch.Generator().manual_seed(0)
    target = torch.tensor([0.5, 0.5, 0.0])
    assert {speculative_pick(target, 2, generator) for _ in range(200)} <= {(0, False), (1, False)}


def test_the_window_follows_the_acceptance_rate() -> None:
    window = Window()
    assert window.size == 4  # before anything is measured
    for _ in range(30):
        window.update(proposed=window.size, accepted=window.size)
    assert window.size == MAX_WINDOW
    for _ in range(60):
        window.update(proposed=window.size, accepted=0)
    assert window.size == 1


class ScriptedDraft:
    """An engine stand-in for a draft region: after any prompt it decodes `script` from the
    position the prompt reaches past `prompt_length`, one token a call to the test's `step`."""

    def __init__(self, script: list[int], prompt_length: int) -> None:
        self.script, self.prompt_length = script, prompt_length
        self.streams: list[Stream] = []
        self.histories: list[tuple[int, ...]] = []

    def submit_ids(self, prompt: list[int], sampling: SamplingSettings) -> Stream:
        stream = Stream(len(prompt))
        self.streams.append(stream)
        self.histories.append(sampling.history)
        start = len(prompt) - self.prompt_length

        def decode() -> None:
            for token in self.script[start:]:
                if stream.cancelled.is_set():
                    stream.end("cancelled")
                    return
                stream.put(Piece(token, ""))
            stream.end("stop")

        threading.Thread(target=decode, daemon=True).start()
        return stream


PROMPT = [1, 2, 3]
SCRIPT = [10, 11, 12, 13, 14, 15, 16, 17]
GREEDY = SamplingSettings(max_new_tokens=8, repetition_penalty=1.0, no_repeat_ngram=0)


def ready(proposer: Proposer, generated: list[int], count: int) -> list[int]:
    """The proposals once `count` are there (each call waits a moment for them)."""
    deadline = time.monotonic() + 30
    while len(offered := proposer.proposals(generated, count, wait_s=1.0)) < count:
        assert time.monotonic() < deadline, offered
    return offered


@pytest.fixture()
def pairing(bus: InProcessBus) -> Iterator[tuple[DraftLink, ScriptedDraft]]:
    engine = ScriptedDraft(SCRIPT, len(PROMPT))
    server = DraftServer(engine, bus, "draft", tokenizer="same")  # type: ignore[arg-type]
    link = DraftLink(bus, "target", "draft", tokenizer="same")
    yield link, engine
    link.close()
    server.close()


def test_the_draft_proposes_ahead_and_resumes_from_the_targets_tokens(
    pairing: tuple[DraftLink, ScriptedDraft],
) -> None:
    link, engine = pairing
    proposer = link.proposer()
    proposer.begin(PROMPT, GREEDY, history=[7])
    assert ready(proposer, [], count=4) == SCRIPT[:4]
    assert ready(proposer, [10, 11], count=3) == SCRIPT[2:5]
    proposer.settle([10, 11, 99])  # the target took 99 where the draft had 12: correct it
    assert ready(proposer, [10, 11, 99], count=2) == SCRIPT[3:5]
    assert len(engine.streams) == 2
    assert engine.histories == [(7,), (7, 10, 11, 99)]  # the target's tokens count as history
    proposer.close()
    assert engine.streams[-1].cancelled.wait(timeout=5)
    assert proposer.figures.fallback == ""


def test_a_draft_that_ended_is_not_waited_for(pairing: tuple[DraftLink, ScriptedDraft]) -> None:
    link, _ = pairing
    proposer = link.proposer()
    proposer.begin(PROMPT, GREEDY, history=[])
    assert proposer.proposals(SCRIPT, count=4, wait_s=1.0) == []  # it proposed all it had
    assert proposer.figures.fallback == ""


def test_a_silent_draft_leaves_the_stream_to_decode_alone(
    bus: InProcessBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speculation, "SILENCE_S", 0.3)
    link = DraftLink(bus, "target", "nobody", tokenizer="same")
    proposer = link.proposer()
    proposer.begin(PROMPT, GREEDY, history=[])
    while not proposer.figures.fallback:
        assert proposer.proposals([], count=4, wait_s=1.0) == []
    assert proposer.figures.fallback.startswith("nobody sent nothing for")
    later = link.proposer()  # the next stream does not wait for it again
    assert later.figures.fallback == "nobody fell silent on an earlier stream"
    absent = DraftLink(bus, "target-2", "gone", tokenizer="same", runs=False).proposer()
    assert absent.figures.fallback == "the draft region gone does not run"
    link.close()


def test_a_draft_whose_process_died_ends_its_streams_drafting_at_once(
    bus: InProcessBus,
) -> None:
    link = DraftLink(bus, "target", "draft", tokenizer="same")
    proposer = link.proposer()
    proposer.begin(PROMPT, GREEDY, history=[])
    died = Event(code="region_died", source="draft", detail="draft's process died")
    bus.publish(region_out("draft"), died)
    while not proposer.figures.fallback:  # well before SILENCE_S
        proposer.proposals([], count=4, wait_s=1.0)
    assert proposer.figures.fallback == "draft's process died"
    assert link.proposer().figures.fallback == "draft fell silent on an earlier stream"
    bus.publish(region_out("draft"), Event(code="region_restarted", source="draft"))
    deadline = time.monotonic() + 30
    while link.proposer().figures.fallback:  # the link hears of it on its own thread
        assert time.monotonic() < deadline
    link.close()


def test_a_draft_with_another_tokenizer_refuses(bus: InProcessBus) -> None:
    engine = ScriptedDraft(SCRIPT, len(PROMPT))
    server = DraftServer(engine, bus, "draft", tokenizer="theirs")  # type: ignore[arg-type]
    link = DraftLink(bus, "target", "draft", tokenizer="mine")
    proposer = link.proposer()
    proposer.begin(PROMPT, GREEDY, history=[])
    deadline = time.monotonic() + 30
    while not proposer.figures.fallback:
        assert proposer.proposals([], count=4, wait_s=1.0) == []
        assert time.monotonic() < deadline
    assert "draft refused to draft: its tokenizer (theirs) is not the target's (mine)" in (
        proposer.figures.fallback
    )
    assert engine.streams == []
    link.close()
    server.close()


def config(**language: object) -> dict:
    return {"regions": {"planning": {}, "language": {"replicas": 2, **language}}}


def test_a_draft_model_becomes_a_draft_region_paired_replica_by_replica() -> None:
    cortex = parse_config(config(draft="embedded:smollm2-135m-instruct", max_concurrent=2))
    assert cortex.regions["language"].draft == "language-draft"
    assert cortex.regions["language-draft"].replicas == 2
    assert cortex.regions["language-draft"].max_concurrent == 2
    instances = {i.name: i.settings.options for i in plan_instances(cortex, 0, cpu_count=4)}
    assert instances["language-1"] == {"draft": "language-draft-1", "draft_runs": True}
    assert instances["language-draft-1"] == {"drafts": True, "drafts_for": ["language-1"]}
    assert "language-draft-0" not in replicas_by_kind(plan_instances(cortex, 0))["language"]
    alone = {i.name: i.settings.options for i in plan_instances(cortex, 0, only={"language"})}
    assert alone["language-0"]["draft_runs"] is False


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"language": {"draft": "language"}}, "a region cannot draft for itself"),
        ({"language": {"draft": "planning"}}, "the draft 'planning' must be a language region"),
        ({"language": {"draft": "./no/such/model"}}, "neither a region of this configuration"),
        (
            {"language": {"draft": "d"}, "d": {"kind": "language", "draft": "language"}},
            "the draft 'd' has a draft of its own",
        ),
        (
            {"language": {"draft": "embedded:smollm2-135m-instruct"}, "language-draft": {}},
            "a region 'language-draft' exists already",
        ),
    ],
)
def test_a_bad_draft_is_named(tables: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"regions": {"planning": {}, **tables}})


def test_a_draft_with_another_tokenizer_is_refused_at_start() -> None:
    cortex = parse_config(config(draft="embedded:smollm2-135m-instruct"))
    instances = plan_instances(cortex, 0)
    infos = {i.name: {"tokenizer": "aaaa"} for i in instances}
    check_drafts(instances, infos)  # the same: nothing to say
    infos["language-draft-1"]["tokenizer"] = "bbbb"
    with pytest.raises(ConfigError, match="regions.language.draft: language-draft-1"):
        check_drafts(instances, infos)


def test_the_speculative_mode_is_compared_with_the_target_alone() -> None:
    runs = {
        mode: [RunRecord(mode, 2, 0.0, 1.0, 10, outputs={"r0/1": text})]
        for mode, text in (("sequential", "same"), ("speculative", "same"))
    }
    modes = {"sequential": {"tokens_per_s": 10.0}, "speculative": {"tokens_per_s": 25.0}}
    compare(modes, runs)
    assert modes["speculative"]["speedup"] == 2.5 and modes["speculative"]["identical_text"]
    runs["speculative"][0].outputs["r0/1"] = "other"
    compare(modes, runs)
    assert modes["speculative"]["identical_text"] is False


def test_status_says_how_a_targets_draft_fares_and_what_a_draft_drafts() -> None:
    region = {
        "region": "language",
        "replica": 0,
        "device": "cpu:0",
        "state": "decoding",
        "pid": 7,
        "tokens_per_s": 18.4,
        "busy_fraction": 1.0,
        "engine": "transformers (as configured), 4 at once, draft language-draft-0",
        "running": 1,
        "max_concurrent": 4,
    }
    speculation = {"draft": "language-draft-0", "acceptance_rate": 0.84, "window": 12}
    status = {
        "driver": None,
        "namespace": "cortex",
        "cluster": "127.0.0.1:6379",
        "devices": {"nodes": 1, "cpus": 2.0, "gpus": 0.0},
        "dashboard": None,
        "regions": [
            {**region, "name": "language-0", "speculation": {**speculation, "speedup": 2.4}},
            {**region, "name": "language-draft-0", "drafting": {"streams": 1, "proposed": 404}},
        ],
        "bus": {"msgs_per_s": 80.0, "p50_ms": 0.3, "p99_ms": 0.9, "gaps": 0, "malformed": 0},
        "turns": {"answered": 0, "last_first_token_s": None},
    }
    target, draft = format_status(status).splitlines()[3:5]
    assert target.endswith(
        "transformers 1/4; draft language-draft-0: 84% accepted, window 12, 2.40x alone"
    )
    assert draft.endswith("transformers 1/4; drafting: 1 stream(s), 404 proposed")


def test_the_region_pane_line_of_a_stream_with_a_draft() -> None:
    figures = {"draft": "language-draft-0", "acceptance_rate": 0.84, "window": 12, "speedup": 2.4}
    assert speculation_line(figures) == (
        "draft language-draft-0 · 84% accepted · window 12 · 2.40x alone"
    )
    fell_back = {"draft": "d", "acceptance_rate": None, "fallback": "d's process died"}
    assert speculation_line(fell_back) == "draft d · alone: d's process died"


class Recorded:
    """A stand-in for a Ray metric: keeps what was set, observed or added."""

    def __init__(self, name: str, *args: object) -> None:
        self.name, self.values = name, []

    def set_default_tags(self, tags: dict) -> None:
        pass

    def set(self, value: float) -> None:
        self.values.append(value)

    inc = observe = set


def test_a_targets_draft_figures_become_its_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    fakes = SimpleNamespace(Counter=Recorded, Gauge=Recorded, Histogram=Recorded, Metric=Recorded)
    monkeypatch.setattr(region_metrics, "metrics", fakes)
    status = {"tokens": 0, "subtasks_started": 0, "subtasks_done": 0, "subtasks_failed": 0}
    status |= {"busy_fraction": 1.0, "queue_depth": 0, "load_s": 1.0, "speculation": None}
    status |= {"prefill_tokens_per_s": 0.0, "decode_tokens_per_s": 0.0}
    host = SimpleNamespace(
        status=SimpleNamespace(kind="language", name="language-0"),
        info=lambda: status,
        activity=SimpleNamespace(take_steps=list),
    )
    exported = region_metrics.RegionMetrics(host)  # type: ignore[arg-type]
    exported.export()  # no draft yet: its gauges stay unset
    status["speculation"] = {"acceptance_rate": 0.84, "window": 12, "speedup": None}
    exported.export()
    gauges = {g.name: g.values for g in (exported.acceptance, exported.window, exported.speedup)}
    assert gauges == {
        "cortex_draft_acceptance_rate": [0.84],
        "cortex_draft_window": [12],
        "cortex_speculative_speedup": [],  # not measured yet
    }
