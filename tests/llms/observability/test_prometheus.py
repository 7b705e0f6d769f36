"""The Prometheus observer: each metric with its exact labels and values, driven through the
simulator (answers, errors, retries, failover, a breaker opening and closing again, streams),
the endpoint label without query or user info, no credential anywhere in the exposition, each
model's labels masked once, calls that end unseen, serving over HTTP, sharing a registry, and
the per-call cost."""

from __future__ import annotations

import asyncio
import builtins
import gc
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from observer_support import CANARY, enabled, model
from prometheus_client import CollectorRegistry, Counter, generate_latest

from core.llms import create_llm
from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import (
    AllEndpointsFailedError,
    ConfigurationError,
    RateLimitError,
    ServiceUnavailableError,
)
from core.llms.interfaces.observer import AttemptInfo, CallInfo
from core.llms.interfaces.types import LLMResponse, Usage
from core.llms.observability import Observability
from core.llms.observability.prometheus import LATENCY_BUCKETS, PrometheusObserver
from core.llms.simulator import Fault, Simulator

#: a key with no recognisable prefix: none of its 8-character pieces may be exported.
MODEL = {"provider": "openai", "model": "gpt-4.1-mini"}


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def observed(registry: CollectorRegistry) -> Iterator[Observability]:
    with enabled(prometheus=PrometheusObserver(registry=registry)) as handle:
        yield handle


def labels(sim: Simulator, **extra: str) -> dict[str, str]:
    return {**MODEL, "endpoint": f"http://127.0.0.1:{sim.port}/v1", **extra}


def value(registry: CollectorRegistry, name: str, **wanted: str) -> float | None:
    return registry.get_sample_value(f"core_llms_{name}", wanted)


def assert_no_canary(registry: CollectorRegistry) -> None:
    text = generate_latest(registry).decode()
    for i in range(len(CANARY) - 7):
        assert CANARY[i : i + 8] not in text


async def test_an_answer_counts_request_tokens_cost_and_latency(
    sim: Simulator, registry: CollectorRegistry, observed: Observability
) -> None:
    async with model(sim) as llm:
        answer = await llm.get_answer("hello", ctx=RequestContext(labels={"user": CANARY}))
    ok = labels(sim)
    assert value(registry, "requests_total", **ok, operation="chat", outcome="ok") == 1.0
    assert value(registry, "requests_total", **ok, operation="chat", outcome="error") is None
    assert answer.usage.input_tokens == 8 and answer.usage.output_tokens == 4
    assert value(registry, "tokens_total", **ok, type="input") == 8.0
    assert value(registry, "tokens_total", **ok, type="output") == 4.0
    assert value(registry, "tokens_total", **ok, type="cached_input") is None  # 0: never made
    assert answer.cost is not None and answer.cost > 0
    assert value(registry, "cost_usd_total", **ok) == pytest.approx(answer.cost)
    assert value(registry, "request_duration_seconds_count", **ok) == 1.0
    latency = value(registry, "request_duration_seconds_sum", **ok)
    assert latency is not None and 0 < latency < 5
    assert value(registry, "request_duration_seconds_bucket", **ok, le="81.92") == 1.0
    assert value(registry, "time_to_first_chunk_seconds_count", **ok) is None  # not a stream
    assert value(registry, "circuit_breaker_state", **ok) == 0.0
    assert value(registry, "requests_in_flight", **MODEL) == 0.0
    assert value(registry, "retries_total", **ok) is None
    text = generate_latest(registry).decode()
    assert "user" not in text  # ctx.labels are not Prometheus labels
    assert_no_canary(registry)


