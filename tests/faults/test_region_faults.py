"""A language region killed (SIGKILL) mid-decode during a two-subtask turn: Ray restarts it,
the turn retries the subtask, completes, and the session log says so."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from cortex.config import parse_config
from cortex.runtime.cortex import Cortex
from cortex.turns.records import TurnRecord
from cortex.turns.sessions import SessionLog
from tests.conftest import TWO_PARTS, long_answers_config

pytestmark = pytest.mark.ray


def test_a_killed_replica_is_restarted_and_its_subtask_retried(
    ray_cluster: None, tiny_long_model_dir: Path, tmp_path: Path
) -> None:
    data = long_answers_config(tiny_long_model_dir, max_new_tokens=2000)
    session = tmp_path / "session.jsonl"
    with Cortex(parse_config(data), session_log=session) as brain:
        records: list[TurnRecord] = []
        turn = threading.Thread(target=lambda: records.append(brain.ask(TWO_PARTS)), daemon=True)
        turn.start()
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            for region in brain.regions():
                if region["name"].startswith("language") and region["tokens"] > 200:
                    victim = region
        assert victim is not None, "no language replica started decoding"
        os.kill(victim["pid"], signal.SIGKILL)
        turn.join(timeout=300)
        assert records, "the turn did not complete"
        record = records[0]
        back = {r["name"]: r for r in brain.regions()}[victim["name"]]

    retry_note = f"{victim['name']} died during subtask"
    assert any(note.startswith(retry_note) and "retrying" in note for note in record.notes)
    retried = [s for s in record.streams if s.id.endswith("/retry-1")]
    assert len(retried) == 1 and retried[0].tokens > 0
    assert record.answer  # the turn concluded, with both subtasks' results
    logged = SessionLog(session).records()[-1]
    assert logged["turn_id"] == record.turn_id
    assert any(note.startswith(retry_note) for note in logged["notes"])
    assert back["pid"] != victim["pid"] and back["state"] == "idle"  # restarted, model reloaded
