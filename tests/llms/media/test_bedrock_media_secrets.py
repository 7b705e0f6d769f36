"""Bedrock's media calls never show a credential: a server that echoes the request's
``Authorization`` and ``X-Amz-Security-Token`` headers in every kind of failure (an error status,
an ``error`` inside a 200 image answer, a failed video job's ``failureMessage``, S3's XML error on
the download) and a canary credential with no recognisable prefix — as a Bedrock API key, and as
the session token of SigV4 credentials: no 12-character piece of it in any error, cause chain,
traceback or log line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from local_http import serve_locally
from security.support import PLAIN_KEY, assert_no_key_fragment, captured_logs, everything_shown

from core.llms import create_llm
from core.llms.interfaces.errors import LLMError

ARN = "arn:aws:bedrock:us-east-1:123456789012:async-invoke/abcdef123456"
OUT = "s3://canary-videos/runs"


def echo(request: web.Request) -> str:
    return (
        f"upstream saw Authorization: {request.headers.get('Authorization', '')} and token "
        f"{request.headers.get('X-Amz-Security-Token', '')} and refused"
    )


class EchoServer:
    """Bedrock's invoke and async-invoke routes and S3, each failing with the request's
    credentials in its message."""

    def __init__(self) -> None:
        self.job_fails = True
        self.url = ""
        self._runner: Any = None

    async def __aenter__(self) -> EchoServer:
        app = web.Application()
        app.router.add_post("/model/{model}/invoke", self.invoke)
        app.router.add_post("/async-invoke", self.start)
        app.router.add_get("/async-invoke/{arn}", self.poll)
        app.router.add_get("/s3/{bucket}/{key:.*}", self.s3_get)
        self._runner, port = await serve_locally(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()

    async def invoke(self, request: web.Request) -> web.Response:
        await request.read()
        headers = {"x-amzn-RequestId": PLAIN_KEY}
        if "canvas" in request.match_info["model"]:  # an error inside a 200 answer
            return web.json_response({"images": [], "error": echo(request)}, headers=headers)
        headers["x-amzn-ErrorType"] = (
            "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
        )
        return web.json_response({"message": echo(request)}, status=400, headers=headers)

    async def start(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"invocationArn": ARN})

    async def poll(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = {
            "invocationArn": ARN,
            "status": "Failed" if self.job_fails else "Completed",
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"{OUT}/abcdef123456"}},
        }
        if self.job_fails:
            body["failureMessage"] = echo(request)
        return web.json_response(body, headers={"x-amzn-RequestId": PLAIN_KEY})

    async def s3_get(self, request: web.Request) -> web.Response:
        xml = f"<Error><Code>AccessDenied</Code><Message>{echo(request)}</Message></Error>"
        return web.Response(status=403, body=xml.encode(), content_type="application/xml")


@pytest.fixture
async def server() -> AsyncIterator[EchoServer]:
    async with EchoServer() as echo_server:
        yield echo_server


CREDENTIALS = {
    "api key": {"bedrock_api_key": PLAIN_KEY},
    "session token": {
        "aws_access_key_id": "AKIDCANARYNOTSECRET1",
        "aws_secret_access_key": "canary/secret/never-sent/0123456789abcdefgh",
        "aws_session_token": PLAIN_KEY,
    },
}
CALLS = {
    "image 200": ("nova-canvas", lambda m: m.get_image("a fox")),
    "embed 400": ("titan-embed-text-v2", lambda m: m.embed(["a", "b"])),
    "cohere 400": ("cohere-embed-english-v3", lambda m: m.embed(["a"])),
    "video job": ("nova-reel", lambda m: m.get_video("a fox", output_s3_uri=OUT, poll_interval=0.01)),
    "s3 download": ("nova-reel", lambda m: m.get_video("a fox", output_s3_uri=OUT, poll_interval=0.01)),
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("credentials", list(CREDENTIALS))
async def test_no_piece_of_the_credential_shows(server: EchoServer, call: str, credentials: str) -> None:
    server.job_fails = call == "video job"
    row, run = CALLS[call]
    model = create_llm(
        f"bedrock/{row}",
        endpoint=server.url,
        region="us-east-1",
        s3_endpoint=server.url + "/s3",
        retry={"max_retries": 0},
        **CREDENTIALS[credentials],
    )
    with captured_logs() as logs:
        async with model:
            with pytest.raises(LLMError) as info:
                await run(model)
    error = info.value
    assert "refused" in error.message or "AccessDenied" in error.message  # the echo is shown, masked
    assert_no_key_fragment(*everything_shown(error), error.body, *logs)
