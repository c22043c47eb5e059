"""What an engine needs to hand a prefilled sequence's KV state (`bus.handoff.KvState`) over.

The state is the engine's own bytes for the KV cache of `tokens` (llama.cpp's per-sequence
state, transformers' cache tensors, vLLM's KV-connector files) with the identity of the
weights that computed it. A replica imports a state only from the same engine and the same
weights, or from another format of them (a GGUF quantised from the same file): anything else
would decode from a cache that does not belong to its model, so it is refused by name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bus.handoff import KvIdentity, KvState
from modules.errors import HandoffError

SAMPLE_BYTES = 1 << 20
"""A weights file is fingerprinted by its size and three samples of this many bytes: cheap
for a 5 GB file, and two different trainings never share them."""


def check_import(state: KvState, here: KvIdentity) -> None:
    """Raises `HandoffError` if a state cannot be imported by an engine of `here`."""
    if reason := here.refusal(state.identity):
        raise HandoffError(f"import refused: {reason}")


def other_format(state: KvState, here: KvIdentity) -> bool:
    """Whether a state importable `here` comes from another weight format of the model (its
    text may then differ from this format's own prefill, as the two formats' texts do)."""
    return state.identity.weights != here.weights


def file_fingerprint(path: str | Path) -> str:
    """A digest of a weights file: its size and its first, middle and last `SAMPLE_BYTES`."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as file:
        for offset in (0, max(0, size // 2 - SAMPLE_BYTES // 2), max(0, size - SAMPLE_BYTES)):
            file.seek(offset)
            digest.update(file.read(SAMPLE_BYTES))
    return digest.hexdigest()[:16]


def common_prefix(a: list[int] | tuple[int, ...], b: list[int] | tuple[int, ...]) -> int:
    """How many tokens two token lists share from their start."""
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))
