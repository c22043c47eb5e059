"""The terminal app with the in-process brain and scripted regions, driven by Textual's pilot."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from textual import events

from bus import Event, Token
from bus.topics import region_out
from cortex.config import parse_config
from cortex.runtime.inprocess import InProcessCortex
from cortex.turns.sessions import new_session_path
from tests.tui.scripted import HEARD, expected_answer, scripted_config
from tui.app import CortexApp
from tui.conversation import AnswerMessage, ConversationView, UserMessage
from tui.plan import PlanView
from tui.regions import RegionPane, RegionPanes
from tui.screens import HelpScreen, SessionPicker
from tui.status import StatusBar

DATA = Path(__file__).parents[1] / "data"
QUESTION = "Describe the caffeine in tea and compare the price of coffee."


class RecordingApp(CortexApp):
    """The app, remembering its notifications for assertions."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[tuple[str, str]] = []

    def notify(self, message: str, *, title: str = "", severity: str = "information", **kwargs):
        self.notes.append((severity, message))
        super().notify(message, title=title, severity=severity, **kwargs)


def make_app(
    tmp_path: Path, language: str = "ScriptedLanguage", media: bool = False, **options
) -> RecordingApp:
    config = parse_config(scripted_config(language, media))
    brains: list[InProcessCortex] = []

    def factory() -> InProcessCortex:
        brains.append(InProcessCortex(config, session_log=tmp_path / "session.jsonl"))
        return brains[-1]

    app = RecordingApp(factory, **options)
    app.brains = brains  # type: ignore[attr-defined]
    return app


