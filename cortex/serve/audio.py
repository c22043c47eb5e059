"""The speech region over OpenAI's audio API: a recording in, its words out; text in, a WAV out.

    POST /v1/audio/transcriptions   Whisper's multipart form: ``file``, ``model`` (whisper-1 or
                                    a speech instance), ``language`` (en), ``response_format``
                                    (json or text), ``temperature`` (0)
    POST /v1/audio/speech           JSON: ``model`` (tts-1, tts-1-hd or a speech instance),
                                    ``input``, ``voice`` (``default`` or the configured voice),
                                    ``response_format`` (wav), ``speed`` (1)

Any other field, or a value Cortex cannot honour, is a 400 naming it.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.datastructures import UploadFile

from cortex.runtime.brain import Brain
from cortex.serve.api import as_api_error
from cortex.serve.errors import ApiError

HEARING_MODELS = ("whisper-1",)
SPEAKING_MODELS = ("tts-1", "tts-1-hd")
TRANSCRIPTION_FIELDS = {"file", "model", "language", "response_format", "temperature"}
SPEECH_FIELDS = {"model", "input", "voice", "response_format", "speed"}
MAX_SPEECH_CHARS = 4096


def _speaker(brain: Brain, model: Any, aliases: tuple[str, ...]) -> str:
    """The speech instance a request's ``model`` names.

    Raises:
        ApiError: 404 when no speech region runs or the model is not one of its names.
    """
    speakers = [i.name for i in brain.instances if i.settings.kind == "speech"]
    if not speakers:
        raise ApiError(404, "no speech region runs in this configuration", param="model")
    if model in aliases:
        return speakers[0]
    if model not in speakers:
        names = ", ".join([*aliases, *speakers])
        raise ApiError(404, f"model: {model!r} does not exist here; use {names}", param="model",
                       code="model_not_found")  # fmt: skip
    return str(model)


def _refuse_unknown(fields: set[str], known: set[str]) -> None:
    for name in sorted(fields - known):
        raise ApiError(400, f"{name}: Cortex does not support this field", param=name,
                       code="unsupported")  # fmt: skip


def _check(holds: bool, param: str, message: str) -> None:
    if not holds:
        raise ApiError(400, f"{param}: {message}", param=param)


async def _request(brain: Brain, instance: str, **fields: str) -> dict[str, Any]:
    try:
        result = await asyncio.to_thread(brain.request, instance, **fields)
    except Exception as error:  # noqa: BLE001 - every failure goes to the client
        raise as_api_error(error) from None
    return dict(result.data)


def add_audio_routes(app: FastAPI, brain: Brain, folder: Path) -> None:
    """Adds the transcription and speech endpoints, with files kept in `folder`."""

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request) -> Response:
        form = await request.form()
        _refuse_unknown(set(form.keys()), TRANSCRIPTION_FIELDS)
        instance = _speaker(brain, form.get("model"), HEARING_MODELS)
        upload = form.get("file")
        _check(isinstance(upload, UploadFile), "file", "attach the recording as a file")
        assert isinstance(upload, UploadFile)
        _check(form.get("language", "en") == "en", "language", "the speech model hears English")
        text_format = form.get("response_format", "json")
        _check(text_format in ("json", "text"), "response_format", "json or text")
        _check(
            float(str(form.get("temperature", 0)) or 0) == 0,
            "temperature",
            "Whisper decodes greedily here: 0",
        )
        suffix = Path(upload.filename or "audio").suffix or ".wav"
        with tempfile.NamedTemporaryFile(dir=folder, suffix=suffix, delete=False) as file:
            file.write(await upload.read())
        try:
            data = await _request(brain, instance, audio_path=file.name)
        finally:
            Path(file.name).unlink(missing_ok=True)
        text = str(data.get("text", ""))
        return PlainTextResponse(text) if text_format == "text" else JSONResponse({"text": text})

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ApiError(400, f"the body is not valid JSON: {error}") from None
        _check(isinstance(body, dict), "body", "a JSON object")
        _refuse_unknown(set(body), SPEECH_FIELDS)
        instance = _speaker(brain, body.get("model"), SPEAKING_MODELS)
        text = body.get("input")
        _check(isinstance(text, str) and bool(text.strip()), "input", "give the text to speak")
        _check(len(text) <= MAX_SPEECH_CHARS, "input", f"at most {MAX_SPEECH_CHARS} characters")
        voice = next(i.settings.options.get("voice") for i in brain.instances if i.name == instance)
        _check(body.get("voice", "default") in ("default", voice), "voice",
               f"this server speaks with {voice!r}: send voice 'default' or {voice!r}")  # fmt: skip
        _check(body.get("response_format", "wav") == "wav", "response_format", "wav only")
        _check(body.get("speed", 1) == 1, "speed", "only 1 (the voice's own pace)")
        target = Path(tempfile.mkstemp(dir=folder, suffix=".wav")[1])
        try:
            await _request(brain, instance, instruction=text, output_path=str(target))
            return Response(target.read_bytes(), media_type="audio/wav")
        finally:
            target.unlink(missing_ok=True)
