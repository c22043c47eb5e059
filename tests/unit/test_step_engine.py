"""The continuous-batching loop on a fake model, in milliseconds: admission into free slots,
cancel, stop strings, EOS, token limits, finish order, and failures of one request or all.

`EchoEngine` is a `StepEngine` over a scripted model with a character tokenizer (as nanochat
tests its engine with a `MockModel` and a byte tokenizer): the answer to a prompt is the
prompt's own text, a character a step, then EOS. Its first character can script a failure.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
import torch

from modules.engines import (
    Detokenizer,
    Message,
    Request,
    SamplingSettings,
    StepEngine,
    Stream,
)
from modules.errors import BadRequestError, EngineError

EOS = 0
VOCAB = 128
"""Token ids are characters below this."""
SAMPLING = SamplingSettings(max_new_tokens=100)
FAIL_ADMIT, REFUSE_ADMIT, FAIL_STEP = "!", "?", "#"
"""A prompt starting with one of these makes `admit` raise, `admit` refuse it as a bad
request, or every `step` it takes part in raise."""


class CharDetokenizer(Detokenizer):
    def add(self, token_id: int) -> str:
        return chr(token_id)


class EchoEngine(StepEngine):
    """A step engine whose model answers each prompt with the prompt's own text, then EOS,
    and records what the loop asked of it."""

    name = "echo"

    def __init__(self, max_concurrent: int = 4) -> None:
        super().__init__("echo", max_concurrent=max_concurrent, context_length=1000)
        self.steps: list[list[int]] = []
        """The ids of the running requests at each step."""
        self.slots: dict[int, int] = {}
        """The slot each admitted request got, by request id."""
        self.released: list[int] = []
        """Request ids in the order they finished."""
        self.pace: threading.Semaphore | None = None
        """When set, each step waits for one release of it."""

    def load(self) -> None:
        self.eos_ids = frozenset({EOS})

    def render_text(self, messages: list[Message]) -> str:
        return "".join(message["content"] for message in messages)

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return [ord(character) for character in text]

    def detokenizer(self) -> Detokenizer:
        return CharDetokenizer()

    def token_text(self, token: int) -> str:
        return chr(token)

    def admit(self, request: Request, slot: int) -> None:
        if request.prompt[0] == ord(FAIL_ADMIT):
            raise RuntimeError("no cache left")
        if request.prompt[0] == ord(REFUSE_ADMIT):
            raise BadRequestError("the grammar does not parse")
        self.slots[request.request_id] = slot

    def step(self, running: list[Request]) -> dict[int, int]:
        if self.pace is not None:
            self.pace.acquire(timeout=5)
        self.steps.append([request.request_id for request in running])
        if any(request.prompt[0] == ord(FAIL_STEP) for request in running):
            raise RuntimeError("device lost")
        tokens = {}
        for request in running:
            request.prefilled = len(request.prompt)
            done = len(request.generated)
            tokens[request.request_id] = request.prompt[done] if done < len(request.prompt) else EOS
            logits = torch.zeros(VOCAB)  # the token chosen is e times likelier than any other
            logits[tokens[request.request_id]] = 1.0
            self.note_logprob(request, logits, tokens[request.request_id])
        return tokens

    def release(self, request: Request) -> None:
        self.released.append(request.request_id)

    @contextmanager
    def admission_held(self) -> Iterator[None]:
        """Requests submitted inside the block are admitted together once it ends."""
        with self._wake:
            yield

    def submit_text(self, text: str, sampling: SamplingSettings = SAMPLING) -> Stream:
        return self.submit_ids(self.tokenize(text), sampling)


@pytest.fixture()
def engine() -> Iterator[EchoEngine]:
    started = EchoEngine(max_concurrent=2).start()
    yield started
    if started.pace is not None:
        started.pace.release(1000)
    started.close()


def text(stream: Stream) -> str:
    return "".join(piece.text for piece in stream)


def test_an_answer_ends_at_eos_which_is_not_yielded(engine: EchoEngine) -> None:
    stream = engine.submit_text("Hello")
    assert [piece.token_id for piece in stream] == [ord(c) for c in "Hello"]
    assert stream.finish_reason == "stop" and stream.completion_tokens == 5


def test_an_answer_ends_at_its_token_limit(engine: EchoEngine) -> None:
    stream = engine.submit_text("abcdef", replace(SAMPLING, max_new_tokens=3))
    assert text(stream) == "abc" and stream.finish_reason == "length"


def test_requests_fill_the_free_slots_and_a_waiting_one_takes_the_first_freed(
    engine: EchoEngine,
) -> None:
    with engine.admission_held():
        streams = [engine.submit_text(prompt) for prompt in ("ab", "abcd", "x")]
    assert [text(stream) for stream in streams] == ["ab", "abcd", "x"]
    # two slots: the third waits until the first ends (its EOS at step 3), then takes slot 0
    assert engine.steps == [[0, 1], [0, 1], [0, 1], [1, 2], [1, 2]]
    assert engine.slots == {0: 0, 1: 1, 2: 0}


def test_requests_finish_in_the_order_their_answers_end_each_with_its_own_tokens() -> None:
    engine = EchoEngine(max_concurrent=4).start()
    try:
        with engine.admission_held():
            streams = [engine.submit_text(prompt) for prompt in ("abcd", "a", "abc", "ab")]
        texts = [text(stream) for stream in streams]
    finally:
        engine.close()
    assert texts == ["abcd", "a", "abc", "ab"]
    assert engine.released == [1, 3, 2, 0]
    assert engine.steps[0] == [0, 1, 2, 3] and engine.steps[-1] == [0]


def test_a_cancelled_running_request_ends_and_frees_its_slot(engine: EchoEngine) -> None:
    engine.pace = threading.Semaphore(1)
    stream = engine.submit_text("x" * 500)
    pieces = iter(stream)
    assert next(pieces).text == "x"
    stream.cancel()
    engine.pace.release(1000)
    assert len(list(pieces)) <= 1
    assert stream.finish_reason == "cancelled" and engine.released == [0]
    assert text(engine.submit_text("ok")) == "ok"


def test_a_request_cancelled_while_waiting_never_starts(engine: EchoEngine) -> None:
    with engine.admission_held():
        first, second = engine.submit_text("ab"), engine.submit_text("cd")
        third = engine.submit_text("ef")
        third.cancel()
    assert text(third) == "" and third.finish_reason == "cancelled"
    assert text(first) == "ab" and text(second) == "cd"
    assert 2 not in engine.slots and 2 not in engine.released


def test_a_stop_string_is_held_back_then_cut(engine: EchoEngine) -> None:
    stopping = replace(SAMPLING, stop=("END",))
    stream = engine.submit_text("Hello END!", stopping)
    assert text(stream) == "Hello " and stream.finish_reason == "stop"
    assert text(engine.submit_text("Hello ENtry", stopping)) == "Hello ENtry"
    held_to_the_end = engine.submit_text("abEN", stopping)
    assert text(held_to_the_end) == "abEN" and held_to_the_end.finish_reason == "stop"


def test_a_request_that_cannot_start_fails_alone(engine: EchoEngine) -> None:
    with engine.admission_held():
        failing = engine.submit_text(FAIL_ADMIT + "a")
        refused = engine.submit_text(REFUSE_ADMIT + "a")
        fine = engine.submit_text("fine")
    with pytest.raises(EngineError, match="cannot start: no cache left"):
        text(failing)
    with pytest.raises(BadRequestError, match="grammar"):
        text(refused)
    assert text(fine) == "fine" and failing.finish_reason == refused.finish_reason == "error"


def test_a_failed_step_fails_every_running_request_and_the_engine_serves_on(
    engine: EchoEngine,
) -> None:
    with engine.admission_held():
        streams = [engine.submit_text(FAIL_STEP + "ab"), engine.submit_text("cd")]
    for stream in streams:
        with pytest.raises(EngineError, match="decoding failed: device lost"):
            text(stream)
    assert sorted(engine.released) == [0, 1]
    assert text(engine.submit_text("again")) == "again"


def test_a_request_before_start_is_refused() -> None:
    with pytest.raises(EngineError, match="not running"):
        EchoEngine().submit_text("a")


def test_each_piece_carries_its_log_probability_when_asked(engine: EchoEngine) -> None:
    assert all(piece.logprob is None for piece in engine.submit_text("ab"))
    pieces = list(engine.submit_text("ab", replace(SAMPLING, logprobs=2)))
    likeliest = 1 - math.log(math.e + VOCAB - 1)
    for piece, character in zip(pieces, "ab", strict=True):
        assert piece.logprob is not None and piece.logprob.token == character
        assert math.isclose(piece.logprob.logprob, likeliest, rel_tol=1e-5)
        assert [token for token, _ in piece.logprob.top][0] == character
        assert len(piece.logprob.top) == 2
