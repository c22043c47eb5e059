"""Layer-split (pipeline) inference: one causal LM's decoder layers spread over stages.

This is how one model is usually split across several GPUs, and what Cortex's experiments
compare regions against. Stage k holds a contiguous slice of the decoder layers (the first
also the token embedding, the last the final norm and the LM head). A step's hidden state
travels from stage to stage over the bus as an `Activation` on ``pipeline.<run>.stage-<k>``;
the first stage takes a `Subtask` and renders its chat prompt as a language region does;
the last stage picks the next token greedily, publishes it as a `Token` on
``pipeline.<run>.out`` and sends its id back to the first stage. So every decoded token
passes through every device in turn, and each device waits while the others compute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DynamicCache

from bus.protocol import Activation, Subtask, Token
from bus.tokenbus import Subscription, TokenBus
from bus.topics import Topic
from modules.engines import TextAssembler
from modules.engines.chat import tokenizer_chat_ids
from modules.engines.hf import stop_ids
from modules.models import load_causal_lm
from modules.prompts import answer_chat

log = logging.getLogger("cortex.pipeline")

_POLL_S = 0.2
_DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
}


def stage_topic(run: str, stage: int) -> Topic:
    """Where stage `stage` of pipeline run `run` receives its input."""
    return Topic(f"pipeline.{run}.stage-{stage}")


def output_topic(run: str) -> Topic:
    """Where the last stage publishes the decoded tokens."""
    return Topic(f"pipeline.{run}.out")


def split_layers(num_layers: int, stages: int) -> list[range]:
    """Contiguous, nearly equal slices of `num_layers` layers, the earlier ones larger."""
    if not 1 <= stages <= num_layers:
        raise ValueError(f"cannot split {num_layers} layers into {stages} stages")
    base, extra = divmod(num_layers, stages)
    slices, start = [], 0
    for index in range(stages):
        size = base + (index < extra)
        slices.append(range(start, start + size))
        start += size
    return slices


def to_activation(tensor: torch.Tensor, stream_id: str, seq: int, position: int) -> Activation:
    """A tensor as an `Activation` message: raw bytes in native order, its shape and dtype."""
    dtype = next(name for name, value in _DTYPES.items() if value == tensor.dtype)
    data = tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
    return Activation(
        stream_id=stream_id,
        seq=seq,
        position=position,
        dtype=dtype,
        shape=tuple(tensor.shape),
        data=data,
    )


def from_activation(message: Activation, device: torch.device) -> torch.Tensor:
    """The tensor an `Activation` carries, on `device`."""
    flat = torch.frombuffer(bytearray(message.data), dtype=_DTYPES[message.dtype])
    return flat.reshape(message.shape).to(device)


def decode_through(
    bus: TokenBus, run: str, subtask: Subtask, timeout_s: float = 600
) -> Iterator[Token]:
    """Sends a subtask into a running pipeline and yields each decoded token as it arrives.

    Raises:
        TimeoutError: The pipeline stopped answering for `timeout_s`.
    """
    stream_id = subtask.stream_id
    with bus.subscribe(output_topic(run)) as tokens:
        bus.publish(stage_topic(run, 0), subtask)
        while True:
            delivery = tokens.recv(timeout=timeout_s)
            if delivery is None:
                raise TimeoutError(f"pipeline {run} sent nothing for {timeout_s:.0f} s")
            token = delivery.message
            if not isinstance(token, Token) or token.stream_id != stream_id:
                continue
            if token.final:
                return
            yield token


@dataclass
class StageStats:
    """What one stage measured, for experiments."""

    spans: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) Unix seconds of each forward pass."""
    bytes_in: list[tuple[int, int]] = field(default_factory=list)
    """(step, payload bytes) of each activation received, in order; step 0 is a prefill."""
    hop_ms: list[float] = field(default_factory=list)
    """One-way latency of each activation received: sender's clock to this stage's."""


@dataclass(frozen=True)
class StagePlan:
    """Where one stage sits in a layer-split model's pipeline."""

    model: str
    """The model spec (as in a region's ``model``)."""
    index: int
    """This stage's position, from 0."""
    stages: int
    """How many stages the model is split into."""
    run: str
    """The pipeline run's id (its topics' middle segment)."""
    max_new_tokens: int
    """How many tokens the last stage decodes per stream at most."""

    @property
    def first(self) -> bool:
        return self.index == 0

    @property
    def last(self) -> bool:
        return self.index == self.stages - 1


