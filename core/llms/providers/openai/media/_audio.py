"""What :mod:`.speech` and :mod:`.transcription` share: reading call parameters (the model's
``defaults`` under the call's, refused when unknown), the per-call transport options, and the
length of audio read from its own bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ....interfaces.endpoint import Timeouts
from ....interfaces.errors import InvalidInputError

if TYPE_CHECKING:
    from ..model import OpenAIModel

__all__ = ["Transport", "audio_seconds", "call_params", "choice", "transport"]

#: what every audio call takes besides its own parameters.
TRANSPORT_PARAMS = frozenset({"timeout", "read_timeout", "model"})


def call_params(
    model: OpenAIModel,
    params: Mapping[str, Any],
    allowed: frozenset[str],
    *,
    call: str,
    aliases: Mapping[str, str] | None = None,
    other_calls: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The model's ``defaults`` with ``params`` over them, each spelled as in ``allowed`` (an alias
    renamed; giving both spellings in one place is refused). ``None`` means "not given" (it
    also removes a default). An unknown name raises :class:`InvalidInputError` listing the
    allowed ones; a default named in ``other_calls`` (taken by the model's other audio call) is
    skipped."""
    merged: dict[str, Any] = {}
    for source, is_default in ((model._defaults, True), (params, False)):
        seen: dict[str, str] = {}
        for key, value in source.items():
            name = aliases.get(key, key) if aliases else key
            if name in seen:
                raise InvalidInputError(
                    f"pass only one of {seen[name]!r} and {key!r}", provider=model.provider, model=model.name
                )
            seen[name] = key
            if name not in allowed:
                if is_default and name in other_calls:
                    continue
                raise InvalidInputError(
                    f"unknown parameter {key!r} for {call}() with {model.name}",
                    provider=model.provider,
                    model=model.name,
                    hint=f"allowed: {', '.join(sorted(allowed))}",
                )
            merged[name] = value
    return {name: value for name, value in merged.items() if value is not None}


def choice(model: OpenAIModel, name: str, value: Any, allowed: tuple[str, ...], *, why: str = "") -> str:
    """``value`` when it is one of ``allowed``, else :class:`InvalidInputError` naming ``name``
    and the allowed values."""
    if isinstance(value, str) and value in allowed:
        return value
    shown = repr(value)[:40] if isinstance(value, str) else f"<{type(value).__name__}>"
    raise InvalidInputError(
        f"{name}={shown} is not supported by {model.name}{why}",
        provider=model.provider,
        model=model.name,
        hint=f"{name} must be one of: {', '.join(allowed)}",
    )


class Transport:
    """The model id and timeouts of one call."""

    __slots__ = ("model_fixed", "model_id", "read_timeout", "total_timeout")

    def __init__(self, model_id: str, model_fixed: bool, total: float | None, read: float | None) -> None:
        self.model_id = model_id
        self.model_fixed = model_fixed
        self.total_timeout = total
        self.read_timeout = read


def transport(model: OpenAIModel, params: Mapping[str, Any]) -> Transport:
    """``model=`` (a model id for this call only), ``timeout=`` (seconds for the whole call, or a
    :class:`Timeouts`: its total, and its read unless ``read_timeout=`` is given) and
    ``read_timeout=`` (longest silence between received bytes), checked."""
    wire = params.get("model")
    if wire is not None and (not isinstance(wire, str) or not wire.strip()):
        raise InvalidInputError(
            "model= must be a non-empty model id string", provider=model.provider, model=model.name
        )
    total = params.get("timeout")
    read = params.get("read_timeout")
    if isinstance(total, Timeouts):
        if read is None:
            read = total.read
        total = total.total
    elif total is not None:
        model._check_seconds("timeout", total)
    if read is not None:
        model._check_seconds("read_timeout", read)
    return Transport(wire if wire is not None else model.metadata.model_id, wire is not None, total, read)


# --------------------------------------------------------------------------- audio length

#: OpenAI's ``pcm``: 24 kHz, 16-bit signed little-endian, mono.
PCM_BYTES_PER_SECOND = 24_000 * 2


def audio_seconds(fmt: str, data: bytes) -> float | None:
    """The length in seconds of ``data`` in ``fmt`` when its bytes tell it: ``pcm`` (OpenAI's 24
    kHz 16-bit mono), ``wav`` (its header; a streamed WAV's unknown data size is taken as the rest
    of the file), ``flac`` (STREAMINFO) and constant-rate ``mp3`` (frames counted); None for the
    other formats or bytes that are not what they should be."""
    match fmt:
        case "pcm":
            return len(data) / PCM_BYTES_PER_SECOND
        case "wav":
            return _wav_seconds(data)
        case "flac":
            return _flac_seconds(data)
        case "mp3":
            return _mp3_seconds(data)
    return None


def _wav_seconds(data: bytes) -> float | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    byte_rate = 0
    while pos + 8 <= len(data):
        chunk = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"fmt " and pos + 20 <= len(data):
            byte_rate = int.from_bytes(data[pos + 16 : pos + 20], "little")
        elif chunk == b"data":
            if not byte_rate:
                return None
            rest = len(data) - pos - 8
            # a streamed WAV may not know its size: 0 or 0xFFFFFFFF, taken as the rest of the file
            return (rest if size == 0 else min(size, rest)) / byte_rate
        pos += 8 + size + (size & 1)
    return None


def _flac_seconds(data: bytes) -> float | None:
    if data[:4] != b"fLaC" or len(data) < 26 or data[4] & 0x7F != 0:  # first block: STREAMINFO
        return None
    bits = int.from_bytes(data[18:26], "big")
    rate, total = bits >> 44, bits & ((1 << 36) - 1)
    return total / rate if rate and total else None


_MP3_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1 Layer III
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 / 2.5 Layer III
}
_MP3_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}


def _mp3_seconds(data: bytes) -> float | None:
    """Layer III frames walked from the start (an ID3v2 tag skipped) to the end; None unless every
    byte belongs to a frame (or a trailing ID3v1 tag)."""
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        pos = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    seconds = 0.0
    end = len(data) - 128 if data[-128:-125] == b"TAG" else len(data)
    while pos < end:
        if pos + 4 > end or data[pos] != 0xFF or data[pos + 1] & 0xE6 != 0xE2:
            return None  # not a Layer III frame header
        version = (data[pos + 1] >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
        b2 = data[pos + 2]
        bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
        if version == 1 or not 0 < bitrate_index < 15 or rate_index == 3:
            return None
        rate = _MP3_RATES[version][rate_index]
        bitrate = _MP3_BITRATES[1 if version == 3 else 2][bitrate_index] * 1000
        samples = 1152 if version == 3 else 576
        pos += samples // 8 * bitrate // rate + ((b2 >> 1) & 1)
        seconds += samples / rate
    return seconds if seconds else None
