"""Both step engines verifying draft tokens: greedy output identical to decoding alone
(a draft of another model, so many of its tokens are rejected and the KV cache is cut back
often), and with temperature the target's own distribution (a statistical test on a tiny
model with fixed seeds). The drafts here are synchronous stand-ins; the bus pairing has
its own tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from scipy.stats import chisquare

from modules.engines import Assist, Engine, SamplingSettings, create_engine
from modules.engines.llamacpp import _add as add_to_batch
from modules.engines.sampling import llama_cpp_sampler, llama_cpp_weights, weights
from modules.engines.speculative import Proposer
from modules.models import load_causal_lm, save_tiny_llama

pytestmark = pytest.mark.slow

GREEDY = SamplingSettings(max_new_tokens=24, repetition_penalty=1.0, no_repeat_ngram=0)
CHATS = [
    "Write a short story about a lighthouse keeper.",
    "Translate 'good morning' into Japanese: おはよう, and explain it.",
    "List three French pastries: croissant, éclair, mille-feuille…",
    "Describe the emoji 🚀 and ✨ in a sentence.",
    "Count from one to ten, separated by commas.",
]


class ModelDraft(Proposer):
    """Proposes a causal LM's greedy tokens, computed on demand (no cache: tiny models)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__("tiny")
        self.model = model
        self.prompt: list[int] = []

    def begin(self, prompt: list[int], sampling: SamplingSettings, history: list[int]) -> None:
        self.prompt = prompt

    @torch.inference_mode()
    def proposals(self, generated: list[int], count: int, wait_s: float) -> list[int]:
        tokens = self.prompt + generated
        for _ in range(count):
            logits = self.model(input_ids=torch.tensor([tokens])).logits[0, -1]
            tokens = [*tokens, int(logits.argmax())]
        return tokens[len(self.prompt) + len(generated) :]

    def settle(self, generated: list[int]) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def draft_model(tmp_path_factory: pytest.TempPathFactory) -> torch.nn.Module:
    """A tiny random Llama unlike either target: most of what it proposes is rejected."""
    folder = save_tiny_llama(tmp_path_factory.mktemp("draft"), 256, initializer_range=0.3)
    return load_causal_lm(str(folder))[1]


@pytest.fixture(scope="module")
def varied_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("target"), 256, initializer_range=0.5)


@pytest.fixture(
    scope="module", params=[pytest.param("llama.cpp", marks=pytest.mark.model), "transformers"]
)
def target(request: pytest.FixtureRequest, varied_tiny: Path) -> Iterator[Engine]:
    model = "embedded:smollm2-135m-instruct" if request.param == "llama.cpp" else str(varied_tiny)
    engine = create_engine(request.param, model, max_concurrent=2, context_length=256).start()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def tiny_engines(varied_tiny: Path) -> Iterator[tuple[Engine, torch.nn.Module]]:
    engine = create_engine("transformers", str(varied_tiny), max_concurrent=1).start()
    yield engine, load_causal_lm(str(varied_tiny))[1]
    engine.close()


def decoded(engine: Engine, chat: str, sampling: SamplingSettings, draft: Proposer | None) -> str:
    stream = engine.submit([{"role": "user", "content": chat}], sampling, Assist(draft))
    return "".join(piece.text for piece in stream)


def test_greedy_text_with_a_draft_is_the_text_alone(
    tiny_engines: tuple[Engine, torch.nn.Module], draft_model: torch.nn.Module
) -> None:
    """A transformers target; tests/models/test_speculative_regions.py has a llama.cpp target
    rejecting most of a draft's tokens (20 prompts) and a transformers one accepting most."""
    target, _ = tiny_engines
    verified = 0
    for number, chat in enumerate(CHATS):
        sampling = replace(GREEDY, stop=(",",)) if number == 4 else GREEDY  # a stop string
        draft = ModelDraft(draft_model)
        assert decoded(target, chat, sampling, draft) == decoded(target, chat, sampling, None)
        assert draft.figures.fallback == ""
        verified += draft.figures.proposed
    assert verified > 20  # drafts were verified, not just decoded past


def test_a_batch_mixing_speculating_and_plain_requests_keeps_each_text(
    target: Engine, draft_model: torch.nn.Module
) -> None:
    alone = [decoded(target, chat, GREEDY, None) for chat in CHATS[:2]]
    chat = [{"role": "user", "content": CHATS[0]}]
    plain = target.submit([{"role": "user", "content": CHATS[1]}], GREEDY)
    speculating = target.submit(chat, GREEDY, Assist(ModelDraft(draft_model)))
    assert ["".join(p.text for p in s) for s in (speculating, plain)] == alone


def test_sampling_with_a_draft_is_reproducible_with_its_seed(
    target: Engine, draft_model: torch.nn.Module
) -> None:
    sampling = replace(GREEDY, temperature=0.9, top_p=0.95, seed=11)
    drafts = [ModelDraft(draft_model), ModelDraft(draft_model)]
    texts = [decoded(target, CHATS[0], sampling, draft) for draft in drafts]
    assert texts[0] == texts[1] and texts[0]
    assert drafts[0].figures.proposed > 0 and drafts[0].figures.fallback == ""


def test_a_sliding_window_model_decodes_alone_and_says_why(
    tmp_path: Path, draft_model: torch.nn.Module
) -> None:
    folder = save_tiny_llama(tmp_path / "mistral", 256, sliding_window=16)
    engine = create_engine("transformers", str(folder)).start()
    draft = ModelDraft(draft_model)
    text = decoded(engine, CHATS[0], GREEDY, draft)
    assert text == decoded(engine, CHATS[0], GREEDY, None)
    engine.close()
    assert draft.figures.fallback == "this model's sliding-window cache cannot take tokens back"
    assert draft.figures.proposed == 0


