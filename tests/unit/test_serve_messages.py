"""How `cortex serve` reads a conversation's parts: media saved as files, fields it cannot
honour refused by name."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from cortex.serve.errors import ApiError
from cortex.serve.fields import parse_request
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
def test_an_image_detail_it_cannot_honour_is_refused_by_name(
    tmp_path: Path, detail: str
) -> None:
    image = {"url": f"data:image/jpeg;base64,{PIXEL}", "detail": detail}
    with pytest.raises(ApiError) as refused:
        read_conversation(chat(image), tmp_path)
    assert refused.value.status == 400 and "detail" in str(refused.value)
    read_conversation(chat({**image, "detail": "auto"}), tmp_path)  # the default is fine
