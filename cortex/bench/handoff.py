"""`python -m cortex.bench handoff`: what a KV handoff costs and what shared prefill saves.

In one run on the embedded model (llama.cpp):
1. the bytes per prefilled token of an exported KV state, against the napkin math (hidden
   size x layers x 2 x bytes, and the same with the model's KV heads);
2. for prompts of 500, 2,000 and 4,000 tokens: export, transfer (over a ZeroMQ proxy on
   loopback, in checksummed chunks) and import, against prefilling the same prompt;
3. a three-part request about a ~2,000-token pasted article, asked of a whole Cortex (Ray,
   the bus, three language replicas): the sum of the delegates' prefill times and the time
   to the first answer token, with and without shared prefill, and whether the answers are
   the same.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bus.handoff import KvHolder, fetch_state
from bus.protocol import Subtask, SubtaskResult
from bus.proxy import BusProxy
from bus.zmq_bus import ZmqTokenBus
from cortex.config import load_config, parse_config
from cortex.runtime.cortex import Cortex
from modules.engines import Assist, Engine, SamplingSettings, create_engine
from modules.openings import answer_start
from modules.prompts import answer_chat

MODEL = "embedded:smollm2-135m-instruct"
LENGTHS = (500, 2000, 4000)
ARTICLE = (
    "Maria Lopez opened a small bakery in Porto in 2019 with her brother Tiago Lopez. The "
    "bakery sells bread, pastries and coffee to students of the nearby university, and in its "
    "first winter it nearly closed when the ovens failed. A loan from their neighbour Ana "
    "Costa kept it open, and by 2022 it employed six people and supplied two cafes. "
)
QUESTION = "Summarise it, list the people it names, and suggest a title."
ONE_TOKEN = SamplingSettings(max_new_tokens=1)
CONTEXT_LENGTH = 8192
"""Tokens per request of the Cortex asked the three-part question: room for the article."""
DELEGATE_FIGURES = (
    "prompt_tokens",
    "prefill_s",
    "kv_exported_tokens",
    "kv_prefill_s",
    "kv_imported_tokens",
    "kv_wait_s",
    "kv_transfer_s",
    "kv_note",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=list(LENGTHS), help="prompt lengths (tokens)"
    )
    parser.add_argument(
        "--context-tokens", type=int, default=2000, help="the shared article's length (tokens)"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads of each engine")
    parser.add_argument(
        "--device", choices=["cpu", "cuda"], default="cpu", help="where the two engines run"
    )


def measure(args: argparse.Namespace) -> dict[str, Any]:
    longest = max(args.lengths)
    engines = [
        create_engine(
            "llama.cpp",
            MODEL,
            device=args.device,
            threads=args.threads,
            context_length=longest + 64,
        )
        for _ in range(2)
    ]
    source, target = (engine.start() for engine in engines)
    try:
        napkin = napkin_math(source)
        lengths = [handoff_vs_prefill(source, target, tokens) for tokens in args.lengths]
    finally:
        for engine in (source, target):
            engine.close()
    measured = [row["bytes_per_token"] for row in lengths]
    return {
        "model": MODEL,
        "bytes_per_token": round(sum(measured) / len(measured), 1),
        "napkin": napkin,
        "lengths": lengths,
        "device": args.device,
        "shared_context": shared_context(args.context_tokens, args.threads, args.device),
    }


def napkin_math(engine: Engine) -> dict[str, Any]:
    """The seed's estimate (hidden size x layers x 2 x bytes) and the model's own."""
    import llama_cpp

    model = engine._model.model  # type: ignore[attr-defined]
    hidden, layers = llama_cpp.llama_model_n_embd(model), llama_cpp.llama_model_n_layer(model)
    return {
        "hidden_size": hidden,
        "layers": layers,
        "kv_heads": llama_cpp.llama_model_n_head_kv(model),
        "heads": llama_cpp.llama_model_n_head(model),
        "cache_bytes": 2,
        "seed_bytes_per_token": hidden * layers * 2 * 2,
        "with_kv_heads": engine.kv_bytes_per_token(),
    }


def prompt_of(engine: Engine, tokens: int) -> list[int]:
    ids = engine.tokenize(ARTICLE)
    return (ids * (tokens // len(ids) + 1))[:tokens]


def handoff_vs_prefill(source: Engine, target: Engine, tokens: int) -> dict[str, Any]:
    """Export on `source`, send over a loopback ZeroMQ proxy, import on `target`, against
    `target` prefilling the same prompt itself (each to its first token)."""
    prompt = prompt_of(source, tokens)
    state = source.prefill(prompt)
    proxy = BusProxy("127.0.0.1")
    with ZmqTokenBus(proxy.start()) as bus:
        holder = KvHolder(bus, "source")
        holder.hold("bench", state)
        started = time.perf_counter()
        fetched = fetch_state(bus, "source", "bench", "target", wait_s=30)
        transfer_s = time.perf_counter() - started
        holder.close()
    proxy.stop()
    imported = _first_token_s(target, prompt, fetched.state)
    local = _first_token_s(target, list(reversed(prompt)), None)  # nothing cached to reuse
    handoff_s = state.export_s + transfer_s + imported
    return {
        "tokens": tokens,
        "bytes": len(state.data),
        "bytes_per_token": round(state.bytes_per_token, 1),
        "prefill_s": round(local, 3),
        "export_s": round(state.export_s, 4),
        "transfer_s": round(transfer_s, 4),
        "import_s": round(imported, 4),
        "handoff_s": round(handoff_s, 3),
        "transfer_mb_s": round(len(state.data) / transfer_s / 1e6, 1),
        "speedup": round(local / handoff_s, 1),
    }


def _first_token_s(engine: Engine, prompt: list[int], kv: Any) -> float:
    started = time.perf_counter()
    list(engine.submit_ids(prompt, ONE_TOKEN, Assist(kv=kv)))
    return time.perf_counter() - started


def shared_context(context_tokens: int, threads: int, device: str) -> dict[str, Any]:
    """The three-part request asked of a fresh Cortex without, then with, shared prefill."""
    article = " ".join([ARTICLE] * max(1, round(context_tokens / 75)))
    question = f"Here is an article:\n\n{article}\n\n{QUESTION}"
    without, with_ = (_ask(question, shared) for shared in (False, True))
    single = _single_prefill(with_["steps"][0], threads, device)
    return {
        "context_tokens": with_["prompt_tokens"],
        "replicas": len(with_["delegates"]),
        "prefill_s_without": without["prefill_s"],
        "prefill_s_with": with_["prefill_s"],
        "prefill_s_one_part": round(single, 3),
        "prefills_without": round(without["prefill_s"] / single, 2),
        "prefills_with": round(with_["prefill_s"] / single, 2),
        "first_token_s_without": without["first_token_s"],
        "first_token_s_with": with_["first_token_s"],
        "wall_s_without": without["wall_s"],
        "wall_s_with": with_["wall_s"],
        "identical_text": without["parts"] == with_["parts"],
        "delegates_with": with_["delegates"],
        "notes_with": with_["notes"],
    }


def _ask(question: str, shared: bool) -> dict[str, Any]:
    """One turn on a fresh Cortex of the default configuration's planner and language
    replicas; the delegates' results, prefill times and texts."""
    steps: dict[str, Subtask] = {}
    results: dict[str, SubtaskResult] = {}

    def collect(delivery: Any) -> None:
        message = delivery.message
        if isinstance(message, Subtask) and message.region == "language":
            steps[message.subtask_id] = message
        if isinstance(message, SubtaskResult) and message.region == "language":
            results[message.subtask_id] = message

    data = load_config().model_dump(by_alias=True)
    data["runtime"]["namespace"] = f"bench-handoff-{uuid.uuid4().hex[:6]}"
    data["handoff"].update(shared_prefill=shared, disaggregate="off")
    data["regions"] = {k: v for k, v in data["regions"].items() if k in ("planning", "language")}
    for region in data["regions"].values():
        region["context_length"] = CONTEXT_LENGTH
    log = Path(tempfile.mkdtemp(prefix="cortex-bench-handoff-")) / "session.jsonl"
    with Cortex(parse_config(data), session_log=log, progress=_quiet) as brain:
        record = brain.ask(question, on_delivery=collect)
    done = [results[key] for key in sorted(results)]
    return {
        "prefill_s": round(sum(_prefill_s(result) for result in done), 3),
        "first_token_s": record.first_token_s,
        "wall_s": record.wall_s,
        "parts": [result.text for result in done],
        "steps": [steps[key] for key in sorted(steps)],
        "prompt_tokens": done[0].data.get("prompt_tokens") if done else 0,
        "delegates": [
            {"replica": r.replica, **{k: r.data.get(k) for k in DELEGATE_FIGURES if k in r.data}}
            for r in done
        ],
        "notes": record.notes,
    }