class PipelineStage:
    """One stage of a layer-split causal LM, serving its input topic on the bus.

    Args:
        plan: Its place in the pipeline.
        bus: A connected bus.
        device: Where the layers run.
    """

    def __init__(self, plan: StagePlan, bus: TokenBus, device: torch.device | None = None) -> None:
        self.plan = plan
        self.bus = bus
        self.device = device or torch.device("cpu")
        self.stats = StageStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cache: Any = None
        self._assembler: TextAssembler | None = None

    def setup(self) -> None:
        """Loads the model, keeps this stage's layers, and starts serving the input topic."""
        tokenizer, model = load_causal_lm(self.plan.model)
        config = model.config
        self.layers = split_layers(config.num_hidden_layers, self.plan.stages)[self.plan.index]
        decoder = model.model
        self.embed = decoder.embed_tokens.to(self.device) if self.plan.first else None
        self.blocks = [decoder.layers[i].to(self.device) for i in self.layers]
        self.rotary = decoder.rotary_emb.to(self.device)
        self.norm = decoder.norm.to(self.device) if self.plan.last else None
        self.head = model.lm_head.to(self.device) if self.plan.last else None
        self.config, self.tokenizer = config, tokenizer
        self.stop_ids = stop_ids(tokenizer, model)
        self.context_length = int(getattr(config, "max_position_embeddings", 2048))
        del model, decoder  # the other stages' layers are freed with it
        inbox = self.bus.subscribe(stage_topic(self.plan.run, self.plan.index))
        self._thread = threading.Thread(target=self._serve, args=(inbox,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    @torch.inference_mode()
    def forward(self, message: Activation) -> torch.Tensor:
        """Runs this stage's layers over one step's input; the last stage returns logits."""
        if message.seq == 0:
            self._cache = DynamicCache(config=self.config)
        inputs = from_activation(message, self.device)
        hidden = self.embed(inputs) if self.embed is not None else inputs  # [1, T, H]
        steps = hidden.shape[1]
        positions = torch.arange(message.position, message.position + steps, device=self.device)
        positions = positions.unsqueeze(0)
        rotary = self.rotary(hidden, position_ids=positions)
        for block in self.blocks:  # no mask: one new position, or the whole prompt (causal)
            hidden = block(
                hidden,
                position_embeddings=rotary,
                position_ids=positions,
                cache=self._cache,
                use_cache=True,
            )
        if self.norm is None or self.head is None:
            return hidden
        return self.head(self.norm(hidden[:, -1:]))[0, -1]  # [vocab]

    def _serve(self, inbox: Subscription) -> None:
        while not self._stop.is_set():
            delivery = inbox.recv(timeout=_POLL_S)
            if delivery is None:
                continue
            message = delivery.message
            if isinstance(message, Subtask) and self.plan.first:
                message = self._prompt(message)
            if not isinstance(message, Activation):
                continue
            self.stats.bytes_in.append((message.seq, len(message.data)))
            self.stats.hop_ms.append((delivery.received - message.ts) * 1000)
            started = time.time()
            output = self.forward(message)
            self.stats.spans.append((started, time.time()))
            if self.plan.last:
                self._emit(message, output)
            else:
                next_message = to_activation(
                    output, message.stream_id, message.seq, message.position
                )
                self.bus.publish(stage_topic(self.plan.run, self.plan.index + 1), next_message)

    def _prompt(self, subtask: Subtask) -> Activation:
        """First stage: the subtask's chat prompt as token ids, step 0 of its stream."""
        ids = tokenizer_chat_ids(self.tokenizer, answer_chat(subtask))
        stream_id = subtask.stream_id
        return to_activation(torch.tensor([ids]), stream_id, seq=0, position=0)

    def _emit(self, message: Activation, logits: torch.Tensor) -> None:
        """Last stage: publishes the greedy token and feeds it back, or ends the stream."""
        if message.seq == 0:
            self._assembler = TextAssembler(self.tokenizer)
        assert self._assembler is not None
        token_id = int(torch.argmax(logits))
        position = message.position + int(message.shape[1])
        done = (
            token_id in self.stop_ids
            or message.seq + 1 >= self.plan.max_new_tokens
            or position >= self.context_length
        )
        out = output_topic(self.plan.run)
        if token_id not in self.stop_ids:
            text = self._assembler.add(token_id)
            self.bus.publish(
                out,
                Token(stream_id=message.stream_id, seq=message.seq, token_id=token_id, text=text),
            )
        if done:
            end_seq = message.seq + (token_id not in self.stop_ids)
            end = Token(
                stream_id=message.stream_id,
                seq=end_seq,
                token_id=Token.END_MARKER_ID,
                text="",
                final=True,
            )
            self.bus.publish(out, end)
            return
        ids = torch.tensor([[token_id]])
        self.bus.publish(
            stage_topic(self.plan.run, 0),
            to_activation(ids, message.stream_id, message.seq + 1, position),
        )
