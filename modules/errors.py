"""Errors raised by regions and the model loader; all derive from `RegionError`."""

from __future__ import annotations


class RegionError(Exception):
    """Base class of every region error."""


class ModelNotFoundError(RegionError):
    """A model spec names nothing that can be loaded: no package, folder, cache or hub entry."""


class BadRequestError(RegionError, ValueError):
    """A request a region cannot work on: empty, too long for the model, or malformed."""


class ContextLengthError(BadRequestError):
    """A request's prompt fills the whole context its engine reserves per request."""


class EngineError(RegionError):
    """An inference engine cannot run: unknown, not installed, no CUDA, or its loop failed."""


def message_of(error: BaseException) -> str:
    """An error as a person reads it: the message of an error about input, a model or a file
    (a region's, a value's, the operating system's), in plain words; anything else, a bug,
    with its class as well, so that it can be looked up."""
    if isinstance(error, (RegionError, ValueError, OSError)) and str(error):
        return str(error)
    return f"{type(error).__name__}: {error}"
