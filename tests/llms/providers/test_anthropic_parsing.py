"""Reading Anthropic answers and errors: a ``message`` body → LLMResponse (text, tool calls,
thinking, server tools, stop reasons, usage with cache reads and writes, cost, refusals,
structured output), the error envelope → the error tree, the adapter's URL, headers and request id,
the catalogue's prices, and sending answers back with ``assistant_message``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from model_classes import model_class
from multidict import CIMultiDict
from openai_testkit import ScriptedConnector, wire_bytes, wire_response
from pydantic import BaseModel

from core.llms.interfaces import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseParsingError,
    ServiceUnavailableError,
    Usage,
)
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.metadata import Pricing
from core.llms.providers.anthropic import AnthropicAdapter, AnthropicSettings
from core.llms.providers.anthropic.catalogue import ANTHROPIC_CATALOGUE
from core.llms.providers.dialects.anthropic_messages import assistant_blocks, assistant_message
from core.llms.providers.dialects.anthropic_messages.errors import error_from_body, map_error_response
from core.llms.providers.dialects.anthropic_messages.parsing import (
    costing,
    map_stop_reason,
    parse_message,
    usage_from_wire,
)

Sonnet45 = model_class("anthropic/claude-sonnet-4-5")


class Weather(BaseModel):
    city: str
    celsius: float


def message(*content: dict[str, Any], stop_reason: str = "end_turn", **usage: Any) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": list(content),
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5, **usage},
    }


def parse(data: Any, **kw: Any) -> Any:
    return parse_message(data, provider="anthropic", model="claude-sonnet-4-5", **kw)


def test_text_thinking_and_tool_calls() -> None:
    data = message(
        {"type": "thinking", "thinking": "Let me see.", "signature": "c2ln"},
        {"type": "redacted_thinking", "data": "EmwK"},
        {"type": "text", "text": "Checking "},
        {"type": "text", "text": "now."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        stop_reason="tool_use",
    )
    r = parse(data)
    assert (r.text, r.reasoning, r.finish_reason, r.model) == (
        "Checking now.",
        "Let me see.",
        "tool_calls",
        "claude-sonnet-4-5-20250929",
    )
    (call,) = r.tool_calls
    assert (call.id, call.name, json.loads(call.arguments)) == ("toolu_1", "get_weather", {"city": "Paris"})
    assert r.raw is data and r.refusal is None


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "refusal"),
        ("pause_turn", "length"),
        ("something_new", "stop"),
        (None, None),
    ],
)
def test_stop_reasons(reason: Any, finish: Any) -> None:
    assert map_stop_reason(reason) == finish


def test_refusal_says_why() -> None:
    r = parse(message({"type": "text", "text": "I can't"}, stop_reason="refusal"))
    assert (r.finish_reason, r.refusal, r.text) == ("refusal", "I can't", "I can't")
    data = message(stop_reason="refusal")
    data["stop_details"] = {"type": "refusal", "category": "cyber", "explanation": "Policy: cyber"}
    assert parse(data).refusal == "Policy: cyber"
    assert (
        parse(message(stop_reason="refusal")).refusal == "Claude declined to answer (stop_reason 'refusal')"
    )


def test_usage_counts_cache_reads_and_writes_inside_input_tokens() -> None:
    usage = usage_from_wire(
        {
            "input_tokens": 100,
            "cache_read_input_tokens": 2_000,
            "cache_creation_input_tokens": 500,
            "output_tokens": 40,
            "output_tokens_details": {"thinking_tokens": 12},
        }
    )
    assert usage == Usage(
        input_tokens=2_600,
        output_tokens=40,
        cached_input_tokens=2_000,
        reasoning_tokens=12,
        cache_write_input_tokens=500,
    )
    assert usage_from_wire({"input_tokens": "x", "output_tokens": -1}) == Usage()


def test_cost_bills_cache_reads_and_writes_at_their_prices() -> None:
    model = Sonnet45(ScriptedConnector())
    data = message(
        {"type": "text", "text": "hi"},
        input_tokens=1_000_000,
        cache_read_input_tokens=1_000_000,
        cache_creation_input_tokens=1_000_000,
        output_tokens=1_000_000,
    )
    r = parse(data, cost=costing(model))
    # $3 input + $0.30 cache read + $3.75 cache write (5 minutes) + $15 output
    assert r.cost == pytest.approx(3.00 + 0.30 + 3.75 + 15.00)
    data["usage"]["cache_creation"] = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 1_000_000}
    assert parse(data, cost=costing(model)).cost == pytest.approx(3.00 + 0.30 + 6.00 + 15.00)  # 1h: 2x input


def test_pricing_without_a_cache_write_price_bills_writes_as_input() -> None:
    usage = Usage(input_tokens=300, output_tokens=0, cached_input_tokens=100, cache_write_input_tokens=100)
    assert Pricing(input_per_1m=1.0, cached_input_per_1m=0.1).cost(usage) == pytest.approx(210e-6)
    priced = Pricing(input_per_1m=1.0, cached_input_per_1m=0.1, cache_write_input_per_1m=1.25)
    assert priced.cost(usage) == pytest.approx(235e-6)


def test_catalogue_prices_and_limits() -> None:
    published = {  # USD per 1M: input, cache read, cache write (5 min), output; max output tokens
        "claude-opus-4-1": (15.00, 1.50, 18.75, 75.00, 32_000),
        "claude-opus-4": (15.00, 1.50, 18.75, 75.00, 32_000),
        "claude-sonnet-4-5": (3.00, 0.30, 3.75, 15.00, 64_000),
        "claude-sonnet-4": (3.00, 0.30, 3.75, 15.00, 64_000),
        "claude-3-7-sonnet": (3.00, 0.30, 3.75, 15.00, 64_000),
        "claude-haiku-4-5": (1.00, 0.10, 1.25, 5.00, 64_000),
        "claude-3-5-haiku": (0.80, 0.08, 1.00, 4.00, 8_192),
    }
    assert set(ANTHROPIC_CATALOGUE) == set(published)
    for name, (inp, read, write, out, max_out) in published.items():
        meta = ANTHROPIC_CATALOGUE[name]
        p = meta.pricing
        assert (p.input_per_1m, p.cached_input_per_1m, p.cache_write_input_per_1m, p.output_per_1m) == (
            inp,
            read,
            write,
            out,
        )
        assert p.as_of is not None and meta.max_output_tokens == max_out and meta.context_window == 200_000
        assert meta.parameters.temperature_range == (0.0, 1.0)
        assert meta.capabilities.tools and meta.capabilities.vision and meta.capabilities.pdf
        assert meta.capabilities.reasoning is (name != "claude-3-5-haiku")
        assert meta.wire_name is not None and meta.wire_name.startswith(name + "-20")


def test_structured_output_is_the_format_tool_input() -> None:
    data = message(
        {"type": "tool_use", "id": "toolu_1", "name": "Weather", "input": {"city": "Oslo", "celsius": -3}},
        stop_reason="tool_use",
    )
    r = parse(data, response_format=Weather, format_tool="Weather")
    assert r.parsed == Weather(city="Oslo", celsius=-3)
    assert json.loads(r.text) == {"city": "Oslo", "celsius": -3}
    assert (r.finish_reason, r.tool_calls) == ("stop", [])
    with pytest.raises(ResponseParsingError, match="does not match Weather"):
        parse(
            message({"type": "tool_use", "id": "t", "name": "Weather", "input": {"city": 1}}),
            response_format=Weather,
            format_tool="Weather",
        )
    with pytest.raises(ResponseParsingError, match="did not answer in the response format"):
        parse(
            message({"type": "text", "text": "{"}, stop_reason="max_tokens"),
            response_format=Weather,
            format_tool="Weather",
        )


def test_tool_call_cut_off_by_max_tokens_is_dropped() -> None:
    data = message(
        {"type": "tool_use", "id": "toolu_1", "name": "a", "input": {"x": 1}},
        {"type": "tool_use", "id": "toolu_2", "name": "b", "input": {}},
        stop_reason="max_tokens",
    )
    r = parse(data)
    assert r.finish_reason == "length" and [c.id for c in r.tool_calls] == ["toolu_1"]
    assert [b["id"] for b in assistant_blocks(r)] == ["toolu_1"]


def test_server_tools_are_kept_in_raw_not_as_calls() -> None:
    data = json.loads(wire_bytes("anthropic/messages-web-fetch-tool-result-error.json"))
    r = parse(data)
    assert r.tool_calls == [] and r.finish_reason == "stop"
    assert (
        r.text.startswith("I'll fetch the PDF document")
        and "web_fetch tool is currently unavailable" in r.text
    )
    assert r.usage == Usage(input_tokens=1902, output_tokens=214)
    kinds = [b["type"] for b in assistant_blocks(r)]
    assert kinds == ["text", "server_tool_use", "web_fetch_tool_result", "text"]
    assert assistant_message(r)["content"][2]["content"]["error_code"] == "unavailable"


def test_assistant_blocks_need_an_anthropic_answer() -> None:
    with pytest.raises(InvalidInputError, match="no Anthropic content blocks"):
        assistant_blocks({"choices": []})
    block = {"type": "thinking", "thinking": "t", "signature": "s", "extra": None}
    assert assistant_blocks({"content": [block]}) == [{"type": "thinking", "thinking": "t", "signature": "s"}]


@pytest.mark.parametrize(
    "data",
    [[], {"content": "text"}, {"content": [1]}, {"content": [{"type": "text", "text": 5}]}],
)
def test_malformed_bodies(data: Any) -> None:
    with pytest.raises(ResponseParsingError):
        parse(data)


async def test_model_answer_through_a_connector() -> None:
    data = message({"type": "text", "text": "Hello!"}, cache_read_input_tokens=90)
    connector = ScriptedConnector([wire_response(data, endpoint="https://api.anthropic.com")])
    async with Sonnet45(connector) as model:
        r = await model.get_answer("hi", max_tokens=10)
    assert (r.text, r.endpoint, r.request_id, r.latency) == (
        "Hello!",
        "https://api.anthropic.com",
        "req-1",
        0.25,
    )
    assert r.usage == Usage(input_tokens=100, output_tokens=5, cached_input_tokens=90)
    assert r.cost == pytest.approx((10 * 3.00 + 90 * 0.30 + 5 * 15.00) / 1e6)
    (request,) = connector.requests
    assert (request.operation, request.model, request.payload["max_tokens"]) == (
        "messages",
        "claude-sonnet-4-5-20250929",
        10,
    )


# -- errors --------------------------------------------------------------------------------------


def test_recorded_400() -> None:
    raw = wire_bytes("anthropic/messages-400-invalid-request.json")
    err = map_error_response(400, CIMultiDict(), raw, "https://api.anthropic.com", None)
    assert type(err) is BadRequestError
    assert err.code == "invalid_request_error" and err.request_id == "req_011Ca7jT9AHpgXgdv8igm4z9"
    assert err.message.startswith("This model does not support effort level 'xhigh'")


@pytest.mark.parametrize(
    ("status", "kind", "cls"),
    [
        (401, "authentication_error", AuthenticationError),
        (403, "permission_error", PermissionDeniedError),
        (404, "not_found_error", NotFoundError),
        (413, "request_too_large", BadRequestError),
        (429, "rate_limit_error", RateLimitError),
        (500, "api_error", ServiceUnavailableError),
        (529, "overloaded_error", ServiceUnavailableError),
        (None, "overloaded_error", ServiceUnavailableError),
        (None, "rate_limit_error", RateLimitError),
        (None, "invalid_request_error", BadRequestError),
    ],
)
def test_error_types(status: Any, kind: str, cls: type) -> None:
    body = {"type": "error", "error": {"type": kind, "message": "m"}}
    err = error_from_body(status, body, headers={"retry-after": "7"})
    assert type(err) is cls and err.code == kind
    if cls in (RateLimitError, ServiceUnavailableError):
        assert err.retryable and err.retry_after == 7.0  # type: ignore[attr-defined]
    if kind == "overloaded_error":
        assert err.status == 529 and err.failover and "overloaded" in (err.hint or "")


def test_context_window_and_text_bodies() -> None:
    body = {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "prompt is too long: 210000 tokens > 200000 maximum",
        },
    }
    assert type(error_from_body(400, body)) is ContextWindowExceededError
    err = map_error_response(502, CIMultiDict(), b"<html>bad gateway</html>", "e", "rid")
    assert type(err) is ServiceUnavailableError and err.request_id == "rid" and "bad gateway" in err.message


def test_echoed_keys_are_masked() -> None:
    body = {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid key sk-ant-api03-SECRETSECRET"},
    }
    err = error_from_body(401, body)
    assert "SECRETSECRET" not in str(err) and "sk-***" in err.message


# -- adapter -------------------------------------------------------------------------------------


def endpoint(url: str = "https://api.anthropic.com", **kw: Any) -> EndpointConfig:
    return EndpointConfig(endpoint=url, **kw)


def test_urls() -> None:
    adapter = AnthropicAdapter()
    assert adapter.url(endpoint(), "messages", "m") == "https://api.anthropic.com/v1/messages"
    assert adapter.url(endpoint("https://gw.example/anthropic/v1/"), "messages", "m") == (
        "https://gw.example/anthropic/v1/messages"
    )
    assert adapter.url(endpoint("https://gw.example/x?team=a"), "count_tokens", "m") == (
        "https://gw.example/x/v1/messages/count_tokens?team=a"
    )
    with pytest.raises(Exception, match="no 'chat' operation"):
        adapter.url(endpoint(), "chat", "m")


async def test_auth_headers() -> None:
    adapter = AnthropicAdapter()
    headers = await adapter.auth_headers(endpoint(api_key="sk-ant-k"))
    assert headers == {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-k"}
    settings = AnthropicSettings(beta=["files-api-2025-04-14", "interleaved-thinking-2025-05-14"])
    headers = await adapter.auth_headers(endpoint(api_key="k", settings=settings))
    assert headers["anthropic-beta"] == "files-api-2025-04-14,interleaved-thinking-2025-05-14"
    headers = await adapter.auth_headers(endpoint(token_provider=lambda: "oauth-token"))
    assert headers == {"anthropic-version": "2023-06-01", "Authorization": "Bearer oauth-token"}
    assert "sk-ant-k" not in repr(endpoint(api_key="sk-ant-k"))


def test_request_id_and_errors_in_2xx_bodies() -> None:
    adapter = AnthropicAdapter()
    assert adapter.request_id(CIMultiDict({"request-id": "req_1"})) == "req_1"
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    err = adapter.error_in_body(body, CIMultiDict({"request-id": "req_2"}), "e")
    assert type(err) is ServiceUnavailableError and err.request_id == "req_2"
    assert adapter.error_in_body(message(), CIMultiDict(), "e") is None
