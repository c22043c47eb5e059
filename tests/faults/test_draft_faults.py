"""A draft region killed (SIGKILL) while it drafts for a target's stream, on Ray: the target
hears of it (the supervisor's ``region_died``, or the draft's silence), finishes the stream
alone, and the stream's record says so. Tiny models, so the stream is long and quick."""

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
from tests.conftest import long_answers_config

pytestmark = pytest.mark.ray

BUDGET = 1500


def test_a_killed_draft_leaves_its_target_to_finish_the_stream_alone(
    ray_cluster: None, tiny_long_model_dir: Path, tmp_path: Path
) -> None:
    data = long_answers_config(tiny_long_model_dir, max_new_tokens=BUDGET)
    data["regions"]["language"].update(replicas=1, draft="drafter")
    data["regions"]["drafter"] = {"kind": "language", "model": str(tiny_long_model_dir)}
    with Cortex(parse_config(data), session_log=tmp_path / "session.jsonl") as brain:
        records: list[TurnRecord] = []
        turn = threading.Thread(
            target=lambda: records.append(brain.ask("Describe tea.")), daemon=True
        )
        turn.start()
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            regions = {r["name"]: r for r in brain.regions()}
            if regions["language"]["tokens"] > 100:  # verified with the draft's help so far
                victim = regions["drafter"]
        assert victim is not None, "the draft region never drafted"
        os.kill(victim["pid"], signal.SIGKILL)
        turn.join(timeout=300)
        assert records, "the turn did not complete"

    (stream,) = [s for s in records[0].streams if s.replica == "language"]
    assert stream.tokens == BUDGET  # decoded to the end
    figures = stream.speculation
    assert figures is not None
    assert int(str(figures["accepted"])) > 0  # the draft helped before it died
    reason = str(figures["fallback"])
    assert "drafter's process died" in reason or "drafter sent nothing" in reason, reason
