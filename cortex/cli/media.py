"""`cortex see`, `cortex hear` and `cortex say`: one media region alone, as a Ray actor."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

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
from cortex.errors import CortexError
from modules.media.formats import RECORDING_FORMATS, image_formats

if TYPE_CHECKING:
    from cortex.config import CortexConfig


def add_parsers(commands: Any) -> None:
    see = commands.add_parser(
        "see",
        help="say what an image shows (the vision region alone)",
        description="Run the configuration's vision region on one image and print its labels.",
    )
    see.add_argument("image", type=image_path, help=f"a picture: {image_formats()}")
    see.add_argument(
        "--json", action="store_true", help='print {"labels": [...], "description": ...}'
    )
    hear = commands.add_parser(
        "hear",
        help="transcribe a recording (the speech region alone)",
        description="Run the configuration's speech region on one recording; print the transcript.",
    )
    hear.add_argument(
        "audio",
        type=audio_path,
        help=f"a recording: {RECORDING_FORMATS} (any rate, any number of channels)",
    )
    hear.add_argument("--json", action="store_true", help='print {"text": ...}')
    speak = commands.add_parser(
        "say",
        help="speak text into a WAV file (the speech region alone)",
        description="Run the configuration's speech region to speak TEXT into a WAV file.",
    )
    speak.add_argument("text", type=typed_text, help="what to say")
    speak.add_argument("--out", required=True, metavar="WAV", help="the WAV file to write")
    for command in (see, hear, speak):
        add_runtime_options(command)
        command.set_defaults(run=run)


def run(args: argparse.Namespace, output: JsonOutput) -> int:
    if args.command == "say" and not args.text.strip():
        print("cortex: there is nothing to say; give some text", file=sys.stderr)
        return 2
    config = configured(args)
    kind = "vision" if args.command == "see" else "speech"
    region = _single_region(config, kind)
    from cortex.runtime.cortex import Cortex  # imports Ray and torch: only when checks passed
    media = {
        "see": {"image_path": getattr(args, "image", None)},
        "hear": {"audio_path": getattr(args, "audio", None)},
        "say": {"output_path": getattr(args, "out", None)},
    }[args.command]
    with Cortex(config, address=args.address, progress=progress, only={region}) as brain:
        result = brain.request(brain.instances[0].name, getattr(args, "text", ""), **media)
    _print_result(args, output, result.data)
    return 0


def _single_region(config: CortexConfig, kind: str) -> str:
    """The name of the configuration's region of `kind`."""
    names = [name for name, region in config.regions.items() if region.kind == kind]
    if not names:
        raise CortexError(f"the configuration has no {kind} region; add a [regions.{kind}] table")
    return names[0]


def _print_result(args: argparse.Namespace, output: JsonOutput, data: dict[str, Any]) -> None:
    if args.command == "say":
        print(f"wrote {data['seconds']:.1f} s of speech to {data['wav']}")
    elif args.json and args.command == "hear":
        output.emit({"text": data["text"], "notes": data.get("notes", [])})
    elif args.json:
        output.emit(data)
    elif args.command == "hear":
        for note in data.get("notes", []):
            say(f"note: {note}")
        print(data["text"] or data.get("note", ""))
    else:
        for label in data["labels"]:
            print(f"{label['score']:6.3f}  {label['label']}")
        print(data["description"])
