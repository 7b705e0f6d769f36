"""OpenAI / Azure OpenAI audio routes: text to speech, transcription and translation.

Routes (each through :meth:`.routes.ProviderRoutes.serve`: recorded, one fault, auth, Azure's
``api-version``):

* ``POST /v1/audio/speech``, ``/v1/audio/transcriptions``, ``/v1/audio/translations``;
* Azure ``POST /openai/deployments/{deployment}/audio/...`` (the deployment names the model) and,
  when the simulator plays no other host, ``POST /openai/v1/audio/...`` (model in the body).

**Speech** validates the JSON body like the API (``model``, ``input`` of at most 4096 characters,
``voice`` per model, ``response_format``, ``speed`` 0.25-4, ``instructions`` and
``stream_format: "sse"`` only for gpt-4o-mini-tts, no unknown field) and answers real audio (see
:mod:`.audio_files`: a tone in wav / pcm / flac, silence in mp3 / opus / aac) whose length scales
with the text, always as a chunked body written in several pieces (as the API streams it). With
``stream_format: "sse"`` the same bytes come as ``speech.audio.delta`` events (base64) followed by
``speech.audio.done`` with token usage.

Models are known by name (``tts``, ``mini-tts``, ``whisper``, ``transcribe`` in it); a name
that is none of these is refused (400; an Azure deployment route: 404 ``DeploymentNotFound``),
except an Azure deployment named after no OpenAI model, which may serve anything and is taken as
the most permissive model (gpt-4o-mini-tts, whisper-1).

**Transcription / translation** parse the ``multipart/form-data`` upload and validate it like the
API (missing ``file`` or ``model``: 400; a model that does not transcribe, or translation with any
model but whisper-1: 400; an unsupported file extension or unrecognisable audio: 400; more than
25 MB: 413; ``response_format`` per model; ``timestamp_granularities[]`` only with
``verbose_json``). The transcript is deterministic: words from a fixed list, about 2.5 a second of
audio (length read from WAV, FLAC, MP3 and Ogg Opus files, else estimated from the size), with
evenly spaced segment and word timestamps; whisper-1 reports ``usage`` by duration, the
gpt-4o transcribe models by tokens.

Faults: ``status`` / ``body`` / ``delay`` / ``drop`` before the headers act as on every route. On
speech (a streamed answer): ``drop`` after the headers cuts the connection (before the first
piece, or after it), ``stall`` pauses at ``at``, ``truncate_stream`` ends the body cleanly after
half of it (with ``sse``: without ``speech.audio.done``), ``error_event`` answers an in-body error
(an ``error`` event with ``sse``, else a 200 JSON error body). On transcription the JSON body
faults of every non-streamed route apply (``malformed_json``, ``stall``, ``truncate_stream``,
``error_event``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import audio_files
from .faults import Fault
from .openai_request import is_openai_model, unparseable_body
from .openai_wire import Rejection, azure_error, error_envelope
from .responder import drop_connection, fault_error_body, send_body

if TYPE_CHECKING:
    from .routes import Family, ProviderRoutes

__all__ = ["add_routes"]

_SPEECH_VOICES = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")
_STEERABLE_VOICES = (*_SPEECH_VOICES[:2], "ballad", *_SPEECH_VOICES[2:], "verse", "marin", "cedar")
_SPEECH_FIELDS = ("model", "input", "voice", "instructions", "response_format", "speed", "stream_format")
_MAX_INPUT = 4096
_MAX_UPLOAD = 25 * 1024 * 1024
_PIECES = 4  # a speech body is written in at least this many pieces ...
_PIECE_BYTES = 16 * 1024  # ... of at most this many bytes
_PIECE_PAUSE = 0.002  # seconds between the pieces of a speech body (so that they arrive apart)
#: the words of every transcript, in turn.
_WORDS: tuple[str, ...] = ("the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog")
_WORDS += ("while", "simulated", "speech", "keeps", "talking")
_WORDS_PER_SECOND = 2.5
_WORDS_PER_SEGMENT = 8
_LANGUAGES = {
    "en": "english",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "ja": "japanese",
    "zh": "chinese",
}
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True, slots=True)
class _SpeechModel:
    voices: tuple[str, ...]
    steerable: bool  # instructions and stream_format "sse"


@dataclass(frozen=True, slots=True)
class _TranscribeModel:
    formats: tuple[str, ...]
    translates: bool
    tokens: bool  # usage in tokens (else in seconds)


_TTS = _SpeechModel(_SPEECH_VOICES, steerable=False)
_STEERABLE_TTS = _SpeechModel(_STEERABLE_VOICES, steerable=True)
_WHISPER = _TranscribeModel(("json", "text", "srt", "verbose_json", "vtt"), translates=True, tokens=False)
_GPT_TRANSCRIBE = _TranscribeModel(("json", "text"), translates=False, tokens=True)


def _speech_model(name: str, family: Family) -> _SpeechModel | None:
    """The speech model ``name`` is, by its name. On Azure a deployment may have any name: one that
    names no OpenAI model is taken as gpt-4o-mini-tts (the most permissive)."""
    if "mini-tts" in name or (name.startswith("gpt-") and name.endswith("-tts")):
        return _STEERABLE_TTS
    if "tts" in name:
        return _TTS
    return _STEERABLE_TTS if family == "azure" and not is_openai_model(name) else None


def _transcribe_model(name: str, family: Family) -> _TranscribeModel | None:
    """The speech-to-text model ``name`` is; an Azure deployment named after no OpenAI model is
    taken as whisper-1 (the most permissive)."""
    if "whisper" in name:
        return _WHISPER
    if "transcribe" in name:
        return _GPT_TRANSCRIBE
    return _WHISPER if family == "azure" and not is_openai_model(name) else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the audio routes to ``app``."""
    audio = _AudioRoutes(routes)
    for operation, handle in (
        ("speech", audio.speech),
        ("transcriptions", audio.transcriptions),
        ("translations", audio.translations),
    ):
        app.router.add_post(f"/v1/audio/{operation}", _route(handle, "openai", False))
        app.router.add_post(
            f"/openai/deployments/{{deployment}}/audio/{operation}", _route(handle, "azure", True)
        )
        if routes.azure_v1:
            app.router.add_post(f"/openai/v1/audio/{operation}", _route(handle, "azure", False))


