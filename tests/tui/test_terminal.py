"""`cortex chat` in a real terminal (tmux) on the embedded models, end to end."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [pytest.mark.model, pytest.mark.e2e]

QUESTION = "Write a paragraph about tea, one about coffee and one about cocoa."
WIDTH, HEIGHT = 170, 50
POLL_S = 0.5
"""How often the screen, the log and the process list are read: another process changes them."""


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def poll_until(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether `condition` became true within `seconds`, reading it every POLL_S."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
    return True


def wait_for_screen(session: str, pattern: str, seconds: float) -> str:
    if not poll_until(lambda: re.search(pattern, screen(session)) is not None, seconds):
        raise AssertionError(f"{pattern!r} never appeared; the screen was:\n{screen(session)}")
    return screen(session)


def raylets() -> set[str]:
    return set(
        subprocess.run(["pgrep", "-f", "raylet"], capture_output=True, text=True).stdout.split()
    )


@pytest.fixture()
def session(tmp_path: Path):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed for this test: apt-get install tmux")
    name = f"cortex-e2e-{uuid.uuid4().hex[:6]}"
    yield name
    tmux("kill-session", "-t", name)


def test_chat_streams_each_part_into_the_answer_while_the_delegates_decode(
    session: str, tmp_path: Path
) -> None:
    log = tmp_path / "session.jsonl"
    before = raylets()
    # Textual takes COLUMNS and LINES over the terminal's own size; the test runner sets them.
    command = f"env -u COLUMNS -u LINES {sys.executable} -m cortex.cli chat --session {log}"
    tmux("new-session", "-d", "-s", session, "-x", str(WIDTH), "-y", str(HEIGHT), command)
    wait_for_screen(session, r"6 regions ready", 240)
    tmux("send-keys", "-t", session, QUESTION, "Enter")
    while_decoding: list[str] = []  # screens taken while a language region still decoded

    def turn_finished() -> bool:
        shown = screen(session)
        if re.search(r"language-\d · [^·]+ · decoding", shown):
            while_decoding.append(" ".join(shown.split()))
        return log.exists()

    assert poll_until(turn_finished, 300), "the turn never finished"
    idle = [
        rf"{r} · cpu:[0-9,-]+ · idle · [\d.]+ tok/s · \d+ tokens"
        for r in ("language-0", "language-1")
    ]
    shown_done = r"\d\s+language-\d\s+done\s+[\d.]+ s\s+Write a paragraph"
    text = ""

    def screen_caught_up() -> bool:  # the log is written as the turn ends; the screen follows
        nonlocal text
        text = screen(session)
        return len(re.findall(shown_done, text)) == 3 and all(re.search(i, text) for i in idle)

    assert poll_until(screen_caught_up, 30), text
    record = json.loads(log.read_text().splitlines()[-1])
    assert record["question"] == QUESTION
    assert [step["instruction"] for step in record["plan"]] == [
        "Write a paragraph about tea.",
        "Write a paragraph about coffee.",
        "Write a paragraph about cocoa.",
    ]
    first_part = " ".join(record["answer"].split("\n\n")[0].split()[:4])
    assert any(first_part in shown for shown in while_decoding), (first_part, while_decoding[-1:])
    # The conversation scrolls to the end of the answer: its last words are on screen.
    last_words = " ".join(record["answer"].split()[-3:]).strip(".*")
    assert last_words in " ".join(text.split()), (last_words, text)
    assert "devices busy" in text and "dashboard:" in text
    tmux("send-keys", "-t", session, "C-q")
    exited = poll_until(lambda: session not in tmux("list-sessions", "-F", "#S"), 60)
    assert exited, "cortex chat did not exit"
    # Ray's processes end just after the driver.
    assert poll_until(lambda: raylets() <= before, 30), "the chat's Ray cluster is still running"
