"""The transformers engine: any causal LM transformers loads, for models only it runs.

Each running request keeps its own KV cache (`DynamicCache`); a step runs the model once per
request, so requests take turns token by token (a long answer does not hold back a short
one) but gain no batching speed. Guided output masks logits with xgrammar; the repetition
penalty is transformers' own logits processor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence as Ids
from dataclasses import dataclass, field
from typing import Any

import torch

from modules.engines.base import PENALTY_WINDOW, Detokenizer, Guide, Sequence, StepEngine
from modules.engines.chat import TokenizerChat
from modules.errors import BadRequestError, EngineError
from modules.generation import TextAssembler, pick_token
from modules.models import load_causal_lm


@dataclass
class _RequestState:
    cache: Any
    generator: torch.Generator
    matcher: Any = None
    """An xgrammar GrammarMatcher while the output is guided."""
    avoided: list[int] = field(default_factory=list)
    """Tokens of text not to repeat, counted as if generated before the output."""


class TransformersEngine(TokenizerChat, StepEngine):
    """transformers on the CPU or one CUDA device, in the model's own dtype."""

    name = "transformers"

    def load(self) -> None:
        if self.device == "cpu":
            torch.set_num_threads(self.threads)
        self.tokenizer, model = load_causal_lm(self.model)
        self.hf_model = model.to(self.device)
        trained = int(getattr(model.config, "max_position_embeddings", 2048))
        self.context_length = min(self.context_length or trained, trained)
        self.eos_ids = frozenset(stop_ids(self.tokenizer, model))
        self._grammars: Any = None

    def detokenizer(self) -> Detokenizer:
        return TextAssembler(self.tokenizer)

    def admit(self, sequence: Sequence, slot: int) -> None:
        from transformers import DynamicCache

        guide = sequence.sampling.guide
        sequence.state = _RequestState(
            cache=DynamicCache(config=self.hf_model.config),
            generator=torch.Generator(device="cpu").manual_seed(sequence.sampling.seed),
            matcher=self._matcher(guide) if guide is not None else None,
            avoided=self.tokenize(sequence.sampling.avoid) if guide is None else [],
        )

    def _matcher(self, guide: Guide) -> Any:
        try:
            import xgrammar
        except ImportError:
            raise EngineError(
                "guided output on transformers needs xgrammar: pip install xgrammar"
            ) from None
        if self._grammars is None:
            info = xgrammar.TokenizerInfo.from_huggingface(
                self.tokenizer, vocab_size=self.hf_model.config.vocab_size
            )
            self._grammars = xgrammar.GrammarCompiler(info)
        try:
            if guide.grammar is not None:
                compiled = self._grammars.compile_grammar(guide.grammar)
            else:
                compiled = self._grammars.compile_json_schema(
                    json.dumps(guide.json_schema), any_whitespace=False
                )
        except Exception as error:  # noqa: BLE001 - xgrammar raises RuntimeError and others
            raise BadRequestError(f"the guided-output grammar cannot be used: {error}") from None
        return xgrammar.GrammarMatcher(compiled)

    @torch.inference_mode()
    def step(self, running: list[Sequence]) -> dict[int, int]:
        tokens = {}
        for index, sequence in enumerate(running):
            if sequence.prefilled < len(sequence.prompt):
                ids = sequence.prompt
                sequence.prefilled = len(ids)
            else:
                ids = sequence.generated[-1:]
            state: _RequestState = sequence.state
            inputs = torch.tensor([ids], device=self.device)  # [1, T]
            out = self.hf_model(input_ids=inputs, cache=state.cache, use_cache=True)
            logits = self._shaped(out.logits[0, -1].float().cpu(), sequence)  # [vocab]
            token = pick_token(logits, sequence.sampling, state.generator)
            if state.matcher is not None:
                state.matcher.accept_token(token)
            tokens[index] = token
        return tokens

    def _shaped(self, logits: torch.Tensor, sequence: Sequence) -> torch.Tensor:
        """Applies the repetition penalty and the grammar mask to one position's logits."""
        from transformers import NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

        sampling = sequence.sampling
        history = sequence.state.avoided + sequence.generated
        recent = history[-PENALTY_WINDOW:]
        if sampling.repetition_penalty != 1.0 and recent:
            logits = RepetitionPenaltyLogitsProcessor(sampling.repetition_penalty)(
                torch.tensor([recent]), logits[None]
            )[0]
        if sampling.no_repeat_ngram and len(history) >= sampling.no_repeat_ngram:
            logits = NoRepeatNGramLogitsProcessor(sampling.no_repeat_ngram)(
                torch.tensor([history]), logits[None]
            )[0]
        matcher = sequence.state.matcher
        if matcher is not None:
            import xgrammar

            mask = xgrammar.allocate_token_bitmask(1, logits.shape[-1])
            matcher.fill_next_token_bitmask(mask)
            logits = logits[None].clone()
            xgrammar.apply_token_bitmask_inplace(logits, mask)
            logits = logits[0]
        return logits

    def release(self, sequence: Sequence) -> None:
        sequence.state = None


def stop_ids(tokenizer: Any, model: Any) -> tuple[int, ...]:
    """Every token id that ends a reply: EOS from the tokenizer and the generation config,
    and ChatML's end of turn."""
    ids: list[int] = []
    for candidate in (
        tokenizer.eos_token_id,
        getattr(model.generation_config, "eos_token_id", None),
    ):
        if isinstance(candidate, int):
            ids.append(candidate)
        elif isinstance(candidate, Ids):
            ids.extend(int(i) for i in candidate)
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(end_of_turn, int) and end_of_turn != tokenizer.unk_token_id:
        ids.append(end_of_turn)
    return tuple(dict.fromkeys(ids))
