"""OpenAIAdapter: URLs, auth headers, request ids and the error mapping (incl. recorded bodies)."""

from __future__ import annotations

import json
import math

import pytest
from multidict import CIMultiDict
from openai_testkit import sidecar, wire_bytes

from core.llms.interfaces import (
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ContextWindowExceededError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOperationError,
)
from core.llms.interfaces.endpoint import EndpointConfig, join_url
from core.llms.providers.azure import AzureAdapter, AzureSettings
from core.llms.providers.base.sse import SSEDecoder
from core.llms.providers.openai import DEFAULT_BASE_URL, OpenAIAdapter, OpenAISettings

ADAPTER = OpenAIAdapter()
EP = EndpointConfig(endpoint=DEFAULT_BASE_URL, api_key="sk-test-SECRET-123456")


def err(status: int, body: object, headers: dict[str, str] | None = None) -> LLMError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ADAPTER.map_error(status, CIMultiDict(headers or {}), raw, "https://api.openai.com/v1")


def test_urls() -> None:
    assert ADAPTER.url(EP, "chat", "gpt-4.1-mini") == "https://api.openai.com/v1/chat/completions"
    assert ADAPTER.url(EP, "embeddings", "text-embedding-3-small") == "https://api.openai.com/v1/embeddings"
    # the model id travels in the body, never in OpenAI's URL
    assert ADAPTER.url(EP, "chat", "ft:gpt-4o-mini:org::abc") == "https://api.openai.com/v1/chat/completions"
    local = EndpointConfig(endpoint="http://127.0.0.1:8000/v1/")
    assert ADAPTER.url(local, "chat", "m") == "http://127.0.0.1:8000/v1/chat/completions"
    with pytest.raises(UnsupportedOperationError, match="no 'rerank' operation"):
        ADAPTER.url(EP, "rerank", "m")


def test_endpoint_query_string_stays_last() -> None:
    gateway = EndpointConfig(endpoint="https://h/v1?team=alpha")
    assert ADAPTER.url(gateway, "chat", "gpt-4o") == "https://h/v1/chat/completions?team=alpha"
    assert ADAPTER.url(gateway, "embeddings", "e") == "https://h/v1/embeddings?team=alpha"
    two = EndpointConfig(endpoint="https://h/v1/?team=alpha&env=prod")
    assert ADAPTER.url(two, "chat", "gpt-4o") == "https://h/v1/chat/completions?team=alpha&env=prod"
    # Azure keeps it too, joined with its api-version (classic) or alone (v1)
    azure = AzureAdapter()
    classic = EndpointConfig(
        endpoint="https://h/v1?team=alpha",
        settings=AzureSettings(deployment_name="dep", api_version="2024-10-21"),
    )
    assert azure.url(classic, "chat", "dep") == (
        "https://h/v1/openai/deployments/dep/chat/completions?team=alpha&api-version=2024-10-21"
    )
    res = EndpointConfig(
        endpoint="https://res.openai.azure.com/openai?team=alpha",
        settings=AzureSettings(deployment_name="dep", api_version="2024-10-21"),
    )
    assert azure.url(res, "chat", "dep") == (
        "https://res.openai.azure.com/openai/deployments/dep/chat/completions?team=alpha&api-version=2024-10-21"
    )
    v1 = res.derive({"api_version": "v1"})
    assert (
        azure.url(v1, "chat", "dep") == "https://res.openai.azure.com/openai/v1/chat/completions?team=alpha"
    )


@pytest.mark.parametrize(
    ("base", "path", "joined"),
    [
        ("https://h/v1", "/chat/completions", "https://h/v1/chat/completions"),
        ("https://h/v1/", "/chat/completions", "https://h/v1/chat/completions"),
        ("https://h/v1?team=alpha", "/chat/completions", "https://h/v1/chat/completions?team=alpha"),
        ("https://h/v1/?team=alpha", "/embeddings", "https://h/v1/embeddings?team=alpha"),
        ("https://h", "/x?api-version=1", "https://h/x?api-version=1"),
        ("https://h?team=alpha", "/x?api-version=1", "https://h/x?team=alpha&api-version=1"),
    ],
)
def test_join_url_keeps_the_query_last(base: str, path: str, joined: str) -> None:
    assert join_url(base, path) == joined


