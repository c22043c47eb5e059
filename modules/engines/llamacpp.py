"""The llama.cpp engine: GGUF models through llama-cpp-python, several sequences per batch.

One llama.cpp context holds a KV cache split into `max_concurrent` sequences, each sampled
with its own sampler chain (`sampling.llama_cpp_sampler`). Batch-invariant (the default), each
step runs `llama_decode` once per sequence: one prompt chunk (`prefill_chunk` tokens, always
at the same positions) or one new token; a slot's cached prompt is reused only as far as it
was computed in those same chunks, so the greedy tokens never depend on what the slot held
or what else decodes. Otherwise each step is one batch, as llama.cpp's own server decodes its
parallel slots: the next token of every decoding sequence, then newcomers' prompts in what
room is left (`BATCH_TOKENS`), with any cached prefix reused. A sequence's KV state leaves and
enters a slot through llama.cpp's per-sequence state functions (`llama_state_seq_get_data`,
`llama_state_seq_set_data`); a state computed in the same chunks is reused as far as they go.
A speculating request verifies its draft tokens alone, in one `llama_decode` with logits for
each, and drops the rejected tail of its KV cache (`llama_memory_seq_rm`).
"""

from __future__ import annotations

import codecs
import ctypes
import logging
from typing import Any

from bus.handoff import KvIdentity
from modules.engines.chat import Message
from modules.engines.detokenizer import Detokenizer
from modules.engines.formats import converted_from
from modules.engines.kv import common_prefix, file_fingerprint
from modules.engines.request import Request
from modules.engines.sampling import (
    avoided_ids,
    llama_cpp_logits,
    llama_cpp_sampler,
    llama_cpp_weights,
    speculative_pick,
)
from modules.engines.step import StepEngine
from modules.errors import EngineError
from modules.models import gguf_path

