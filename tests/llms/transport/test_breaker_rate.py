"""The breaker's failure-rate rule (the default) against the consecutive rule, driven by a fake
clock; the failover decision that reads breakers (a half-open backup whose probe is in flight);
and errors a stream parser raises before the first item with a 4xx status."""

from __future__ import annotations

import random
from contextlib import aclosing

import pytest

from core.llms import FailureRate, create_llm
from core.llms.interfaces.errors import (
    AllEndpointsFailedError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.base.breaker import DEFAULT_FAILURE_RATE, CircuitBreaker, check_failure_rate
from core.llms.providers.base.connector import Connector
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.pool import EndpointPool

from .support import (
    FAST,
    FailoverFactory,
    FakeAdapter,
    Reply,
    ServerFactory,
    TextParser,
    endpoint,
    error_json,
    sse_error,
)
from .support import sse as sse_chunks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(breaker: CircuitBreaker, clock: Clock, outcomes: list[bool], per_second: float) -> int:
    """Record ``outcomes`` (True: a failure) ``1/per_second`` apart while the breaker is closed;
    count how often it opened (each time it is closed again at once, as a successful probe would)."""
    opened = 0
    for failed in outcomes:
        clock.now += 1 / per_second
        if failed:
            breaker.record_failure()
        else:
            breaker.record_success()
        if breaker.state != "closed":
            opened += 1
            breaker.record_success()
    return opened


def scattered(n: int, rate: float, seed: int) -> list[bool]:
    rng = random.Random(seed)
    return [rng.random() < rate for _ in range(n)]


# -- the failure-rate rule ---------------------------------------------------------------------


def test_the_default_rule_is_the_failure_rate() -> None:
    breaker = CircuitBreaker()
    assert breaker.failure_rate == DEFAULT_FAILURE_RATE == FailureRate(rate=0.5, calls=50, seconds=10.0)
    assert (breaker.failure_threshold, breaker.cooldown) == (3, 30.0)
    assert repr(breaker) == "CircuitBreaker(state='closed', failures=0)"


@pytest.mark.parametrize("per_second", [10_000.0, 1000.0, 50.0, 10.0])
def test_scattered_failures_never_open_the_breaker(per_second: float) -> None:
    """The bug: 10 % random 503s opened a healthy primary under the consecutive rule (three in a
    row come about once per thousand calls). Under the failure-rate rule: never, over 100,000."""
    outcomes = scattered(100_000, 0.10, seed=int(per_second))
    assert sum(outcomes) > 9_000
    clock = Clock()
    assert run(CircuitBreaker(3, 30, clock), clock, outcomes, per_second) == 0
    clock = Clock()
    consecutive = CircuitBreaker(3, 30, clock, failure_rate=None)
    assert run(consecutive, clock, outcomes, per_second) > 50  # what happened before


def test_scattered_failures_at_low_traffic_open_it_no_more_often_than_consecutive_failures() -> None:
    """With few calls in the window the rule is the consecutive one, never more eager."""
    for per_second in (1.0, 0.1):
        outcomes = scattered(20_000, 0.10, seed=7)
        clock = Clock()
        by_rate = run(CircuitBreaker(3, 30, clock), clock, outcomes, per_second)
        clock = Clock()
        by_count = run(CircuitBreaker(3, 30, clock, failure_rate=None), clock, outcomes, per_second)
        assert by_rate <= by_count


def test_a_dead_endpoint_opens_after_the_threshold() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 30, clock)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    assert breaker.window() == (3, 3)


@pytest.mark.parametrize(
    ("per_second", "most"), [(10_000.0, 25), (1000.0, 25), (10.0, 25), (1.0, 6), (0.1, 3)]
)
def test_an_endpoint_that_dies_after_healthy_traffic_opens_within_a_few_calls(
    per_second: float, most: int
) -> None:
    """Its recent successes count: half of the last 50 calls (within 10 s) must fail. At 1000
    calls a second that is 25 ms of failures; at low traffic old successes have left the window."""
    clock = Clock()
    breaker = CircuitBreaker(3, 30, clock)
    run(breaker, clock, [False] * 10_000, per_second)
    failures = 0
    while breaker.state == "closed":
        clock.now += 1 / per_second
        breaker.record_failure()
        failures += 1
    assert 3 <= failures <= most


def test_a_degraded_endpoint_opens() -> None:
    """Most calls failing (60 %) is not a healthy endpoint: it opens quickly."""
    clock = Clock()
    breaker = CircuitBreaker(3, 30, clock)
    calls = 0
    for failed in scattered(2_000, 0.6, seed=3):
        calls += 1
        clock.now += 0.001
        if failed:
            breaker.record_failure()
        else:
            breaker.record_success()
        if breaker.state == "open":
            break
    assert breaker.state == "open" and calls < 60