async def test_auth_headers() -> None:
    assert await ADAPTER.auth_headers(EP) == {"Authorization": "Bearer sk-test-SECRET-123456"}
    org = EP.replace(settings=OpenAISettings(organization="org-42"))
    assert await ADAPTER.auth_headers(org) == {
        "Authorization": "Bearer sk-test-SECRET-123456",
        "OpenAI-Organization": "org-42",
    }
    both = EP.replace(settings=OpenAISettings(organization="org-42", project="proj-7"))
    headers = await ADAPTER.auth_headers(both)
    assert (headers["OpenAI-Organization"], headers["OpenAI-Project"]) == ("org-42", "proj-7")
    assert "OpenAI-Organization" not in await ADAPTER.auth_headers(EP.replace(settings=OpenAISettings()))
    assert await ADAPTER.auth_headers(EndpointConfig(endpoint="http://127.0.0.1:1/v1")) == {}


async def test_token_provider_wins_sync_and_async() -> None:
    async def token() -> str:
        return "tok-async"

    sync = EP.replace(**{"token_provider": lambda: "tok-sync"})
    assert (await ADAPTER.auth_headers(sync))["Authorization"] == "Bearer tok-sync"
    asynchronous = EP.replace(**{"token_provider": token})
    assert (await ADAPTER.auth_headers(asynchronous))["Authorization"] == "Bearer tok-async"


def test_decoder_and_request_id() -> None:
    assert isinstance(ADAPTER.decoder("chat"), SSEDecoder)
    assert ADAPTER.decoder("chat") is not ADAPTER.decoder("chat")
    assert ADAPTER.request_id(CIMultiDict({"X-Request-ID": "req_abc"})) == "req_abc"
    assert ADAPTER.request_id(CIMultiDict()) is None


def test_recorded_400_unsupported_value() -> None:
    name = "openai/chat-400-unsupported-value.json"
    status = sidecar(name)["response"]["status"]
    error = ADAPTER.map_error(
        status, CIMultiDict({"x-request-id": "req_1"}), wire_bytes(name), "https://x/v1"
    )
    assert type(error) is BadRequestError
    assert error.status == 400 and error.code == "unsupported_value" and error.request_id == "req_1"
    assert "does not support 'developer'" in error.message
    assert error.body["error"]["param"] == "messages[0].role"


def test_context_length_by_code_and_by_message() -> None:
    by_code = err(
        400,
        {
            "error": {
                "message": "too long",
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
                "param": "messages",
            }
        },
    )
    assert type(by_code) is ContextWindowExceededError
    assert by_code.message == "too long (param: messages)"
    by_message = err(400, {"error": {"message": "This model's maximum context length is 8192 tokens."}})
    assert type(by_message) is ContextWindowExceededError


def test_content_filter_with_results() -> None:
    results = {"hate": {"filtered": True, "severity": "high"}}
    error = err(
        400,
        {
            "error": {
                "message": "filtered",
                "code": "content_filter",
                "innererror": {"content_filter_result": results},
            }
        },
    )
    assert isinstance(error, ContentFilterError)
    assert error.filter_results == results and error.status == 400


def test_insufficient_quota_is_a_rate_limit_that_retrying_will_not_fix() -> None:
    error = err(
        429,
        {
            "error": {
                "message": "You exceeded your current quota.",
                "type": "insufficient_quota",
                "code": "insufficient_quota",
            }
        },
        {"retry-after": "20"},
    )
    assert isinstance(error, RateLimitError)
    assert error.retry_after == math.inf  # no wait helps: the transport fails over instead
    assert error.hint is not None and "retrying will not help" in error.hint


def test_rate_limit_keeps_retry_after() -> None:
    error = err(
        429, {"error": {"message": "slow down", "code": "rate_limit_exceeded"}}, {"retry-after-ms": "1500"}
    )
    assert isinstance(error, RateLimitError) and error.retry_after == 1.5


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (500, ServiceUnavailableError),
        (502, ServiceUnavailableError),
        (422, BadRequestError),
    ],
)
def test_status_classes(status: int, cls: type) -> None:
    assert type(err(status, {"error": {"message": "x"}})) is cls


def test_non_json_and_odd_bodies() -> None:
    html = b"<html><body>\n  <h1>502 Bad Gateway</h1>\n</body></html>" + b" " * 2000
    error = err(502, html)
    assert isinstance(error, ServiceUnavailableError)
    assert error.message.startswith("<html><body> <h1>502 Bad Gateway</h1>")
    assert len(error.message) <= 500
    assert err(503, b"").message == "HTTP 503 with an empty body"
    assert err(400, ["odd"]).message == "['odd']"
    assert err(400, {"message": "flat shape"}).message == "flat shape"
    assert err(400, {"detail": "fastapi shape"}).message == "fastapi shape"


def test_keys_echoed_by_the_provider_are_masked() -> None:
    error = err(401, {"error": {"message": "Incorrect API key provided: sk-proj-abcdEFGH1234****wxyz."}})
    assert isinstance(error, AuthenticationError)
    assert "abcdEFGH" not in str(error) and "sk-***" in error.message
