"""The driver process killed mid-turn: the session log keeps every finished turn, a torn last
line is skipped with a warning, and `cortex chat --resume` continues from there."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cortex.turns.sessions import SessionLog
from tests.tui.test_app import make_app, wait_for
from tui.conversation import ConversationView

REPO = Path(__file__).parents[2]
DRIVER = """
import sys
from cortex.config import parse_config
from cortex.runtime.inprocess import InProcessCortex
from tests.tui.scripted import scripted_config

import threading
from bus import Token

decoding = threading.Event()

def say_when_decoding(delivery):
    if isinstance(delivery.message, Token) and not decoding.is_set():
        decoding.set()
        print("decoding the second turn", flush=True)

with InProcessCortex(parse_config(scripted_config()), session_log=sys.argv[1]) as brain:
    brain.ask("Who wrote Hamlet?")
    brain.ask("Compare tea and coffee.", on_delivery=say_when_decoding)  # about a second long
    print("finished", flush=True)
"""


@pytest.mark.e2e
def test_killing_the_driver_mid_turn_keeps_the_finished_turns(tmp_path: Path, caplog) -> None:
    log = tmp_path / "session.jsonl"
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(log)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert driver.stdout is not None
    assert driver.stdout.readline().strip() == "decoding the second turn"
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait(timeout=30)
    records = SessionLog(log).records()
    assert [r["question"] for r in records] == ["Who wrote Hamlet?"]

    with log.open("a") as file:  # a crash in the middle of writing the next line
        file.write(json.dumps({"type": "turn", "question": "Compare tea"})[:25])
    with caplog.at_level(logging.WARNING, logger="cortex.turns.sessions"):
        assert [r["question"] for r in SessionLog(log).records()] == ["Who wrote Hamlet?"]
    assert "line 2 is incomplete" in caplog.text


async def test_resume_after_a_crash_restores_the_finished_turns(tmp_path: Path) -> None:
    log = tmp_path / "session.jsonl"
    log.write_text(
        json.dumps({"type": "turn", "question": "Who wrote Hamlet?", "answer": "Shakespeare."})
        + "\n"
        + '{"type": "turn", "question": "Compa'
    )
    app = make_app(tmp_path, resume=log)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        assert app.query_one(ConversationView).transcript == [
            ("user", "Who wrote Hamlet?"),
            ("cortex", "Shakespeare."),
        ]
        assert app.history == [("Who wrote Hamlet?", "Shakespeare.")]
    SessionLog(log).append({"type": "turn", "question": "And when?", "answer": "1600."})
    assert [r["question"] for r in SessionLog(log).records()] == ["Who wrote Hamlet?", "And when?"]