def _prefill_s(result: SubtaskResult) -> float:
    """A delegate's prefill: its own prompt's (from submitting to the first token, the
    import included) and the shared start's it prefilled for the others."""
    own, shared = result.data.get("prefill_s", 0), result.data.get("kv_prefill_s", 0)
    return float(own if isinstance(own, (int, float)) else 0) + float(
        shared if isinstance(shared, (int, float)) else 0
    )


def _single_prefill(step: Subtask, threads: int, device: str) -> float:
    """One part's whole prompt prefilled alone, as a delegate prefills it without sharing."""
    engine = create_engine(
        "llama.cpp", MODEL, device=device, threads=threads, context_length=CONTEXT_LENGTH
    )
    engine.start()
    try:
        chat = answer_chat(step, answer_start(step.instruction))
        return _first_token_s(engine, engine.render(chat), None)
    finally:
        engine.close()


def _quiet(event: Any) -> None:
    """Start-up progress is not shown: the bench prints its figures at the end."""


def report(figures: dict[str, Any]) -> str:
    napkin = figures["napkin"]
    lines = [
        f"KV state of {figures['model']}: {figures['bytes_per_token']:,.0f} bytes per token",
        f"  seed's napkin math, hidden {napkin['hidden_size']} x {napkin['layers']} layers x 2 x "
        f"2 bytes: {napkin['seed_bytes_per_token']:,}; with {napkin['kv_heads']} KV heads of "
        f"{napkin['heads']}: {napkin['with_kv_heads']:,}",
        f"{'tokens':>7}{'MB':>8}{'prefill s':>11}{'export s':>10}{'transfer s':>12}"
        f"{'import s':>10}{'handoff s':>11}{'MB/s':>8}{'faster':>8}",
    ]
    for row in figures["lengths"]:
        lines.append(
            f"{row['tokens']:>7}{row['bytes'] / 1e6:>8.1f}{row['prefill_s']:>11.2f}"
            f"{row['export_s']:>10.3f}{row['transfer_s']:>12.3f}{row['import_s']:>10.3f}"
            f"{row['handoff_s']:>11.3f}{row['transfer_mb_s']:>8.0f}{row['speedup']:>7.1f}x"
        )
    shared = figures["shared_context"]
    lines += [
        f"three parts over a {shared['context_tokens']}-token article "
        f"({shared['replicas']} replicas):",
        f"  prefill, all delegates: {shared['prefill_s_without']:.2f} s without shared prefill, "
        f"{shared['prefill_s_with']:.2f} s with ({shared['prefills_with']:.2f} prefills of one "
        "part's prompt)",
        f"  first answer token: {shared['first_token_s_without']:.2f} s without, "
        f"{shared['first_token_s_with']:.2f} s with",
        f"  the same answer text: {'yes' if shared['identical_text'] else 'NO'}",
    ]
    return "\n".join(lines)
