"""What `cortex ask` prints: the answer on stdout, the trace on stderr (each token once, the
plan), the start-up lines, and the `--json` record whose every field the docs name."""

from __future__ import annotations

import re
import time
from pathlib import Path

from bus.protocol import Subtask, Token
from bus.tokenbus import Delivery
from cortex.cli.ask import JSON_LEFT_OUT
from cortex.cli.printer import AnswerPrinter
from cortex.runtime.brain import region_ready
from cortex.turns.records import StreamRecord, TurnRecord

DOCS = Path(__file__).parents[2] / "docs"


def delivery(topic: str, message) -> Delivery:
    return Delivery(topic, message, time.time(), b"")


def token(stream: str, seq: int, text: str) -> Token:
    return Token(stream_id=stream, seq=seq, token_id=seq, text=text)


def test_the_trace_shows_the_plan_and_each_token_once(capsys) -> None:
    printer = AnswerPrinter(trace=True, quiet=False)
    step = Subtask(turn_id="t1", subtask_id="1", region="language", instruction="Name a cat.")
    printer(delivery("turn.t1.plan", step))
    texts = ("Tom", " the", " cat")
    for seq, text in enumerate(texts):
        printer(delivery("region.language-0.out", token("t1/1", seq, text)))  # the region's
        printer(delivery("turn.t1.out", token("t1/answer", seq, text)))  # the answer's: same
    printer.finish("Tom the cat")
    out, err = capsys.readouterr()
    assert out == "Tom the cat\n"
    lines = err.splitlines()
    assert re.fullmatch(r" +\d+\.\d{3}s plan +step 1 -> language: Name a cat\.", lines[0])
    assert len(lines) == 1 + len(texts)  # the plan, then each token once
    for line, text in zip(lines[1:], texts, strict=True):
        assert re.fullmatch(rf" +\d+\.\d{{3}}s language-0 +{re.escape(repr(text))}", line)


def test_start_up_says_what_each_figure_counts() -> None:
    event = region_ready("planning", "cpu:0-1", 8.84, 2, 6)
    assert event.message == (
        "planning ready on cpu:0-1, its model loaded in 8.8 s; 2 of 6 regions ready"
    )


def test_every_field_of_ask_json_is_documented() -> None:
    stream = StreamRecord(id="s", region="r", replica="r", device="d", start=0, end=1, tokens=0)
    record = TurnRecord(
        turn_id="t",
        question="q",
        answer="a",
        plan=[],
        streams=[stream],
        wall_s=1.0,
    )
    usage = (DOCS / "usage.md").read_text()
    documented = usage[usage.index("`--json` prints") :].split("\n\n")[0]
    fields = set(record.model_dump(exclude=JSON_LEFT_OUT)) | set(record.streams[0].model_dump())
    missing = {field for field in fields if f"`{field}`" not in documented}
    assert missing == set()
