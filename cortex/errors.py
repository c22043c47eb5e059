"""Errors raised by Cortex's orchestration layer; all derive from `CortexError`."""

from __future__ import annotations


class CortexError(Exception):
    """Base class of every orchestration error."""


class ConfigError(CortexError, ValueError):
    """The configuration file or a field in it is invalid; the message names the field."""


class PlacementError(CortexError):
    """The cluster cannot host the configured regions (for instance, too few GPUs)."""


class TurnError(CortexError):
    """A conversation turn could not produce an answer; the message says which part failed."""


class TurnCancelled(TurnError):
    """A turn was cancelled by its caller (a client that went away); its regions were told to
    stop its subtasks."""


class ClusterAddressError(CortexError):
    """A Ray cluster's address is malformed, or nothing answers there; the message names the
    address and where it came from."""


class InputPathError(CortexError):
    """A file to read (a picture, a recording) is missing or is not what its region reads;
    checked before anything starts."""


class MissingFileError(ConfigError, InputPathError):
    """A configuration or experiment file given to a command does not exist or cannot be
    read: a usage error, as a missing picture is."""


class OutputPathError(CortexError):
    """A file or folder to write to cannot be written (a directory given for a file, a
    missing folder); checked before any model loads."""


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM); it shuts down as on Ctrl-C."""
