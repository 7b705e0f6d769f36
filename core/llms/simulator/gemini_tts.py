"""Gemini text to speech in the simulator: the answer of a ``*-tts`` model on the chat route
(``:generateContent`` / ``:streamGenerateContent``): raw 16-bit little-endian mono PCM at 24 kHz
(``audio/L16;codec=pcm;rate=24000``, base64 in ``inlineData``), 60 ms a character, a tone any
decoder reads; ``responseModalities`` and voices checked like the service; ``[sim:blocked]``
blocks the prompt. Re-exported by :mod:`.gemini_media_routes`."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .audio_files import SAMPLE_RATE, render, speech_seconds
from .google_wire import _invalid, _markers, _object, _send, _send_array, fault_body
from .openai_wire import StreamEvents
from .responder import send_stream

if TYPE_CHECKING:
    from .faults import Fault

__all__ = ["TTS_MIME_TYPE", "VOICES", "is_tts_model", "respond_tts", "tts_answer", "tts_stream_events"]

#: the media type of the TTS models' audio.
TTS_MIME_TYPE = f"audio/L16;codec=pcm;rate={SAMPLE_RATE}"
#: the TTS models' prebuilt voices.
VOICES = frozenset(
    {
        "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe",
        "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi",
        "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi",
        "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
    }
)  # fmt: skip
#: audio tokens a second of speech counts (Gemini's audio rate).
_AUDIO_TOKENS_PER_SECOND = 32
#: seconds of speech per stream event.
_STREAM_PIECE_SECONDS = 0.5


# --------------------------------------------------------------------------- TTS


def is_tts_model(model: str) -> bool:
    """Whether ``generateContent`` for ``model`` is answered with speech (its name has ``-tts``)."""
    return "-tts" in model


def _tts_request(body: Any) -> tuple[str, bool]:
    """The text to speak of a TTS ``generateContent`` body, and whether its prompt is blocked."""
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload received. Expected an object.")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise _invalid("* GenerateContentRequest.contents: contents is not specified")
    texts = []
    for content in contents:
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    text = "".join(texts)
    if not text.strip():
        raise _invalid("* GenerateContentRequest.contents: contents has no text to speak")
    config = _object(body.get("generationConfig"), "generationConfig")
    if config.get("responseModalities") not in (["AUDIO"], ["audio"]):
        raise _invalid(
            "The requested combination of response modalities (TEXT) is not supported by the model."
        )
    speech = _object(config.get("speechConfig"), "generationConfig.speechConfig")
    multi = speech.get("multiSpeakerVoiceConfig")
    if multi is not None:
        speakers = multi.get("speakerVoiceConfigs") if isinstance(multi, dict) else None
        if not isinstance(speakers, list) or len(speakers) != 2:
            raise _invalid("multiSpeakerVoiceConfig must have exactly 2 speakerVoiceConfigs.")
        for i, speaker in enumerate(speakers):
            if not isinstance(speaker, dict) or not isinstance(speaker.get("speaker"), str):
                raise _invalid(f"speakerVoiceConfigs[{i}].speaker must be a string.")
            _check_voice(speaker.get("voiceConfig"))
        if "voiceConfig" in speech:
            raise _invalid("Only one of voiceConfig and multiSpeakerVoiceConfig may be set.")
    elif "voiceConfig" in speech:
        _check_voice(speech["voiceConfig"])
    return text, "blocked" in _markers(text)


def _check_voice(config: Any) -> None:
    prebuilt = config.get("prebuiltVoiceConfig") if isinstance(config, dict) else None
    name = prebuilt.get("voiceName") if isinstance(prebuilt, dict) else None
    if name not in VOICES:
        raise _invalid(f"Voice name {str(name)[:40]} is not supported. Please use a supported voice.")


def _tts_usage(text: str, seconds: float) -> dict[str, Any]:
    prompt = max(1, math.ceil(len(text) / 4))
    audio = max(1, round(seconds * _AUDIO_TOKENS_PER_SECOND))
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": audio,
        "totalTokenCount": prompt + audio,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": audio}],
    }


def _audio_part(pcm: bytes) -> dict[str, Any]:
    return {"inlineData": {"mimeType": TTS_MIME_TYPE, "data": base64.b64encode(pcm).decode("ascii")}}


def _blocked_answer(model: str, text: str) -> dict[str, Any]:
    prompt = max(1, math.ceil(len(text) / 4))
    return {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
        "modelVersion": model,
    }


def tts_answer(body: Any, model: str) -> dict[str, Any]:
    """The ``generateContent`` answer of a TTS model: the speech of the request's text as one
    ``inlineData`` part (raises :class:`Rejection` for a request the service refuses)."""
    text, blocked = _tts_request(body)
    if blocked:
        return _blocked_answer(model, text)
    seconds = speech_seconds(text)
    pcm = render("pcm", seconds)
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [_audio_part(pcm)]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": _tts_usage(text, seconds),
        "modelVersion": model,
        "responseId": hashlib.sha256(text.encode()).hexdigest()[:22],
    }


def tts_stream_events(body: Any, model: str) -> list[dict[str, Any]]:
    """The ``streamGenerateContent`` events of a TTS model: about half a second of speech each,
    the last one with ``finishReason`` ``STOP``; every event carries ``usageMetadata`` (as the
    service sends it)."""
    text, blocked = _tts_request(body)
    if blocked:
        return [_blocked_answer(model, text)]
    seconds = speech_seconds(text)
    pcm = render("pcm", seconds)
    piece = int(SAMPLE_RATE * _STREAM_PIECE_SECONDS) * 2
    usage = _tts_usage(text, seconds)
    response_id = hashlib.sha256(text.encode()).hexdigest()[:22]
    starts = range(0, len(pcm), piece)
    events = []
    for i, start in enumerate(starts):
        candidate: dict[str, Any] = {
            "content": {"role": "model", "parts": [_audio_part(pcm[start : start + piece])]},
            "index": 0,
        }
        if i == len(starts) - 1:
            candidate["finishReason"] = "STOP"
        events.append(
            {
                "candidates": [candidate],
                "usageMetadata": usage,
                "modelVersion": model,
                "responseId": response_id,
            }
        )
    return events


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, separators=(", ", ": ")).encode() + b"\r\n\r\n"


async def respond_tts(
    request: web.Request,
    body: Any,
    model: str,
    headers: dict[str, str],
    fault: Fault | None,
    *,
    stream: bool,
    chunk_delay: float = 0.0,
) -> web.StreamResponse:
    """Answer a TTS model's ``generateContent`` (``stream=False``) or ``streamGenerateContent``
    (``stream=True``: SSE, ``data: {...}\\r\\n\\r\\n`` as the service frames it; without
    ``alt=sse``, one JSON array of the events), with the fault's effects. For the chat route's
    ``produce``: raises :class:`Rejection` for a bad request."""
    if not stream:
        return await _send(request, tts_answer(body, model), headers, fault, "tts")
    if request.query.get("alt") != "sse":  # a stream asked for without alt=sse: one JSON array
        return await _send_array(request, tts_stream_events(body, model), headers, fault)
    events = [_sse(event) for event in tts_stream_events(body, model)]

    def error_event(error: dict[str, Any]) -> bytes:  # an in-stream error, Google's way
        return _sse(fault_body(fault) if fault is not None else error)

    frames = StreamEvents(head=[], body=events, tail=[], error_event=error_event)
    return await send_stream(
        request,
        frames,
        {**headers, "Content-Disposition": "attachment"},
        fault,
        completion_id="tts",
        chunk_delay=chunk_delay,
    )