def test_the_window_forgets_old_calls() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 30, clock, failure_rate=FailureRate(rate=0.5, calls=4, seconds=10))
    for _ in range(6):
        clock.now += 1
        breaker.record_success()
    assert breaker.window() == (4, 0)  # only the last 4 calls
    clock.now += 9.5
    assert breaker.window() == (1, 0)  # only the calls of the last 10 s
    clock.now += 1
    assert breaker.window() == (0, 0)


@pytest.mark.parametrize(("rate", "expected"), [(0.5, "closed"), (0.3, "open")])
def test_the_rate_is_configurable(rate: float, expected: str) -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 30, clock, failure_rate=FailureRate(rate=rate, calls=10, seconds=60))
    for _ in range(6):
        clock.now += 0.1
        breaker.record_success()
    for _ in range(3):  # 3 of the last 9 calls: 33 %
        clock.now += 0.1
        breaker.record_failure()
    assert breaker.state == expected


def test_half_open_probing_is_unchanged() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 30, clock)
    run(breaker, clock, [False] * 100, 1000.0)
    for _ in range(40):
        breaker.record_failure()
    assert breaker.state == "open"
    opened = breaker.opened_at
    clock.now += 29.9
    assert breaker.state == "open" and not breaker.available() and not breaker.allow()
    clock.now += 0.1
    assert breaker.state == "half_open" and breaker.available()
    assert breaker.allow() is True  # the single probe
    assert not breaker.available() and breaker.allow() is False
    breaker.record_failure()  # the probe failed: open again, for a whole cooldown
    assert breaker.state == "open" and breaker.opened_at == clock.now != opened
    clock.now += 30
    assert breaker.allow()
    breaker.record_success()  # the probe succeeded: closed, with a fresh window
    assert breaker.state == "closed" and breaker.window() == (1, 0) and breaker.failures == 0
    for _ in range(3):  # still failing: the fresh window opens it again at the threshold
        breaker.record_failure()
    assert breaker.state == "open"


def test_a_lost_probe_still_expires() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 10, clock)
    breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    clock.now += 9
    assert not breaker.available() and not breaker.allow()
    clock.now += 1
    assert breaker.available() and breaker.allow()


def test_the_consecutive_rule_still_available() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 30, clock, failure_rate=None)
    run(breaker, clock, [False] * 1000, 1000.0)
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state == "open"
    assert breaker.window() == (0, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": 0},
        {"rate": 1.5},
        {"rate": float("nan")},
        {"rate": True},
        {"rate": "0.5"},
        {"calls": 0},
        {"calls": 2.5},
        {"calls": 10**9},
        {"seconds": 0},
        {"seconds": float("inf")},
        {"seconds": "10"},
    ],
)
def test_bad_failure_rate_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="FailureRate"):
        FailureRate(**kwargs)  # type: ignore[arg-type]


def test_failure_rate_from_a_mapping() -> None:
    assert check_failure_rate({"rate": 0.25, "calls": 20}) == FailureRate(0.25, 20, 10.0)
    assert check_failure_rate(None) is None
    with pytest.raises(ConfigurationError, match=r"unknown failure_rate field\(s\) \['window'\]"):
        check_failure_rate({"window": 5})
    with pytest.raises(ConfigurationError, match="failure_rate must be a FailureRate"):
        check_failure_rate(0.5)
    with pytest.raises(ConfigurationError, match="failure_threshold"):
        CircuitBreaker("3")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="cooldown"):
        CircuitBreaker(3, float("nan"))


def test_create_llm_and_the_pool_take_the_rule() -> None:
    rule = FailureRate(rate=0.25, calls=20, seconds=5)
    for n, (given, expected) in enumerate(
        [(rule, rule), ({"rate": 0.25, "calls": 20, "seconds": 5}, rule), (None, None)]
    ):
        url = (
            f"https://breaker-rule-{n}.example/v1"  # one endpoint each: a shared one keeps its first breaker
        )
        llm = create_llm("openai/gpt-4.1-mini", api_key="k", endpoint=url, failure_rate=given)
        assert isinstance(llm.connector, FailoverConnector)
        assert llm.connector.breaker(url).failure_rate == expected
    default = create_llm("openai/gpt-4.1-mini", api_key="k", endpoint="https://breaker-rule-d.example/v1")
    assert isinstance(default.connector, FailoverConnector)
    assert default.connector.breaker("https://breaker-rule-d.example/v1").failure_rate == DEFAULT_FAILURE_RATE
    with pytest.raises(ConfigurationError, match="failure_rate"):
        create_llm("openai/gpt-4.1-mini", api_key="k", endpoint="https://x.example/v1", failure_rate=0.5)  # type: ignore[arg-type]
    pooled = EndpointPool().connector(
        endpoint("http://127.0.0.1:9"), FakeAdapter(), 2, 5.0, failure_rate=None
    )
    assert pooled.breaker is not None and pooled.breaker.failure_rate is None
    plain = FailoverConnector([Connector(endpoint("http://127.0.0.1:9"), FakeAdapter())], failure_rate=rule)
    assert plain.breaker("http://127.0.0.1:9").failure_rate == rule


