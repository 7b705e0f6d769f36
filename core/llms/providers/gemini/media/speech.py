"""Gemini text to speech (gemini-2.5-flash-preview-tts, gemini-2.5-pro-preview-tts):
``get_audio`` and ``stream_audio`` of the Gemini model class, on the Gemini API and Vertex AI.

``speak`` POSTs a ``generateContent`` request (the adapter's ``"generate"`` operation) whose
``generationConfig`` asks for ``responseModalities: ["AUDIO"]`` with a ``speechConfig``; the
answer's ``candidates[0].content.parts[].inlineData`` hold the speech as base64 raw PCM
(``audio/L16;codec=pcm;rate=24000``: 16-bit little-endian mono samples at 24 kHz). It is
returned as a WAV file (a RIFF header added; the stdlib ``wave`` module reads it) unless
``format="pcm"``. ``stream_speech`` sends the same request to ``streamGenerateContent?alt=sse``
(``"stream_generate"``) and yields the audio of each event as it arrives.

Parameters (checked before anything is sent; the model's ``defaults`` apply under them):

``voice``
    one of :data:`VOICES` (default ``"Kore"``).
``speakers``
    two speakers for a dialogue, ``{"Joe": "Kore", "Jane": "Puck"}``: each name as the text
    introduces its lines (``"Joe: ..."``), each voice one of :data:`VOICES`. Not with ``voice``.
``language`` (alias ``language_code``)
    the BCP-47 code of the speech (``"en-US"``, ``"de-DE"`` ...); the model detects it when absent.
``format`` (alias ``response_format``)
    ``"wav"`` (default) or ``"pcm"`` (the raw samples, ``audio/pcm``).
``timeout``, ``read_timeout``, ``model``
    as for chat calls.

The text is a non-empty string within the model's ``context_window`` (estimated at four
characters a token); how it is spoken can be asked for in the text itself (``"Say cheerfully:
..."``).

The answer: :class:`LLMAudioResponse` with the audio, its media type, ``duration_seconds`` (from
the samples), ``usage`` from ``usageMetadata`` (output tokens are audio tokens) and ``cost`` from
the catalogue's token prices. A prompt the service blocks (``promptFeedback.blockReason``), or an
answer stopped by its safety filters without audio, raises
:class:`~core.llms.interfaces.errors.ContentFilterError`; an answer without audio otherwise,
:class:`~core.llms.interfaces.errors.ResponseParsingError`.

Streaming: every :class:`LLMAudioChunk` holds the samples of one event (the first one, for
``"wav"``, after a WAV header whose sizes say "unknown length", 0xFFFFFFFF, as streamed WAV is
written; players and the ``wave`` module read it to its end); concatenated they are the whole
audio. The last chunk has ``final=True``, no data, and the ``usage`` and ``cost``. A stream that
ends before the event with the finish reason raises
:class:`~core.llms.interfaces.errors.StreamInterruptedError`.
"""

from __future__ import annotations

import io
import json
import re
import struct
import wave
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ....interfaces.errors import (
    ContentFilterError,
    InvalidInputError,
    ResponseParsingError,
    StreamInterruptedError,
)
from ....interfaces.llm_interfaces import WireEvent, WireRequest
from ....interfaces.media import LLMAudioChunk, LLMAudioResponse
from ....interfaces.types import Usage
from ...dialects.gemini.errors import blocked_prompt_error
from ._common import (
    TRANSPORT_PARAMS,
    MediaModel,
    call_params,
    check_prompt,
    choice,
    decode_base64,
    error_from_object,
    transport,
    usage_from,
    where,
)

if TYPE_CHECKING:
    from ....interfaces.context import RequestContext
    from ....interfaces.llm_interfaces import WireResponse

__all__ = ["DEFAULT_VOICE", "FORMATS", "VOICES", "speak", "stream_speech", "wav_header"]

