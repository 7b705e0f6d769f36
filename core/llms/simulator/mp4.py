"""Small, structurally valid media files for the simulator's video routes.

:func:`mp4_bytes` builds an ISO base media file: an ``ftyp`` box first (major brand ``isom``),
then ``moov`` (``mvhd`` with the duration, one ``trak`` whose ``tkhd`` holds the frame size),
a ``free`` box naming the job, and an ``mdat`` box of deterministic filler. Every box's size
field is right, so a box walker reads it end to end; it holds no coded frames, so it does not
play. :func:`thumbnail_bytes` and :func:`spritesheet_bytes` make the two image variants (WebP and
JPEG framing only, likewise not decodable).
"""

from __future__ import annotations

import hashlib
import struct

__all__ = ["box", "mp4_bytes", "spritesheet_bytes", "thumbnail_bytes", "walk_boxes"]

#: the unity transformation matrix of ``mvhd`` / ``tkhd`` (16.16 and 2.30 fixed point).
_MATRIX = struct.pack(">9i", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
_TIMESCALE = 1000
#: seconds from 1904-01-01 (the ISO base media epoch) to a fixed creation time.
_CREATED = 3_786_912_000


def box(kind: bytes, payload: bytes) -> bytes:
    """One box: 32-bit big-endian size (header included), four-character type, payload."""
    if len(kind) != 4:
        raise ValueError("a box type is four bytes")
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags) + payload)


def _filler(seed: bytes, size: int) -> bytes:
    return hashlib.shake_256(b"core-llms-sim-mdat\0" + seed).digest(size)


def mp4_bytes(*, seconds: float, width: int, height: int, seed: bytes = b"", mdat_size: int = 4096) -> bytes:
    """An MP4 of ``seconds`` at ``width`` x ``height`` whose ``mdat`` is ``mdat_size`` bytes of
    filler derived from ``seed`` (the same arguments give the same bytes)."""
    duration = round(seconds * _TIMESCALE)
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", _CREATED, _CREATED, _TIMESCALE, duration)
        + struct.pack(">iH", 0x00010000, 0x0100)  # rate 1.0, volume 1.0
        + bytes(10)  # reserved
        + _MATRIX
        + bytes(24)  # pre_defined
        + struct.pack(">I", 2),  # next_track_ID
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        0x000003,  # enabled, in movie
        struct.pack(">IIIII", _CREATED, _CREATED, 1, 0, duration)
        + bytes(8)  # reserved
        + struct.pack(">hhhH", 0, 0, 0, 0)  # layer, alternate group, volume (video: 0), reserved
        + _MATRIX
        + struct.pack(">II", width << 16, height << 16),
    )
    moov = box(b"moov", mvhd + box(b"trak", tkhd))
    free = box(b"free", b"core-llms simulator " + seed[:64])
    mdat = box(b"mdat", _filler(seed, mdat_size))
    return ftyp + moov + free + mdat


def thumbnail_bytes(seed: bytes = b"") -> bytes:
    """A WebP-framed thumbnail (RIFF header and one ``VP8 `` chunk of filler)."""
    chunk = b"VP8 " + struct.pack("<I", 64) + _filler(b"thumb" + seed, 64)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def spritesheet_bytes(seed: bytes = b"") -> bytes:
    """A JPEG-framed spritesheet (SOI, one comment segment of filler, EOI)."""
    filler = _filler(b"sprites" + seed, 64)
    return b"\xff\xd8" + b"\xff\xfe" + struct.pack(">H", 2 + len(filler)) + filler + b"\xff\xd9"


def walk_boxes(data: bytes) -> list[tuple[bytes, int]]:
    """The top-level boxes of ``data`` as ``(type, size)``; ``ValueError`` when a size is wrong."""
    boxes: list[tuple[bytes, int]] = []
    offset = 0
    while offset < len(data):
        if offset + 8 > len(data):
            raise ValueError(f"a truncated box header at offset {offset}")
        (size,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        if size < 8 or offset + size > len(data):
            raise ValueError(f"box {kind!r} at offset {offset} has a bad size {size}")
        boxes.append((kind, size))
        offset += size
    return boxes
