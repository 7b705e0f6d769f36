"""Vertex AI models end to end against the simulator: project / location URLs, Google credentials
(a credentials object refreshed off the event loop, single-flight, never an expired token), API
keys and token providers, failover from one location to another (calls and streams), streams cut
after the first chunk, and tokens that never show in errors."""

from __future__ import annotations

import asyncio
import datetime
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai_testkit import accumulate

from core.llms import create_llm
from core.llms.interfaces import AllEndpointsFailedError, AuthenticationError, StreamInterruptedError
from core.llms.simulator import Fault, Simulator

TOKEN_PREFIX = "ya29.Kq7mW3xPz9LdR5tN"
FAST = {"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002}


class Credentials:
    """A google-auth credentials object: each refresh makes a new token valid ``lifetime`` seconds."""

    def __init__(self, lifetime: float = 3600, delay: float = 0.0, quota: str | None = None) -> None:
        self.lifetime = lifetime
        self.delay = delay
        self.quota_project_id = quota
        self.token: str | None = None
        self.expiry: datetime.datetime | None = None
        self.issued: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.threads: list[int] = []

    def refresh(self, request: Any) -> None:
        self.threads.append(threading.get_ident())
        if self.delay:
            time.sleep(self.delay)
        expires = time.time() + self.lifetime
        self.token = f"{TOKEN_PREFIX}-{len(self.issued) + 1}"
        self.expiry = datetime.datetime.fromtimestamp(expires, datetime.UTC).replace(tzinfo=None)
        self.issued[self.token] = expires


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        yield simulator


def vertex(sim: Simulator, **kw: Any) -> Any:
    kw.setdefault("project", "sim-project")
    return create_llm("vertex/gemini-2.5-flash", endpoint=sim.url, retry=FAST, **kw)


def bearer(request: Any) -> str:
    scheme, _, token = request.headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    return token


async def test_credentials_object(sim: Simulator) -> None:
    creds = Credentials(delay=0.05, quota="billing-project")
    async with vertex(sim, credentials=creds, location="europe-west4") as llm:
        answers = await asyncio.gather(*(llm.get_answer(f"question {i}") for i in range(10)))
        assert all(a.text.startswith("Simulated answer to: question") for a in answers)
        chunks = [c async for c in llm.stream_answer("and a stream")]
    assert accumulate(chunks).text == "Simulated answer to: and a stream"
    assert len(creds.issued) == 1  # single-flight, then kept
    assert creds.threads[0] != threading.get_ident()  # refreshed off the event loop
    assert {bearer(r) for r in sim.requests} == set(creds.issued)
    first = sim.requests[0]
    model = "/v1/projects/sim-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash"
    assert first.path == model + ":generateContent"
    assert first.headers["x-goog-user-project"] == "billing-project"
    assert answers[0].endpoint == sim.url and answers[0].cost is not None


async def test_never_an_expired_token(sim: Simulator) -> None:
    creds = Credentials(lifetime=0.4)  # refreshed after half its life
    sent_at: list[float] = []
    async with vertex(sim, credentials=creds) as llm:
        for i in range(8):
            sent_at.append(time.time())
            await llm.get_answer(f"call {i}")
            await asyncio.sleep(0.07)
    assert len(creds.issued) >= 2  # the token rotated
    for request, when in zip(sim.requests, sent_at, strict=True):
        assert creds.issued[bearer(request)] > when  # valid when the call was made


async def test_api_key_and_token_provider(sim: Simulator) -> None:
    async with vertex(sim, api_key="AIzaSyVertexExpress0000000000000000000") as llm:
        await llm.get_answer("hi")
    assert sim.requests[-1].headers["x-goog-api-key"] == "AIzaSyVertexExpress0000000000000000000"
    assert "authorization" not in sim.requests[-1].headers
    async with vertex(sim, token_provider=lambda: "ya29.from-a-provider") as llm:
        await llm.get_answer("hi")
    assert bearer(sim.requests[-1]) == "ya29.from-a-provider"


async def test_failover_to_another_location(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    creds = Credentials()
    backups = [{"location": "europe-west4", "name": "vertex-eu"}]
    async with vertex(sim, credentials=creds, backups=backups, name="vertex-us") as llm:
        response = await llm.get_answer("hello")
    assert response.endpoint == "vertex-eu" and response.text == "Simulated answer to: hello"
    assert [r.path.split("/")[5] for r in sim.requests] == ["us-central1", "europe-west4"]
    assert len(creds.issued) == 1  # one token for both locations


async def test_a_stream_fails_over_before_its_first_chunk(sim: Simulator) -> None:
    sim.enqueue(Fault(drop="before_first_chunk"))
    async with vertex(sim, credentials=Credentials(), backups=[{"location": "asia-southeast1"}]) as llm:
        acc = accumulate([c async for c in llm.stream_answer("hello stream")])
    assert acc.text == "Simulated answer to: hello stream" and acc.finish_reason == "stop"
    assert acc.endpoint == f"{sim.url} #2"  # an inherited URL is numbered
    assert [r.path.split("/")[5] for r in sim.requests] == ["us-central1", "asia-southeast1"]


async def test_a_stream_cut_after_its_first_chunk_is_not_failed_over(sim: Simulator) -> None:
    sim.enqueue(Fault(truncate_stream=True, after_chunks=1))
    async with vertex(sim, credentials=Credentials(), backups=[{"location": "europe-west4"}]) as llm:
        with pytest.raises(StreamInterruptedError) as info:
            async for _ in llm.stream_answer("one two three"):
                pass
    assert info.value.partial_text == "Simulated"
    assert len(sim.requests) == 1


async def test_every_location_down(sim: Simulator) -> None:
    sim.set_default_fault(Fault(status=503))
    async with vertex(sim, credentials=Credentials(), backups=[{"location": "europe-west4"}]) as llm:
        with pytest.raises(AllEndpointsFailedError) as info:
            await llm.get_answer("hi")
    assert len(info.value.attempts) >= 2 and info.value.last_error is not None
    assert info.value.last_error.code == "UNAVAILABLE"


async def test_a_rejected_token_never_shows_in_the_error() -> None:
    async with Simulator(api_key="the-only-good-token-000000") as sim:
        creds = Credentials()
        async with vertex(sim, credentials=creds) as llm:
            with pytest.raises(AuthenticationError) as info:
                await llm.get_answer("hi")
    (token,) = creds.issued
    error = info.value
    assert error.status == 401 and error.code == "UNAUTHENTICATED"
    for text in (str(error), repr(error), str(error.body)):
        assert token not in text and token[5:17] not in text
