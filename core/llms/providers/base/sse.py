"""Server-sent events (``text/event-stream``) decoding, by the WHATWG HTML rules.

:class:`SSEDecoder` turns raw response bytes, split anywhere (inside a multi-byte UTF-8
character, between the ``\\r`` and ``\\n`` of a line ending, in the middle of a field name), into
:class:`~core.llms.interfaces.llm_interfaces.WireEvent` objects.

Rules implemented (https://html.spec.whatwg.org/multipage/server-sent-events.html):

* lines end with ``\\r\\n``, ``\\n`` or ``\\r``; a blank line dispatches the event being built;
* one leading byte-order mark of the stream is dropped;
* a line starting with ``:`` is a comment (providers' keep-alives) and is ignored;
* ``field:value`` with one optional space after the colon; a line with no colon is a field with
  an empty value; unknown fields are ignored;
* ``data`` lines of one event are joined with ``\\n``; ``event`` sets :attr:`WireEvent.event`
  (``None`` when absent or empty); ``id`` sets the last event id, which persists across events
  as the spec says (an id containing NUL is ignored); ``retry`` (ASCII digits only) is attached
  to the event in which it appeared (a value of more than 18 digits is ignored);
* an event with no ``data`` line is not dispatched;
* invalid UTF-8 is replaced with U+FFFD rather than failing the stream.

One deliberate difference from browsers: :meth:`SSEDecoder.close` dispatches a final event whose
terminating blank line never arrived (browsers drop it). Several providers end their stream
without the last blank line; losing their final event (often the usage or ``[DONE]``) would be
worse than accepting it. Whether the stream was *complete* is the stream parser's decision (it
checks for its terminal marker), not the decoder's.

Speed: line endings are normalised to ``\\n`` only when a chunk contains ``\\r``; per chunk, the
bytes up to its last ``\\n\\n`` are decoded from UTF-8 once (UTF-8 never puts ``\\n`` inside a
character, so the cut is safe) and split into events, and the common single-line ``data: ...``
event takes a short path with no further splitting.
"""

from __future__ import annotations

from ...interfaces.llm_interfaces import WireEvent

__all__ = ["SSEDecoder"]

_BOM = "\ufeff"
_MAX_RETRY_DIGITS = 18


class SSEDecoder:
    """Incremental ``text/event-stream`` decoder (implements ``StreamDecoder``). One per response."""

    __slots__ = ("_buf", "_last_id", "_skip_lf", "_started")

    def __init__(self) -> None:
        self._buf = bytearray()
        #: the spec's "last event ID buffer": persists across events.
        self._last_id: str | None = None
        #: the previous chunk ended with ``\r``: a ``\n`` starting the next chunk ends the same line.
        self._skip_lf = False
        #: a block was already decoded, so a leading BOM can no longer occur.
        self._started = False

    def feed(self, data: bytes) -> list[WireEvent]:
        """Decode one chunk of bytes; returns the events it completed (often none)."""
        if self._skip_lf:
            self._skip_lf = False
            if data[:1] == b"\n":
                data = data[1:]
        if not data:
            return []
        if 13 in data:  # b"\r" (an int lookup is a plain memchr)
            self._skip_lf = data[-1] == 13
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buf = self._buf
        if buf:
            start = len(buf) - 1  # a "\n\n" may straddle the old tail and the new chunk
            buf += data
            end = buf.rfind(b"\n\n", start)
            if end < 0:
                return []
            complete: bytes | bytearray = buf[:end]
            del buf[: end + 2]
        else:
            # Common case: nothing buffered; the chunk usually ends exactly after an event.
            end = data.rfind(b"\n\n")
            if end < 0:
                buf += data
                return []
            complete = data[:end]
            if end + 2 < len(data):
                buf += data[end + 2 :]
        return self._blocks(complete.decode("utf-8", "replace"))

    def close(self) -> list[WireEvent]:
        """End of input: dispatch an unterminated final event (leniently; see the module doc)."""
        self._skip_lf = False
        if not self._buf:
            return []
        text = self._buf.decode("utf-8", "replace")
        self._buf.clear()
        return self._blocks(text)

    def _blocks(self, text: str) -> list[WireEvent]:
        """The events of complete blocks (``text`` holds whole blocks separated by blank lines)."""
        if not self._started:
            self._started = True
            if text.startswith(_BOM):
                text = text[1:]
        events: list[WireEvent] = []
        last_id = self._last_id
        for block in text.split("\n\n"):
            if block.startswith("data: ") and "\n" not in block:
                # Fast path: a lone "data: " line, by far the most common event.
                events.append(WireEvent(data=block[6:], id=last_id))
            elif block:
                self._block(block, events)
                last_id = self._last_id
        return events

    def _block(self, text: str, events: list[WireEvent]) -> None:
        """Interpret one block of lines (blocks are cut at the first blank line, so only leading
        blank lines occur inside one)."""
        data: list[str] = []
        event: str | None = None
        retry: int | None = None
        for line in text.split("\n"):
            if not line:
                self._dispatch(data, event, retry, events)
                data, event, retry = [], None, None
                continue
            colon = line.find(":")
            if colon == 0:
                continue  # comment / keep-alive
            if colon < 0:
                name, value = line, ""
            else:
                name = line[:colon]
                value = line[colon + 1 :]
                if value.startswith(" "):
                    value = value[1:]
            match name:
                case "data":
                    data.append(value)
                case "event":
                    event = value or None
                case "id":
                    if "\0" not in value:
                        self._last_id = value
                case "retry":
                    # More than 18 digits is no sensible delay (and int() refuses > 4300 digits).
                    if value.isascii() and value.isdigit() and len(value) <= _MAX_RETRY_DIGITS:
                        retry = int(value)
                case _:
                    pass  # the spec says: ignore unknown fields
        self._dispatch(data, event, retry, events)

    def _dispatch(
        self, data: list[str], event: str | None, retry: int | None, events: list[WireEvent]
    ) -> None:
        if not data:
            return  # no data line: not dispatched
        events.append(WireEvent(data="\n".join(data), event=event, id=self._last_id, retry=retry))
