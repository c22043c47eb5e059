"""Image files as a viewer shows them, built at test time: bit depths, formats, frames, EXIF
orientation, transparency, long strips, and files that are not images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from modules.errors import BadRequestError
from modules.media.images import MAX_ASPECT_RATIO, load_image
from modules.vision import UNCLEAR_BELOW, _lite_input, describe, is_flat

GREY = np.add.outer(np.arange(48), np.arange(64)).astype(np.uint8) * 2  # [48, 64], 0..220
RED, BLUE = (200, 30, 30), (30, 30, 200)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def saved(tmp_path: Path, image: Image.Image, name: str, **options) -> Path:
    path = tmp_path / name
    image.save(path, **options)
    return path


@pytest.mark.parametrize(
    ("levels", "name"),
    [
        (GREY.astype(np.uint16) * 257, "grey16.png"),  # mode I;16
        ((GREY.astype(np.uint16) * 257).astype(">u2"), "grey16b.tif"),  # mode I;16B
        (GREY.astype(np.uint16) * 257, "grey16.pgm"),  # read back as mode I
        (GREY.astype(np.int32) * 257, "grey32.tif"),  # mode I, 16-bit values
        (GREY.astype(np.int32), "grey32-8bit-values.tif"),  # mode I, 8-bit values
        (GREY.astype(np.float32) / 255, "float-unit.tif"),  # mode F, 0..1
        (GREY.astype(np.float32), "float-255.tif"),  # mode F, 0..255
    ],
)
def test_wide_greyscale_keeps_its_levels(tmp_path: Path, levels: np.ndarray, name: str) -> None:
    loaded = load_image(str(saved(tmp_path, Image.fromarray(levels), name)))
    assert loaded.mode == "RGB"
    assert np.abs(pixels(loaded)[..., 0] - GREY).max() <= 1
    assert (pixels(loaded)[..., 0] == pixels(loaded)[..., 2]).all()


def test_nan_and_negative_float_pixels_are_black(tmp_path: Path) -> None:
    levels = np.full((8, 8), 0.5, dtype=np.float32)
    levels[0, 0], levels[0, 1] = np.nan, -3.0
    loaded = pixels(load_image(str(saved(tmp_path, Image.fromarray(levels), "f.tif"))))
    assert loaded[0, 0, 0] == loaded[0, 1, 0] == 0 and loaded[4, 4, 0] == 128


def two_frames(size: tuple[int, int] = (32, 24)) -> list[Image.Image]:
    return [Image.new("RGB", size, RED), Image.new("RGB", size, BLUE)]


def formats() -> dict[str, Callable[[Path], Path]]:
    """Each format Pillow reads and Cortex accepts: a writer of a red picture (a blue second
    frame where the format holds several)."""
    first, second = two_frames()
    frames = {"save_all": True, "append_images": [second]}
    cases = {
        "gif (animated)": lambda d: saved(d, first, "a.gif", duration=100, **frames),
        "tiff (two pages)": lambda d: saved(d, first, "a.tif", **frames),
        "webp (animated)": lambda d: saved(d, first, "a.webp", lossless=True, **frames),
        "png (animated)": lambda d: saved(d, first, "a.png", **frames),
        "bmp": lambda d: saved(d, first, "a.bmp"),
        "ico": lambda d: saved(d, first, "a.ico", sizes=[(32, 24)]),
        "tga": lambda d: saved(d, first, "a.tga"),
        "ppm": lambda d: saved(d, first, "a.ppm"),
        "jpeg": lambda d: saved(d, first, "a.jpg", quality=95),
        "mpo (a phone's multi-picture jpeg)": lambda d: saved(d, first, "a.mpo", **frames),
    }
    if features.check("avif"):
        cases["avif"] = lambda d: saved(d, first, "a.avif", quality=100)
    return cases


@pytest.mark.parametrize("kind", formats())
def test_formats_pillow_reads_are_seen_by_their_first_frame(tmp_path: Path, kind: str) -> None:
    loaded = load_image(str(formats()[kind](tmp_path)))
    assert np.abs(pixels(loaded) - RED).max() <= 12, kind


@pytest.mark.parametrize(("name", "format_name"), [("a.pcx", "PCX"), ("a.sgi", "SGI")])
def test_a_refused_format_is_named_with_the_accepted_ones(
    tmp_path: Path, name: str, format_name: str
) -> None:
    path = saved(tmp_path, Image.new("RGB", (8, 8), RED), name)
    with pytest.raises(BadRequestError) as refused:
        load_image(str(path))
    message = str(refused.value)
    assert f"is a {format_name} image" in message and all(
        name in message for name in ("PNG", "JPEG", "GIF", "TIFF")
    )
    assert "truncated" not in message and "damaged" not in message


# How a camera stores an upright picture under each EXIF orientation (2-8); a viewer undoes it.
STORED = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # counter-clockwise; the tag says "turn clockwise to view"
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_exif_orientation_turns_a_picture_upright(
    tmp_path: Path, orientation: int, suffix: str
) -> None:
    upright = Image.new("RGB", (64, 32), BLUE)
    upright.paste(RED, (0, 0, 32, 16))  # a red top-left quarter
    stored = upright.transpose(STORED[orientation]) if orientation > 1 else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = saved(tmp_path, stored, "phone" + suffix, exif=exif, quality=95)
    loaded = load_image(str(path))
    assert loaded.size == (64, 32)
    assert np.abs(pixels(loaded)[4:12, 4:28] - RED).max() <= 12
    assert np.abs(pixels(loaded)[20:28, 36:60] - BLUE).max() <= 12


@pytest.mark.parametrize(
    ("image", "shown"),
    [
        (Image.new("RGBA", (16, 16), (*RED, 0)), (255, 255, 255)),  # fully transparent
        (Image.new("RGBA", (16, 16), (0, 0, 0, 128)), (127, 127, 127)),  # half-transparent black
        (Image.new("LA", (16, 16), (0, 64)), (191, 191, 191)),
        (Image.new("RGBA", (16, 16), (*BLUE, 255)), BLUE),  # opaque
    ],
)
def test_transparency_is_shown_on_white(tmp_path: Path, image: Image.Image, shown) -> None:
    loaded = load_image(str(saved(tmp_path, image, "alpha.png")))
    assert np.abs(pixels(loaded) - shown).max() <= 1


def test_a_transparent_palette_colour_is_shown_on_white(tmp_path: Path) -> None:
    picture = Image.new("P", (16, 16), 0)
    picture.putpalette([*RED, *BLUE])
    picture.paste(1, (0, 0, 8, 16))
    for name in ("palette.gif", "palette.png"):
        loaded = pixels(load_image(str(saved(tmp_path, picture, name, transparency=0))))
        assert (loaded[:, :8] == BLUE).all() and (loaded[:, 8:] == 255).all(), name


@pytest.mark.parametrize("size", [(1, 40_000), (40_000, 1), (3, 30_000), (25_000, 900)])
def test_a_long_strip_is_cut_to_its_centre(tmp_path: Path, size: tuple[int, int]) -> None:
    strip = Image.new("L", size, 90)
    path = saved(tmp_path, strip, "strip.png", optimize=True)
    loaded = load_image(str(path))
    short, long = sorted(loaded.size)
    assert short == min(size) and long == min(max(size), MAX_ASPECT_RATIO * min(size))
    assert _lite_input(loaded).shape == (1, 3, 224, 224)


def test_the_lite_input_of_a_small_picture_is_its_centre(tmp_path: Path) -> None:
    picture = Image.new("RGB", (300, 100), BLUE)
    picture.paste(RED, (100, 0, 200, 100))  # red centre square
    values = (_lite_input(picture)[0] * 128 + 127).numpy()  # [3, 224, 224]
    assert np.abs(values[:, 8:-8, 8:-8] - np.array(RED)[:, None, None]).max() <= 2


@pytest.fixture()
def not_images(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "folder.jpg").mkdir()
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("a shopping list, not a photo\n")
    rng = np.random.default_rng(0)
    (tmp_path / "noise.png").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.bytes(300))
    (tmp_path / "noise.jpg").write_bytes(b"\xff\xd8\xff\xe0" + rng.bytes(300))
    (tmp_path / "noise.gif").write_bytes(b"GIF89a" + rng.bytes(300))
    (tmp_path / "iphone.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + rng.bytes(300))
    cut = saved(tmp_path, Image.fromarray(rng.integers(0, 256, (64, 64, 3), np.uint8)), "cut.jpg")
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    return {
        "a folder": (tmp_path / "folder.jpg", "is a folder"),
        "zero bytes": (tmp_path / "empty.png", "is empty"),
        "text named .jpg": (tmp_path / "notes.jpg", "is not an image"),
        "png signature, random bytes": (tmp_path / "noise.png", "noise.png"),
        "jpeg signature, random bytes": (tmp_path / "noise.jpg", "noise.jpg"),
        "gif signature, random bytes": (tmp_path / "noise.gif", "noise.gif"),
        "jpeg cut short": (cut, "could not be decoded as JPEG"),
        "an iPhone's HEIC photo": (tmp_path / "iphone.heic", "is a HEIC/HEIF image"),
        "missing": (tmp_path / "missing.jpg", "no image file at"),
    }


def test_what_is_not_an_image_gets_a_one_line_error(not_images) -> None:
    for kind, (path, message) in not_images.items():
        with pytest.raises(BadRequestError) as refused:
            load_image(str(path))
        assert message in str(refused.value) and "\n" not in str(refused.value), kind


def test_a_low_top_score_or_a_flat_picture_is_described_as_unclear() -> None:
    assert describe([("espresso", 0.88), ("cup", 0.05)]) == (
        "The picture most likely shows an espresso."
    )
    assert describe([("tabby", 0.3), ("lynx", 0.2)]).startswith("The picture may show a tabby")
    unsure = describe([("nematode", UNCLEAR_BELOW - 0.01), ("matchstick", 0.01)])
    assert unsure == "The picture is unclear; it might show a nematode."
    assert describe([("nematode", 0.9)], flat=True).startswith("The picture is unclear")
    assert is_flat(Image.new("RGB", (1, 1), RED)) and is_flat(Image.new("RGB", (9, 5), "white"))
    assert not is_flat(Image.fromarray(np.stack([GREY] * 3, axis=-1)))
