"""Speech to text on OpenAI and Azure OpenAI (``POST /audio/transcriptions`` and
``/audio/translations``, multipart uploads): ``transcribe`` and ``translate`` of whisper-1,
gpt-4o-transcribe and gpt-4o-mini-transcribe.

The audio is bytes, a file path (``str`` or ``os.PathLike``: read here) or an
:class:`~core.llms.interfaces.messages.AudioPart`. Its format comes from the ``AudioPart``'s
``format``, else the path's extension, else its first bytes (WAV, MP3, Ogg, FLAC, MP4/M4A,
WebM); it must be one the API takes (flac, mp3, mp4, mpeg, mpga, m4a, ogg, oga, wav, webm) and at
most 25 MB. Everything is checked before anything is sent.

Parameters (the model's ``defaults`` apply under them):

``language``
    ``transcribe`` only: the spoken language as an ISO-639-1 code (``"en"``), which helps
    accuracy and latency.
``prompt``
    text to guide the style or continue a previous segment.
``temperature``
    0 to 1.
``timestamps``
    whisper-1 only: ``True`` (segment and word times), ``"segment"``, ``"word"`` or a list of
    them; fills ``segments`` / ``words`` (the call asks for ``verbose_json``). ``translate`` gives
    segment times only. The gpt-4o transcribe models give no timestamps: refused.
``response_format``
    what ``text`` holds: ``"json"`` / ``"text"`` (the transcript; the default), ``"verbose_json"``
    (the transcript, plus language, duration and segments), ``"srt"`` / ``"vtt"`` (subtitles,
    made here from the segments: the call asks for ``verbose_json``, because the API answers
    those formats as plain text, not JSON). The gpt-4o transcribe models: ``json`` / ``text``
    only.
``timeout``, ``read_timeout``, ``model``
    as for chat calls.

``translate`` is whisper-1's alone (into English); on another model it raises
:class:`UnsupportedOperationError` before anything is sent.

Cost: whisper-1 by the second (the duration the API reports, else the one read from a WAV, FLAC,
MP3 or PCM upload); the gpt-4o transcribe models by the token ``usage`` they report.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ....interfaces.errors import InvalidInputError, ResponseParsingError, UnsupportedOperationError
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.media import Transcription, TranscriptionSegment, TranscriptionWord
from ....interfaces.messages import AudioPart
from ....interfaces.types import Usage
from ...base.multipart import FormField, MultipartForm
from ...base.wire_values import optional_str, token_count
from ._audio import audio_seconds
from ._common import TRANSPORT_PARAMS, call_params, choice, transport

if TYPE_CHECKING:
    from ....interfaces.context import RequestContext
    from ..model import OpenAIModel

__all__ = [
    "MAX_UPLOAD_BYTES",
    "UPLOAD_FORMATS",
    "transcribe",
    "translate",
]

#: the API's upload limit.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
#: upload formats the API takes, with the content type each is sent as.
UPLOAD_FORMATS = {
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "mp4": "audio/mp4",
    "mpeg": "audio/mpeg",
    "mpga": "audio/mpeg",
    "m4a": "audio/mp4",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "wav": "audio/wav",
    "webm": "audio/webm",
}
#: other spellings of those formats (media types, common extensions).
_FORMAT_ALIASES = {
    "mpeg3": "mp3",
    "x-mp3": "mp3",
    "wave": "wav",
    "x-wav": "wav",
    "vnd.wave": "wav",
    "x-flac": "flac",
    "x-m4a": "m4a",
    "opus": "ogg",
    "vorbis": "ogg",
}
_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
_GRANULARITIES = ("segment", "word")


@dataclass(frozen=True, slots=True)
class TranscriptionRules:
    """What one family of speech-to-text models takes."""

    formats: tuple[str, ...]
    timestamps: bool
    translate: bool


#: by model family; another family (a deployment outside the catalogue) gets :data:`_ANY`.
TRANSCRIPTION_RULES: dict[str, TranscriptionRules] = {
    "whisper": TranscriptionRules(_FORMATS, timestamps=True, translate=True),
    "gpt-4o-transcribe": TranscriptionRules(("json", "text"), timestamps=False, translate=False),
}
_ANY = TranscriptionRules(_FORMATS, timestamps=True, translate=True)

_TRANSCRIBE_PARAMS = frozenset({"language", "prompt", "temperature", "timestamps", "response_format"})
_TRANSCRIBE_PARAMS |= TRANSPORT_PARAMS
_TRANSLATE_PARAMS = _TRANSCRIBE_PARAMS - {"language"}


async def translate(
    model: OpenAIModel, audio: Any, ctx: RequestContext | None, params: dict[str, Any]
) -> Transcription:
    """``translate``: speech in any language to English text (whisper-1)."""
    return await transcribe(model, audio, ctx, params, translate=True)


async def transcribe(
    model: OpenAIModel,
    audio: Any,
    ctx: RequestContext | None,
    params: dict[str, Any],
    *,
    translate: bool = False,
) -> Transcription:
    """``transcribe`` / ``translate`` (``translate=True``): see the module docs."""
    rules = TRANSCRIPTION_RULES.get(model.metadata.family, _ANY)
    call = "translate" if translate else "transcribe"
    if translate and not rules.translate:
        raise UnsupportedOperationError(
            f"{model.name} cannot translate speech: translate() is not supported",
            provider=model.provider,
            model=model.name,
            hint="use whisper-1 to translate speech into English, or transcribe() with this model",
        )
    merged = call_params(
        model,
        params,
        _TRANSLATE_PARAMS if translate else _TRANSCRIBE_PARAMS,
        call=call,
        other_calls=frozenset({"language"}),
    )
    wanted = choice(model, "response_format", merged.get("response_format", "json"), rules.formats)
    granularities = _granularities(model, merged.get("timestamps", False), rules, translate=translate)
    verbose = wanted in ("verbose_json", "srt", "vtt") or bool(granularities)
    how = transport(model, merged)
    data, fmt = await _read_audio(model, audio)
    fields = [
        FormField("file", data, filename=f"audio.{fmt}", content_type=UPLOAD_FORMATS[fmt]),
        FormField("model", how.model_id),
        FormField("response_format", "verbose_json" if verbose else "json"),
    ]
    for name in ("language", "prompt"):
        value = merged.get(name)
        if value is not None:
            if not isinstance(value, str) or not value.strip():
                raise InvalidInputError(
                    f"{name}= must be a non-empty string", provider=model.provider, model=model.name
                )
            fields.append(FormField(name, value))
    temperature = merged.get("temperature")
    if temperature is not None:
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not 0 <= temperature <= 1
        ):
            raise InvalidInputError(
                f"temperature={temperature!r} is outside 0..1 for {model.name}",
                provider=model.provider,
                model=model.name,
            )
        fields.append(FormField("temperature", repr(float(temperature))))
    if not translate:
        fields += [FormField("timestamp_granularities[]", g) for g in granularities]
    request = WireRequest(
        "translations" if translate else "transcriptions",
        {},
        model=how.model_id,
        model_fixed=how.model_fixed,
        form=MultipartForm(fields),
        read_timeout=how.read_timeout,
        total_timeout=how.total_timeout,
    )
    response = await model._connector.send(request, ctx)
    result, billed = _parse(model, response)
    if wanted in ("srt", "vtt"):
        result.text = subtitles(result.segments, wanted)
    result.cost = _cost(model, result, billed, audio_seconds(fmt, data))
    return result


def _granularities(
    model: OpenAIModel, timestamps: Any, rules: TranscriptionRules, *, translate: bool
) -> tuple[str, ...]:
    """The ``timestamp_granularities`` that ``timestamps=`` asks for (none for False)."""
    if timestamps is False:
        return ()
    if timestamps is True:
        wanted: tuple[str, ...] = ("segment",) if translate else _GRANULARITIES
    elif isinstance(timestamps, str):
        wanted = (choice(model, "timestamps", timestamps, _GRANULARITIES),)
    elif isinstance(timestamps, Sequence) and timestamps:
        wanted = tuple(dict.fromkeys(choice(model, "timestamps", t, _GRANULARITIES) for t in timestamps))
    else:
        raise InvalidInputError(
            f"timestamps= must be True, False, 'segment', 'word' or a list of them, "
            f"not {type(timestamps).__name__}",
            provider=model.provider,
            model=model.name,
        )
    if not rules.timestamps:
        raise UnsupportedOperationError(
            f"{model.name} gives no timestamps: timestamps= is not supported",
            provider=model.provider,
            model=model.name,
            hint="use whisper-1 for segment and word timestamps",
        )
    if translate and "word" in wanted:
        raise InvalidInputError(
            "translate() gives segment timestamps only, not word timestamps",
            provider=model.provider,
            model=model.name,
            hint="use timestamps='segment' (or True)",
        )
    return wanted


# --------------------------------------------------------------------------- the audio


async def _read_audio(model: OpenAIModel, audio: Any) -> tuple[bytes, str]:
    """The bytes of ``audio`` and their upload format (a key of :data:`UPLOAD_FORMATS`)."""
    fmt: str | None = None
    match audio:
        case AudioPart():
            data = audio.data
            fmt = _named_format(model, audio.format, "AudioPart.format")
        case bytes() | bytearray() | memoryview():
            data = bytes(audio)
        case str() | os.PathLike():
            data, fmt = await _read_file(model, audio)
        case _:
            raise InvalidInputError(
                f"audio must be bytes, a file path or an AudioPart, not {type(audio).__name__}",
                provider=model.provider,
                model=model.name,
            )
    if not data:
        raise InvalidInputError("the audio is empty (0 bytes)", provider=model.provider, model=model.name)
    _check_size(model, len(data))
    if fmt is None:
        fmt = sniff_audio_format(data)
        if fmt is None:
            raise InvalidInputError(
                f"cannot tell the format of the audio ({len(data):,} bytes): it is not WAV, MP3, Ogg, "
                "FLAC, MP4/M4A or WebM",
                provider=model.provider,
                model=model.name,
                hint="pass AudioPart(data=..., format='mp3') to name the format",
            )
    return data, fmt


def _check_size(model: OpenAIModel, size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise InvalidInputError(
            f"the audio is {size:,} bytes: more than the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB "
            "the API takes in one upload",
            provider=model.provider,
            model=model.name,
            hint="split the audio, or compress it (e.g. to mp3 or opus), and transcribe each part",
        )


async def _read_file(model: OpenAIModel, path: str | os.PathLike[str]) -> tuple[bytes, str | None]:
    name = os.fspath(path)
    if not isinstance(name, str) or not name:
        raise InvalidInputError("the audio path must be a non-empty path", provider=model.provider)
    shown = os.path.basename(name)[:80] or name[:80]
    try:
        size = os.stat(name).st_size
    except (OSError, ValueError) as exc:  # missing, unreadable, NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "cannot be read"
        raise InvalidInputError(
            f"audio file {shown!r}: {reason}",
            provider=model.provider,
            model=model.name,
            hint="pass an existing audio file path, its bytes or an AudioPart",
        ) from None
    _check_size(model, size)
    try:
        data = await asyncio.to_thread(_read_bytes, name)
    except OSError as exc:
        raise InvalidInputError(
            f"audio file {shown!r}: {exc.strerror or 'cannot be read'}",
            provider=model.provider,
            model=model.name,
        ) from None
    extension = os.path.splitext(name)[1].lstrip(".").lower()
    fmt = _FORMAT_ALIASES.get(extension, extension)
    return data, fmt if fmt in UPLOAD_FORMATS else None


def _read_bytes(name: str) -> bytes:
    with open(name, "rb") as file:
        return file.read(MAX_UPLOAD_BYTES + 1)


def _named_format(model: OpenAIModel, given: str, where: str) -> str:
    """A format as a caller names it (``"wav"``, ``"audio/x-wav"``, ``".mp3"``), as a key of
    :data:`UPLOAD_FORMATS`."""
    name = given.strip().lower().removeprefix("audio/").lstrip(".")
    name = _FORMAT_ALIASES.get(name, name)
    if name not in UPLOAD_FORMATS:
        raise InvalidInputError(
            f"{where}={given[:40]!r} is not an audio format the API takes",
            provider=model.provider,
            model=model.name,
            hint=f"use one of: {', '.join(UPLOAD_FORMATS)}",
        )
    return name


def sniff_audio_format(data: bytes) -> str | None:
    """The upload format of audio ``data`` from its first bytes (None when unrecognised)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (
        len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06
    ):
        return "mp3"  # an ID3v2 tag, or an MPEG audio frame header (Layer I-III)
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"fLaC":
        return "flac"
    if data[4:8] == b"ftyp":
        return "m4a" if data[8:12] in (b"M4A ", b"M4B ") else "mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":  # EBML: WebM (or Matroska)
        return "webm"
    return None


