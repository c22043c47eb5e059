"""The vision region with transformers models (tiny random ones): classification and captions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import (
    AutoTokenizer,
    GPT2Config,
    VisionEncoderDecoderConfig,
    VisionEncoderDecoderModel,
    ViTConfig,
    ViTForImageClassification,
    ViTImageProcessor,
)

from modules.region import RegionSettings
from modules.vision import VisionRegion
from tests.helpers import region_output

DATA = Path(__file__).parent.parent / "data"
VIT = {
    "image_size": 32,
    "patch_size": 8,
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
}


def run(model_dir: Path, image: Path = DATA / "cat.jpg") -> tuple[list[str], dict]:
    region = VisionRegion(RegionSettings(name="vision", kind="vision", model=str(model_dir)))
    region.setup()
    return region_output(region, instruction="", image_path=str(image))


@pytest.fixture(scope="module")
def processor() -> ViTImageProcessor:
    return ViTImageProcessor(size={"height": 32, "width": 32})


@pytest.fixture()
def classifier(tmp_path: Path, processor) -> Path:
    """A tiny random ViT classifier with seven labels, saved in a folder."""
    torch.manual_seed(0)
    labels = {i: f"thing {i}" for i in range(7)}
    model = ViTForImageClassification(
        ViTConfig(**VIT, id2label=labels, label2id={v: k for k, v in labels.items()})
    )
    model.save_pretrained(tmp_path / "vit")
    processor.save_pretrained(tmp_path / "vit")
    return tmp_path / "vit"


def test_a_transformers_classifier_gives_its_own_labels(classifier: Path) -> None:
    pieces, data = run(classifier)
    assert len(data["labels"]) == 5 and all(x["label"].startswith("thing ") for x in data["labels"])
    assert pieces[-1] == data["description"]


@pytest.mark.parametrize(
    ("picture", "name"),
    [
        (Image.new("L", (1, 40_000), 200), "strip.png"),
        (Image.fromarray(np.full((40, 30), 40_000, dtype=np.uint16)), "grey16.png"),
        (Image.new("RGBA", (30, 40), (255, 0, 0, 0)), "transparent.png"),
    ],
)
def test_a_transformers_classifier_sees_what_a_viewer_shows(
    tmp_path: Path, classifier: Path, picture: Image.Image, name: str
) -> None:
    picture.save(tmp_path / name)
    _, data = run(classifier, tmp_path / name)
    assert len(data["labels"]) == 5
    assert data["description"].startswith("The picture is unclear: one flat colour")


@pytest.mark.slow
def test_a_transformers_captioner_streams_its_caption(
    tmp_path: Path, processor, tiny_model_dir
) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    decoder = GPT2Config(
        vocab_size=49152,
        n_embd=32,
        n_layer=1,
        n_head=2,
        n_positions=64,
        add_cross_attention=True,
        is_decoder=True,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(ViTConfig(**VIT), decoder)
    config.decoder_start_token_id = tokenizer.bos_token_id
    config.pad_token_id = config.eos_token_id = tokenizer.eos_token_id
    model = VisionEncoderDecoderModel(config)
    model.generation_config.decoder_start_token_id = tokenizer.bos_token_id
    model.generation_config.pad_token_id = tokenizer.eos_token_id
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    pieces, data = run(tmp_path)
    assert len(pieces) > 1, "the caption streams token by token"
    assert data == {"labels": [], "description": "".join(pieces).strip()}
