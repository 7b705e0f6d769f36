"""Audio files the simulator makes and measures: the speech it "speaks" and the length of the
audio it is asked to transcribe.

Every file is real, decodable audio (checked with mpg123, flac, opusdec and faad when written):

* ``wav`` — RIFF/WAVE, PCM 16-bit mono at 24 kHz (OpenAI's speech format), a 480 Hz tone;
* ``pcm`` — the same samples without a header (OpenAI's ``pcm``: 24 kHz, 16-bit LE, mono);
* ``flac`` — the same tone in FLAC frames of verbatim subframes (no compression, valid CRCs);
* ``mp3`` — silent MPEG-1 Layer III frames (44.1 kHz, 128 kbit/s, mono): a header and zeroed side
  information, which every decoder plays as silence (encoding a tone would need an encoder);
* ``opus`` — Ogg Opus (OpusHead, OpusTags, one 20 ms packet per page) whose packets are bare TOC
  bytes: zero-length CELT frames, which a decoder plays as silence;
* ``aac`` — ADTS AAC-LC frames at 24 kHz, each a single channel element with no spectral data
  (silence).

The tone's length scales with the text (:func:`speech_seconds`); the silent formats have the same
length rounded up to whole frames. Nothing here imports the client's code.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from functools import cache

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "SAMPLE_RATE",
    "audio_seconds",
    "render",
    "speech_seconds",
    "upload_kind",
]

#: the sample rate of the wav / pcm / flac / aac speech (OpenAI's: 24 kHz).
SAMPLE_RATE = 24_000
#: speech formats and the Content-Type the simulator answers them with.
MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
FORMATS = tuple(MEDIA_TYPES)

_SECONDS_PER_CHAR = 0.06
_MIN_SECONDS = 0.25
_PERIOD = 50  # samples per period of the tone: 24000 / 50 = 480 Hz
_AMPLITUDE = 0.3 * 32767


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """How long speaking ``text`` takes at ``speed``: 60 ms a character (at least 250 ms)."""
    return max(_MIN_SECONDS, len(text) * _SECONDS_PER_CHAR) / speed


def render(fmt: str, seconds: float) -> bytes:
    """``seconds`` of speech in ``fmt`` (one of :data:`FORMATS`)."""
    samples = max(1, round(seconds * SAMPLE_RATE))
    match fmt:
        case "wav":
            return wav(samples)
        case "pcm":
            return _tone(samples)
        case "flac":
            return flac(samples)
        case "mp3":
            return mp3(seconds)
        case "opus":
            return ogg_opus(seconds)
        case "aac":
            return adts_aac(samples)
    raise ValueError(f"unknown audio format {fmt!r}")


# --------------------------------------------------------------------------- tone, wav, pcm


@cache
def _period() -> bytes:
    one = array("h", (round(_AMPLITUDE * math.sin(2 * math.pi * i / _PERIOD)) for i in range(_PERIOD)))
    if sys.byteorder == "big":
        one.byteswap()
    return one.tobytes()


def _tone(samples: int) -> bytes:
    """``samples`` samples of the tone, 16-bit little-endian mono."""
    whole, rest = divmod(samples, _PERIOD)
    period = _period()
    return period * whole + period[: rest * 2]


def wav(samples: int) -> bytes:
    """A RIFF/WAVE file: PCM 16-bit mono at 24 kHz, ``samples`` samples of the tone."""
    data = _tone(samples)
    fmt = struct.pack("<HHIIHH", 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


# --------------------------------------------------------------------------- flac


class _Bits:
    """A big-endian bit writer."""

    def __init__(self) -> None:
        self.value = 0
        self.size = 0

    def put(self, value: int, bits: int) -> None:
        self.value = (self.value << bits) | (value & ((1 << bits) - 1))
        self.size += bits

    def bytes(self) -> bytes:
        pad = -self.size % 8
        return (self.value << pad).to_bytes((self.size + pad) // 8, "big")


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


@cache
def _crc16_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        crc = n << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return tuple(table)


def _crc16(data: bytes) -> int:
    table = _crc16_table()
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


def _utf8_number(n: int) -> bytes:
    """FLAC's "UTF-8" coding of a frame number (up to 31 bits)."""
    if n < 0x80:
        return bytes([n])
    count = 2
    while n >= 1 << (5 * count + 1):
        count += 1
    tail = []
    for _ in range(count - 1):
        tail.append(0x80 | (n & 0x3F))
        n >>= 6
    return bytes([((0xFF << (8 - count)) & 0xFF) | n, *reversed(tail)])


_FLAC_BLOCK = 4096