# -- a half-open backup whose probe is in flight -----------------------------------------------

CHAT = WireRequest(operation="chat", payload={"messages": [{"role": "user", "content": "hi"}]})
STREAM = WireRequest(operation="chat", payload={"stream": True}, stream=True)


def probing_backup(primary_url: str, backup_url: str, clock: Clock) -> FailoverConnector:
    """Primary and backup; the backup's breaker is half-open and its single probe in flight."""
    backup = CircuitBreaker(1, 30, clock)
    backup.record_failure()
    clock.now += 30
    assert backup.state == "half_open" and backup.allow()  # another call took the probe
    connectors = [
        Connector(endpoint(primary_url), FakeAdapter(), breaker=CircuitBreaker(3, 30, clock)),
        Connector(endpoint(backup_url), FakeAdapter(), breaker=backup),
    ]
    return FailoverConnector(connectors, FAST)


async def test_a_backup_probing_elsewhere_is_no_next_endpoint(make_server: ServerFactory) -> None:
    """The bug: the call decided that a next endpoint existed (its breaker was not "open"), was
    refused by allow(), and gave up after one attempt. The primary is the last usable endpoint:
    it is retried."""
    a, b = await make_server(), await make_server()
    a.enqueue(Reply(status=503, json=error_json("blip")), Reply(json={"from": "a"}))
    async with probing_backup(a.url, b.url, Clock()) as fc:
        response = await fc.send(CHAT)
    assert (response.data, response.endpoint, response.attempts) == ({"from": "a"}, a.url, 2)
    assert (a.hits, b.hits) == (1 + 1, 0)


async def test_a_backup_probing_elsewhere_on_a_stream(make_server: ServerFactory) -> None:
    a, b = await make_server(), await make_server()
    a.enqueue(Reply(status=503, json=error_json("blip")), Reply(chunks=sse_chunks("from a")))
    async with probing_backup(a.url, b.url, Clock()) as fc:
        assert await collect(fc) == ["from a"]
    assert (a.hits, b.hits) == (2, 0)


async def test_when_the_primary_keeps_failing_it_is_retried_then_given_up(make_server: ServerFactory) -> None:
    a, b = await make_server(), await make_server()
    a.enqueue(*[Reply(status=503, json=error_json("down"))] * 3)
    async with probing_backup(a.url, b.url, Clock()) as fc:
        with pytest.raises(AllEndpointsFailedError) as info:
            await fc.send(CHAT)
    assert [(r.endpoint, r.attempt) for r in info.value.attempts] == [(a.url, 1), (a.url, 2), (a.url, 3)]
    assert (a.hits, b.hits) == (3, 0)


async def test_a_half_open_backup_free_to_probe_is_failed_over_to(make_server: ServerFactory) -> None:
    a, b = await make_server(), await make_server()
    a.enqueue(Reply(status=503, json=error_json("down")))
    clock = Clock()
    backup = CircuitBreaker(1, 30, clock)
    backup.record_failure()
    clock.now += 30
    connectors = [
        Connector(endpoint(a.url), FakeAdapter(), breaker=CircuitBreaker(3, 30, clock)),
        Connector(endpoint(b.url), FakeAdapter(), breaker=backup),
    ]
    async with FailoverConnector(connectors, FAST) as fc:
        assert (await fc.send(CHAT)).endpoint == b.url  # this call takes the probe
    assert backup.state == "closed"


# -- errors a stream parser raises before the first item ----------------------------------------


async def collect(fc: FailoverConnector) -> list[str]:
    async with aclosing(fc.stream(STREAM, TextParser)) as items:
        return [item async for item in items]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, BadRequestError),
    ],
)
async def test_a_4xx_error_event_before_the_first_item_is_neither_retried_nor_failed_over(
    make_server: ServerFactory, failover: FailoverFactory, status: int, cls: type[Exception]
) -> None:
    a, b = await make_server(), await make_server()
    a.enqueue(Reply(chunks=[sse_error(status, "refused")]))
    b.enqueue(Reply(chunks=sse_chunks("from b")))
    fc = failover(a.url, b.url)
    with pytest.raises(cls) as info:
        await collect(fc)
    assert type(info.value) is cls
    assert (info.value.status, info.value.endpoint, info.value.attempt) == (status, a.url, 1)  # type: ignore[attr-defined]
    assert (a.hits, b.hits) == (1, 0)
    assert fc.breaker(a.url).failures == 0  # the endpoint answered


async def test_a_429_error_event_before_the_first_item_follows_the_429_rule(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await make_server(), await make_server()
    a.enqueue(Reply(chunks=[sse_error(429, "slow down")]), Reply(chunks=sse_chunks("from a")))
    assert await collect(failover(a.url, b.url)) == ["from a"]  # retried here, not failed over
    assert (a.hits, b.hits) == (2, 0)
    a.enqueue(*[Reply(chunks=[sse_error(429, "slow down")])] * 3)
    with pytest.raises(RateLimitError):
        await collect(failover(a.url))
