"""How `cortex ask` shows a turn: the answer streamed to stdout, and with ``--trace`` the
plan and every region's tokens and events on stderr, each once, with the time it came (the
answer then comes whole at the end, not streamed between the trace's lines)."""

from __future__ import annotations

import time
from typing import Any

from bus.protocol import Event, Subtask, Token
from bus.tokenbus import Delivery
from bus.topics import as_topic
from cortex.cli.options import say


class AnswerPrinter:
    """Streams the final answer to stdout as it decodes; with `trace`, the plan's steps and
    every region's tokens and events to stderr (the answer's own tokens are the regions'
    tokens again, so they are not traced twice)."""

    def __init__(self, trace: bool, quiet: bool) -> None:
        self.trace = trace
        self.quiet = quiet
        self.printed = ""
        self._start = time.time()

    def __call__(self, delivery: Delivery) -> None:
        message = delivery.message
        topic = as_topic(delivery.topic)
        answer = topic.turn is not None and topic.channel == "out"
        if self.trace and not answer:
            self._trace(delivery)
        if answer and not (self.quiet or self.trace) and isinstance(message, Token):
            print(message.text, end="", flush=True)
            self.printed += message.text

    def finish(self, answer: str) -> None:
        """Ends the streamed answer; prints it whole if nothing streamed (a direct answer)."""
        if not self.printed.strip():
            print(answer, end="")
        print()

    def _trace(self, delivery: Delivery) -> None:
        message: Any = delivery.message
        at = f"{delivery.received - self._start:8.3f}s"
        region = as_topic(delivery.topic).region or "turn"
        if isinstance(message, Subtask):
            after = f" (after {', '.join(message.depends_on)})" if message.depends_on else ""
            say(
                f"{at} {'plan':<12} step {message.subtask_id} -> {message.region}{after}: "
                f"{message.instruction}"
            )
        elif isinstance(message, Token) and message.text:  # not a token of an opening's start
            say(f"{at} {region:<12} {message.text!r}")
        elif isinstance(message, Event):
            say(f"{at} {region:<12} [{message.code}] {message.detail}")
