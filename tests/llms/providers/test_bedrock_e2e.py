"""Bedrock models end to end against the simulator's Bedrock routes: SigV4 and Bedrock API keys,
answers and streams, cross-region inference profiles in the URL, failover to a backup region
signed for its own region, credentials resolved once for concurrent calls, and errors that name
no secret."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from security.support import PLAIN_KEY, assert_no_key_fragment, everything_shown

from core.llms import create_llm
from core.llms.interfaces.errors import AuthenticationError, LLMError
from core.llms.simulator import Fault, Simulator

pytest.importorskip("botocore")

AKID = "AKIASIMULATOR0000001"
SECRET = PLAIN_KEY
SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"
NO_RETRY = {"max_retries": 0}


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


@pytest.fixture
async def east() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=AKID) as sim:
        yield sim


@pytest.fixture
async def west() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=AKID, aws_region="us-west-2") as sim:
        yield sim


def keys() -> dict[str, str]:
    return {"aws_access_key_id": AKID, "aws_secret_access_key": SECRET}


def scope_of(headers: dict[str, str]) -> str:
    """``<region>/<service>`` of a request's SigV4 credential scope."""
    credential = headers["authorization"].split("Credential=")[1].split(",")[0]
    return "/".join(credential.split("/")[2:4])


async def test_sigv4_answer_and_stream(east: Simulator) -> None:
    async with create_llm("bedrock/claude-sonnet-4", region="us-east-1", endpoint=east.url, **keys()) as llm:
        response = await llm.get_answer("hello bedrock")
        chunks = [chunk async for chunk in llm.stream_answer("stream please")]
    assert response.text == "Simulated answer to: hello bedrock"
    assert response.request_id and response.endpoint == east.url and response.cost
    assert "".join(c.text or "" for c in chunks) == "Simulated answer to: stream please"
    answer, stream = east.requests
    # served only through inference profiles: the endpoint's geography's profile id
    assert answer.path == f"/model/us.{SONNET}/converse"
    assert stream.path == f"/model/us.{SONNET}/converse-stream"
    assert stream.headers["accept"] == "application/vnd.amazon.eventstream"
    for request in (answer, stream):
        assert scope_of(request.headers) == "us-east-1/bedrock" and "x-amz-date" in request.headers
        assert "x-amz-security-token" not in request.headers


async def test_an_in_region_model_and_a_profile_id_are_sent_as_they_are(east: Simulator) -> None:
    async with create_llm("bedrock/nova-lite", region="us-east-1", endpoint=east.url, **keys()) as llm:
        await llm.get_answer("hi")
    name = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    async with create_llm(f"bedrock/{name}", region="us-east-1", endpoint=east.url, **keys()) as llm:
        response = await llm.get_answer("hi")
    assert [r.path for r in east.requests] == [
        "/model/amazon.nova-lite-v1:0/converse",
        f"/model/{name}/converse",
    ]
    assert response.cost is None  # an open name: no price


async def test_a_bedrock_api_key_is_a_bearer_token_and_nothing_is_signed() -> None:
    key = "ABSKQmVkcm9ja0FQSUtleS1" + "x" * 20
    async with Simulator(api_key=key) as sim:
        async with create_llm(
            "bedrock/nova-pro", region="us-east-1", endpoint=sim.url, bedrock_api_key=key
        ) as llm:
            response = await llm.get_answer("hi")
            chunks = [c async for c in llm.stream_answer("hi")]
        assert response.text and chunks
        for request in sim.requests:
            assert request.headers["authorization"] == f"Bearer {key}"
            assert "x-amz-date" not in request.headers


async def test_the_api_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "ABSKZW52aXJvbm1lbnQta2V5" + "y" * 16
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", key)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    async with Simulator(api_key=key) as sim:
        async with create_llm("bedrock/nova-micro", endpoint=sim.url) as llm:
            await llm.get_answer("hi")
        assert sim.requests[0].headers["authorization"] == f"Bearer {key}"


