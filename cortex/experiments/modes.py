"""The three ways an experiment runs the same work, each on its own set of Ray actors.

- `sequential`: every region on device 0; a request's subtasks one after another.
- `concurrent`: each region instance on its own device; a request's subtasks at once (with
  a planner: `Brain.ask`, exactly as `cortex ask` runs).
- `pipeline`: the language model split by layers over all devices (`modules.pipeline`);
  subtasks one after another, every token through every stage.
- `speculative`: as `sequential`, with a draft region on device 1 proposing tokens that the
  language region verifies several at a time (`cortex.experiments.speculative`).
Each mode is a context manager: entering starts its actors, `run_once` times one pass over
the workload and returns a `RunRecord`, leaving stops them (freeing the devices).
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import ray

from bus.protocol import Proposal, Subtask, SubtaskResult, Token
from bus.proxy import start_proxy, stop_proxy
from bus.resource import Resource
from bus.streams import StreamId
from bus.topics import region_drafts, region_inbox, region_out
from bus.zmq_bus import ZmqTokenBus
from cortex.config import CortexConfig, parse_config
from cortex.errors import TurnError
from cortex.experiments.measures import RunRecord, Span
from cortex.experiments.spec import ExperimentSpec, Request
from cortex.experiments.speculative import DRAFT, DraftSpans, count_speculation, draft_table
from cortex.runtime.actors import StageActor
from cortex.runtime.brain import StartupEvent
from cortex.runtime.cortex import Cortex
from modules.pipeline import StagePlan, decode_through
from modules.region import Placement

RESULT_TIMEOUT_S = 600


def quiet(event: StartupEvent) -> None:
    """Start-up progress is not shown: the experiment's own bar is."""


