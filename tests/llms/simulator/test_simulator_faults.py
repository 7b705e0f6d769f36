"""Every fault kind, on streaming and non-streaming requests, plus queue order and the default."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import aiohttp
import pytest
from simulator_helpers import Api, sse_payloads, user

from core.llms.simulator import Fault


async def _stream_raw(api: Api, body: dict[str, Any] | None = None) -> bytes:
    """The raw bytes of a streamed answer; raises what aiohttp raises."""
    payload = {**(body or user("one two three four five six")), "stream": True}
    async with api.session.post(api.url("openai"), json=payload, headers=api.auth("openai")) as resp:
        assert resp.status == 200
        return await resp.read()


async def _stream_until_error(api: Api) -> tuple[list[bytes], BaseException]:
    """Lines read before the stream broke, and the error that broke it."""
    lines: list[bytes] = []
    payload = {**user("one two three four five six"), "stream": True}
    try:
        async with api.session.post(api.url("openai"), json=payload, headers=api.auth("openai")) as resp:
            assert resp.status == 200
            async for line in resp.content:
                lines.append(line)
    except aiohttp.ClientError as exc:
        return lines, exc
    raise AssertionError("the stream did not break")


# ---------------------------------------------------------------------------- status faults


@pytest.mark.parametrize(
    ("status", "type_", "code"),
    [
        (400, "invalid_request_error", None),
        (401, "invalid_request_error", "invalid_api_key"),
        (403, "invalid_request_error", "permission_denied"),
        (429, "requests", "rate_limit_exceeded"),
        (500, "server_error", None),
        (503, "server_error", "service_unavailable"),
        (529, "server_error", "overloaded"),
        (502, "server_error", None),
        (418, "invalid_request_error", None),
    ],
)
async def test_status_fault_bodies(api: Api, status: int, type_: str, code: str | None) -> None:
    api.sim.enqueue(Fault(status=status))
    got, err = await api.error(user("x"))
    assert got == status
    assert set(err["error"]) == {"message", "type", "param", "code"}
    assert err["error"]["type"] == type_
    assert err["error"]["code"] == code
    assert err["error"]["message"]


async def test_status_fault_applies_to_streams_and_azure(api: Api) -> None:
    api.sim.enqueue(Fault(status=503), Fault(status=429))
    status, headers, raw = await api.post(user("x", stream=True))
    assert status == 503 and headers["Content-Type"].startswith("application/json")
    status, headers, raw = await api.post(user("x"), "azure")
    assert status == 429 and headers["apim-request-id"]
    assert json.loads(raw)["error"]["code"] == "rate_limit_exceeded"


async def test_fault_comes_before_auth(api: Api) -> None:
    api.sim.enqueue(Fault(status=503))
    status, _ = await api.error(user("x"), headers={})
    assert status == 503


async def test_retry_after_headers(api: Api) -> None:
    api.sim.enqueue(
        Fault(status=429, retry_after=0.01),
        Fault(
            status=503, retry_after=2, retry_after_ms=1500, headers={"x-ratelimit-remaining-requests": "0"}
        ),
    )
    status, headers, _ = await api.post(user("x"))
    assert status == 429
    assert headers["Retry-After"] == "0.01"
    assert "retry-after-ms" not in headers
    status, headers, _ = await api.post(user("x"))
    assert status == 503
    assert headers["retry-after"] == "2"
    assert headers["retry-after-ms"] == "1500"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-request-id"] == "req_sim_000002"


async def test_body_override(api: Api) -> None:
    custom = {"error": {"message": "custom", "type": "x", "param": None, "code": "y"}}
    api.sim.enqueue(Fault(status=500, body=custom), Fault(status=502, body="<html>bad gateway</html>"))
    status, err = await api.error(user("x"))
    assert (status, err) == (500, custom)
    status, headers, raw = await api.post(user("x"))
    assert (status, raw) == (502, b"<html>bad gateway</html>")
    assert headers["Content-Type"].startswith("text/html")


async def test_body_without_status_is_a_200(api: Api) -> None:
    api.sim.enqueue(Fault(body={"anything": 1}))
    status, _, raw = await api.post(user("x"))
    assert status == 200 and json.loads(raw) == {"anything": 1}


# ---------------------------------------------------------------------------- queue and default


async def test_queue_is_fifo_one_per_request(api: Api) -> None:
    api.sim.enqueue(Fault(status=503), Fault(status=429))
    api.sim.enqueue(Fault(status=500))
    statuses = [(await api.post(user("x")))[0] for _ in range(4)]
    assert statuses == [503, 429, 500, 200]


async def test_default_fault_applies_while_queue_is_empty(api: Api) -> None:
    api.sim.set_default_fault(Fault(status=503))
    api.sim.enqueue(Fault(status=429))
    statuses = [(await api.post(user("x")))[0] for _ in range(3)]
    assert statuses == [429, 503, 503]
    api.sim.set_default_fault(None)
    assert (await api.post(user("x")))[0] == 200


async def test_reset_clears_faults(api: Api) -> None:
    api.sim.enqueue(Fault(status=503))
    api.sim.set_default_fault(Fault(status=500))
    api.sim.reset()
    assert (await api.post(user("x")))[0] == 200


async def test_unknown_routes_do_not_consume_faults(api: Api) -> None:
    api.sim.enqueue(Fault(status=503))
    async with api.session.get(f"{api.sim.url}/nowhere") as resp:
        assert resp.status == 404
    assert (await api.post(user("x")))[0] == 503


# ---------------------------------------------------------------------------- timing faults


async def test_delay_before_headers(api: Api) -> None:
    api.sim.enqueue(Fault(delay=0.2))
    start = time.monotonic()
    assert (await api.post(user("x")))[0] == 200
    assert time.monotonic() - start >= 0.2


async def test_delay_trips_a_client_timeout(api: Api) -> None:
    api.sim.enqueue(Fault(delay=1.0))
    with pytest.raises(asyncio.TimeoutError):
        async with api.session.post(
            api.url("openai"),
            json=user("x"),
            headers=api.auth("openai"),
            timeout=aiohttp.ClientTimeout(total=0.1),
        ):
            pass


async def test_stall_after_first_chunk(api: Api) -> None:
    api.sim.enqueue(Fault(stall=0.3))
    stamps: list[tuple[float, bytes]] = []
    payload = {**user("one two three"), "stream": True}
    async with api.session.post(api.url("openai"), json=payload, headers=api.auth("openai")) as resp:
        async for line in resp.content:
            if line.strip():
                stamps.append((time.monotonic(), line))
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(stamps)]
    big = [i for i, g in enumerate(gaps) if g >= 0.25]
    assert len(big) == 1
    assert b'"content":"Simulated"' in stamps[big[0]][1]  # the stall comes after the first content chunk
    assert stamps[-1][1] == b"data: [DONE]\n"


async def test_stall_trips_a_read_timeout(api: Api) -> None:
    api.sim.enqueue(Fault(stall=1.0))
    lines: list[bytes] = []
    payload = {**user("one two"), "stream": True}
    with pytest.raises(asyncio.TimeoutError):
        async with api.session.post(
            api.url("openai"),
            json=payload,
            headers=api.auth("openai"),
            timeout=aiohttp.ClientTimeout(sock_read=0.15),
        ) as resp:
            async for line in resp.content:
                lines.append(line)
    assert any(b"Simulated" in line for line in lines)


async def test_stall_on_non_stream_sends_headers_first(api: Api) -> None:
    api.sim.enqueue(Fault(stall=0.3))
    start = time.monotonic()
    async with api.session.post(api.url("openai"), json=user("x"), headers=api.auth("openai")) as resp:
        headers_at = time.monotonic() - start
        body = await resp.json()
        body_at = time.monotonic() - start
    assert headers_at < 0.25 <= body_at
    assert body["choices"][0]["message"]["content"].startswith("Simulated")


# ---------------------------------------------------------------------------- connection drops


@pytest.mark.parametrize("stream", [False, True])
async def test_drop_before_headers(api: Api, stream: bool) -> None:
    api.sim.enqueue(Fault(drop="before_headers"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with api.session.post(
            api.url("openai"), json=user("x", stream=stream), headers=api.auth("openai")
        ):
            pass
    assert (await api.post(user("x")))[0] == 200  # the next request is served normally


@pytest.mark.parametrize("drop", ["before_first_chunk", "after_first_chunk"])
async def test_any_drop_on_non_stream_is_before_headers(api: Api, drop: Any) -> None:
    api.sim.enqueue(Fault(drop=drop))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with api.session.post(api.url("openai"), json=user("x"), headers=api.auth("openai")):
            pass


async def test_drop_before_first_chunk(api: Api) -> None:
    api.sim.enqueue(Fault(drop="before_first_chunk"))
    lines, exc = await _stream_until_error(api)
    assert lines == []
    assert isinstance(exc, aiohttp.ClientPayloadError)


async def test_drop_after_first_chunk(api: Api) -> None:
    api.sim.enqueue(Fault(drop="after_first_chunk"))
    lines, exc = await _stream_until_error(api)
    assert isinstance(exc, aiohttp.ClientPayloadError)
    events = [json.loads(line[6:]) for line in lines if line.startswith(b"data: ")]
    assert [e["choices"][0]["delta"].get("content") for e in events] == ["", "Simulated"]


# ---------------------------------------------------------------------------- broken content


async def test_malformed_json_non_stream(api: Api) -> None:
    api.sim.enqueue(Fault(malformed_json=True))
    status, headers, raw = await api.post(user("x"))
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


async def test_malformed_json_in_stream(api: Api) -> None:
    api.sim.enqueue(Fault(malformed_json=True))
    payloads = sse_payloads(await _stream_raw(api))
    broken = []
    for p in payloads[:-1]:
        try:
            json.loads(p)
        except json.JSONDecodeError:
            broken.append(p)
    assert len(broken) == 1
    assert payloads[-1] == "[DONE]"


async def test_truncated_stream(api: Api) -> None:
    api.sim.enqueue(Fault(truncate_stream=True))
    raw = await _stream_raw(api)  # ends cleanly: no client error
    payloads = sse_payloads(raw)
    assert "[DONE]" not in payloads
    events = [json.loads(p) for p in payloads]
    assert all(c["finish_reason"] is None for e in events for c in e["choices"])
    content = [c["delta"]["content"] for e in events[1:] for c in e["choices"]]
    assert 1 <= len(content) < 9  # "Simulated answer to: one two three four five six" is 9 words
    assert (await api.post(user("x")))[0] == 200


async def test_truncated_non_stream_body(api: Api) -> None:
    api.sim.enqueue(Fault(truncate_stream=True))
    with pytest.raises(aiohttp.ClientPayloadError):
        async with api.session.post(api.url("openai"), json=user("x"), headers=api.auth("openai")) as resp:
            assert resp.status == 200
            await resp.read()


async def test_error_event_in_stream(api: Api) -> None:
    api.sim.enqueue(Fault(error_event=True), Fault(error_event=True, status=429))
    payloads = sse_payloads(await _stream_raw(api))
    assert "[DONE]" not in payloads
    *chunks, last = [json.loads(p) for p in payloads]
    assert [c["choices"][0]["delta"].get("content") for c in chunks] == ["", "Simulated"]
    assert set(last) == {"error"}
    assert last["error"]["type"] == "server_error"
    last = json.loads(sse_payloads(await _stream_raw(api))[-1])
    assert last["error"]["code"] == "rate_limit_exceeded"


async def test_error_event_on_non_stream_is_a_200_error_body(api: Api) -> None:
    api.sim.enqueue(Fault(error_event=True))
    status, _, raw = await api.post(user("x"))
    assert status == 200
    assert json.loads(raw)["error"]["type"] == "server_error"


async def test_faults_on_azure_streams_keep_the_filter_chunk(api: Api) -> None:
    api.sim.enqueue(Fault(truncate_stream=True))
    status, _, raw = await api.post(user("one two three four", stream=True), "azure")
    assert status == 200
    events = [json.loads(p) for p in sse_payloads(raw)]
    assert "prompt_filter_results" in events[0]
    assert events[1]["choices"][0]["delta"]["role"] == "assistant"


# ---------------------------------------------------------------------------- Fault itself


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"status": 99}, "status"),
        ({"status": True}, "status"),
        ({"status": 302}, "not an error status"),
        ({"delay": -1}, "delay"),
        ({"stall": float("inf")}, "stall"),
        ({"retry_after": "soon"}, "retry_after"),
        ({"retry_after_ms": 1.5}, "retry_after_ms"),
        ({"drop": "sometimes"}, "drop"),
        ({"headers": {"a": 1}}, "headers"),
        ({"body": 3}, "body"),
        ({"malformed_json": "yes"}, "malformed_json"),
    ],
)
def test_fault_validation(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Fault(**kwargs)


def test_fault_dict_round_trip() -> None:
    fault = Fault(status=429, retry_after=1.5, headers={"x": "y"}, drop="after_first_chunk")
    assert Fault.from_dict(fault.to_dict()) == fault
    assert Fault.from_dict({"status": 503, "headers": None}) == Fault(status=503)
    with pytest.raises(ValueError, match="unknown Fault field"):
        Fault.from_dict({"stauts": 503})


def test_enqueue_rejects_non_faults(api: Api) -> None:
    with pytest.raises(TypeError):
        api.sim.enqueue({"status": 503})  # type: ignore[arg-type]
