"""A local fake of the Bedrock runtime's async-invoke routes and of S3 (GETs checked against an
independent SigV4 implementation), a stub adapter (URLs only) and Nova Reel model classes, for
the Bedrock video tests."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web
from local_http import serve_locally

from core.llms.interfaces import (
    LLMResponse,
    LLMStreamChunk,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.metadata import ModelMetadata, Pricing
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.http_errors import error_for_status
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.bedrock.adapter import BedrockAdapter
from core.llms.providers.bedrock.settings import BedrockSettings

KEY_ID = "AKIDEXAMPLE7Q3ZP1"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 64
REEL = "amazon.nova-reel-v1:1"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)


# -- a fake Bedrock runtime + S3 ------------------------------------------------------------------


def sigv4_check(request: web.Request, secret: str, region: str) -> str | None:
    """Why ``request`` is not a valid SigV4 request for S3 (None when it is): an independent
    implementation of the canonical request and signature (only what a GET uses)."""
    auth = request.headers.get("Authorization", "")
    prefix = "AWS4-HMAC-SHA256 "
    if not auth.startswith(prefix):
        return "no SigV4 Authorization header"
    parts = dict(item.strip().split("=", 1) for item in auth[len(prefix) :].split(","))
    key_id, day, scope_region, service, terminal = parts["Credential"].split("/")
    if key_id != KEY_ID or (scope_region, service, terminal) != (region, "s3", "aws4_request"):
        return f"wrong scope {scope_region}/{service}/{terminal}"
    amz_date = request.headers.get("X-Amz-Date", "")
    payload = request.headers.get("X-Amz-Content-SHA256", "")
    if payload != hashlib.sha256(b"").hexdigest():
        return "x-amz-content-sha256 is not the empty body's hash"
    signed = parts["SignedHeaders"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        return "host or x-amz-date not signed"
    canonical_headers = "".join(f"{name}:{' '.join(request.headers[name].split())}\n" for name in signed)
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(request.query.items())
    )
    canonical = "\n".join(
        [request.method, request.raw_path.split("?")[0], query, canonical_headers, ";".join(signed), payload]
    )
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            f"{day}/{region}/s3/aws4_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["Signature"]):
        return "signature mismatch"
    return None


class FakeBedrock:
    """``POST /async-invoke``, ``GET /async-invoke/{arn}`` and ``GET /s3/{bucket}/{key}``.

    ``polls``: InProgress answers before the job ends; ``fail``: its failureMessage (ends
    Failed); ``start_errors`` / ``poll_errors``: statuses answered first; ``s3_status``: the
    S3 GET's status (an XML error body); ``report_folder``: GetAsyncInvoke's s3Uri names the
    job's folder (as AWS does) rather than echoing the URI given."""

    def __init__(self, name: str = "east", **script: Any) -> None:
        self.name = name
        self.polls = script.get("polls", 2)
        self.fail: str | None = script.get("fail")
        self.start_errors: list[int] = list(script.get("start_errors", []))
        self.poll_errors: list[int] = list(script.get("poll_errors", []))
        self.s3_status: int = script.get("s3_status", 200)
        self.s3_code: str = script.get("s3_code", "AccessDenied")
        self.s3_body: bytes = script.get("s3_body", MP4)
        self.s3_type: str = script.get("s3_type", "video/mp4")
        self.report_folder: bool = script.get("report_folder", True)
        self.progress: int | list[int] | None = script.get("progress")  # one, or one per poll
        self.report_uri: Any = script.get("report_uri")  # job id -> the s3Uri GetAsyncInvoke reports
        self.requests: list[tuple[str, str]] = []
        self.starts: list[dict[str, Any]] = []
        self.sigv4_problems: list[str | None] = []
        self.s3_headers: list[dict[str, str]] = []
        self.bedrock_auth: list[str] = []
        self.s3_queries: list[dict[str, str]] = []
        self.honour_type: bool = script.get("honour_type", True)  # False: a store that ignores it
        self.jobs: dict[str, dict[str, Any]] = {}
        self.url = ""
        self._runner: Any = None

    async def __aenter__(self) -> FakeBedrock:
        app = web.Application()

        # (looked up on each request: a test may replace a handler)
        async def start(request: web.Request) -> web.Response:
            return await self.start(request)

        async def poll(request: web.Request) -> web.Response:
            return await self.poll(request)

        async def s3_get(request: web.Request) -> web.Response:
            return await self.s3_get(request)

        app.router.add_post("/async-invoke", start)
        app.router.add_get("/async-invoke/{arn}", poll)
        app.router.add_get("/s3/{bucket}/{key:.*}", s3_get)
        self._runner, port = await serve_locally(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()

    async def start(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", request.raw_path))
        if self.start_errors:
            return web.json_response({"message": "busy"}, status=self.start_errors.pop(0))
        body = await request.json()
        self.starts.append(body)
        job_id = f"{self.name}{len(self.starts):08d}"[-12:].lower()
        arn = f"arn:aws:bedrock:us-east-1:123456789012:async-invoke/{job_id}"
        self.jobs[arn] = {"left": self.polls, "uri": body["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]}
        self.bedrock_auth.append(request.headers.get("Authorization", ""))
        return web.json_response(
            {"invocationArn": arn}, headers={"x-amzn-RequestId": f"rid-{len(self.starts)}"}
        )

    async def poll(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.raw_path))
        if self.poll_errors:
            return web.json_response({"message": "busy"}, status=self.poll_errors.pop(0))
        arn = unquote(request.raw_path.rsplit("/", 1)[-1])
        job = self.jobs.get(arn)
        if job is None:
            return web.json_response({"message": "no such invocation"}, status=404)
        uri = job["uri"].rstrip("/") + "/" + arn.rsplit("/", 1)[-1] if self.report_folder else job["uri"]
        if self.report_uri is not None:
            uri = self.report_uri(arn.rsplit("/", 1)[-1])
        body: dict[str, Any] = {
            "invocationArn": arn,
            "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{REEL}",
            "submitTime": "2026-01-01T00:00:00Z",
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": uri}},
        }
        if isinstance(self.progress, list):
            if self.progress:
                body["progress"] = self.progress.pop(0)
        elif self.progress is not None:
            body["progress"] = self.progress
        if job["left"] is None or job["left"] > 0:
            if job["left"] is not None:
                job["left"] -= 1
            body["status"] = "InProgress"
        elif self.fail is not None:
            body["status"] = "Failed"
            body["failureMessage"] = self.fail
        else:
            body["status"] = "Completed"
        return web.json_response(body)

    async def s3_get(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.raw_path.partition("?")[0]))
        self.s3_queries.append(dict(request.query))
        self.s3_headers.append(dict(request.headers))
        self.sigv4_problems.append(sigv4_check(request, SECRET, "us-east-1"))
        if self.s3_status != 200:
            xml = (
                f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{self.s3_code}</Code>"
                f"<Message>Denied for {KEY_ID}</Message><RequestId>ABC123</RequestId></Error>"
            )
            return web.Response(
                status=self.s3_status,
                body=xml.encode(),
                content_type="application/xml",
                headers={"x-amz-request-id": "ABC123"},
            )
        # S3 answers with the content type a signed GET asks for (response-content-type)
        kind = request.query.get("response-content-type", self.s3_type) if self.honour_type else self.s3_type
        return web.Response(body=self.s3_body, headers={"Content-Type": kind})


class StubAdapter:
    """Another provider adapter (URL rules only, no signing): the S3 download then makes its own
    credential provider from the endpoint's settings."""

    provider = "bedrock"

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        if operation == "async_invoke":
            return endpoint.endpoint + "/async-invoke"
        return f"{endpoint.endpoint}/model/{quote(model, safe='')}/invoke"

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        return {}

    def decoder(self, operation: str) -> Any:
        raise AssertionError("no streams")

    def map_error(self, status: int, headers: Any, body: bytes, endpoint: str) -> Any:
        return error_for_status(status, f"status {status}", endpoint=endpoint)

    def request_id(self, headers: Any) -> str | None:
        value = headers.get("x-amzn-RequestId")
        return str(value) if value is not None else None


class Reel(BaseLLM):
    metadata = ModelMetadata(
        name=REEL,
        provider="bedrock",
        input_media=frozenset({"text"}),
        output_media=frozenset({"video"}),
        pricing=Pricing(per_video_second=0.08),
    )

    def _check_defaults(self) -> None:
        pass

    async def get_answer(self, messages: Any, ctx: Any = None, **params: Any) -> LLMResponse:
        raise AssertionError

    def stream_answer(self, messages: Any, ctx: Any = None, **params: Any) -> AsyncIterator[LLMStreamChunk]:
        raise AssertionError


class ReelV10(Reel):
    metadata = Reel.metadata.replace(name="amazon.nova-reel-v1:0")


def settings(server: FakeBedrock, **changes: Any) -> BedrockSettings:
    fields: dict[str, Any] = {
        "region": "us-east-1",
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET,
        "s3_endpoint": server.url + "/s3",
    }
    fields.update(changes)
    return BedrockSettings(**{k: v for k, v in fields.items() if v is not None})


def reel(*servers: FakeBedrock, cls: type[Reel] = Reel, adapter: Any = None, **kw: Any) -> Reel:
    """A Nova Reel model on the servers (primary first), through the provider's adapter (SigV4
    for Bedrock with the explicit keys) unless another is given."""
    primary, *backups = servers
    endpoint = EndpointConfig(
        endpoint=primary.url, name=primary.name, settings=kw.pop("settings", None) or settings(primary)
    )
    backup_configs = [EndpointConfig(endpoint=b.url, name=b.name, settings=settings(b)) for b in backups]
    connector = FailoverConnector.from_endpoints(adapter or BedrockAdapter(), endpoint, backup_configs, FAST)
    return cls(connector, **kw)
