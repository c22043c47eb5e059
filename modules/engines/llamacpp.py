"""The llama.cpp engine: GGUF models through llama-cpp-python, several sequences per batch.

One llama.cpp context holds a KV cache split into `max_concurrent` sequences. Each step
builds one batch with the next token of every decoding sequence and, in what room is left
(`BATCH_TOKENS`), the prompts of newcomers (chunked prefill), then runs `llama_decode` once
and samples each sequence with its own sampler chain (repetition penalty, grammar, greedy or
top-p). This is how llama.cpp's own server decodes its parallel slots.
"""

from __future__ import annotations

import codecs
import ctypes
import json
import logging
from typing import Any

from modules.engines.base import PENALTY_WINDOW, Detokenizer, Message, Sequence, StepEngine
from modules.errors import BadRequestError, EngineError
from modules.models import gguf_path

BATCH_TOKENS = 512
DRY_STRENGTH = (8.0, 1.75)
"""DRY's multiplier and base: a token that would extend a repeat past the allowed length
loses 8 x 1.75^(extra length) from its logit, enough to stop a loop; no sequence breakers,
so repeated lines count too."""
"""Tokens per `llama_decode` call: decode tokens first, then prompt chunks."""
INSTALL_HINT = (
    "the llama.cpp engine needs llama-cpp-python; `make setup` builds it, or run "
    "`pip install llama-cpp-python==0.3.36` (add CMAKE_ARGS=-DGGML_CUDA=on for NVIDIA GPUs)"
)


def _llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise EngineError(INSTALL_HINT) from None
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    return llama_cpp


class _Utf8Detokenizer(Detokenizer):
    """Token bytes into text through an incremental UTF-8 decoder: no re-decoding."""

    def __init__(self, vocab: Any, llama_cpp: Any) -> None:
        self._vocab, self._lib = vocab, llama_cpp
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ctypes.create_string_buffer(256)

    def add(self, token_id: int) -> str:
        size = self._lib.llama_token_to_piece(self._vocab, token_id, self._buffer, 256, 0, False)
        return self._decoder.decode(self._buffer.raw[: max(0, size)])