def flac(samples: int) -> bytes:
    """A FLAC file (24 kHz, 16-bit, mono) of the tone in verbatim subframes."""
    pcm = array("h")
    pcm.frombytes(_tone(samples))
    if sys.byteorder == "little":
        pcm.byteswap()  # FLAC samples are big-endian
    big = pcm.tobytes()
    info = _Bits()
    last = samples % _FLAC_BLOCK or _FLAC_BLOCK
    info.put(_FLAC_BLOCK if samples > _FLAC_BLOCK else samples, 16)  # min block size
    info.put(_FLAC_BLOCK if samples > _FLAC_BLOCK else samples, 16)  # max block size
    info.put(0, 24)  # min frame size: unknown
    info.put(0, 24)  # max frame size: unknown
    info.put(SAMPLE_RATE, 20)
    info.put(0, 3)  # channels - 1
    info.put(15, 5)  # bits per sample - 1
    info.put(samples, 36)
    info.put(0, 128)  # MD5: unknown
    streaminfo = info.bytes()
    out = bytearray(b"fLaC" + bytes([0x80]) + len(streaminfo).to_bytes(3, "big") + streaminfo)
    frames = math.ceil(samples / _FLAC_BLOCK)
    for index in range(frames):
        size = _FLAC_BLOCK if index < frames - 1 else last
        if size == _FLAC_BLOCK:
            header = bytearray(b"\xff\xf8" + bytes([0xC7, 0x08]) + _utf8_number(index))
        else:  # block size as 16-bit (size - 1) at the end of the header
            header = bytearray(b"\xff\xf8" + bytes([0x77, 0x08]) + _utf8_number(index))
            header += (size - 1).to_bytes(2, "big")
        header.append(_crc8(bytes(header)))
        start = index * _FLAC_BLOCK * 2
        frame = header + b"\x02" + big[start : start + size * 2]  # verbatim subframe
        frame += _crc16(bytes(frame)).to_bytes(2, "big")
        out += frame
    return bytes(out)


# --------------------------------------------------------------------------- mp3

#: MPEG-1 Layer III, no CRC; 128 kbit/s, 44.1 kHz, no padding; mono, original.
_MP3_HEADER = b"\xff\xfb\x90\xc4"
_MP3_RATE = 44_100
_MP3_FRAME = 144 * 128_000 // _MP3_RATE  # 417 bytes
_MP3_SAMPLES = 1152


def mp3(seconds: float) -> bytes:
    """Silent MPEG-1 Layer III frames lasting at least ``seconds``."""
    frames = max(1, math.ceil(seconds * _MP3_RATE / _MP3_SAMPLES))
    frame = _MP3_HEADER + bytes(_MP3_FRAME - len(_MP3_HEADER))
    return frame * frames


# --------------------------------------------------------------------------- ogg opus


@cache
def _ogg_crc_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        crc = n << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
        table.append(crc)
    return tuple(table)


def _ogg_crc(data: bytes) -> int:
    table = _ogg_crc_table()
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


_OGG_SERIAL = 0x53494D55  # "SIMU"