@pytest.mark.parametrize(("status", "error"), [(429, RateLimitError), (503, ServiceUnavailableError)])
async def test_an_error_counts_by_its_type(
    sim: Simulator, registry: CollectorRegistry, observed: Observability, status: int, error: type
) -> None:
    sim.enqueue(Fault(status=status))
    async with model(sim) as llm:
        with pytest.raises(error):
            await llm.get_answer("hello")
        await llm.get_answer("hello")
    ep = labels(sim)
    assert value(registry, "errors_total", **ep, error_type=error.__name__) == 1.0
    assert value(registry, "requests_total", **ep, operation="chat", outcome="error") == 1.0
    assert value(registry, "requests_total", **ep, operation="chat", outcome="ok") == 1.0
    assert value(registry, "request_duration_seconds_count", **ep) == 2.0
    assert value(registry, "tokens_total", **ep, type="input") == 8.0  # the answer only
    assert value(registry, "requests_in_flight", **MODEL) == 0.0


async def test_a_retry_on_the_same_endpoint_counts(
    sim: Simulator, registry: CollectorRegistry, observed: Observability
) -> None:
    sim.enqueue(Fault(status=503))
    async with model(sim, retry={"max_retries": 1, "backoff_initial": 0.001}) as llm:
        await llm.get_answer("hello")
    ep = labels(sim)
    assert value(registry, "retries_total", **ep) == 1.0
    assert value(registry, "failovers_total", **ep) is None
    assert value(registry, "requests_total", **ep, operation="chat", outcome="ok") == 1.0
    assert value(registry, "errors_total", **ep, error_type="ServiceUnavailableError") is None


async def test_a_failover_counts_on_the_endpoint_that_failed(
    sim: Simulator, backup: Simulator, registry: CollectorRegistry, observed: Observability
) -> None:
    sim.set_default_fault(Fault(status=503))
    async with model(sim, backups=[{"endpoint": f"{backup.url}/v1"}]) as llm:
        await llm.get_answer("hello")
    assert value(registry, "failovers_total", **labels(sim)) == 1.0
    assert value(registry, "failovers_total", **labels(backup)) is None
    assert value(registry, "requests_total", **labels(backup), operation="chat", outcome="ok") == 1.0
    assert value(registry, "requests_total", **labels(sim), operation="chat", outcome="ok") is None
    assert value(registry, "tokens_total", **labels(backup), type="output") == 4.0
    assert_no_canary(registry)


async def test_the_breaker_gauge_opens_and_closes_again(
    sim: Simulator, backup: Simulator, registry: CollectorRegistry, observed: Observability
) -> None:
    sim.set_default_fault(Fault(status=503))
    backup.set_default_fault(Fault(status=503))
    cooldown = 0.3
    llm = model(sim, backups=[{"endpoint": f"{backup.url}/v1"}], failure_threshold=1, cooldown=cooldown)
    async with llm:
        with pytest.raises(AllEndpointsFailedError):
            await llm.get_answer("hello")  # primary fails (opens), backup fails (opens): give up
        assert value(registry, "circuit_breaker_state", **labels(sim)) == 2.0
        assert value(registry, "circuit_breaker_state", **labels(backup)) == 2.0
        assert value(registry, "failovers_total", **labels(sim)) == 1.0
        with pytest.raises(AllEndpointsFailedError):
            await llm.get_answer("hello")  # both open: both skipped, then the primary probed
        assert value(registry, "circuit_breaker_state", **labels(sim)) == 2.0  # the probe failed
        assert value(registry, "circuit_breaker_state", **labels(backup)) == 2.0  # skipped: open
        assert (len(sim.requests), len(backup.requests)) == (2, 1)
        sim.set_default_fault(None)
        await asyncio.sleep(cooldown + 0.05)  # wait out the cooldown (the breakers use time.monotonic)
        await llm.get_answer("hello")  # the primary is half-open: its probe answers, it closes
    assert value(registry, "circuit_breaker_state", **labels(sim)) == 0.0
    assert value(registry, "circuit_breaker_state", **labels(backup)) == 2.0  # not tried since
    errors = [
        value(registry, "errors_total", **labels(s), error_type="AllEndpointsFailedError")
        for s in (sim, backup)
    ]
    assert errors == [1.0, 1.0]  # the last endpoint tried: the backup, then the probed primary
    assert value(registry, "requests_total", **labels(sim), operation="chat", outcome="ok") == 1.0
    assert value(registry, "requests_in_flight", **MODEL) == 0.0


