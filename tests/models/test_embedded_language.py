"""The embedded SmolLM2 end to end: `cortex ask` with the default configuration."""

from __future__ import annotations

import json
from pathlib import Path

from modules.models import load_causal_lm
from tests.helpers import cortex_cli


def test_embedded_model_answers_a_simple_question_greedily() -> None:
    tokenizer, model = load_causal_lm("embedded:smollm2-135m-instruct")
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
    )["input_ids"]
    out = model.generate(ids, max_new_tokens=12, do_sample=False)
    assert "Paris" in tokenizer.decode(out[0, ids.shape[1] :])


def test_cortex_ask_plans_and_decodes_concurrently(tmp_path: Path) -> None:
    session = tmp_path / "session.jsonl"
    completed = cortex_cli(
        "ask",
        "--json",
        "--session",
        str(session),
        "Compare tea and coffee on caffeine, taste and price.",
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    record = json.loads(completed.stdout)
    print(json.dumps(record, indent=1))
    assert len(record["plan"]) >= 2
    assert record["answer"].strip()
    assert {"id", "region", "instruction", "depends_on"} <= set(record["plan"][0])
    delegates = [s for s in record["streams"] if s["region"] == "language"]
    assert len(delegates) >= 2
    overlapping = [
        (a["replica"], b["replica"])
        for i, a in enumerate(delegates)
        for b in delegates[i + 1 :]
        if max(a["start"], b["start"]) < min(a["end"], b["end"])
    ]
    assert overlapping, "two delegate streams should decode at the same time"
    assert {s["id"].split("/")[1] for s in record["streams"]} >= {"plan", "synthesis"}
    assert json.loads(session.read_text().splitlines()[-1])["answer"] == record["answer"]
