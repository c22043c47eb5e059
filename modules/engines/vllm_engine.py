"""The vLLM engine: transformers models on CUDA GPUs, batched by vLLM itself.

vLLM schedules its own continuous batching (paged attention), so this adapter only maps
Cortex's sampling settings onto `SamplingParams` (`sampling.vllm_sampling_params`), streams
each request's new tokens from `AsyncLLM.generate`, and aborts a request whose stream is
cancelled. Its event loop runs on a thread of its own. vLLM has no way to apply
`no_repeat_ngram` and `avoid` (`VLLM_UNAPPLIED`): requests decode without them, and the engine
logs a warning naming each the first time a request sets it. A prefilled KV state leaves and
enters through vLLM's KV-connector interface (`modules.engines.vllm_kv`). Install with
``pip install 'cortex-bus[vllm]'``; it needs CUDA. Batch-invariant, it turns on vLLM's own
batch-invariant mode (``VLLM_BATCH_INVARIANT=1``, on the GPUs vLLM supports it on).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from typing import Any

from bus.handoff import KvIdentity, KvState
from bus.protocol import TokenLogprob
from modules.engines.chat import TokenizerChat
from modules.engines.engine import Engine, EngineFigures
from modules.engines.kv import check_import
from modules.engines.request import ALONE, Assist
from modules.engines.sampling import SamplingSettings, vllm_sampling_params, vllm_unapplied
from modules.engines.stream import FinishReason, Piece, Stream
from modules.engines.vllm_kv import LAYOUT, ConnectorStorage, connector_name, model_identity
from modules.errors import EngineError
from modules.models import resolve

FINISH_REASONS: dict[str | None, FinishReason] = {"stop": "stop", "length": "length"}
log = logging.getLogger("cortex.engines.vllm")


class VllmEngine(TokenizerChat, Engine):
    """vLLM's AsyncLLM on the GPU this region was given."""

    name = "vllm"

    def load(self) -> None:
        import torch

        if not torch.cuda.is_available():
            raise EngineError(
                "the vllm engine needs a CUDA GPU and this process sees none; use "
                "engine = 'llama.cpp' (GGUF) or 'transformers'"
            )
        try:
            from vllm import AsyncEngineArgs
            from vllm.v1.engine.async_llm import AsyncLLM
        except ImportError:
            raise EngineError(
                "the vllm engine needs vLLM: pip install 'cortex-bus[vllm]'"
            ) from None
        from transformers import AutoTokenizer

        if self.batch_invariant:  # read by vLLM when it builds the engine (GPUs it supports)
            os.environ["VLLM_BATCH_INVARIANT"] = "1"
        source = resolve(self.model)
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        connector = connector_name()
        self._storage = ConnectorStorage(connector) if connector else None
        kv = {"kv_transfer_config": self._storage.transfer_config()} if self._storage else {}
        args = AsyncEngineArgs(
            model=source,
            max_num_seqs=self.max_concurrent,
            max_model_len=self.context_length or None,
            seed=0,
            **kv,
        )
        self._identity = model_identity(source)
        self._llm = AsyncLLM.from_engine_args(args)
        self.context_length = int(self._llm.model_config.max_model_len)
        self._running: dict[str, Stream] = {}
        self._tokens = 0
        self._unapplied_named: set[str] = set()
        self._naming = threading.Lock()
        self._prefilling = threading.Lock()

    def run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="vllm-loop", daemon=True
        )
        self._thread.start()

    def kv_identity(self) -> KvIdentity:
        if self._storage is None:
            raise EngineError("this vLLM registers no example KV connector: no KV handoff")
        return self._identity

    def prefill(self, prompt: list[int]) -> KvState:
        storage = self._storage
        if storage is None:
            raise EngineError("this vLLM registers no example KV connector: no KV handoff")
        with self._prefilling:  # one at a time, so each one's connector folder is told apart
            before = storage.folders()
            started = time.perf_counter()
            stream = self.submit_ids(prompt, SamplingSettings(max_new_tokens=1))
            for _ in stream:
                pass
            if stream.error is not None:
                raise EngineError(f"the prefill failed: {stream.error}")
            data = storage.pack(before)
        took = round(time.perf_counter() - started, 4)
        return KvState(self._identity, tuple(prompt), data, LAYOUT, took)

    def submit_ids(
        self, prompt: list[int], sampling: SamplingSettings, assist: Assist = ALONE
    ) -> Stream:
        if assist.draft is not None:
            raise EngineError(
                "the vllm engine cannot verify a draft region's tokens; pair a draft with a "
                "llama.cpp or transformers target"
            )
        sampling = self.check_room(prompt, sampling)
        self._name_unapplied(sampling)
        stream = Stream(len(prompt))
        if assist.kv is not None:
            self._import(assist.kv, prompt, stream)
        params = vllm_sampling_params(sampling)
        asyncio.run_coroutine_threadsafe(
            self._decode(prompt, params, sampling.logprobs, stream), self._loop
        )
        return stream

    def _import(self, kv: KvState, prompt: list[int], stream: Stream) -> None:
        """Puts a state's connector folder where vLLM's connector looks for it."""
        check_import(kv, self.kv_identity())
        assert self._storage is not None
        self._storage.unpack(kv)
        if list(kv.tokens) == prompt:
            stream.imported_tokens = len(prompt) - 1  # vLLM computes the last token itself
        else:
            stream.kv_note = "vLLM's connector loads a KV state only for its own prompt; prefilled"

    def _name_unapplied(self, sampling: SamplingSettings) -> None:
        """Logs the settings of `sampling` vLLM cannot apply, each once per engine."""
        with self._naming:
            new = [name for name in vllm_unapplied(sampling) if name not in self._unapplied_named]
            self._unapplied_named.update(new)
        if new:
            log.warning(
                "vLLM cannot apply %s; requests decode without %s",
                " and ".join(new),
                "them" if len(new) > 1 else "it",
            )

    async def _decode(
        self, prompt: list[int], params: Any, top: int | None, stream: Stream
    ) -> None:
        """Streams vLLM's outputs of one request onto `stream`; `top`: how many alternatives
        each token's log-probability comes with (None: no log-probabilities)."""
        request_id = uuid.uuid4().hex
        self._running[request_id] = stream
        ids_seen, text_seen = 0, 0
        reason: FinishReason = "stop"
        try:
            async for output in self._llm.generate(
                {"prompt_token_ids": prompt}, params, request_id
            ):
                if stream.cancelled.is_set():
                    await self._llm.abort(request_id)
                    reason = "cancelled"
                    break
                completion = output.outputs[0]
                for piece in _new_pieces(completion, ids_seen, text_seen, top):
                    stream.put(piece)
                self._tokens += len(completion.token_ids) - ids_seen
                ids_seen, text_seen = len(completion.token_ids), len(completion.text)
                reason = FINISH_REASONS.get(completion.finish_reason, reason)
        except Exception as error:  # noqa: BLE001 - the stream's reader hears of it
            stream.end("error", EngineError(f"vLLM failed: {error}"))
            return
        finally:
            self._running.pop(request_id, None)
        stream.end(reason)

    def figures(self) -> EngineFigures:
        return EngineFigures(
            self.name, self.device, self.load_s, self.max_concurrent,
            len(self._running), 0, self._tokens, 0.0,
        )  # fmt: skip

    def close(self) -> None:
        for stream in self._running.values():
            stream.cancel()
        if hasattr(self, "_llm"):
            self._llm.shutdown()
        if hasattr(self, "_loop"):
            self._loop.call_soon_threadsafe(self._loop.stop)


def _new_pieces(completion: Any, ids_seen: int, text_seen: int, top: int | None) -> list[Piece]:
    """One piece per token vLLM added since the last output; the new text rides the last.
    Where the request asked for `top` alternatives, each piece has its log-probabilities."""
    new_ids = list(completion.token_ids[ids_seen:])
    if not new_ids:
        return []
    pieces = [Piece(token_id, "") for token_id in new_ids]
    pieces[-1].text = completion.text[text_seen:]
    if top is not None:
        for offset, piece in enumerate(pieces):
            piece.logprob = _logprob(completion.logprobs[ids_seen + offset], piece.token_id, top)
    return pieces


def _logprob(position: dict[int, Any], token: int, top: int) -> TokenLogprob:
    """One token's log-probabilities from vLLM's at its position (token id -> its `Logprob`:
    the chosen token and the `top` likeliest, each with its rank)."""
    ranked = sorted((p for p in position.values() if p.rank <= top), key=lambda p: p.rank)
    chosen = position[token]
    best = tuple((p.decoded_token, p.logprob) for p in ranked)
    return TokenLogprob(token=chosen.decoded_token, logprob=chosen.logprob, top=best)
