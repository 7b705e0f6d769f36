"""The Bedrock adapter: URLs per operation and region, cross-region inference profiles, SigV4 or
bearer auth, request ids, error mapping and stream decoding; the settings' checks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from security.support import PLAIN_KEY, assert_no_key_fragment, everything_shown

from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOperationError,
)
from core.llms.interfaces.provider import RequestSigner
from core.llms.providers.bedrock import BedrockAdapter, BedrockSettings, geography_of
from core.llms.providers.bedrock.adapter import EVENTSTREAM
from core.llms.providers.bedrock.settings import is_foundation_model_id, runtime_endpoint

SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"
NOVA = "amazon.nova-pro-v1:0"
AKID = "AKIAEXAMPLEKEY000001"


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


def endpoint(region: str = "us-east-1", url: str | None = None, **settings: Any) -> EndpointConfig:
    extra = {k: settings.pop(k) for k in ("api_key", "token_provider") if k in settings}
    return EndpointConfig(
        endpoint=url or runtime_endpoint(region), settings=BedrockSettings(region=region, **settings), **extra
    )


# -- URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "path"),
    [
        ("converse", "/model/amazon.nova-pro-v1:0/converse"),
        ("converse_stream", "/model/amazon.nova-pro-v1:0/converse-stream"),
        ("invoke", "/model/amazon.nova-pro-v1:0/invoke"),
        ("invoke_stream", "/model/amazon.nova-pro-v1:0/invoke-with-response-stream"),
        ("count_tokens", "/model/amazon.nova-pro-v1:0/count-tokens"),
        ("async_invoke", "/async-invoke"),
    ],
)
@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1"])
def test_url_per_operation_and_region(operation: str, path: str, region: str) -> None:
    url = BedrockAdapter().url(endpoint(region), operation, NOVA)
    assert url == f"https://bedrock-runtime.{region}.amazonaws.com{path}"


def test_an_explicit_endpoint_wins_and_keeps_its_query() -> None:
    adapter = BedrockAdapter()
    ep = endpoint(url="http://127.0.0.1:8080/gw?team=a", cross_region=False)
    assert adapter.url(ep, "converse", SONNET) == f"http://127.0.0.1:8080/gw/model/{SONNET}/converse?team=a"


def test_arns_are_percent_encoded() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    url = BedrockAdapter().url(endpoint(), "converse", arn)
    assert url.endswith(
        "/model/arn:aws:bedrock:us-east-1:123456789012:application-inference-profile%2Fabc123/converse"
    )


def test_unknown_operation_and_missing_model() -> None:
    with pytest.raises(UnsupportedOperationError):
        BedrockAdapter().url(endpoint(), "chat", NOVA)
    with pytest.raises(ConfigurationError):
        BedrockAdapter().url(endpoint(), "converse", "")


@pytest.mark.parametrize(
    ("region", "geography"),
    [
        ("us-east-1", "us"),
        ("us-west-2", "us"),
        ("us-gov-west-1", "us-gov"),
        ("eu-west-3", "eu"),
        ("ap-northeast-1", "apac"),
        ("ca-central-1", "ca"),
        ("sa-east-1", "us"),
    ],
)
def test_geography_of_a_region(region: str, geography: str) -> None:
    assert geography_of(region) == geography


@pytest.mark.parametrize(
    ("cross_region", "model", "sent"),
    [
        (None, SONNET, f"eu.{SONNET}"),  # served only through inference profiles
        (None, NOVA, NOVA),  # served in-region
        (True, NOVA, f"eu.{NOVA}"),
        ("auto", NOVA, f"eu.{NOVA}"),
        ("global", SONNET, f"global.{SONNET}"),
        (False, SONNET, SONNET),
        (None, f"us.{SONNET}", f"us.{SONNET}"),  # already a profile id
        (True, f"global.{SONNET}", f"global.{SONNET}"),
    ],
)
def test_cross_region_inference_profiles(cross_region: Any, model: str, sent: str) -> None:
    ep = endpoint("eu-west-1", cross_region=cross_region)
    assert (
        BedrockAdapter().url(ep, "converse", model)
        == f"{runtime_endpoint('eu-west-1')}/model/{sent}/converse"
    )


def test_each_backup_region_gets_its_own_profile_prefix() -> None:
    adapter = BedrockAdapter()
    assert "/model/us.anthropic" in adapter.url(endpoint("us-east-1"), "converse", SONNET)
    assert "/model/apac.anthropic" in adapter.url(endpoint("ap-southeast-2"), "converse", SONNET)


def test_foundation_model_ids() -> None:
    assert is_foundation_model_id(SONNET) and is_foundation_model_id("cohere.embed-english-v3")
    assert not is_foundation_model_id(f"us.{SONNET}") and not is_foundation_model_id("arn:aws:bedrock:x")
    assert not is_foundation_model_id("mymodel")


# -- auth ---------------------------------------------------------------------------------------


def test_the_adapter_is_a_request_signer() -> None:
    assert isinstance(BedrockAdapter(), RequestSigner)


async def test_bearer_api_key_is_sent_instead_of_sigv4() -> None:
    adapter = BedrockAdapter()
    ep = endpoint(bedrock_api_key=f"ABSK{PLAIN_KEY}")
    assert adapter.auth_mode(ep) == "bearer"
    assert await adapter.auth_headers(ep) == {"Authorization": f"Bearer ABSK{PLAIN_KEY}"}
    url = adapter.url(ep, "converse", NOVA)
    assert await adapter.sign_request(ep, "POST", url, {"Content-Type": "application/json"}, b"{}") == {}
    # a stream asks for the event stream, still unsigned
    stream_url = adapter.url(ep, "converse_stream", NOVA)
    assert await adapter.sign_request(ep, "POST", stream_url, {}, b"{}") == {"Accept": EVENTSTREAM}


async def test_the_endpoint_api_key_and_token_provider_are_bearer_keys_too() -> None:
    adapter = BedrockAdapter()
    assert await adapter.auth_headers(endpoint(api_key="abc-key")) == {"Authorization": "Bearer abc-key"}

    async def token() -> str:
        return "short-term-token"

    assert await adapter.auth_headers(endpoint(token_provider=token)) == {
        "Authorization": "Bearer short-term-token"
    }


async def test_explicit_keys_or_a_role_win_over_an_api_key() -> None:
    adapter = BedrockAdapter()
    keys = endpoint(bedrock_api_key="k" * 20, aws_access_key_id=AKID, aws_secret_access_key=PLAIN_KEY)
    assert adapter.auth_mode(keys) == "sigv4" and await adapter.auth_headers(keys) == {}
    signed = await adapter.sign_request(keys, "POST", adapter.url(keys, "converse", NOVA), {}, b"{}")
    assert signed["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AKID}/")
    assert "/us-east-1/bedrock/aws4_request" in signed["Authorization"] and "X-Amz-Date" in signed
    role = endpoint(bedrock_api_key="k" * 20, role_arn="arn:aws:iam::123456789012:role/r")
    assert adapter.auth_mode(role) == "sigv4"


async def test_sigv4_signs_for_the_endpoints_own_region() -> None:
    adapter = BedrockAdapter()
    keys = {"aws_access_key_id": AKID, "aws_secret_access_key": PLAIN_KEY, "aws_session_token": "tok" * 10}
    for region in ("us-east-1", "us-west-2"):
        ep = endpoint(region, url="http://127.0.0.1:9", **keys)
        signed = await adapter.sign_request(ep, "POST", adapter.url(ep, "converse", NOVA), {}, b"{}")
        assert f"/{region}/bedrock/aws4_request" in signed["Authorization"]
        assert signed["X-Amz-Security-Token"] == "tok" * 10


async def test_a_stream_asks_for_an_event_stream_and_signs_that() -> None:
    adapter = BedrockAdapter()
    ep = endpoint(aws_access_key_id=AKID, aws_secret_access_key=PLAIN_KEY)
    url = adapter.url(ep, "converse_stream", NOVA)
    signed = await adapter.sign_request(ep, "POST", url, {"Accept": "text/event-stream"}, b"{}")
    assert signed["Accept"] == EVENTSTREAM and "accept;" in signed["Authorization"]


async def test_no_credentials_fails_with_the_endpoint_named_and_no_secret() -> None:
    adapter = BedrockAdapter()
    ep = endpoint()
    with pytest.raises(AuthenticationError) as info:
        await adapter.sign_request(ep, "POST", adapter.url(ep, "converse", NOVA), {}, b"{}")
    assert info.value.endpoint == ep.display_name and info.value.provider == "bedrock"


# -- answers ------------------------------------------------------------------------------------


def test_request_id_from_x_amzn_request_id() -> None:
    adapter = BedrockAdapter()
    assert adapter.request_id({"x-amzn-RequestId": "r-1"}) == "r-1"
    assert adapter.request_id({"X-Amzn-Requestid": "r-2"}) == "r-2"
    assert adapter.request_id({}) is None


@pytest.mark.parametrize(
    ("status", "kind", "cls"),
    [
        (429, "ThrottlingException", RateLimitError),
        (400, "ValidationException", BadRequestError),
        (403, "UnrecognizedClientException", AuthenticationError),
        (503, "ServiceUnavailableException", ServiceUnavailableError),
    ],
)
def test_errors_are_mapped_by_the_dialect(status: int, kind: str, cls: type) -> None:
    headers = {
        "x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-RequestId": "r-9",
    }
    error = BedrockAdapter().map_error(status, headers, b'{"message":"nope"}', "https://e")
    assert isinstance(error, cls) and "nope" in error.message and error.request_id == "r-9"


def test_streams_are_aws_event_streams() -> None:
    pytest.importorskip("botocore")
    from core.llms.providers.base.eventstream import EventStreamDecoder

    adapter = BedrockAdapter()
    assert isinstance(adapter.decoder("converse_stream"), EventStreamDecoder)
    assert isinstance(adapter.decoder("invoke_stream"), EventStreamDecoder)
    with pytest.raises(UnsupportedOperationError):
        adapter.decoder("converse")


# -- settings -----------------------------------------------------------------------------------


def test_settings_repr_shows_no_secret() -> None:
    settings = BedrockSettings(
        region="us-east-1",
        aws_access_key_id=AKID,
        aws_secret_access_key=PLAIN_KEY,
        aws_session_token=PLAIN_KEY[::-1],
        bedrock_api_key="ABSK" + PLAIN_KEY,
    )
    ep = EndpointConfig(endpoint=runtime_endpoint("us-east-1"), settings=settings)
    assert_no_key_fragment(repr(settings), str(settings), repr(ep))
    assert PLAIN_KEY[::-1][:20] not in repr(ep) and AKID not in repr(settings)
    assert settings.aws_secret_access_key.get_secret_value() == PLAIN_KEY  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"region": PLAIN_KEY}, "AWS region name"),
        ({"region": "us-east-1", "aws_access_key_id": AKID}, "together"),
        ({"region": "us-east-1", "aws_secret_access_key": PLAIN_KEY}, "together"),
        ({"region": "us-east-1", "aws_session_token": PLAIN_KEY}, "aws_session_token"),
        ({"region": "us-east-1", "role_arn": PLAIN_KEY}, "role ARN"),
        ({"region": "us-east-1", "cross_region": "ue"}, "cross_region"),
        ({"region": "us-east-1", "s3_endpoint": PLAIN_KEY}, "s3_endpoint"),
        ({"region": "us-east-1", "bedrock_api_key": "a\nb" + PLAIN_KEY}, "control character"),
    ],
)
def test_bad_settings_are_refused_without_quoting_them(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        BedrockSettings(**fields)
    assert says in info.value.message
    assert_no_key_fragment(*everything_shown(info.value))


def test_role_chains_and_defaults() -> None:
    one = BedrockSettings(region="us-east-1", role_arn="arn:aws:iam::123456789012:role/a")
    assert one.roles == ("arn:aws:iam::123456789012:role/a",)
    chain = BedrockSettings(
        region="us-east-1", role_arn=["arn:aws:iam::123456789012:role/a", "arn:aws:iam::210987654321:role/b"]
    )
    assert chain.roles == chain.role_arn and len(chain.roles) == 2
    plain = BedrockSettings(region="us-east-1")
    assert plain.roles == () and plain.default_endpoint == "https://bedrock-runtime.us-east-1.amazonaws.com"
    assert hash(chain) != hash(one)  # hashable: endpoints are shared by settings
