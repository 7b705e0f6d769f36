"""Scripted faults on the Bedrock routes: error statuses in Bedrock's shape, exception frames
inside event streams, truncated and malformed streams, drops, stalls and body faults."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from test_simulator_bedrock_support import (
    HAIKU,
    NOVA,
    Bedrock,
    anthropic_body,
    converse_body,
    decode_frames,
    model_path,
    sigv4,
)

from core.llms.simulator import Fault, Simulator

BEDROCK_NS = "http://internal.amazon.com/coral/com.amazon.bedrock/"
LONG = "one two three four five six seven eight"


@pytest.fixture
def bedrock(sim: Simulator, session: aiohttp.ClientSession) -> Bedrock:
    return Bedrock(sim, session)


@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [
        (429, "ThrottlingException", "Too many requests, please wait before trying again."),
        (503, "ServiceUnavailableException", "Bedrock is unable to process your request."),
        (500, "InternalServerException", "The system encountered an unexpected error"),
        (408, "ModelTimeoutException", "Model has timed out"),
        (424, "ModelErrorException", "The model returned an error"),
        (400, "ValidationException", "Malformed input request"),
        (403, "AccessDeniedException", "You don't have access to the model"),
        (404, "ResourceNotFoundException", "could not be found"),
        (502, "InternalServerException", "HTTP 502"),
    ],
)
async def test_status_faults_answer_bedrock_errors(
    bedrock: Bedrock, status: int, error_type: str, message: str
) -> None:
    bedrock.sim.enqueue(Fault(status=status, retry_after=1))
    reply = await bedrock.post(NOVA, "converse", converse_body())
    assert reply.status == status
    assert reply.headers["x-amzn-ErrorType"] == f"{error_type}:{BEDROCK_NS}"
    assert reply.headers["Retry-After"] == "1"
    assert reply.headers["x-amzn-RequestId"]
    assert set(reply.json()) == {"message"}
    assert message in reply.json()["message"]


async def test_status_fault_with_code_and_message(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(status=429, error_code="ModelNotReadyException", message="warming up"))
    reply = await bedrock.post(NOVA, "converse-stream", converse_body())
    assert reply.status == 429
    assert reply.error_type == "ModelNotReadyException"
    assert reply.json() == {"message": "warming up"}


async def test_a_fault_body_is_sent_verbatim(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(status=400, body={"message": "custom"}))
    reply = await bedrock.post(NOVA, "converse", converse_body())
    assert (reply.status, reply.json()) == (400, {"message": "custom"})


async def test_the_queue_is_shared_with_the_other_routes(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(status=503), Fault(status=429))
    first = await bedrock.post(NOVA, "converse", converse_body())
    second = await bedrock.post(NOVA, "converse", converse_body())
    third = await bedrock.post(NOVA, "converse", converse_body())
    assert [first.status, second.status, third.status] == [503, 429, 200]


# ---------------------------------------------------------------------------- exception frames


def _kinds(raw: bytes) -> list[str]:
    frames, left = decode_frames(raw)
    assert left == 0
    return [f.headers.get(":event-type") or f"!{f.headers[':exception-type']}" for f in frames]


@pytest.mark.parametrize(
    ("fault", "exception"),
    [
        (Fault(error_event=True, after_chunks=2, error_code="throttlingException"), "throttlingException"),
        (Fault(error_event=True, after_chunks=2, error_code="ValidationException"), "validationException"),
        (Fault(error_event=True, after_chunks=2, error_code=503), "serviceUnavailableException"),
        (Fault(error_event=True, after_chunks=2, status=429), "throttlingException"),
        (Fault(error_event=True, after_chunks=2, error_code=408), "modelTimeoutException"),
        (Fault(error_event=True, after_chunks=2), "modelStreamErrorException"),
    ],
)
async def test_error_event_is_an_exception_frame_after_n_deltas(
    bedrock: Bedrock, fault: Fault, exception: str
) -> None:
    bedrock.sim.enqueue(fault)
    reply = await bedrock.stream(converse_body(LONG))
    frames, left = decode_frames(reply.raw)
    assert left == 0
    assert _kinds(reply.raw) == ["messageStart", "contentBlockDelta", "contentBlockDelta", f"!{exception}"]
    last = frames[-1]
    assert last.headers[":message-type"] == "exception"
    assert last.headers[":content-type"] == "application/json"
    payload = json.loads(last.payload)
    assert isinstance(payload["message"], str) and payload["message"]
    if exception == "modelStreamErrorException":
        assert payload["originalStatusCode"] == 500


async def test_error_event_message_and_body(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(
        Fault(error_event=True, after_chunks=0, error_code="throttlingException", message="later")
    )
    reply = await bedrock.stream(converse_body())
    frames, _ = decode_frames(reply.raw)
    assert json.loads(frames[-1].payload) == {"message": "later"}
    assert len(frames) == 2
    bedrock.sim.enqueue(Fault(error_event=True, body={"message": "raw", "extra": 1}))
    reply = await bedrock.stream(converse_body())
    frames, _ = decode_frames(reply.raw)
    assert json.loads(frames[-1].payload) == {"message": "raw", "extra": 1}


async def test_error_event_on_invoke_stream(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(error_event=True, after_chunks=1, error_code="serviceUnavailableException"))
    reply = await bedrock.stream(
        anthropic_body(LONG), model_id=HAIKU, operation="invoke-with-response-stream"
    )
    # message_start, then content_block_start riding with the first delta
    assert _kinds(reply.raw) == ["chunk", "chunk", "chunk", "!serviceUnavailableException"]


async def test_botocore_raises_the_exception_frame(sim: Simulator) -> None:
    import boto3
    from botocore.config import Config

    sim.enqueue(Fault(error_event=True, after_chunks=1, error_code="throttlingException", message="slow"))

    def run() -> tuple[list[str], str]:
        client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=sim.url,
            aws_access_key_id="AKID",
            aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}),
        )
        try:
            stream = client.converse_stream(
                modelId=NOVA, messages=[{"role": "user", "content": [{"text": LONG}]}]
            )
            seen: list[str] = []
            try:
                for event in stream["stream"]:
                    seen.extend(event)
            except Exception as exc:
                return seen, type(exc).__name__ + ": " + str(exc)
            finally:
                stream["stream"].close()
            raise AssertionError("no exception")
        finally:
            client.close()

    seen, error = await asyncio.to_thread(run)
    assert seen == ["messageStart", "contentBlockDelta"]
    assert error.startswith("EventStreamError") and "throttlingException" in error and "slow" in error


# ---------------------------------------------------------------------------- truncation, drops, stalls


async def test_truncate_after_n_cuts_inside_a_frame(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(truncate_stream=True, after_chunks=3))
    reply = await bedrock.stream(converse_body(LONG))
    frames, left = decode_frames(reply.raw)
    assert left > 0  # the body ends inside a frame
    assert [f.headers[":event-type"] for f in frames] == ["messageStart", *["contentBlockDelta"] * 3]


async def test_truncate_halfway_has_no_message_stop(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(truncate_stream=True))
    reply = await bedrock.stream(converse_body(LONG))
    frames, left = decode_frames(reply.raw)
    kinds = [f.headers[":event-type"] for f in frames]
    assert left > 0
    assert "messageStop" not in kinds and "metadata" not in kinds
    assert 1 < kinds.count("contentBlockDelta") < 11


async def test_truncate_before_the_first_chunk(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(truncate_stream=True, at="before_first_chunk"))
    reply = await bedrock.stream(converse_body())
    frames, left = decode_frames(reply.raw)
    assert frames == [] and left > 0


async def test_malformed_frame_then_the_stream_goes_on(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(malformed_json=True, after_chunks=1))
    reply = await bedrock.stream(converse_body())
    frames, left = decode_frames(reply.raw)  # CRCs are fine
    assert left == 0
    bad = [f for f in frames if not f.payload.endswith(b"}")]
    assert len(bad) == 1
    with pytest.raises(ValueError):
        json.loads(bad[0].payload)
    assert frames[-1].headers[":event-type"] == "metadata"


async def _stream_until_error(bedrock: Bedrock, body: dict[str, Any]) -> tuple[bytes, BaseException | None]:
    got = b""
    url = f"{bedrock.sim.url}{model_path(NOVA, 'converse-stream')}"
    try:
        async with bedrock.session.post(url, json=body, headers=sigv4()) as resp:
            assert resp.status == 200
            async for chunk in resp.content.iter_any():
                got += chunk
    except aiohttp.ClientError as exc:
        return got, exc
    return got, None


async def test_drop_after_the_first_chunk(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(drop="after_first_chunk"))
    got, error = await _stream_until_error(bedrock, converse_body(LONG))
    assert error is not None
    frames, _ = decode_frames(got)
    assert [f.headers[":event-type"] for f in frames] == ["messageStart", "contentBlockDelta"]


async def test_drop_before_headers(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(drop="before_headers"))
    with pytest.raises(aiohttp.ClientError):
        await bedrock.post(NOVA, "converse-stream", converse_body())
    bedrock.sim.enqueue(Fault(drop="before_headers", reset=True))
    with pytest.raises(aiohttp.ClientError):
        await bedrock.post(NOVA, "converse", converse_body())


async def test_drop_before_the_first_chunk(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(drop="before_first_chunk"))
    got, error = await _stream_until_error(bedrock, converse_body())
    assert error is not None and got == b""


async def test_stall_delays_the_rest(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(stall=0.2, after_chunks=1))
    started = time.monotonic()
    reply = await bedrock.stream(converse_body())
    assert time.monotonic() - started >= 0.2
    assert decode_frames(reply.raw)[1] == 0


# ---------------------------------------------------------------------------- non-streamed bodies


async def test_body_faults(bedrock: Bedrock) -> None:
    bedrock.sim.enqueue(Fault(malformed_json=True))
    reply = await bedrock.post(NOVA, "converse", converse_body())
    assert reply.status == 200
    with pytest.raises(ValueError):
        reply.json()
    bedrock.sim.enqueue(Fault(error_event=True, error_code="throttlingException", message="busy"))
    reply = await bedrock.post(NOVA, "converse", converse_body())
    assert (reply.status, reply.json()) == (200, {"message": "busy"})
    bedrock.sim.enqueue(Fault(truncate_stream=True))
    with pytest.raises(aiohttp.ClientError):
        await bedrock.post(NOVA, "converse", converse_body())
    bedrock.sim.enqueue(Fault(delay=0.1))
    started = time.monotonic()
    assert (await bedrock.post(NOVA, "converse", converse_body())).status == 200
    assert time.monotonic() - started >= 0.1