async def test_a_stream_records_its_time_to_first_chunk(
    sim: Simulator, registry: CollectorRegistry, observed: Observability
) -> None:
    async with model(sim) as llm:
        chunks = [chunk async for chunk in llm.stream_answer("hello")]
    assert chunks
    ep = labels(sim)
    assert value(registry, "time_to_first_chunk_seconds_count", **ep) == 1.0
    first = value(registry, "time_to_first_chunk_seconds_sum", **ep)
    total = value(registry, "request_duration_seconds_sum", **ep)
    assert first is not None and total is not None and 0 < first <= total
    assert value(registry, "requests_total", **ep, operation="chat", outcome="ok") == 1.0
    assert value(registry, "tokens_total", **ep, type="output") == 4.0


async def test_the_endpoint_label_has_no_query_and_no_credential(
    sim: Simulator, registry: CollectorRegistry, observed: Observability
) -> None:
    llm = create_llm(
        "openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1?key={CANARY}", api_key=CANARY, retry={"max_retries": 0}
    )
    async with llm:
        await llm.get_answer("hello")
    assert value(registry, "requests_total", **labels(sim), operation="chat", outcome="ok") == 1.0
    assert "?" not in generate_latest(registry).decode()
    assert_no_canary(registry)


def fake_call(mask: Any = None, stream: bool = False) -> CallInfo:
    call = CallInfo("openai", "gpt-4.1-mini", None, stream, time.perf_counter() - 0.25)
    if mask is not None:
        call.mask = mask
    return call


def answer(text: str, **kw: Any) -> LLMResponse:
    return LLMResponse(text=text, model="gpt-4.1-mini", provider="openai", **kw)


def test_user_info_query_and_masked_text_never_reach_a_label(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry=registry)
    call = fake_call(mask=lambda text: text.replace(CANARY[:12], "***"))
    for endpoint in (
        f"https://user:{CANARY}@api.example.com/v1?key={CANARY}",
        f"https://api.example.com/v1#{CANARY}",
        f"https://api.example.com/{CANARY[:12]}/v1",
    ):
        observer.llms_on_attempt(call, AttemptInfo(endpoint, 1, "retry", breaker="half_open"))
    assert value(registry, "retries_total", **MODEL, endpoint="https://api.example.com/v1") == 2.0
    assert value(registry, "retries_total", **MODEL, endpoint="https://api.example.com/***/v1") == 1.0
    gauge = value(registry, "circuit_breaker_state", **MODEL, endpoint="https://api.example.com/v1")
    assert gauge == 1.0
    assert_no_canary(registry)


def test_a_breaker_state_from_the_attempts_is_never_overwritten(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry=registry)
    endpoint = "https://api.example.com/v1"
    ep = {**MODEL, "endpoint": endpoint}
    call = fake_call()
    observer.llms_on_attempt(call, AttemptInfo(endpoint, 1, "done", breaker="half_open"))
    observer.llms_on_response(call, answer("hi", endpoint=endpoint))
    assert value(registry, "circuit_breaker_state", **ep) == 1.0  # what the attempt said
    observer.llms_on_response(fake_call(), answer("hi", endpoint=endpoint))  # no attempt reported
    assert value(registry, "circuit_breaker_state", **ep) == 0.0
    observer.llms_on_attempt(fake_call(), AttemptInfo(endpoint, 0, "skipped", breaker="open"))
    assert value(registry, "circuit_breaker_state", **ep) == 2.0


