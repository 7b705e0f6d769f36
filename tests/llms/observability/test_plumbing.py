"""The observation plumbing every observer builds on: attempt events from the connector, the
traceparent header, CallInfo's fields, enable()/disable() and the environment switch, and the
cost of all of it when nothing observes (nothing imported)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from observer_support import CANARY, model

from core.llms import create_llm
from core.llms.hookspecs import hookimpl
from core.llms.interfaces.context import RequestContext, valid_trace_parent
from core.llms.interfaces.errors import (
    AllEndpointsFailedError,
    CallCancelledError,
    ConfigurationError,
    InvalidInputError,
    LLMError,
    ServiceUnavailableError,
    StreamInterruptedError,
)
from core.llms.interfaces.observer import CURRENT_CALL, AttemptInfo, CallInfo
from core.llms.interfaces.types import LLMResponse
from core.llms.observability import PLUGIN_NAMES, enable, enable_from_env
from core.llms.plugins import build_plugin_manager, get_plugin_manager
from core.llms.simulator import Fault, Simulator

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Events:
    """An observer plugin that keeps everything it is told."""

    def __init__(self, trace_parent: str | None = None) -> None:
        self.trace_parent = trace_parent
        self.calls: list[CallInfo] = []
        self.attempts: list[AttemptInfo] = []
        self.responses: list[LLMResponse] = []
        self.errors: list[LLMError] = []
        self.current_during_request: list[CallInfo | None] = []
        self.messages: list[Any] = []

    @hookimpl
    def llms_on_request(self, call: CallInfo) -> None:
        self.calls.append(call)
        self.messages.append(call.messages)
        if self.trace_parent is not None:
            call.trace_parent = self.trace_parent

    @hookimpl
    def llms_on_attempt(self, call: CallInfo, attempt: AttemptInfo) -> None:
        self.attempts.append(attempt)
        self.current_during_request.append(CURRENT_CALL.get())

    @hookimpl
    def llms_on_response(self, call: CallInfo, response: LLMResponse) -> None:
        self.responses.append(response)

    @hookimpl
    def llms_on_error(self, call: CallInfo, error: LLMError) -> None:
        self.errors.append(error)


@pytest.fixture
def events() -> Iterator[Events]:
    observer = Events()
    pm = get_plugin_manager()
    pm.register(observer, name="test-events")
    try:
        yield observer
    finally:
        pm.unregister(observer, name="test-events")


async def test_a_call_reports_one_done_attempt_and_its_fields(sim: Simulator, events: Events) -> None:
    async with model(sim, defaults={"temperature": 0.3}) as llm:
        await llm.get_answer("hello", max_tokens=20)
    call = events.calls[0]
    assert (call.provider, call.model, call.operation, call.stream) == (
        "openai",
        "gpt-4.1-mini",
        "chat",
        False,
    )
    assert call.params == {"temperature": 0.3, "max_tokens": 20}
    assert events.messages == ["hello"] and call.attempts == 1
    assert call.messages is None  # let go of when the call ended
    [attempt] = events.attempts
    assert (attempt.action, attempt.attempt, attempt.error, attempt.status) == ("done", 1, None, 200)
    assert attempt.breaker == "closed" and attempt.duration is not None and attempt.duration > 0
    assert attempt.server_address == "127.0.0.1" and attempt.server_port == sim.port
    assert events.current_during_request == [call]  # the connector saw the running call
    assert CURRENT_CALL.get() is None  # and it was reset after the call
    assert len(events.responses) == 1 and not events.errors


async def test_retries_and_failover_are_each_an_attempt(
    sim: Simulator, backup: Simulator, events: Events
) -> None:
    sim.set_default_fault(Fault(status=503))
    llm = model(
        sim, retry={"max_retries": 1, "backoff_initial": 0.001}, backups=[{"endpoint": f"{backup.url}/v1"}]
    )
    async with llm:
        await llm.get_answer("hello")
    actions = [(a.endpoint.endswith(str(sim.port) + "/v1"), a.action) for a in events.attempts]
    assert actions == [(True, "failover"), (False, "done")]
    assert events.attempts[0].status == 503
    assert isinstance(events.attempts[0].error, ServiceUnavailableError)
    assert events.calls[0].attempts == 2


async def test_a_retry_on_the_last_endpoint_reports_its_delay(sim: Simulator, events: Events) -> None:
    sim.enqueue(Fault(status=503))
    async with model(sim, retry={"max_retries": 2, "backoff_initial": 0.001}) as llm:
        await llm.get_answer("hello")
    assert [a.action for a in events.attempts] == ["retry", "done"]
    assert events.attempts[0].delay is not None and events.attempts[0].delay >= 0
    assert [a.attempt for a in events.attempts] == [1, 2]


async def test_giving_up_and_an_open_breaker_are_reported(
    sim: Simulator, backup: Simulator, events: Events
) -> None:
    sim.set_default_fault(Fault(status=503))
    backup.set_default_fault(Fault(status=503))
    llm = model(sim, backups=[{"endpoint": f"{backup.url}/v1"}], failure_threshold=1, cooldown=60)
    async with llm:
        with pytest.raises(AllEndpointsFailedError):
            await llm.get_answer("hello")
        assert [a.action for a in events.attempts] == ["failover", "give_up"]
        assert [a.breaker for a in events.attempts] == ["open", "open"]
        events.attempts.clear()
        with pytest.raises(AllEndpointsFailedError):
            await llm.get_answer("hello")  # both open: skip the one, probe the other
    assert "skipped" in [a.action for a in events.attempts]
    assert len(events.errors) == 2


async def test_a_stream_reports_attempts_first_chunk_and_interruption(sim: Simulator, events: Events) -> None:
    async with model(sim) as llm:
        async for _ in llm.stream_answer("hello"):
            pass
        call = events.calls[0]
        assert call.stream and call.first_chunk is not None and call.first_chunk > call.started
        assert [a.action for a in events.attempts] == ["done"]
        sim.enqueue(Fault(drop="after_first_chunk"))
        with pytest.raises(StreamInterruptedError):
            async for _ in llm.stream_answer("hello again"):
                pass
    assert [a.action for a in events.attempts] == ["done", "done", "interrupted"]
    assert isinstance(events.errors[0], StreamInterruptedError)
    assert CURRENT_CALL.get() is None


async def test_ctx_trace_parent_is_sent_on_every_attempt_without_an_observer(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    async with model(sim, retry={"max_retries": 1, "backoff_initial": 0.001}) as llm:
        await llm.get_answer("hello", ctx=RequestContext(trace_parent=PARENT))
        await llm.get_answer("hello")
    sent = [r.headers.get("traceparent") for r in sim.requests]
    assert sent == [PARENT, PARENT, None]


async def test_an_observers_trace_parent_wins_over_the_callers(sim: Simulator) -> None:
    mine = "00-11111111111111111111111111111111-2222222222222222-01"
    observer = Events(trace_parent=mine)
    pm = get_plugin_manager()
    pm.register(observer, name="test-tracing")
    try:
        async with model(sim) as llm:
            await llm.get_answer("hello", ctx=RequestContext(trace_parent=PARENT))
            async for _ in llm.stream_answer("hello"):
                pass
    finally:
        pm.unregister(observer, name="test-tracing")
    assert [r.headers.get("traceparent") for r in sim.requests] == [mine, mine]


@pytest.mark.parametrize(
    "value",
    [
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nX-Evil: 1",
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  # uppercase
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # zero span id
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # forbidden version
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  # v00 has 4 fields
        "trace-me",
        42,
    ],
)
def test_a_malformed_trace_parent_is_refused_naming_the_field(value: Any) -> None:
    assert not valid_trace_parent(value)
    with pytest.raises(InvalidInputError, match="trace_parent"):
        RequestContext(trace_parent=value)


def test_a_later_trace_context_version_may_carry_more_fields() -> None:
    assert valid_trace_parent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-comes")
    assert RequestContext(trace_parent=PARENT).trace_parent == PARENT


def test_enable_registers_replaces_and_disable_unregisters() -> None:
    from core.llms.observability.recorder import MetricsRecorder

    pm = build_plugin_manager(builtins=(), autoload=False)
    first = enable(metrics=True, pm=pm)
    assert pm.get_plugin(PLUGIN_NAMES["metrics"]) is first.recorder
    mine = MetricsRecorder()
    second = enable(metrics=mine, pm=pm)
    assert pm.get_plugin(PLUGIN_NAMES["metrics"]) is mine and second.recorder is mine
    first.disable()  # no longer registered: leaves the newer one alone
    assert pm.get_plugin(PLUGIN_NAMES["metrics"]) is mine
    second.disable()
    assert pm.get_plugin(PLUGIN_NAMES["metrics"]) is None


def test_enable_refuses_what_is_not_an_observer() -> None:
    with pytest.raises(ConfigurationError, match="metrics="):
        enable(metrics="yes", pm=build_plugin_manager(builtins=(), autoload=False))  # type: ignore[arg-type]


def test_the_environment_switch_names_known_observers_only() -> None:
    pm = build_plugin_manager(builtins=(), autoload=False)
    assert enable_from_env(pm, "") is None
    with pytest.raises(ConfigurationError, match="tracing"):
        enable_from_env(pm, "metrics, tracing")
    handle = enable_from_env(pm, " Metrics ,logs")
    assert handle is not None and handle.recorder is not None and handle.logs is not None
    assert handle.otel is None and handle.prometheus is None
    handle.disable()


_CHECK_IMPORTS = """
import asyncio, sys
from core.llms import create_llm
from core.llms.simulator import Simulator

