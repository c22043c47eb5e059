"""Parts of one request that share a long context: one delegate prefills it, the others import
it over the bus, and every part's text is what it is without the handoff. A chunk lost,
reordered or corrupt on the way makes the receiver prefill itself, says so in the turn's
notes, and changes no word of the answer."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bus.inprocess import InProcessBus
from bus.protocol import BusMessage, KvChunk, SubtaskResult
from bus.topics import Topic
from cortex.config import parse_config
from cortex.runtime.inprocess import InProcessCortex
from tests.conftest import tiny_config

ARTICLE = (
    "Maria Lopez opened a small bakery in Porto in 2019 with her brother Tiago Lopez. It sells "
    "bread, pastries and coffee to the students of the university nearby, and nearly closed "
    "in its first winter, when the ovens failed. "
) * 12
REQUEST = (
    f"Here is an article: {ARTICLE}\n\nSummarise it, list the people it names, and suggest a title."
)
Fault = Callable[[KvChunk], list[KvChunk]]


def ask(
    config: dict[str, Any], shared: bool, fault: Fault | None = None
) -> tuple[dict[str, SubtaskResult], list[str]]:
    """The request asked of three language replicas: each part's result, and the notes."""
    config = {**config, "handoff": {"shared_prefill": shared, "min_shared_tokens": 64}}
    results: dict[str, SubtaskResult] = {}

    def collect(delivery: Any) -> None:
        if isinstance(delivery.message, SubtaskResult) and delivery.message.region == "language":
            results[delivery.message.subtask_id] = delivery.message

    with pytest.MonkeyPatch.context() as patch:
        if fault is not None:
            patch.setattr("cortex.runtime.inprocess.InProcessBus", faulty_bus(fault))
        with InProcessCortex(parse_config(config)) as brain:
            record = brain.ask(REQUEST, on_delivery=collect)
    assert len(results) == 3 and all(result.ok for result in results.values())
    return results, record.notes


def faulty_bus(fault: Fault) -> type[InProcessBus]:
    class FaultyBus(InProcessBus):
        def publish(self, topic: Topic | str, message: BusMessage) -> None:
            for each in fault(message) if isinstance(message, KvChunk) else [message]:
                super().publish(topic, each)

    return FaultyBus


def texts(results: dict[str, SubtaskResult]) -> dict[str, str]:
    return {step: result.text for step, result in results.items()}


@pytest.mark.model
def test_the_parts_import_one_prefill_of_the_article_and_answer_as_without_it() -> None:
    config = {
        "runtime": {"namespace": "shared-prefill"},
        "regions": {
            "planning": {"class": "tests.tui.scripted:ScriptedPlanner", "kind": "planning"},
            "language": {
                "replicas": 3,
                "engine": "llama.cpp",
                "speed_probe": False,
                "generation": {"max_new_tokens": 16},
            },
        },
    }
    alone, _ = ask(config, shared=False)
    shared, notes = ask(config, shared=True)
    assert texts(shared) == texts(alone) and notes == []
    exporters = [r for r in shared.values() if r.data.get("kv_exported_tokens")]
    importers = [r for r in shared.values() if r.data.get("kv_source")]
    assert len(exporters) == 1 and len(importers) == 2
    start = exporters[0].data["kv_exported_tokens"]
    assert isinstance(start, int) and start > 150
    assert all(r.data["kv_imported_tokens"] == start for r in shared.values())
    assert {r.data["kv_source"] for r in importers} == {exporters[0].replica}
    assert not any(r.data.get("kv_source") for r in alone.values())


def corrupt(chunk: KvChunk) -> list[KvChunk]:
    if chunk.seq == 1:
        return [chunk.model_copy(update={"data": chunk.data[::-1]})]
    return [chunk]


def lost(chunk: KvChunk) -> list[KvChunk]:
    return [] if chunk.seq == 1 else [chunk]


def resealed(chunk: KvChunk) -> list[KvChunk]:
    data = bytes(len(chunk.data))
    return [chunk.model_copy(update={"data": data, "crc32": zlib.crc32(data)})]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (corrupt, "failed its CRC-32"),
        (lost, "came when chunk 1 was due"),
        (resealed, "failed its SHA-256 checksum"),
    ],
)
def test_a_broken_handoff_is_prefilled_here_with_a_note_and_the_same_answer(
    tiny_long_model_dir: Path, fault: Fault, said: str
) -> None:
    config = tiny_config(
        tiny_long_model_dir,
        planning={"class": "tests.tui.scripted:ScriptedPlanner", "kind": "planning"},
        language={
            "model": str(tiny_long_model_dir),
            "replicas": 3,
            "speed_probe": False,
            "generation": {"max_new_tokens": 12, "end_at_sentence": False},
        },
    )
    config["bus"] = {"max_frame_bytes": 16384}  # chunks of 12 KiB: a state travels in several
    alone, _ = ask(config, shared=False)
    broken, notes = ask(config, shared=True, fault=fault)
    assert texts(broken) == texts(alone)
    importers = [r for r in broken.values() if r.data.get("kv_note")]
    assert len(importers) == 2 and all(said in str(r.data["kv_note"]) for r in importers)
    assert len([n for n in notes if said in n and "prefilled" in n]) == 2
