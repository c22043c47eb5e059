"""How `cortex serve` reads a conversation's parts: media saved as files, fields it cannot
honour refused by name, log-probability fields read and written."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bus.protocol import TokenLogprob
from cortex.serve.api import logprob_entry
from cortex.serve.errors import ApiError
from cortex.serve.fields import decoding, parse_request
from cortex.serve.messages import read_conversation

PIXEL = base64.b64encode((Path(__file__).parents[1] / "data" / "cat.jpg").read_bytes()).decode()


def chat(image: dict[str, object]) -> object:
    part = {"type": "image_url", "image_url": image}
    text = {"type": "text", "text": "What is this?"}
    return parse_request(
        {"model": "cortex", "messages": [{"role": "user", "content": [text, part]}]}
    )


def test_a_data_url_picture_is_saved_for_the_vision_region(tmp_path: Path) -> None:
    read = read_conversation(chat({"url": f"data:image/jpeg;base64,{PIXEL}"}), tmp_path)
    assert read.question == "What is this?" and read.images[0].read_bytes()[:2] == b"\xff\xd8"


@pytest.mark.parametrize("detail", ["low", "high"])
def test_an_image_detail_it_cannot_honour_is_refused_by_name(tmp_path: Path, detail: str) -> None:
    image = {"url": f"data:image/jpeg;base64,{PIXEL}", "detail": detail}
    with pytest.raises(ApiError) as refused:
        read_conversation(chat(image), tmp_path)
    assert refused.value.status == 400 and "detail" in str(refused.value)
    read_conversation(chat({**image, "detail": "auto"}), tmp_path)  # the default is fine


def test_log_probability_fields_become_the_decoding_a_region_reads() -> None:
    ask = {"model": "language-0", "messages": [{"role": "user", "content": "Hi"}]}
    assert decoding(parse_request(ask)).logprobs is None
    assert decoding(parse_request(ask | {"logprobs": True})).logprobs == 0
    assert decoding(parse_request(ask | {"logprobs": True, "top_logprobs": 5})).logprobs == 5
    for wrong, param in (
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
    ):
        with pytest.raises(ApiError) as refused:
            parse_request(ask | wrong)
        assert refused.value.body["error"]["param"] == param


def test_a_token_entry_has_its_utf8_bytes_and_its_alternatives() -> None:
    entry = logprob_entry(TokenLogprob(token="é", logprob=-0.5, top=(("é", -0.5), ("e", -1.5))))
    assert entry == {
        "token": "é",
        "logprob": -0.5,
        "bytes": [195, 169],
        "top_logprobs": [
            {"token": "é", "logprob": -0.5, "bytes": [195, 169]},
            {"token": "e", "logprob": -1.5, "bytes": [101]},
        ],
    }
