"""The ``application/vnd.amazon.eventstream`` framing, written with the standard library only.

One message is::

    prelude   total length (uint32 BE), headers length (uint32 BE), CRC32 of those 8 bytes
    headers   per header: name length (uint8), name (UTF-8), value type (uint8; 7 = string),
              value length (uint16 BE), value (UTF-8)
    payload   the bytes (JSON for Bedrock)
    CRC32     of everything before it (prelude and its CRC included)

Bedrock's events carry ``:event-type``, ``:content-type: application/json`` and
``:message-type: event`` (in that order, as recorded); an error inside a stream is a message with
``:exception-type`` (e.g. ``throttlingException``) and ``:message-type: exception``. Bedrock pads
each event's JSON with a ``"p"`` member of varying length (so payload sizes do not leak content);
:func:`event_message` does the same, deterministically.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Sequence
from typing import Any

__all__ = [
    "MAX_HEADER_VALUE",
    "broken_event_message",
    "encode_message",
    "event_message",
    "exception_message",
    "padding",
]

_STRING = 7
#: the longest header value a string header can carry (its length is a uint16).
MAX_HEADER_VALUE = 0xFFFF
_PRELUDE = struct.Struct(">II")
_PAD_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _headers(headers: Sequence[tuple[str, str]]) -> bytes:
    out = bytearray()
    for name, value in headers:
        raw_name, raw_value = name.encode(), value.encode()
        if not 0 < len(raw_name) <= 0xFF:
            raise ValueError(f"event-stream header name of {len(raw_name)} bytes")
        if len(raw_value) > MAX_HEADER_VALUE:
            raise ValueError(f"event-stream header value of {len(raw_value)} bytes")
        out += bytes((len(raw_name),)) + raw_name + bytes((_STRING,)) + struct.pack(">H", len(raw_value))
        out += raw_value
    return bytes(out)


def encode_message(headers: Sequence[tuple[str, str]], payload: bytes) -> bytes:
    """One event-stream message with string ``headers`` (in order) and ``payload``."""
    head = _headers(headers)
    total = _PRELUDE.size + 4 + len(head) + len(payload) + 4
    prelude = _PRELUDE.pack(total, len(head))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + head + payload
    return body + struct.pack(">I", zlib.crc32(body))


def padding(seed: bytes) -> str:
    """The ``"p"`` padding of an event: 1 to 62 characters of ``a-zA-Z0-9``, by ``seed``."""
    return _PAD_ALPHABET[: zlib.crc32(seed) % len(_PAD_ALPHABET) + 1]


def _json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def event_message(event_type: str, payload: dict[str, Any], *, pad: bool = True) -> bytes:
    """An event message (``:message-type: event``) whose payload is ``payload`` as JSON, with the
    keys sorted and (``pad``) a ``"p"`` padding member, as Bedrock sends them."""
    if pad:
        payload = {**payload, "p": padding(event_type.encode() + _json(payload))}
    headers = [(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")]
    return encode_message(headers, _json(payload))


def exception_message(exception_type: str, payload: dict[str, Any]) -> bytes:
    """An exception message (``:message-type: exception``), e.g. ``throttlingException`` with
    ``{"message": "..."}``."""
    headers = [
        (":exception-type", exception_type),
        (":content-type", "application/json"),
        (":message-type", "exception"),
    ]
    return encode_message(headers, _json(payload))


def broken_event_message(event_type: str, text: str) -> bytes:
    """An event message whose framing and CRCs are right but whose JSON payload is cut off."""
    headers = [(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")]
    return encode_message(headers, text.encode())
