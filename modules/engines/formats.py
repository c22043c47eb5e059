"""Weight formats: a GGUF model in another quantisation, made once into the cache.

Two replicas of one model can run it in different formats (Q8_0 prefills faster on a CPU,
Q4_1 reads less memory per decoded token), so a device can be given the format it is fast
at. A converted file is written with llama.cpp's own quantize API next to a note of the file
it came from, so a KV state can pass between the formats of one model (`KvIdentity.lineage`)
and never between two models.
"""

from __future__ import annotations

import ctypes
import json
import logging
from pathlib import Path
from typing import Literal, get_args

from modules.engines.kv import file_fingerprint
from modules.errors import EngineError
from modules.models import cache_dir, gguf_path

log = logging.getLogger("cortex.formats")

WeightFormat = Literal["f16", "q8_0", "q4_0", "q4_1"]
"""Formats a GGUF model can be converted to (``weights`` in a region's configuration)."""
WEIGHT_FORMATS: tuple[str, ...] = get_args(WeightFormat)
SOURCE_SUFFIX = ".source.json"


def converted_from(path: str | Path) -> str:
    """The fingerprint of the file a converted GGUF was made from ("" for an original)."""
    note = Path(str(path) + SOURCE_SUFFIX)
    if not note.is_file():
        return ""
    return str(json.loads(note.read_text()).get("fingerprint", ""))


def model_in_format(spec: str, weights: str, threads: int = 1) -> str:
    """A model spec as a region loads it: `spec` itself, or for a weight format the path of
    its GGUF converted (`in_format`)."""
    return str(in_format(gguf_path(spec), weights, threads)) if weights else spec


def in_format(source: Path, weights: str, threads: int = 1) -> Path:
    """`source` (a GGUF file) in the format `weights`, converted into the cache the first
    time (a few seconds for a small model); `source` itself for ``""``.

    Raises:
        EngineError: An unknown format, or llama.cpp could not convert the file.
    """
    if not weights:
        return source
    if weights not in WEIGHT_FORMATS:
        raise EngineError(
            f"unknown weight format {weights!r}; choose one of {', '.join(WEIGHT_FORMATS)}"
        )
    fingerprint = file_fingerprint(source)
    target = cache_dir() / "formats" / f"{source.stem}.{fingerprint}.{weights}.gguf"
    if target.is_file() and converted_from(target) == fingerprint:
        return target
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target.is_file() and converted_from(target) == fingerprint):
            _quantize(source, target, weights, threads)
            Path(str(target) + SOURCE_SUFFIX).write_text(
                json.dumps({"source": str(source), "fingerprint": fingerprint}) + "\n"
            )
    return target


def _quantize(source: Path, target: Path, weights: str, threads: int) -> None:
    import llama_cpp

    log.info("converting %s to %s once, into %s", source.name, weights, target)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{weights.upper()}")
    params.allow_requantize = True
    params.nthread = max(1, threads)
    partial = target.with_suffix(".partial")
    failed = llama_cpp.llama_model_quantize(
        str(source).encode(), str(partial).encode(), ctypes.byref(params)
    )
    if failed:
        partial.unlink(missing_ok=True)
        raise EngineError(f"llama.cpp could not convert {source.name} to {weights}")
    partial.rename(target)
