"""A request's messages as a turn reads them: the system prompt, the conversation, the question,
and the pictures and recordings it carries.

System and developer messages become the system prompt. Assistant tool calls and ``tool``
results are written out as text, so every model reads them. Content parts: ``text`` is read;
``image_url`` (a ``data:`` URL, or an http(s) URL when the server may fetch) and
``input_audio`` (base64 WAV or MP3) are written to files for the vision and speech regions.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cortex.serve.errors import ApiError
from cortex.serve.fields import ChatMessage, ChatRequest

AUDIO_FORMATS = ("wav", "mp3")
MAX_MEDIA_BYTES = 20 * 1024 * 1024
FETCH_TIMEOUT_S = 20


@dataclass
class Conversation:
    """What the messages say, ready for a turn or a region."""

    question: str
    """The last user message's text (for a conversation that ends in tool results: the user
    message before them)."""
    system: str = ""
    history: list[tuple[str, str]] = field(default_factory=list)
    """Earlier (user, assistant) exchanges, oldest first."""
    tool_results: str = ""
    """Tool calls and their results after the question, as text."""
    images: list[Path] = field(default_factory=list)
    recordings: list[Path] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [*self.images, *self.recordings]

    @property
    def instruction(self) -> str:
        """The question with any tool results after it: what the model answers now."""
        return "\n\n".join(part for part in (self.question, self.tool_results) if part)


@dataclass
class _Reader:
    folder: Path
    may_fetch: bool
    images: list[Path] = field(default_factory=list)
    recordings: list[Path] = field(default_factory=list)

    def text(self, message: ChatMessage, index: int) -> str:
        """A message's text; its media parts are saved as files."""
        if message.content is None or isinstance(message.content, str):
            return message.content or ""
        texts = []
        for number, part in enumerate(message.content):
            param = f"messages.{index}.content.{number}"
            kind = part.get("type")
            if kind == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif kind == "image_url":
                self.images.append(self._image(part.get("image_url"), param))
            elif kind == "input_audio":
                self.recordings.append(self._audio(part.get("input_audio"), param))
            else:
                raise ApiError(
                    400,
                    f"{param}: parts are text, image_url or input_audio, not {kind!r}",
                    param=param,
                )
        return "".join(texts)

    def _image(self, image: Any, param: str) -> Path:
        url = image.get("url") if isinstance(image, dict) else None
        if not isinstance(url, str):
            raise ApiError(400, f"{param}.image_url.url: give the picture's URL", param=param)
        if image.get("detail", "auto") != "auto":  # the vision region looks at one size only
            raise ApiError(
                400,
                f"{param}.image_url.detail: the vision region has one resolution; leave detail "
                "out or give 'auto'",
                param=f"{param}.image_url.detail",
            )
        if set(image) - {"url", "detail"}:
            unknown = sorted(set(image) - {"url", "detail"})
            raise ApiError(400, f"{param}.image_url: unknown fields {unknown}", param=param)
        if url.startswith("data:"):
            header, _, payload = url.partition(",")
            if ";base64" not in header:
                raise ApiError(
                    400,
                    f"{param}: a data URL must be base64 (data:image/png;base64,...)",
                    param=param,
                )
            return self._save(_base64(payload, param), ".img")
        if url.startswith(("http://", "https://")):
            if not self.may_fetch:
                raise ApiError(
                    400,
                    f"{param}: this server does not fetch URLs; send the picture as a data URL "
                    "(data:image/jpeg;base64,...), or start it with `cortex serve --allow-fetch`",
                    param=param,
                )
            return self._save(_fetch(url, param), ".img")
        raise ApiError(400, f"{param}: the picture's URL is data:, http: or https:", param=param)

    def _audio(self, audio: Any, param: str) -> Path:
        if not isinstance(audio, dict) or audio.get("format") not in AUDIO_FORMATS:
            raise ApiError(
                400, f"{param}.input_audio: give data (base64) and format (wav or mp3)", param=param
            )
        return self._save(_base64(str(audio.get("data", "")), param), f".{audio['format']}")

    def _save(self, data: bytes, suffix: str) -> Path:
        if len(data) > MAX_MEDIA_BYTES:
            raise ApiError(
                400, f"a media part is over {MAX_MEDIA_BYTES // 2**20} MiB", param="messages"
            )
        with tempfile.NamedTemporaryFile(dir=self.folder, suffix=suffix, delete=False) as file:
            file.write(data)
        return Path(file.name)


def _base64(payload: str, param: str) -> bytes:
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"{param}: the data is not valid base64", param=param) from None


def _fetch(url: str, param: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:
            data: bytes = response.read(MAX_MEDIA_BYTES + 1)
            return data
    except (urllib.error.URLError, OSError) as error:
        raise ApiError(400, f"{param}: could not fetch {url}: {error}", param=param) from None


def read_conversation(chat: ChatRequest, folder: Path, may_fetch: bool = False) -> Conversation:
    """The request's conversation; media parts are saved in `folder`.

    Raises:
        ApiError: 400 when no user message comes last (tool results may follow it), its text
            is empty and it carries no recording, or a part cannot be read.
    """
    reader = _Reader(folder, may_fetch)
    system: list[str] = []
    turns: list[tuple[str, str]] = []  # (user or assistant, text), consecutive ones merged
    for index, message in enumerate(chat.messages):
        text = reader.text(message, index)
        if message.role in ("system", "developer"):
            system.append(text)
            continue
        role = "assistant" if message.role == "assistant" else "user"
        if message.role == "assistant" and message.tool_calls:
            text = "\n".join([text, *map(_call_text, message.tool_calls)]).strip()
        elif message.role == "tool":
            text = f"The tool call {message.tool_call_id or ''} returned: {text}".replace("  ", " ")
        if turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]}\n\n{text}")
        else:
            turns.append((role, text))
    return _conversation(chat, turns, "\n\n".join(system), reader)


def _conversation(
    chat: ChatRequest, turns: list[tuple[str, str]], system: str, reader: _Reader
) -> Conversation:
    """The question, the earlier exchanges and any tool results after the question."""
    last = chat.messages[-1].role
    tail = 2 if last == "tool" else 0  # the assistant's calls, then their results
    if last not in ("user", "tool") or len(turns) < tail + 1 or turns[-tail - 1][0] != "user":
        raise ApiError(
            400, "the last message must be the user's, or tool results after it", param="messages"
        )
    question = turns[-tail - 1][1]
    if not question.strip() and not reader.recordings:
        raise ApiError(400, "the last user message has no text", param="messages")
    results = "\n\n".join(text for _, text in turns[len(turns) - tail :])
    history: list[tuple[str, str]] = []
    asked: str | None = None
    for role, text in turns[: -tail - 1]:
        if role == "user":
            if asked is not None:
                history.append((asked, ""))
            asked = text
        else:
            history.append((asked or "", text))
            asked = None
    if asked is not None:
        history.append((asked, ""))
    return Conversation(question, system, history, results, reader.images, reader.recordings)


def _call_text(call: dict[str, Any]) -> str:
    """An assistant's tool call as text: ``Called NAME(ARGUMENTS) as ID.``"""
    function = call.get("function") or {}
    name, arguments = function.get("name", "?"), function.get("arguments", "{}")
    return f"Called the tool {name} with {arguments} (call {call.get('id', '')})."