async def main():
    async with Simulator(api_key="k" * 20) as sim:
        async with create_llm("openai/gpt-4.1-mini", endpoint=sim.url + "/v1", api_key="k" * 20) as llm:
            await llm.get_answer("hi")
            assert (llm._observer is not None) is {observed}
asyncio.run(main())
loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry", "prometheus_client", "structlog",
                                                         "core.llms.observability")))
print(",".join(loaded))
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("", ""),
        (
            "metrics",
            "core.llms.observability,core.llms.observability.recorder,core.llms.observability.summary",
        ),
    ],
)
def test_nothing_is_imported_unless_an_observer_is_switched_on(env: str, expected: str) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "CORE_LLMS_OBSERVABILITY"}
    if env:
        environ["CORE_LLMS_OBSERVABILITY"] = env
    code = _CHECK_IMPORTS.replace("{observed}", "True" if env else "False")
    out = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    assert loaded == expected


async def test_media_calls_are_observed_as_their_operation(sim: Simulator, events: Events) -> None:
    async with create_llm(
        "openai/text-embedding-3-small", endpoint=f"{sim.url}/v1", api_key=CANARY
    ) as embedder:
        answer = await embedder.embed(["one", "two"], dimensions=8)
    [call] = events.calls
    assert (call.operation, call.stream, call.params) == ("embeddings", False, {"dimensions": 8})
    assert events.responses == [answer]
    assert [a.action for a in events.attempts] == ["done"]
    tts = create_llm("openai/gpt-4o-mini-tts", endpoint=f"{sim.url}/v1", api_key=CANARY)
    async with tts as speaker:
        chunks = [chunk async for chunk in speaker.stream_audio("hello there")]
    call = events.calls[1]
    assert (call.operation, call.stream) == ("speech", True)
    assert call.first_chunk is not None and events.responses[1] is chunks[-1]
    sim.set_default_fault(Fault(status=400))
    async with create_llm(
        "openai/text-embedding-3-small", endpoint=f"{sim.url}/v1", api_key=CANARY
    ) as embedder:
        with pytest.raises(LLMError):
            await embedder.embed("three")
    assert events.calls[2].operation == "embeddings" and len(events.errors) == 1
    assert [a.action for a in events.attempts][-1] == "raise"


