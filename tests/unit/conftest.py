"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bus import InProcessBus


@pytest.fixture()
def bus() -> Iterator[InProcessBus]:
    """An in-process bus, closed after the test."""
    with InProcessBus() as in_process:
        yield in_process
