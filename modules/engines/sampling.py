"""How tokens are chosen: the settings every engine reads, and each engine's mapping of them.

`SamplingSettings` (and `Guide`) say what a request wants; this module is also the one place
where they become an engine's own terms: llama.cpp's sampler chain, the transformers logits
shaping and token pick, vLLM's `SamplingParams`. A setting an engine cannot apply is named
here (`VLLM_UNAPPLIED`), and that engine says so once in its log; none is dropped silently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bus.protocol import MAX_TOP_LOGPROBS
from modules.errors import BadRequestError

if TYPE_CHECKING:
    import torch

DEFAULT_REPETITION_PENALTY = 1.1
"""Divides the logit of every token among the last `PENALTY_WINDOW` generated ones (the CTRL
paper's penalty, as llama.cpp and transformers apply it). 1.0 turns it off."""
PENALTY_WINDOW = 64
SEED_LIMIT = 2**32
"""Seeds are below this: llama.cpp's sampler takes a 32-bit unsigned seed."""
DEFAULT_NO_REPEAT_NGRAM = 6
"""Longest run of generated tokens that may appear twice: a small model's loop (the same
sentence or list line again and again) is cut off before it repeats. 0 turns it off."""
VLLM_UNAPPLIED = ("no_repeat_ngram", "avoid", "history")
"""Settings vLLM offers no way to apply (its V1 engine takes no per-request logits
processor): a vLLM engine decodes without them and names them once in its log."""


@dataclass(frozen=True)
class Guide:
    """Guided output: the decoded text must match a JSON schema or a GBNF grammar.

    Exactly one of the two is set. GBNF is llama.cpp's grammar dialect, which xgrammar and
    vLLM also read.
    """

    json_schema: dict[str, Any] | None = None
    grammar: str | None = None

    def __post_init__(self) -> None:
        if (self.json_schema is None) == (self.grammar is None):
            raise ValueError("a Guide takes exactly one of json_schema and grammar")


@dataclass(frozen=True)
class SamplingSettings:
    """How tokens are chosen and when decoding stops; every engine reads the same fields
    (those it cannot apply are listed in `VLLM_UNAPPLIED` and logged once)."""

    max_new_tokens: int = 128
    temperature: float = 0.0
    """0 decodes greedily; higher values sample more freely."""
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    """Decoding stops once the text contains any of these; the stop string is not yielded."""
    repetition_penalty: float = DEFAULT_REPETITION_PENALTY
    no_repeat_ngram: int = DEFAULT_NO_REPEAT_NGRAM
    """transformers' no-repeat n-gram rule; llama.cpp's DRY sampler with the same length;
    not applied by vLLM, which says so once in its log."""
    guide: Guide | None = None
    avoid: str = ""
    """Text the output must not repeat (other parts of the same answer): its tokens count as
    already generated for `no_repeat_ngram` and the repetition penalty. Ignored under a
    `guide`; not applied by vLLM, which says so once in its log."""
    frequency_penalty: float = 0.0
    """OpenAI's: subtracted from a token's logit once per time it was generated."""
    presence_penalty: float = 0.0
    """OpenAI's: subtracted from the logit of every token generated at least once."""
    history: tuple[int, ...] = ()
    """Token ids counted as generated before the output, after `avoid`'s, by the repetition
    rules (a draft region resuming a target's stream: the tokens the target has so far).
    Ignored under a `guide`; not applied by vLLM, which says so once in its log."""
    logprobs: int | None = None
    """None: no log-probabilities; k >= 0: each piece carries its token's log-probability
    and the k likeliest tokens at its position (`Piece.logprob`)."""

    def __post_init__(self) -> None:
        """Raises `BadRequestError` naming the first field out of its range."""
        checks = (
            (self.max_new_tokens >= 1, "max_new_tokens must be at least 1"),
            (0.0 <= self.temperature < math.inf, "temperature must be a number >= 0"),
            (0.0 < self.top_p <= 1.0, "top_p must be in (0, 1]"),
            (0 <= self.seed < SEED_LIMIT, f"seed must be in [0, {SEED_LIMIT})"),
            (0.0 < self.repetition_penalty < math.inf, "repetition_penalty must be > 0"),
            (-2.0 <= self.frequency_penalty <= 2.0, "frequency_penalty must be in [-2, 2]"),
            (-2.0 <= self.presence_penalty <= 2.0, "presence_penalty must be in [-2, 2]"),
            (self.no_repeat_ngram >= 0, "no_repeat_ngram must be >= 0 (0 turns it off)"),
            (
                self.logprobs is None or 0 <= self.logprobs <= MAX_TOP_LOGPROBS,
                f"logprobs must be in [0, {MAX_TOP_LOGPROBS}]",
            ),
        )
        for holds, rule in checks:
            if not holds:  # a NaN fails every comparison, so it lands here too
                raise BadRequestError(f"bad sampling settings: {rule}")


def avoided_ids(sampling: SamplingSettings, tokenize: Callable[[str], list[int]]) -> list[int]:
    """The tokens to count as generated before the output: the tokens of `sampling.avoid`,
    then `sampling.history`; none under a guide (structured output repeats its keys)."""
    if sampling.guide is not None:
        return []
    return (tokenize(sampling.avoid) if sampling.avoid else []) + list(sampling.history)


# llama.cpp

DRY_STRENGTH = (8.0, 1.75)
"""DRY's multiplier and base: a token that would extend a repeat past the allowed length
loses 8 x 1.75^(extra length) from its logit, enough to stop a loop; no sequence breakers,
so repeated lines count too."""
LOOSE_JSON_CHAR = 'char ::= [^"\\\\]'
STRICT_JSON_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F]'
"""JSON strings may not hold raw control characters (RFC 8259, section 7); the converter of
llama-cpp-python 0.3.36 admits them, so its string rule is narrowed to what JSON allows."""


