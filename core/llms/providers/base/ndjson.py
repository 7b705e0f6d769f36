"""Newline-delimited JSON (``application/x-ndjson``, JSON Lines) stream decoding.

:class:`NDJSONDecoder` yields one :class:`~core.llms.interfaces.llm_interfaces.WireEvent` per
non-blank line, with ``data`` the line's text (a trailing ``\\r`` and surrounding blanks removed).
It does not parse the JSON: the stream parser does that, once per payload. Lines are cut at
``\\n`` bytes only (``\\n`` never occurs inside a multi-byte UTF-8 character, and JSON strings
escape it), so bytes split anywhere decode the same. A leading byte-order mark is dropped and a
final line without a newline is returned by :meth:`NDJSONDecoder.close`.
"""

from __future__ import annotations

from ...interfaces.llm_interfaces import WireEvent

__all__ = ["NDJSONDecoder"]

_BLANKS = " \t\r"


class NDJSONDecoder:
    """Incremental NDJSON decoder (implements ``StreamDecoder``). One per response."""

    __slots__ = ("_buf", "_started")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._started = False

    def feed(self, data: bytes) -> list[WireEvent]:
        """Decode one chunk of bytes; returns one event per line it completed."""
        cut = data.rfind(b"\n")
        if cut < 0:
            self._buf += data
            return []
        if self._buf:
            self._buf += data[:cut]
            complete: bytes | bytearray = self._buf
            self._buf = bytearray(data[cut + 1 :])
        else:
            complete = data[:cut]
            self._buf += data[cut + 1 :]
        return self._lines(complete)

    def close(self) -> list[WireEvent]:
        """End of input: the last line, if it had no trailing newline."""
        if not self._buf:
            return []
        rest = self._buf
        self._buf = bytearray()
        return self._lines(rest)

    def _lines(self, raw: bytes | bytearray) -> list[WireEvent]:
        text = raw.decode("utf-8", "replace")
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        events: list[WireEvent] = []
        for line in text.split("\n"):
            line = line.strip(_BLANKS)
            if line:
                events.append(WireEvent(data=line))
        return events
