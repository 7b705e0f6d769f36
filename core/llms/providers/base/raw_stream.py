"""A stream decoder for bodies that are not events at all: raw bytes as they arrive (chunked
audio from a text-to-speech endpoint). Each received piece becomes one
:class:`~core.llms.interfaces.llm_interfaces.WireEvent` whose ``raw`` holds it."""

from __future__ import annotations

from ...interfaces.llm_interfaces import WireEvent

__all__ = ["RawBytesDecoder"]


class RawBytesDecoder:
    """Implements ``StreamDecoder``: one event per received piece, nothing buffered."""

    __slots__ = ()

    def feed(self, data: bytes) -> list[WireEvent]:
        return [WireEvent("", raw=bytes(data))] if data else []

    def close(self) -> list[WireEvent]:
        return []