#: the prebuilt voices of the Gemini TTS models.
VOICES: tuple[str, ...] = (
    "Zephyr",
    "Puck",
    "Charon",
    "Kore",
    "Fenrir",
    "Leda",
    "Orus",
    "Aoede",
    "Callirrhoe",
    "Autonoe",
    "Enceladus",
    "Iapetus",
    "Umbriel",
    "Algieba",
    "Despina",
    "Erinome",
    "Algenib",
    "Rasalgethi",
    "Laomedeia",
    "Achernar",
    "Alnilam",
    "Schedar",
    "Gacrux",
    "Pulcherrima",
    "Achird",
    "Zubenelgenubi",
    "Vindemiatrix",
    "Sadachbia",
    "Sadaltager",
    "Sulafat",
)
DEFAULT_VOICE = "Kore"
#: output formats and the media type of each.
MEDIA_TYPES = {"wav": "audio/wav", "pcm": "audio/pcm"}
FORMATS = tuple(MEDIA_TYPES)
#: the sample rate when the answer's media type does not say (the models' 24 kHz).
DEFAULT_RATE = 24_000
#: a dialogue has exactly this many speakers.
SPEAKERS = 2
#: finish reasons (and prompt block reasons) that mean the safety filters stopped the answer.
_FILTERED = frozenset(
    {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "RECITATION", "LANGUAGE"}
)
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_RATE = re.compile(r"rate=(\d{4,6})")
_STREAMED_SIZE = 0xFFFFFFFF
_PARAMS = frozenset({"voice", "speakers", "language", "response_format"}) | TRANSPORT_PARAMS
_ALIASES = {"format": "response_format", "language_code": "language"}