class LlamaCppEngine(StepEngine):
    """llama.cpp on the CPU here, or on any GPU llama-cpp-python was built for."""

    name = "llama.cpp"

    def load(self) -> None:
        lib = self._lib = _llama_cpp()
        from llama_cpp import _internals
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        path = gguf_path(self.model)
        model_params = lib.llama_model_default_params()
        model_params.n_gpu_layers = -1 if self.device.startswith("cuda") else 0
        try:
            self._model = _internals.LlamaModel(
                path_model=str(path), params=model_params, verbose=False
            )
        except ValueError as error:
            raise EngineError(f"llama.cpp cannot load {path}: {error}") from None
        trained = self._model.n_ctx_train()
        self.context_length = min(self.context_length or trained, trained)
        self._ctx = _internals.LlamaContext(
            model=self._model, params=self._context_params(), verbose=False
        )
        self._memory = lib.llama_get_memory(self._ctx.ctx)
        self._cached: list[list[int]] = [[] for _ in range(self.max_concurrent)]
        self._batch = _internals.LlamaBatch(
            n_tokens=BATCH_TOKENS, embd=0, n_seq_max=1, verbose=False
        )
        vocab = self._model.vocab
        self.vocab_size = lib.llama_vocab_n_tokens(vocab)
        self.eos_ids = frozenset(
            t for t in range(self.vocab_size) if lib.llama_vocab_is_eog(vocab, t)
        )
        template = self._model.metadata().get("tokenizer.chat_template")
        if not template:
            raise EngineError(f"{path.name} has no chat template; use an instruct (chat) model")
        self._template = Jinja2ChatFormatter(
            template=template,
            eos_token=self._piece(self._model.token_eos()),
            bos_token=self._piece(self._model.token_bos()),
        )

    def _context_params(self) -> Any:
        params = self._lib.llama_context_default_params()
        params.n_ctx = self.context_length * self.max_concurrent
        params.n_batch = params.n_ubatch = BATCH_TOKENS
        params.n_seq_max = self.max_concurrent
        params.n_threads = params.n_threads_batch = self.threads
        params.kv_unified = False  # each sequence owns context_length cells
        return params

    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return self._model.detokenize([token], special=True).decode("utf-8", errors="replace")

    def render(self, messages: list[Message]) -> list[int]:
        ids = super().render(messages)
        bos = self._model.token_bos()
        if self._model.add_bos_token() and bos >= 0 and ids[:1] != [bos]:
            ids.insert(0, bos)
        return ids

    def render_text(self, messages: list[Message]) -> str:
        return str(self._template(messages=messages).prompt)

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return list(self._model.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def detokenizer(self) -> Detokenizer:
        return _Utf8Detokenizer(self._model.vocab, self._lib)

    def admit(self, sequence: Sequence, slot: int) -> None:
        from llama_cpp import _internals

        # Prompt caching: the slot's KV cache still holds its last request, and a new prompt
        # usually shares its start (the chat template, the system prompt), which is kept.
        # One prompt token is always decoded, for the logits of the first new token.
        reuse = min(_common_prefix(self._cached[slot], sequence.prompt), len(sequence.prompt) - 1)
        sequence.prefilled = sequence.stream.cached_tokens = self._keep(slot, reuse)
        sampling = sequence.sampling
        chain = _internals.LlamaSampler()
        if sampling.repetition_penalty != 1.0:
            chain.add_penalties(0, PENALTY_WINDOW, sampling.repetition_penalty, 0.0, 0.0)
        if sampling.no_repeat_ngram:
            window = self.context_length  # how far back a repeat is looked for
            chain.add_dry(self._model, *DRY_STRENGTH, sampling.no_repeat_ngram - 1, window, [])
        if sampling.guide is not None:
            self._add_grammar(chain, sampling.guide.grammar or _gbnf(sampling.guide.json_schema))
        if sampling.temperature <= 0:
            chain.add_greedy()
        else:
            if sampling.top_p < 1.0:
                chain.add_top_p(sampling.top_p)
            chain.add_temp(sampling.temperature)
            chain.add_dist(sampling.seed)
        if sampling.avoid and sampling.guide is None:  # as if generated: penalties and DRY see it
            for token in self.tokenize(sampling.avoid):
                self._lib.llama_sampler_accept(chain.sampler, token)
        sequence.state = chain

    def _add_grammar(self, chain: Any, grammar: str) -> None:
        sampler = self._lib.llama_sampler_init_grammar(
            self._model.vocab, grammar.encode("utf-8"), b"root"
        )
        if not sampler:
            chain.close()
            raise BadRequestError("the guided-output grammar does not parse (GBNF, root rule)")
        self._lib.llama_sampler_chain_add(chain.sampler, sampler)

    def step(self, running: list[Sequence]) -> dict[int, int]:
        batch = self._batch.batch
        batch.n_tokens = 0
        rows: dict[int, int] = {}
        for index, sequence in enumerate(running):  # one token for each decoding sequence
            if sequence.generated and sequence.prefilled == len(sequence.prompt):
                rows[index] = _add(batch, sequence.generated[-1], sequence.position, sequence.slot)
        for index, sequence in enumerate(running):  # then prompts, as far as the batch allows
            todo = len(sequence.prompt) - sequence.prefilled
            take = min(todo, BATCH_TOKENS - batch.n_tokens)
            for offset in range(take):
                position = sequence.prefilled + offset
                last = position == len(sequence.prompt) - 1
                row = _add(batch, sequence.prompt[position], position, sequence.slot, last)
                if last:
                    rows[index] = row
            sequence.prefilled += max(0, take)
        if batch.n_tokens:
            try:
                self._ctx.decode(self._batch)
            except Exception:
                for sequence in running:  # what this step left in the cache is unknown
                    sequence.prefilled, sequence.generated = 0, []
                raise
        return {
            index: self._lib.llama_sampler_sample(running[index].state.sampler, self._ctx.ctx, row)
            for index, row in rows.items()
        }

    def release(self, sequence: Sequence) -> None:
        in_cache = (sequence.prompt[: sequence.prefilled] + sequence.generated)[: sequence.position]
        self._cached[sequence.slot] = in_cache
        self._keep(sequence.slot, len(in_cache))
        if sequence.state is not None:
            sequence.state.close()

    def close(self) -> None:
        super().close()
        for resource in ("_batch", "_ctx", "_model"):
            if (handle := getattr(self, resource, None)) is not None:
                handle.close()

    def _keep(self, slot: int, tokens: int) -> int:
        """Drops a slot's KV cache entries after its first `tokens`; returns how many stay
        (none where the cache cannot drop a tail)."""
        if not self._lib.llama_memory_seq_rm(self._memory, slot, tokens, -1):
            self._lib.llama_memory_seq_rm(self._memory, slot, -1, -1)
            tokens = 0
        self._cached[slot] = self._cached[slot][:tokens]
        return tokens


def _common_prefix(a: list[int], b: list[int]) -> int:
    """How many tokens two token lists share from their start."""
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))


def _add(batch: Any, token: int, position: int, slot: int, logits: bool = True) -> int:
    """Appends one token of sequence `slot` to a llama_batch; returns its row."""
    row = batch.n_tokens
    batch.token[row] = token
    batch.pos[row] = position
    batch.n_seq_id[row] = 1
    batch.seq_id[row][0] = slot
    batch.logits[row] = logits
    batch.n_tokens = row + 1
    return row


LOOSE_JSON_CHAR = 'char ::= [^"\\\\]'
STRICT_JSON_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F]'
"""JSON strings may not hold raw control characters (RFC 8259, section 7); the converter of
llama-cpp-python 0.3.36 admits them, so its string rule is narrowed to what JSON allows."""


def _gbnf(schema: dict[str, Any] | None) -> str:
    """A JSON schema as a GBNF grammar, by llama-cpp-python's converter."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        grammar = str(json_schema_to_gbnf(json.dumps(schema)))
    except Exception as error:  # noqa: BLE001 - the converter raises bare exceptions
        raise BadRequestError(f"the guided-output JSON schema cannot be used: {error}") from None
    return grammar.replace(LOOSE_JSON_CHAR, STRICT_JSON_CHAR)
