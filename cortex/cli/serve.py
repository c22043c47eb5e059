"""`cortex serve`: the OpenAI API (chat completions, audio) over the regions."""

from __future__ import annotations

import argparse
from typing import Any

from cortex.cli.console import JsonOutput
from cortex.cli.options import add_runtime_options, configured, progress, say


def add_parser(commands: Any) -> None:
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
    serve.add_argument(
        "--cors-origin",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="let web pages from ORIGIN (https://chat.example.org, or *) call the API; "
        "repeatable; none by default",
    )
    serve.add_argument(
        "--allow-fetch",
        action="store_true",
        help="fetch pictures given by http(s) URLs (otherwise only data: URLs are read)",
    )
    add_runtime_options(serve)
    serve.set_defaults(run=run)


def run(args: argparse.Namespace, output: JsonOutput) -> int:
    from cortex.runtime.cortex import Cortex
    from cortex.serve.server import check_listen, serve, served_models

    check_listen(args.host, args.port)
    config = configured(args)
    with Cortex(
        config, address=args.address, session_log=args.session, progress=progress
    ) as brain:
        say(
            f"serving {', '.join(served_models(brain))} on http://{args.host}:{args.port}/v1"
            + (" (API key required)" if args.api_key else "")
        )
        serve(
            brain,
            args.host,
            args.port,
            api_key=args.api_key,
            cors_origins=tuple(args.cors_origin),
            allow_fetch=args.allow_fetch,
        )
    return 0
