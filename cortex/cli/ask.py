"""`cortex ask`: one question, its answer streamed to stdout."""

from __future__ import annotations

import argparse
from typing import Any

from cortex.cli.console import JsonOutput
from cortex.cli.options import (
    add_runtime_options,
    audio_path,
    configured,
    image_path,
    progress,
    say,
    typed_text,
)
from modules.media.formats import RECORDING_FORMATS, image_formats

JSON_LEFT_OUT = {"turn_id", "question", "tool_calls"}
"""What of a turn's record `--json` leaves out (the session log keeps it; tools are for
`cortex serve`'s clients, so an ask calls none)."""


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
    ask.add_argument(
        "--trace",
        action="store_true",
        help="also show the plan and every region's tokens and events, with times (stderr)",
    )
    ask.add_argument(
        "--image",
        metavar="PATH",
        type=image_path,
        help=f"a picture for the vision region to look at ({image_formats()})",
    )
    ask.add_argument(
        "--audio",
        metavar="PATH",
        type=audio_path,
        help=f"a recording ({RECORDING_FORMATS}): its transcript becomes or joins the question",
    )
    ask.add_argument("--speak", metavar="OUT.wav", help="also speak the answer into this WAV file")
    add_runtime_options(ask)
    ask.set_defaults(run=run)


def run(args: argparse.Namespace, output: JsonOutput) -> int:
    if not args.question.strip() and not args.audio:
        output.fail("the question is empty; ask something")
        return 2
    config = configured(args)
    from cortex.cli.printer import AnswerPrinter
    from cortex.runtime.cortex import Cortex  # imports Ray and torch: only when checks passed

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
        output.emit(record.model_dump(exclude=JSON_LEFT_OUT))
    else:
        printer.finish(record.answer)
        for note in record.notes:
            say(f"note: {note}")
        if record.spoken:
            say(f"spoke the answer ({record.spoken['seconds']} s) to {record.spoken['wav']}")
    return 0
