"""`cortex serve` on the command line: its options, and a port it cannot listen on refused in
one line before any model loads."""

from __future__ import annotations

import socket

import pytest

from cortex.cli import build_parser
from tests.helpers import cortex_cli


def test_serve_listens_on_loopback_port_8000_by_default() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.api_key) == ("127.0.0.1", 8000, None)
    args = build_parser().parse_args(["serve", "--port", "9000", "--api-key", "k"])
    assert (args.port, args.api_key) == (9000, "k")


@pytest.mark.e2e
def test_a_taken_port_is_one_line_before_anything_loads() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        ran = cortex_cli("serve", "--port", str(port), timeout=60)
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [
        f"cortex: cannot listen on 127.0.0.1:{port}: Address already in use; pick another --port"
    ]
