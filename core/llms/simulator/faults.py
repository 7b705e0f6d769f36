"""Scripted faults: what the simulator does wrong, and the queue that hands them out.

A :class:`Fault` describes one misbehaviour for one request (an error status, a delay, a dropped
connection, a broken or truncated stream...). Faults are queued FIFO with
:meth:`FaultQueue.enqueue`, one consumed per provider request; while the queue is empty the
optional default fault applies to every request.

How each field acts on a **streaming** request (``"stream": true``):

``status`` / ``body``
    answer with that status and body (the OpenAI error envelope for the status when ``body`` is
    None) instead of the stream. ``body`` alone answers 200 with that body.
``headers`` / ``retry_after`` / ``retry_after_ms``
    extra response headers (``Retry-After`` / ``retry-after-ms``), on any response.
``delay``
    sleep before anything is sent.
``drop``
    close the TCP connection abruptly before the headers, after the headers but before the first
    chunk, or after the first content chunk.
``malformed_json``
    one ``data:`` event with broken JSON after the first content chunk; the stream then goes on.
``truncate_stream``
    the stream stops half-way through the content and ends cleanly: no finish chunk, no ``[DONE]``.
``stall``
    after the first content chunk, nothing is sent for ``stall`` seconds, then the stream goes on.
``error_event``
    after the first content chunk, one ``data: {"error": {...}}`` event, then the stream ends.
    The error is ``body`` when it is a dict, else the envelope for ``status`` (default 500); the
    HTTP status stays 200.

On a **non-streaming** request: any ``drop`` closes the connection before the headers;
``malformed_json`` sends a 200 whose JSON is broken; ``truncate_stream`` announces the full
``Content-Length`` but sends only half of the body before closing; ``stall`` sends the headers,
waits, then the body; ``error_event`` answers 200 with the error envelope as the body.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = ["DropPoint", "Fault", "FaultQueue"]

DropPoint = Literal["before_headers", "before_first_chunk", "after_first_chunk"]
_DROP_POINTS: frozenset[str] = frozenset(get_args(DropPoint))


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted misbehaviour for one request (every field optional; see the module docs)."""

    status: int | None = None
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    retry_after_ms: int | None = None
    delay: float = 0.0
    drop: DropPoint | None = None
    malformed_json: bool = False
    truncate_stream: bool = False
    stall: float = 0.0
    error_event: bool = False

    def __post_init__(self) -> None:
        if self.status is not None and (
            isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599
        ):
            raise ValueError(f"Fault.status must be an HTTP status between 100 and 599, got {self.status!r}")
        if self.status is not None and self.status < 400 and self.status != 200 and self.body is None:
            raise ValueError(
                f"Fault.status {self.status} is not an error status; give a body to send with it"
            )
        if self.body is not None and not isinstance(self.body, dict | str):
            raise ValueError(f"Fault.body must be a dict, a str or None, got {type(self.body).__name__}")
        if not isinstance(self.headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()
        ):
            raise ValueError("Fault.headers must map header names (str) to values (str)")
        _check_seconds("retry_after", self.retry_after, allow_none=True)
        if self.retry_after_ms is not None and (
            isinstance(self.retry_after_ms, bool)
            or not isinstance(self.retry_after_ms, int)
            or self.retry_after_ms < 0
        ):
            raise ValueError(f"Fault.retry_after_ms must be a non-negative int, got {self.retry_after_ms!r}")
        _check_seconds("delay", self.delay, allow_none=False)
        _check_seconds("stall", self.stall, allow_none=False)
        if self.drop is not None and self.drop not in _DROP_POINTS:
            raise ValueError(f"Fault.drop must be one of {sorted(_DROP_POINTS)} or None, got {self.drop!r}")
        for name in ("malformed_json", "truncate_stream", "error_event"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"Fault.{name} must be a bool")

    @property
    def replaces_response(self) -> bool:
        """True when the fault answers with its own status/body instead of a generated answer."""
        if self.error_event:
            return False
        return self.body is not None or (self.status is not None and self.status != 200)

    def response_headers(self) -> dict[str, str]:
        """The extra headers this fault adds: ``headers`` plus the Retry-After pair."""
        out = dict(self.headers)
        if self.retry_after is not None:
            ra = self.retry_after
            out["Retry-After"] = str(int(ra)) if float(ra).is_integer() else repr(float(ra))
        if self.retry_after_ms is not None:
            out["retry-after-ms"] = str(self.retry_after_ms)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """Build a fault from a JSON-style dict with the same field names (the HTTP control API)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a fault must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown Fault field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        kwargs = dict(data)
        if kwargs.get("headers") is None:
            kwargs.pop("headers", None)
        for name in ("delay", "stall"):
            if kwargs.get(name) is None:
                kwargs.pop(name, None)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-style dict form (inverse of :meth:`from_dict`)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _check_seconds(name: str, value: Any, *, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"Fault.{name} must be a finite number of seconds >= 0, got {value!r}")


class FaultQueue:
    """FIFO of faults, one per request, with an optional default used while the queue is empty."""

    __slots__ = ("_default", "_queue")

    def __init__(self) -> None:
        self._queue: collections.deque[Fault] = collections.deque()
        self._default: Fault | None = None

    def enqueue(self, *faults: Fault) -> None:
        """Append faults; each is used by exactly one later request, in order."""
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"enqueue() takes Fault objects, got {type(fault).__name__}")
        self._queue.extend(faults)

    def set_default(self, fault: Fault | None) -> None:
        """Fault for every request while the queue is empty; None removes it."""
        if fault is not None and not isinstance(fault, Fault):
            raise TypeError(f"the default fault must be a Fault or None, got {type(fault).__name__}")
        self._default = fault

    @property
    def default(self) -> Fault | None:
        """The current default fault, if any."""
        return self._default

    def pending(self) -> list[Fault]:
        """The queued faults, next first."""
        return list(self._queue)

    def next(self) -> Fault | None:
        """The fault for the request being handled: the queue's head, else the default."""
        if self._queue:
            return self._queue.popleft()
        return self._default

    def clear(self) -> None:
        """Drop every queued fault and the default."""
        self._queue.clear()
        self._default = None
