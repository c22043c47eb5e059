"""Image files as a viewer shows them: one 8-bit RGB picture, or a clear one-line error.

`load_image` is how a region opens a picture. It takes the first frame of an animation or a
multi-page file, turns it upright by its EXIF orientation, scales 16- and 32-bit pixels to
8 bits, and composites transparency onto white. It knows nothing about models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from modules.errors import BadRequestError
from modules.media.formats import IMAGE_FORMATS, image_formats

MAX_PIXELS = 50_000_000
"""Images with more pixels are refused before decoding (a 20000x20000 PNG needs 1.2 GB).
Pillow's own decompression-bomb guard stays on beneath this limit."""
MAX_ASPECT_RATIO = 20
"""A picture longer than this many times its short side is cut to its centre part of this
ratio, so that no later step scales a 1-pixel-wide strip up into a huge image."""
DRAFT_SIDE = 448
"""A JPEG is decoded at the smallest scale whose sides stay at least this long, in pixels."""
_WIDE_GREY_MODES = ("I", "F", "I;16", "I;16L", "I;16B", "I;16N")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")



def load_image(path: str | None, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Opens an image file as the RGB picture a viewer would show.

    Args:
        path: The file; `~` is expanded.
        max_pixels: Larger images are refused before their pixels are decoded.

    Returns:
        An RGB image, at most `MAX_ASPECT_RATIO` times as long as it is wide; a JPEG comes
        decoded at a reduced scale (sides of at least `DRAFT_SIDE` pixels).

    Raises:
        BadRequestError: No path; no file, a folder or an empty file; not an image; a format
            outside `IMAGE_FORMATS`; more than `max_pixels` pixels; or pixels that cannot be
            decoded.
    """
    file = _image_file(path)
    with _open(file) as image:
        if image.format not in IMAGE_FORMATS:
            raise BadRequestError(
                f"{file} is a {image.format} image; Cortex reads {image_formats()}: "
                "convert it to PNG or JPEG first"
            )
        pixels = image.width * image.height
        if pixels > max_pixels:
            raise BadRequestError(
                f"{file} is too large: {image.width}x{image.height} ({pixels / 1e6:.0f} Mpx), "
                f"over the limit of {max_pixels / 1e6:.0f} Mpx; downscale it first"
            )
        try:
            image.draft("RGB", (DRAFT_SIDE, DRAFT_SIDE))
            return _as_displayed(image)
        except Exception as error:  # noqa: BLE001 - decoders meeting damaged bytes raise any type
            raise BadRequestError(
                f"{file} could not be decoded as {IMAGE_FORMATS[image.format]} ({error}); "
                "the file may be damaged or cut short"
            ) from None


def _image_file(path: str | None) -> Path:
    if not path:
        raise BadRequestError("no image was attached; give one with --image PATH or /image PATH")
    file = Path(path).expanduser()
    if file.is_dir():
        raise BadRequestError(f"{file} is a folder, not an image file")
    if not file.exists():
        raise BadRequestError(f"no image file at {file}")
    if not file.is_file():
        raise BadRequestError(f"{file} is not a regular file")
    if file.stat().st_size == 0:
        raise BadRequestError(f"{file} is empty (0 bytes)")
    return file


def _open(file: Path) -> Image.Image:
    """Reads the file's header (not its pixels), turning Pillow's errors into one-line ones."""
    try:
        return Image.open(file)
    except UnidentifiedImageError:
        if _is_heif(file):
            raise BadRequestError(
                f"{file} is a HEIC/HEIF image; Cortex reads {image_formats()}: convert it "
                "to JPEG (iPhones: Settings > Camera > Formats > Most Compatible)"
            ) from None
        raise BadRequestError(
            f"{file} is not an image Cortex can read (it reads {image_formats()})"
        ) from None
    except Image.DecompressionBombError as error:
        raise BadRequestError(f"{file} is too large to decode safely: {error}") from None
    except Exception as error:  # noqa: BLE001 - a plugin meeting a damaged header raises any type
        raise BadRequestError(f"{file} could not be read as an image ({error})") from None


def _is_heif(file: Path) -> bool:
    """Whether the file is HEIF (what iPhones save photos as): its `ftyp` box names a HEIF brand."""
    with file.open("rb") as stream:
        head = stream.read(12)
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _as_displayed(image: Image.Image) -> Image.Image:
    """The current (first) frame, upright, cut to `MAX_ASPECT_RATIO`, in 8-bit RGB on white."""
    upright = ImageOps.exif_transpose(image)
    return _on_white(_to_8_bit(_centre_cut(upright)))


def _centre_cut(image: Image.Image) -> Image.Image:
    width, height = image.size
    long_side = min(max(width, height), MAX_ASPECT_RATIO * min(width, height))
    new_width, new_height = min(width, long_side), min(height, long_side)
    if (new_width, new_height) == (width, height):
        return image
    left, top = (width - new_width) // 2, (height - new_height) // 2
    return image.crop((left, top, left + new_width, top + new_height))


def _to_8_bit(image: Image.Image) -> Image.Image:
    """Greyscale of 16 or 32 bits per pixel as 8-bit `L`; other modes pass unchanged.

    16-bit modes map 0..65535 to 0..255. Modes `I` (32-bit integer) and `F` (float) do not
    say their range, so it is the smallest usual full scale that holds the brightest pixel:
    1.0, 255 or 65535, else the brightest pixel itself. Negative and NaN pixels are black.
    """
    if image.mode not in _WIDE_GREY_MODES:
        return image
    values = np.asarray(image, dtype=np.float32)  # [H, W]
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    if image.mode.startswith("I;16"):
        full_scale = 65535.0
    else:
        brightest = float(values.max(initial=0.0))
        full_scale = next((s for s in (1.0, 255.0, 65535.0) if brightest <= s), brightest)
    levels = np.clip(values * (255.0 / full_scale) + 0.5, 0.0, 255.0).astype(np.uint8)
    return Image.fromarray(levels)  # uint8 [H, W] is mode L


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with any alpha channel or transparent colour composited onto white."""
    if image.mode not in _ALPHA_MODES and "transparency" not in image.info:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, "white")
    return Image.alpha_composite(white, rgba).convert("RGB")