# --------------------------------------------------------------------------- the answer


def _parse(model: OpenAIModel, response: WireResponse) -> tuple[Transcription, float | None]:
    """The transcription in ``response``, and the seconds it was billed for (when reported)."""
    data = response.data
    where: dict[str, Any] = {
        "endpoint": response.endpoint,
        "status": response.status,
        "request_id": response.request_id,
    }
    if not isinstance(data, dict):
        raise ResponseParsingError(
            f"{response.endpoint} answered a transcription that is not a JSON object", **where
        )
    text = data.get("text")
    if not isinstance(text, str):
        raise ResponseParsingError("the transcription has no 'text' string", **where)
    usage_data = data.get("usage")
    usage: Usage | None = None
    billed_seconds: float | None = None
    if isinstance(usage_data, dict):
        if usage_data.get("type") == "duration":
            billed_seconds = _seconds(usage_data.get("seconds"))
        elif "input_tokens" in usage_data or "output_tokens" in usage_data:
            usage = Usage(
                input_tokens=token_count(usage_data.get("input_tokens")),
                output_tokens=token_count(usage_data.get("output_tokens")),
            )
    result = Transcription(
        text=text,
        model=model.name,
        provider=model.provider,
        language=optional_str(data.get("language")),
        duration_seconds=_seconds(data.get("duration")) or billed_seconds,
        segments=_segments(data.get("segments"), where),
        words=_words(data.get("words"), where),
        usage=usage,
        endpoint=response.endpoint,
        request_id=response.request_id,
        latency=response.latency,
    )
    return result, billed_seconds


