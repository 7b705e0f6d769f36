"""The typed events of :meth:`LLMClient.chat_stream <core.llms.client.LLMClient.chat_stream>`.

A stream yields, in order: :class:`LogEvent` s (when the library logs something about the call:
a routed name, a capped ``max_tokens``, a retry or a failover when ``core.llms`` logs at that
level), :class:`ChunkEvent` s (text and reasoning as they arrive), then at the end one
:class:`ToolCallEvent` per tool call (whole: its arguments complete) and exactly one
:class:`UsageEvent` carrying the usage, the cost, the finish reason and the whole answer as an
:class:`~core.llms.interfaces.types.LLMResponse`. Concatenating the ``delta`` of every chunk
event gives the answer's text. Every event has a ``type`` (``"chunk"``, ``"tool_call"``,
``"usage"``, ``"log"``) to match on and a ``timestamp`` (:func:`time.time`).
"""

from __future__ import annotations

import contextvars
import logging
import time
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeAlias

from ..interfaces.messages import ToolCall
from ..interfaces.types import FinishReason, LLMResponse, LLMStreamChunk, Usage

__all__ = ["ChatEvent", "ChunkEvent", "LogEvent", "ToolCallEvent", "UsageEvent"]


@dataclass(slots=True)
class ChunkEvent:
    """A piece of the answer: ``delta`` (text) and/or ``reasoning``; ``chunk`` is the model's
    own :class:`~core.llms.interfaces.types.LLMStreamChunk` (endpoint, request id …)."""

    delta: str
    reasoning: str | None
    chunk: LLMStreamChunk
    timestamp: float = field(default_factory=time.time)
    type: ClassVar[Literal["chunk"]] = "chunk"


@dataclass(slots=True)
class ToolCallEvent:
    """A complete tool call the model asked for (sent after the last chunk)."""

    tool_call: ToolCall
    timestamp: float = field(default_factory=time.time)
    type: ClassVar[Literal["tool_call"]] = "tool_call"


@dataclass(slots=True)
class UsageEvent:
    """The end of the answer, sent once: usage (None when the provider reported none), cost
    (None without usage or prices), finish reason and the whole answer."""

    usage: Usage | None
    cost: float | None
    finish_reason: FinishReason | None
    response: LLMResponse
    timestamp: float = field(default_factory=time.time)
    type: ClassVar[Literal["usage"]] = "usage"


@dataclass(slots=True)
class LogEvent:
    """Something the library logged about this call (``level`` is a :mod:`logging` level name)."""

    level: str
    message: str
    logger: str = "core.llms.client"
    timestamp: float = field(default_factory=time.time)
    type: ClassVar[Literal["log"]] = "log"


#: any event of :meth:`LLMClient.chat_stream`.
ChatEvent: TypeAlias = ChunkEvent | ToolCallEvent | UsageEvent | LogEvent

#: the log events of the stream being stepped in this context (set only while the model runs).
_capture: contextvars.ContextVar[list[LogEvent] | None] = contextvars.ContextVar(
    "core_llms_stream_log", default=None
)


class _StreamLogHandler(logging.Handler):
    """Copies the records ``core.llms`` loggers emit while a client stream steps its model into
    that stream's events. Installed once; a record outside a stream costs one context lookup."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = _capture.get()
        if sink is not None:
            try:
                message = record.getMessage()
            except Exception:  # a bad format string in someone's log call: keep the template
                message = str(record.msg)
            sink.append(LogEvent(record.levelname, message, record.name, record.created))


_handler: _StreamLogHandler | None = None


def install_log_capture() -> None:
    """Attach the stream log handler to the ``core.llms`` logger (once per process)."""
    global _handler
    if _handler is None:
        _handler = _StreamLogHandler()
        logging.getLogger("core.llms").addHandler(_handler)


def begin_capture(sink: list[LogEvent]) -> contextvars.Token[list[LogEvent] | None]:
    """Route ``core.llms`` log records of this context into ``sink`` until :func:`end_capture`."""
    return _capture.set(sink)


def end_capture(token: contextvars.Token[list[LogEvent] | None]) -> None:
    """Stop routing records into the sink set by :func:`begin_capture`."""
    _capture.reset(token)
