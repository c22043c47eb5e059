"""Inference engines for text regions, and the choice among them.

``engine = "auto"`` picks by model format and hardware: a GGUF model (the embedded default
among them) runs on llama.cpp; a transformers model runs on vLLM when CUDA and vLLM are both
there, else on transformers. `pick_engine` says which and why, for logs and `cortex status`.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Literal

from modules.engines.chat import Message
from modules.engines.detokenizer import Detokenizer, TextAssembler
from modules.engines.engine import Engine, EngineFigures
from modules.engines.request import ALONE, Assist, Request
from modules.engines.sampling import Guide, SamplingSettings
from modules.engines.step import StepEngine
from modules.engines.stopping import StopMatcher
from modules.engines.stream import FinishReason, Piece, Stream
from modules.errors import EngineError
from modules.models import EMBEDDED_PREFIX, is_gguf

EngineName = Literal["auto", "llama.cpp", "vllm", "transformers"]
ENGINE_NAMES: tuple[str, ...] = ("auto", "llama.cpp", "vllm", "transformers")

__all__ = [
    "ALONE",
    "ENGINE_NAMES",
    "Assist",
    "Detokenizer",
    "Engine",
    "EngineFigures",
    "EngineName",
    "FinishReason",
    "Guide",
    "Message",
    "Piece",
    "Request",
    "SamplingSettings",
    "StepEngine",
    "StopMatcher",
    "Stream",
    "TextAssembler",
    "create_engine",
    "pick_engine",
]


def pick_engine(requested: str, model: str, cuda: bool) -> tuple[str, str]:
    """The engine to run `model` on, and why (a phrase for logs).

    Raises:
        EngineError: `requested` is not an engine name, or it cannot read this model.
    """
    if requested not in ENGINE_NAMES:
        raise EngineError(f"unknown engine {requested!r}; choose one of {', '.join(ENGINE_NAMES)}")
    gguf = is_gguf(model)
    if requested == "llama.cpp" and not gguf:
        raise EngineError(f"llama.cpp reads GGUF files; {model!r} is not one (use transformers)")
    embedded = model.startswith(EMBEDDED_PREFIX)  # transformers reads those from a converted copy
    if gguf and (requested == "vllm" or (requested == "transformers" and not embedded)):
        raise EngineError(f"{model!r} is a GGUF file; run it with engine = 'llama.cpp'")
    if requested != "auto":
        return requested, "as configured"
    if gguf:
        return "llama.cpp", "auto: a GGUF model"
    if cuda and importlib.util.find_spec("vllm") is not None:
        return "vllm", "auto: a transformers model on CUDA with vLLM installed"
    return "transformers", "auto: a transformers model" + ("" if cuda else " without CUDA")


def create_engine(name: str, model: str, **options: Any) -> Engine:
    """An engine of a resolved name (not ``auto``; see `pick_engine`), not yet started;
    `options` are the engine's own (device, threads, max_concurrent...: see `Engine`).

    Raises:
        EngineError: Unknown engine name.
    """
    engine_class: type[Engine]
    if name == "llama.cpp":
        from modules.engines.llamacpp import LlamaCppEngine

        engine_class = LlamaCppEngine
    elif name == "vllm":
        from modules.engines.vllm_engine import VllmEngine

        engine_class = VllmEngine
    elif name == "transformers":
        from modules.engines.hf import TransformersEngine

        engine_class = TransformersEngine
    else:
        raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES[1:])}")
    return engine_class(model, **options)