def llama_cpp_sampler(
    model: Any, sampling: SamplingSettings, window: int, avoided: list[int], draws: bool = True
) -> Any:
    """One request's llama.cpp sampler chain: repetition penalty, DRY (`no_repeat_ngram`,
    looking `window` tokens back), grammar, then greedy or top-p, temperature and a seeded
    draw. `avoided` tokens are accepted first, as if generated (see `avoided_ids`). Without
    `draws` the chain stops before the choice (no greedy, no draw): applied to a position's
    logits it leaves the candidates and logits the draw would see (`llama_cpp_weights`).

    Raises:
        BadRequestError: The guide's grammar or JSON schema cannot be used.
    """
    import llama_cpp
    from llama_cpp import _internals

    guide = sampling.guide
    grammar = None if guide is None else guide.grammar or _gbnf(guide.json_schema)
    chain = _internals.LlamaSampler()
    penalties = (sampling.frequency_penalty, sampling.presence_penalty)
    if sampling.repetition_penalty != 1.0 or any(penalties):
        chain.add_penalties(0, PENALTY_WINDOW, sampling.repetition_penalty, *penalties)
    if sampling.no_repeat_ngram:
        chain.add_dry(model, *DRY_STRENGTH, sampling.no_repeat_ngram - 1, window, [])
    if grammar is not None:
        _add_grammar(chain, model, grammar)
    if sampling.temperature <= 0:
        if draws:
            chain.add_greedy()
    else:
        if sampling.top_p < 1.0:
            chain.add_top_p(sampling.top_p)
        chain.add_temp(sampling.temperature)
        if draws:
            chain.add_dist(sampling.seed)
    for token in avoided:
        llama_cpp.llama_sampler_accept(chain.sampler, token)
    return chain


def _add_grammar(chain: Any, model: Any, grammar: str) -> None:
    import llama_cpp

    sampler = llama_cpp.llama_sampler_init_grammar(model.vocab, grammar.encode("utf-8"), b"root")
    if not sampler:
        chain.close()
        raise BadRequestError("the guided-output grammar does not parse (GBNF, root rule)")
    llama_cpp.llama_sampler_chain_add(chain.sampler, sampler)