class RegionsMode(Resource):
    """The regions as `cortex ask` runs them, placed per mode:

    - ``sequential``: every region on device 0, a request's subtasks one after another;
    - ``batched``: every region on device 0, the subtasks sent at once, so one language
      region decodes them together in its engine's batch (continuous batching);
    - ``concurrent``: a language replica per device, the subtasks sent at once;
    - ``speculative``: as ``sequential``, with a draft region on device 1.
    """

    def __init__(
        self, spec: ExperimentSpec, mode: str, session_log: Path, config: CortexConfig
    ) -> None:
        self.spec = spec
        self.base = config
        """Its runtime and bus settings apply; the experiment names the regions."""
        self.name = mode
        self.concurrent = mode == "concurrent"
        self.at_once = mode in ("concurrent", "batched", "disaggregated")
        """Whether a request's subtasks are sent together."""
        self.session_log = session_log
        self.speculative = mode == "speculative"
        self.devices = self._devices()
        self.brain: Cortex | None = None

    def open(self) -> RegionsMode:
        self.brain = Cortex(
            parse_config(self._config(), f"experiment {self.spec.name}"),
            session_log=self.session_log,
            progress=quiet,
            only=self._tables(),
            devices=self.devices,
        ).start()
        return self

    def close(self) -> None:
        if self.brain is not None:
            self.brain.shutdown()

    def run_once(self) -> RunRecord:
        assert self.brain is not None
        record = RunRecord(self.name, self.spec.devices, time.time(), 0.0, 0)
        for index, request in enumerate(self.spec.requests):
            if self.spec.planner:
                self._ask(index, request, record)
            else:
                self._dispatch(index, request, record)
        record.end = time.time()
        record.tokens = sum(span.tokens for span in record.spans)
        return record

    def _language_replicas(self) -> int:
        if not self.concurrent:
            return 1
        others = len(set(self.spec.regions) - {"language"})
        return max(1, self.spec.devices - others)

    def _names(self) -> list[str]:
        """Instance names in device order: planner, language replicas, vision, speech."""
        replicas = self._language_replicas()
        names = ["planning"] if self.spec.planner else []
        names += ["language"] if replicas == 1 else [f"language-{i}" for i in range(replicas)]
        names += [kind for kind in ("vision", "speech") if kind in self.spec.regions]
        return names

    def _devices(self) -> dict[str, int]:
        names = self._names()
        if self.speculative:
            return {**dict.fromkeys(names, 0), DRAFT: 1}
        if not self.concurrent:
            return dict.fromkeys(names, 0)
        return {name: index % self.spec.devices for index, name in enumerate(names)}

    def _config(self) -> dict[str, Any]:
        generation = {
            "max_new_tokens": self.spec.max_new_tokens,
            "seed": self.spec.seed,
            "repetition_penalty": 1.0,  # plain greedy, as the pipeline decodes
            "no_repeat_ngram": 0,
            "end_at_sentence": False,  # every mode decodes the same number of tokens
        }
        batch = max(4, *(len(request.subtasks) for request in self.spec.requests))
        regions: dict[str, Any] = {
            "language": {
                "model": self.spec.model,
                "engine": self.spec.engine,
                "max_concurrent": batch,
                "replicas": self._language_replicas(),
                "generation": generation,
                "weights": self.spec.weights(0),
                "prompt_cache": self.spec.prompt_cache,
            },
            # A configuration always names a planner; it starts only if `regions` has it.
            "planning": {
                "model": self.spec.model,
                "engine": self.spec.engine,
                "generation": generation,
            },
        }
        if self.speculative:
            regions["language"]["draft"] = DRAFT
            regions[DRAFT] = draft_table(self.spec, generation, batch)
        if "vision" in self.devices:
            regions["vision"] = {"model": self.spec.vision_model}
        if "speech" in self.devices:
            regions["speech"] = {"model": self.spec.speech_model}
        namespace = f"experiment-{uuid.uuid4().hex[:8]}"
        runtime = self.base.runtime.model_dump() | {"namespace": namespace}
        return {"runtime": runtime, "bus": self.base.bus.model_dump(), "regions": regions}

    def _ask(self, index: int, request: Request, record: RunRecord) -> None:
        """One request as a whole turn: the planner plans, the delegates decode."""
        assert self.brain is not None
        first_token: list[float] = []

        def note_first_token(delivery: Any) -> None:
            message = delivery.message
            if not first_token and isinstance(message, Token) and not message.final:
                first_token.append(delivery.received)

        started = time.time()
        turn = self.brain.ask(
            request.text, on_delivery=note_first_token, image=request.image, audio=request.audio
        )
        if first_token:
            record.ttft_s.append(first_token[0] - started)
        for stream in turn.streams:
            record.spans.append(
                Span(
                    self.devices[stream.replica],
                    stream.replica,
                    _span_label(index, stream.id),
                    stream.start,
                    stream.end,
                    stream.tokens,
                )
            )

    def _dispatch(self, index: int, request: Request, record: RunRecord) -> None:
        """One request's subtasks, sent at once (concurrent) or one after another."""
        assert self.brain is not None and self.brain.bus is not None
        work = self._work(index, request)
        answers = {subtask.subtask_id for _, subtask in work}
        work = self._route(work)
        turn_id = work[0][1].turn_id  # the request's subtasks share it
        bus = self.brain.bus
        started = time.time()
        first_token: float | None = None
        drafts = DraftSpans(self.devices.get(DRAFT, 0))
        topics = {region_out(name) for name, _ in work}
        topics |= {region_drafts(name) for name, _ in work} if self.speculative else set()
        with bus.subscribe(*topics) as outputs:
            pending = list(work)
            waiting: set[str] = set()
            results: list[SubtaskResult] = []
            while pending or waiting:
                while pending and (self.at_once or not waiting):
                    name, subtask = pending.pop(0)
                    bus.publish(region_inbox(name), subtask)
                    waiting.add(subtask.subtask_id)
                delivery = outputs.recv(timeout=RESULT_TIMEOUT_S)
                if delivery is None:
                    raise TurnError(f"no result within {RESULT_TIMEOUT_S} s")
                message = delivery.message
                if isinstance(message, Proposal):
                    drafts.take(message, delivery.received)
                if isinstance(message, Token) and first_token is None and not message.final:
                    first_token = delivery.received
                if (
                    isinstance(message, SubtaskResult)
                    and message.turn_id == turn_id
                    and message.subtask_id in waiting
                ):
                    if not message.ok:
                        raise TurnError(f"{message.replica} failed: {message.error}")
                    waiting.discard(message.subtask_id)
                    results.append(message)
        if first_token is not None:
            record.ttft_s.append(first_token - started)
        self._note(results, record)
        record.spans += drafts.spans(f"r{index}/draft")
        if self.speculative:
            count_speculation(record, results)
        for result in results:
            if result.region == "language" and result.subtask_id in answers:
                record.outputs[f"r{index}/{result.subtask_id}"] = result.text
            waited = result.data.get("kv_wait_s", 0)  # idle while another device prefilled
            record.spans.append(
                Span(
                    self.devices[result.replica],
                    result.replica,
                    f"r{index}/{result.subtask_id}",
                    result.started + (waited if isinstance(waited, (int, float)) else 0),
                    result.finished,
                    result.tokens,
                )
            )

    def _tables(self) -> set[str]:
        """The configuration's regions this mode starts (the draft region too, speculating)."""
        return set(self.spec.regions) | ({DRAFT} if self.speculative else set())

    def _route(self, work: list[tuple[str, Subtask]]) -> list[tuple[str, Subtask]]:
        """Where each subtask goes (as `_work` assigned them, here)."""
        return work

    def _note(self, results: list[SubtaskResult], record: RunRecord) -> None:
        """Adds a mode's own figures of one request to its run (none here)."""

    def _work(self, index: int, request: Request) -> list[tuple[str, Subtask]]:
        """The request's subtasks, each with the instance that does it."""
        turn_id = f"r{index}-{uuid.uuid4().hex[:6]}"
        replicas = [n for n in self._names() if n.startswith("language")]
        work: list[tuple[str, Subtask]] = []

        def add(name: str, kind: str, instruction: str = "", **media: str) -> None:
            subtask_id = str(len(work) + 1)
            subtask = Subtask(
                turn_id=turn_id,
                subtask_id=subtask_id,
                region=kind,
                instruction=instruction,
                **media,
            )
            work.append((name, subtask))

        if request.audio:
            add("speech", "speech", audio_path=str(request.audio))
        if request.image:
            add("vision", "vision", image_path=str(request.image))
        for number, text in enumerate(request.subtasks or [request.text]):
            add(replicas[number % len(replicas)], "language", text)
        return work