async def wait_for(pilot, condition, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not met in time")


async def enter(pilot, text: str) -> None:
    pilot.app.query_one("#prompt").value = text
    await pilot.press("enter")


async def test_a_question_shows_the_plan_two_streaming_regions_and_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    states: dict[str, str] = {}
    both_decoding = []
    set_state = RegionPane.set_state

    def watched(pane: RegionPane, state: str, device: str = "") -> None:
        set_state(pane, state, device)
        states[pane.region_name] = state
        both_decoding.append(states.get("language-0") == states.get("language-1") == "decoding")

    monkeypatch.setattr(RegionPane, "set_state", watched)
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        await enter(pilot, QUESTION)
        await wait_for(pilot, lambda: app.history)
        assert any(both_decoding), "the two language panes should stream at the same time"
        plan = app.query_one(PlanView)
        # The bus pump may deliver the last results just after the turn's own thread is done.
        await wait_for(pilot, lambda: set(plan.states().values()) == {"done"}, seconds=5)
        assert set(plan.states()) == {"plan", "1", "2"}
        assert plan.columns["state"].content_width >= len("running")  # each state shows whole
        answer = app.query_one(AnswerMessage)
        assert answer.text == expected_answer(QUESTION)
        panes = {p.region_name: p for p in app.query(RegionPane)}
        assert panes["language-0"].streamed_total > 0 and panes["language-1"].streamed_total > 0
        record = json.loads((tmp_path / "session.jsonl").read_text().splitlines()[-1])
        assert record["question"] == QUESTION and record["answer"] == expected_answer(QUESTION)


async def test_commands(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        await enter(pilot, "/help")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        await enter(pilot, "Hello there")
        await wait_for(pilot, lambda: app.history)
        transcript = tmp_path / "out" / "chat.md"
        await enter(pilot, f"/save {transcript}")
        assert "**You:** Hello there" in transcript.read_text()

        await enter(pilot, "/clear")
        await pilot.pause()
        assert not app.query(UserMessage) and app.history == []

        for command, expected in [
            ("/speak on", "needs a speech region"),
            ("/speak loudly", "use /speak on or /speak off"),
            ("/dance", "unknown command /dance"),
        ]:
            await enter(pilot, command)
            assert expected in app.notes[-1][1]
            assert app.notes[-1][0] == "error"

        await pilot.press("f2")
        assert app.query_one("#right").has_class("hidden")


async def test_a_bad_image_path_is_an_error_not_a_crash(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("hello")
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        for path, expected in [
            (tmp_path / "missing.png", "no file at"),
            (not_an_image, "is not an image Cortex can read"),
        ]:
            await enter(pilot, f"/image {path}")
            assert app.notes[-1][0] == "error" and expected in app.notes[-1][1]
        await enter(pilot, "Hello again")
        await wait_for(pilot, lambda: app.history)
        assert app.is_running


async def test_a_region_dying_and_its_retry_are_shown(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        bus = app.brains[0].bus
        for code, detail in (
            ("region_died", "language-0's process died; Ray is restarting it"),
            ("region_restarted", "language-0 is back on cpu:1 thread"),
        ):
            bus.publish(
                region_out("language-0"),
                Event(level="error", code=code, source="language-0", detail=detail),
            )
        retry = Token(stream_id="t9/2/retry-1", seq=0, token_id=5, text="again")
        bus.publish(region_out("language-0"), retry)
        await wait_for(pilot, lambda: len(app.notes) >= 2)
        assert app.notes[:2] == [
            ("error", "language-0's process died; Ray is restarting it"),
            ("information", "language-0 is back on cpu:1 thread"),
        ]
        pane = app.query_one(RegionPanes).pane("language-0")
        await wait_for(pilot, lambda: pane.tokens == 1)
        assert pane.subtask == "2" and pane.state == "decoding"
        assert app.is_running


async def test_a_stream_of_no_turn_is_shown_under_its_own_name(tmp_path: Path) -> None:
    """A valid token whose stream id is not ``<turn>/<step>`` (a custom region's, a
    pipeline's) is shown, never raised on."""
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        bus = app.brains[0].bus
        for seq, stream in enumerate(["s1", "a/b/c"]):
            token = Token(stream_id=stream, seq=0, token_id=seq, text=f"word{seq}")
            bus.publish(region_out(f"language-{seq}"), token)
        panes = app.query_one(RegionPanes)
        await wait_for(pilot, lambda: panes.pane("language-1").tokens == 1)
        assert [panes.pane(f"language-{i}").subtask for i in (0, 1)] == ["s1", "a/b/c"]
        assert app.is_running


@pytest.mark.slow
async def test_the_screen_keeps_up_through_ten_thousand_bus_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status bar restarts its per-second figures between batches; the pump must not
    mistake that for the screen falling behind (it once stopped for good near 2,000)."""
    refreshes: list[float] = []
    refresh_figures = StatusBar.refresh_figures

    def counted(bar: StatusBar, messages_per_s: float, *figures) -> None:
        refresh_figures(bar, messages_per_s, *figures)
        refreshes.append(messages_per_s)

    monkeypatch.setattr(StatusBar, "refresh_figures", counted)
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        bus = app.brains[0].bus
        stream = app.query_one(RegionPanes).pane("language-0").query_one(".region-stream")
        seq = 0
        for batch in range(5):
            for _ in range(2_000):
                token = Token(stream_id="t9/1", seq=seq, token_id=5, text=" x")
                bus.publish(region_out("language-0"), token)
                seq += 1
            marker = f" batch-{batch}"
            bus.publish(
                region_out("language-0"), Token(stream_id="t9/1", seq=seq, token_id=6, text=marker)
            )
            seq += 1
            await wait_for(pilot, lambda marker=marker: str(stream.render()).endswith(marker))
            ticks = len(refreshes)
            await wait_for(pilot, lambda ticks=ticks: len(refreshes) > ticks)
        assert seq > 10_000
        assert max(refreshes) > 0 and app.is_running


@pytest.mark.parametrize(
    ("paste", "typed", "question"),
    [
        ("Eggs\nMilk\nBread\n", "What can I bake?", "Eggs Milk Bread What can I bake?"),
        (
            "  1. tea\r\n\r\n  2. coffee\r\n",
            "Which is stronger?",
            "1. tea 2. coffee Which is stronger?",
        ),
        ("one\rtwo", "", "one two"),
    ],
)
async def test_a_multi_line_paste_reaches_the_question_whole(
    tmp_path: Path, paste: str, typed: str, question: str
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        app.post_message(events.Paste(paste))
        await pilot.pause()
        for key in ([" "] if typed else []) + list(typed):
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.history)
        assert app.history[0][0] == question


async def test_a_paste_replaces_the_selection(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        prompt = app.query_one("#prompt")
        prompt.value = "Tell me about X please"
        prompt.select_all()
        app.post_message(events.Paste("apples\nand pears"))
        await pilot.pause()
        assert prompt.value == "apples and pears"


async def test_a_question_typed_while_loading_runs_when_ready(tmp_path: Path) -> None:
    app = make_app(tmp_path, language="SlowLanguage")
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.query(RegionPane))
        assert not app.ready
        assert any(p.state == "loading" for p in app.query(RegionPane))
        await enter(pilot, "Hello while loading")
        assert "runs when the regions are ready" in str(app.query_one(UserMessage).render())
        await wait_for(pilot, lambda: app.history)
        assert app.history[0][0] == "Hello while loading"
        assert "runs when" not in str(app.query_one(UserMessage).render())  # it ran


async def test_quitting_stops_every_region(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        brain = app.brains[0]
        hosts = list(brain.hosts.values())
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running)
    app._tick()  # the one-second timer can fire while the closing app removes its widgets
    assert brain.bus is None and brain.hosts == {}
    assert all(host.status.state == "stopped" for host in hosts)
    assert not [t for t in threading.enumerate() if t.name.startswith("region-")]


async def test_resume_shows_the_history_and_continues_the_log(tmp_path: Path) -> None:
    log = tmp_path / "session.jsonl"
    log.write_text(
        json.dumps(
            {
                "type": "turn",
                "question": "Who wrote Hamlet?",
                "answer": "Shakespeare.",
                "attached": ["folio.jpg"],
            }
        )
        + "\n"
    )
    app = make_app(tmp_path, resume=log)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        conversation = app.query_one(ConversationView)
        assert conversation.transcript == [
            ("user", "Who wrote Hamlet? _(with folio.jpg)_"),
            ("cortex", "Shakespeare."),
        ]
        assert app.history == [("Who wrote Hamlet?", "Shakespeare.")]
        await enter(pilot, "And when?")
        await wait_for(pilot, lambda: len(app.history) == 2)
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["question"] == "And when?"


async def test_the_conversation_gets_most_of_a_wide_screen(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        conversation, panes = app.query_one("#left"), app.query_one("#right")
        assert conversation.size.width >= 96 and panes.size.width <= 60
        assert str(app.query_one("#cortex").render()) == "in-process, no Ray"


async def test_an_attachment_shows_in_the_question_box_and_the_transcript(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, media=True)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        await enter(pilot, f"/image {DATA / 'cat.jpg'}")
        prompt = app.query_one("#prompt")
        assert prompt.border_title == "with cat.jpg"
        await enter(pilot, "What is it?")
        assert not prompt.border_title
        assert "with cat.jpg" in str(app.query_one(UserMessage).render())
        await wait_for(pilot, lambda: app.history)
        transcript = tmp_path / "chat.md"
        await enter(pilot, f"/save {transcript}")
        assert "**You:** What is it? _(with cat.jpg)_" in transcript.read_text()


async def test_a_recording_s_turn_shows_its_transcript_as_the_question(tmp_path: Path) -> None:
    app = make_app(tmp_path, media=True)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.ready)
        await enter(pilot, f"/audio {DATA / 'question.wav'}")
        await enter(pilot, "")
        await wait_for(pilot, lambda: app.history)
        shown = app.query_one(UserMessage)
        assert shown.text == HEARD and "(the recording)" not in str(shown.render())
        assert "with question.wav" in str(shown.render())
        assert app.query_one(ConversationView).transcript[0] == (
            "user",
            f"{HEARD} _(with question.wav)_",
        )


async def test_resume_lists_chat_s_sessions_unless_asked_for_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORTEX_DATA_DIR", str(tmp_path / "data"))
    chat, asked = new_session_path("chat"), new_session_path()
    for path in (chat, asked):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"type": "turn", "question": "Hi", "answer": "Hello."}) + "\n")
    for listed, expected in (("chat", [chat]), (None, {chat, asked})):
        app = make_app(tmp_path, resume=True, listed=listed)
        async with app.run_test(size=(140, 45)) as pilot:
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, SessionPicker))
            found = app.screen.sessions
            assert (found if isinstance(expected, list) else set(found)) == expected
            await wait_for(pilot, lambda: pilot.app.ready)  # the brain starts under the picker
            panes = app.main.query_one(RegionPanes).panes()
            assert isinstance(app.screen, SessionPicker) and {p.state for p in panes} == {"idle"}


@pytest.mark.parametrize("screen", ["main", "help"])
def test_snapshots(snap_compare, tmp_path: Path, screen: str) -> None:
    app = make_app(tmp_path)

    async def settle(pilot) -> None:
        await wait_for(pilot, lambda: app.ready)
        await pilot.pause()
        if screen == "help":
            await pilot.press("f1")
            await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=settle)
