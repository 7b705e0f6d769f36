"""The simulator's fault kinds added for the fault matrix, seen with a bare aiohttp client:
``reset`` (a TCP RST instead of a clean FIN) and ``at="before_first_chunk"`` (stream faults that
strike right after the headers)."""

from __future__ import annotations

import errno
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from core.llms.simulator import Fault, Simulator

HEADERS = {"Authorization": "Bearer sk-test"}
BODY = {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "one two three four"}]}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        yield simulator


async def post(sim: Simulator, *, stream: bool) -> bytes:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sim.url}/v1/chat/completions", json={**BODY, "stream": stream}, headers=HEADERS
        ) as resp,
    ):
        assert resp.status == 200
        return await resp.read()


def events(raw: bytes) -> list[str]:
    return [line[6:] for line in raw.decode().splitlines() if line.startswith("data: ")]


def test_fault_validation_and_round_trip() -> None:
    with pytest.raises(ValueError, match="reset needs drop"):
        Fault(reset=True)
    with pytest.raises(ValueError, match=r"Fault\.at must be one of"):
        Fault(stall=1, at="later")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Fault\.reset must be a bool"):
        Fault(drop="before_headers", reset=1)  # type: ignore[arg-type]
    fault = Fault(drop="after_first_chunk", reset=True, at="before_first_chunk")
    assert Fault.from_dict(fault.to_dict()) == fault
    data: dict[str, Any] = {"stall": 1, "at": None}
    assert Fault.from_dict(data).at == "after_first_chunk"


@pytest.mark.parametrize("stream", [False, True])
async def test_reset_is_a_connection_reset_and_close_is_a_disconnect(sim: Simulator, stream: bool) -> None:
    sim.enqueue(Fault(drop="before_headers", reset=True), Fault(drop="before_headers"))
    with pytest.raises(aiohttp.ClientOSError) as reset:
        await post(sim, stream=stream)
    assert reset.value.errno == errno.ECONNRESET
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post(sim, stream=stream)


async def test_reset_after_the_first_chunk_delivers_that_chunk_first(sim: Simulator) -> None:
    sim.enqueue(Fault(drop="after_first_chunk", reset=True))
    received: list[bytes] = []
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sim.url}/v1/chat/completions", json={**BODY, "stream": True}, headers=HEADERS
        ) as resp,
    ):
        with pytest.raises(aiohttp.ClientPayloadError):
            async for line in resp.content:
                received.append(line)
    assert any(b'"content":"Simulated"' in line for line in received)


async def test_truncate_before_the_first_chunk_sends_no_event(sim: Simulator) -> None:
    sim.enqueue(Fault(truncate_stream=True, at="before_first_chunk"))
    assert await post(sim, stream=True) == b""


async def test_error_event_before_the_first_chunk_comes_first(sim: Simulator) -> None:
    sim.enqueue(Fault(error_event=True, status=429, at="before_first_chunk"))
    (only,) = events(await post(sim, stream=True))
    assert json.loads(only)["error"]["code"] == "rate_limit_exceeded"


async def test_malformed_event_before_the_first_chunk_then_the_stream(sim: Simulator) -> None:
    sim.enqueue(Fault(malformed_json=True, at="before_first_chunk"))
    data = events(await post(sim, stream=True))
    with pytest.raises(ValueError):
        json.loads(data[0])
    assert data[-1] == "[DONE]" and '"content":"Simulated"' in "".join(data)


async def test_stall_before_the_first_chunk_holds_every_event(sim: Simulator) -> None:
    sim.enqueue(Fault(stall=0.3, at="before_first_chunk"))
    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sim.url}/v1/chat/completions", json={**BODY, "stream": True}, headers=HEADERS
        ) as resp,
    ):
        headers_at = time.monotonic() - started
        first = await resp.content.readline()
        first_at = time.monotonic() - started
        await resp.read()
    assert headers_at < 0.25 <= first_at
    assert first.startswith(b"data: ")