def _gbnf(schema: dict[str, Any] | None) -> str:
    """A JSON schema as a GBNF grammar, by llama-cpp-python's converter."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        grammar = str(json_schema_to_gbnf(json.dumps(schema)))
    except Exception as error:  # noqa: BLE001 - the converter raises bare exceptions
        raise BadRequestError(f"the guided-output JSON schema cannot be used: {error}") from None
    return grammar.replace(LOOSE_JSON_CHAR, STRICT_JSON_CHAR)


# transformers


class TransformersSampler:
    """One request's token choice from transformers logits: repetition penalty and
    no-repeat n-grams (transformers' own logits processors, over `avoided` and the generated
    tokens), OpenAI's frequency and presence penalties (over the last `PENALTY_WINDOW`
    tokens, as llama.cpp applies them), the grammar mask of an xgrammar `matcher`, then
    `pick_token`."""

    def __init__(self, sampling: SamplingSettings, avoided: list[int], matcher: Any = None) -> None:
        import torch

        self.sampling = sampling
        self.avoided = avoided
        """Tokens of text not to repeat, counted as if generated before the output."""
        self.matcher = matcher
        """An xgrammar GrammarMatcher while the output is guided."""
        self.generator = torch.Generator(device="cpu").manual_seed(sampling.seed)

    def pick(self, logits: torch.Tensor, generated: list[int]) -> int:
        """The next token from one position's logits ([vocab]), after `generated`."""
        token = pick_token(
            self.shaped(logits.float().cpu(), generated), self.sampling, self.generator
        )
        if self.matcher is not None:
            self.matcher.accept_token(token)
        return token

    def verify(
        self, logits: torch.Tensor, generated: list[int], proposed: int | None
    ) -> tuple[int, bool]:
        """The token at a position a draft `proposed` a token for (None: no proposal), and
        whether it is the proposed one: greedy keeps it if it is the argmax; with
        temperature, `speculative_pick` keeps it so that the token is drawn from this
        position's distribution, as `pick` would draw it."""

        if proposed is None or self.sampling.temperature <= 0:
            token = self.pick(logits, generated)
            return token, token == proposed
        shaped = self.shaped(logits.float().cpu(), generated)
        return speculative_pick(weights(shaped, self.sampling), proposed, self.generator)

    def shaped(self, logits: torch.Tensor, generated: list[int]) -> torch.Tensor:
        """Applies the repetition rules and the grammar mask to one position's logits."""
        import torch
        from transformers import NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

        sampling = self.sampling
        history = self.avoided + generated
        recent = history[-PENALTY_WINDOW:]
        if sampling.repetition_penalty != 1.0 and recent:
            logits = RepetitionPenaltyLogitsProcessor(sampling.repetition_penalty)(
                torch.tensor([recent]), logits[None]
            )[0]
        if (sampling.frequency_penalty or sampling.presence_penalty) and recent:
            counts = torch.bincount(torch.tensor(recent), minlength=logits.shape[-1]).float()
            logits = logits - counts * sampling.frequency_penalty
            logits = logits - (counts > 0).float() * sampling.presence_penalty
        if sampling.no_repeat_ngram and len(history) >= sampling.no_repeat_ngram:
            logits = NoRepeatNGramLogitsProcessor(sampling.no_repeat_ngram)(
                torch.tensor([history]), logits[None]
            )[0]
        if self.matcher is not None:
            import xgrammar

            mask = xgrammar.allocate_token_bitmask(1, logits.shape[-1])
            self.matcher.fill_next_token_bitmask(mask)
            logits = logits[None].clone()
            xgrammar.apply_token_bitmask_inplace(logits, mask)
            logits = logits[0]
        return logits


def pick_token(logits: torch.Tensor, settings: SamplingSettings, generator: torch.Generator) -> int:
    """Chooses the next token from one position's logits, [vocab]: greedy at temperature 0,
    else a draw from the top-p share of the tempered distribution."""
    import torch

    if settings.temperature <= 0:
        return int(torch.argmax(logits))
    return int(torch.multinomial(weights(logits, settings), 1, generator=generator))


def weights(logits: torch.Tensor, settings: SamplingSettings) -> torch.Tensor:
    """What a draw at `settings.temperature` (> 0) picks by, [vocab]: the tempered softmax of
    one position's logits with everything outside its top-p share set to 0 (not renormalised)."""
    import torch

    probs = torch.softmax(logits.float() / settings.temperature, dim=-1)
    if settings.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > settings.top_p
        sorted_probs[outside] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return probs