async def test_a_config_file_switches_observers_on(sim: Simulator) -> None:
    from core.llms import LLMFactory

    config = {
        "models": {"fast": {"model": "openai/gpt-4.1-mini", "endpoint": f"{sim.url}/v1", "api_key": CANARY}},
        "observability": {"metrics": True},
    }
    factory = LLMFactory.from_config(config)
    handle = factory.observability
    assert handle is not None and handle.recorder is not None and handle.otel is None
    try:
        async with factory:
            await factory.get("fast").get_answer("hello")
        assert '"ok"' in json.dumps(handle.recorder.snapshot().to_dict())
    finally:
        handle.disable()
    with pytest.raises(ConfigurationError, match="observability"):
        LLMFactory.from_config({**config, "observability": {"metrics": True, "tracing": True}})
    assert LLMFactory.from_config({**config, "observability": {}}).observability is None


async def test_an_abandoned_stream_and_a_cancelled_call_still_end_for_observers(
    sim: Simulator, events: Events
) -> None:
    async with model(sim) as llm:
        stream = llm.stream_answer("tell me a long story")
        async for _ in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]
        [error] = events.errors
        assert isinstance(error, CallCancelledError) and error.partial_text is not None
        assert (error.provider, error.model) == ("openai", "gpt-4.1-mini")
        sim.set_default_fault(Fault(delay=5))
        task = asyncio.ensure_future(llm.get_answer("slow"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(events.errors) == 2 and isinstance(events.errors[1], CallCancelledError)
    assert not events.responses
    assert CURRENT_CALL.get() is None


async def test_a_bug_that_is_not_an_llm_error_ends_the_call_for_observers_by_its_type(
    sim: Simulator, events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = model(sim)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("secret-looking text that must not be quoted")

    monkeypatch.setattr(llm, "_parse_response", broken)
    async with llm:
        with pytest.raises(ZeroDivisionError):
            await llm.get_answer("hello")
    [error] = events.errors
    assert isinstance(error, CallCancelledError)
    assert error.message == "the call ended with an unexpected ZeroDivisionError"
