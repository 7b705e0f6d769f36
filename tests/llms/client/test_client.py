"""LLMClient through the simulator: routing of bare names, mixed message forms, events, labels,
timeouts, idempotency keys, the retry hook, closing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.llms import (
    BadRequestError,
    ConfigurationError,
    InvalidInputError,
    LLMClient,
    Message,
    RequestContext,
    ServiceUnavailableError,
    Timeouts,
    UnknownModelError,
)
from core.llms.client import ChunkEvent, LogEvent, ToolCallEvent, UsageEvent
from core.llms.simulator import Fault, Simulator

KEY = "sim-key-not-secret"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as server:
        yield server


def openai_client(sim: Simulator, **options: Any) -> LLMClient:
    providers = {"openai": {"endpoint": f"{sim.url}/v1", "api_key": KEY}, **options.pop("providers", {})}
    options.setdefault("default_model", "gpt-4.1-mini")
    return LLMClient(providers=providers, environ={}, **options)


# -- routing ------------------------------------------------------------------------------------


def test_bare_names_route_by_catalogue_and_prefix() -> None:
    client = LLMClient(environ={"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o", "XAI_API_KEY": "x"})
    assert set(client.available_providers) == {"anthropic", "openai", "xai"}
    assert client.resolve("gpt-4.1-mini") == "openai/gpt-4.1-mini"  # also an Azure row: OpenAI is configured
    assert client.resolve("o3-mini") == "openai/o3-mini"
    assert client.resolve("claude-sonnet-4") == "anthropic/claude-sonnet-4"  # also on Bedrock and Vertex
    assert client.resolve("claude-opus-9-unreleased") == "anthropic/claude-opus-9-unreleased"  # prefix
    assert client.resolve("grok-9") == "xai/grok-9"
    assert client.resolve("gemini-2.5-flash") == "gemini/gemini-2.5-flash"  # not configured, its maker
    assert client.resolve("openai/ft:gpt-4o-mini:acme::abc") == "openai/ft:gpt-4o-mini:acme::abc"


def test_preference_order_and_configured_providers_decide_between_candidates() -> None:
    env = {"AWS_ACCESS_KEY_ID": "a", "AWS_REGION": "us-east-1", "ANTHROPIC_API_KEY": "k"}
    assert LLMClient(environ=env).resolve("claude-sonnet-4") == "anthropic/claude-sonnet-4"
    preferred = LLMClient(environ=env, prefer=("bedrock",))
    assert preferred.resolve("claude-sonnet-4") == "bedrock/claude-sonnet-4"
    only_bedrock = LLMClient(environ={"AWS_PROFILE": "dev", "AWS_REGION": "eu-west-1"})
    assert only_bedrock.available_providers == ("bedrock",)
    assert only_bedrock.resolve("claude-sonnet-4") == "bedrock/claude-sonnet-4"


def test_per_call_provider_and_routes() -> None:
    client = LLMClient(environ={"OPENAI_API_KEY": "o"}, routes={"fast": "groq/llama-3.1-8b-instant"})
    assert client.resolve("gpt-4.1-mini", provider="azure") == "azure/gpt-4.1-mini"
    assert client.resolve("azure/my-deployment", provider="azure") == "azure/my-deployment"
    assert client.resolve("fast") == "groq/llama-3.1-8b-instant"


def test_a_single_open_provider_takes_unknown_names() -> None:
    client = LLMClient(environ={"LLAMACPP_BASE_URL": "http://127.0.0.1:8080/v1"})
    assert client.available_providers == ("llamacpp",)
    assert client.resolve("my-local-gguf") == "llamacpp/my-local-gguf"


def test_unknown_names_and_settings_are_typed_errors() -> None:
    client = LLMClient(environ={})
    with pytest.raises(UnknownModelError, match="no provider is known for model 'qwerty'"):
        client.resolve("qwerty")
    with pytest.raises(ConfigurationError, match="no model given"):
        client.resolve()
    with pytest.raises(UnknownModelError, match="unknown provider"):
        client.resolve("gpt-4o", provider="opnai")
    with pytest.raises(ConfigurationError, match=r"unknown provider 'opnai'.*did you mean openai"):
        LLMClient(prefer=("opnai",), environ={})
    with pytest.raises(ConfigurationError, match="providers must be a mapping"):
        LLMClient(providers=[("openai", {})], environ={})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="retry_if must be a function"):
        LLMClient(retry_if="yes", environ={})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="label 'tenant' must be a string"):
        client.bind(tenant=3)  # type: ignore[arg-type]


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "g")
    client = LLMClient.from_env(default_model="gemini-2.5-flash")
    assert "gemini" in client.available_providers
    assert "openai" not in client.available_providers
    assert client.resolve() == "gemini/gemini-2.5-flash"


# -- calls --------------------------------------------------------------------------------------


async def test_chat_and_ask_with_mixed_message_forms(sim: Simulator) -> None:
    async with openai_client(sim) as client:
        assert await client.ask("hello") == "Simulated answer to: hello"
        assert await client.ask("short", system="Be brief.") == "Simulated answer to: short"
        sent = sim.requests[-1].json["messages"]
        assert sent == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "short"}]
        messages = [
            ("system", "You are terse."),
            {"role": "user", "content": "first"},
            Message.user("second"),
            ("assistant", "ok"),
            "third",
        ]
        response = await client.chat(messages)
        assert response.text == "Simulated answer to: third"
        roles = [m["role"] for m in sim.requests[-1].json["messages"]]
        assert roles == ["system", "user", "user", "assistant", "user"]


async def test_chat_stream_events(sim: Simulator) -> None:
    async with openai_client(sim) as client:
        events = [e async for e in client.chat_stream("tell me a story")]
        chunks = [e for e in events if isinstance(e, ChunkEvent)]
        assert "".join(e.delta for e in chunks) == "Simulated answer to: tell me a story"
        usage = [e for e in events if isinstance(e, UsageEvent)]
        assert len(usage) == 1 and events[-1] is usage[0]
        assert usage[0].usage is not None and usage[0].usage.output_tokens > 0
        assert usage[0].cost is not None and usage[0].finish_reason == "stop"
        assert usage[0].response.text == "Simulated answer to: tell me a story"
        assert all(e.timestamp > 1e9 for e in events)
        assert {e.type for e in events} == {"chunk", "usage"}


async def test_chat_stream_tool_calls_arrive_whole(sim: Simulator) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    async with openai_client(sim) as client:
        events = [e async for e in client.chat_stream("what is the weather? use get_weather", tools=[tool])]
        calls = [e for e in events if isinstance(e, ToolCallEvent)]
        assert len(calls) == 1
        assert calls[0].tool_call.function.name == "get_weather"
        assert '"city"' in calls[0].tool_call.function.arguments
        assert events[-1].type == "usage" and events[-1].finish_reason == "tool_calls"  # type: ignore[union-attr]


async def test_chat_stream_surfaces_library_logs_as_events(sim: Simulator) -> None:
    logger = logging.getLogger("core.llms")
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        sim.enqueue(Fault(status=503))
        client = openai_client(sim, retry={"max_retries": 1, "backoff_initial": 0})
        events = [e async for e in client.chat_stream("hi")]
        logs = [e for e in events if isinstance(e, LogEvent)]
        assert logs, "the retry after the 503 should be reported as a log event"
        assert any("ServiceUnavailableError" in e.message or "503" in e.message for e in logs)
        assert events[-1].type == "usage"
        await client.aclose()
    finally:
        logger.setLevel(old)


async def test_stream_closed_early_releases_the_connection(sim: Simulator) -> None:
    async with openai_client(sim) as client:
        stream = client.chat_stream("one two three four five six seven")
        async for event in stream:
            if event.type == "chunk":
                break
        await stream.aclose()  # type: ignore[attr-defined]
        assert await client.ask("again") == "Simulated answer to: again"


async def test_bound_labels_reach_the_context(sim: Simulator) -> None:
    seen: list[RequestContext | None] = []

    class Spy:
        async def get_answer(self, messages: Any, ctx: RequestContext | None = None, **params: Any) -> Any:
            seen.append(ctx)
            return await real.get_answer(messages, ctx, **params)

    async with openai_client(sim) as client:
        real = client.model()
        client._shared.by_name[(None, None)] = Spy()  # type: ignore[assignment]
        bound = client.bind(tenant="acme", request_id="req-1", run_id="run-7")
        await bound.chat("hi", idempotency_key="idem-1")
        ctx = seen[-1]
        assert ctx is not None
        assert (ctx.tenant, ctx.request_id, ctx.labels, ctx.idempotency_key) == (
            "acme",
            "req-1",
            {"run_id": "run-7"},
            "idem-1",
        )
        assert sim.requests[-1].headers.get("idempotency-key") == "idem-1"
        # a caller's context wins field by field; labels merge
        await bound.bind(stage="2").chat("hi", ctx=RequestContext(tenant="other", labels={"x": "y"}))
        ctx = seen[-1]
        assert ctx is not None
        assert ctx.tenant == "other" and ctx.labels == {"run_id": "run-7", "stage": "2", "x": "y"}
        await client.chat("no labels")
        assert seen[-1] is None  # nothing to carry: no context is made


async def test_timeouts_per_call_and_default(sim: Simulator) -> None:
    async with openai_client(sim, timeout=Timeouts(connect=2, read=5, total=10)) as client:
        assert await client.ask("hi", timeout=3) == "Simulated answer to: hi"
        sim.enqueue(Fault(delay=1.0))
        from core.llms import RequestTimeoutError

        with pytest.raises(RequestTimeoutError):
            await client.ask("slow", timeout=0.2)
        with pytest.raises(InvalidInputError, match="timeout must be a positive number"):
            await client.ask("x", timeout=-1)


async def test_retry_if_hook_is_applied(sim: Simulator) -> None:
    calls: list[tuple[str, int]] = []

    def retry_if(error: Any, attempt: int, ctx: Any) -> bool | None:
        calls.append((type(error).__name__, attempt))
        return isinstance(error, BadRequestError)

    client = openai_client(sim, retry={"max_retries": 2, "backoff_initial": 0}, retry_if=retry_if)
    sim.enqueue(Fault(status=400))
    assert await client.ask("hi") == "Simulated answer to: hi"  # a 400 retried: the hook said so
    sim.enqueue(Fault(status=503))
    with pytest.raises(ServiceUnavailableError):
        await client.ask("hi")  # the hook said no: no retry
    assert calls == [("BadRequestError", 1), ("ServiceUnavailableError", 1)]
    await client.aclose()


async def test_models_are_made_once_and_closed(sim: Simulator) -> None:
    client = openai_client(sim)
    first = client.model("gpt-4.1-mini")
    assert client.model("gpt-4.1-mini") is first
    assert client.model("openai/gpt-4.1-mini") is first
    other = client.model("gpt-4.1-mini", api_key="another-key")
    assert other is not first
    assert client.model("gpt-4.1-mini", api_key="another-key") is other
    await client.ask("hi")
    await client.aclose()
    assert first.closed and other.closed
    with pytest.raises(ConfigurationError, match="closed"):
        await client.ask("after close")
    await client.aclose()  # idempotent


def test_repr_shows_no_secret() -> None:
    client = LLMClient(providers={"openai": {"api_key": "zq8Rt5Vw2Lp9Xc4Hn7"}}, environ={})
    assert "zq8Rt5Vw" not in repr(client)
