"""The vLLM adapter without a GPU: a stand-in `vllm` module records what the adapter asks
for and streams canned outputs the way vLLM's AsyncLLM does (cumulative token ids and text)."""

from __future__ import annotations

import asyncio
import logging
import sys
import types
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from modules.engines import Guide, SamplingSettings, create_engine
from modules.errors import EngineError

CANNED = ["Tea", " is", " a", " drink", "."]


@dataclass
class FakeCompletion:
    token_ids: list[int]
    text: str
    finish_reason: str | None
    logprobs: list[dict[int, types.SimpleNamespace]] | None = None


@dataclass
class FakeOutput:
    outputs: list[FakeCompletion]


@dataclass
class FakeLLM:
    """Stands in for vllm.v1.engine.async_llm.AsyncLLM."""

    requests: list[tuple[dict, object]] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    model_config: types.SimpleNamespace = field(
        default_factory=lambda: types.SimpleNamespace(max_model_len=256)
    )

    async def generate(self, prompt: dict, params: object, request_id: str) -> AsyncIterator:
        self.requests.append((prompt, params))
        for end in range(1, len(CANNED) + 1):
            await asyncio.sleep(0.01)
            done = end == len(CANNED)
            completion = FakeCompletion(
                list(range(end)), "".join(CANNED[:end]), "stop" if done else None
            )
            if params["logprobs"] is not None:  # the chosen token ranks 2nd, after "!"
                completion.logprobs = [logprobs(i) for i in range(end)]
            yield FakeOutput([completion])

    async def abort(self, request_id: str) -> None:
        self.aborted.append(request_id)

    def shutdown(self) -> None:
        pass


def logprobs(position: int) -> dict[int, types.SimpleNamespace]:
    """vLLM's log-probabilities at one position of `CANNED`: its token, ranked 2nd."""
    chosen = types.SimpleNamespace(logprob=-1.0, rank=2, decoded_token=CANNED[position])
    return {99: types.SimpleNamespace(logprob=-0.5, rank=1, decoded_token="!"), position: chosen}


@pytest.fixture()
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLM]:
    llm = FakeLLM()
    vllm = types.ModuleType("vllm")
    vllm.AsyncEngineArgs = lambda **options: options  # type: ignore[attr-defined]
    vllm.SamplingParams = lambda **options: options  # type: ignore[attr-defined]
    sampling_params = types.ModuleType("vllm.sampling_params")
    sampling_params.StructuredOutputsParams = lambda **options: options  # type: ignore[attr-defined]
    async_llm = types.ModuleType("vllm.v1.engine.async_llm")
    async_llm.AsyncLLM = types.SimpleNamespace(from_engine_args=lambda args: llm)  # type: ignore[attr-defined]
    for name, module in {
        "vllm": vllm,
        "vllm.sampling_params": sampling_params,
        "vllm.v1": types.ModuleType("vllm.v1"),
        "vllm.v1.engine": types.ModuleType("vllm.v1.engine"),
        "vllm.v1.engine.async_llm": async_llm,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    yield llm


def test_the_adapter_streams_one_piece_per_token_and_maps_every_option(
    fake_vllm: FakeLLM, tiny_model_dir: Path
) -> None:
    engine = create_engine("vllm", str(tiny_model_dir), device="cuda", max_concurrent=8).start()
    assert engine.context_length == 256
    schema = {"type": "object"}
    sampling = SamplingSettings(
        max_new_tokens=20,
        temperature=0.7,
        top_p=0.9,
        seed=3,
        stop=("END",),
        repetition_penalty=1.2,
        guide=Guide(json_schema=schema),
    )
    stream = engine.submit([{"role": "user", "content": "What is tea?"}], sampling)
    pieces = list(stream)
    engine.close()
    assert [p.token_id for p in pieces] == [0, 1, 2, 3, 4]
    assert "".join(p.text for p in pieces) == "Tea is a drink."
    assert stream.finish_reason == "stop" and stream.completion_tokens == 5
    prompt, params = fake_vllm.requests[0]
    assert prompt["prompt_token_ids"] == engine.render(
        [{"role": "user", "content": "What is tea?"}]
    )
    assert params == {
        "max_tokens": 20,
        "temperature": 0.7,
        "top_p": 0.9,
        "seed": 3,
        "stop": ["END"],
        "repetition_penalty": 1.2,
        "frequency_penalty": 0.0,
        "presence_penalty": 0.0,
        "logprobs": None,
        "structured_outputs": {"json": schema, "grammar": None},
    }
    assert all(piece.logprob is None for piece in pieces)


def test_each_piece_has_vllms_log_probabilities_when_asked(
    fake_vllm: FakeLLM, tiny_model_dir: Path
) -> None:
    engine = create_engine("vllm", str(tiny_model_dir), device="cuda").start()
    chat = [{"role": "user", "content": "What is tea?"}]
    pieces = list(engine.submit(chat, SamplingSettings(logprobs=1)))
    engine.close()
    assert fake_vllm.requests[0][1]["logprobs"] == 1
    for piece, token in zip(pieces, CANNED, strict=True):
        assert piece.logprob is not None
        assert (piece.logprob.token, piece.logprob.logprob) == (token, -1.0)
        assert piece.logprob.top == (("!", -0.5),)  # the top 1 alone, not the chosen 2nd


def test_settings_vllm_cannot_apply_are_named_once_each_in_its_log(
    fake_vllm: FakeLLM, tiny_model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine("vllm", str(tiny_model_dir), device="cuda").start()
    chat = [{"role": "user", "content": "What is tea?"}]
    requests = [
        SamplingSettings(no_repeat_ngram=0),  # nothing vLLM lacks: no warning
        SamplingSettings(),  # the default no_repeat_ngram
        SamplingSettings(),
        SamplingSettings(avoid="Tea is a drink."),
        SamplingSettings(no_repeat_ngram=3, avoid="Coffee is too."),
    ]
    with caplog.at_level(logging.WARNING, logger="cortex.engines.vllm"):
        for sampling in requests:
            assert "".join(p.text for p in engine.submit(chat, sampling)) == "Tea is a drink."
    engine.close()
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "vLLM cannot apply no_repeat_ngram; requests decode without it",
        "vLLM cannot apply avoid; requests decode without it",
    ]
    assert all("avoid" not in params for _, params in fake_vllm.requests)


def test_a_cancelled_stream_aborts_its_vllm_request(
    fake_vllm: FakeLLM, tiny_model_dir: Path
) -> None:
    engine = create_engine("vllm", str(tiny_model_dir), device="cuda").start()
    stream = engine.submit([{"role": "user", "content": "Hi"}], SamplingSettings())
    for piece in stream:
        if piece.token_id == 1:
            stream.cancel()
    engine.close()
    assert stream.finish_reason == "cancelled" and len(fake_vllm.aborted) == 1


def test_vllm_without_cuda_or_without_the_package_is_named(
    monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(EngineError, match="needs a CUDA GPU"):
        create_engine("vllm", str(tiny_model_dir), device="cuda").start()
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(EngineError, match=r"pip install 'cortex-bus\[vllm\]'"):
        create_engine("vllm", str(tiny_model_dir), device="cuda").start()