async def test_failover_to_a_backup_region_signed_for_its_own_region(
    east: Simulator, west: Simulator
) -> None:
    east.enqueue(Fault(status=503))
    async with create_llm(
        "bedrock/claude-sonnet-4",
        region="us-east-1",
        endpoint=east.url,
        backups=[{"endpoint": west.url, "region": "us-west-2"}],
        retry=NO_RETRY,
        **keys(),
    ) as llm:
        response = await llm.get_answer("fail over")
    assert response.endpoint == west.url and response.text == "Simulated answer to: fail over"
    [failed] = east.requests
    [served] = west.requests
    assert scope_of(failed.headers) == "us-east-1/bedrock" and scope_of(served.headers) == "us-west-2/bedrock"
    assert served.path == f"/model/us.{SONNET}/converse"


async def test_a_backup_in_another_geography_gets_its_profile_prefix(east: Simulator) -> None:
    async with Simulator(api_key=AKID, aws_region="eu-west-1") as europe:
        east.enqueue(Fault(status=503))
        async with create_llm(
            "bedrock/claude-sonnet-4",
            region="us-east-1",
            endpoint=east.url,
            backups=[{"endpoint": europe.url, "region": "eu-west-1"}],
            retry=NO_RETRY,
            **keys(),
        ) as llm:
            await llm.get_answer("hi")
        assert europe.requests[0].path == f"/model/eu.{SONNET}/converse"
        assert scope_of(europe.requests[0].headers) == "eu-west-1/bedrock"


async def test_signing_for_the_wrong_region_is_refused_as_a_typed_error(east: Simulator) -> None:
    async with create_llm(
        "bedrock/nova-pro", region="us-west-2", endpoint=east.url, retry=NO_RETRY, **keys()
    ) as llm:
        with pytest.raises(LLMError) as info:
            await llm.get_answer("hi")
    assert isinstance(info.value, AuthenticationError) and info.value.status == 403
    # the redactor masks the signature and the key id it sent, not the scope's public words
    assert "not 'us-west-2'" in info.value.message and "credentials" in (info.value.hint or "")
    assert AKID not in " ".join(everything_shown(info.value))
    assert_no_key_fragment(*everything_shown(info.value))


async def test_temporary_credentials_are_resolved_once_for_fifty_concurrent_calls(
    east: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN" + "z" * 30)
    import botocore.session

    threads: list[int] = []
    real = botocore.session.Session.get_credentials

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "get_credentials", spy)
    async with create_llm("bedrock/nova-lite", region="us-east-1", endpoint=east.url) as llm:
        answers = await asyncio.gather(*(llm.get_answer(f"call {i}") for i in range(50)))
    assert len(answers) == 50 and len(east.requests) == 50
    assert len(threads) == 1 and threads[0] != threading.get_ident()
    assert {r.headers["x-amz-security-token"] for r in east.requests} == {
        "FwoGZXIvYXdzEXAMPLETOKEN" + "z" * 30
    }


async def test_no_credentials_fails_before_sending_and_names_no_secret(east: Simulator) -> None:
    async with create_llm("bedrock/nova-lite", region="us-east-1", endpoint=east.url, retry=NO_RETRY) as llm:
        with pytest.raises(LLMError) as info:
            await llm.get_answer("hi")
    assert isinstance(info.value, AuthenticationError) and info.value.provider == "bedrock"
    assert "no AWS credentials found" in info.value.message and info.value.endpoint == east.url
    assert east.requests == []


async def test_an_echoed_api_key_is_masked_in_the_error() -> None:
    key = "ABSK" + PLAIN_KEY
    async with Simulator() as sim:
        sim.enqueue(Fault(status=400, message=f"The key Bearer {key} is not valid for {key[8:30]}"))
        async with create_llm(
            "bedrock/nova-lite", region="us-east-1", endpoint=sim.url, bedrock_api_key=key, retry=NO_RETRY
        ) as llm:
            with pytest.raises(LLMError) as info:
                await llm.get_answer("hi")
    assert_no_key_fragment(*everything_shown(info.value))


