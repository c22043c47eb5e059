"""Text assembly from token ids: whole characters, in increments that add up to the text."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from modules.engines import TextAssembler


def test_assembler_waits_for_a_whole_character(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = tokenizer("naïve café ☕ and 日本語, then a long tail of plain words")["input_ids"]
    assembler = TextAssembler(tokenizer)
    pieces = [assembler.add(i) for i in ids]
    assert "".join(pieces) == tokenizer.decode(ids) == assembler.emitted
    assert not any("\ufffd" in piece for piece in pieces)
