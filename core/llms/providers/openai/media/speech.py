"""Text to speech on OpenAI and Azure OpenAI (``POST /audio/speech``): ``get_audio`` and
``stream_audio`` of tts-1, tts-1-hd and gpt-4o-mini-tts.

Parameters (checked before anything is sent; the model's ``defaults`` apply under them):

``voice``
    default ``"alloy"``. tts-1 / tts-1-hd: alloy, ash, coral, echo, fable, onyx, nova, sage,
    shimmer; gpt-4o-mini-tts also ballad, verse, marin and cedar.
``format`` (or ``response_format``)
    ``mp3`` (default), ``opus``, ``aac``, ``flac``, ``wav`` or ``pcm`` (raw 24 kHz 16-bit
    little-endian mono samples). The response's ``media_type`` follows the format.
``speed``
    0.25 to 4.0 (default 1.0).
``instructions``
    how to speak (tone, accent, pace), at most 4096 characters: gpt-4o-mini-tts only.
``stream_format``
    ``stream_audio`` only: ``"sse"`` (default where the model supports it: gpt-4o-mini-tts) or
    ``"audio"`` (raw bytes, the only choice of tts-1 / tts-1-hd).
``timeout``, ``read_timeout``, ``model``
    as for chat calls.

The text must be a non-empty string of at most 4096 characters (tts-1: the model's
``context_window``; gpt-4o-mini-tts: also about 2,000 tokens, estimated as characters / 4).

``duration_seconds`` is read from the audio when its format tells it (wav, pcm, flac, mp3), else
None. ``cost``: tts-1 / tts-1-hd are priced by input character; gpt-4o-mini-tts by tokens, which
the raw audio answer does not report, so its ``cost`` is None.

Streaming: ``stream_audio`` yields :class:`LLMAudioChunk` objects as the bytes arrive, each
playable in order (concatenated they are the whole file), then a last one with ``final=True``
and no data. A raw audio stream (tts-1, or ``stream_format="audio"``) has no end marker: a
connection that breaks is detected (chunked transfer or Content-Length), but a server that ends
the body cleanly after part of the audio cannot be told from a complete answer. The ``"sse"``
stream ends with a ``speech.audio.done`` event: a stream without it raises
:class:`StreamInterruptedError`.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ....interfaces.errors import InvalidInputError, ResponseParsingError, StreamInterruptedError
from ....interfaces.llm_interfaces import WireEvent, WireRequest, WireResponse
from ....interfaces.media import LLMAudioChunk, LLMAudioResponse
from ....interfaces.types import Usage
from ...base.connector import decode_json
from ...base.wire_values import token_count
from ._audio import audio_seconds
from ._common import TRANSPORT_PARAMS, call_params, choice, transport

if TYPE_CHECKING:
    from ....interfaces.context import RequestContext
    from ..model import OpenAIModel

__all__ = ["FORMATS", "MEDIA_TYPES", "speak", "stream_speech"]

#: the audio formats and the media type of each.
MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
FORMATS = tuple(MEDIA_TYPES)
#: the API's limit on ``input`` and ``instructions`` (characters).
MAX_CHARACTERS = 4096
SPEED_RANGE = (0.25, 4.0)
_TTS1_VOICES = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")
_ALL_VOICES: tuple[str, ...] = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
)
_ALL_VOICES += ("marin", "cedar")


@dataclass(frozen=True, slots=True)
class SpeechRules:
    """What one family of speech models takes."""

    voices: tuple[str, ...]
    #: ``instructions`` accepted.
    instructions: bool
    #: ``stream_format: "sse"`` accepted (and used by default by ``stream_audio``).
    sse: bool
    #: the input limit is the model's ``context_window`` in characters (else in tokens, with
    #: :data:`MAX_CHARACTERS` characters at most).
    window_in_characters: bool


#: by model family; a model of any other family (a deployment outside the catalogue) is held to
#: :data:`_ANY` and the server decides the rest.
SPEECH_RULES: dict[str, SpeechRules] = {
    "tts": SpeechRules(_TTS1_VOICES, instructions=False, sse=False, window_in_characters=True),
    "gpt-4o-tts": SpeechRules(_ALL_VOICES, instructions=True, sse=True, window_in_characters=False),
}
_ANY = SpeechRules(_ALL_VOICES, instructions=True, sse=False, window_in_characters=False)

_PARAMS = frozenset({"voice", "response_format", "speed", "instructions"}) | TRANSPORT_PARAMS
_STREAM_PARAMS = _PARAMS | {"stream_format"}
_ALIASES = {"format": "response_format"}


def _rules(model: OpenAIModel) -> SpeechRules:
    return SPEECH_RULES.get(model.metadata.family, _ANY)


@dataclass(frozen=True, slots=True)
class _Call:
    request: WireRequest
    fmt: str
    sse: bool


def _prepare(model: OpenAIModel, text: Any, params: dict[str, Any], *, stream: bool) -> _Call:
    """Check ``text`` and ``params``; the request to send."""
    rules = _rules(model)
    merged = call_params(
        model,
        params,
        _STREAM_PARAMS if stream else _PARAMS,
        call="stream_audio" if stream else "get_audio",
        aliases=_ALIASES,
        other_calls=frozenset({"stream_format"}),
    )
    _check_text(model, text, rules)
    voice = merged.get("voice", "alloy")
    if not (isinstance(voice, dict) and isinstance(voice.get("id"), str)):  # or a custom voice {"id": ...}
        voice = choice(model, "voice", voice, rules.voices)
    fmt = choice(model, "format", merged.get("response_format", "mp3"), FORMATS)
    payload: dict[str, Any] = {"model": "", "input": text, "voice": voice, "response_format": fmt}
    speed = merged.get("speed")
    if speed is not None:
        low, high = SPEED_RANGE
        if isinstance(speed, bool) or not isinstance(speed, int | float) or not low <= speed <= high:
            shown = repr(speed)[:40] if isinstance(speed, int | float) else f"<{type(speed).__name__}>"
            raise InvalidInputError(
                f"speed={shown} is outside {low}..{high}",
                provider=model.provider,
                model=model.name,
                hint="speed must be a number from 0.25 to 4.0 (1.0 is normal speed)",
            )
        payload["speed"] = speed
    instructions = merged.get("instructions")
    if instructions is not None:
        if not rules.instructions:
            raise InvalidInputError(
                f"instructions= is not supported by {model.name}",
                provider=model.provider,
                model=model.name,
                hint="use gpt-4o-mini-tts for speech steered by instructions",
            )
        if not isinstance(instructions, str) or len(instructions) > MAX_CHARACTERS:
            raise InvalidInputError(
                f"instructions= must be a string of at most {MAX_CHARACTERS} characters",
                provider=model.provider,
                model=model.name,
            )
        payload["instructions"] = instructions
    sse = False
    if stream:
        allowed = ("sse", "audio") if rules.sse else ("audio",)
        stream_format = choice(model, "stream_format", merged.get("stream_format", allowed[0]), allowed)
        sse = stream_format == "sse"
        if sse:
            payload["stream_format"] = "sse"
    how = transport(model, merged)
    payload["model"] = how.model_id
    request = WireRequest(
        "speech_events" if sse else "speech",
        payload,
        stream=stream,
        model=how.model_id,
        model_fixed=how.model_fixed,
        # the raw stream is not server-sent events; audio answers are whatever the format is
        headers=None if sse else {"Accept": "*/*"},
        read_timeout=how.read_timeout,
        total_timeout=how.total_timeout,
    )
    return _Call(request, fmt, sse)


def _check_text(model: OpenAIModel, text: Any, rules: SpeechRules) -> None:
    if not isinstance(text, str):
        raise InvalidInputError(
            f"text must be a string, not {type(text).__name__}", provider=model.provider, model=model.name
        )
    if not text.strip():
        raise InvalidInputError("text must not be empty", provider=model.provider, model=model.name)
    window = model.metadata.context_window
    limit = min(window, MAX_CHARACTERS) if rules.window_in_characters else MAX_CHARACTERS
    if len(text) > limit:
        raise InvalidInputError(
            f"text of {len(text):,} characters is longer than {model.name} speaks in one call "
            f"({limit:,} characters)",
            provider=model.provider,
            model=model.name,
            hint="split the text (at sentence ends) and make one call per part",
        )
    if not rules.window_in_characters and math.ceil(len(text) / 4) > window:
        raise InvalidInputError(
            f"text of ~{math.ceil(len(text) / 4):,} tokens is more than {model.name} takes ({window:,})",
            provider=model.provider,
            model=model.name,
            hint="split the text (at sentence ends) and make one call per part",
        )


def _cost(model: OpenAIModel, text: str, usage: Usage | None) -> float | None:
    pricing = model.metadata.pricing
    if pricing.per_1m_characters is not None:
        return pricing.media_cost(characters=len(text))
    return model.cost(usage)


async def speak(
    model: OpenAIModel, text: str, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMAudioResponse:
    """``get_audio``: the whole audio of ``text`` (see the module docs for ``params``)."""
    call = _prepare(model, text, params, stream=False)
    response = await model._connector.send(call.request, ctx)
    data = _audio_body(response)
    return LLMAudioResponse(
        data=data,
        media_type=MEDIA_TYPES[call.fmt],
        model=model.name,
        provider=model.provider,
        duration_seconds=audio_seconds(call.fmt, data),
        cost=_cost(model, text, None),
        endpoint=response.endpoint,
        request_id=response.request_id,
    )


def _audio_body(response: WireResponse) -> bytes:
    content_type = str(response.headers.get("Content-Type", "")).lower()
    where: dict[str, Any] = {
        "endpoint": response.endpoint,
        "status": response.status,
        "request_id": response.request_id,
    }
    if response.data is not None or content_type.startswith(("application/json", "text/")):
        raise ResponseParsingError(
            f"{response.endpoint} answered {content_type or 'an unknown content type'} "
            f"({len(response.body)} bytes) instead of audio",
            **where,
        )
    if not response.body:
        raise ResponseParsingError(f"{response.endpoint} answered an empty audio body", **where)
    return response.body


def stream_speech(
    model: OpenAIModel, text: str, ctx: RequestContext | None, params: dict[str, Any]
) -> AsyncIterator[LLMAudioChunk]:
    """``stream_audio``: the audio of ``text`` as it arrives, then a final empty chunk."""
    call = _prepare(model, text, params, stream=True)

    def cost(usage: Usage | None) -> float | None:
        return _cost(model, text, usage)

    def parser(endpoint: str, request_id: str | None) -> _RawAudio | _AudioEvents:
        if call.sse:
            return _AudioEvents(endpoint, request_id, cost)
        return _RawAudio(endpoint, request_id, cost)

    return model._connector.stream(call.request, parser, ctx)


class _RawAudio:
    """Parses a raw audio stream: every received piece is a chunk.

    A body that starts like a JSON error (``{"error"``: a gateway answering 200 with an error)
    is collected and raised as that error at its end."""

    __slots__ = ("_cost", "_error_body", "_received", "endpoint", "request_id")

    def __init__(
        self, endpoint: str, request_id: str | None, cost: Callable[[Usage | None], float | None]
    ) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self._cost = cost
        self._received = 0
        self._error_body: bytearray | None = None

    def feed(self, event: WireEvent) -> Iterable[LLMAudioChunk]:
        data = event.raw or b""
        if not data:
            return ()
        if self._error_body is not None:
            self._error_body += data
            return ()
        if not self._received and data.lstrip()[:1] == b"{" and b'"error"' in data[:64]:
            self._error_body = bytearray(data)
            return ()
        self._received += len(data)
        return (LLMAudioChunk(data=data),)

    def close(self) -> Iterable[LLMAudioChunk]:
        if self._error_body is not None:
            raise _error_from(bytes(self._error_body), self.endpoint, self.request_id)
        if not self._received:
            raise ResponseParsingError(
                f"{self.endpoint} answered an empty audio stream",
                endpoint=self.endpoint,
                request_id=self.request_id,
            )
        return (LLMAudioChunk(final=True, cost=self._cost(None)),)


class _AudioEvents:
    """Parses the ``stream_format: "sse"`` stream: ``speech.audio.delta`` events (base64 audio),
    ended by ``speech.audio.done`` (with token usage)."""

    __slots__ = ("_cost", "_done", "_received", "endpoint", "request_id", "usage")

    def __init__(
        self, endpoint: str, request_id: str | None, cost: Callable[[Usage | None], float | None]
    ) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self._cost = cost
        self._received = 0
        self._done = False
        self.usage: Usage | None = None

    def _bad(self, message: str) -> ResponseParsingError:
        return ResponseParsingError(message, endpoint=self.endpoint, request_id=self.request_id)

    def feed(self, event: WireEvent) -> Iterable[LLMAudioChunk]:
        if self._done or event.data in ("", "[DONE]"):
            return ()
        try:
            data = decode_json(event.data.encode())
        except (ValueError, RecursionError):
            raise self._bad(f"a speech event from {self.endpoint} is not JSON") from None
        if not isinstance(data, dict):
            raise self._bad(f"a speech event from {self.endpoint} is not a JSON object")
        kind = data.get("type") or event.event
        if kind == "speech.audio.delta":
            audio = data.get("audio")
            if not isinstance(audio, str):
                raise self._bad("speech.audio.delta event without base64 'audio'")
            try:
                chunk = base64.b64decode(audio, validate=True)
            except (binascii.Error, ValueError):
                raise self._bad("speech.audio.delta event whose 'audio' is not base64") from None
            if not chunk:
                return ()
            self._received += len(chunk)
            return (LLMAudioChunk(data=chunk),)
        if kind == "speech.audio.done":
            self._done = True
            usage = data.get("usage")
            if isinstance(usage, dict):
                self.usage = Usage(
                    input_tokens=token_count(usage.get("input_tokens")),
                    output_tokens=token_count(usage.get("output_tokens")),
                )
            return ()
        if kind == "error" or "error" in data:
            raise _error_from_data(data, self.endpoint, self.request_id)
        return ()  # an event type this version does not know

    def close(self) -> Iterable[LLMAudioChunk]:
        if not self._done:
            raise StreamInterruptedError(
                f"the speech stream from {self.endpoint} ended without speech.audio.done "
                f"(after {self._received:,} bytes of audio)",
                endpoint=self.endpoint,
                request_id=self.request_id,
            )
        if not self._received:
            raise self._bad(f"{self.endpoint} streamed no audio")
        return (LLMAudioChunk(final=True, usage=self.usage, cost=self._cost(self.usage)),)


def _error_from(body: bytes, endpoint: str, request_id: str | None) -> Exception:
    try:
        data = decode_json(body)
    except (ValueError, RecursionError):
        return ResponseParsingError(
            f"{endpoint} answered a body that is neither audio nor a JSON error ({len(body)} bytes)",
            endpoint=endpoint,
            request_id=request_id,
        )
    return _error_from_data(data, endpoint, request_id)


def _error_from_data(data: Any, endpoint: str, request_id: str | None) -> Exception:
    from ...dialects.openai_chat.errors import error_from_body

    return error_from_body(None, data, endpoint=endpoint, request_id=request_id)
