"""The `cortex` command line: `ask`, `chat`, `status`, `run`, `replay` and their options."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bus.errors import BusError
from bus.protocol import Event, Token
from bus.tokenbus import Delivery
from bus.topics import as_topic
from cortex.brain import Brain, StartupEvent
from cortex.config import CortexConfig, load_config
from cortex.console import JsonOutput, sigterm_as_interrupt
from cortex.errors import CortexError, Terminated
from cortex.outputs import writable_file, writable_folder
from modules.errors import RegionError
from tui.commands import CommandError, pasted_path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cortex",
        description="Cortex: model regions on their own devices, talking in tokens over a bus.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask = commands.add_parser(
        "ask",
        help="answer one question and exit",
        description="Plan the question, decode its parts on the regions at once, print the answer.",
    )
    ask.add_argument(
        "question",
        nargs="?",
        default="",
        type=_typed_text,
        help="what to ask (may be empty with --audio)",
    )
    ask.add_argument("--json", action="store_true", help="print one JSON record instead of text")
    ask.add_argument("--trace", action="store_true", help="also stream every region's tokens")
    ask.add_argument(
        "--image",
        metavar="PATH",
        type=_media_path,
        help="a picture for the vision region to look at",
    )
    ask.add_argument(
        "--audio",
        metavar="PATH",
        type=_media_path,
        help="a recording: its transcript becomes or joins the question",
    )
    ask.add_argument("--speak", metavar="OUT.wav", help="also speak the answer into this WAV file")
    _add_runtime_options(ask)

    see = commands.add_parser(
        "see",
        help="say what an image shows (the vision region alone)",
        description="Run the configuration's vision region on one image and print its labels.",
    )
    see.add_argument("image", type=_media_path, help="a PNG, JPEG or WebP file")
    see.add_argument(
        "--json", action="store_true", help='print {"labels": [...], "description": ...}'
    )
    _add_runtime_options(see)

    hear = commands.add_parser(
        "hear",
        help="transcribe a recording (the speech region alone)",
        description="Run the configuration's speech region on one recording; print the transcript.",
    )
    hear.add_argument(
        "audio", type=_media_path, help="a WAV, FLAC or OGG file (any rate, mono or stereo)"
    )
    hear.add_argument("--json", action="store_true", help='print {"text": ...}')
    _add_runtime_options(hear)

    say = commands.add_parser(
        "say",
        help="speak text into a WAV file (the speech region alone)",
        description="Run the configuration's speech region to speak TEXT into a WAV file.",
    )
    say.add_argument("text", type=_typed_text, help="what to say")
    say.add_argument("--out", required=True, metavar="WAV", help="the WAV file to write")
    _add_runtime_options(say)

    chat = commands.add_parser(
        "chat",
        help="open the terminal conversation",
        description="Watch the plan form and every region stream while you talk to Cortex.",
    )
    chat.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="SESSION",
        help="continue a past session: pick one from a list, or give its log file",
    )
    _add_runtime_options(chat)

    run = commands.add_parser(
        "run",
        help="run an experiment: sequential vs pipeline vs concurrent",
        description="Run an experiment file's modes on the Ray cluster, print a summary, and "
        "write results.json, results.csv and timeline.png.",
    )
    run.add_argument("experiment", help="an experiment file (see experiments/*.toml)")
    run.add_argument("--out", metavar="DIR", help="where to write results (default: runs/NAME)")
    run.add_argument("--json", action="store_true", help="print the results as JSON")

    replay = commands.add_parser(
        "replay",
        help="draw the timeline of a recorded session",
        description="Draw one lane per device, busy spans coloured by region, from a session's "
        "bus log (the .bus file beside its session log).",
    )
    replay.add_argument("log", help="a bus log (SESSION.bus)")
    replay.add_argument("--out", metavar="PNG", help="the picture (default: LOG with .png)")

    serve = commands.add_parser(
        "serve",
        help="serve the OpenAI Chat Completions API",
        description="Start the regions and answer OpenAI Chat Completions requests over HTTP: "
        "model 'cortex' is the whole brain, each text region instance is a model of its own.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--api-key", metavar="KEY", help="require 'Authorization: Bearer KEY' on every request"
    )
    _add_runtime_options(serve)

    status = commands.add_parser(
        "status",
        help="show a running Cortex: devices, regions, bus",
        description="Attach to the running Ray cluster and show every region's device, state, "
        "tokens per second and busy fraction, the bus's rate and latency, and the dashboard.",
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.add_argument("--config", metavar="PATH", help="the cortex.toml Cortex was started with")
    status.add_argument(
        "--namespace",
        type=_typed_text,
        help="the Ray namespace of the regions (default: the configuration's)",
    )
    status.add_argument(
        "--address",
        metavar="HOST:PORT",
        type=_typed_text,
        help="the Ray cluster (default: the one on this machine)",
    )
    return parser


def _add_runtime_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--config", metavar="PATH", help="a cortex.toml (default: the shipped one)"
    )
    command.add_argument(
        "--address",
        metavar="HOST:PORT",
        type=_typed_text,
        help="attach to a running Ray cluster instead of a local one",
    )
    command.add_argument(
        "--device",
        choices=["auto", "gpu", "cpu"],
        help="override the configuration's device policy",
    )
    command.add_argument("--session", metavar="PATH", help="append turns to this session log")
    command.add_argument(
        "--dashboard",
        action="store_true",
        help="start Ray's dashboard with the local cluster (on runtime.dashboard_host)",
    )


def _typed_text(value: str) -> str:
    """Command-line text as Unicode that can travel: the bytes of it the locale could not
    decode (Python keeps them as surrogate escapes) are read as UTF-8, and any that are not
    UTF-8 either (a Latin-1 terminal's ``é``) become U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _media_path(value: str) -> str:
    """A media path as given or pasted: quoted, backslash-escaped or a ``file://`` URL. It
    travels to its region on the bus, so its name must be UTF-8."""
    try:
        path = str(pasted_path(value))
    except CommandError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if path != _typed_text(path):
        raise argparse.ArgumentTypeError(
            f"{_typed_text(path)}: the file's name is not UTF-8; rename the file"
        )
    return path


def main(argv: list[str] | None = None) -> int:
    if argv is None and any(_typed_text(arg) != arg for arg in sys.argv):
        # Ray records this process's command line (from /proc) as UTF-8, and a byte that is
        # not (a Latin-1 terminal's "é") would stop it: run again with the arguments as read.
        typed = [_typed_text(arg) for arg in sys.argv[1:]]
        os.execv(sys.executable, [sys.executable, "-m", "cortex.cli", *typed])
    args = build_parser().parse_args(argv)
    output = JsonOutput(getattr(args, "json", False))
    with sigterm_as_interrupt(), output:
        try:
            _check_outputs(args)
            return _run(args, output)
        except (CortexError, RegionError, BusError) as error:
            output.fail(str(error))
            return 1
        except KeyboardInterrupt:
            output.fail("interrupted; everything this command started is stopped")
            return 130
        except Terminated:
            output.fail("terminated (SIGTERM); everything this command started is stopped")
            return 128 + signal.SIGTERM


def _run(args: argparse.Namespace, output: JsonOutput) -> int:
    if args.command == "ask":
        return _ask(args, output)
    if args.command in ("see", "hear", "say"):
        return _one_region(args, output)
    if args.command == "status":
        return _status_command(args, output)
    if args.command == "run":
        return _run_experiment(args, output)
    if args.command == "replay":
        return _replay(args)
    if args.command == "serve":
        return _serve(args)
    return _chat(args)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuses, before anything starts, the paths a command could not write its output to."""
    if getattr(args, "session", None):
        writable_file(args.session, "--session", "session.jsonl")
    if getattr(args, "speak", None):
        writable_file(args.speak, "--speak", "answer.wav")
    if getattr(args, "out", None):
        if args.command == "run":
            writable_folder(args.out, "--out")
        else:
            example = "speech.wav" if args.command == "say" else "timeline.png"
            writable_file(args.out, "--out", example)


def _config(args: argparse.Namespace) -> CortexConfig:
    config = load_config(args.config)
    overrides: dict[str, Any] = {"device": args.device} if args.device else {}
    if args.dashboard:
        overrides["dashboard"] = True
    if overrides:
        config = config.model_copy(update={"runtime": config.runtime.model_copy(update=overrides)})
    return config


def _run_experiment(args: argparse.Namespace, output: JsonOutput) -> int:
    from cortex.experiments import load_experiment, run  # imports Ray

    spec = load_experiment(args.experiment)
    out = Path(args.out) if args.out else Path("runs") / spec.name
    results = run(spec, out)
    if args.json:
        output.emit(results.to_json())
    else:
        print(results.table())
        _status(f"results in {out}/ (results.json, results.csv, timeline.png)")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from cortex.experiments.replay import replay

    print(f"wrote {replay(args.log, args.out)}")
    return 0


def _status_command(args: argparse.Namespace, output: JsonOutput) -> int:
    from cortex.status import (  # imports Ray
        attach,
        collect_status,
        format_status,
        running_cortexes,
    )

    base = load_config(args.config).runtime.namespace
    dashboard = attach(args.address, args.namespace or base)
    running = [args.namespace] if args.namespace else running_cortexes(base) or [base]
    status = collect_status(running[0], dashboard) | {"also_running": running[1:]}
    if not status["regions"]:
        _status(f"no Cortex regions run in Ray namespace {running[0]!r}")
    if args.json:
        output.emit(status)
    else:
        print(format_status(status))
    return 0


def _chat(args: argparse.Namespace) -> int:
    from tui.app import CortexApp
    from tui.terminal import terminal_problem

    if problem := terminal_problem():
        print(f"cortex: {problem}", file=sys.stderr)
        return 2
    config = _config(args)
    resume: bool | Path = (
        Path(args.resume).expanduser() if isinstance(args.resume, str) else args.resume
    )
    if isinstance(resume, Path) and not resume.is_file():
        print(f"cortex: no session log at {resume}", file=sys.stderr)
        return 2

    def make_brain() -> Brain:
        from cortex.runtime import Cortex  # imports Ray and torch, off the screen's thread

        return Cortex(config, address=args.address, session_log=args.session)

    CortexApp(make_brain, resume=resume).run()
    return 0


def _ask(args: argparse.Namespace, output: JsonOutput) -> int:
    from cortex.runtime import Cortex  # imports Ray and torch: only when a brain is needed

    if not args.question.strip() and not args.audio:
        output.fail("the question is empty; ask something")
        return 2
    config = _config(args)
    printer = AnswerPrinter(trace=args.trace, quiet=args.json)
    with Cortex(
        config, address=args.address, session_log=args.session, progress=_progress
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
            _status(f"note: {note}")
        if record.spoken:
            _status(f"spoke the answer ({record.spoken['seconds']} s) to {record.spoken['wav']}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from cortex.runtime import Cortex
    from cortex.server import check_listen, serve, served_models

    check_listen(args.host, args.port)
    config = _config(args)
    with Cortex(
        config, address=args.address, session_log=args.session, progress=_progress
    ) as brain:
        _status(
            f"serving {', '.join(served_models(brain))} on http://{args.host}:{args.port}/v1"
            + (" (API key required)" if args.api_key else "")
        )
        serve(brain, args.host, args.port, args.api_key)
    return 0


def _single_region(config: CortexConfig, kind: str) -> str:
    """The name of the configuration's region of `kind`."""
    names = [name for name, region in config.regions.items() if region.kind == kind]
    if not names:
        raise CortexError(f"the configuration has no {kind} region; add a [regions.{kind}] table")
    return names[0]


def _one_region(args: argparse.Namespace, output: JsonOutput) -> int:
    """`see`, `hear` and `say`: one region as a Ray actor, with the configuration's settings."""
    from cortex.runtime import Cortex

    config = _config(args)
    kind = "vision" if args.command == "see" else "speech"
    region = _single_region(config, kind)
    if args.command == "say" and not args.text.strip():
        print("cortex: there is nothing to say; give some text", file=sys.stderr)
        return 2
    media = {
        "see": {"image_path": getattr(args, "image", None)},
        "hear": {"audio_path": getattr(args, "audio", None)},
        "say": {"output_path": getattr(args, "out", None)},
    }[args.command]
    with Cortex(config, address=args.address, progress=_progress, only={region}) as brain:
        result = brain.request(brain.instances[0].name, getattr(args, "text", ""), **media)
    _print_result(args, output, result.data)
    return 0


def _print_result(args: argparse.Namespace, output: JsonOutput, data: dict[str, Any]) -> None:
    if args.command == "say":
        print(f"wrote {data['seconds']:.1f} s of speech to {data['wav']}")
    elif args.json and args.command == "hear":
        output.emit({"text": data["text"], "notes": data.get("notes", [])})
    elif args.json:
        output.emit(data)
    elif args.command == "hear":
        for note in data.get("notes", []):
            _status(f"note: {note}")
        print(data["text"] or data.get("note", ""))
    else:
        for label in data["labels"]:
            print(f"{label['score']:6.3f}  {label['label']}")
        print(data["description"])


def _status(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _progress(event: StartupEvent) -> None:
    if event.state != "loading":
        _status(event.message)


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
            _status(f"{at:8.3f}s {region:<12} {message.text!r}")
        elif isinstance(message, Event):
            _status(f"{at:8.3f}s {region:<12} [{message.code}] {message.detail}")


if __name__ == "__main__":
    sys.exit(main())
