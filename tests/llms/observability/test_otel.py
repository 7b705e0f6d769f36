"""The OpenTelemetry observer: GenAI spans (name, kind, attributes, attempt events, status,
parents and the traceparent it sends), GenAI metrics (names, units, buckets, attributes), opt-in
content, the semconv stability switch, and no credential piece in anything exported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from observer_support import model
from opentelemetry.trace import SpanKind, StatusCode
from otel_support import CANARY, Telemetry, exported_strings, fragments, make_telemetry

from core.llms import create_llm
from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import BadRequestError, ConfigurationError, StreamInterruptedError
from core.llms.observability import otel as otel_module
from core.llms.observability import semconv as sc
from core.llms.observability.otel import ATTEMPT_EVENT, OTelObserver
from core.llms.simulator import Fault, Simulator

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def telemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    monkeypatch.delenv(sc.STABILITY_OPT_IN_ENV, raising=False)
    monkeypatch.delenv(sc.CAPTURE_CONTENT_ENV, raising=False)
    made = make_telemetry()
    try:
        yield made
    finally:
        made.handle.disable()


def traceparent_of(span: Any) -> str:
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def attempt_actions(span: Any) -> list[str]:
    return [e.attributes["core_llms.action"] for e in span.events if e.name == ATTEMPT_EVENT]


# --- spans --------------------------------------------------------------------------------------


async def test_a_chat_call_is_one_client_span_with_the_conventions_attributes(
    sim: Simulator, telemetry: Telemetry
) -> None:
    async with model(sim) as llm:
        answer = await llm.get_answer(
            "hello",
            max_tokens=20,
            temperature=0.5,
            top_p=0.9,
            stop="END",
            seed=7,
            frequency_penalty=0.1,
            presence_penalty=0.2,
        )
    span = telemetry.span()
    assert span.name == "chat gpt-4.1-mini" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4.1-mini",
        "gen_ai.request.max_tokens": 20,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.seed": 7,
        "gen_ai.request.frequency_penalty": 0.1,
        "gen_ai.request.presence_penalty": 0.2,
        "gen_ai.response.model": answer.model,
        "gen_ai.response.id": "chatcmpl-sim-1",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": answer.usage.input_tokens,
        "gen_ai.usage.output_tokens": answer.usage.output_tokens,
        "server.address": "127.0.0.1",
        "server.port": sim.port,
    }
    assert attempt_actions(span) == ["done"]  # every attempt is an event, a lone successful one too
    assert sim.requests[0].headers["traceparent"] == traceparent_of(span)
    assert span.parent is None  # no active span, no caller's traceparent: a root


async def test_stop_sequences_as_a_list_and_the_lone_attempt_event(
    sim: Simulator, telemetry: Telemetry
) -> None:
    async with model(sim) as llm:
        await llm.get_answer("hello", stop=["a", "b"])
        telemetry.observer.lone_attempt_events = False  # the saving: no event for a lone success
        await llm.get_answer("hello again")
    assert telemetry.spans()[1].events == ()
    span = telemetry.spans()[0]
    assert span.attributes["gen_ai.request.stop_sequences"] == ("a", "b")
    [event] = span.events
    assert dict(event.attributes or {}) == {
        "core_llms.endpoint": f"http://127.0.0.1:{sim.port}/v1",
        "core_llms.attempt": 1,
        "core_llms.action": "done",
        "core_llms.breaker": "closed",
        "http.response.status_code": 200,
        "core_llms.duration": event.attributes["core_llms.duration"],
    }
    assert event.attributes["core_llms.duration"] > 0


async def test_a_stream_sets_the_stream_flag_and_time_to_first_chunk(
    sim: Simulator, telemetry: Telemetry
) -> None:
    async with model(sim) as llm:
        text = "".join([chunk.text async for chunk in llm.stream_answer("hello")])
    span = telemetry.span()
    attrs = dict(span.attributes or {})
    assert text and attrs["gen_ai.request.stream"] is True
    ttfc = attrs["gen_ai.response.time_to_first_chunk"]
    assert 0 < ttfc < 5
    [point] = telemetry.points("gen_ai.client.operation.time_to_first_chunk")
    assert point.count == 1 and point.sum == pytest.approx(ttfc, abs=1e-6)
    assert sim.requests[0].headers["traceparent"] == traceparent_of(span)


async def test_a_plain_call_has_no_stream_flag_and_no_first_chunk_metric(
    sim: Simulator, telemetry: Telemetry
) -> None:
    async with model(sim) as llm:
        await llm.get_answer("hello")
    assert "gen_ai.request.stream" not in (telemetry.span().attributes or {})
    assert telemetry.points("gen_ai.client.operation.time_to_first_chunk") == []


async def test_an_error_sets_error_type_and_an_error_status(sim: Simulator, telemetry: Telemetry) -> None:
    sim.set_default_fault(Fault(status=400, message="the request was wrong"))
    async with model(sim) as llm:
        with pytest.raises(BadRequestError):
            await llm.get_answer("hello")
    span = telemetry.span()
    assert span.attributes["error.type"] == "BadRequestError"
    assert span.attributes["server.port"] == sim.port
    assert span.status.status_code is StatusCode.ERROR
    assert "the request was wrong" in (span.status.description or "")
    assert attempt_actions(span) == ["raise"]
    assert span.events[0].attributes["http.response.status_code"] == 400
    [point] = telemetry.points("gen_ai.client.operation.duration")
    assert point.attributes["error.type"] == "BadRequestError" and point.count == 1
    assert telemetry.points("gen_ai.client.token.usage") == []


async def test_failover_to_a_backup_is_two_attempt_events(
    sim: Simulator, backup: Simulator, telemetry: Telemetry
) -> None:
    sim.set_default_fault(Fault(status=503))
    async with model(sim, backups=[{"endpoint": f"{backup.url}/v1"}]) as llm:
        await llm.get_answer("hello")
    span = telemetry.span()
    assert attempt_actions(span) == ["failover", "done"]
    failed, done = span.events
    assert failed.attributes["error.type"] == "ServiceUnavailableError"
    assert failed.attributes["http.response.status_code"] == 503
    assert failed.attributes["core_llms.endpoint"] == f"http://127.0.0.1:{sim.port}/v1"
    assert done.attributes["core_llms.endpoint"] == f"http://127.0.0.1:{backup.port}/v1"
    assert span.attributes["server.port"] == backup.port  # the endpoint that answered
    assert "error.type" not in span.attributes and span.status.status_code is StatusCode.UNSET
    tp = traceparent_of(span)
    assert [r.headers["traceparent"] for r in sim.requests + backup.requests] == [tp, tp]


async def test_a_retry_is_an_event_with_its_delay(sim: Simulator, telemetry: Telemetry) -> None:
    sim.enqueue(Fault(status=503))
    async with model(sim, retry={"max_retries": 2, "backoff_initial": 0.001}) as llm:
        await llm.get_answer("hello")
    span = telemetry.span()
    assert attempt_actions(span) == ["retry", "done"]
    retry, done = span.events
    assert retry.attributes["core_llms.delay"] >= 0 and "core_llms.delay" not in done.attributes
    assert [retry.attributes["core_llms.attempt"], done.attributes["core_llms.attempt"]] == [1, 2]
    [point] = telemetry.points("gen_ai.client.operation.duration")
    assert "error.type" not in point.attributes


async def test_an_interrupted_stream_ends_its_span_as_an_error(sim: Simulator, telemetry: Telemetry) -> None:
    sim.enqueue(Fault(drop="after_first_chunk"))
    async with model(sim) as llm:
        with pytest.raises(StreamInterruptedError):
            async for _ in llm.stream_answer("hello"):
                pass
    span = telemetry.span()
    assert span.attributes["error.type"] == "StreamInterruptedError"
    assert span.status.status_code is StatusCode.ERROR
    assert attempt_actions(span) == ["done", "interrupted"]
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    [point] = telemetry.points("gen_ai.client.operation.duration")
    assert point.attributes["error.type"] == "StreamInterruptedError"
    assert len(telemetry.points("gen_ai.client.operation.time_to_first_chunk")) == 1


async def test_the_callers_traceparent_is_the_remote_parent_without_an_active_span(
    sim: Simulator, telemetry: Telemetry
) -> None:
    async with model(sim) as llm:
        await llm.get_answer("hello", ctx=RequestContext(trace_parent=PARENT))
    span = telemetry.span()
    parent = span.parent
    assert parent is not None and parent.is_remote
    assert (parent.trace_id, parent.span_id) == (0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331)
    assert span.context.trace_id == parent.trace_id
    sent = sim.requests[0].headers["traceparent"]
    assert sent == traceparent_of(span) and sent != PARENT


async def test_an_active_span_is_the_parent_even_when_the_caller_gives_a_traceparent(
    sim: Simulator, telemetry: Telemetry
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("test")
    async with model(sim) as llm:
        with tracer.start_as_current_span("outer") as outer:
            await llm.get_answer("hello", ctx=RequestContext(trace_parent=PARENT))
    inner = next(s for s in telemetry.spans() if s.name.startswith("chat"))
    assert inner.parent is not None and not inner.parent.is_remote
    assert inner.parent.span_id == outer.get_span_context().span_id
    assert inner.context.trace_id == outer.get_span_context().trace_id


async def test_an_embeddings_call_is_its_own_operation(sim: Simulator, telemetry: Telemetry) -> None:
    async with create_llm("openai/text-embedding-3-small", endpoint=f"{sim.url}/v1", api_key=CANARY) as llm:
        answer = await llm.embed(["one", "two"], dimensions=8)
    span = telemetry.span()
    assert span.name == "embeddings text-embedding-3-small"
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.attributes["gen_ai.usage.input_tokens"] == answer.usage.input_tokens
    assert "gen_ai.response.finish_reasons" not in span.attributes


# --- metrics ------------------------------------------------------------------------------------


async def test_metrics_have_the_conventions_names_units_buckets_and_attributes(
    sim: Simulator, telemetry: Telemetry
) -> None:
    async with model(sim) as llm:
        answer = await llm.get_answer("hello")
        async for _ in llm.stream_answer("hello"):
            pass
    metrics = telemetry.metrics()
    assert {name: m.unit for name, m in metrics.items()} == {
        "gen_ai.client.operation.duration": "s",
        "gen_ai.client.token.usage": "{token}",
        "gen_ai.client.operation.time_to_first_chunk": "s",
    }
    duration_bounds = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
    token_bounds = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
    [duration] = telemetry.points("gen_ai.client.operation.duration")  # the same labels for both calls
    assert tuple(duration.explicit_bounds) == duration_bounds and duration.count == 2
    [ttfc] = telemetry.points("gen_ai.client.operation.time_to_first_chunk")
    assert tuple(ttfc.explicit_bounds) == duration_bounds and ttfc.count == 1
    common = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4.1-mini",
        "gen_ai.response.model": answer.model,
        "server.address": "127.0.0.1",
        "server.port": sim.port,
    }
    assert dict(duration.attributes) == common
    tokens = {p.attributes["gen_ai.token.type"]: p for p in telemetry.points("gen_ai.client.token.usage")}
    assert set(tokens) == {"input", "output"}
    assert dict(tokens["input"].attributes) == {**common, "gen_ai.token.type": "input"}
    assert tuple(tokens["input"].explicit_bounds) == token_bounds
    assert tokens["input"].count == 2 and tokens["input"].sum >= answer.usage.input_tokens
    assert tokens["output"].count == 2


def test_semconv_buckets_are_the_specs() -> None:
    assert sc.TOKEN_BUCKETS == (
        1,
        4,
        16,
        64,
        256,
        1024,
        4096,
        16384,
        65536,
        262144,
        1048576,
        4194304,
        16777216,
        67108864,
    )
    assert sc.DURATION_BUCKETS == sc.TTFC_BUCKETS
    assert (
        sc.DURATION_BUCKETS[0] == 0.01 and sc.DURATION_BUCKETS[-1] == 81.92 and len(sc.DURATION_BUCKETS) == 14
    )


# --- content, secrets ---------------------------------------------------------------------------


async def test_content_is_recorded_only_when_opted_in(sim: Simulator, telemetry: Telemetry) -> None:
    async with model(sim) as llm:
        await llm.get_answer([("system", "be brief"), ("user", "hello")])
    attrs = telemetry.span().attributes or {}
    assert "gen_ai.input.messages" not in attrs and "gen_ai.output.messages" not in attrs
    telemetry.exporter.clear()
    telemetry.observer.capture_content = True
    async with model(sim) as llm:
        answer = await llm.get_answer([("system", "be brief"), ("user", "hello")])
    attrs = telemetry.span().attributes or {}
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "be brief"}]},
        {"role": "user", "parts": [{"type": "text", "content": "hello"}]},
    ]
    assert json.loads(attrs["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": answer.text}], "finish_reason": "stop"}
    ]


async def test_the_environment_switches_content_on(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sc.CAPTURE_CONTENT_ENV, "True")
    monkeypatch.delenv(sc.STABILITY_OPT_IN_ENV, raising=False)
    telemetry = make_telemetry(capture_content=None)
    try:
        assert telemetry.observer.capture_content is True
        async with model(sim) as llm:
            await llm.get_answer("hello")
        assert "gen_ai.input.messages" in (telemetry.span().attributes or {})
    finally:
        telemetry.handle.disable()


async def test_no_piece_of_the_key_is_exported(sim: Simulator, telemetry: Telemetry) -> None:
    telemetry.observer.capture_content = True
    telemetry.observer.lone_attempt_events = True
    leaky = f"my key is {CANARY} and a piece {CANARY[3:15]}"
    async with model(sim) as llm:
        await llm.get_answer(leaky, stop=[CANARY])
        async for _ in llm.stream_answer(leaky):
            pass
        sim.set_default_fault(Fault(status=400, message=f"bad request: {CANARY} echoed"))
        with pytest.raises(BadRequestError):
            await llm.get_answer(leaky)
    assert len(telemetry.spans()) == 3
    exported = list(exported_strings(telemetry))
    assert any("***" in s for s in exported)  # it was there, masked
    leaks = [(piece, s) for s in exported for piece in fragments(CANARY) if piece in s]
    assert leaks == []


# --- conventions' version, configuration ---------------------------------------------------------


async def test_the_stability_opt_in_drops_the_deprecated_system_attribute(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(sc.STABILITY_OPT_IN_ENV, "http, gen_ai_latest_experimental")
    telemetry = make_telemetry()
    try:
        assert telemetry.observer.latest_only is True
        async with model(sim) as llm:
            await llm.get_answer("hello")
        attrs = telemetry.span().attributes or {}
        assert attrs["gen_ai.provider.name"] == "openai" and "gen_ai.system" not in attrs
    finally:
        telemetry.handle.disable()
    monkeypatch.setenv(sc.STABILITY_OPT_IN_ENV, "http")
    assert OTelObserver().latest_only is False  # (global no-op providers: nothing recorded)


def test_semconv_environment_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sc.latest_only("gen_ai_latest_experimental")
    assert sc.latest_only("database, GEN_AI_LATEST_EXPERIMENTAL ")
    assert not sc.latest_only("") and not sc.latest_only("gen_ai") and not sc.latest_only("http/dup")
    monkeypatch.setenv(sc.STABILITY_OPT_IN_ENV, "gen_ai_latest_experimental")
    assert sc.latest_only()
    for value, expected in (("true", True), ("TRUE", True), ("1", True), ("false", False), ("", False)):
        assert sc.capture_content_from_env(value) is expected


@pytest.mark.parametrize(
    ("provider", "expected", "legacy"),
    [
        ("openai", "openai", "openai"),
        ("azure", "azure.ai.openai", "azure.ai.openai"),
        ("bedrock", "aws.bedrock", "aws.bedrock"),
        ("vertex", "gcp.vertex_ai", "gcp.vertex_ai"),
        ("gemini", "gcp.gemini", "gcp.gemini"),
        ("anthropic", "anthropic", "anthropic"),
        ("cohere", "cohere", "cohere"),
        ("deepseek", "deepseek", "deepseek"),
        ("groq", "groq", "groq"),
        ("mistral", "mistral_ai", "mistral_ai"),
        ("perplexity", "perplexity", "perplexity"),
        ("xai", "x_ai", "xai"),
        ("together", "together", "together"),
        ("ollama", "ollama", "ollama"),
        ("vllm", "vllm", "vllm"),
    ],
)
def test_provider_names(provider: str, expected: str, legacy: str) -> None:
    assert sc.provider_name(provider) == expected
    assert sc.legacy_system_name(expected) == legacy


def test_without_the_api_the_constructor_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(otel_module, "_API_MISSING", ImportError("No module named 'opentelemetry'"))
    with pytest.raises(ConfigurationError) as info:
        OTelObserver()
    assert info.value.hint == "pip install 'core-llms[otel]'"


def test_an_observer_ignores_calls_it_never_saw() -> None:
    from core.llms.interfaces.observer import AttemptInfo, CallInfo

    observer = OTelObserver()
    call = CallInfo("openai", "m", None, False, 0.0)
    observer.llms_on_attempt(call, AttemptInfo("http://x/v1", 1, "done"))
    observer.llms_on_response(call, object())
    observer.llms_on_error(call, BadRequestError("no"))
    assert call.data == {}


async def test_the_server_is_on_the_span_from_its_start(
    sim: Simulator, backup: Simulator, telemetry: Telemetry
) -> None:
    from opentelemetry.sdk.trace import SpanProcessor

    at_start: list[dict[str, Any]] = []

    class Starts(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            at_start.append(dict(span.attributes or {}))

    telemetry.tracer_provider.add_span_processor(Starts())
    sim.set_default_fault(Fault(status=503))
    async with model(sim, backups=[{"endpoint": f"{backup.url}/v1"}]) as llm:
        await llm.get_answer("hello")
    [start] = at_start
    assert (start["server.address"], start["server.port"]) == ("127.0.0.1", sim.port)  # the primary
    assert telemetry.span().attributes["server.port"] == backup.port  # the one that answered
