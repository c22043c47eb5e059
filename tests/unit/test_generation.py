"""The decode loop: the same tokens as `generate`, stop rules, sampling."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from modules.generation import SamplingSettings, TextAssembler, decode


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path):
    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


def prompt(tokenizer) -> list[int]:
    return tokenizer("The capital of France is")["input_ids"]


def test_greedy_decode_matches_generate(tiny) -> None:
    model, tokenizer = tiny
    ids = prompt(tokenizer)
    reference = model.generate(
        torch.tensor([ids]), max_new_tokens=24, do_sample=False, eos_token_id=None, pad_token_id=0
    )[0, len(ids) :].tolist()
    pieces = list(decode(model, tokenizer, ids, SamplingSettings(max_new_tokens=24)))
    assert [p.token_id for p in pieces] == reference


def test_pieces_add_up_to_the_decoded_text(tiny) -> None:
    model, tokenizer = tiny
    pieces = list(decode(model, tokenizer, prompt(tokenizer), SamplingSettings(max_new_tokens=16)))
    ids = [p.token_id for p in pieces]
    assert "".join(p.text for p in pieces) == tokenizer.decode(ids, skip_special_tokens=True)


def test_stop_id_ends_decoding_before_it(tiny) -> None:
    model, tokenizer = tiny
    full = [p.token_id for p in decode(model, tokenizer, prompt(tokenizer), SamplingSettings(12))]
    stopped = list(
        decode(model, tokenizer, prompt(tokenizer), SamplingSettings(12), stop_ids=[full[5]])
    )
    assert [p.token_id for p in stopped] == full[: full.index(full[5])]


def test_stop_string_is_not_yielded(tiny) -> None:
    model, tokenizer = tiny
    full = "".join(
        p.text for p in decode(model, tokenizer, prompt(tokenizer), SamplingSettings(20))
    )
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    assert stop.strip(), "the tiny model's text should have a middle to stop at"
    text = "".join(
        p.text
        for p in decode(model, tokenizer, prompt(tokenizer), SamplingSettings(20, stop=(stop,)))
    )
    assert stop not in text
    assert full.startswith(text)


def test_token_limit(tiny) -> None:
    model, tokenizer = tiny
    assert len(list(decode(model, tokenizer, prompt(tokenizer), SamplingSettings(5)))) == 5


def test_sampling_is_reproducible_with_a_seed_and_varies_without(tiny) -> None:
    model, tokenizer = tiny

    def sample(seed: int) -> list[int]:
        settings = SamplingSettings(max_new_tokens=12, temperature=1.5, top_p=0.95, seed=seed)
        return [p.token_id for p in decode(model, tokenizer, prompt(tokenizer), settings)]

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


def test_assembler_waits_for_a_whole_character(tiny) -> None:
    _, tokenizer = tiny
    ids = tokenizer("naïve café ☕")["input_ids"]
    assembler = TextAssembler(tokenizer)
    text = "".join(assembler.add(i) for i in ids)
    assert text == tokenizer.decode(ids)
    assert "\ufffd" not in text
