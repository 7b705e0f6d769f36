"""Reading PNG bytes back in tests: size, colour type and the decoded rows."""

from __future__ import annotations

import struct
import zlib


def png_info(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, colour type, raw rows without their filter byte) of a PNG we wrote."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8
    raw = zlib.decompress(idat)
    stride = width * (4 if color_type == 6 else 3) + 1
    assert len(raw) == stride * height
    rows = [raw[i * stride : (i + 1) * stride] for i in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, color_type, [row[1:] for row in rows]

