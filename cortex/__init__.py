"""Cortex's orchestration: configuration, turns, the runtime on Ray, front ends and benches.

``from cortex import Cortex`` is the Python API (`cortex.runtime.cortex.Cortex`); it is
imported on first use, since it brings Ray and torch with it.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Cortex":
        from cortex.runtime.cortex import Cortex

        return Cortex
    raise AttributeError(f"module 'cortex' has no attribute {name!r}")
