"""The connector's cheap paths keep their promises: the single-timer read/total timeouts of a
non-streamed attempt (``attempt_clock``), the kept endpoint headers, the JSON decoder."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.endpoint import EndpointConfig, Timeouts
from core.llms.interfaces.errors import RequestTimeoutError
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.base.attempt_clock import AttemptClock
from core.llms.providers.base.connector import Connector, decode_json, encode_json

from .support import SECRET, FakeAdapter, Reply, ScriptServer, endpoint

CHAT = WireRequest(operation="chat", payload={"model": "m"})
JSON = {"Content-Type": "application/json"}
#: a JSON body cut in four pieces, sent as a chunked body.
PIECES = [b'{"answer": ', b'"slow', b' but steady"', b"}"]


async def send(conn: Connector, request: WireRequest = CHAT, timeout: float | None = None) -> Any:
    return await conn.send_once(request, encode_json(request.payload), None, timeout)


# -- read and total timeouts of a non-streamed attempt ---------------------------------------------


async def test_a_body_trickling_slower_than_the_read_timeout_in_total_still_arrives(
    server: ScriptServer, adapter: FakeAdapter
) -> None:
    # 4 pieces 0.15 s apart: 0.45 s in all, more than the read timeout, but no gap reaches it.
    server.enqueue(Reply(chunks=PIECES, chunk_delay=0.15, headers=JSON))
    ep = endpoint(server.url, timeouts=Timeouts(connect=1, read=0.3, total=10))
    async with Connector(ep, adapter) as conn:
        started = time.monotonic()
        resp = await send(conn)
    assert resp.data == {"answer": "slow but steady"}
    assert time.monotonic() - started > 0.3


async def test_a_body_stalling_after_the_headers_is_a_read_timeout_with_the_status(
    server: ScriptServer, adapter: FakeAdapter
) -> None:
    server.enqueue(Reply(chunks=PIECES[:2], stall=True, headers=JSON))
    ep = endpoint(server.url, timeouts=Timeouts(connect=1, read=0.2, total=10))
    async with Connector(ep, adapter) as conn:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="read timed out") as caught:
            await send(conn)
    assert time.monotonic() - started < 2
    assert caught.value.status == 200 and caught.value.endpoint == server.url


async def test_the_total_cuts_a_trickling_body_as_a_total_timeout(
    server: ScriptServer, adapter: FakeAdapter
) -> None:
    server.enqueue(Reply(chunks=PIECES, chunk_delay=0.15, headers=JSON))
    async with Connector(endpoint(server.url), adapter) as conn:
        with pytest.raises(RequestTimeoutError, match="total timeout") as caught:
            await send(conn, timeout=0.25)  # what is left of a deadline caps the total
    assert caught.value.status == 200


async def test_a_call_read_timeout_overrides_the_endpoint_one(
    server: ScriptServer, adapter: FakeAdapter
) -> None:
    server.enqueue(Reply(json={"ok": True}, delay=0.5))
    request = WireRequest(operation="chat", payload={}, read_timeout=0.1)
    async with Connector(endpoint(server.url), adapter) as conn:  # endpoint read: 5 s
        with pytest.raises(RequestTimeoutError, match="read timed out"):
            await send(conn, request)


async def test_the_timer_is_gone_once_the_attempt_is_over(server: ScriptServer, adapter: FakeAdapter) -> None:
    ep = endpoint(server.url, timeouts=Timeouts(connect=1, read=0.05, total=0.1))
    async with Connector(ep, adapter) as conn:
        await send(conn)
        await asyncio.sleep(0.2)  # past both deadlines: a leftover timer would cancel this task
        await send(conn)


async def test_cancelling_the_caller_is_not_turned_into_a_timeout(
    server: ScriptServer, adapter: FakeAdapter
) -> None:
    server.enqueue(Reply(json={"ok": True}, delay=5))
    ep = endpoint(server.url, timeouts=Timeouts(connect=1, read=0.3, total=10))
    async with Connector(ep, adapter) as conn:
        task = asyncio.create_task(send(conn))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def clock_timeouts(read: float, total: float = 10.0) -> Timeouts:
    return Timeouts(connect=1, read=read, total=total)


async def run_with_clock(clock_args: tuple[Timeouts, float | None, float | None], seen: list[Any]) -> None:
    """An attempt-shaped coroutine: sleeps under a clock, reports what its handler saw."""
    clock = AttemptClock(*clock_args)
    seen.append(clock)
    try:
        await asyncio.sleep(5)
    except asyncio.CancelledError:
        timed_out = clock.timed_out()
        seen.append(timed_out)
        if not timed_out:
            raise
        raise clock.error("ep") from None
    finally:
        clock.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((clock_timeouts(0.01), None, None), "read timed out"),
        ((clock_timeouts(5), None, 0.01), "total timeout"),
    ],
    ids=["read", "total-capped"],
)
async def test_an_expired_clock_names_the_limit_that_fired(
    args: tuple[Timeouts, float | None, float | None], message: str
) -> None:
    seen: list[Any] = []
    with pytest.raises(RequestTimeoutError, match=message):
        await run_with_clock(args, seen)
    assert seen[1] is True


async def test_one_watchdog_expires_each_clock_at_its_own_deadline() -> None:
    """Clocks of very different deadlines share the loop's one timer; each fires when due (a later
    clock made first does not delay an earlier one), a stopped one never fires."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    ended: dict[float, float] = {}

    async def attempt(read: float, stop_after: float | None = None) -> None:
        clock = AttemptClock(clock_timeouts(read), None, None)
        try:
            await asyncio.sleep(stop_after if stop_after is not None else 5)
        except asyncio.CancelledError:
            assert clock.timed_out()
            ended[read] = loop.time() - started
        finally:
            clock.stop()

    await asyncio.gather(attempt(0.3), attempt(0.05), attempt(0.15), attempt(0.02, stop_after=0.01))
    assert set(ended) == {0.3, 0.05, 0.15}  # the stopped clock (0.02, done at 0.01) never fired
    for read, elapsed in ended.items():
        assert read <= elapsed + 0.002 < read + 0.05, (read, elapsed)


