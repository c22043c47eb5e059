"""The vision region on its embedded EfficientNet-Lite0: real photos as phones, scanners and
browsers save them, pictures with nothing to see, and bad files."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bus.streams import StreamId
from modules.errors import BadRequestError
from modules.region import RegionSettings
from modules.vision import VisionRegion, load_image
from tests.helpers import cortex_cli, hosted_results, region_output
from tests.unit.test_images import STORED

pytestmark = pytest.mark.model

DATA = Path(__file__).parent.parent / "data"
CAT_CLASSES = ("cat", "egyptian mau", "lynx")


@pytest.fixture(scope="module")
def vision() -> VisionRegion:
    region = VisionRegion(
        RegionSettings(name="vision", kind="vision", model="embedded:efficientnet-lite0")
    )
    region.setup()
    return region


def top5(vision: VisionRegion, path: Path) -> list[str]:
    return [label.lower() for _, (label, _) in vision.classify(load_image(str(path)))]


def has_a_cat(labels: list[str]) -> bool:
    return any(c in label for label in labels for c in CAT_CLASSES)


def test_a_cat_photo_has_a_cat_class_in_its_top5(vision: VisionRegion) -> None:
    labels = top5(vision, DATA / "cat.jpg")
    print(labels)
    assert has_a_cat(labels)


@pytest.mark.parametrize(
    ("depth", "name"),
    [
        (lambda grey: grey.astype(np.uint16) * 257, "cat16.png"),  # mode I;16
        (lambda grey: grey.astype(np.uint16) << 8, "cat16-shifted.png"),  # I;16, low byte 0
        (lambda grey: (grey.astype(np.uint16) * 257).astype(">u2"), "cat16b.tif"),  # I;16B
        (lambda grey: grey.astype(np.int32) * 257, "cat32.tif"),  # mode I
        (lambda grey: grey.astype(np.float32) / 255, "cat-float.tif"),  # mode F, 0..1
    ],
)
def test_a_wide_greyscale_cat_is_seen_as_the_8_bit_one(
    vision: VisionRegion, tmp_path: Path, depth, name: str
) -> None:
    grey = np.asarray(Image.open(DATA / "cat.jpg").convert("L"))  # [H, W] uint8
    Image.fromarray(grey).save(tmp_path / "cat8.png")
    Image.fromarray(depth(grey)).save(tmp_path / name)
    labels = top5(vision, tmp_path / name)
    print(Image.open(tmp_path / name).mode, labels)
    assert labels == top5(vision, tmp_path / "cat8.png") and has_a_cat(labels)


@pytest.mark.parametrize("name", ["cat.gif", "cat.tif", "cat.bmp", "cat.webp"])
def test_a_cat_in_other_formats_is_a_cat(vision: VisionRegion, tmp_path: Path, name: str) -> None:
    Image.open(DATA / "cat.jpg").save(tmp_path / name)
    assert has_a_cat(top5(vision, tmp_path / name))


@pytest.mark.parametrize("orientation", range(2, 9))
def test_a_phone_photo_is_seen_upright(
    vision: VisionRegion, tmp_path: Path, orientation: int
) -> None:
    stored = Image.open(DATA / "coffee.jpg").transpose(STORED[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    _, (label, score) = vision.classify(load_image(str(tmp_path / "phone.jpg")))[0]
    assert label == "espresso" and score == pytest.approx(0.88, abs=0.06)


def featureless(folder: Path) -> dict[str, Path]:
    """Pictures with nothing to recognise, the fully transparent one hiding a cat."""
    hidden_cat = Image.open(DATA / "cat.jpg").convert("RGBA")
    hidden_cat.putalpha(0)
    pictures = {
        "white": Image.new("RGB", (320, 200), "white"),
        "black": Image.new("RGB", (64, 64), "black"),
        "one pixel": Image.new("RGB", (1, 1), (90, 140, 60)),
        "uniform navy": Image.new("RGB", (50, 80), "navy"),
        "fully transparent cat": hidden_cat,
        "a 1 x 40,000 strip": Image.new("L", (1, 40_000), 200),
        "a 30,000 x 2 strip": Image.new("RGB", (30_000, 2), "orange"),
    }
    paths = {}
    for kind, picture in pictures.items():
        paths[kind] = folder / f"{len(paths)}.png"
        picture.save(paths[kind], optimize=True)
    return paths


def test_a_picture_with_nothing_to_see_is_described_as_unclear(
    vision: VisionRegion, tmp_path: Path
) -> None:
    for kind, path in featureless(tmp_path).items():
        _, data = region_output(vision, instruction="", image_path=str(path))
        assert data["description"].startswith("The picture is unclear"), kind
        assert len(data["labels"]) == 5, kind
    for photo in ("cat.jpg", "coffee.jpg"):
        _, data = region_output(vision, instruction="", image_path=str(DATA / photo))
        assert "unclear" not in data["description"], photo


def test_a_coffee_photo_is_espresso_or_a_cup(vision: VisionRegion) -> None:
    labels = top5(vision, DATA / "coffee.jpg")
    print(labels)
    assert "espresso" in labels or any("cup" in label for label in labels)


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size but holds no pixels (what a hostile upload looks like)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.fixture()
def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture")
    text_jpg = tmp_path / "notes.jpg"
    text_jpg.write_text("neither is this")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    folder = tmp_path / "folder.png"
    folder.mkdir()
    truncated = tmp_path / "truncated.png"
    Image.new("RGB", (64, 64), "red").save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:60])
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_header(20000, 20000))
    large = tmp_path / "large.png"
    large.write_bytes(png_header(9000, 9000))
    return {
        "empty": (empty, "is empty"),
        "text": (text, "is not an image"),
        "text named .jpg": (text_jpg, "is not an image"),
        "corrupt bytes": (corrupt, "corrupt.jpg"),
        "a folder": (folder, "is a folder"),
        "truncated": (truncated, "could not be decoded"),
        "huge": (huge, "too large"),
        "large": (large, "9000x9000"),
        "missing": (tmp_path / "missing.jpg", "no image file at"),
    }


def test_bad_files_get_clear_errors(bad_files) -> None:
    for path, message in bad_files.values():
        with pytest.raises(BadRequestError, match=message):
            load_image(str(path))


def test_bad_files_leave_the_region_serving(bad_files) -> None:
    settings = RegionSettings(name="vision", kind="vision", model="embedded:efficientnet-lite0")
    cases = [*bad_files.values(), (DATA / "coffee.jpg", "")]
    subtasks = [{"instruction": "", "image_path": str(path)} for path, _ in cases]
    results = hosted_results("modules.vision:VisionRegion", settings, subtasks)
    for result, (_, message) in zip(results[:-1], cases[:-1], strict=True):
        assert not result.ok and message in result.error
    assert results[-1].ok and results[-1].data["labels"][0]["label"] == "espresso"


@pytest.mark.e2e
def test_cortex_see_prints_labels_and_a_description() -> None:
    completed = cortex_cli("see", "--json", str(DATA / "coffee.jpg"), timeout=300)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["labels"][0] == {"label": "espresso", "score": pytest.approx(0.88, abs=0.05)}
    assert len(result["labels"]) == 5 and "espresso" in result["description"]


@pytest.mark.e2e
def test_cortex_ask_with_an_image_looks_while_it_plans(tmp_path: Path) -> None:
    completed = cortex_cli(
        "ask",
        "--json",
        "--session",
        str(tmp_path / "s.jsonl"),
        "--image",
        str(DATA / "cat.jpg"),
        "What is in this picture, and what do these animals eat?",
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    record = json.loads(completed.stdout)
    print(json.dumps(record, indent=1))
    streams = {StreamId.parse(s["id"]).step: s for s in record["streams"]}
    see, plan = streams["see"], streams["plan"]
    assert see["region"] == "vision" and see["tokens"] > 0
    assert plan["device"] and see["replica"] != plan["replica"]
    answers = [s for s in record["streams"] if s["region"] == "language"]
    assert answers and all(see["start"] <= s["start"] for s in answers), (
        "vision looks from the start of the turn, before any part is answered"
    )
    assert all("see" in step["depends_on"] for step in record["plan"] if step["id"] != "see")
    assert record["answer"].strip()
