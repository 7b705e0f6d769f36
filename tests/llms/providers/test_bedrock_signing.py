"""SigV4 of Bedrock requests: the headers equal botocore's ``SigV4Auth`` for a fixed clock and
fixed credentials, match AWS's published test vector, and verify on a server that recomputes the
signature (independently of botocore) from the request exactly as it arrived."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from aiohttp import web
from local_http import serve_locally

from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.bedrock import BedrockAdapter, BedrockSettings, FrozenCredentials
from core.llms.providers.bedrock.signing import sigv4_headers, wire_url

botocore_auth = pytest.importorskip("botocore.auth")
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FQoGZXIvYXdzEXAMPLE-session-token-0123456789"
FIXED = dt.datetime(2026, 12, 5, 12, 36, 0)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[dt.datetime]:
    """botocore's signing clock, fixed."""
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda *a, **k: FIXED)
    yield FIXED


def reference(
    url: str,
    headers: dict[str, str],
    body: bytes,
    region: str,
    *,
    token: str | None = None,
    method: str = "POST",
) -> dict[str, str]:
    """What botocore itself signs for this request (url: as sent on the wire)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    botocore_auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), "bedrock", region).add_auth(request)
    return {
        k: request.headers[k]
        for k in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
        if k in request.headers
    }


@pytest.mark.parametrize("token", [None, TOKEN])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3"])
def test_headers_equal_botocore_sigv4auth(frozen_clock: dt.datetime, token: str | None, region: str) -> None:
    url = f"https://bedrock-runtime.{region}.amazonaws.com/model/anthropic.claude-sonnet-4-20250514-v1:0/converse"
    headers = {"Content-Type": "application/json", "Accept": "application/json", "X-Custom": "a  b"}
    body = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
    ours = sigv4_headers(
        FrozenCredentials(ACCESS_KEY, SECRET_KEY, token, None),
        method="POST",
        url=url,
        headers=headers,
        body=body,
        region=region,
    )
    assert ours == reference(url, headers, body, region, token=token)
    assert ours["X-Amz-Date"] == "20261205T123600Z"
    assert f"Credential={ACCESS_KEY}/20261205/{region}/bedrock/aws4_request" in ours["Authorization"]
    assert "SignedHeaders=accept;content-type;host;x-amz-date" in ours["Authorization"]
    assert ("X-Amz-Security-Token" in ours) is (token is not None)
    if token:
        assert ours["X-Amz-Security-Token"] == token
        assert "x-amz-security-token" in ours["Authorization"]


def test_an_encoded_colon_is_signed_as_it_is_sent(frozen_clock: dt.datetime) -> None:
    """aiohttp (yarl) sends ``%3A`` as ``:``: the signature is over that path, so it equals the
    signature of the decoded URL, and differs from one over ``%3A`` (which AWS would refuse)."""
    creds = FrozenCredentials(ACCESS_KEY, SECRET_KEY, None, None)
    encoded = "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-pro-v1%3A0/converse"
    sent = "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-pro-v1:0/converse"
    assert wire_url(encoded) == sent
    ours = sigv4_headers(creds, method="POST", url=encoded, headers={}, body=b"{}", region="us-east-1")
    assert ours == reference(sent, {}, b"{}", "us-east-1")
    assert ours != reference(encoded, {}, b"{}", "us-east-1")


def test_aws_published_test_vector_get_vanilla(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS's SigV4 test suite, ``get-vanilla`` (service ``service``, 2015-08-30T12:36:00Z)."""
    monkeypatch.setattr(
        botocore_auth, "get_current_datetime", lambda *a, **k: dt.datetime(2015, 8, 30, 12, 36)
    )
    ours = sigv4_headers(
        FrozenCredentials(ACCESS_KEY, SECRET_KEY, None, None),
        method="GET",
        url="https://example.amazonaws.com/",
        headers={},
        body=b"",
        region="us-east-1",
        service="service",
    )
    assert ours["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_a_changed_body_changes_the_signature(frozen_clock: dt.datetime) -> None:
    creds = FrozenCredentials(ACCESS_KEY, SECRET_KEY, None, None)
    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-pro-v1:0/converse"
    one = sigv4_headers(creds, method="POST", url=url, headers={}, body=b'{"a":1}', region="us-east-1")
    two = sigv4_headers(creds, method="POST", url=url, headers={}, body=b'{"a":2}', region="us-east-1")
    assert one["Authorization"] != two["Authorization"]


def test_the_connectors_redactor_masks_the_key_id_and_signature_not_the_scope(
    frozen_clock: dt.datetime,
) -> None:
    from core.llms.providers.base.redact import SecretRedactor

    akid = "AKIAIOSFODNN7EXAMPLE"
    signed = sigv4_headers(
        FrozenCredentials(akid, SECRET_KEY, TOKEN, None),
        method="POST",
        url="https://bedrock-runtime.us-west-2.amazonaws.com/model/amazon.nova-pro-v1:0/converse",
        headers={"Content-Type": "application/json"},
        body=b"{}",
        region="us-west-2",
    )
    redactor = SecretRedactor()
    redactor.add_headers(signed)
    signature = signed["Authorization"].rsplit("Signature=", 1)[1]
    plain = "Credential should be scoped to a valid region, not 'us-west-2'; check the credentials"
    assert redactor.mask(plain) == plain
    assert redactor.mask(f"key {akid} signed {signature} token {TOKEN}") == "key *** signed *** token ***"


def test_botocore_logs_no_canonical_request_with_the_token(
    frozen_clock: dt.datetime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    signed = sigv4_headers(
        FrozenCredentials(ACCESS_KEY, SECRET_KEY, TOKEN, None),
        method="POST",
        url="https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-pro-v1:0/converse",
        headers={},
        body=b"{}",
        region="us-east-1",
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "v4 auth" in logged  # botocore's other records still pass
    assert TOKEN not in logged and signed["Authorization"].rsplit("=", 1)[1] not in logged


def test_credentials_repr_shows_no_secret() -> None:
    creds = FrozenCredentials(ACCESS_KEY, SECRET_KEY, TOKEN, 123.0)
    assert SECRET_KEY not in repr(creds) and TOKEN not in repr(creds) and ACCESS_KEY not in repr(creds)


# -- a server that checks the signature from the request as it arrived -----------------------


def _sign(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def verify_sigv4(request: web.Request, body: bytes, secret: str) -> str | None:
    """Recompute the SigV4 signature of ``request`` from its raw path, query, headers and body,
    as AWS does (written from the AWS documentation, not from botocore); None when it matches,
    else what differs."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization"
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 ") :].split(","))
    _, day, region, service, _ = fields["Credential"].split("/")
    signed_names = fields["SignedHeaders"].split(";")
    raw_path, _, raw_query = request.raw_path.partition("?")
    canonical_uri = quote(raw_path, safe="/~")  # the received path, URI-encoded once more (not S3)
    pairs = []
    for item in raw_query.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    canonical_headers = "".join(
        f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in signed_names
    )
    canonical = "\n".join(
        [
            request.method,
            canonical_uri,
            canonical_query,
            canonical_headers,
            fields["SignedHeaders"],
            hashlib.sha256(body).hexdigest(),
        ]
    )
    stamp = request.headers["X-Amz-Date"]
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _sign(_sign(_sign(_sign(f"AWS4{secret}".encode(), day), region), service), "aws4_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return None if expected == fields["Signature"] else "signature mismatch"


def sigv4_endpoint(url: str, region: str = "us-east-1", **settings: Any) -> EndpointConfig:
    return EndpointConfig(
        endpoint=url,
        settings=BedrockSettings(
            region=region, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, **settings
        ),
    )


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("anthropic.claude-sonnet-4-20250514-v1:0", ""),
        ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0", ""),
        ("amazon.nova-pro-v1:0", "?maxResults=5&nextToken=a%2Bb%2Fc%3D&statusEquals=InProgress"),
    ],
)
async def test_requests_as_sent_by_aiohttp_verify_on_an_independent_server(model: str, query: str) -> None:
    import aiohttp

    seen: list[str | None] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(verify_sigv4(request, body, SECRET_KEY))
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner, port = await serve_locally(app)
    try:
        adapter = BedrockAdapter()
        endpoint = sigv4_endpoint(f"http://127.0.0.1:{port}", cross_region=False)
        url = adapter.url(endpoint, "converse", model) + query
        body = b'{"messages":[]}'
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        signed = await adapter.sign_request(endpoint, "POST", url, headers, body)
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers={**headers, **signed}) as resp,
        ):
            assert resp.status == 200
    finally:
        await runner.cleanup()
    assert seen == [None]


CONVERSE_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "verified"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
    "metrics": {"latencyMs": 5},
}


def converse_stream_body() -> bytes:
    from core.llms.simulator.eventstream_encoder import event_message

    usage = {"usage": CONVERSE_ANSWER["usage"], "metrics": {"latencyMs": 5}}
    return b"".join(
        [
            event_message("messageStart", {"role": "assistant"}),
            event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "verified"}}),
            event_message("contentBlockStop", {"contentBlockIndex": 0}),
            event_message("messageStop", {"stopReason": "end_turn"}),
            event_message("metadata", usage),
        ]
    )


async def test_models_calls_through_the_connector_verify_on_an_independent_server() -> None:
    """Through create_llm, the connector and failover: every attempt (an answer, a stream, and a
    backup in another region) is signed over exactly what arrives."""
    from core.llms import create_llm

    seen: list[tuple[str, str, str | None]] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        scope = request.headers.get("Authorization", "").split("/")[2]
        seen.append((request.path, scope, verify_sigv4(request, body, SECRET_KEY)))
        if request.match_info["primary"] == "down":
            headers = {"x-amzn-ErrorType": "ServiceUnavailableException:http://internal.amazon.com/coral/"}
            return web.json_response({"message": "down"}, status=503, headers=headers)
        if request.path.endswith("/converse-stream"):
            return web.Response(
                body=converse_stream_body(), content_type="application/vnd.amazon.eventstream"
            )
        return web.json_response(CONVERSE_ANSWER, headers={"x-amzn-RequestId": "req-1"})

    app = web.Application()
    app.router.add_post("/{primary}/model/{model}/{operation}", handle)
    runner, port = await serve_locally(app)
    base = f"http://127.0.0.1:{port}"
    keys = {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY, "aws_session_token": TOKEN}
    try:
        async with create_llm(
            "bedrock/claude-sonnet-4",
            region="us-east-1",
            endpoint=f"{base}/up",
            headers={"X-Trace": "t-1"},
            **keys,
        ) as llm:
            answer = await llm.get_answer("hi", temperature=0.2)
            chunks = [c.text async for c in llm.stream_answer("hi")]
        async with create_llm(
            "bedrock/nova-pro",
            region="us-east-1",
            endpoint=f"{base}/down",
            backups=[{"endpoint": f"{base}/up", "region": "us-west-2"}],
            retry={"max_retries": 0},
            **keys,
        ) as llm:
            served = await llm.get_answer("hi")
    finally:
        await runner.cleanup()
    assert answer.text == "verified" and answer.request_id == "req-1" and "".join(chunks) == "verified"
    assert served.endpoint == f"{base}/up"
    assert seen == [
        (f"/up/model/us.{'anthropic.claude-sonnet-4-20250514-v1:0'}/converse", "us-east-1", None),
        (f"/up/model/us.{'anthropic.claude-sonnet-4-20250514-v1:0'}/converse-stream", "us-east-1", None),
        ("/down/model/amazon.nova-pro-v1:0/converse", "us-east-1", None),
        ("/up/model/amazon.nova-pro-v1:0/converse", "us-west-2", None),
    ]
