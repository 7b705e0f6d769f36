"""Prometheus metrics for every LLM call (the optional extra ``core-llms[prometheus]``).

:class:`PrometheusObserver` is an observer plugin (``llms_on_request`` / ``llms_on_attempt`` /
``llms_on_response`` / ``llms_on_error``) that keeps these metrics in a ``CollectorRegistry``
(prometheus_client's global ``REGISTRY`` unless told otherwise), named after Prometheus'
conventions (base units, ``_total`` counters, ``_seconds`` histograms), ``core_llms_`` first::

    requests_total{provider,model,endpoint,operation,outcome}   outcome: ok / error
    errors_total{provider,model,endpoint,error_type}             error_type: the error's class name
    retries_total{provider,model,endpoint}                       attempts retried on that endpoint
    failovers_total{provider,model,endpoint}                     endpoints left for the next one
    circuit_breaker_state{provider,model,endpoint}               0 closed, 1 half_open, 2 open
    tokens_total{provider,model,endpoint,type}                   type: input / output / cached_input /
                                                                 reasoning
    cost_usd_total{provider,model,endpoint}
    request_duration_seconds{provider,model,endpoint}            histogram: every finished call
    time_to_first_chunk_seconds{provider,model,endpoint}         histogram: streams
    requests_in_flight{provider,model}                           calls started, not yet finished

``endpoint`` is the display name of the endpoint that answered (or, for an error, the last one
tried, also for ``AllEndpointsFailedError``; ``"unknown"`` when none was): ``scheme://host/path``,
never user info or a query. It goes through ``call.mask`` (the model's credentials) all the
same, and anything after ``?`` or ``#`` is cut. Retries and failovers count on the endpoint that failed.

A call's ``ctx.labels`` are **not** Prometheus labels: their values are unbounded (user ids,
request ids ...) and each distinct value would make new time series. Use the call logs or
OpenTelemetry spans for them.

Two observers on one registry share its collectors: the second finds the metrics the first
registered under the same names and updates them (Prometheus would refuse the names twice with
"Duplicated timeseries"). A metric already registered there under one of these names by
something else (another type, other label names or buckets) raises :class:`ConfigurationError`
naming it; pick another ``namespace``. Only one observer should be registered with the plugin
manager per registry (``enable`` replaces the one before), or each call counts twice.

``circuit_breaker_state`` follows every attempt's ``breaker`` (skipped endpoints included); an
answer from an endpoint no attempt of its call reported (a model whose connector reports no
attempts) sets it closed. ``requests_in_flight`` counts a call from ``on_request`` to its answer
or error. A call that ends with neither (its task cancelled, a stream the caller stopped reading:
the model reports no event for those) is taken off at the next call or scrape after its
``CallInfo`` is released, which can be minutes later (asyncio keeps cancelled timers, and the
context they captured, until they would have fired).

A call costs a few microseconds: the labelled children are kept per label values in
dictionaries (``.labels()`` is slow), each model's endpoint labels are masked once and kept, and
each finished call reads the answer once (:func:`~core.llms.observability.summary.summarize`).

Serve the metrics with prometheus_client (``start_http_server(port, registry=...)``, or its
WSGI / ASGI apps) or :meth:`PrometheusObserver.start_http_server`.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..interfaces.errors import ConfigurationError, LLMError
from ..interfaces.observer import AttemptInfo, CallInfo
from .summary import CallSummary, EndpointNames, summarize

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["BREAKER_STATES", "LATENCY_BUCKETS", "PrometheusObserver"]

logger = logging.getLogger("core.llms.observability")

#: upper bounds (seconds) of the latency and time-to-first-chunk histogram buckets (``+Inf`` last).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)

#: the ``circuit_breaker_state`` gauge's value for each breaker state.
BREAKER_STATES: dict[str, float] = {"closed": 0.0, "half_open": 1.0, "open": 2.0}

_HINT = "pip install 'core-llms[prometheus]'"
_NAMESPACE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_ENDPOINT_LABELS = ("provider", "model", "endpoint")
#: creating-or-reusing collectors is check-then-register: one lock for every registry.
_REGISTER_LOCK = threading.Lock()


class _Series:
    """The labelled children of one (provider, model, endpoint); each made on first use."""

    __slots__ = (
        "breaker",
        "cost",
        "errors",
        "failovers",
        "key",
        "latency",
        "owner",
        "requests",
        "retries",
        "tokens",
        "ttfc",
    )

    def __init__(self, owner: PrometheusObserver, key: tuple[str, str, str]) -> None:
        self.owner = owner
        self.key = key
        self.requests: dict[tuple[str, str], Any] = {}
        self.errors: dict[str, Any] = {}
        self.tokens: dict[str, Any] = {}
        self.retries: Any = None
        self.failovers: Any = None
        self.breaker: Any = None
        self.cost: Any = None
        self.latency: Any = None
        self.ttfc: Any = None

    def request(self, operation: str, outcome: str) -> Any:
        child = self.requests.get((operation, outcome))
        if child is None:
            child = self.owner._requests.labels(*self.key, operation, outcome)
            self.requests[(operation, outcome)] = child
        return child

    def error(self, error_type: str) -> Any:
        child = self.errors.get(error_type)
        if child is None:
            child = self.errors[error_type] = self.owner._errors.labels(*self.key, error_type)
        return child

    def token(self, kind: str) -> Any:
        child = self.tokens.get(kind)
        if child is None:
            child = self.tokens[kind] = self.owner._tokens.labels(*self.key, kind)
        return child


class _Flight:
    """A call counted in ``requests_in_flight`` (kept in its ``CallInfo.data``). A call that ends
    without ``on_response`` / ``on_error`` (cancelled, a stream left unread) is taken off when
    this is released: ``__del__`` only queues the gauge (no lock may be taken there: it can run
    inside the garbage collector, while this thread holds one), the next hook or scrape
    decrements it."""

    __slots__ = ("child", "pending")

    def __init__(self, child: Any, pending: collections.deque[Any]) -> None:
        self.child = child
        self.pending = pending

    def finish(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            child.dec()

    def __del__(self) -> None:
        if self.child is not None:
            self.pending.append(self.child)  # deque.append: atomic, takes no lock


class _Drain:
    """A collector with no metrics, registered so that a scrape first applies the decrements
    queued by abandoned calls."""

    def __init__(self, pending: collections.deque[Any]) -> None:
        self._pending = pending

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> list[Any]:
        _drain(self._pending)
        return []


def _drain(pending: collections.deque[Any]) -> None:
    while pending:
        try:
            child = pending.popleft()
        except IndexError:  # another thread took the last one
            return
        child.dec()


class PrometheusObserver:
    """Prometheus metrics of every call (see the module docstring for the metrics and labels).

    ``registry``: the ``prometheus_client.CollectorRegistry`` to register them in (default:
    prometheus_client's global ``REGISTRY``); ``namespace``: the metric names' prefix.
    Raises :class:`ConfigurationError` when prometheus_client is not installed, when
    ``namespace`` is not a valid metric name prefix, or when the registry already holds a
    different metric under one of the names.
    """

    def __init__(self, registry: CollectorRegistry | None = None, namespace: str = "core_llms") -> None:
        try:
            import prometheus_client
        except ImportError as exc:
            raise ConfigurationError(
                "the Prometheus observer needs the prometheus_client package", hint=_HINT
            ) from exc
        if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
            raise ConfigurationError(
                f"PrometheusObserver(namespace=...) must be a metric name prefix "
                f"([a-zA-Z_][a-zA-Z0-9_]*), got {namespace!r}"
            )
        if registry is None:
            registry = prometheus_client.REGISTRY
        self.registry = registry
        self.namespace = namespace
        pc = prometheus_client
        ep = _ENDPOINT_LABELS
        buckets = LATENCY_BUCKETS
        #: gauges of calls that ended unseen (see _Flight), decremented at the next hook or scrape.
        self._pending: collections.deque[Any] = collections.deque()
        with _REGISTER_LOCK:
            self._drain = _Drain(self._pending)
            registry.register(self._drain)  # before the metrics: a scrape drains, then collects
            try:
                self._requests = self._metric(
                    pc.Counter, "requests", "LLM calls finished", (*ep, "operation", "outcome")
                )
                self._errors = self._metric(
                    pc.Counter, "errors", "LLM calls failed, by error class", (*ep, "error_type")
                )
                self._retries = self._metric(
                    pc.Counter, "retries", "attempts retried on the same endpoint", ep
                )
                self._failovers = self._metric(
                    pc.Counter, "failovers", "failovers from an endpoint to the next", ep
                )
                self._breaker = self._metric(
                    pc.Gauge, "circuit_breaker_state", "circuit breaker: 0 closed, 1 half_open, 2 open", ep
                )
                self._tokens = self._metric(pc.Counter, "tokens", "tokens used, by type", (*ep, "type"))
                self._cost = self._metric(
                    pc.Counter, "cost_usd", "estimated cost of the calls in US dollars", ep
                )
                self._latency = self._metric(
                    pc.Histogram, "request_duration_seconds", "LLM call duration (all attempts)", ep, buckets
                )
                self._ttfc = self._metric(
                    pc.Histogram, "time_to_first_chunk_seconds", "time to a stream's first chunk", ep, buckets
                )
                self._in_flight = self._metric(
                    pc.Gauge,
                    "requests_in_flight",
                    "LLM calls started and not yet finished",
                    ("provider", "model"),
                )
            except BaseException:  # refused: take the drain back out
                registry.unregister(self._drain)
                raise
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._flight: dict[tuple[str, str], Any] = {}
        #: endpoint display name -> label value (no query, no credential), per model.
        self._labels = EndpointNames()
        self._data_key = f"core_llms.prometheus.{id(self)}"
        self._last_key = f"core_llms.prometheus.last.{id(self)}"

    def start_http_server(self, port: int, addr: str = "0.0.0.0") -> Any:
        """Serve this observer's registry at ``http://addr:port/metrics`` from a daemon thread
        (prometheus_client's ``start_http_server``); returns its ``(server, thread)``. Call
        ``server.shutdown()`` to stop it."""
        from prometheus_client import start_http_server

        return start_http_server(port, addr, registry=self.registry)

    def __repr__(self) -> str:
        return f"PrometheusObserver(namespace={self.namespace!r})"

    def _metric(
        self,
        kind: Any,
        name: str,
        documentation: str,
        labels: tuple[str, ...],
        buckets: tuple[float, ...] | None = None,
    ) -> Any:
        """The collector ``namespace_name``: the one already in the registry when it is the same
        metric (type, labels, buckets), else a new one. Anything else under the name is an error."""
        full = f"{self.namespace}_{name}"
        names = getattr(self.registry, "_names_to_collectors", None)
        existing = names.get(full) if isinstance(names, dict) else None
        if existing is not None:
            same = (
                type(existing) is kind
                and tuple(getattr(existing, "_labelnames", ())) == labels
                and (buckets is None or tuple(getattr(existing, "_upper_bounds", ()))[:-1] == buckets)
            )
            if not same:
                raise ConfigurationError(
                    f"the Prometheus registry already holds a different metric named {full!r}",
                    hint="pass PrometheusObserver(namespace=...) another prefix, or another registry",
                )
            return existing
        kwargs: dict[str, Any] = {"namespace": self.namespace, "registry": self.registry}
        if buckets is not None:
            kwargs["buckets"] = buckets
        try:
            return kind(name, documentation, labels, **kwargs)
        except ValueError as exc:  # "Duplicated timeseries" with a name we did not look up
            raise ConfigurationError(
                f"cannot register the Prometheus metric {full!r}: {exc}",
                hint="pass PrometheusObserver(namespace=...) another prefix, or another registry",
            ) from exc

    # -- the hooks -------------------------------------------------------------------------

    @hookimpl
    def llms_on_request(self, call: CallInfo) -> None:
        """A call started: one more in flight."""
        try:
            key = (call.provider, call.model)
            child = self._flight.get(key)
            if child is None:
                child = self._flight[key] = self._in_flight.labels(*key)
            child.inc()
            call.data[self._data_key] = _Flight(child, self._pending)
            if self._pending:
                _drain(self._pending)
        except Exception:  # an observer never breaks a call
            logger.exception("PrometheusObserver could not record a request")

    @hookimpl
    def llms_on_attempt(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """An attempt ended (or an endpoint was skipped): retries, failovers, breaker state."""
        try:
            series = self._get_series(call, attempt.endpoint)
            action = attempt.action
            if action != "skipped":
                call.data[self._last_key] = series  # an error without an endpoint counts here
            if action == "retry":
                if series.retries is None:
                    series.retries = self._retries.labels(*series.key)
                series.retries.inc()
            elif action == "failover":
                if series.failovers is None:
                    series.failovers = self._failovers.labels(*series.key)
                series.failovers.inc()
            state = BREAKER_STATES.get(attempt.breaker)
            if state is not None:
                if series.breaker is None:
                    series.breaker = self._breaker.labels(*series.key)
                series.breaker.set(state)
        except Exception:
            logger.exception("PrometheusObserver could not record an attempt")

    @hookimpl
    def llms_on_response(self, call: CallInfo, response: Any) -> None:
        """A call answered: requests, tokens, cost, latency, time to first chunk."""
        try:
            self._finish(call, summarize(call, response, identify=False))
        except Exception:
            logger.exception("PrometheusObserver could not record a response")

    @hookimpl
    def llms_on_error(self, call: CallInfo, error: LLMError) -> None:
        """A call failed: requests, errors by type, latency."""
        try:
            self._finish(call, summarize(call, error=error, identify=False))
        except Exception:
            logger.exception("PrometheusObserver could not record an error")

    # -- helpers ---------------------------------------------------------------------------

    def _get_series(self, call: CallInfo, endpoint: str | None) -> _Series:
        key = (call.provider, call.model, self._labels(call, endpoint))
        series = self._series.get(key)
        if series is None:
            series = self._series.setdefault(key, _Series(self, key))
        return series

    def _finish(self, call: CallInfo, summary: CallSummary) -> None:
        flight = call.data.pop(self._data_key, None)
        if flight is not None:
            flight.finish()
        if self._pending:
            _drain(self._pending)
        last = call.data.pop(self._last_key, None)
        if summary.endpoint is None and last is not None:
            series = last  # AllEndpointsFailedError ...: the last endpoint tried
        else:
            series = self._get_series(call, summary.endpoint)
        if last is None and summary.outcome == "ok" and not summary.cached and summary.endpoint:
            # it answered, and no attempt reported this endpoint's breaker: it is closed
            if series.breaker is None:
                series.breaker = self._breaker.labels(*series.key)
            series.breaker.set(0.0)
        series.request(summary.operation, summary.outcome).inc()
        if series.latency is None:
            series.latency = self._latency.labels(*series.key)
        series.latency.observe(summary.duration)
        if call.stream and call.first_chunk is not None:
            if series.ttfc is None:
                series.ttfc = self._ttfc.labels(*series.key)
            series.ttfc.observe(call.first_chunk - call.started)
        if summary.error_type is not None:
            series.error(summary.error_type).inc()
            return
        for kind, value in (
            ("input", summary.input_tokens),
            ("output", summary.output_tokens),
            ("cached_input", summary.cached_input_tokens),
            ("reasoning", summary.reasoning_tokens),
        ):
            if value is not None and value > 0:  # a counter never goes down
                series.token(kind).inc(value)
        cost = summary.cost
        if cost is not None and cost > 0:
            if series.cost is None:
                series.cost = self._cost.labels(*series.key)
            series.cost.inc(cost)
