"""An in-memory metrics recorder: what a service reads to report on its own LLM calls.

:class:`MetricsRecorder` is an observer plugin (``llms_on_attempt`` / ``llms_on_response`` /
``llms_on_error``). It counts calls by provider, model, endpoint and outcome, errors by type,
retries and failovers (from the connector's attempt events), call latency and a stream's time
to its first chunk (fixed-bucket histograms), tokens and cost. :meth:`MetricsRecorder.snapshot`
returns plain dataclasses (per model and totals) whose ``to_dict()`` is JSON-ready::

    handle = observability.enable(metrics=True)
    ...
    snap = handle.recorder.snapshot()
    snap.totals.calls, snap.totals.latency.quantile(0.95)
    json.dumps(snap.to_dict())

Updates hold one :class:`threading.Lock` for a few dictionary and list operations (the lock
costs ~0.1 µs uncontended); a call costs a few microseconds in all. Nothing here keeps labels,
ids or messages: the keys are the provider, the model, the endpoint's display name (never a
credential; it goes through ``call.mask`` all the same) and error class names.
"""

from __future__ import annotations

import bisect
import logging
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..hookspecs import hookimpl
from ..interfaces.errors import InvalidInputError, LLMError
from ..interfaces.observer import AttemptInfo, CallInfo
from .summary import UNKNOWN_ENDPOINT, EndpointNames, error_endpoint, error_type

__all__ = [
    "LATENCY_BUCKETS",
    "UNKNOWN_ENDPOINT",
    "CallCount",
    "HistogramSnapshot",
    "MetricsRecorder",
    "MetricsSnapshot",
    "ModelStats",
]

logger = logging.getLogger("core.llms.observability")

#: upper bounds (seconds) of the latency and time-to-first-chunk histogram buckets (OpenTelemetry's
#: advice for ``gen_ai.client.operation.duration``); one more bucket (``+Inf``) holds the rest.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip

_SUMMED = (
    "calls",
    "attempts",
    "retries",
    "failovers",
    "skipped",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost",
)