def speculative_pick(
    target: torch.Tensor, proposed: int, generator: torch.Generator
) -> tuple[int, bool]:
    """Speculative sampling's accept/reject rule for one proposed token, so that the token
    returned is distributed exactly as the target's distribution p (`target`, weights over
    the vocabulary), whatever the draft proposed.

    The rule (Leviathan, Kalman and Matias, "Fast Inference from Transformers via
    Speculative Decoding", ICML 2023, algorithm 1; Chen et al., "Accelerating Large Language
    Model Decoding with Speculative Sampling", 2023): accept a draft token x drawn from q
    with probability min(1, p(x)/q(x)); else draw from norm(max(0, p - q)). Cortex's drafts
    propose their greedy choice, so q is a point mass on `proposed`: it is accepted with
    probability p(proposed), and a rejection draws from p without `proposed`.

    Returns:
        The token, and whether it is the proposed one.
    """
    import torch

    p = target.float() / target.sum()
    if float(torch.rand((), generator=generator)) < float(p[proposed]):
        return proposed, True
    residual = p.clone()
    residual[proposed] = 0.0
    return int(torch.multinomial(residual, 1, generator=generator)), False


def llama_cpp_weights(shaping: Any, context: Any, row: int, vocab: int) -> torch.Tensor:
    """The distribution a llama.cpp draw would pick the token of batch row `row` from,
    [vocab]: the row's logits through `shaping` (a chain built with ``draws=False``, whose
    penalties see the request's tokens so far), softmaxed over the candidates it keeps."""
    import ctypes

    import llama_cpp
    import numpy as np
    import torch
    from llama_cpp import _internals

    logits = llama_cpp_logits(context, row, vocab).numpy()
    candidates = _internals.LlamaTokenDataArray(n_vocab=vocab)
    candidates.copy_logits(logits)
    llama_cpp.llama_sampler_apply(shaping.sampler, ctypes.byref(candidates.candidates))
    kept = candidates.candidates_data[: candidates.candidates.size]
    dense = torch.zeros(vocab)
    dense[torch.from_numpy(kept.id.astype(np.int64))] = torch.softmax(
        torch.from_numpy(kept.logit.copy()), dim=0
    )
    return dense


def log_probabilities(
    logits: torch.Tensor, token: int, top: int
) -> tuple[float, list[tuple[int, float]]]:
    """`token`'s log-probability under raw `logits` ([vocab]) and the `top` likeliest token
    ids with theirs, likeliest first."""
    import torch

    logprobs = torch.log_softmax(logits.float(), dim=-1)
    if not top:
        return float(logprobs[token]), []
    best = torch.topk(logprobs, top, sorted=True)
    return float(logprobs[token]), list(
        zip(best.indices.tolist(), best.values.tolist(), strict=True)
    )


def llama_cpp_logits(context: Any, row: int, vocab: int) -> torch.Tensor:
    """The raw logits of batch row `row` of a llama.cpp context, [vocab] (a copy)."""
    import llama_cpp
    import numpy as np
    import torch

    pointer = llama_cpp.llama_get_logits_ith(context, row)
    return torch.from_numpy(np.ctypeslib.as_array(pointer, shape=(vocab,)).copy())


# vLLM


def vllm_sampling_params(sampling: SamplingSettings) -> Any:
    """The settings as vLLM `SamplingParams` (guided output included); those in
    `VLLM_UNAPPLIED` have no counterpart there (see `vllm_unapplied`)."""
    from vllm import SamplingParams

    options: dict[str, Any] = {
        "max_tokens": sampling.max_new_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "seed": sampling.seed,
        "stop": list(sampling.stop),
        "repetition_penalty": sampling.repetition_penalty,
        "frequency_penalty": sampling.frequency_penalty,
        "presence_penalty": sampling.presence_penalty,
        "logprobs": sampling.logprobs,
    }
    guide = sampling.guide
    if guide is not None:
        from vllm.sampling_params import StructuredOutputsParams

        options["structured_outputs"] = StructuredOutputsParams(
            json=guide.json_schema, grammar=guide.grammar
        )
    return SamplingParams(**options)


def vllm_unapplied(sampling: SamplingSettings) -> tuple[str, ...]:
    """The fields of `VLLM_UNAPPLIED` this request sets (turned on, or not empty)."""
    return tuple(name for name in VLLM_UNAPPLIED if getattr(sampling, name))