BATCH_TOKENS = 512
"""Tokens per `llama_decode` call: decode tokens first, then prompt chunks."""
PREFILL_CHUNK = {"cpu": 64, "gpu": 256}
"""Batch-invariant prefill: a prompt is computed in chunks that start at multiples of this.
A CPU prefills as fast in chunks of 64 as of 256 and, with smaller chunks, reuses more of a
cached or imported prompt; a GPU needs the larger batches."""
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
    verifies = True

    def load(self) -> None:
        lib = self._lib = _llama_cpp()
        from llama_cpp import _internals
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        path = gguf_path(self.model)
        gpu = self.device.startswith("cuda")
        self.prefill_chunk = PREFILL_CHUNK["gpu" if gpu else "cpu"]
        model_params = lib.llama_model_default_params()
        model_params.n_gpu_layers = -1 if gpu else 0
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
        self._shaping: dict[int, tuple[Any, Any]] = {}
        """A sampling request's chain without its draw, and its generator, by request id,
        once it verifies drafts."""
        self._cached: list[list[int]] = [[] for _ in range(self.max_concurrent)]
        self._chunked = [0] * self.max_concurrent
        """Tokens at the start of each slot's cache computed as whole prefill chunks."""
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
            eos_token=self.token_text(self._model.token_eos()),
            bos_token=self.token_text(self._model.token_bos()),
        )
        weights = file_fingerprint(path)
        name = f"{path.name} ({self._model.desc()})"
        self._identity = KvIdentity(self.name, name, weights, converted_from(path) or weights)

    def kv_identity(self) -> KvIdentity:
        return self._identity

    def kv_bytes_per_token(self) -> int:
        lib, model = self._lib, self._model.model
        head_size = lib.llama_model_n_embd(model) // lib.llama_model_n_head(model)
        return lib.llama_model_n_layer(model) * 2 * lib.llama_model_n_head_kv(model) * head_size * 2

    def _context_params(self) -> Any:
        params = self._lib.llama_context_default_params()
        params.n_ctx = self.context_length * self.max_concurrent
        params.n_batch = params.n_ubatch = BATCH_TOKENS
        params.n_seq_max = self.max_concurrent
        params.n_threads = params.n_threads_batch = self.threads
        params.kv_unified = False  # each sequence owns context_length cells
        return params

    def token_text(self, token: int) -> str:
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

    def admit(self, request: Request, slot: int) -> None:
        # Prompt caching: the slot's KV cache still holds its last request, and a new prompt
        # usually shares its start (the chat template, the system prompt), which is kept.
        # An imported KV state takes the slot's place when it covers more of the prompt.
        # One prompt token is always decoded, for the logits of the first new token.
        if request.kv is not None:
            self._import(request, slot)
        elif not self.prompt_cache:
            self._cached[slot] = []
        reuse = min(common_prefix(self._cached[slot], request.prompt), len(request.prompt) - 1)
        if self.batch_invariant:  # only what a fresh prefill computes in the same chunks
            reuse = self._whole_chunks(min(reuse, self._chunked[slot]))
        request.prefilled = request.stream.cached_tokens = self._keep(slot, reuse)
        if request.kv is not None:
            imported = common_prefix(request.kv.tokens, request.prompt)
            request.stream.imported_tokens = min(imported, request.prefilled)
        avoided = avoided_ids(request.sampling, self.tokenize)
        request.state = llama_cpp_sampler(
            self._model, request.sampling, self.context_length, avoided
        )

    def _import(self, request: Request, slot: int) -> None:
        """Puts an imported KV state into a slot, unless the slot's cache covers as much of
        the prompt; a state llama.cpp cannot read leaves the slot empty (a local prefill)."""
        assert request.kv is not None
        kv = request.kv
        if common_prefix(kv.tokens, request.prompt) <= common_prefix(
            self._cached[slot], request.prompt
        ):
            return
        buffer = (ctypes.c_uint8 * len(kv.data)).from_buffer_copy(kv.data)
        read = self._lib.llama_state_seq_set_data(self._ctx.ctx, buffer, len(kv.data), slot)
        if read == len(kv.data):
            self._cached[slot] = list(kv.tokens)
            chunked = kv.layout.endswith(self._chunks)  # computed in the chunks this one uses
            self._chunked[slot] = self._whole_chunks(len(kv.tokens)) if chunked else 0
            return
        self._keep(slot, 0)
        request.stream.kv_note = f"llama.cpp could not read the KV state ({kv.layout}); prefilled"

    def importable(self, tokens: int) -> int:
        if not self.batch_invariant:
            return tokens
        return self._whole_chunks(tokens)  # as far as a fresh prefill's chunks

    @property
    def _chunks(self) -> str:
        return f", chunks of {self.prefill_chunk}"

    def _whole_chunks(self, tokens: int) -> int:
        return tokens // self.prefill_chunk * self.prefill_chunk

    def export_state(self, request: Request) -> tuple[bytes, str]:
        size = self._lib.llama_state_seq_get_size(self._ctx.ctx, request.slot)
        buffer = (ctypes.c_uint8 * size)()
        written = self._lib.llama_state_seq_get_data(self._ctx.ctx, buffer, size, request.slot)
        if written != size:
            raise EngineError(f"llama.cpp wrote {written} of {size} bytes of the KV state")
        version = getattr(self._lib, "LLAMA_STATE_SEQ_VERSION", 0)
        chunks = self._chunks if self.batch_invariant else ""
        return bytes(buffer), f"llama.cpp sequence state v{version}{chunks}"

    def step(self, running: list[Request]) -> dict[int, int]:
        if not self.batch_invariant:
            return self._step_batched(running)
        tokens = {}
        for request in running:  # each sequence alone: one prompt chunk, or one token
            batch = self._batch.batch
            batch.n_tokens = 0
            if request.prefilled < len(request.prompt):
                start = request.prefilled
                end = min(len(request.prompt), self._whole_chunks(start) + self.prefill_chunk)
                for position in range(start, end):
                    last = position == len(request.prompt) - 1 and not request.export
                    _add(batch, request.prompt[position], position, request.slot, last)
            else:
                _add(batch, request.generated[-1], request.position, request.slot)
            self._decode([request])
            if request.prefilled < len(request.prompt):
                request.prefilled = end
                self._chunked[request.slot] = self._whole_chunks(end)
                if end < len(request.prompt) or request.export:
                    continue
            tokens[request.request_id] = self._sample(request, batch.n_tokens - 1)
        return tokens

    def _step_batched(self, running: list[Request]) -> dict[int, int]:
        """One `llama_decode` over every running request (not batch-invariant)."""
        batch = self._batch.batch
        batch.n_tokens = 0
        rows: dict[int, int] = {}  # request id -> the batch row whose logits it samples
        for request in running:  # one token for each decoding request
            if request.generated and request.prefilled == len(request.prompt):
                row = _add(batch, request.generated[-1], request.position, request.slot)
                rows[request.request_id] = row
        for request in running:  # then prompts, as far as the batch allows
            todo = len(request.prompt) - request.prefilled
            take = min(todo, BATCH_TOKENS - batch.n_tokens)
            for offset in range(take):
                position = request.prefilled + offset
                last = position == len(request.prompt) - 1 and not request.export
                row = _add(batch, request.prompt[position], position, request.slot, last)
                if last:
                    rows[request.request_id] = row
            request.prefilled += max(0, take)
        if batch.n_tokens:
            self._decode(running)
        by_id = {request.request_id: request for request in running}
        return {rid: self._sample(by_id[rid], row) for rid, row in rows.items()}

    def _decode(self, running: list[Request]) -> None:
        """Runs `llama_decode` on the batch built for `running`."""
        try:
            self._ctx.decode(self._batch)
        except Exception:
            for request in running:  # what this step left in the cache is unknown
                request.prefilled, request.generated = 0, []
                self._chunked[request.slot] = 0
            raise

    def _sample(self, request: Request, row: int) -> int:
        token: int = self._lib.llama_sampler_sample(request.state.sampler, self._ctx.ctx, row)
        if request.sampling.logprobs is not None:
            self.note_logprob(request, llama_cpp_logits(self._ctx.ctx, row, self.vocab_size), token)
        return token

    def pick_slot(self, request: Request, free: list[int]) -> int:
        # As llama.cpp's server does: the slot whose cache shares most of the prompt.
        return max(free, key=lambda slot: common_prefix(self._cached[slot], request.prompt))

    def verify(self, request: Request, proposed: list[int]) -> list[int]:
        batch = self._batch.batch
        batch.n_tokens = 0
        start = request.position
        for offset, token in enumerate([request.generated[-1], *proposed]):
            _add(batch, token, start + offset, request.slot)
        self._decode([request])
        if request.sampling.temperature > 0:
            tokens = self._verify_sampled(request, proposed)
        else:
            tokens = self._verify_greedy(request, proposed)
        self._lib.llama_memory_seq_rm(self._memory, request.slot, start + len(tokens), -1)
        return tokens

    def _verify_greedy(self, request: Request, proposed: list[int]) -> list[int]:
        """The request's own chain picks each row's token, as in an ordinary step, up to the
        first that differs from the proposal (the chain's penalties see each kept token)."""
        tokens: list[int] = []
        for row, proposal in enumerate([*proposed, None]):
            tokens.append(self._sample(request, row))
            if tokens[-1] != proposal:
                break
        return tokens

    def _verify_sampled(self, request: Request, proposed: list[int]) -> list[int]:
        """Speculative sampling: each row's distribution from the request's chain without
        its draw, then `speculative_pick`, up to the first rejected proposal."""
        if request.request_id not in self._shaping:
            history = avoided_ids(request.sampling, self.tokenize) + request.generated
            self._shaping[request.request_id] = (
                llama_cpp_sampler(
                    self._model, request.sampling, self.context_length, history, draws=False
                ),
                _generator(request.sampling.seed),
            )
        shaping, generator = self._shaping[request.request_id]
        tokens: list[int] = []
        for row, proposal in enumerate([*proposed, None]):
            weights = llama_cpp_weights(shaping, self._ctx.ctx, row, self.vocab_size)
            if proposal is None:
                token, kept = int(weights.multinomial(1, generator=generator)), False
            else:
                token, kept = speculative_pick(weights, proposal, generator)
            self._lib.llama_sampler_accept(shaping.sampler, token)
            tokens.append(token)
            if not kept:
                break
        return tokens

    def release(self, request: Request) -> None:
        if (shaping := self._shaping.pop(request.request_id, None)) is not None:
            shaping[0].close()
        in_cache = (request.prompt[: request.prefilled] + request.generated)[: request.position]
        self._cached[request.slot] = in_cache
        self._keep(request.slot, len(in_cache))
        if request.state is not None:
            request.state.close()

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
        self._chunked[slot] = min(self._chunked[slot], tokens)
        return tokens


def _generator(seed: int) -> Any:
    import torch

    return torch.Generator().manual_seed(seed)


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
