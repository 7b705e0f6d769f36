"""Small, real image files for the simulator's image routes: PNG, JPEG and WebP encoders written
with the standard library only (``zlib``, ``struct``).

* :func:`encode_png` writes any RGB or RGBA picture given as rows of pixels (8 bits per channel,
  no interlacing, filter type 0 on every row, one ``IDAT`` chunk).
* :func:`encode_jpeg` writes a baseline JFIF JPEG of one solid colour: three components without
  subsampling, quantisation tables of ones, and Huffman tables that code every DC difference
  category and the end-of-block code only (a solid colour has no AC coefficient). Decoders see
  exactly that colour, up to YCbCr rounding.
* :func:`encode_webp` writes a lossless (VP8L) WebP of one solid colour: five single-symbol
  prefix codes, so the pixels take no bits at all.

:func:`picture` draws what the image routes serve: a solid background with a centred square in
the complementary colour (PNG), or the background colour alone (JPEG, WebP), with a transparent
background around the square when asked (PNG; a WebP is then fully transparent: ``alpha`` 0).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

__all__ = ["PNG_SIGNATURE", "encode_jpeg", "encode_png", "encode_webp", "picture", "png_size"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGB = tuple[int, int, int]


# --------------------------------------------------------------------------- PNG


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(width: int, height: int, rows: Iterable[bytes], *, alpha: bool = False) -> bytes:
    """A PNG of ``height`` rows of ``width`` RGB (or, with ``alpha``, RGBA) pixels, 8 bits each."""
    if not (0 < width < 2**31 and 0 < height < 2**31):
        raise ValueError(f"PNG dimensions must be positive, got {width}x{height}")
    stride = width * (4 if alpha else 3)
    compressor = zlib.compressobj(6)
    parts: list[bytes] = []
    count = 0
    for row in rows:
        if len(row) != stride:
            raise ValueError(f"PNG row {count} has {len(row)} bytes, not {stride}")
        parts.append(compressor.compress(b"\x00" + row))
        count += 1
    if count != height:
        raise ValueError(f"PNG has {count} rows, not {height}")
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's ``IHDR``; None when ``data`` is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


# --------------------------------------------------------------------------- JPEG


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _category(value: int) -> int:
    return abs(value).bit_length()


def encode_jpeg(width: int, height: int, color: RGB) -> bytes:
    """A baseline JPEG, ``width`` x ``height``, of the solid colour ``color`` (see module doc)."""
    if not (0 < width <= 65535 and 0 < height <= 65535):
        raise ValueError(f"JPEG dimensions must be within 1..65535, got {width}x{height}")
    r, g, b = color
    components = (
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
    )
    # With quantisation 1, the DC coefficient of a flat 8x8 block is 8 * (value - 128).
    dcs = [max(-1024, min(1016, round(8 * (value - 128)))) for value in components]
    bits = 0
    count = 0

    def put(value: int, n: int) -> None:
        nonlocal bits, count
        bits = (bits << n) | value
        count += n

    for dc in dcs:  # the first MCU: each component's DC difference from 0, then end-of-block
        cat = _category(dc)
        put(cat, 4)  # DC code of category c: the 4-bit code c (see the DHT below)
        if cat:
            put(dc if dc > 0 else dc + (1 << cat) - 1, cat)
        put(0, 1)  # AC: end of block
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    # every later block: DC difference 0 (code 0000) and end of block (0): 5 zero bits
    bits <<= (blocks - 1) * 15
    count += (blocks - 1) * 15
    pad = -count % 8
    bits = (bits << pad) | ((1 << pad) - 1)
    count += pad
    scan = bits.to_bytes(count // 8, "big").replace(b"\xff", b"\xff\x00")
    out = bytearray(b"\xff\xd8")
    out += _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    out += _segment(0xDB, b"\x00" + b"\x01" * 64)
    out += _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00")
    dc_counts = bytes([0, 0, 0, 12] + [0] * 12)
    out += _segment(0xC4, b"\x00" + dc_counts + bytes(range(12)))
    ac_counts = bytes([1] + [0] * 15)
    out += _segment(0xC4, b"\x10" + ac_counts + b"\x00")
    out += _segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
    out += scan
    out += b"\xff\xd9"
    return bytes(out)


# --------------------------------------------------------------------------- WebP


def encode_webp(width: int, height: int, color: RGB, alpha: int = 255) -> bytes:
    """A lossless WebP, ``width`` x ``height``, of the solid colour ``color`` with ``alpha``."""
    if not (0 < width <= 16384 and 0 < height <= 16384):
        raise ValueError(f"WebP dimensions must be within 1..16384, got {width}x{height}")
    bits = 0
    count = 0

    def put(value: int, n: int) -> None:  # VP8L packs bits least significant first
        nonlocal bits, count
        bits |= value << count
        count += n

    put(0x2F, 8)  # signature
    put(width - 1, 14)
    put(height - 1, 14)
    put(1 if alpha != 255 else 0, 1)  # alpha_is_used
    put(0, 3)  # version
    put(0, 1)  # no transform
    put(0, 1)  # no colour cache
    put(0, 1)  # no meta prefix codes
    r, g, b = color
    for symbol in (g, r, b, alpha):  # green, red, blue, alpha: one 8-bit symbol each
        put(1, 1)  # simple code
        put(0, 1)  # one symbol
        put(1, 1)  # 8-bit symbol
        put(symbol, 8)
    put(1, 1)  # distance: simple code, one 1-bit symbol (0)
    put(0, 1)
    put(0, 1)
    put(0, 1)
    # one-symbol codes take zero bits per pixel: the image data ends here
    data = bits.to_bytes((count + 7) // 8, "little")
    chunk = b"VP8L" + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


# --------------------------------------------------------------------------- pictures


def picture(width: int, height: int, color: RGB, fmt: str = "png", *, transparent: bool = False) -> bytes:
    """The simulator's picture (see module doc) as a ``png``, ``jpeg`` or ``webp`` file."""
    if fmt == "jpeg":
        return encode_jpeg(width, height, color)
    if fmt == "webp":
        return encode_webp(width, height, color, 0 if transparent else 255)
    if fmt != "png":
        raise ValueError(f"unknown image format {fmt!r}")
    inner: RGB = (255 - color[0], 255 - color[1], 255 - color[2])
    if transparent:
        background, square = bytes((*color, 0)), bytes((*inner, 255))
    else:
        background, square = bytes(color), bytes(inner)
    left, top = width // 4, height // 4
    plain = background * width
    middle = background * left + square * (width - 2 * left) + background * left
    rows = (middle if top <= y < height - top else plain for y in range(height))
    return encode_png(width, height, rows, alpha=transparent)
