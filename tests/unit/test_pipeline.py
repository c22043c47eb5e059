"""The layer-split pipeline: same greedy tokens as the unsplit model, and the bytes it moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from bus import InProcessBus, Subtask
from bus.protocol import Activation
from modules.engines import SamplingSettings
from modules.language import LanguageRegion
from modules.models import save_tiny_llama
from modules.pipeline import (
    PipelineStage,
    StagePlan,
    decode_through,
    from_activation,
    split_layers,
    to_activation,
)
from modules.region import RegionSettings
from tests.helpers import region_output

NEW_TOKENS = 24


@pytest.fixture(scope="module")
def varied_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five layers (so three stages split them unevenly), weights wide enough that greedy
    decoding does not repeat one token."""
    folder = tmp_path_factory.mktemp("tiny-varied")
    return save_tiny_llama(folder, max_positions=512, layers=5, initializer_range=0.5)


@pytest.fixture(scope="module")
def pipeline(varied_model: Path) -> Iterator[tuple[InProcessBus, list[PipelineStage]]]:
    with InProcessBus() as bus:
        stages = [
            PipelineStage(StagePlan(str(varied_model), i, 3, "p1", NEW_TOKENS), bus)
            for i in range(3)
        ]
        for stage in stages:
            stage.setup()
        yield bus, stages
        for stage in stages:
            stage.stop()


def test_layers_split_into_contiguous_near_equal_slices() -> None:
    assert split_layers(30, 2) == [range(0, 15), range(15, 30)]
    assert split_layers(5, 3) == [range(0, 2), range(2, 4), range(4, 5)]
    with pytest.raises(ValueError, match="cannot split 2 layers into 3 stages"):
        split_layers(2, 3)


def test_activation_round_trips_every_dtype() -> None:
    for dtype in (torch.float32, torch.float16, torch.bfloat16, torch.int64):
        tensor = (torch.arange(12) - 5).reshape(1, 3, 4).to(dtype)
        message = to_activation(tensor, "s/1", seq=2, position=7)
        assert len(message.data) == 12 * tensor.element_size()
        assert torch.equal(from_activation(message, torch.device("cpu")), tensor)


@pytest.mark.slow
def test_pipeline_decodes_the_same_greedy_tokens_as_the_whole_model(
    pipeline, varied_model: Path
) -> None:
    bus, stages = pipeline
    settings = RegionSettings(
        name="language-0",
        kind="language",
        model=str(varied_model),
        sampling=SamplingSettings(max_new_tokens=NEW_TOKENS),
    )
    whole = LanguageRegion(settings)
    whole.setup()
    instruction = "Describe the taste of coffee."
    expected, _ = region_output(whole, instruction=instruction)
    subtask = Subtask(turn_id="t1", subtask_id="1", region="language", instruction=instruction)
    tokens = list(decode_through(bus, "p1", subtask, timeout_s=60))
    assert [t.text for t in tokens] == expected
    assert len(set(t.token_id for t in tokens)) > NEW_TOKENS // 2  # not one repeated token
    assert [t.seq for t in tokens] == list(range(NEW_TOKENS))


def test_each_hop_carries_one_hidden_state_per_token(pipeline) -> None:
    bus, stages = pipeline
    before = [len(stage.stats.bytes_in) for stage in stages]
    subtask = Subtask(turn_id="t2", subtask_id="1", region="language", instruction="Hello.")
    tokens = list(decode_through(bus, "p1", subtask, timeout_s=60))
    hidden_bytes = 64 * 4  # hidden size x float32
    for stage, start in zip(stages[1:], before[1:], strict=True):
        received = stage.stats.bytes_in[start:]
        (prefill_step, prefill), decode_steps = received[0], received[1:]
        assert prefill_step == 0 and prefill % hidden_bytes == 0 and prefill > hidden_bytes
        assert decode_steps == [(seq, hidden_bytes) for seq in range(1, len(tokens))]
    ids = [size for _, size in stages[0].stats.bytes_in[before[0] + 1 :]]
    assert ids == [8] * (len(tokens) - 1)  # one int64 token id a step
    assert all(isinstance(m, float) and m >= 0 for m in stages[2].stats.hop_ms)


def test_activation_is_a_bus_message() -> None:
    message = to_activation(torch.ones(1, 1, 2), "s/1", seq=0, position=0)
    with InProcessBus() as bus:
        inbox = bus.subscribe("pipeline.*")
        bus.publish("pipeline.x.stage-1", message)
        received = inbox.recv(timeout=0).message
    assert isinstance(received, Activation) and received.data == message.data
