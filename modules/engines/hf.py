"""The transformers engine: any causal LM transformers loads, for models only it runs.

A newcomer's prompt is prefilled alone, into its own KV cache (`DynamicCache`). The requests
past their prompt then decode together: one forward pass a step over a padded batch — each
row's cache left-padded to the longest, an attention mask hiding the padding, each row at its
own position — as transformers' own `generate` batches prompts. The batched cache is rebuilt
only when a request joins or leaves. Batch-invariant (the default), and for a model with
sliding-window layers (`padded_batches_work`), each request decodes alone with its own cache:
padding shifts a row's keys against the kernels' blocks, which changes the last bits of its
logits, so a padded batch can change a greedy token. Each request picks its tokens with a
`TransformersSampler` (repetition rules, xgrammar's mask for guided output, greedy or top-p).
A request's KV state leaves and enters as its cache's tensors (`export_state`, `admit`).
A speculating request keeps its own cache: it verifies its draft tokens in one forward pass
over them and crops the rejected tail off its cache.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional

from bus.handoff import KvIdentity, KvState
from modules.engines.chat import TokenizerChat
from modules.engines.detokenizer import Detokenizer, TextAssembler
from modules.engines.kv import common_prefix
from modules.engines.request import Request
from modules.engines.sampling import Guide, SamplingSettings, TransformersSampler, avoided_ids
from modules.engines.step import StepEngine
from modules.errors import BadRequestError, EngineError
from modules.models import load_causal_lm

MIN_CPU_ROWS = 4
"""Rows of a CPU decode batch of two or more: fewer run slower than four in MKL's fp32 GEMM,
so two or three rows are padded to four, as vLLM pads a batch to the next size it captured a
CUDA graph for (figures in docs/benchmarks.md)."""


@dataclass
class _RequestState:
    cache: Any
    """The request's own KV cache, from its prefill until it joins the decode batch (to its
    end for a model that does not decode in padded batches)."""
    sampler: TransformersSampler


@dataclass
class _DecodeBatch:
    """The KV caches of the requests decoding together, left-padded to one length."""

    members: list[Request]
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
    verifies = True
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
        weights = weights_fingerprint(model)
        name = str(getattr(model.config, "_name_or_path", "") or self.model)
        self._identity = KvIdentity(self.name, name, weights, weights)

    def kv_identity(self) -> KvIdentity:
        return self._identity

    def kv_bytes_per_token(self) -> int:
        config = self.hf_model.config
        heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
        heads_q = config.num_attention_heads
        head_size = getattr(config, "head_dim", None) or config.hidden_size // heads_q
        size = self.hf_model.dtype.itemsize
        return int(config.num_hidden_layers * 2 * heads * head_size * size)

    def detokenizer(self) -> Detokenizer:
        return TextAssembler(self.tokenizer)

    def token_text(self, token: int) -> str:
        return str(self.tokenizer.decode([token]))

    def admit(self, request: Request, slot: int) -> None:
        from transformers import DynamicCache

        sampling = request.sampling
        matcher = self._matcher(sampling.guide) if sampling.guide is not None else None
        request.state = _RequestState(
            cache=DynamicCache(config=self.hf_model.config),
            sampler=TransformersSampler(sampling, avoided_ids(sampling, self.tokenize), matcher),
        )
        if request.kv is not None:
            self._import(request)

    def _import(self, request: Request) -> None:
        """Fills a newcomer's cache with the imported KV state's share of its prompt (one
        prompt token is always left, for the logits of the first new token)."""
        assert request.kv is not None
        keep = min(common_prefix(request.kv.tokens, request.prompt), len(request.prompt) - 1)
        try:
            layers = kv_tensors(request.kv, self.device)  # [layers, 2, 1, heads, tokens, dim]
        except ValueError as error:
            request.stream.kv_note = f"the KV state cannot be read ({error}); prefilled"
            return
        if layers.shape[0] != self.hf_model.config.num_hidden_layers or keep < 1:
            request.stream.kv_note = "the KV state does not fit this model; prefilled"
            return
        cache = request.state.cache
        for index, layer in enumerate(layers):
            cache.update(layer[0, :, :, :keep], layer[1, :, :, :keep], index)
        request.prefilled = request.stream.cached_tokens = request.stream.imported_tokens = keep

    def export_state(self, request: Request) -> tuple[bytes, str]:
        if not self._batches:
            raise EngineError("a model with sliding-window layers keeps no whole KV state")
        cache = request.state.cache
        stacked = torch.stack(
            [torch.stack([layer.keys, layer.values]) for layer in cache.layers]
        )  # [layers, 2, 1, heads, tokens, dim]
        dtype = str(stacked.dtype).removeprefix("torch.")
        shape = "x".join(str(n) for n in stacked.shape)
        return stacked.contiguous().cpu().numpy().tobytes(), f"torch {dtype} {shape}"

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
    def step(self, running: list[Request]) -> dict[int, int]:
        tokens = {}
        decoding = []
        for request in running:
            if request.prefilled < len(request.prompt):
                if (first := self._prefill(request)) is not None:
                    tokens[request.request_id] = first
            else:
                decoding.append(request)
        if decoding:
            logits = self._decode(decoding)  # [rows, vocab]
            for row, request in enumerate(decoding):
                tokens[request.request_id] = self._pick(logits[row], request)
        return tokens

    def _prefill(self, request: Request) -> int | None:
        """Runs the part of a newcomer's prompt not in its cache into it; returns its first
        token (None for a prefill-only request)."""
        state: _RequestState = request.state
        inputs = torch.tensor([request.prompt[request.prefilled :]], device=self.device)  # [1, T]
        out = self.hf_model(
            input_ids=inputs, cache=state.cache, use_cache=True, **self._last_logits_only
        )
        request.prefilled = len(request.prompt)
        return None if request.export else self._pick(out.logits[0, -1], request)

    def _decode(self, requests: list[Request]) -> torch.Tensor:
        """One token of every request past its prompt, in one forward pass.

        Returns:
            The next-token logits, [len(requests), vocab].
        """
        if self.batch_invariant or not self._batches:
            return torch.cat([self._decode_alone(s) for s in requests])
        batch = self._batch
        if batch is None or not _same(batch.members, requests):
            batch = self._batch = self._regroup(requests)
        tokens = [s.generated[-1] for s in requests]
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
        logits: torch.Tensor = out.logits[: len(requests), -1]
        return logits

    def _decode_alone(self, request: Request) -> torch.Tensor:
        """One token of one request, with its own cache: [1, vocab] logits."""
        inputs = torch.tensor([request.generated[-1:]], device=self.device)  # [1, 1]
        out = self.hf_model(input_ids=inputs, cache=request.state.cache, use_cache=True)
        logits: torch.Tensor = out.logits[:, -1]
        return logits

    def _regroup(self, requests: list[Request]) -> _DecodeBatch:
        """A decode batch of `requests`: the rows of those already batched and the caches
        of newcomers, left-padded to the longest; on the CPU, filler rows (repeats of the
        last) make two or three rows up to `MIN_CPU_ROWS`."""
        from transformers import DynamicCache

        old = self._batch
        rows: list[list[tuple[torch.Tensor, torch.Tensor]]] = []
        for request in requests:
            if old is not None and (index := _index(old.members, request)) is not None:
                rows.append(old.row(index))
            else:
                cache = request.state.cache
                rows.append([(layer.keys, layer.values) for layer in cache.layers])
                request.state.cache = None  # the batch holds it now
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
        return _DecodeBatch(list(requests), cache, lengths, mask)

    def decodes_alone(self, sampling: SamplingSettings) -> str:
        if not self._batches:  # a sliding-window cache cannot simply be cut back
            return "this model's sliding-window cache cannot take tokens back"
        return super().decodes_alone(sampling)

    @torch.inference_mode()
    def verify(self, request: Request, proposed: list[int]) -> list[int]:
        state: _RequestState = request.state
        inputs = torch.tensor([[request.generated[-1], *proposed]], device=self.device)  # [1, k+1]
        logits = self.hf_model(input_ids=inputs, cache=state.cache, use_cache=True).logits[0]
        tokens: list[int] = []
        for row, proposal in enumerate([*proposed, None]):
            token, kept = state.sampler.verify(logits[row], request.generated + tokens, proposal)
            tokens.append(token)
            if not kept:
                break
        if rejected := len(proposed) + 1 - len(tokens):
            state.cache.crop(-rejected)  # negative: how many to drop, in every 5.x release
        return tokens

    def _pick(self, logits: torch.Tensor, request: Request) -> int:
        """The next token of `request` from its logits ([vocab])."""
        state: _RequestState = request.state
        token = state.sampler.pick(logits, request.generated)
        self.note_logprob(request, logits, token)
        return token

    def release(self, request: Request) -> None:
        request.state = None
        if self._batch is not None and all(s.state is None for s in self._batch.members):
            self._batch = None  # no row of it decodes any more: its cache is freed now


def _index(requests: list[Request], wanted: Request) -> int | None:
    """Where `wanted` is in `requests`, by request id."""
    return next((i for i, r in enumerate(requests) if r.request_id == wanted.request_id), None)


def _same(a: list[Request], b: list[Request]) -> bool:
    return [r.request_id for r in a] == [r.request_id for r in b]


def kv_tensors(state: KvState, device: str) -> torch.Tensor:
    """An exported state's tensors, [layers, 2, 1, heads, tokens, dim], on `device`.

    Raises:
        ValueError: The layout is not this engine's, or the bytes do not fill its shape.
    """
    found = re.fullmatch(r"torch (\w+) ((?:\d+x){5}\d+)", state.layout)
    if found is None or not isinstance(dtype := getattr(torch, found.group(1), None), torch.dtype):
        raise ValueError(f"unknown layout {state.layout!r}")
    shape = [int(n) for n in found.group(2).split("x")]
    flat = torch.frombuffer(bytearray(state.data), dtype=dtype)
    if flat.numel() != torch.Size(shape).numel():
        raise ValueError(f"{len(state.data)} bytes do not fill {found.group(2)}")
    return flat.view(shape).to(device)


def weights_fingerprint(model: Any) -> str:
    """A digest of a model's configuration and a strided sample of every weight tensor."""
    digest = hashlib.sha256(model.config.to_json_string(use_diff=False).encode())
    for name, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().flatten()
        sample = flat[:: max(1, flat.numel() // 256)][:256].float().cpu().numpy()
        digest.update(f"{name}{tuple(tensor.shape)}".encode() + sample.tobytes())
    return digest.hexdigest()[:16]


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
        elif isinstance(candidate, Sequence):
            ids.extend(int(i) for i in candidate)
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    if isinstance(end_of_turn, int) and end_of_turn != tokenizer.unk_token_id:
        ids.append(end_of_turn)
    return tuple(dict.fromkeys(ids))