async def test_claude_through_invoke_model_with_api_invoke(east: Simulator) -> None:
    """``api="invoke"``: the same answers and chunks through InvokeModel and
    InvokeModelWithResponseStream with Anthropic's native body, on the same model object."""
    async with create_llm("bedrock/claude-sonnet-4", region="us-east-1", endpoint=east.url, **keys()) as llm:
        answer = await llm.get_answer("hello there", api="invoke", max_tokens=64)
        chunks = [c async for c in llm.stream_answer("hello there", api="invoke", max_tokens=64)]
        converse = await llm.get_answer("hello there", max_tokens=64)
    assert answer.text and answer.text == "".join(c.text for c in chunks) == converse.text
    assert answer.usage is not None and answer.cost is not None and chunks[-1].finish_reason == "stop"
    paths = [r.path for r in east.requests]
    assert paths == [  # the geography's inference profile, as for Converse
        f"/model/us.{SONNET}/invoke",
        f"/model/us.{SONNET}/invoke-with-response-stream",
        f"/model/us.{SONNET}/converse",
    ]
    body = east.requests[0].json
    assert body["anthropic_version"] == "bedrock-2023-05-31" and "model" not in body


async def test_api_invoke_is_refused_for_models_without_a_native_claude_body(east: Simulator) -> None:
    from core.llms.interfaces import InvalidInputError, UnsupportedOperationError

    async with create_llm("bedrock/nova-pro", region="us-east-1", endpoint=east.url, **keys()) as llm:
        with pytest.raises(UnsupportedOperationError, match="Claude models only"):
            await llm.get_answer("hi", api="invoke")
        with pytest.raises(InvalidInputError, match="api="):
            async for _ in llm.stream_answer("hi", api="native"):
                pass
    assert east.requests == []


async def test_a_stream_cut_before_its_first_chunk_goes_to_the_backup_region(
    east: Simulator, west: Simulator
) -> None:
    east.enqueue(Fault(drop="before_first_chunk"))
    async with create_llm(
        "bedrock/nova-lite",
        region="us-east-1",
        endpoint=east.url,
        retry=NO_RETRY,
        backups=[{"region": "us-west-2", "endpoint": west.url}],
        **keys(),
    ) as llm:
        chunks = [c async for c in llm.stream_answer("stream please")]
    assert "".join(c.text for c in chunks) == "Simulated answer to: stream please"
    assert chunks[0].endpoint == west.url and chunks[-1].finish_reason == "stop"
    assert len(east.requests) == 1 and len(west.requests) == 1


@pytest.mark.parametrize(
    "fault",
    [
        Fault(truncate_stream=True, after_chunks=3),
        Fault(error_event=True, after_chunks=3, error_code="throttlingException"),
        Fault(error_event=True, after_chunks=3, error_code="modelStreamErrorException"),
    ],
    ids=["cut mid-frame", "throttling frame", "model stream error frame"],
)
async def test_a_stream_broken_after_its_first_chunk_is_interrupted_with_what_arrived(
    east: Simulator, west: Simulator, fault: Fault
) -> None:
    from core.llms.interfaces import StreamInterruptedError

    east.enqueue(fault)
    received: list[str] = []
    async with create_llm(
        "bedrock/nova-lite",
        region="us-east-1",
        endpoint=east.url,
        retry=NO_RETRY,
        backups=[{"region": "us-west-2", "endpoint": west.url}],
        **keys(),
    ) as llm:
        with pytest.raises(StreamInterruptedError) as caught:
            async for chunk in llm.stream_answer("a longer answer to stream please"):
                received.append(chunk.text)
    assert received and caught.value.partial_text == "".join(received)
    assert west.requests == []  # after the first chunk: never failed over (it would repeat text)


async def test_an_exception_frame_before_any_chunk_is_typed_and_retried(east: Simulator) -> None:
    east.enqueue(Fault(error_event=True, after_chunks=0, error_code="throttlingException"))
    async with create_llm(
        "bedrock/nova-lite",
        region="us-east-1",
        endpoint=east.url,
        retry={"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002},
        **keys(),
    ) as llm:
        chunks = [c async for c in llm.stream_answer("stream please")]
    assert "".join(c.text for c in chunks) == "Simulated answer to: stream please"
    assert len(east.requests) == 2
