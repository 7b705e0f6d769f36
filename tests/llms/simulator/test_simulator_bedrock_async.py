"""Nova Reel jobs (StartAsyncInvoke / GetAsyncInvoke / ListAsyncInvokes) and the S3 route that
serves their videos (path-style, SigV4 for s3 or bearer, XML errors, ranges, listing)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from urllib.parse import quote

import aiohttp
import boto3
import pytest
from botocore.config import Config
from test_simulator_bedrock_support import Bedrock, sigv4

from core.llms.simulator import Fault, Simulator
from core.llms.simulator.mp4 import walk_boxes

REEL = "amazon.nova-reel-v1:0"


@pytest.fixture
def bedrock(sim: Simulator, session: aiohttp.ClientSession) -> Bedrock:
    return Bedrock(sim, session)


def reel_body(
    prompt: str = "a cat on a beach", uri: str = "s3://my-bucket/videos/", **extra: Any
) -> dict[str, Any]:
    return {
        "modelId": REEL,
        "modelInput": {
            "taskType": "TEXT_VIDEO",
            "textToVideoParams": {"text": prompt},
            "videoGenerationConfig": {"durationSeconds": 6, "fps": 24, "dimension": "1280x720", "seed": 1},
        },
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": uri}},
        **extra,
    }


async def _start(bedrock: Bedrock, body: dict[str, Any]) -> str:
    reply = await bedrock.request("POST", "/async-invoke", body)
    assert reply.status == 200, reply.raw
    arn: str = reply.json()["invocationArn"]
    return arn


async def _poll(bedrock: Bedrock, arn: str) -> dict[str, Any]:
    reply = await bedrock.request("GET", f"/async-invoke/{quote(arn, safe='')}")
    assert reply.status == 200, reply.raw
    result: dict[str, Any] = reply.json()
    return result


async def test_job_lifecycle_and_video(bedrock: Bedrock) -> None:
    arn = await _start(bedrock, reel_body())
    prefix, _, job_id = arn.rpartition("/")
    assert prefix == "arn:aws:bedrock:us-east-1:123456789012:async-invoke"
    assert len(job_id) == 12 and job_id.isalnum() and job_id.islower()
    statuses = [await _poll(bedrock, arn) for _ in range(3)]
    assert [s["status"] for s in statuses] == ["InProgress", "InProgress", "Completed"]
    done = statuses[-1]
    assert done["invocationArn"] == arn
    assert done["modelArn"] == "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-reel-v1:0"
    assert done["outputDataConfig"] == {"s3OutputDataConfig": {"s3Uri": f"s3://my-bucket/videos/{job_id}"}}
    assert "endTime" in done and "endTime" not in statuses[0]
    for stamp in (done["submitTime"], done["lastModifiedTime"], done["endTime"]):
        dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    reply = await bedrock.request(
        "GET", f"/s3/my-bucket/videos/{job_id}/output.mp4", headers=sigv4(service="s3")
    )
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "video/mp4"
    assert reply.headers["ETag"].startswith('"') and reply.headers["x-amz-request-id"]
    boxes = [kind for kind, _ in walk_boxes(reply.raw)]
    assert boxes[:2] == [b"ftyp", b"moov"] and b"mdat" in boxes


async def test_the_video_is_not_there_before_completion(bedrock: Bedrock) -> None:
    arn = await _start(bedrock, reel_body(uri="s3://other-bucket"))
    job_id = arn.rsplit("/", 1)[1]
    await _poll(bedrock, arn)
    reply = await bedrock.request("GET", f"/s3/other-bucket/{job_id}/output.mp4", headers=sigv4(service="s3"))
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "application/xml"
    assert b"<Code>NoSuchBucket</Code>" in reply.raw
    await _poll(bedrock, arn)
    await _poll(bedrock, arn)
    reply = await bedrock.request("GET", f"/s3/other-bucket/{job_id}/output.mp4", headers=sigv4(service="s3"))
    assert reply.status == 200
    reply = await bedrock.request("GET", "/s3/other-bucket/missing.mp4", headers=sigv4(service="s3"))
    assert (
        reply.status == 404
        and b"<Code>NoSuchKey</Code>" in reply.raw
        and b"<Key>missing.mp4</Key>" in reply.raw
    )


@pytest.mark.parametrize(
    ("prompt", "polls", "status"),
    [
        ("x [sim:steps=0]", 1, "Completed"),
        ("x [sim:steps=1]", 1, "Completed"),
        ("x [sim:steps=5]", 4, "InProgress"),
        ("x [sim:slow]", 10, "InProgress"),
        ("x [sim:fail]", 2, "Failed"),
    ],
)
async def test_prompt_markers(bedrock: Bedrock, prompt: str, polls: int, status: str) -> None:
    arn = await _start(bedrock, reel_body(prompt))
    for _ in range(polls):
        last = await _poll(bedrock, arn)
    assert last["status"] == status
    if status == "Failed":
        assert "content filters" in last["failureMessage"]
    else:
        assert "failureMessage" not in last


async def test_fail_marker_with_text(bedrock: Bedrock) -> None:
    arn = await _start(bedrock, reel_body("x [sim:fail=internal error]"))
    assert (await _poll(bedrock, arn))["status"] == "InProgress"
    failed = await _poll(bedrock, arn)
    assert failed["status"] == "Failed" and failed["failureMessage"].endswith("internal error")


async def test_client_request_token_is_idempotent(bedrock: Bedrock) -> None:
    first = await _start(bedrock, reel_body(clientRequestToken="tok-1"))
    again = await _start(bedrock, reel_body(clientRequestToken="tok-1"))
    other = await _start(bedrock, reel_body(clientRequestToken="tok-2"))
    assert first == again != other
    assert (await _poll(bedrock, first))["clientRequestToken"] == "tok-1"


async def test_multi_shot(bedrock: Bedrock) -> None:
    body = reel_body()
    body["modelId"] = "amazon.nova-reel-v1:1"
    body["modelInput"] = {
        "taskType": "MULTI_SHOT_AUTOMATED",
        "multiShotAutomatedParams": {"text": "a story [sim:steps=0]"},
        "videoGenerationConfig": {"durationSeconds": 18, "fps": 24, "dimension": "1280x720"},
    }
    arn = await _start(bedrock, body)
    job = await _poll(bedrock, arn)
    assert job["status"] == "Completed"
    body["modelId"] = REEL
    reply = await bedrock.request("POST", "/async-invoke", body)
    assert reply.status == 400 and "amazon.nova-reel-v1:1" in reply.json()["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"modelId": "amazon.nova-micro-v1:0"}, "does not support asynchronous invocation"),
        ({"modelId": "nope"}, "The provided model identifier is invalid."),
        (
            {"outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "https://bucket"}}},
            "regular expression pattern",
        ),
        ({"outputDataConfig": {}}, "outputDataConfig.s3OutputDataConfig.s3Uri"),
    ],
)
async def test_start_validation(bedrock: Bedrock, change: dict[str, Any], message: str) -> None:
    reply = await bedrock.request("POST", "/async-invoke", {**reel_body(), **change})
    assert reply.status == 400 and reply.error_type == "ValidationException"
    assert message in reply.json()["message"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"durationSeconds": 7}, "7 is not a valid enum value"),
        ({"fps": 30}, "30 is not a valid enum value"),
        ({"dimension": "720x1280"}, "720x1280 is not a valid enum value"),
    ],
)
async def test_video_config_validation(bedrock: Bedrock, config: dict[str, Any], message: str) -> None:
    body = reel_body()
    body["modelInput"]["videoGenerationConfig"].update(config)
    reply = await bedrock.request("POST", "/async-invoke", body)
    assert reply.status == 400 and message in reply.json()["message"]


async def test_get_unknown_or_malformed_arn(bedrock: Bedrock) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:async-invoke/abcdefabcdef"
    reply = await bedrock.request("GET", f"/async-invoke/{quote(arn, safe='')}")
    assert reply.status == 400 and "was not found" in reply.json()["message"]
    reply = await bedrock.request("GET", "/async-invoke/not-an-arn")
    assert reply.status == 400 and "regular expression pattern" in reply.json()["message"]


async def test_list_jobs(bedrock: Bedrock) -> None:
    done = await _start(bedrock, reel_body("a [sim:steps=0]"))
    running = await _start(bedrock, reel_body("b"))
    listing = (await bedrock.request("GET", "/async-invoke")).json()["asyncInvokeSummaries"]
    assert [j["invocationArn"] for j in listing] == [running, done]
    completed = (await bedrock.request("GET", "/async-invoke?statusEquals=Completed")).json()
    assert [j["invocationArn"] for j in completed["asyncInvokeSummaries"]] == [done]


async def test_faults_apply_to_polls(bedrock: Bedrock) -> None:
    arn = await _start(bedrock, reel_body())
    bedrock.sim.enqueue(Fault(status=429))
    reply = await bedrock.request("GET", f"/async-invoke/{quote(arn, safe='')}")
    assert reply.status == 429 and reply.error_type == "ThrottlingException"
    assert (await _poll(bedrock, arn))["status"] == "InProgress"  # the refused poll did not count


# ---------------------------------------------------------------------------- S3


async def _video(bedrock: Bedrock) -> str:
    arn = await _start(bedrock, reel_body("x [sim:steps=0]", uri="s3://media-bucket/out"))
    return f"/s3/media-bucket/out/{arn.rsplit('/', 1)[1]}/output.mp4"


async def test_s3_auth(bedrock: Bedrock) -> None:
    path = await _video(bedrock)
    assert (await bedrock.request("GET", path, headers={"Authorization": "Bearer key"})).status == 200
    cases = [
        ({}, 403, "AccessDenied"),
        (
            {**sigv4(service="bedrock"), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
            400,
            "AuthorizationHeaderMalformed",
        ),
        (sigv4(service="s3", region="eu-west-1"), 400, "AuthorizationHeaderMalformed"),
        (sigv4(service="s3", signature="nothex"), 403, "SignatureDoesNotMatch"),
        (
            sigv4(service="s3", when=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)),
            403,
            "RequestTimeTooSkewed",
        ),
    ]
    for headers, status, code in cases:
        reply = await bedrock.request("GET", path, headers=headers)
        assert reply.status == status, (headers, reply.raw)
        assert f"<Code>{code}</Code>".encode() in reply.raw
        assert b"<RequestId>" in reply.raw
    missing = sigv4(service="s3")
    missing.pop("x-amz-content-sha256")
    reply = await bedrock.request("GET", path, headers=missing)
    assert reply.status == 400 and b"x-amz-content-sha256" in reply.raw
    region = await bedrock.request("GET", path, headers=sigv4(service="s3", region="eu-west-1"))
    assert b"<Region>us-east-1</Region>" in region.raw


async def test_s3_range_head_and_faults(bedrock: Bedrock) -> None:
    path = await _video(bedrock)
    full = await bedrock.request("GET", path, headers=sigv4(service="s3"))
    ranged = await bedrock.request("GET", path, headers={**sigv4(service="s3"), "Range": "bytes=0-99"})
    assert ranged.status == 206 and ranged.raw == full.raw[:100]
    assert ranged.headers["Content-Range"] == f"bytes 0-99/{len(full.raw)}"
    tail = await bedrock.request("GET", path, headers={**sigv4(service="s3"), "Range": "bytes=-10"})
    assert tail.raw == full.raw[-10:]
    bad = await bedrock.request(
        "GET", path, headers={**sigv4(service="s3"), "Range": f"bytes={len(full.raw)}-"}
    )
    assert bad.status == 416 and b"InvalidRange" in bad.raw
    head = await bedrock.request("HEAD", path, headers=sigv4(service="s3"))
    assert head.status == 200 and head.raw == b"" and head.headers["Content-Length"] == str(len(full.raw))
    bedrock.sim.enqueue(Fault(status=503))
    slow = await bedrock.request("GET", path, headers=sigv4(service="s3"))
    assert slow.status == 503 and b"<Code>SlowDown</Code>" in slow.raw
    bedrock.sim.enqueue(Fault(truncate_stream=True))
    with pytest.raises(aiohttp.ClientError):
        await bedrock.request("GET", path, headers=sigv4(service="s3"))


async def test_s3_listing(bedrock: Bedrock) -> None:
    path = await _video(bedrock)
    reply = await bedrock.request(
        "GET", "/s3/media-bucket?list-type=2&prefix=out/", headers=sigv4(service="s3")
    )
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/xml"
    key = path.removeprefix("/s3/media-bucket/")
    assert f"<Key>{key}</Key>".encode() in reply.raw
    assert b"<KeyCount>1</KeyCount>" in reply.raw
    missing = await bedrock.request("GET", "/s3/nobody?list-type=2", headers=sigv4(service="s3"))
    assert missing.status == 404 and b"NoSuchBucket" in missing.raw


async def test_boto3_runtime_and_s3_clients_end_to_end(sim: Simulator) -> None:
    """A real boto3 bedrock-runtime client starts and polls the job; a real S3 client, pointed at
    ``{sim.url}/s3`` with path-style addressing, downloads the video (also via a presigned URL)."""

    def run() -> tuple[list[str], bytes, str, str]:
        common: dict[str, Any] = {
            "region_name": "us-east-1",
            "aws_access_key_id": "AKIDEXAMPLE",
            "aws_secret_access_key": "secret",
        }
        runtime = boto3.client(
            "bedrock-runtime", endpoint_url=sim.url, config=Config(retries={"max_attempts": 1}), **common
        )
        s3 = boto3.client(
            "s3",
            endpoint_url=f"{sim.url}/s3",
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
            **common,
        )
        try:
            body = reel_body()
            arn = runtime.start_async_invoke(
                modelId=body["modelId"],
                modelInput=body["modelInput"],
                outputDataConfig=body["outputDataConfig"],
            )["invocationArn"]
            statuses = [runtime.get_async_invoke(invocationArn=arn)["status"] for _ in range(3)]
            uri = runtime.get_async_invoke(invocationArn=arn)["outputDataConfig"]["s3OutputDataConfig"][
                "s3Uri"
            ]
            bucket, _, prefix = uri.removeprefix("s3://").partition("/")
            key = f"{prefix}/output.mp4"
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            url_v2 = s3.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60
            )
            s3v4 = boto3.client(
                "s3",
                endpoint_url=f"{sim.url}/s3",
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
                **common,
            )
            try:
                url_v4 = s3v4.generate_presigned_url(
                    "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60
                )
            finally:
                s3v4.close()
            return statuses, data, url_v2, url_v4
        finally:
            runtime.close()
            s3.close()

    statuses, data, url_v2, url_v4 = await asyncio.to_thread(run)
    assert statuses == ["InProgress", "InProgress", "Completed"]
    assert data[4:8] == b"ftyp"
    assert url_v2.startswith(f"{sim.url}/s3/my-bucket/videos/")
    assert "X-Amz-Signature=" in url_v4 and "AWSAccessKeyId=" in url_v2
    async with aiohttp.ClientSession() as session:
        for url in (url_v2, url_v4):
            async with session.get(url) as resp:
                assert resp.status == 200
                assert await resp.read() == data
        # X-Amz-Expires=0: expired at once (the signature itself is not verified)
        async with session.get(url_v4.replace("X-Amz-Expires=60", "X-Amz-Expires=0")) as resp:
            assert resp.status == 403
            assert b"Request has expired" in await resp.read()
