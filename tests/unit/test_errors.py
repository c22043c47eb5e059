"""How a region that failed to start is said: in plain words where the error is about input,
a model or a file, with its class where it is a bug."""

from __future__ import annotations

from cortex.runtime.cortex import _cause

TRACEBACK = """ray.exceptions.ActorDiedError: The actor died because of an error raised in its constructor.
  File "modules/models.py", line 90, in resolve
{last}"""  # noqa: E501 - as Ray writes it


def test_a_region_error_in_a_died_actors_traceback_is_said_plainly() -> None:
    last = "modules.errors.ModelNotFoundError: no model 'org/none' in the hub cache; download it"
    said = _cause(RuntimeError(TRACEBACK.format(last=last)))
    assert said == "no model 'org/none' in the hub cache; download it"


def test_a_bug_keeps_its_class() -> None:
    last = "KeyError: 'layers'"
    assert _cause(RuntimeError(TRACEBACK.format(last=last))) == last