class PipelineMode(Resource):
    """`pipeline`: the language model's layers split over every device, stage to stage."""

    name = "pipeline"

    def __init__(self, spec: ExperimentSpec, use_gpus: bool, cpu_count: int) -> None:
        self.spec = spec
        self.use_gpus = use_gpus
        self.cpu_count = cpu_count
        self.namespace = f"experiment-{uuid.uuid4().hex[:8]}"
        self.run_id = uuid.uuid4().hex[:8]
        self.stages: list[Any] = []
        self.bus: ZmqTokenBus | None = None

    def open(self) -> PipelineMode:
        endpoints = start_proxy(self.namespace)
        self.bus = ZmqTokenBus(endpoints)
        count = self.spec.devices
        for index in range(count):
            placement = (
                Placement(gpu=True)
                if self.use_gpus
                else Placement(threads=1, cores=(index % self.cpu_count,))
            )
            actor = ray.remote(StageActor).options(
                name=f"stage-{index}",
                namespace=self.namespace,
                num_cpus=0,
                num_gpus=1 if self.use_gpus else 0,
            )
            self.stages.append(
                actor.remote(
                    StagePlan(self.spec.model, index, count, self.run_id, self.spec.max_new_tokens),
                    endpoints,
                    placement,
                )
            )
        ray.get([stage.take_stats.remote() for stage in self.stages], timeout=600)
        return self

    def close(self) -> None:
        for stage in self.stages:
            ray.get(stage.stop.remote(), timeout=30)
            ray.kill(stage)
        if self.bus is not None:
            self.bus.close()
        stop_proxy(self.namespace)

    def run_once(self) -> RunRecord:
        assert self.bus is not None
        ray.get([stage.take_stats.remote() for stage in self.stages], timeout=60)
        record = RunRecord(self.name, self.spec.devices, time.time(), 0.0, 0)
        for index, request in enumerate(self.spec.requests):
            for number, text in enumerate(request.subtasks or [request.text]):
                subtask = Subtask(
                    turn_id=f"r{index}-{uuid.uuid4().hex[:6]}",
                    subtask_id=str(number + 1),
                    region="language",
                    instruction=text,
                )
                started = time.time()
                tokens = list(decode_through(self.bus, self.run_id, subtask, RESULT_TIMEOUT_S))
                record.outputs[f"r{index}/{number + 1}"] = "".join(t.text for t in tokens)
                if tokens and number == 0:
                    record.ttft_s.append(tokens[0].ts - started)
                record.tokens += len(tokens)
        record.end = time.time()
        stats = ray.get([stage.take_stats.remote() for stage in self.stages], timeout=60)
        for device, stage_stats in enumerate(stats):
            record.spans += [
                Span(device, f"stage-{device}", "step", start, end, 1)
                for start, end in stage_stats.spans
            ]
        record.extra = _pipeline_figures(stats[1:])  # stage 0 gets token ids, not hidden states
        return record


def _span_label(request: int, stream_id: str) -> str:
    """A turn's stream id with the turn's part replaced by the request's number: ``r0/1``."""
    stream = StreamId.parse(stream_id)
    return str(replace(stream, turn=f"r{request}")) if stream else f"r{request}/{stream_id}"


def _pipeline_figures(hidden_hops: list[Any]) -> dict[str, Any]:
    """Bytes per decoded token and per prefill between stages, and the per-hop latency."""
    decode = [size for s in hidden_hops for step, size in s.bytes_in if step > 0]
    prefill = [size for s in hidden_hops for step, size in s.bytes_in if step == 0]
    hops = [ms for s in hidden_hops for ms in s.hop_ms]
    return {
        "bytes_per_decode_token": round(statistics.fmean(decode)) if decode else None,
        "prefill_bytes": round(statistics.fmean(prefill)) if prefill else None,
        "hop_latency_ms": round(statistics.fmean(hops), 3) if hops else None,
        "stage_hops": len(hidden_hops),
    }
