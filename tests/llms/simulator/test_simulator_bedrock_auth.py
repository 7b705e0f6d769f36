"""Bedrock auth: SigV4 shape (scope, date, signed headers, signature) or a bearer key, refused in
AWS's 403 shapes; a real botocore-signed client is accepted."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from test_simulator_bedrock_support import NOVA, Bedrock, converse_body, sigv4

from core.llms.simulator import Simulator

CORAL = "http://internal.amazon.com/coral/com.amazon.coral.service/"


@pytest.fixture
def bedrock(sim: Simulator, session: aiohttp.ClientSession) -> Bedrock:
    return Bedrock(sim, session)


async def _call(bedrock: Bedrock, headers: dict[str, str]) -> Any:
    return await bedrock.post(NOVA, "converse", converse_body(), headers=headers)


async def test_sigv4_shape_is_accepted(bedrock: Bedrock) -> None:
    assert (await _call(bedrock, sigv4())).status == 200
    assert (await _call(bedrock, sigv4(token="FwoGZXIvYXdzEXAMPLETOKEN"))).status == 200
    signed = "content-type;host;x-amz-date;x-amz-security-token"
    assert (await _call(bedrock, sigv4(token="t", signed=signed))).status == 200


async def test_bearer_key_is_accepted(bedrock: Bedrock) -> None:
    reply = await _call(bedrock, {"Authorization": "Bearer ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl"})
    assert reply.status == 200


async def test_missing_authorization_is_access_denied_as_bedrock_answers(bedrock: Bedrock) -> None:
    reply = await _call(bedrock, {})
    assert reply.status == 403
    assert reply.json() == {"Message": "Authorization header is missing"}
    assert reply.headers["x-amzn-ErrorType"] == f"AccessDeniedException:{CORAL}"
    assert reply.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("headers", "status", "error_type", "message"),
    [
        (
            sigv4(signature="abc123"),
            403,
            "InvalidSignatureException",
            "signature we calculated does not match",
        ),
        (
            sigv4(signature="A" * 64),
            403,
            "InvalidSignatureException",
            "signature we calculated does not match",
        ),
        (
            sigv4(region="eu-west-1"),
            403,
            "InvalidSignatureException",
            "scoped to a valid region, not 'eu-west-1'",
        ),
        (sigv4(service="s3"), 403, "InvalidSignatureException", "scoped to correct service: 'bedrock'"),
        (sigv4(signed="content-type;x-amz-date"), 403, "InvalidSignatureException", "'Host' or ':authority'"),
        (sigv4(signed="content-type;host"), 403, "InvalidSignatureException", "signature we calculated"),
        (
            sigv4(when=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)),
            403,
            "InvalidSignatureException",
            "Signature expired",
        ),
        (
            sigv4(when=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20)),
            403,
            "InvalidSignatureException",
            "Signature not yet current",
        ),
        (
            sigv4(token=" "),
            403,
            "UnrecognizedClientException",
            "security token included in the request is invalid",
        ),
        (
            {"Authorization": "Basic dXNlcjpwYXNz"},
            403,
            "IncompleteSignatureException",
            "requires 'Credential'",
        ),
        (
            {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/bedrock/aws4_request"},
            403,
            "IncompleteSignatureException",
            "requires 'Signature' parameter",
        ),
    ],
)
async def test_bad_signatures_are_refused(
    bedrock: Bedrock, headers: dict[str, str], status: int, error_type: str, message: str
) -> None:
    reply = await _call(bedrock, headers)
    assert reply.status == status
    assert reply.headers["x-amzn-ErrorType"] == f"{error_type}:{CORAL}"
    assert message in reply.json()["message"]


async def test_the_date_must_match_the_scope_and_be_iso(bedrock: Bedrock) -> None:
    headers = sigv4()
    headers["X-Amz-Date"] = "20200101T000000Z"
    reply = await _call(bedrock, headers)
    assert reply.status == 403 and "Date in Credential scope does not match" in reply.json()["message"]
    headers["X-Amz-Date"] = "yesterday"
    reply = await _call(bedrock, headers)
    assert reply.status == 403 and reply.error_type == "IncompleteSignatureException"
    headers.pop("X-Amz-Date")
    reply = await _call(bedrock, headers)
    assert "requires existence of either a 'X-Amz-Date' or a 'Date' header" in reply.json()["message"]


async def test_auth_errors_are_recorded_and_consume_no_answer(bedrock: Bedrock) -> None:
    await _call(bedrock, {})
    assert bedrock.sim.request_count == 1
    assert bedrock.sim.requests[0].path == "/model/us.amazon.nova-micro-v1:0/converse"


@pytest.fixture
async def keyed() -> AsyncIterator[Simulator]:
    async with Simulator(api_key="AKIDKNOWN", aws_region="eu-central-1") as simulator:
        yield simulator


async def test_api_key_and_region(keyed: Simulator, session: aiohttp.ClientSession) -> None:
    bedrock = Bedrock(keyed, session)
    assert keyed.aws_region == "eu-central-1"
    ok = await _call(bedrock, sigv4(key_id="AKIDKNOWN", region="eu-central-1"))
    assert ok.status == 200
    wrong_region = await _call(bedrock, sigv4(key_id="AKIDKNOWN"))
    assert wrong_region.status == 403 and "not 'us-east-1'" in wrong_region.json()["message"]
    unknown = await _call(bedrock, sigv4(key_id="AKIDOTHER", region="eu-central-1"))
    assert unknown.status == 403
    assert unknown.error_type == "UnrecognizedClientException"
    assert unknown.json() == {"message": "The security token included in the request is invalid."}
    assert (await _call(bedrock, {"Authorization": "Bearer AKIDKNOWN"})).status == 200
    assert (
        await _call(bedrock, {"Authorization": "Bearer other"})
    ).error_type == "UnrecognizedClientException"


def test_region_must_be_given() -> None:
    with pytest.raises(ValueError):
        Simulator(aws_region="")


async def test_a_real_botocore_client_signs_and_is_accepted(sim: Simulator) -> None:
    def run() -> tuple[dict[str, Any], str]:
        good = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=sim.url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            aws_session_token="session-token",
            config=Config(retries={"max_attempts": 1}),
        )
        try:
            answer = good.converse(modelId=NOVA, messages=[{"role": "user", "content": [{"text": "hi"}]}])
        finally:
            good.close()
        wrong = boto3.client(
            "bedrock-runtime",
            region_name="us-west-2",
            endpoint_url=sim.url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}),
        )
        try:
            wrong.converse(modelId=NOVA, messages=[{"role": "user", "content": [{"text": "hi"}]}])
        except ClientError as exc:
            return answer, exc.response["Error"]["Code"]
        finally:
            wrong.close()
        raise AssertionError("a request signed for us-west-2 was accepted")

    answer, code = await asyncio.to_thread(run)
    assert answer["output"]["message"]["content"] == [{"text": "Simulated answer to: hi"}]
    assert code == "InvalidSignatureException"
    headers = sim.requests[0].headers
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert headers["x-amz-security-token"] == "session-token"
