"""A prefilled KV state leaving one engine and entering another: the same greedy tokens as a
prefill done where it decodes (llama.cpp on the embedded model, transformers on a tiny one),
with a draft's tokens verified after it too, its bytes per token as the model's shape says,
and a state of another model or engine refused by name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bus.protocol import Subtask
from modules.engines import Assist, Engine, SamplingSettings, create_engine
from modules.engines.formats import in_format
from modules.engines.kv import common_prefix, other_format
from modules.engines.speculative import Proposer
from modules.errors import HandoffError
from modules.models import gguf_path, save_tiny_llama
from modules.prompts import answer_chat, shared_chat

pytestmark = pytest.mark.model  # the embedded GGUF; transformers on a tiny model

EMBEDDED = "embedded:smollm2-135m-instruct"
GREEDY = SamplingSettings(max_new_tokens=24, repetition_penalty=1.0, no_repeat_ngram=0)
ARTICLE = (
    "Maria Lopez opened a small bakery in Porto in 2019 with her brother Tiago. It sells bread, "
    "pastries and coffee to the students of the university nearby. "
) * 20
PART = Subtask(
    turn_id="t",
    subtask_id="2",
    region="language",
    instruction="List the people it names.",
    context=f"Here is an article: {ARTICLE}",
    parts=3,
)


@pytest.fixture(scope="module", params=["llama.cpp", "transformers"])
def engines(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Engine]]:
    """Three engines of one model: an exporter, an importer, one that prefills alone."""
    if request.param == "llama.cpp":
        model = EMBEDDED
    else:
        folder = tmp_path_factory.mktemp("varied-tiny-llama")
        model = str(save_tiny_llama(folder, max_positions=2048, initializer_range=0.5))
    started = [
        create_engine(request.param, model, max_concurrent=2, context_length=2048).start()
        for _ in range(3)
    ]
    yield started
    for engine in started:
        engine.close()


def prompts(engine: Engine) -> tuple[list[int], list[int]]:
    """A part's prompt and the start it shares with the request's other parts."""
    prompt = engine.render(answer_chat(PART))
    shared = engine.render(shared_chat(PART))
    return prompt, prompt[: common_prefix(prompt, shared)]


def tokens(engine: Engine, prompt: list[int], kv: object = None) -> tuple[list[int], object]:
    stream = engine.submit_ids(prompt, GREEDY, Assist(kv=kv))  # type: ignore[arg-type]
    return [piece.token_id for piece in stream], stream


def test_an_imported_prefill_decodes_the_tokens_of_a_prefill_done_here(
    engines: list[Engine],
) -> None:
    exporter, importer, alone = engines
    prompt, start = prompts(exporter)
    state = exporter.prefill(start)
    imported, stream = tokens(importer, prompt, state)
    assert imported == tokens(alone, prompt)[0] and len(imported) > 5
    assert state.tokens == tuple(start) and state.export_s > 0 and len(start) > 500
    reused = stream.imported_tokens  # type: ignore[attr-defined]
    assert reused == importer.importable(len(start)) > 500  # what an exporter then exports
    if exporter.name == "llama.cpp":  # batch-invariant: as far as whole prefill chunks go
        chunk = importer.prefill_chunk  # type: ignore[attr-defined]
        assert reused == len(start) // chunk * chunk
    else:
        assert reused == len(start)


class ScriptedDraft(Proposer):
    """Proposes a known continuation with every fourth token wrong: the target keeps runs of
    it and rejects the rest, cutting its cache back each time."""

    def __init__(self, script: list[int]) -> None:
        super().__init__("scripted")
        self.script = script

    def begin(self, prompt: list[int], sampling: SamplingSettings, history: list[int]) -> None:
        pass

    def proposals(self, generated: list[int], count: int, wait_s: float) -> list[int]:
        ahead = enumerate(self.script[len(generated) : len(generated) + count], len(generated))
        return [token + (position % 4 == 3) for position, token in ahead]

    def settle(self, generated: list[int]) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_draft_verified_after_an_imported_prefill_keeps_the_greedy_tokens(
    engines: list[Engine],
) -> None:
    exporter, importer, alone = engines
    prompt, start = prompts(exporter)
    expected = tokens(alone, prompt)[0]
    draft = ScriptedDraft(expected)
    stream = importer.submit_ids(prompt, GREEDY, Assist(draft, exporter.prefill(start)))
    assert [piece.token_id for piece in stream] == expected and len(expected) > 5
    assert stream.imported_tokens > 500 and draft.figures.fallback == ""
    assert 0 < draft.figures.accepted < draft.figures.proposed  # kept some, rejected some


def test_a_states_bytes_per_token_are_what_the_models_shape_says(engines: list[Engine]) -> None:
    exporter = engines[0]
    state = exporter.prefill(prompts(exporter)[1])
    per_token = exporter.kv_bytes_per_token()
    if exporter.name == "llama.cpp":  # layers x 2 x 3 KV heads x 64 x 2 bytes (f16)
        assert per_token == 30 * 2 * 3 * 64 * 2
        assert per_token < state.bytes_per_token < per_token * 1.01  # and each cell's position
    else:
        assert state.bytes_per_token == per_token == 2 * 2 * 2 * 16 * 4


def test_a_state_of_another_model_or_engine_is_refused(
    engines: list[Engine], tmp_path: Path
) -> None:
    exporter, importer, _ = engines
    prompt, start = prompts(exporter)
    state = exporter.prefill(start)
    stranger = replace(state, identity=replace(state.identity, lineage="0123456789abcdef"))
    with pytest.raises(HandoffError, match="another model"):
        importer.submit_ids(prompt, GREEDY, Assist(kv=stranger))
    elsewhere = replace(state, identity=replace(state.identity, engine="vllm"))
    with pytest.raises(HandoffError, match="in vllm's layout"):
        importer.submit_ids(prompt, GREEDY, Assist(kv=elsewhere))
    if exporter.name == "transformers":  # the same shape, other weights: another model
        folder = save_tiny_llama(tmp_path, max_positions=2048, initializer_range=0.4)
        other = create_engine("transformers", str(folder), context_length=2048).start()
        try:
            with pytest.raises(HandoffError, match="another model"):
                other.submit_ids(prompt, GREEDY, Assist(kv=state))
        finally:
            other.close()


def test_another_weight_format_of_the_model_is_imported_and_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORTEX_CACHE_DIR", str(tmp_path))
    q8 = in_format(gguf_path(EMBEDDED), "q8_0")
    assert in_format(gguf_path(EMBEDDED), "q8_0") == q8  # converted once
    fast, shipped = (
        create_engine("llama.cpp", model, context_length=2048).start()
        for model in (str(q8), EMBEDDED)
    )
    try:
        prompt, start = prompts(fast)
        state = fast.prefill(start)
        ids, stream = tokens(shipped, prompt, state)
        assert stream.imported_tokens > 500 and len(ids) > 5  # type: ignore[attr-defined]
        assert other_format(state, shipped.kv_identity())
        assert state.identity.lineage == shipped.kv_identity().weights
    finally:
        fast.close()
        shipped.close()
