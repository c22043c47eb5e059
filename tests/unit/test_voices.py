"""Voices: a transformers text-to-speech model (a tiny random VITS) speaks through the region."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest
import torch
from transformers import VitsConfig, VitsModel, VitsTokenizer

from cortex.config import parse_config
from cortex.errors import ConfigError
from modules.media.tts import TransformersVoice
from modules.region import RegionSettings
from modules.speech import SpeechRegion
from tests.helpers import region_output


@pytest.fixture(scope="module")
def tiny_vits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-vits")
    vocab = {c: i for i, c in enumerate(" abcdefghijklmnopqrstuvwxyz'.,!?-")}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    VitsTokenizer(str(folder / "vocab.json"), add_blank=True, phonemize=False).save_pretrained(
        folder
    )
    torch.manual_seed(0)
    config = VitsConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=32,
        flow_size=16,
        spectrogram_bins=17,
        upsample_initial_channel=16,
        upsample_rates=[4, 4],
        upsample_kernel_sizes=[8, 8],
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3]],
        prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1,
        posterior_encoder_num_wavenet_layers=1,
        duration_predictor_num_flows=1,
        duration_predictor_filter_channels=16,
        depth_separable_num_layers=1,
        sampling_rate=16000,
    )
    VitsModel(config).save_pretrained(folder)
    return folder


@pytest.mark.model
def test_a_transformers_voice_speaks_sentence_by_sentence(tiny_vits: Path, tmp_path: Path) -> None:
    assert TransformersVoice(str(tiny_vits)).synthesize("hello.").size > 0
    settings = RegionSettings(
        name="speech",
        kind="speech",
        model="embedded:whisper-tiny.en",
        options={"voice": str(tiny_vits)},
    )
    region = SpeechRegion(settings)
    region.setup()
    target = tmp_path / "out.wav"
    pieces, data = region_output(
        region, instruction="Hello there. How are you?", output_path=str(target)
    )
    assert pieces == ["Hello there. ", "How are you?"]
    with wave.open(str(target)) as audio:
        assert audio.getframerate() == 16000 and audio.getnframes() > 0
    assert data["wav"] == str(target)


def test_a_voice_folder_that_does_not_exist_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="regions.speech.voice"):
        parse_config(
            {"regions": {"planning": {}, "language": {}, "speech": {"voice": "/no/voice"}}}
        )