def test_sampling_with_a_draft_keeps_the_targets_distribution(
    tiny_engines: tuple[Engine, torch.nn.Module],
) -> None:
    """300 samples (seeds 0-299) of three tokens: the second token, where the draft's
    proposal is accepted or rejected, against the target's exact distribution after the most
    frequent first token. The draft proposes the target's own greedy token, which sampling
    keeps only sometimes, so both branches of the rule run."""
    engine, model = tiny_engines
    sampling = SamplingSettings(
        max_new_tokens=3, temperature=0.7, top_p=0.95, repetition_penalty=1.0, no_repeat_ngram=0
    )
    chat = [{"role": "user", "content": "Hi"}]
    pairs, drafts = [], []
    for seed in range(300):
        drafts.append(ModelDraft(model))
        stream = engine.submit(chat, replace(sampling, seed=seed), Assist(drafts[-1]))
        pairs.append(tuple(piece.token_id for piece in stream))
    assert sum(d.figures.accepted for d in drafts) > 20  # both branches of the rule ran
    assert sum(d.figures.proposed - d.figures.accepted for d in drafts) > 20
    first, _ = Counter(pair[0] for pair in pairs).most_common(1)[0]
    seconds = Counter(pair[1] for pair in pairs if pair[0] == first)
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([engine.render(chat) + [first]])).logits[0, -1]
    exact = weights(logits, sampling)
    exact /= exact.sum()
    observed, expected = binned(seconds, exact, sum(seconds.values()))
    assert sum(seconds.values()) > 60
    assert chisquare(observed, expected).pvalue > 1e-3


def binned(counts: Counter[int], exact: torch.Tensor, total: int) -> tuple[list, list]:
    """Observed and expected counts over the tokens expected at least 5 times, and one bin
    for all the others."""
    common = [int(t) for t in torch.nonzero(exact * total >= 5).flatten()]
    observed = [counts.get(token, 0) for token in common]
    expected = [float(exact[token]) * total for token in common]
    return observed + [total - sum(observed)], expected + [total - sum(expected)]


@pytest.mark.model
def test_llama_cpp_weights_are_what_its_sampler_draws_from() -> None:
    """The distribution llama.cpp's verification reads (its chain without the draw) against
    1,500 draws of the full chain on the same logits."""
    engine = create_engine("llama.cpp", "embedded:smollm2-135m-instruct", context_length=256)
    engine.start()
    import llama_cpp

    sampling = SamplingSettings(temperature=0.8, top_p=0.9, repetition_penalty=1.3)
    prompt = engine.render([{"role": "user", "content": "Name a colour."}])
    model, context = engine._model, engine._ctx  # type: ignore[attr-defined]
    batch = engine._batch  # type: ignore[attr-defined]
    batch.batch.n_tokens = 0
    for position, token in enumerate(prompt):
        add_to_batch(batch.batch, token, position, 0, logits=position == len(prompt) - 1)
    context.decode(batch)
    history = prompt[-8:]  # the penalty sees these as generated
    shaping = llama_cpp_sampler(model, sampling, 256, history, draws=False)
    exact = llama_cpp_weights(shaping, context.ctx, -1, engine.vocab_size)
    draws: Counter[int] = Counter()
    for seed in range(1500):
        chain = llama_cpp_sampler(model, replace(sampling, seed=seed), 256, history)
        draws[llama_cpp.llama_sampler_sample(chain.sampler, context.ctx, -1)] += 1
        chain.close()
    shaping.close()
    engine.close()
    observed, expected = binned(draws, exact, 1500)
    assert len(observed) > 3
    assert chisquare(observed, expected).pvalue > 1e-3


def tiny_with_another_tokenizer(folder: Path) -> Path:
    """A tiny random Llama that speaks GPT-2's byte-level BPE (Whisper tiny.en's tokenizer,
    which ships with the embedded speech model), with SmolLM2's chat template."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from modules.models import embedded, resolve

    smollm = AutoTokenizer.from_pretrained(resolve("embedded:smollm2-135m-instruct"))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(embedded("embedded:whisper-tiny.en").folder() / "tokenizer.json"),
        eos_token="<|endoftext|>",
    )
    tokenizer.chat_template = smollm.chat_template
    shape = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1}
    config = LlamaConfig(
        **shape, num_attention_heads=4, num_key_value_heads=2, vocab_size=len(tokenizer)
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.model  # the tokenizers of the embedded SmolLM2 and Whisper
def test_a_draft_with_another_tokenizer_is_refused_when_cortex_starts(
    tmp_path: Path, varied_tiny: Path
) -> None:
    from cortex.config import parse_config
    from cortex.errors import ConfigError
    from cortex.runtime.inprocess import InProcessCortex

    other = tiny_with_another_tokenizer(tmp_path / "gpt2-tiny")
    config = parse_config(
        {
            "regions": {
                "planning": {"kind": "planning", "class": "tests.tui.scripted:ScriptedPlanner"},
                "language": {"model": str(varied_tiny), "draft": "drafter"},
                "drafter": {"kind": "language", "model": str(other)},
            }
        }
    )
    with pytest.raises(ConfigError, match="drafter .drafter. splits text into other token ids"):
        InProcessCortex(config).start()
