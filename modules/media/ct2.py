"""Reads CTranslate2 model files and turns a CTranslate2 Whisper into a transformers one.

CTranslate2's ``model.bin`` (format version 6) is: the format version, the spec's name and
revision, then each variable as name, shape, dtype and raw bytes, then aliases. Its Whisper
spec fuses attention projections (self-attention q|k|v, cross-attention k|v), which are split
back here; the key projections carry no bias in transformers (CTranslate2 stores zeros).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch

from modules.errors import ModelNotFoundError

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
SUPPORTED_VERSION = 6


def read_model_bin(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """The spec name and every variable (aliases resolved) of a CTranslate2 model file.

    Raises:
        ModelNotFoundError: The file is not a CTranslate2 model of a known format version.
    """
    data = path.read_bytes()
    offset = 0

    def take(fmt: str) -> Any:
        nonlocal offset
        (value,) = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return value

    def text() -> str:
        nonlocal offset
        size = take("<H")
        value = data[offset : offset + size - 1].decode()
        offset += size
        return value

    try:
        version = take("<I")
        if version != SUPPORTED_VERSION:
            raise ModelNotFoundError(
                f"{path} is CTranslate2 format {version}, not {SUPPORTED_VERSION}"
            )
        spec, _revision, count = text(), take("<I"), take("<I")
        variables: dict[str, np.ndarray] = {}
        for _ in range(count):
            name, rank = text(), take("<B")
            shape = [take("<I") for _ in range(rank)]
            dtype, size = np.dtype(_DTYPES[take("<B")]), take("<I")
            variables[name] = np.frombuffer(data, dtype, size // dtype.itemsize, offset).reshape(
                shape
            )
            offset += size
        for _ in range(take("<I") if offset < len(data) else 0):
            alias, target = text(), text()
            variables[alias] = variables[target]
    except (struct.error, KeyError, ValueError, UnicodeDecodeError) as error:
        raise ModelNotFoundError(f"{path} is not a readable CTranslate2 model ({error})") from None
    return spec, variables


def whisper_state_dict(variables: dict[str, np.ndarray], layers: int) -> dict[str, torch.Tensor]:
    """A transformers `WhisperForConditionalGeneration` state dict from CTranslate2 variables."""
    state: dict[str, torch.Tensor] = {}

    def put(name: str, array: np.ndarray) -> None:
        state[name] = torch.from_numpy(np.array(array, dtype=np.float32))

    def norm(target: str, source: str) -> None:
        put(f"{target}.weight", variables[f"{source}/gamma"])
        put(f"{target}.bias", variables[f"{source}/beta"])

    def linear(target: str, source: str) -> None:
        put(f"{target}.weight", variables[f"{source}/weight"])
        put(f"{target}.bias", variables[f"{source}/bias"])

    def split(target: str, source: str, parts: tuple[str, ...]) -> None:
        weights = np.split(variables[f"{source}/weight"], len(parts))
        biases = np.split(variables[f"{source}/bias"], len(parts))
        for part, weight, bias in zip(parts, weights, biases, strict=True):
            put(f"{target}.{part}.weight", weight)
            if part != "k_proj":
                put(f"{target}.{part}.bias", bias)

    for side in ("encoder", "decoder"):
        prefix = f"model.{side}"
        norm(f"{prefix}.layer_norm", f"{side}/layer_norm")
        put(f"{prefix}.embed_positions.weight", variables[f"{side}/position_encodings/encodings"])
        for i in range(layers):
            layer, source = f"{prefix}.layers.{i}", f"{side}/layer_{i}"
            split(
                f"{layer}.self_attn",
                f"{source}/self_attention/linear_0",
                ("q_proj", "k_proj", "v_proj"),
            )
            linear(f"{layer}.self_attn.out_proj", f"{source}/self_attention/linear_1")
            norm(f"{layer}.self_attn_layer_norm", f"{source}/self_attention/layer_norm")
            linear(f"{layer}.fc1", f"{source}/ffn/linear_0")
            linear(f"{layer}.fc2", f"{source}/ffn/linear_1")
            norm(f"{layer}.final_layer_norm", f"{source}/ffn/layer_norm")
            if side == "decoder":
                linear(f"{layer}.encoder_attn.q_proj", f"{source}/attention/linear_0")
                split(f"{layer}.encoder_attn", f"{source}/attention/linear_1", ("k_proj", "v_proj"))
                linear(f"{layer}.encoder_attn.out_proj", f"{source}/attention/linear_2")
                norm(f"{layer}.encoder_attn_layer_norm", f"{source}/attention/layer_norm")
    for conv in ("conv1", "conv2"):
        linear(f"model.encoder.{conv}", f"encoder/{conv}")
    put("model.decoder.embed_tokens.weight", variables["decoder/embeddings/weight"])
    return state


def whisper_config(variables: dict[str, Any]) -> Any:
    """The transformers `WhisperConfig` of a CTranslate2 Whisper's variables (tiny.en's
    special tokens)."""
    from transformers import WhisperConfig

    heads = int(variables["encoder/num_heads"])
    width = variables["encoder/conv1/weight"].shape[0]
    layers = sum(1 for name in variables if name.endswith("/self_attention/layer_norm/gamma")) // 2
    return WhisperConfig(
        vocab_size=variables["decoder/embeddings/weight"].shape[0],
        num_mel_bins=variables["encoder/conv1/weight"].shape[1],
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        d_model=width,
        encoder_ffn_dim=4 * width,
        decoder_ffn_dim=4 * width,
        max_source_positions=variables["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=variables["decoder/position_encodings/encodings"].shape[0],
        pad_token_id=50256,
        bos_token_id=50256,
        eos_token_id=50256,
        decoder_start_token_id=50257,
        tie_word_embeddings=True,
    )