async def test_moving_on_pushes_the_deadline_later() -> None:
    loop = asyncio.get_running_loop()
    clock = AttemptClock(clock_timeouts(0.05), None, None)
    started = loop.time()
    try:
        for _ in range(4):  # data keeps arriving: 4 x 0.03 s > the 0.05 s read timeout
            await asyncio.sleep(0.03)
            clock.move_on()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.sleep(1)
        assert clock.timed_out() and loop.time() - started >= 0.12 + 0.05 - 0.002
    finally:
        clock.stop()


async def test_a_clock_and_an_outside_cancel_at_once_stay_a_cancellation() -> None:
    seen: list[Any] = []
    task = asyncio.create_task(run_with_clock((clock_timeouts(0.05), None, None), seen))
    await asyncio.sleep(0)  # the task made its clock
    when = seen[0]._at  # the clock's deadline: cancel from outside at the same moment
    asyncio.get_running_loop().call_at(when, task.cancel)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen[1] is False  # the handler saw a cancellation that is not only the clock's


# -- headers -----------------------------------------------------------------------------------------


class CountingAdapter(FakeAdapter):
    def __init__(self) -> None:
        self.auth_calls = 0

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        self.auth_calls += 1
        return await super().auth_headers(endpoint)


async def test_fixed_credentials_are_made_once_per_kind_of_request(server: ScriptServer) -> None:
    adapter = CountingAdapter()
    async with Connector(endpoint(server.url, headers={"X-Team": "blue"}), adapter) as conn:
        for _ in range(3):
            await send(conn)
        ctx = RequestContext(idempotency_key="idem-1")
        await conn.send_once(CHAT, b"{}", ctx, None)
    assert adapter.auth_calls == 1
    for seen in server.requests:
        assert seen.headers["Authorization"] == f"Bearer {SECRET}"
        assert seen.headers["X-Team"] == "blue"
        assert seen.headers["Accept"] == "application/json"
    assert "Idempotency-Key" not in server.requests[0].headers
    assert server.requests[-1].headers["Idempotency-Key"] == "idem-1"


async def test_a_token_provider_is_asked_for_every_request(server: ScriptServer) -> None:
    tokens = iter(["tok-one-123456", "tok-two-123456"])
    ep = endpoint(server.url, api_key=None, token_provider=lambda: next(tokens))

    class BearerAdapter(FakeAdapter):
        async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
            assert endpoint.token_provider is not None
            return {"Authorization": f"Bearer {endpoint.token_provider()}"}

    async with Connector(ep, BearerAdapter()) as conn:
        await send(conn)
        await send(conn)
    assert [r.headers["Authorization"] for r in server.requests] == [
        "Bearer tok-one-123456",
        "Bearer tok-two-123456",
    ]


# -- JSON ----------------------------------------------------------------------------------------------


def test_decode_json_reads_utf8_and_tolerates_a_byte_order_mark() -> None:
    assert decode_json('{"a": "hé"}'.encode()) == {"a": "hé"}
    assert decode_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe", '"x"'.encode("utf-16"), b'{"a": 1} trailing', b"[" * 100_000, b""],
    ids=["not-utf8", "utf16", "trailing", "too-deep", "empty"],
)
def test_decode_json_refuses_what_is_not_utf8_json(body: bytes) -> None:
    with pytest.raises(ValueError):
        decode_json(body)


def test_encode_json_is_compact_utf8() -> None:
    assert (
        encode_json({"a": ["hé", 1]})
        == json.dumps({"a": ["hé", 1]}, separators=(",", ":"), ensure_ascii=False).encode()
    )