@dataclass(frozen=True, slots=True)
class HistogramSnapshot:
    """A fixed-bucket histogram: ``counts[i]`` values fell in ``(bounds[i-1], bounds[i]]``
    (``counts[-1]``: above the last bound). ``min`` / ``max`` are None while it is empty."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    count: int = 0
    sum: float = 0.0
    min: float | None = None
    max: float | None = None

    @property
    def mean(self) -> float | None:
        """The mean value, or None while empty."""
        return self.sum / self.count if self.count else None

    def cumulative(self) -> tuple[int, ...]:
        """Counts at or below each bound, then the total (Prometheus' ``le`` buckets)."""
        total = 0
        out = []
        for n in self.counts:
            total += n
            out.append(total)
        return tuple(out)

    def quantile(self, q: float) -> float | None:
        """The ``q``-quantile (0 <= q <= 1) estimated from the buckets: linear interpolation
        inside the bucket holding the rank (as Prometheus' ``histogram_quantile``), the bucket's
        ends narrowed to the observed ``min`` and ``max``; None while empty."""
        if not isinstance(q, int | float) or isinstance(q, bool) or not 0.0 <= q <= 1.0:
            raise InvalidInputError(f"quantile(q) takes a number between 0 and 1, not {q!r}")
        if not self.count or self.min is None or self.max is None:
            return None
        rank = q * self.count
        seen = 0
        for index, n in enumerate(self.counts):
            if n and seen + n >= rank:
                lower = self.bounds[index - 1] if index > 0 else 0.0
                upper = self.bounds[index] if index < len(self.bounds) else self.max
                lower = max(lower, self.min)
                upper = min(upper, self.max)
                value = lower + (upper - lower) * max(rank - seen, 0.0) / n
                return min(max(value, self.min), self.max)
            seen += n
        return self.max  # pragma: no cover - rank never exceeds count

    def to_dict(self) -> dict[str, Any]:
        """Plain values (``buckets`` maps each bound, as text, and ``"+Inf"`` to its count)."""
        buckets = {f"{b:g}": n for b, n in zip(self.bounds, self.counts, strict=False)}
        buckets["+Inf"] = self.counts[-1]
        return {"count": self.count, "sum": self.sum, "min": self.min, "max": self.max, "buckets": buckets}


@dataclass(frozen=True, slots=True)
class CallCount:
    """Calls that ended with ``outcome`` (``"ok"`` / ``"error"``) on one endpoint."""

    provider: str
    model: str
    endpoint: str
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class ModelStats:
    """Everything recorded for one provider and model (for :attr:`MetricsSnapshot.totals`:
    every model, with ``provider`` and ``model`` ``"*"``).

    ``outcomes`` counts calls by ``"ok"`` / ``"error"``, ``errors`` failed calls by error type.
    ``latency`` holds every finished call (answers and errors: the whole call, every attempt,
    backoff and failover); ``time_to_first_chunk`` the streams that produced a chunk.
    ``attempts`` counts attempts sent, ``retries`` / ``failovers`` the attempts followed by a
    retry / a failover, ``skipped`` endpoints passed over because their circuit breaker was open.
    """

    provider: str
    model: str
    calls: int
    outcomes: dict[str, int]
    errors: dict[str, int]
    attempts: int
    retries: int
    failovers: int
    skipped: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    cost: float
    latency: HistogramSnapshot
    time_to_first_chunk: HistogramSnapshot

    def to_dict(self) -> dict[str, Any]:
        """Plain values, JSON-ready."""
        out: dict[str, Any] = {"provider": self.provider, "model": self.model}
        out.update((name, getattr(self, name)) for name in _SUMMED)
        out["outcomes"] = dict(self.outcomes)
        out["errors"] = dict(self.errors)
        out["latency"] = self.latency.to_dict()
        out["time_to_first_chunk"] = self.time_to_first_chunk.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """A consistent copy of a :class:`MetricsRecorder`, taken at ``taken_at``."""

    calls: tuple[CallCount, ...]
    models: tuple[ModelStats, ...]
    totals: ModelStats
    #: :func:`time.time` of the last :meth:`MetricsRecorder.reset` (or of its creation).
    since: float
    #: :func:`time.time` when the snapshot was taken.
    taken_at: float

    def model(self, provider: str, model: str) -> ModelStats | None:
        """The stats of ``provider``/``model``, or None when it made no call."""
        for stats in self.models:
            if stats.provider == provider and stats.model == model:
                return stats
        return None

    def count(
        self,
        provider: str | None = None,
        model: str | None = None,
        endpoint: str | None = None,
        outcome: str | None = None,
    ) -> int:
        """Calls matching every key given."""
        return sum(
            c.count
            for c in self.calls
            if (provider is None or c.provider == provider)
            and (model is None or c.model == model)
            and (endpoint is None or c.endpoint == endpoint)
            and (outcome is None or c.outcome == outcome)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain values that :func:`json.dumps` accepts."""
        return {
            "since": self.since,
            "taken_at": self.taken_at,
            "calls": [asdict(c) for c in self.calls],
            "models": [m.to_dict() for m in self.models],
            "totals": self.totals.to_dict(),
        }


class _Histogram:
    __slots__ = ("count", "counts", "max", "min", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    def add(self, value: float) -> None:
        self.counts[bisect.bisect_left(LATENCY_BUCKETS, value)] += 1
        self.count += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def merge(self, other: _Histogram) -> None:
        for index, n in enumerate(other.counts):
            self.counts[index] += n
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    def snapshot(self) -> HistogramSnapshot:
        empty = not self.count
        return HistogramSnapshot(
            LATENCY_BUCKETS,
            tuple(self.counts),
            self.count,
            self.sum,
            None if empty else self.min,
            None if empty else self.max,
        )


class _Model:
    __slots__ = (
        "attempts",
        "cached_input_tokens",
        "calls",
        "cost",
        "errors",
        "failovers",
        "input_tokens",
        "latency",
        "outcomes",
        "output_tokens",
        "reasoning_tokens",
        "retries",
        "skipped",
        "ttfc",
    )

    def __init__(self) -> None:
        self.calls = 0
        self.outcomes: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.attempts = 0
        self.retries = 0
        self.failovers = 0
        self.skipped = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cached_input_tokens = 0
        self.reasoning_tokens = 0
        self.cost = 0.0
        self.latency = _Histogram()
        self.ttfc = _Histogram()

    def merge(self, other: _Model) -> None:
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in ((self.outcomes, other.outcomes), (self.errors, other.errors)):
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n
        self.latency.merge(other.latency)
        self.ttfc.merge(other.ttfc)

    def snapshot(self, provider: str, model: str) -> ModelStats:
        return ModelStats(
            provider,
            model,
            self.calls,
            dict(sorted(self.outcomes.items())),
            dict(sorted(self.errors.items())),
            self.attempts,
            self.retries,
            self.failovers,
            self.skipped,
            self.input_tokens,
            self.output_tokens,
            self.cached_input_tokens,
            self.reasoning_tokens,
            self.cost,
            self.latency.snapshot(),
            self.ttfc.snapshot(),
        )


@dataclass
class _State:
    calls: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    models: dict[tuple[str, str], _Model] = field(default_factory=dict)
    since: float = field(default_factory=time.time)


class MetricsRecorder:
    """Counts every call its models report, in memory (see the module docs); read it with
    :meth:`snapshot`, empty it with :meth:`reset`. Safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State()
        self._endpoints = EndpointNames()

    # -- hooks -----------------------------------------------------------------------------
    @hookimpl
    def llms_on_attempt(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """Count the attempt, and a retry, failover or skip by what followed it."""
        action = attempt.action
        key = (call.provider, call.model)
        with self._lock:
            stats = self._state.models.get(key)
            if stats is None:
                stats = self._state.models[key] = _Model()
            if action == "skipped":
                stats.skipped += 1
                return
            stats.attempts += 1
            if action == "retry":
                stats.retries += 1
            elif action == "failover":
                stats.failovers += 1

    @hookimpl
    def llms_on_response(self, call: CallInfo, response: Any) -> None:
        """Count a call that answered: its latency, time to first chunk, tokens and cost."""
        try:
            usage = getattr(response, "usage", None)
            tokens = _NO_TOKENS if usage is None else _tokens(usage)
            cost = float(getattr(response, "cost", None) or 0.0)
            endpoint = self._endpoints(call, getattr(response, "endpoint", None))
        except Exception:  # an observer never breaks a call; a bad value is logged, not raised
            logger.exception("MetricsRecorder could not record a response")
            return
        self._record(call, endpoint, "ok", None, tokens, cost)

    @hookimpl
    def llms_on_error(self, call: CallInfo, error: LLMError) -> None:
        """Count a call that failed, by its error's type."""
        try:
            endpoint = self._endpoints(call, error_endpoint(error))
        except Exception:
            logger.exception("MetricsRecorder could not record an error")
            return
        self._record(call, endpoint, "error", error_type(error), _NO_TOKENS, 0.0)

    # -- reading ---------------------------------------------------------------------------
    def snapshot(self) -> MetricsSnapshot:
        """A consistent copy of everything recorded since the last :meth:`reset`."""
        with self._lock:
            state = self._state
            calls = tuple(CallCount(*key, count) for key, count in sorted(state.calls.items()))
            models = []
            totals = _Model()
            for (provider, model), stats in sorted(state.models.items()):
                models.append(stats.snapshot(provider, model))
                totals.merge(stats)
            since = state.since
        return MetricsSnapshot(calls, tuple(models), totals.snapshot("*", "*"), since, time.time())

    def reset(self) -> None:
        """Forget everything recorded so far."""
        with self._lock:
            self._state = _State()

    # -- internals -------------------------------------------------------------------------
    def _record(
        self,
        call: CallInfo,
        endpoint: str,
        outcome: str,
        kind: str | None,
        tokens: tuple[int, int, int, int],
        cost: float,
    ) -> None:
        # (every value that may fail, a malformed one, was worked out before: a bad response
        # leaves no half-counted call behind)
        duration = time.perf_counter() - call.started
        first = call.first_chunk
        key = (call.provider, call.model)
        call_key = (call.provider, call.model, endpoint, outcome)
        with self._lock:
            state = self._state
            state.calls[call_key] = state.calls.get(call_key, 0) + 1
            stats = state.models.get(key)
            if stats is None:
                stats = state.models[key] = _Model()
            stats.calls += 1
            stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + 1
            if kind is not None:
                stats.errors[kind] = stats.errors.get(kind, 0) + 1
            stats.latency.add(duration)
            if first is not None and call.stream:
                stats.ttfc.add(first - call.started)
            stats.input_tokens += tokens[0]
            stats.output_tokens += tokens[1]
            stats.cached_input_tokens += tokens[2]
            stats.reasoning_tokens += tokens[3]
            stats.cost += cost


_NO_TOKENS = (0, 0, 0, 0)


def _tokens(usage: Any) -> tuple[int, int, int, int]:
    """The usage counts the recorder sums, in the order of ``_Model``'s token counters."""
    return (
        int(getattr(usage, "input_tokens", 0) or 0),
        int(getattr(usage, "output_tokens", 0) or 0),
        int(getattr(usage, "cached_input_tokens", 0) or 0),
        int(getattr(usage, "reasoning_tokens", 0) or 0),
    )
