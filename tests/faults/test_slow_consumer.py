"""A slow subscriber (a screen that cannot keep up) never holds decoding back: publishers never
wait for subscribers, a display catches up by passing over old tokens (counted), and a
subscriber that keeps up still gets every token of the stream its result depends on."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from bus import Subtask, SubtaskResult, Token
from bus.proxy import start_proxy, stop_proxy
from bus.topics import region_inbox, region_out
from bus.zmq_bus import ZmqTokenBus
from modules.engines import SamplingSettings
from modules.host import RegionHost
from modules.region import RegionSettings

pytestmark = pytest.mark.ray

SCREEN_BACKLOG = 10
"""Tokens a display keeps when it catches up (few, so that the display passes over most of
the stream however slowly a loaded machine decodes it)."""


def test_a_sleeping_subscriber_skips_ahead_and_the_keeping_up_one_misses_nothing(
    ray_cluster: None, tiny_long_model_dir: Path
) -> None:
    namespace = f"slow-{uuid.uuid4().hex[:6]}"
    endpoints = start_proxy(namespace)
    settings = RegionSettings(
        name="language-0",
        kind="language",
        model=str(tiny_long_model_dir),
        sampling=SamplingSettings(max_new_tokens=4000),
        end_at_sentence=False,
    )
    host = RegionHost("modules.language:LanguageRegion", settings, endpoints)
    host.setup()
    try:
        with ZmqTokenBus(endpoints) as bus, ZmqTokenBus(endpoints) as screen:
            keeping_up = bus.subscribe(region_out("language-0"))
            sleeping = screen.subscribe(region_out("language-0"))
            stop = threading.Event()

            shown: list = []

            def slow_screen() -> None:
                while not stop.wait(0.5):  # drawing takes this long; meanwhile tokens pile up
                    shown.extend(sleeping.take_latest(SCREEN_BACKLOG))

            screen_thread = threading.Thread(target=slow_screen)
            screen_thread.start()
            bus.publish(
                region_inbox("language-0"),
                Subtask(turn_id="t", subtask_id="1", region="language", instruction="Go on."),
            )
            tokens: list[Token] = []
            while True:
                delivery = keeping_up.recv(timeout=120)
                assert delivery is not None, "no result"
                if isinstance(delivery.message, Token) and not delivery.message.final:
                    tokens.append(delivery.message)
                if isinstance(delivery.message, SubtaskResult):
                    result = delivery.message
                    break
            stop.set()
            screen_thread.join()
            while not any(isinstance(d.message, SubtaskResult) for d in shown):
                last = sleeping.recv(timeout=30)  # the screen draws the rest, to the result
                assert last is not None, "the screen never got the result"
                shown.append(last)
                shown.extend(sleeping.take_latest(SCREEN_BACKLOG))
    finally:
        host.stop()
        stop_proxy(namespace)
    assert result.ok and len(tokens) == result.tokens == 4000
    assert [t.seq for t in tokens] == list(range(4000))
    assert keeping_up.stats.gaps == 0
    shown_tokens = [d.message for d in shown if isinstance(d.message, Token)]
    assert sleeping.stats.skipped > 1000  # the display passed over most tokens, counted
    assert len(shown_tokens) + sleeping.stats.skipped == 4001  # every token, the end marker too
    assert shown_tokens[-1].final and any(isinstance(d.message, SubtaskResult) for d in shown)
