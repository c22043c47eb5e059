"""The errors `cortex serve` answers with, shaped as OpenAI's error objects."""

from __future__ import annotations

from typing import Literal

ErrorType = Literal["invalid_request_error", "authentication_error", "server_error"]


class ApiError(Exception):
    """A request the server refuses or could not answer, as an OpenAI error object:
    ``{"error": {"message", "type", "param", "code"}}``.

    Args:
        status: The HTTP status (400, 401, 404, 500...).
        message: What went wrong and what to do, for the client's user.
        kind: OpenAI's error ``type``.
        param: The request field at fault, if one is.
        code: A machine-readable code (``invalid_api_key``, ``context_length_exceeded``...).
    """

    def __init__(
        self,
        status: int,
        message: str,
        kind: ErrorType = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
