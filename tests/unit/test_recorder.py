"""The recorder writes every delivered frame; the reader replays them in order."""

from __future__ import annotations

import logging
from pathlib import Path

from bus import InProcessBus, Recorder, Token, UserTurn, read_log, record


def test_recording_round_trip(tmp_path: Path) -> None:
    log_path = tmp_path / "sessions" / "one.log"
    with InProcessBus() as bus:
        recording = record(bus, log_path)
        bus.publish("turn.a.in", UserTurn(turn_id="a", text="hello"))
        for seq in range(3):
            bus.publish(
                "region.language-0.out", Token(stream_id="s", seq=seq, token_id=seq, text="x")
            )
        bus.publish_frames([b"region.language-0.out", b"\xc1"])
        recording.stop()
    entries = list(read_log(log_path))
    assert [e.topic for e in entries[:4]] == ["turn.a.in"] + ["region.language-0.out"] * 3
    assert entries[0].message == UserTurn(turn_id="a", text="hello", ts=entries[0].message.ts)
    assert [e.message.seq for e in entries[1:4]] == [0, 1, 2]
    assert entries[4].message.code == "malformed"
    assert recording.recorder.written == 5


def test_truncated_tail_is_detected_and_skipped(tmp_path: Path, caplog) -> None:
    log_path = tmp_path / "log"
    with InProcessBus() as bus:
        subscription = bus.subscribe("*")
        for seq in range(2):
            bus.publish("a.b", Token(stream_id="s", seq=seq, token_id=seq, text="x"))
        with Recorder(log_path) as recorder:
            while (delivery := subscription.recv(timeout=0)) is not None:
                recorder.write(delivery)
    log_path.write_bytes(log_path.read_bytes()[:-3])
    with caplog.at_level(logging.WARNING, logger="cortex.bus"):
        entries = list(read_log(log_path))
    assert [e.message.seq for e in entries] == [0]
    assert "truncated" in caplog.text


def test_recorder_appends_to_an_existing_log(tmp_path: Path) -> None:
    log_path = tmp_path / "log"
    for text in ("first", "second"):
        with InProcessBus() as bus:
            recording = record(bus, log_path, "turn.*")
            bus.publish("turn.a.in", UserTurn(turn_id="a", text=text))
            recording.stop()
    assert [e.message.text for e in read_log(log_path)] == ["first", "second"]
