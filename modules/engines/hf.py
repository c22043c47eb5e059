"""The transformers engine: any causal LM transformers loads, for models only it runs.

A newcomer's prompt is prefilled alone, into its own KV cache (`DynamicCache`). The requests
past their prompt then decode together: one forward pass a step over a padded batch — each
row's cache left-padded to the longest, an attention mask hiding the padding, each row at its
own position — as transformers' own `generate` batches prompts. The batched cache is rebuilt
only when a request joins or leaves. A model with sliding-window layers decodes each request
alone (`padded_batches_work`). Guided output masks logits with xgrammar; the repetition
penalty is transformers' own logits processor.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence as Ids
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.nn import functional

from modules.engines.base import PENALTY_WINDOW, Detokenizer, Guide, Sequence, StepEngine
from modules.engines.chat import TokenizerChat
from modules.errors import BadRequestError, EngineError
from modules.generation import TextAssembler, pick_token
from modules.models import load_causal_lm

MIN_CPU_ROWS = 4
"""Rows of a CPU decode batch of two or more: fewer run slower than four in MKL's fp32 GEMM
(one step of the embedded model on one thread: 54 / 89 / 115 / 86 ms at 1 / 2 / 3 / 4 rows;
its 49,152 x 576 output layer alone 9.7 / 21.9 / 34.3 / 17.0 ms), so two or three rows are
padded to four, as vLLM pads a batch to the next size it captured a CUDA graph for."""


@dataclass
class _RequestState:
    cache: Any
    """The request's own KV cache, from its prefill until it joins the decode batch (to its
    end for a model that does not decode in padded batches)."""
    generator: torch.Generator
    matcher: Any = None
    """An xgrammar GrammarMatcher while the output is guided."""
    avoided: list[int] = field(default_factory=list)
    """Tokens of text not to repeat, counted as if generated before the output."""


@dataclass
class _DecodeBatch:
    """The KV caches of the requests decoding together, left-padded to one length."""

    members: list[Sequence]
    """The requests of the batch's first rows; any rows after them are filler."""
    cache: Any
    """A `DynamicCache` whose layers hold [rows, kv heads, padded length, head dim]."""
    lengths: list[int]
    """Tokens in each row's cache, padding not counted."""
    mask: torch.Tensor
    """[rows, padded length]: 1 for a cached token, 0 for padding."""

    def row(self, index: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One row's keys and values per layer, padding cut off: [1, kv heads, length, dim]."""
        start = self.mask.shape[1] - self.lengths[index]
        return [
            (layer.keys[index : index + 1, :, start:], layer.values[index : index + 1, :, start:])
            for layer in self.cache.layers
        ]


class TransformersEngine(TokenizerChat, StepEngine):
    """transformers on the CPU or one CUDA device, in the model's own dtype."""

    name = "transformers"
    _batch: _DecodeBatch | None = None

    def load(self) -> None:
        if self.device == "cpu":
            torch.set_num_threads(self.threads)
        self.tokenizer, model = load_causal_lm(self.model)
        self.hf_model = model.to(self.device)
        trained = int(getattr(model.config, "max_position_embeddings", 2048))
        self.context_length = min(self.context_length or trained, trained)
        self.eos_ids = frozenset(stop_ids(self.tokenizer, model))
        self.vocab_size = model.get_input_embeddings().num_embeddings
        self._grammars: Any = None
        self._batches = padded_batches_work(model.config)
        takes_keep = "logits_to_keep" in inspect.signature(model.forward).parameters
        self._last_logits_only = {"logits_to_keep": 1} if takes_keep else {}
        """Has a prefill score only the prompt's last position, where the model can."""

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
        decoding = []
        for index, sequence in enumerate(running):
            if sequence.prefilled < len(sequence.prompt):
                tokens[index] = self._prefill(sequence)
            else:
                decoding.append(index)
        if decoding:
            logits = self._decode([running[i] for i in decoding])  # [rows, vocab]
            for row, index in enumerate(decoding):
                tokens[index] = self._pick(logits[row], running[index])
        return tokens

    def _prefill(self, sequence: Sequence) -> int:
        """Runs a newcomer's prompt into its own cache; returns its first token."""
        state: _RequestState = sequence.state
        inputs = torch.tensor([sequence.prompt], device=self.device)  # [1, T]
        out = self.hf_model(
            input_ids=inputs, cache=state.cache, use_cache=True, **self._last_logits_only
        )
        sequence.prefilled = len(sequence.prompt)
        return self._pick(out.logits[0, -1], sequence)

    def _decode(self, sequences: list[Sequence]) -> torch.Tensor:
        """One token of every sequence past its prompt, in one forward pass.

        Returns:
            The next-token logits, [len(sequences), vocab].
        """
        if not self._batches:
            return torch.cat([self._decode_alone(s) for s in sequences])
        batch = self._batch
        if batch is None or not _same(batch.members, sequences):
            batch = self._batch = self._regroup(sequences)
        tokens = [s.generated[-1] for s in sequences]
        rows = len(batch.lengths)
        tokens += tokens[-1:] * (rows - len(tokens))  # filler rows repeat the last
        last = torch.tensor([[token] for token in tokens], device=self.device)  # [rows, 1]
        positions = torch.tensor([[n] for n in batch.lengths], device=self.device)  # [rows, 1]
        batch.mask = torch.cat(
            [batch.mask, torch.ones(rows, 1, dtype=batch.mask.dtype, device=self.device)], dim=1
        )
        out = self.hf_model(
            input_ids=last,
            attention_mask=batch.mask,
            position_ids=positions,
            cache=batch.cache,
            use_cache=True,
        )
        batch.lengths = [n + 1 for n in batch.lengths]
        logits: torch.Tensor = out.logits[: len(sequences), -1]
        return logits

    def _decode_alone(self, sequence: Sequence) -> torch.Tensor:
        """One token of one sequence, with its own cache: [1, vocab] logits."""
        inputs = torch.tensor([sequence.generated[-1:]], device=self.device)  # [1, 1]
        out = self.hf_model(input_ids=inputs, cache=sequence.state.cache, use_cache=True)
        logits: torch.Tensor = out.logits[:, -1]
        return logits

    def _regroup(self, sequences: list[Sequence]) -> _DecodeBatch:
        """A decode batch of `sequences`: the rows of those already batched and the caches
        of newcomers, left-padded to the longest; on the CPU, filler rows (repeats of the
        last) make two or three rows up to `MIN_CPU_ROWS`."""
        from transformers import DynamicCache

        old = self._batch
        rows: list[list[tuple[torch.Tensor, torch.Tensor]]] = []
        for sequence in sequences:
            if old is not None and (index := _index(old.members, sequence)) is not None:
                rows.append(old.row(index))
            else:
                cache = sequence.state.cache
                rows.append([(layer.keys, layer.values) for layer in cache.layers])
                sequence.state.cache = None  # the batch holds it now
        if self.device == "cpu" and 1 < len(rows) < MIN_CPU_ROWS:
            rows += rows[-1:] * (MIN_CPU_ROWS - len(rows))
        lengths = [row[0][0].shape[2] for row in rows]
        longest = max(lengths)
        cache = DynamicCache(config=self.hf_model.config)
        for layer in range(len(rows[0])):
            keys, values = (
                torch.cat(
                    [
                        functional.pad(row[layer][kind], (0, 0, longest - n, 0))
                        for row, n in zip(rows, lengths, strict=True)
                    ]
                )
                for kind in (0, 1)
            )
            cache.update(keys, values, layer)
        mask = torch.tensor([[0] * (longest - n) + [1] * n for n in lengths], device=self.device)
        return _DecodeBatch(list(sequences), cache, lengths, mask)

    def _pick(self, logits: torch.Tensor, sequence: Sequence) -> int:
        """The next token of `sequence` from its logits ([vocab])."""
        state: _RequestState = sequence.state
        token = pick_token(
            self._shaped(logits.float().cpu(), sequence), sequence.sampling, state.generator
        )
        if state.matcher is not None:
            state.matcher.accept_token(token)
        return token

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
        if self._batch is not None and all(s.state is None for s in self._batch.members):
            self._batch = None  # no row of it decodes any more: its cache is freed now


def _index(sequences: list[Sequence], wanted: Sequence) -> int | None:
    """Where `wanted` itself (not an equal request) is in `sequences`."""
    return next((i for i, s in enumerate(sequences) if s is wanted), None)


def _same(a: list[Sequence], b: list[Sequence]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def padded_batches_work(config: Any) -> bool:
    """Whether a model's requests can decode as one left-padded batch: every layer of its
    cache keeps each token (a sliding-window layer drops old ones, so a row's padding could
    not be cut off again); other models decode each request alone, token by token."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    return all(type(layer) is DynamicLayer for layer in DynamicCache(config=config).layers)


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