def wav_header(data_size: int | None, rate: int, channels: int = 1, bits: int = 16) -> bytes:
    """A 44-byte RIFF/WAVE header for PCM samples; ``data_size`` None: a streamed file's
    "unknown length" (0xFFFFFFFF)."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    if data_size is None:
        riff = data = _STREAMED_SIZE
    else:
        data = data_size
        riff = min(4 + 8 + len(fmt) + 8 + data_size, _STREAMED_SIZE)
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + (struct.pack("<I", data))
    )


@dataclass(frozen=True, slots=True)
class _Call:
    request: WireRequest
    fmt: str


def _refuse(model: MediaModel, message: str, hint: str | None = None) -> InvalidInputError:
    return InvalidInputError(message, provider=model.provider, model=model.name, hint=hint)


def _voice(model: MediaModel, name: str, value: Any) -> dict[str, Any]:
    voice = choice(model, name, value, VOICES)
    return {"prebuiltVoiceConfig": {"voiceName": voice}}


def _speakers(model: MediaModel, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, Mapping) or len(value) != SPEAKERS:
        raise _refuse(
            model,
            f"speakers must map {SPEAKERS} speaker names to voices, not {type(value).__name__}"
            + (f" of {len(value)}" if isinstance(value, Mapping) else ""),
            hint="e.g. speakers={'Joe': 'Kore', 'Jane': 'Puck'}, the text introducing each line with 'Joe: '",
        )
    configs = []
    for speaker, voice in value.items():
        if not isinstance(speaker, str) or not speaker.strip() or len(speaker) > 100:
            raise _refuse(model, "each speaker name must be a non-empty string (at most 100 characters)")
        configs.append({"speaker": speaker, "voiceConfig": _voice(model, f"speakers[{speaker!r}]", voice)})
    return configs


def _prepare(model: MediaModel, text: Any, params: Mapping[str, Any], *, stream: bool) -> _Call:
    """Check ``text`` and ``params``; the request to send."""
    merged = call_params(
        model, params, _PARAMS, call="stream_audio" if stream else "get_audio", aliases=_ALIASES
    )
    text = check_prompt(model, text, "text")
    speech: dict[str, Any] = {}
    if "speakers" in merged:
        if "voice" in merged:
            raise _refuse(model, "pass voice (one speaker) or speakers (a dialogue), not both")
        speech["multiSpeakerVoiceConfig"] = {"speakerVoiceConfigs": _speakers(model, merged["speakers"])}
    else:
        speech["voiceConfig"] = _voice(model, "voice", merged.get("voice", DEFAULT_VOICE))
    if "language" in merged:
        language = merged["language"]
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise _refuse(model, "language must be a BCP-47 language code", hint="e.g. language='en-US'")
        speech["languageCode"] = language
    fmt = choice(model, "format", merged.get("response_format", "wav"), FORMATS)
    how = transport(model, merged)
    payload = {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "generationConfig": {"responseModalities": ["AUDIO"], "speechConfig": speech},
    }
    request = WireRequest(
        "stream_generate" if stream else "generate",
        payload,
        stream=stream,
        model=how.model_id,
        model_fixed=how.model_fixed,
        read_timeout=how.read_timeout,
        total_timeout=how.total_timeout,
    )
    return _Call(request, fmt)


# -- answers --------------------------------------------------------------------------------------


def _rate(mime: str) -> int:
    found = _RATE.search(mime)
    rate = int(found.group(1)) if found else DEFAULT_RATE
    return rate if 8_000 <= rate <= 192_000 else DEFAULT_RATE


def _samples(data: bytes, mime: str, fields: dict[str, Any]) -> tuple[bytes, int]:
    """Raw 16-bit mono samples and their rate from one ``inlineData`` (raw PCM, or a WAV file).

    The service labels its samples ``audio/L16`` but sends them little-endian (as its own
    examples write them straight into a WAV file), which is what is returned."""
    base = mime.split(";", 1)[0].strip().lower()
    if base in ("audio/wav", "audio/x-wav", "audio/wave") or data[:4] == b"RIFF":
        try:
            with wave.open(io.BytesIO(data)) as file:
                if file.getsampwidth() != 2 or file.getnchannels() != 1:
                    raise ResponseParsingError("the speech is a WAV file that is not 16-bit mono", **fields)
                return file.readframes(file.getnframes()), file.getframerate()
        except (wave.Error, EOFError):
            raise ResponseParsingError(
                f"the speech is a WAV file that cannot be read ({len(data)} bytes)", **fields
            ) from None
    if base not in ("audio/l16", "audio/pcm", "audio/raw"):
        raise ResponseParsingError(f"the speech is {base or 'untyped'}, not PCM audio", **fields)
    return data, _rate(mime)


@dataclass(slots=True)
class _Event:
    """What one answer (or stream event) says."""

    audio: list[tuple[bytes, str]]
    finish: str | None
    #: ``promptFeedback`` when it says the prompt was blocked.
    block: dict[str, Any] | None
    usage: Usage | None


def _read(obj: Any, fields: dict[str, Any], what: str) -> _Event:
    """The audio parts, finish reason, prompt block reason and usage of one answer object."""
    if not isinstance(obj, dict):
        raise ResponseParsingError(f"{what} is a JSON {type(obj).__name__}, not an object", **fields)
    if "error" in obj:
        raise error_from_object(obj, endpoint=fields.get("endpoint"), request_id=fields.get("request_id"))
    feedback = obj.get("promptFeedback")
    block = feedback if isinstance(feedback, dict) and feedback.get("blockReason") else None
    audio: list[tuple[bytes, str]] = []
    finish = None
    candidates = obj.get("candidates")
    if isinstance(candidates, list) and candidates:
        candidate = candidates[0]
        if not isinstance(candidate, dict):
            raise ResponseParsingError(f"candidates[0] of {what} is not an object", **fields)
        reason = candidate.get("finishReason")
        finish = reason if isinstance(reason, str) and reason else None
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for i, part in enumerate(parts if isinstance(parts, list) else ()):
            inline = part.get("inlineData") if isinstance(part, dict) else None
            if not isinstance(inline, dict):
                continue  # a text or thought part: no audio
            mime = inline.get("mimeType")
            mime = mime if isinstance(mime, str) else ""
            data = decode_base64(inline.get("data"), f"parts[{i}].inlineData.data of {what}", **fields)
            audio.append((data, mime))
    return _Event(audio, finish, block, usage_from(obj.get("usageMetadata")))


def _blocked_prompt(feedback: dict[str, Any], obj: Any, fields: dict[str, Any]) -> ContentFilterError:
    error = blocked_prompt_error(feedback, obj)
    error.fill(**fields)
    error.hint = "Google's safety filters blocked the text; change it"
    return error


def _blocked_speech(reason: str, fields: dict[str, Any]) -> ContentFilterError:
    return ContentFilterError(
        f"the speech was stopped by the provider's safety filters ({reason[:60]})",
        filter_results={reason[:60]: {"filtered": True}},
        code=reason[:60],
        hint="change the text",
        **fields,
    )


def _no_audio(finish: str | None, fields: dict[str, Any]) -> ResponseParsingError | ContentFilterError:
    if finish in _FILTERED:
        return _blocked_speech(finish or "", fields)
    return ResponseParsingError(
        f"the speech answer has no audio (finish reason {finish or 'none'})",
        hint="the TTS models speak the text they are given: check that it is text to read out",
        **fields,
    )


def _parse(model: MediaModel, call: _Call, wire: WireResponse) -> LLMAudioResponse:
    fields = where(wire)
    event = _read(wire.data, fields, "the speech answer")
    if event.block is not None:
        raise _blocked_prompt(event.block, wire.data, fields)
    if not event.audio:
        raise _no_audio(event.finish, fields)
    pieces = [_samples(data, mime, fields) for data, mime in event.audio]
    rate = pieces[0][1]
    pcm = b"".join(samples for samples, _ in pieces)
    data = pcm if call.fmt == "pcm" else wav_header(len(pcm), rate) + pcm
    return LLMAudioResponse(
        data=data,
        media_type=MEDIA_TYPES[call.fmt],
        model=model.name,
        provider=model.provider,
        duration_seconds=len(pcm) / (2 * rate),
        usage=event.usage,
        cost=model.cost(event.usage),
        endpoint=wire.endpoint,
        request_id=wire.request_id,
    )


async def speak(
    model: MediaModel, text: str, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMAudioResponse:
    """``get_audio``: the whole speech of ``text`` (see the module docs for ``params``)."""
    call = _prepare(model, text, params, stream=False)
    wire = await model._connector.send(call.request, ctx)
    return _parse(model, call, wire)


def stream_speech(
    model: MediaModel, text: str, ctx: RequestContext | None, params: dict[str, Any]
) -> AsyncIterator[LLMAudioChunk]:
    """``stream_audio``: the speech of ``text`` as it arrives, then a final empty chunk."""
    call = _prepare(model, text, params, stream=True)

    def parser(endpoint: str, request_id: str | None) -> SpeechStreamParser:
        return SpeechStreamParser(endpoint, request_id, wav=call.fmt == "wav", cost=model.cost)

    return model._connector.stream(call.request, parser, ctx)


class SpeechStreamParser:
    """One ``streamGenerateContent`` speech stream → :class:`LLMAudioChunk` (a ``StreamParser``).

    Each event's audio becomes a chunk (the first, for WAV, after a streamed WAV header); an
    event with ``error`` raises its typed error, a blocked prompt :class:`ContentFilterError`.
    ``close`` raises :class:`StreamInterruptedError` unless an event carried the finish reason,
    and returns the final chunk with the usage (the last ``usageMetadata`` seen) and cost."""

    __slots__ = ("_cost", "_finish", "_rate", "_received", "_wav", "endpoint", "request_id", "usage")

    def __init__(
        self,
        endpoint: str,
        request_id: str | None,
        *,
        wav: bool,
        cost: Callable[[Usage | None], float | None],
    ) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self._wav = wav
        self._cost = cost
        self._received = 0
        self._rate: int | None = None
        self._finish: str | None = None
        self.usage: Usage | None = None

    def _fields(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "request_id": self.request_id}

    def feed(self, event: WireEvent) -> Iterable[LLMAudioChunk]:
        raw = event.data
        if not raw or raw == "[DONE]":
            return ()
        fields = self._fields()
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            raise ResponseParsingError(
                f"a speech stream event is not JSON ({len(raw)} characters)", **fields
            ) from None
        read = _read(obj, fields, "a speech stream event")
        if read.block is not None:
            raise _blocked_prompt(read.block, obj, fields)
        if read.usage is not None:
            self.usage = read.usage
        if read.finish is not None:
            self._finish = read.finish
        chunks = []
        for data, mime in read.audio:
            samples, rate = _samples(data, mime, fields)
            if not samples:
                continue
            if self._rate is None:
                self._rate = rate
                if self._wav:
                    samples = wav_header(None, rate) + samples
            self._received += len(samples)
            chunks.append(LLMAudioChunk(data=samples))
        return chunks

    def close(self) -> Iterable[LLMAudioChunk]:
        fields = self._fields()
        if self._finish is None:
            raise StreamInterruptedError(
                f"the speech stream ended before its finish reason ({self._received:,} bytes of audio came)",
                **fields,
            )
        if not self._received:
            raise _no_audio(self._finish, fields)
        return (LLMAudioChunk(final=True, usage=self.usage, cost=self._cost(self.usage)),)
