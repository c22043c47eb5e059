"""The suite's cost markers: collection refuses a test that uses a costly fixture or lives in a
costly folder without the marker that declares it, so `make test-fast` cannot slow down unseen."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).parents[1] / "conftest.py"
SETTINGS = '[tool.pytest.ini_options]\nmarkers = ["e2e: -", "model: -", "ray: -"]\n'

DECLARED = {
    "unit/test_plain.py": "def test_x(tmp_path): pass",
    "unit/test_bus.py": "@pytest.mark.ray\ndef test_x(proxy_endpoints): pass",
    "ray/test_cluster.py": "pytestmark = pytest.mark.ray\n\ndef test_x(ray_cluster): pass",
    "models/test_weights.py": "pytestmark = pytest.mark.model\n\ndef test_x(): pass",
}
"""Test files that declare their cost, or have none to declare."""

UNDECLARED = {
    "unit/test_proxy.py": ("def test_x(proxy_endpoints): pass", "uses ray_cluster", "ray"),
    "ray/test_actors.py": ("def test_x(ray_cluster): pass", "uses ray_cluster", "ray"),
    "ray/test_other.py": ("@pytest.mark.e2e\ndef test_x(): pass", "is in tests/ray", "ray"),
    "models/test_speech.py": ("def test_x(): pass", "is in tests/models", "model"),
}
"""Test files that leave their cost out: (test, why it costs, the marker it needs)."""


@pytest.fixture()
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose inner sessions load no installed plugins: they start in a moment."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester


def collect(pytester: pytest.Pytester, files: dict[str, str]) -> pytest.RunResult:
    """Collects (runs nothing) the files beside a copy of the suite's conftest."""
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyprojecttoml(SETTINGS)
    for path, test in files.items():
        target = pytester.path / path
        target.parent.mkdir(exist_ok=True)
        target.write_text(f"import pytest\n\n{test}\n")
    return pytester.runpytest("--collect-only", "-q")


def test_tests_that_declare_their_cost_or_have_none_are_collected(
    pytester: pytest.Pytester,
) -> None:
    collected = collect(pytester, DECLARED)
    assert collected.ret == pytest.ExitCode.OK
    collected.stdout.fnmatch_lines([f"{path}::test_x" for path in sorted(DECLARED)])


def test_each_test_without_the_marker_of_its_cost_is_named_and_collection_fails(
    pytester: pytest.Pytester,
) -> None:
    collected = collect(pytester, {**DECLARED, **{p: t for p, (t, _, _) in UNDECLARED.items()}})
    assert collected.ret == pytest.ExitCode.USAGE_ERROR
    named = [line for line in collected.stderr.lines if "::test_x: " in line]
    assert sorted(named) == sorted(
        f"{path}::test_x: {why}; mark it @pytest.mark.{marker}"
        for path, (_, why, marker) in UNDECLARED.items()
    )