def _route(
    handle: Callable[[web.Request, Family, str | None], Awaitable[web.StreamResponse]],
    family: Family,
    deployment: bool,
) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await handle(request, family, request.match_info["deployment"] if deployment else None)

    return handler


def _reject(message: str, param: str | None = None, code: str | None = None, status: int = 400) -> Rejection:
    return Rejection(status, error_envelope(message, param=param, code=code))


def _unknown_model(name: Any, family: Family, deployment: str | None, what: str) -> Rejection:
    if deployment is not None:
        return Rejection(
            404,
            azure_error(
                "DeploymentNotFound",
                f"The API deployment {deployment} does not exist or does not support {what}.",
            ),
        )
    return _reject(f"Invalid model {name}: it does not support {what}.", "model", "model_not_found")


class _AudioRoutes:
    def __init__(self, routes: ProviderRoutes) -> None:
        self._routes = routes

    @property
    def _pause(self) -> float:
        return max(_PIECE_PAUSE, float(getattr(self._routes, "_chunk_delay", 0.0)))

    # ------------------------------------------------------------------ speech

    async def speech(
        self, request: web.Request, family: Family, deployment: str | None
    ) -> web.StreamResponse:
        async def produce(
            n: int, body: Any, headers: dict[str, str], fault: Fault | None
        ) -> web.StreamResponse:
            fmt, text, speed, sse = _check_speech(body, family, deployment)
            audio = audio_files.render(fmt, audio_files.speech_seconds(text, speed))
            if sse:
                usage = _speech_usage(text, body.get("instructions"), audio_files.speech_seconds(text, speed))
                return await self._speech_events(request, audio, usage, headers, fault)
            content_type = audio_files.MEDIA_TYPES[fmt]
            return await self._speech_bytes(request, audio, content_type, headers, fault)

        return await self._routes.serve(request, family, deployment, produce, stream=True)

    async def _speech_bytes(
        self,
        request: web.Request,
        audio: bytes,
        content_type: str,
        headers: dict[str, str],
        fault: Fault | None,
    ) -> web.StreamResponse:
        if fault is not None and fault.error_event:
            error = fault_error_body(fault)
            data = json.dumps(error, separators=(",", ":")).encode()
            return web.Response(
                status=200, body=data, headers={**headers, "Content-Type": "application/json"}
            )
        pieces = _split(audio, _PIECES)
        resp = web.StreamResponse(status=200, headers={**headers, "Content-Type": content_type})
        resp.enable_chunked_encoding()
        await self._write_pieces(request, resp, pieces, fault)
        return resp

    async def _speech_events(
        self,
        request: web.Request,
        audio: bytes,
        usage: dict[str, int],
        headers: dict[str, str],
        fault: Fault | None,
    ) -> web.StreamResponse:
        events = [
            _sse({"type": "speech.audio.delta", "audio": base64.b64encode(piece).decode()})
            for piece in _split(audio, _PIECES)
        ]
        done = _sse({"type": "speech.audio.done", "usage": usage})
        resp = web.StreamResponse(
            status=200, headers={**headers, "Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        if fault is not None and fault.error_event:
            events = [*events[:1], _sse({"type": "error", **fault_error_body(fault)})]
        elif fault is not None and fault.malformed_json:
            events = [*events[:1], b'data: {"type":"speech.audio.delta","audio":\n\n', *events[1:], done]
        elif fault is None or not fault.truncate_stream:
            events.append(done)
        await self._write_pieces(request, resp, events, fault)
        return resp

    async def _write_pieces(
        self, request: web.Request, resp: web.StreamResponse, pieces: list[bytes], fault: Fault | None
    ) -> None:
        """Write ``pieces`` one by one, with the fault's stream effects: a ``drop`` before the
        first piece or after it; a ``stall`` and the cut of ``truncate_stream`` at ``at`` (or
        after ``after_chunks`` pieces; by default the cut keeps half of the pieces)."""
        cut = drop_at = at = len(pieces) + 1
        if fault is not None:
            if fault.drop is not None:
                drop_at = 0 if fault.drop == "before_first_chunk" else 1
            if fault.after_chunks is not None:
                at = fault.after_chunks
            else:
                at = 0 if fault.at == "before_first_chunk" else 1
            if fault.truncate_stream:
                cut = at if fault.after_chunks is not None or at == 0 else max(1, len(pieces) // 2)
        try:
            await resp.prepare(request)
            for i, piece in enumerate(pieces):
                if i == drop_at:
                    await _drop(request, fault)  # type: ignore[arg-type]  # set with a fault only
                    return
                if i == cut:
                    break
                if i == at and fault is not None and fault.stall:
                    await asyncio.sleep(fault.stall)
                if i:
                    await asyncio.sleep(self._pause)
                await resp.write(piece)
            if fault is not None and fault.drop is not None and drop_at >= len(pieces):
                await _drop(request, fault)
                return
            await resp.write_eof()
        except ConnectionError:
            pass  # the client went away

    # ------------------------------------------------------------------ transcription

    async def transcriptions(
        self, request: web.Request, family: Family, deployment: str | None
    ) -> web.StreamResponse:
        return await self._transcribe(request, family, deployment, translate=False)

    async def translations(
        self, request: web.Request, family: Family, deployment: str | None
    ) -> web.StreamResponse:
        return await self._transcribe(request, family, deployment, translate=True)

    async def _transcribe(
        self, request: web.Request, family: Family, deployment: str | None, *, translate: bool
    ) -> web.StreamResponse:
        async def produce(
            n: int, body: Any, headers: dict[str, str], fault: Fault | None
        ) -> web.StreamResponse:
            form = _parse_form(request.headers.get("Content-Type", ""), await request.read())
            job = _check_upload(form, family, deployment, translate=translate)
            answer = _transcript(job)
            if isinstance(answer, str):
                return web.Response(
                    status=200,
                    body=answer.encode(),
                    headers={**headers, "Content-Type": "text/plain; charset=utf-8"},
                )
            data = json.dumps(answer, separators=(",", ":")).encode()
            return await send_body(request, data, headers, fault, f"transcription-sim-{n}")

        return await self._routes.serve(request, family, deployment, produce)


async def _drop(request: web.Request, fault: Fault) -> None:
    if fault.reset:
        await asyncio.sleep(0.02)  # let what was written reach the client before the reset
    drop_connection(request, reset=fault.reset)


def _split(data: bytes, pieces: int) -> list[bytes]:
    """``data`` in at least ``pieces`` pieces (fewer only when it has fewer bytes), each of at most
    ``_PIECE_BYTES``."""
    size = max(1, min(_PIECE_BYTES, math.ceil(len(data) / pieces)))
    return [data[i : i + size] for i in range(0, len(data), size)]


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"


def _speech_usage(text: str, instructions: Any, seconds: float) -> dict[str, int]:
    steer = len(instructions) if isinstance(instructions, str) else 0
    input_tokens = math.ceil((len(text) + steer) / 4)
    output_tokens = math.ceil(seconds * 20)
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def _check_speech(body: Any, family: Family, deployment: str | None) -> tuple[str, str, float, bool]:
    """The validated speech request: format, input, speed, and whether to stream events."""
    if not isinstance(body, dict):
        raise unparseable_body()
    for name in body:
        if name not in _SPEECH_FIELDS:
            raise _reject(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")
    model_name = deployment if deployment is not None else body.get("model")
    if not isinstance(model_name, str) or not model_name:
        raise _reject("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    model = _speech_model(model_name, family)
    if model is None:
        raise _unknown_model(model_name, family, deployment, "text to speech")
    text = body.get("input")
    if not isinstance(text, str):
        raise _reject("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if not text:
        raise _reject("Invalid 'input': string too short. Expected a string with minimum length 1.", "input")
    if len(text) > _MAX_INPUT:
        raise _reject(
            f"Invalid 'input': string too long. Expected a string with maximum length {_MAX_INPUT}, "
            f"but got a string with length {len(text)} instead.",
            "input",
            "string_above_max_length",
        )
    voice = body.get("voice")
    if voice is None:
        raise _reject("Missing required parameter: 'voice'.", "voice", "missing_required_parameter")
    if not (isinstance(voice, dict) and isinstance(voice.get("id"), str)) and voice not in model.voices:
        raise _bad_value("voice", voice, model.voices)
    fmt = body.get("response_format", "mp3")
    if fmt not in audio_files.FORMATS:
        raise _bad_value("response_format", fmt, audio_files.FORMATS)
    speed = body.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
        raise _reject(f"Invalid 'speed': {speed!r}. Expected a number between 0.25 and 4.0.", "speed")
    instructions = body.get("instructions")
    if instructions is not None:
        if not model.steerable:
            raise _reject(f"'instructions' is not supported with model {model_name}.", "instructions")
        if not isinstance(instructions, str) or len(instructions) > _MAX_INPUT:
            raise _reject(
                "Invalid 'instructions': expected a string of at most 4096 characters.", "instructions"
            )
    stream_format = body.get("stream_format", "audio")
    if stream_format not in ("audio", "sse"):
        raise _bad_value("stream_format", stream_format, ("sse", "audio"))
    if stream_format == "sse" and not model.steerable:
        raise _reject(f"stream_format 'sse' is not supported with model {model_name}.", "stream_format")
    return fmt, text, float(speed), stream_format == "sse"


def _bad_value(param: str, value: Any, allowed: tuple[str, ...]) -> Rejection:
    options = ", ".join(f"'{a}'" for a in allowed)
    return _reject(f"Invalid value: '{value}'. Supported values are: {options}.", param, "invalid_value")


# --------------------------------------------------------------------------- multipart


@dataclass(frozen=True, slots=True)
class _Part:
    name: str
    value: bytes
    filename: str | None


_DISPOSITION = re.compile(r'(\w+)="([^"]*)"')


def _parse_form(content_type: str, body: bytes) -> list[_Part]:
    """The parts of a ``multipart/form-data`` body (400 when it is not one)."""
    kind, _, params = content_type.partition(";")
    boundary = ""
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if kind.strip().lower() != "multipart/form-data" or not boundary:
        raise _reject(
            f"Invalid Content-Type header ({kind.strip() or 'none'}), expected multipart/form-data. "
            "(HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')"
        )
    marker = b"--" + boundary.encode()
    parts: list[_Part] = []
    chunks = body.split(marker)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing boundary
        head, sep, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise _reject("Could not parse multipart form")
        fields = dict(_DISPOSITION.findall(head.decode("utf-8", "replace")))
        if "name" not in fields:
            raise _reject("Could not parse multipart form")
        parts.append(_Part(fields["name"], content.removesuffix(b"\r\n"), fields.get("filename")))
    return parts


# --------------------------------------------------------------------------- transcription


@dataclass(frozen=True, slots=True)
class _Job:
    model: _TranscribeModel
    seconds: float
    response_format: str
    granularities: tuple[str, ...]
    language: str
    translate: bool
    prompt: str


def _check_upload(form: list[_Part], family: Family, deployment: str | None, *, translate: bool) -> _Job:
    values: dict[str, str] = {}
    granularities: list[str] = []
    upload: _Part | None = None
    for part in form:
        if part.name == "file" and part.filename is not None:
            upload = part
        elif part.name == "timestamp_granularities[]":
            granularities.append(part.value.decode("utf-8", "replace"))
        else:
            values[part.name] = part.value.decode("utf-8", "replace")
    model_name = deployment if deployment is not None else values.get("model")
    if not model_name:
        raise _reject("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    what = "translation" if translate else "transcription"
    model = _transcribe_model(model_name, family)
    if model is None or (translate and not model.translates):
        raise _unknown_model(model_name, family, deployment, what)
    if upload is None:
        raise _reject("Missing required parameter: 'file'.", "file", "missing_required_parameter")
    if len(upload.value) > _MAX_UPLOAD:
        raise _reject(
            f"Maximum content size limit ({_MAX_UPLOAD}) exceeded ({len(upload.value)} bytes read)",
            status=413,
        )
    extension = (upload.filename or "").rpartition(".")[2].lower()
    if extension not in audio_files.UPLOAD_EXTENSIONS:
        supported = sorted(audio_files.UPLOAD_EXTENSIONS)
        raise _reject(f"Invalid file format. Supported formats: {supported}", "file", "invalid_value")
    if not upload.value or audio_files.upload_kind(upload.value) is None:
        raise _reject("Audio file might be corrupted or unsupported", "file", "invalid_value")
    fmt = values.get("response_format", "json")
    if fmt not in model.formats:
        if fmt in _WHISPER.formats:
            raise _reject(
                f"response_format '{fmt}' is not compatible with model '{model_name}'. "
                f"Use {' or '.join(repr(f) for f in model.formats)} instead.",
                "response_format",
                "unsupported_value",
            )
        raise _bad_value("response_format", fmt, _WHISPER.formats)
    for granularity in granularities:
        if granularity not in ("word", "segment"):
            raise _bad_value("timestamp_granularities", granularity, ("word", "segment"))
    if granularities and (fmt != "verbose_json" or translate):
        raise _reject(
            "timestamp_granularities are only supported with response_format=verbose_json",
            "timestamp_granularities",
        )
    temperature = values.get("temperature")
    if temperature is not None:
        try:
            value = float(temperature)
        except ValueError:
            value = math.nan
        if not 0.0 <= value <= 1.0:
            raise _reject(
                f"Invalid 'temperature': {temperature}. Expected a number between 0 and 1.", "temperature"
            )
    language = values.get("language")
    if translate and language is not None:
        raise _reject("Unrecognized request argument supplied: language", "language", "unknown_parameter")
    if language is not None and not _LANGUAGE_CODE.match(language):
        raise _reject(
            f"Invalid language '{language}'. Language parameter must be specified in ISO-639-1 format.",
            "language",
            "invalid_language_format",
        )
    return _Job(
        model=model,
        seconds=audio_files.audio_seconds(upload.value),
        response_format=fmt,
        granularities=tuple(granularities),
        language="en" if translate else language or "en",
        translate=translate,
        prompt=values.get("prompt", ""),
    )


def _transcript(job: _Job) -> dict[str, Any] | str:
    """The answer to ``job`` in its response format: a JSON object, or text."""
    seconds = job.seconds
    count = max(1, round(seconds * _WORDS_PER_SECOND))
    words = [_WORDS[i % len(_WORDS)] for i in range(count)]
    step = seconds / count
    timed = [(w, round(i * step, 2), round((i + 1) * step, 2)) for i, w in enumerate(words)]
    segments: list[tuple[int, float, float, str]] = []
    for start in range(0, count, _WORDS_PER_SEGMENT):
        group = timed[start : start + _WORDS_PER_SEGMENT]
        text = " ".join(w for w, _, _ in group)
        segments.append((len(segments), group[0][1], group[-1][2], text))
    text = " ".join(_sentence(s[3]) for s in segments)
    fmt = job.response_format
    if fmt == "text":
        return text + "\n"
    if fmt in ("srt", "vtt"):
        return _subtitles(segments, fmt)
    if job.model.tokens:
        audio_tokens = math.ceil(seconds * 10)
        text_tokens = math.ceil(len(job.prompt) / 4)
        output_tokens = math.ceil(count * 1.3)
        usage: dict[str, Any] = {
            "type": "tokens",
            "input_tokens": audio_tokens + text_tokens,
            "input_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
            "output_tokens": output_tokens,
            "total_tokens": audio_tokens + text_tokens + output_tokens,
        }
    else:
        usage = {"type": "duration", "seconds": math.ceil(seconds)}
    if fmt == "json":
        return {"text": text, "usage": usage}
    answer: dict[str, Any] = {
        "task": "translate" if job.translate else "transcribe",
        "language": _LANGUAGES.get(job.language, job.language),
        "duration": round(seconds, 3),
        "text": text,
    }
    if not job.granularities or "segment" in job.granularities:
        answer["segments"] = [
            {
                "id": i,
                "seek": 0,
                "start": start,
                "end": end,
                "text": " " + _sentence(words_text),
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": -0.25,
                "compression_ratio": 1.2,
                "no_speech_prob": 0.01,
            }
            for i, start, end, words_text in segments
        ]
    if "word" in job.granularities:
        answer["words"] = [{"word": w, "start": start, "end": end} for w, start, end in timed]
    answer["usage"] = usage
    return answer


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:] + "."


def _subtitles(segments: list[tuple[int, float, float, str]], fmt: str) -> str:
    sep = "," if fmt == "srt" else "."
    lines = [] if fmt == "srt" else ["WEBVTT", ""]
    for i, start, end, text in segments:
        if fmt == "srt":
            lines.append(str(i + 1))
        lines += [f"{_clock(start, sep)} --> {_clock(end, sep)}", _sentence(text), ""]
    return "\n".join(lines) + "\n"


def _clock(seconds: float, sep: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"