class Model:
    """Stands for a model: ``call.mask`` is its bound method (the observer keeps its labels)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.masked = 0

    def mask(self, text: str) -> str:
        self.masked += 1
        return text.replace(self.secret, "***")


class Unreferenceable:
    """A mask owner that cannot be weakly referenced: no cache, masked every time."""

    __slots__ = ("masked",)

    def __init__(self) -> None:
        self.masked = 0

    def mask(self, text: str) -> str:
        self.masked += 1
        return text.replace(CANARY[:10], "###")


def test_each_model_masks_its_endpoint_labels_once(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry=registry)
    endpoint = f"https://api.example.com/{CANARY[:10]}/v1"
    one, two, odd = Model(CANARY[:10]), Model("nothing"), Unreferenceable()
    for owner in (one, two, odd):
        for _ in range(3):
            observer.llms_on_attempt(fake_call(mask=owner.mask), AttemptInfo(endpoint, 1, "retry"))
    assert (one.masked, two.masked, odd.masked) == (1, 1, 3)
    assert value(registry, "retries_total", **MODEL, endpoint="https://api.example.com/***/v1") == 3.0
    assert value(registry, "retries_total", **MODEL, endpoint="https://api.example.com/###/v1") == 3.0
    assert value(registry, "retries_total", **MODEL, endpoint=endpoint) == 3.0  # two's mask: no secret
    assert len(observer._labels) == 2
    del one
    gc.collect()
    assert len(observer._labels) == 1  # a model gone: its labels go with it


def test_a_call_that_ends_unseen_leaves_the_in_flight_gauge(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry=registry)
    calls = [fake_call() for _ in range(3)]
    for call in calls:
        observer.llms_on_request(call)
    assert value(registry, "requests_in_flight", **MODEL) == 3.0
    del call
    observer.llms_on_response(calls[0], answer("hi"))
    assert value(registry, "requests_in_flight", **MODEL) == 2.0
    del calls[1:]  # cancelled, or a stream its caller stopped reading: no on_response / on_error
    gc.collect()
    assert value(registry, "requests_in_flight", **MODEL) == 0.0  # the scrape applied them
    observer.llms_on_response(calls[0], answer("hi"))  # a second end of one call changes nothing
    assert value(registry, "requests_in_flight", **MODEL) == 0.0
    observer.llms_on_request(fake_call())  # dropped at once: queued, and the next hook applies it
    assert len(observer._pending) == 1
    kept = fake_call()
    observer.llms_on_request(kept)
    assert not observer._pending
    assert value(registry, "requests_in_flight", **MODEL) == 1.0


def test_the_registry_can_be_served_over_http(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry=registry)
    call = fake_call()
    observer.llms_on_request(call)
    observer.llms_on_response(call, answer("hi", endpoint="https://api.example.com/v1"))
    server, thread = observer.start_http_server(0, "127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert (
        'core_llms_requests_total{endpoint="https://api.example.com/v1",model="gpt-4.1-mini",'
        'operation="chat",outcome="ok",provider="openai"} 1.0'
    ) in text


def test_two_observers_share_one_registry(registry: CollectorRegistry) -> None:
    first = PrometheusObserver(registry=registry)
    second = PrometheusObserver(registry=registry)  # no "Duplicated timeseries"
    for observer in (first, second):
        call = fake_call()
        observer.llms_on_request(call)
        observer.llms_on_response(call, answer("hi", usage=Usage(input_tokens=3, output_tokens=2)))
    ep = {**MODEL, "endpoint": "unknown"}
    assert value(registry, "requests_total", **ep, operation="chat", outcome="ok") == 2.0
    assert value(registry, "tokens_total", **ep, type="input") == 6.0
    assert value(registry, "requests_in_flight", **MODEL) == 0.0
    other = PrometheusObserver(registry=registry, namespace="other")
    assert other.namespace == "other" and value(
        registry, "requests_total", **ep, operation="chat", outcome="ok"
    )


def test_in_flight_counts_calls_until_they_end(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry=registry)
    first, second = fake_call(), fake_call()
    observer.llms_on_request(first)
    observer.llms_on_request(second)
    assert value(registry, "requests_in_flight", **MODEL) == 2.0
    observer.llms_on_error(first, ServiceUnavailableError("down", status=503))
    assert value(registry, "requests_in_flight", **MODEL) == 1.0
    observer.llms_on_error(first, ServiceUnavailableError("down again", status=503))  # reported twice
    assert value(registry, "requests_in_flight", **MODEL) == 1.0
    observer.llms_on_response(second, answer("hi"))
    assert value(registry, "requests_in_flight", **MODEL) == 0.0
    unknown = {**MODEL, "endpoint": "unknown"}
    assert value(registry, "errors_total", **unknown, error_type="ServiceUnavailableError") == 2.0


def test_a_different_metric_under_one_of_the_names_is_refused(registry: CollectorRegistry) -> None:
    Counter("requests", "someone else's", ["path"], namespace="core_llms", registry=registry)
    with pytest.raises(ConfigurationError, match="core_llms_requests"):
        PrometheusObserver(registry=registry)
    with pytest.raises(ConfigurationError, match="namespace"):
        PrometheusObserver(registry=registry, namespace="no-dashes")
    assert len(registry._collector_to_names) == 1  # only the other metric: nothing of ours left


def test_the_histograms_use_the_documented_buckets(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry=registry)
    call = fake_call(stream=True)
    call.first_chunk = call.started + 0.05
    observer.llms_on_response(call, answer("hi"))
    ep = {**MODEL, "endpoint": "unknown"}
    assert value(registry, "time_to_first_chunk_seconds_bucket", **ep, le="0.04") == 0.0
    assert value(registry, "time_to_first_chunk_seconds_bucket", **ep, le="0.08") == 1.0
    assert value(registry, "request_duration_seconds_bucket", **ep, le="0.16") == 0.0
    assert value(registry, "request_duration_seconds_bucket", **ep, le="0.32") == 1.0
    text = generate_latest(registry).decode()
    bounds = [
        float(line.split('le="')[1].split('"')[0])
        for line in text.splitlines()
        if line.startswith("core_llms_request_duration_seconds_bucket") and "+Inf" not in line
    ]
    assert tuple(bounds) == LATENCY_BUCKETS


def test_a_missing_prometheus_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "prometheus_client" or name.startswith("prometheus_client."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    with pytest.raises(ConfigurationError) as caught:
        PrometheusObserver(registry=None)
    assert caught.value.hint == "pip install 'core-llms[prometheus]'"


def test_a_bad_value_is_logged_never_raised(
    registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    observer = PrometheusObserver(registry=registry)
    call = fake_call()
    observer.llms_on_response(call, answer("hi", usage=Usage(input_tokens=-5)))  # ignored
    call.mask = None  # type: ignore[assignment]
    observer.llms_on_attempt(call, AttemptInfo("https://x.example/v1", 1, "retry"))
    assert "could not record an attempt" in caplog.text
    assert value(registry, "tokens_total", **MODEL, endpoint="unknown", type="input") is None


def test_a_finished_call_costs_a_few_microseconds(registry: CollectorRegistry) -> None:
    observer = PrometheusObserver(registry=registry)
    response = answer(
        "hi", usage=Usage(input_tokens=30, output_tokens=20), endpoint="https://api.example.com/v1", cost=1e-5
    )
    call = fake_call()
    for _ in range(200):  # warm the caches
        observer.llms_on_response(call, response)
    n = 20_000
    start = time.process_time()
    for _ in range(n):
        observer.llms_on_response(call, response)
    per_call = (time.process_time() - start) / n
    print(f"on_response: {per_call * 1e6:.2f} µs CPU per call")
    assert per_call < 50e-6  # a loose bound for slow CI machines; ~5 µs measured locally


def test_the_default_registry_is_prometheus_clients_global_one() -> None:
    from prometheus_client import REGISTRY

    first = PrometheusObserver(namespace="core_llms_test_global")
    try:
        second = PrometheusObserver(namespace="core_llms_test_global")  # enable(prometheus=True) twice
        assert first.registry is REGISTRY and second.registry is REGISTRY
        second.llms_on_response(fake_call(), answer("hi"))
        sample = REGISTRY.get_sample_value(
            "core_llms_test_global_requests_total",
            {**MODEL, "endpoint": "unknown", "operation": "chat", "outcome": "ok"},
        )
        assert sample == 1.0
    finally:
        for collector in {id(c): c for c in REGISTRY._names_to_collectors.values()}.values():
            if getattr(collector, "_name", "").startswith("core_llms_test_global_"):
                REGISTRY.unregister(collector)
        for observer in (first, second):
            REGISTRY.unregister(observer._drain)