def _ogg_page(packet: bytes, sequence: int, granule: int, flags: int) -> bytes:
    lacing = bytes([255] * (len(packet) // 255) + [len(packet) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, _OGG_SERIAL, sequence, 0, len(lacing))
    page = bytearray(header + lacing + packet)
    page[22:26] = struct.pack("<I", _ogg_crc(bytes(page)))
    return bytes(page)


_OPUS_PRE_SKIP = 312
_OPUS_PACKET = 960  # 20 ms at 48 kHz (Opus granule positions count 48 kHz samples)
#: TOC byte: config 31 (CELT fullband, 20 ms), mono, one frame; no frame data follows.
_OPUS_SILENCE = bytes([31 << 3])


def ogg_opus(seconds: float) -> bytes:
    """An Ogg Opus file of silence lasting at least ``seconds``."""
    packets = max(1, math.ceil(seconds * 50))
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, _OPUS_PRE_SKIP, SAMPLE_RATE, 0, 0)
    vendor = b"core-llms simulator"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    out = [_ogg_page(head, 0, 0, 0x02), _ogg_page(tags, 1, 0, 0)]
    for i in range(packets):
        granule = _OPUS_PRE_SKIP + (i + 1) * _OPUS_PACKET
        out.append(_ogg_page(_OPUS_SILENCE, i + 2, granule, 0x04 if i == packets - 1 else 0))
    return b"".join(out)


# --------------------------------------------------------------------------- aac

_AAC_SAMPLES = 1024
_AAC_RATE_INDEX = 6  # 24 kHz


@cache
def _aac_frame() -> bytes:
    raw = _Bits()
    raw.put(0, 3)  # single channel element
    raw.put(0, 4)  # element instance tag
    raw.put(100, 8)  # global gain
    raw.put(0, 1)  # ics_reserved_bit
    raw.put(0, 2)  # window sequence: only long
    raw.put(0, 1)  # window shape
    raw.put(0, 6)  # max_sfb: no scale factor bands, so no spectral data
    raw.put(0, 1)  # predictor data present
    raw.put(0, 1)  # pulse data present
    raw.put(0, 1)  # tns data present
    raw.put(0, 1)  # gain control data present
    raw.put(7, 3)  # end
    payload = raw.bytes()
    length = 7 + len(payload)
    header = _Bits()
    header.put(0xFFF, 12)  # syncword
    header.put(0, 1)  # MPEG-4
    header.put(0, 2)  # layer
    header.put(1, 1)  # protection absent
    header.put(1, 2)  # profile: AAC LC (object type 2, minus 1)
    header.put(_AAC_RATE_INDEX, 4)
    header.put(0, 1)  # private bit
    header.put(1, 3)  # channel configuration: mono
    header.put(0, 4)  # original, home, copyright id bit, copyright id start
    header.put(length, 13)
    header.put(0x7FF, 11)  # buffer fullness: variable bit rate
    header.put(0, 2)  # one raw data block
    return header.bytes() + payload


def adts_aac(samples: int) -> bytes:
    """ADTS AAC-LC frames of silence (24 kHz mono) covering ``samples`` samples."""
    return _aac_frame() * max(1, math.ceil(samples / _AAC_SAMPLES))


# --------------------------------------------------------------------------- uploads

#: upload formats the transcription endpoints take, by file extension.
UPLOAD_EXTENSIONS = ("flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "oga", "wav", "webm")


def upload_kind(data: bytes) -> str | None:
    """What audio ``data`` is, from its magic number: ``wav``, ``mp3``, ``ogg``, ``flac``, ``mp4``,
    ``webm``; None when it is none of these."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (
        len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06
    ):
        return "mp3"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"fLaC":
        return "flac"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    return None


#: bytes a second assumed for audio whose length cannot be read (128 kbit/s).
_ASSUMED_BYTE_RATE = 16_000


def audio_seconds(data: bytes) -> float:
    """The length of uploaded audio in seconds: read from a WAV, FLAC, MP3 or Ogg Opus file,
    else estimated from its size (128 kbit/s)."""
    kind = upload_kind(data)
    seconds: float | None = None
    if kind == "wav":
        seconds = _wav_seconds(data)
    elif kind == "flac" and len(data) >= 26:
        bits = int.from_bytes(data[18:26], "big")
        rate = bits >> 44
        total = bits & ((1 << 36) - 1)
        seconds = total / rate if rate and total else None
    elif kind == "mp3":
        seconds = _mp3_seconds(data)
    elif kind == "ogg":
        seconds = _ogg_opus_seconds(data)
    return seconds if seconds is not None else len(data) / _ASSUMED_BYTE_RATE


def _wav_seconds(data: bytes) -> float | None:
    pos = 12
    byte_rate = 0
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if chunk == b"fmt " and size >= 16 and pos + 24 <= len(data):
            byte_rate = struct.unpack_from("<I", data, pos + 16)[0]
        elif chunk == b"data":
            size = min(size, len(data) - pos - 8)
            return size / byte_rate if byte_rate else None
        pos += 8 + size + (size & 1)
    return None


_MP3_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_RATES = (44_100, 48_000, 32_000)


def _mp3_seconds(data: bytes) -> float | None:
    """The length of MPEG-1 Layer III audio (frames walked; an ID3v2 tag skipped)."""
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        pos = 10 + size
    seconds = 0.0
    frames = 0
    while pos + 4 <= len(data):
        b1, b2 = data[pos + 1], data[pos + 2]
        if data[pos] != 0xFF or b1 & 0xFE != 0xFA:
            break  # not an MPEG-1 Layer III frame header
        bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
        if not 0 < bitrate_index < 15 or rate_index == 3:
            break
        rate = _MP3_RATES[rate_index]
        pos += 144 * _MP3_BITRATES[bitrate_index] * 1000 // rate + ((b2 >> 1) & 1)
        seconds += _MP3_SAMPLES / rate
        frames += 1
    return seconds if frames else None


def _ogg_opus_seconds(data: bytes) -> float | None:
    """The length of an Ogg Opus stream: its last page's granule position less the pre-skip."""
    last = data.rfind(b"OggS")
    head = data.find(b"OpusHead")
    if last < 0 or head < 0 or last + 14 > len(data) or head + 12 > len(data):
        return None
    granule = struct.unpack_from("<q", data, last + 6)[0]
    pre_skip = struct.unpack_from("<H", data, head + 10)[0]
    return max(0, granule - pre_skip) / 48_000 if granule > 0 else None
