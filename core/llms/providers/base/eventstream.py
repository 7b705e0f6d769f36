"""AWS event-stream (``application/vnd.amazon.eventstream``) decoding, with botocore's own parser.

Bedrock streams its answers (``ConverseStream``, ``InvokeModelWithResponseStream``) as binary
frames::

    [total length: 4][headers length: 4][prelude CRC32: 4][headers][payload][message CRC32: 4]

Each frame's headers name what it is: ``:message-type`` (``event``, ``exception`` or ``error``),
then ``:event-type`` (``messageStart``, ``contentBlockDelta``, ``chunk`` …), ``:exception-type``
(``throttlingException`` …) or ``:error-code`` / ``:error-message``; the payload is JSON.

:class:`EventStreamDecoder` turns the bytes of a response, split anywhere, into one
:class:`~core.llms.interfaces.llm_interfaces.WireEvent` per frame:

* ``data``: the payload as text (UTF-8; invalid bytes replaced, as the SSE decoder does);
* ``event``: the ``:event-type`` header, or ``:exception-type`` for an exception, or
  ``:error-code`` for an error frame;
* ``extra``: ``{"message_type": "event" | "exception" | "error"}``, plus ``"error_message"`` (the
  ``:error-message`` header) for an error frame.

The frames are read by botocore (:class:`botocore.eventstream.EventStreamBuffer`: both CRCs, the
header and payload limits, the header types); this module only hands it whole frames, so its
buffer never holds more than one (botocore's own buffer copies everything after a frame each
time it takes one off, which makes a chunk of many small frames quadratic). A bad prelude or
message CRC, an oversized frame or malformed headers raise
:class:`~core.llms.interfaces.errors.ResponseParsingError`. The input ending in the middle of a
frame raises :class:`~core.llms.interfaces.errors.StreamInterruptedError` from :meth:`close` (the
stream was cut: whether that is before the first chunk, and so retried, is the connector's call).

botocore (the ``bedrock`` extra) is imported when the first decoder is made, never at import time.
"""

from __future__ import annotations

from typing import Any

from ...interfaces.errors import ConfigurationError, ResponseParsingError, StreamInterruptedError
from ...interfaces.llm_interfaces import WireEvent

__all__ = ["EventStreamDecoder"]

#: total length + headers length + prelude CRC.
_PRELUDE = 12
#: the smallest frame: a prelude and a message CRC, with no headers and no payload.
_MIN_FRAME = _PRELUDE + 4


def _buffer_class() -> Any:
    try:
        from botocore.eventstream import EventStreamBuffer
    except ImportError:  # the optional extra is not installed
        raise ConfigurationError(
            "reading an AWS event stream needs botocore",
            hint="pip install 'core-llms[bedrock]' (or boto3)",
        ) from None
    return EventStreamBuffer


class EventStreamDecoder:
    """Incremental ``application/vnd.amazon.eventstream`` decoder (implements ``StreamDecoder``).
    One per response."""

    __slots__ = ("_buf", "_frame_size", "_frames")

    def __init__(self) -> None:
        #: bytes received and not yet handed to botocore (from the start of a frame, or from
        #: just after the prelude of the frame being read).
        self._buf = bytearray()
        #: botocore's reader; it holds at most the frame being read.
        self._frames = _buffer_class()()
        #: the total length of the frame being read once its prelude was checked, else 0.
        self._frame_size = 0

    def feed(self, data: bytes) -> list[WireEvent]:
        """Decode one chunk of bytes; returns an event per frame it completed (often none)."""
        buf = self._buf
        buf += data
        events: list[WireEvent] = []
        pos = 0
        available = len(buf)
        while True:
            size = self._frame_size
            if size:  # the prelude of this frame was checked and handed over already
                rest = size - _PRELUDE
                if available - pos < rest:
                    break
            else:
                if available - pos < _PRELUDE:
                    break
                size = int.from_bytes(buf[pos : pos + 4], "big")
                if size < _MIN_FRAME:
                    raise ResponseParsingError(
                        f"malformed event-stream frame: it declares {size} bytes, fewer than a frame has"
                    )
                if available - pos < size:
                    # Not all here yet: have the prelude checked now (its CRC), so that a corrupt
                    # length is found at once rather than waited for.
                    if self._read(buf[pos : pos + _PRELUDE]) is not None:
                        raise ResponseParsingError("malformed event-stream frame: its length does not add up")
                    self._frame_size = size
                    pos += _PRELUDE
                    continue
                rest = size  # the whole frame is here: one hand-over
            message = self._read(buf[pos : pos + rest])
            pos += rest
            self._frame_size = 0
            events.append(_event(message))
        if pos:
            del buf[:pos]
        return events

    def close(self) -> list[WireEvent]:
        """End of input: nothing more, unless it stopped in the middle of a frame
        (:class:`StreamInterruptedError`)."""
        pending = len(self._buf) + (_PRELUDE if self._frame_size else 0)
        if not pending:
            return []
        total = f" of {self._frame_size}" if self._frame_size else ""
        self._buf.clear()
        self._frame_size = 0
        raise StreamInterruptedError(
            f"the event stream ended in the middle of a frame ({pending}{total} bytes)",
            hint="the connection was cut or the server stopped early; retry the call",
        )

    def _read(self, data: bytes | bytearray) -> Any:
        """Hand ``data`` (a frame, its prelude, or the rest of a frame after its prelude) to
        botocore and take the next message off it: None when the frame is not complete (after a
        prelude alone, whose CRC and limits botocore then checked). Its errors become
        :class:`ResponseParsingError`."""
        frames = self._frames
        try:
            frames.add_data(data)
            return next(frames, None)
        except Exception as exc:  # ChecksumMismatch, InvalidPayloadLength, struct.error …
            raise ResponseParsingError(
                f"malformed event-stream frame: {type(exc).__name__}: {str(exc)[:200]}"
            ) from None


def _event(message: Any) -> WireEvent:
    if message is None:  # botocore says the frame is incomplete, though it holds all its bytes
        raise ResponseParsingError("malformed event-stream frame: its length does not add up")
    headers = message.headers
    data = message.payload.decode("utf-8", "replace")
    kind = headers.get(":message-type", "event")
    if kind == "event":
        return WireEvent(data, _header(headers, ":event-type"), extra={"message_type": "event"})
    if kind == "exception":
        return WireEvent(data, _header(headers, ":exception-type"), extra={"message_type": "exception"})
    if kind == "error":
        extra = {"message_type": "error", "error_message": _header(headers, ":error-message")}
        return WireEvent(data, _header(headers, ":error-code"), extra=extra)
    # a message type this decoder does not know: passed on as it is, for the parser to judge
    return WireEvent(
        data, _header(headers, ":event-type"), extra={"message_type": _header(headers, ":message-type")}
    )


def _header(headers: dict[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