def _seconds(value: Any) -> float | None:
    """A time in seconds from the wire (a finite number >= 0), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


def _span(item: dict[str, Any], what: str, where: dict[str, Any]) -> tuple[float, float]:
    start, end = _seconds(item.get("start")), _seconds(item.get("end"))
    if start is None or end is None:
        raise ResponseParsingError(f"a transcription {what} has no numeric 'start' / 'end'", **where)
    return start, end


def _segments(value: Any, where: dict[str, Any]) -> list[TranscriptionSegment]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ResponseParsingError("the transcription's 'segments' is not a list", **where)
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ResponseParsingError(f"transcription segment {i} has no 'text' string", **where)
        start, end = _span(item, "segment", where)
        seg_id = item.get("id")
        out.append(
            TranscriptionSegment(
                text=item["text"].strip(),
                start=start,
                end=end,
                id=seg_id if type(seg_id) is int else i,
            )
        )
    return out


def _words(value: Any, where: dict[str, Any]) -> list[TranscriptionWord]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ResponseParsingError("the transcription's 'words' is not a list", **where)
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("word"), str):
            raise ResponseParsingError(f"transcription word {i} has no 'word' string", **where)
        start, end = _span(item, "word", where)
        out.append(TranscriptionWord(word=item["word"], start=start, end=end))
    return out


def _cost(
    model: OpenAIModel, result: Transcription, billed: float | None, measured: float | None
) -> float | None:
    """By the second (the seconds billed, else the duration reported, else the one measured
    from the upload), or by the tokens of ``usage``."""
    pricing = model.metadata.pricing
    if pricing.per_audio_second is not None:
        for seconds in (billed, result.duration_seconds, measured):
            if seconds is not None:
                return pricing.media_cost(audio_seconds=seconds)
        return None
    return model.cost(result.usage)


def subtitles(segments: Sequence[TranscriptionSegment], fmt: str) -> str:
    """SubRip (``"srt"``) or WebVTT (``"vtt"``) subtitles of ``segments``."""
    sep = "," if fmt == "srt" else "."
    lines = [] if fmt == "srt" else ["WEBVTT", ""]
    for number, segment in enumerate(segments, 1):
        if fmt == "srt":
            lines.append(str(number))
        lines += [f"{_clock(segment.start, sep)} --> {_clock(segment.end, sep)}", segment.text, ""]
    return "\n".join(lines) + "\n"


def _clock(seconds: float, sep: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"
