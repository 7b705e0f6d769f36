"""FailoverConnector.send: every retry / failover / breaker / deadline rule, over loopback servers."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.endpoint import EndpointConfig, Timeouts
from core.llms.interfaces.errors import (
    AllEndpointsFailedError,
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContentFilterError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParsingError,
    ServiceUnavailableError,
)
from core.llms.interfaces.llm_interfaces import IConnector, WireRequest
from core.llms.providers.azure import AzureAdapter, AzureSettings
from core.llms.providers.base.connector import Connector
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy

from .support import (
    FAST,
    SECRET,
    FailoverFactory,
    FakeAdapter,
    Reply,
    ScriptServer,
    ServerFactory,
    endpoint,
    error_json,
)

CHAT = WireRequest(operation="chat", payload={"messages": [{"role": "user", "content": "hi"}]})


def fail(status: int, message: str = "boom", **headers: str) -> Reply:
    return Reply(status=status, json=error_json(message), headers=headers)


async def two(make_server: ServerFactory) -> tuple[ScriptServer, ScriptServer]:
    return await make_server(), await make_server()


def test_is_an_iconnector() -> None:
    def accepts(_: IConnector) -> None: ...

    fc = FailoverConnector([Connector(endpoint("http://127.0.0.1:9"), FakeAdapter())])
    accepts(fc)  # mypy checks the protocol; nothing to close: no session was created


async def test_success_on_primary(make_server: ServerFactory, failover: FailoverFactory) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(json={"from": "a"}))
    fc = failover(a.url, b.url)
    resp = await fc.send(CHAT)
    assert (resp.data, resp.endpoint, resp.attempts) == ({"from": "a"}, a.url, 1)
    assert (a.hits, b.hits) == (1, 0)
    assert fc.endpoints == [a.url, b.url]


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (400, "bad", BadRequestError),
        (401, "bad key", AuthenticationError),
        (403, "forbidden", PermissionDeniedError),
        (404, "no such model", NotFoundError),
    ],
)
async def test_client_errors_are_raised_at_once(
    make_server: ServerFactory, failover: FailoverFactory, status: int, message: str, cls: type
) -> None:
    a, b = await two(make_server)
    a.enqueue(fail(status, message))
    fc = failover(a.url, b.url)
    with pytest.raises(cls) as info:
        await fc.send(CHAT)
    assert type(info.value) is cls  # the typed error itself, not AllEndpointsFailedError
    assert (info.value.endpoint, info.value.attempt, info.value.status) == (a.url, 1, status)
    assert (a.hits, b.hits) == (1, 0)
    assert fc.breaker(a.url).failures == 0  # the endpoint answered: not a health failure


async def test_content_filter_and_parse_errors_are_not_failed_over(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    class Filtering(FakeAdapter):
        def map_error(self, status, headers, body, endpoint):  # type: ignore[no-untyped-def]
            return ContentFilterError("blocked", endpoint=endpoint, status=status)

    a, b = await two(make_server)
    a.enqueue(fail(400), Reply(body=b"not json", headers={"Content-Type": "text/plain"}))
    fc = FailoverConnector.from_endpoints(Filtering(), endpoint(a.url), [{"endpoint": b.url}], policy=FAST)
    async with fc:
        with pytest.raises(ContentFilterError):
            await fc.send(CHAT)
        with pytest.raises(ResponseParsingError):
            await fc.send(CHAT)
    assert (a.hits, b.hits) == (2, 0)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529])
async def test_server_errors_fail_over_at_once(
    make_server: ServerFactory, failover: FailoverFactory, status: int
) -> None:
    a, b = await two(make_server)
    a.enqueue(fail(status))
    b.enqueue(Reply(json={"from": "b"}))
    fc = failover(a.url, b.url)
    resp = await fc.send(CHAT)
    assert (resp.data, resp.endpoint, resp.attempts) == ({"from": "b"}, b.url, 2)
    assert (a.hits, b.hits) == (1, 1)  # no same-endpoint retry on the primary
    assert fc.breaker(a.url).failures == 1
    assert fc.breaker(b.url).failures == 0


async def test_connection_refused_fails_over_quickly(
    server: ScriptServer, closed_port_url: str, failover: FailoverFactory
) -> None:
    fc = failover(closed_port_url, server.url)
    started = time.monotonic()
    resp = await fc.send(CHAT)
    assert time.monotonic() - started < 0.5
    assert resp.endpoint == server.url
    assert resp.attempts == 2


async def test_rate_limit_retries_same_endpoint_after_retry_after(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(fail(429, **{"retry-after-ms": "150"}), Reply(json={"from": "a"}))
    fc = failover(a.url, b.url)
    started = time.monotonic()
    resp = await fc.send(CHAT)
    assert time.monotonic() - started >= 0.15
    assert (resp.endpoint, resp.attempts) == (a.url, 2)
    assert (a.hits, b.hits) == (2, 0)
    assert fc.breaker(a.url).failures == 0  # rate limiting is not a health failure


async def test_rate_limit_without_retry_after_uses_backoff(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(fail(429), fail(429), Reply(json={}))
    policy = RetryPolicy(backoff_initial=0.05, backoff_max=1, jitter=0)
    started = time.monotonic()
    resp = await failover(server.url, policy=policy).send(CHAT)
    assert time.monotonic() - started >= 0.05 + 0.1
    assert resp.attempts == 3


async def test_rate_limit_failover_policy(make_server: ServerFactory, failover: FailoverFactory) -> None:
    a, b = await two(make_server)
    a.enqueue(fail(429, **{"Retry-After": "5"}))
    fc = failover(a.url, b.url, policy=RetryPolicy(rate_limit="failover"))
    started = time.monotonic()
    resp = await fc.send(CHAT)
    assert time.monotonic() - started < 1
    assert resp.endpoint == b.url
    assert (a.hits, b.hits) == (1, 1)


async def test_rate_limit_retries_exhausted_then_fails_over(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(*[fail(429, **{"retry-after-ms": "10"})] * 3)
    resp = await failover(a.url, b.url).send(CHAT)
    assert resp.endpoint == b.url
    assert (a.hits, b.hits) == (3, 1)


async def test_long_retry_after_fails_over_or_raises_at_once(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(fail(429, **{"Retry-After": "120"}), fail(429, **{"Retry-After": "120"}))
    resp = await failover(a.url, b.url).send(CHAT)
    assert resp.endpoint == b.url
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        await failover(a.url).send(CHAT)  # single endpoint: the error itself, no 120 s sleep
    assert time.monotonic() - started < 1
    assert (info.value.retry_after, info.value.attempt) == (120.0, 1)


async def test_retry_after_beyond_the_deadline_is_not_slept(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(fail(429, **{"Retry-After": "5"}))
    started = time.monotonic()
    with pytest.raises(RateLimitError):
        await failover(server.url).send(CHAT, RequestContext.with_timeout(2))
    assert time.monotonic() - started < 1
    assert server.hits == 1


async def test_last_endpoint_retries_with_backoff_then_raises_the_typed_error(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(fail(503), fail(503), fail(503, "still down"))
    with pytest.raises(ServiceUnavailableError) as info:
        await failover(server.url).send(CHAT)
    assert server.hits == 3  # 1 + max_retries
    assert (info.value.attempt, info.value.endpoint, info.value.message) == (3, server.url, "still down")


async def test_single_endpoint_recovers_on_retry(server: ScriptServer, failover: FailoverFactory) -> None:
    server.enqueue(fail(502), Reply(json={"ok": 1}))
    resp = await failover(server.url).send(CHAT)
    assert (resp.data, resp.attempts) == ({"ok": 1}, 2)


async def test_503_retry_after_honoured_on_last_endpoint(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(fail(503, **{"Retry-After": "0.2"}), Reply(json={}))
    started = time.monotonic()
    await failover(server.url).send(CHAT)
    assert time.monotonic() - started >= 0.2


async def test_conflict_is_retried_on_the_same_endpoint_only(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(fail(409), Reply(json={"from": "a"}))
    resp = await failover(a.url, b.url).send(CHAT)
    assert resp.endpoint == a.url
    assert (a.hits, b.hits) == (2, 0)


async def test_all_endpoints_failed_lists_every_attempt(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(fail(500, "primary down"))
    b.enqueue(fail(502, "b1"), fail(503, "b2"), fail(504, "b3"))
    with pytest.raises(AllEndpointsFailedError) as info:
        await failover(a.url, b.url).send(CHAT)
    err = info.value
    assert [(r.endpoint, r.attempt, r.skipped) for r in err.attempts] == [
        (a.url, 1, False),
        (b.url, 1, False),
        (b.url, 2, False),
        (b.url, 3, False),
    ]
    assert [r.error.status for r in err.attempts if r.error] == [500, 502, 503, 504]
    assert all(isinstance(r.error, ServiceUnavailableError) for r in err.attempts)
    assert err.last_error is err.attempts[-1].error
    assert err.__cause__ is err.last_error
    assert "primary down" in str(err) and "b3" in str(err)


async def test_open_breaker_skips_the_endpoint(make_server: ServerFactory, failover: FailoverFactory) -> None:
    a, b = await two(make_server)
    fc = failover(a.url, b.url, failure_threshold=2, cooldown=60)
    a.enqueue(fail(503), fail(503))
    await fc.send(CHAT)
    await fc.send(CHAT)
    assert fc.breaker(a.url).state == "open"
    resp = await fc.send(CHAT)
    assert resp.endpoint == b.url
    assert (a.hits, b.hits) == (2, 3)  # the third call cost the dead primary nothing
    b.enqueue(fail(503), fail(503), fail(503))
    with pytest.raises(AllEndpointsFailedError) as info:
        await fc.send(CHAT)
    assert [(r.endpoint, r.skipped) for r in info.value.attempts] == [
        (a.url, True),
        (b.url, False),
        (b.url, False),
        (b.url, False),
    ]
    assert "skipped (circuit open)" in str(info.value)


async def test_all_breakers_open_probes_the_earliest_opened(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    fc = failover(a.url, b.url, failure_threshold=1, cooldown=60)
    a.enqueue(fail(503))
    b.enqueue(fail(503), fail(503), fail(503))
    with pytest.raises(AllEndpointsFailedError):
        await fc.send(CHAT)
    assert fc.breaker(a.url).state == fc.breaker(b.url).state == "open"
    assert fc.breaker(a.url).opened_at <= fc.breaker(b.url).opened_at  # type: ignore[operator]
    resp = await fc.send(CHAT)
    assert resp.endpoint == a.url
    assert fc.breaker(a.url).state == "closed"


async def test_half_open_probe_after_cooldown(make_server: ServerFactory, failover: FailoverFactory) -> None:
    a, b = await two(make_server)
    fc = failover(a.url, b.url, failure_threshold=1, cooldown=0.1)
    a.enqueue(fail(503))
    assert (await fc.send(CHAT)).endpoint == b.url
    assert (await fc.send(CHAT)).endpoint == b.url  # open: skipped
    await asyncio.sleep(0.12)
    assert fc.breaker(a.url).state == "half_open"
    assert (await fc.send(CHAT)).endpoint == a.url  # the probe succeeds
    assert fc.breaker(a.url).state == "closed"


async def test_idempotency_key_and_body_identical_on_every_attempt(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(fail(503))
    b.enqueue(fail(503), fail(429, **{"retry-after-ms": "1"}), Reply(json={}))
    await failover(a.url, b.url).send(CHAT, RequestContext(idempotency_key="idem-42"))
    requests = a.requests + b.requests
    assert len(requests) == 4
    assert {r.headers["Idempotency-Key"] for r in requests} == {"idem-42"}
    assert len({r.body for r in requests}) == 1
    assert {r.headers["Authorization"] for r in requests} == {f"Bearer {SECRET}"}  # inherited by the backup


async def test_deadline_bounds_total_time_single_endpoint(
    server: ScriptServer, failover: FailoverFactory
) -> None:
    server.enqueue(Reply(delay=5), Reply(delay=5), Reply(delay=5))
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await failover(server.url).send(CHAT, RequestContext.with_timeout(0.3))
    assert 0.25 <= time.monotonic() - started < 0.8


async def test_deadline_bounds_total_time_with_backups(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(delay=0.2, status=503, json=error_json("slow and down")))
    b.enqueue(Reply(delay=5), Reply(delay=5))
    started = time.monotonic()
    with pytest.raises(AllEndpointsFailedError) as info:
        await failover(a.url, b.url).send(CHAT, RequestContext.with_timeout(0.5))
    assert time.monotonic() - started < 1.0
    last = info.value.last_error
    assert isinstance(last, RequestTimeoutError)
    assert "deadline exceeded" in last.message
    assert "during attempt 1" in last.message  # b's attempt was cut short by the deadline
    assert isinstance(last.__cause__, RequestTimeoutError)
    assert [(r.endpoint, r.attempt) for r in info.value.attempts] == [(a.url, 1), (b.url, 1)]


async def test_expired_deadline_sends_nothing(server: ScriptServer, failover: FailoverFactory) -> None:
    ctx = RequestContext(deadline=time.monotonic() - 1)
    with pytest.raises(RequestTimeoutError, match="deadline exceeded"):
        await failover(server.url).send(CHAT, ctx)
    assert server.hits == 0


async def test_request_total_timeout_bounds_the_call(server: ScriptServer, failover: FailoverFactory) -> None:
    server.enqueue(Reply(delay=5))
    request = WireRequest(operation="chat", payload={}, total_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError, match="deadline exceeded"):
        await failover(server.url, policy=RetryPolicy(max_retries=0)).send(request)
    assert time.monotonic() - started < 1


async def test_stalled_response_times_out_and_fails_over(
    make_server: ServerFactory, failover: FailoverFactory
) -> None:
    a, b = await two(make_server)
    a.enqueue(Reply(delay=5))
    fc = failover(a.url, b.url, timeouts=Timeouts(connect=1, read=0.2, total=10))
    resp = await fc.send(CHAT)
    assert resp.endpoint == b.url


# -- construction ------------------------------------------------------------------------------


async def test_from_endpoints_inheritance_and_names(adapter: FakeAdapter) -> None:
    primary = EndpointConfig(
        endpoint="https://res.example.test",
        api_key=SECRET,
        settings=AzureSettings(deployment_name="gpt-a", api_version="2024-10-21"),
    )
    fc = FailoverConnector.from_endpoints(
        AzureAdapter(),
        primary,
        [
            {"deployment_name": "gpt-b"},
            {"endpoint": "https://backup.example.test", "name": "west"},
            {"deployment_name": "gpt-b"},
            EndpointConfig(endpoint="https://other.example.test", model_id="m-2"),
        ],
    )
    assert fc.endpoints == [
        "https://res.example.test",
        "https://res.example.test (gpt-b)",
        "west",
        "https://res.example.test #4",
        "https://other.example.test",
    ]
    configs = [c.endpoint for c in fc.connectors]
    assert configs[1].api_key is not None and configs[1].api_key.get_secret_value() == SECRET
    assert configs[2].settings == AzureSettings(deployment_name="gpt-a", api_version="2024-10-21")
    assert configs[3].settings == AzureSettings(deployment_name="gpt-b", api_version="2024-10-21")
    assert configs[4].api_key is None  # a full EndpointConfig is taken as is
    # the model id each endpoint is sent: its deployment, or its own model_id
    assert [c.served_model for c in fc.connectors] == ["gpt-a", "gpt-b", "gpt-a", "gpt-b", "m-2"]
    await fc.aclose()


def test_construction_errors(adapter: FakeAdapter) -> None:
    with pytest.raises(ConfigurationError, match="at least one"):
        FailoverConnector([])
    same = [
        Connector(endpoint("http://127.0.0.1:9"), adapter),
        Connector(endpoint("http://127.0.0.1:9"), adapter),
    ]
    with pytest.raises(ConfigurationError, match="unique"):
        FailoverConnector(same)
    with pytest.raises(ConfigurationError, match="backup endpoint #1"):
        FailoverConnector.from_endpoints(adapter, endpoint("http://127.0.0.1:9"), ["http://x"])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="unknown backup endpoint field"):
        FailoverConnector.from_endpoints(adapter, endpoint("http://127.0.0.1:9"), [{"endpont": "http://x"}])
    fc = FailoverConnector([Connector(endpoint("http://127.0.0.1:9"), adapter)])
    with pytest.raises(ConfigurationError, match="no endpoint named"):
        fc.breaker("nope")


async def test_aclose_closes_every_session(make_server: ServerFactory, adapter: FakeAdapter) -> None:
    a, b = await two(make_server)
    a.enqueue(fail(503))
    fc = FailoverConnector.from_endpoints(adapter, endpoint(a.url), [{"endpoint": b.url}], policy=FAST)
    async with fc:
        await fc.send(CHAT)
        sessions = [c._session for c in fc.connectors]
        assert all(s is not None and not s.closed for s in sessions)
    assert all(s is not None and s.closed for s in sessions)
    await fc.aclose()  # idempotent


async def test_debug_logs_decisions_without_secrets_or_bodies(
    make_server: ServerFactory, failover: FailoverFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="core.llms.transport")
    a, b = await two(make_server)
    a.enqueue(fail(503, "BODY-TEXT-XYZ"))
    b.enqueue(fail(429, "BODY-TEXT-XYZ", **{"retry-after-ms": "1"}), Reply(json={}))
    await failover(a.url, b.url, headers={"X-Custom": "HEADER-VALUE"}).send(CHAT)
    text = caplog.text
    assert f"{a.url} attempt 1 failed: ServiceUnavailableError status=503 -> failover to {b.url}" in text
    assert f"{b.url} attempt 1 failed: RateLimitError status=429 -> retry (retry in 0.001s)" in text
    assert f"{b.url} attempt 2 succeeded" in text
    for secret in (SECRET, "BODY-TEXT-XYZ", "HEADER-VALUE"):
        assert secret not in text


async def test_no_secret_in_all_endpoints_failed(closed_port_url: str, failover: FailoverFactory) -> None:
    fc = failover(f"{closed_port_url}/v1?key={SECRET}", f"{closed_port_url}/v2?key={SECRET}")
    with pytest.raises(AllEndpointsFailedError) as info:
        await fc.send(CHAT)
    err = info.value
    assert all(isinstance(r.error, APIConnectionError) for r in err.attempts)
    for text in (
        str(err),
        repr(err),
        *(str(r.error) for r in err.attempts),
        *(repr(r) for r in err.attempts),
    ):
        assert SECRET not in text
