"""The length of audio read from its own bytes (WAV, PCM, FLAC, MP3), for :mod:`.speech` and
:mod:`.transcription`."""

from __future__ import annotations

__all__ = ["audio_seconds"]


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
