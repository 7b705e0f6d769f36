"""Scripted faults: what the simulator does wrong, and the queue that hands them out.

A :class:`Fault` describes one misbehaviour for one request (an error status, a delay, a dropped
connection, a broken or truncated stream...). Faults are queued FIFO with
:meth:`FaultQueue.enqueue`, one consumed per provider request; while the queue is empty an
optional fault generator (e.g. :class:`RandomFaults`, a seeded random mix for soak tests) picks a
fault per request, and when it picks none the optional default fault applies.

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
``reset``
    with ``drop``: abort the connection with a TCP reset (RST) instead of closing it cleanly (FIN),
    like a crashed server or a load balancer killing the connection.
``at``
    where the stream faults below act: ``"after_first_chunk"`` (default: once the caller has seen
    content) or ``"before_first_chunk"`` (after the headers, before any event).
``after_chunks``
    instead of ``at``: the stream faults below act after the head (role chunk) and this many
    content events (reasoning, text or tool-call deltas); 0 is right after the role chunk. Past
    the last content event they act just before the finish chunk.
``malformed_json``
    one ``data:`` event with broken JSON at ``at``; the stream then goes on.
``truncate_stream``
    the stream ends cleanly with no finish chunk and no ``[DONE]``: half-way through the content,
    or (``at="before_first_chunk"``) with no event at all, or (``after_chunks``) right there.
``stall``
    at ``at``, nothing is sent for ``stall`` seconds, then the stream goes on.
``error_event``
    at ``at``, one ``data: {"error": {...}}`` event, then the stream ends.
    The error is ``body`` when it is a dict, else the host's error body for ``status`` (default:
    ``error_code`` when it is an HTTP status, else 500); the HTTP status stays 200.
``error_code`` / ``message``
    the ``code`` and ``message`` of the generated error body of a ``status`` or ``error_event``
    fault (``error_code`` may be an int, as OpenRouter sends, or a str such as
    ``"tool_use_failed"``); ignored when ``body`` is given.
``omit_done``
    a complete stream (finish chunk, usage) that closes without ``data: [DONE]``.

On a **non-streaming** request: any ``drop`` closes (or resets) the connection before the headers;
``malformed_json`` sends a 200 whose JSON is broken; ``truncate_stream`` announces the full
``Content-Length`` but sends only half of the body before closing; ``stall`` sends the headers,
waits, then the body; ``error_event`` answers 200 with the error envelope as the body.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = [
    "DEFAULT_FAULT_MIX",
    "DropPoint",
    "Fault",
    "FaultGenerator",
    "FaultQueue",
    "RandomFaults",
    "StreamPoint",
]

DropPoint = Literal["before_headers", "before_first_chunk", "after_first_chunk"]
_DROP_POINTS: frozenset[str] = frozenset(get_args(DropPoint))
#: where in a stream ``stall`` / ``malformed_json`` / ``truncate_stream`` / ``error_event`` act.
StreamPoint = Literal["before_first_chunk", "after_first_chunk"]
_STREAM_POINTS: frozenset[str] = frozenset(get_args(StreamPoint))


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
    reset: bool = False
    at: StreamPoint = "after_first_chunk"
    after_chunks: int | None = None
    error_code: int | str | None = None
    message: str | None = None
    omit_done: bool = False

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
        for name in ("malformed_json", "truncate_stream", "error_event", "reset", "omit_done"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"Fault.{name} must be a bool")
        if self.reset and self.drop is None:
            raise ValueError("Fault.reset needs drop= (the point where the connection is reset)")
        if self.at not in _STREAM_POINTS:
            raise ValueError(f"Fault.at must be one of {sorted(_STREAM_POINTS)}, got {self.at!r}")
        if self.after_chunks is not None:
            n = self.after_chunks
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError(f"Fault.after_chunks must be an int >= 0 or None, got {n!r}")
            if self.at != "after_first_chunk":
                raise ValueError("Fault.after_chunks replaces at=; give one of them")
        code = self.error_code
        if code is not None and (isinstance(code, bool) or not isinstance(code, int | str)):
            raise ValueError(f"Fault.error_code must be an int, a str or None, got {code!r}")
        if self.message is not None and not isinstance(self.message, str):
            raise ValueError(f"Fault.message must be a str or None, got {type(self.message).__name__}")
        if (code is not None or self.message is not None) and not (
            self.error_event or (self.status is not None and self.status >= 400)
        ):
            raise ValueError("Fault.error_code and Fault.message need error_event=True or an error status")

    @property
    def error_status(self) -> int:
        """The status of the error this fault reports: ``status`` when it is an error status, else
        ``error_code`` when it is one (OpenRouter's integer codes), else 500."""
        if self.status is not None and self.status >= 400:
            return self.status
        code = self.error_code
        if isinstance(code, int) and 400 <= code <= 599:
            return code
        return 500

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
        for name in ("delay", "stall", "at"):
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


#: picks the fault for one request (None: no fault); called once per provider request.
FaultGenerator = Callable[[], "Fault | None"]

#: the mix :class:`RandomFaults` draws from by default: one of each kind of misbehaviour.
DEFAULT_FAULT_MIX: tuple[Fault, ...] = (
    Fault(status=503),
    Fault(status=429, retry_after_ms=10),
    Fault(status=500),
    Fault(drop="before_headers"),
    Fault(drop="after_first_chunk"),
    Fault(truncate_stream=True),
    Fault(malformed_json=True),
    Fault(error_event=True),
    Fault(stall=0.05),
)


class RandomFaults:
    """A seeded fault generator: each request gets, with probability ``rate``, one fault drawn
    uniformly from ``mix``, else none. ``counts[i]`` is how often ``mix[i]`` was handed out.

    The sequence of draws is fixed by ``seed``; which request receives which draw depends on the
    order requests arrive in.
    """

    __slots__ = ("_random", "counts", "mix", "rate")

    def __init__(
        self, rate: float, mix: Sequence[Fault] = DEFAULT_FAULT_MIX, seed: int | None = None
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be a number within [0, 1], got {rate!r}")
        mix = tuple(mix)
        if not mix:
            raise ValueError("the fault mix must hold at least one Fault")
        for item in mix:
            if not isinstance(item, Fault):
                raise ValueError(f"the fault mix must hold Fault objects, got {type(item).__name__}")
        self.rate = float(rate)
        self.mix = mix
        self.counts = [0] * len(mix)
        self._random = random.Random(seed)

    @property
    def injected(self) -> int:
        """How many faults were handed out so far."""
        return sum(self.counts)

    def __call__(self) -> Fault | None:
        if self._random.random() >= self.rate:
            return None
        index = self._random.randrange(len(self.mix))
        self.counts[index] += 1
        return self.mix[index]

    def __repr__(self) -> str:
        return f"RandomFaults(rate={self.rate}, kinds={len(self.mix)}, injected={self.injected})"


class FaultQueue:
    """FIFO of faults, one per request; while it is empty an optional generator picks a fault per
    request, and the optional default applies when there is no generator or it picks none."""

    __slots__ = ("_default", "_generator", "_queue")

    def __init__(self) -> None:
        self._queue: collections.deque[Fault] = collections.deque()
        self._default: Fault | None = None
        self._generator: FaultGenerator | None = None

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

    def set_generator(self, generator: FaultGenerator | None) -> None:
        """Callable picking a fault (or None) per request while the queue is empty; None removes it."""
        if generator is not None and not callable(generator):
            raise TypeError(f"the fault generator must be callable or None, got {type(generator).__name__}")
        self._generator = generator

    @property
    def generator(self) -> FaultGenerator | None:
        """The current fault generator, if any."""
        return self._generator

    def pending(self) -> list[Fault]:
        """The queued faults, next first."""
        return list(self._queue)

    def next(self) -> Fault | None:
        """The fault for the request being handled: the queue's head, else the generator's pick,
        else the default."""
        if self._queue:
            return self._queue.popleft()
        if self._generator is not None:
            fault = self._generator()
            if fault is not None:
                if not isinstance(fault, Fault):
                    raise TypeError(f"the fault generator returned {type(fault).__name__}, not a Fault")
                return fault
        return self._default

    def clear(self) -> None:
        """Drop every queued fault, the generator and the default."""
        self._queue.clear()
        self._default = None
        self._generator = None
