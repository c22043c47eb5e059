"""The file formats Cortex reads pictures and recordings in, by the names people know them by.

Kept apart from the readers (`modules.media.images`, `modules.media.audio`), which import
numpy and the decoders, so that help text can name them at no cost.
"""

from __future__ import annotations

IMAGE_FORMATS = {
    "PNG": "PNG",
    "JPEG": "JPEG",
    "MPO": "JPEG",
    "WEBP": "WebP",
    "AVIF": "AVIF",
    "GIF": "GIF",
    "TIFF": "TIFF",
    "BMP": "BMP",
    "DIB": "BMP",
    "ICO": "ICO",
    "PPM": "PPM/PGM",
    "TGA": "TGA",
}
"""Pillow's names of the formats read, with the names people know them by (MPO is the
multi-picture JPEG that phone cameras write). Others are refused: they are rare as photos, and
some run outside programs (EPS runs Ghostscript)."""
RECORDING_FORMATS = "WAV, FLAC, OGG, MP3 or M4A/AAC"
"""What the speech region reads: libsndfile's formats, and FFmpeg's (through PyAV) for the
containers phones and browsers record in."""


def image_formats() -> str:
    """The picture formats read, as a user reads them: "PNG, JPEG, WebP, ..."."""
    return ", ".join(dict.fromkeys(IMAGE_FORMATS.values()))
