"""`cortex ask`: one question, its answer streamed to stdout."""

from __future__ import annotations

import argparse
import time
from typing import Any

from bus.protocol import Event, Token
from bus.tokenbus import Delivery
from bus.topics import as_topic
from cortex.cli.console import JsonOutput
from cortex.cli.options import (
    add_runtime_options,
    configured,
    media_path,
    progress,
    say,
    typed_text,
)


def add_parser(commands: Any) -> None:
    ask = commands.add_parser(
        "ask",
        help="answer one question and exit",
        description="Plan the question, decode its parts on the regions at once, print the answer.",
    )
    ask.add_argument(
        "question",
        nargs="?",
        default="",
        type=typed_text,
        help="what to ask (may be empty with --audio)",
    )
    ask.add_argument("--json", action="store_true", help="print one JSON record instead of text")
    ask.add_argument("--trace", action="store_true", help="also stream every region's tokens")
    ask.add_argument(
        "--image",
        metavar="PATH",
        type=media_path,
        help="a picture for the vision region to look at",
    )
    ask.add_argument(
        "--audio",
        metavar="PATH",
        type=media_path,
        help="a recording: its transcript becomes or joins the question",
    )
    ask.add_argument("--speak", metavar="OUT.wav", help="also speak the answer into this WAV file")
    add_runtime_options(ask)
    ask.set_defaults(run=run)


def run(args: argparse.Namespace, output: JsonOutput) -> int:
    from cortex.runtime.cortex import Cortex  # imports Ray and torch: only when a brain is needed

    if not args.question.strip() and not args.audio:
        output.fail("the question is empty; ask something")
        return 2
    config = configured(args)
    printer = AnswerPrinter(trace=args.trace, quiet=args.json)
    with Cortex(
        config, address=args.address, session_log=args.session, progress=progress
    ) as brain:
        record = brain.ask(
            args.question,
            on_delivery=printer,
            image=args.image,
            audio=args.audio,
            speak_to=args.speak,
        )
    if args.json:
        output.emit(record.model_dump(exclude={"turn_id", "question", "notes"}))
    else:
        printer.finish(record.answer)
        for note in record.notes:
            say(f"note: {note}")
        if record.spoken:
            say(f"spoke the answer ({record.spoken['seconds']} s) to {record.spoken['wav']}")
    return 0


class AnswerPrinter:
    """Streams the final answer to stdout as it decodes; with `trace`, every token to stderr."""

    def __init__(self, trace: bool, quiet: bool) -> None:
        self.trace = trace
        self.quiet = quiet
        self.printed = ""
        self._start = time.time()

    def __call__(self, delivery: Delivery) -> None:
        message = delivery.message
        if self.trace:
            self._trace(delivery)
        topic = as_topic(delivery.topic)
        if self.quiet or not isinstance(message, Token) or topic.channel != "out":
            return
        if topic.turn is not None:
            print(message.text, end="", flush=True)
            self.printed += message.text

    def finish(self, answer: str) -> None:
        """Ends the streamed answer; prints it whole if nothing streamed (a direct answer)."""
        if not self.printed.strip():
            print(answer, end="")
        print()

    def _trace(self, delivery: Delivery) -> None:
        message: Any = delivery.message
        at = delivery.received - self._start
        region = as_topic(delivery.topic).region or delivery.topic
        if isinstance(message, Token) and message.token_id != Token.END_MARKER_ID:
            say(f"{at:8.3f}s {region:<12} {message.text!r}")
        elif isinstance(message, Event):
            say(f"{at:8.3f}s {region:<12} [{message.code}] {message.detail}")
