"""Structured call logs through the simulator: one record per call with exact fields, WARNING for
a failure, DEBUG records per attempt (retry, failover), an interrupted stream, the context's
labels, no fragment of a credential anywhere, structlog loggers, and no work when disabled."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from observer_support import CANARY, enabled, model
from structlog.testing import capture_logs

from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import (
    AuthenticationError,
    ConfigurationError,
    ServiceUnavailableError,
    StreamInterruptedError,
)
from core.llms.interfaces.observer import CallInfo
from core.llms.interfaces.types import LLMResponse, Usage
from core.llms.observability import Observability
from core.llms.observability import logs as logs_module
from core.llms.observability.logs import ATTEMPT_FIELDS, CALL_FIELDS, DEFAULT_LOGGER, CallLogObserver
from core.llms.simulator import Fault, Simulator

LOGGER = DEFAULT_LOGGER


@pytest.fixture
def handle() -> Iterator[Observability]:
    with enabled(logs=CallLogObserver()) as observed:
        yield observed


def endpoint_of(sim: Simulator) -> str:
    return f"http://127.0.0.1:{sim.port}/v1"


def records(caplog: pytest.LogCaptureFixture, event: str | None = None) -> list[logging.LogRecord]:
    out = [r for r in caplog.records if r.name == LOGGER]
    return [r for r in out if getattr(r, "event", None) == event] if event else out


def fields_of(record: logging.LogRecord, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


def assert_no_fragment(text: str, secret: str = CANARY) -> None:
    for start in range(len(secret) - 7):
        fragment = secret[start : start + 8]
        assert fragment not in text, f"fragment {fragment!r} of the key leaked"


async def test_a_call_writes_one_info_record_with_exact_fields(
    handle: Observability, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    ctx = RequestContext(request_id="req-42")
    async with model(sim) as llm:
        answer = await llm.get_answer("hello", ctx=ctx)
    [record] = records(caplog)
    assert record.levelno == logging.INFO
    assert answer.usage is not None
    expected = {
        "event": "llm.call",
        "provider": "openai",
        "model": "gpt-4.1-mini",
        "operation": "chat",
        "endpoint": endpoint_of(sim),
        "outcome": "ok",
        "attempts": 1,
        "input_tokens": answer.usage.input_tokens,
        "output_tokens": answer.usage.output_tokens,
        "cost": answer.cost,
        "request_id": "req-42",
        "provider_request_id": answer.request_id,
        "finish_reason": "stop",
        "stream": False,
        "labels": {},
        "tenant": None,
        "user": None,
        "error_type": None,
        "error_message": None,
        "status": None,
    }
    got = fields_of(record, CALL_FIELDS)
    latency, ttfb = got.pop("latency"), got.pop("ttfb")
    assert got == expected
    assert answer.request_id and answer.cost is not None and answer.cost > 0
    assert isinstance(latency, float) and 0 < latency < 5
    assert ttfb is None or 0 <= ttfb <= latency
    assert re.fullmatch(r"chat openai/gpt-4\.1-mini ok \d+\.\d{3}s 1 attempt", record.getMessage())
    assert "hello" not in str(record.__dict__)  # no content


async def test_a_failure_is_a_warning_with_its_error(
    handle: Observability, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    sim.set_default_fault(Fault(status=503, message="the upstream is down"))
    async with model(sim) as llm:
        with pytest.raises(ServiceUnavailableError):
            await llm.get_answer("hello")
    [record] = records(caplog)
    assert record.levelno == logging.WARNING
    got = fields_of(record, CALL_FIELDS)
    assert (got["outcome"], got["error_type"], got["status"], got["attempts"]) == (
        "error",
        "ServiceUnavailableError",
        503,
        1,
    )
    assert got["endpoint"] == endpoint_of(sim)
    assert "the upstream is down" in got["error_message"]
    assert got["input_tokens"] is None and got["cost"] is None
    assert re.fullmatch(
        r"chat openai/gpt-4\.1-mini error ServiceUnavailableError \d+\.\d{3}s 1 attempt", record.getMessage()
    )


async def test_attempts_are_debug_records_for_retry_and_failover(
    handle: Observability, sim: Simulator, backup: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    retry = {"max_retries": 1, "backoff_initial": 0.001}
    async with model(sim, retry=retry, backups=[{"endpoint": f"{backup.url}/v1"}]) as llm:
        sim.enqueue(Fault(status=429))
        await llm.get_answer("retried")
        sim.set_default_fault(Fault(status=503))
        await llm.get_answer("failed over")
    attempts = records(caplog, "llm.attempt")
    assert all(r.levelno == logging.DEBUG for r in attempts)
    seen = [(r.endpoint, r.attempt, r.action, r.error_type, r.status) for r in attempts]  # type: ignore[attr-defined]
    primary, secondary = endpoint_of(sim), endpoint_of(backup)
    assert seen == [
        (primary, 1, "retry", "RateLimitError", 429),
        (primary, 2, "done", None, 200),
        (primary, 1, "failover", "ServiceUnavailableError", 503),
        (secondary, 1, "done", None, 200),
    ]
    retry_record = attempts[0]
    assert retry_record.delay is not None and retry_record.delay >= 0  # type: ignore[attr-defined]
    assert retry_record.duration > 0 and retry_record.breaker == "closed"  # type: ignore[attr-defined]
    assert attempts[1].delay is None  # type: ignore[attr-defined]
    assert "-> retry" in retry_record.getMessage() and "RateLimitError 429" in retry_record.getMessage()
    assert set(ATTEMPT_FIELDS) <= set(retry_record.__dict__)
    calls = records(caplog, "llm.call")
    assert [(r.attempts, r.endpoint, r.outcome) for r in calls] == [  # type: ignore[attr-defined]
        (2, primary, "ok"),
        (2, secondary, "ok"),
    ]
    assert calls[0].getMessage().endswith(" 2 attempts")


async def test_attempt_records_cost_nothing_at_info(
    handle: Observability, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with model(sim) as llm:
        await llm.get_answer("hello")
    assert [r.event for r in records(caplog)] == ["llm.call"]  # type: ignore[attr-defined]


async def test_an_interrupted_stream_is_a_warning(
    handle: Observability, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    sim.enqueue(Fault(drop="after_first_chunk"))
    async with model(sim) as llm:
        with pytest.raises(StreamInterruptedError):
            async for _ in llm.stream_answer("tell me a story"):
                pass
    [call] = records(caplog, "llm.call")
    assert call.levelno == logging.WARNING
    got = fields_of(call, CALL_FIELDS)
    assert (got["outcome"], got["error_type"], got["stream"]) == ("error", "StreamInterruptedError", True)
    assert got["ttfb"] is not None and 0 <= got["ttfb"] <= got["latency"]
    assert call.getMessage().startswith("chat stream openai/gpt-4.1-mini error StreamInterruptedError ")
    # the stream's headers arrived ("done"), then it broke after data ("interrupted")
    actions = [(r.action, r.error_type) for r in records(caplog, "llm.attempt")]  # type: ignore[attr-defined]
    assert actions == [("done", None), ("interrupted", "APIConnectionError")]
    assert "story" not in str(call.__dict__)


async def test_a_good_stream_logs_its_time_to_first_chunk(
    handle: Observability, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with model(sim) as llm:
        chunks = [chunk async for chunk in llm.stream_answer("hello")]
    assert chunks
    [call] = records(caplog)
    assert (call.outcome, call.stream, call.finish_reason) == ("ok", True, "stop")  # type: ignore[attr-defined]
    assert call.ttfb is not None and 0 <= call.ttfb <= call.latency  # type: ignore[attr-defined]


async def test_the_context_labels_tenant_and_user_appear(
    handle: Observability, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    ctx = RequestContext(
        request_id="r-1", tenant="acme", user="u-7", labels={"team": "search", "env": "prod"}
    )
    async with model(sim) as llm:
        await llm.get_answer("hello", ctx=ctx)
    [record] = records(caplog)
    got = fields_of(record, ("request_id", "tenant", "user", "labels"))
    assert got == {
        "request_id": "r-1",
        "tenant": "acme",
        "user": "u-7",
        "labels": {"team": "search", "env": "prod"},
    }


async def test_no_fragment_of_the_key_reaches_a_record(
    handle: Observability, sim: Simulator, backup: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    ctx = RequestContext(
        request_id=f"id-{CANARY}", tenant=CANARY, user=f"{CANARY[:12]}", labels={"key": f"x-{CANARY}-y"}
    )
    async with model(sim, backups=[{"endpoint": f"{backup.url}/v1"}]) as llm:
        await llm.get_answer("hello", ctx=ctx)
        sim.enqueue(Fault(status=401, message=f"Incorrect API key provided: {CANARY}"))
        with pytest.raises(AuthenticationError):
            await llm.get_answer("hello", ctx=ctx)
        sim.enqueue(Fault(status=503, message=f"upstream rejected {CANARY[3:20]} today"))
        await llm.get_answer("hello", ctx=ctx)  # fails over: the attempt record carries the error type
    mine = records(caplog)
    assert [r.event for r in mine] == [  # type: ignore[attr-defined]
        "llm.attempt",
        "llm.call",
        "llm.attempt",
        "llm.call",
        "llm.attempt",
        "llm.attempt",
        "llm.call",
    ]
    failed = mine[3]
    assert failed.error_type == "AuthenticationError" and failed.error_message  # type: ignore[attr-defined]
    assert "Incorrect API key provided" in failed.error_message  # type: ignore[attr-defined]
    for record in mine:
        assert_no_fragment(record.getMessage() + str(record.__dict__))


def test_no_field_collides_with_a_log_record_attribute() -> None:
    reserved = set(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None).__dict__)
    reserved |= {"message", "asctime"}
    assert not (set(CALL_FIELDS) | set(ATTEMPT_FIELDS)) & reserved


async def test_a_structlog_logger_receives_the_fields_as_keys(sim: Simulator) -> None:
    logger = structlog.get_logger()
    with enabled(logs=CallLogObserver(logger=logger, attempt_level=logging.INFO)), capture_logs() as captured:
        async with model(sim) as llm:
            answer = await llm.get_answer("hello", ctx=RequestContext(request_id="s-1", tenant="t"))
    attempt, call = captured
    assert (
        attempt["event"] == "llm.attempt" and attempt["action"] == "done" and attempt["log_level"] == "info"
    )
    assert call["event"] == "llm.call" and call["log_level"] == "info"
    assert set(call) == set(CALL_FIELDS) | {"log_level"}
    assert (call["outcome"], call["request_id"], call["tenant"]) == ("ok", "s-1", "t")
    assert answer.usage is not None and call["input_tokens"] == answer.usage.input_tokens


async def test_a_structlog_failure_is_a_warning(sim: Simulator) -> None:
    sim.set_default_fault(Fault(status=503))
    with enabled(logs=CallLogObserver(logger=structlog.get_logger())), capture_logs() as captured:
        async with model(sim) as llm:
            with pytest.raises(ServiceUnavailableError):
                await llm.get_answer("hello")
    attempt, call = captured  # (capture_logs keeps every level, DEBUG included)
    assert (attempt["event"], attempt["log_level"], attempt["action"]) == ("llm.attempt", "debug", "give_up")
    assert (call["log_level"], call["error_type"], call["status"]) == (
        "warning",
        "ServiceUnavailableError",
        503,
    )


def fake_call() -> CallInfo:
    return CallInfo("openai", "gpt-4.1-mini", None, False, 0.0)


def fake_answer() -> LLMResponse:
    return LLMResponse(text="hi", model="gpt-4.1-mini", provider="openai", usage=Usage(3, 4))


def test_nothing_is_computed_when_the_logger_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("summarize should not run")

    monkeypatch.setattr(logs_module, "summarize", boom)
    quiet = logging.getLogger("tests.llms.quiet")
    quiet.setLevel(logging.CRITICAL)
    observer = CallLogObserver(logger=quiet)
    observer.llms_on_response(fake_call(), fake_answer())
    observer.llms_on_error(fake_call(), ServiceUnavailableError("down"))


def test_a_logger_adapter_keeps_its_extra_and_the_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tests.llms.adapted")
    adapter = logging.LoggerAdapter(logging.getLogger("tests.llms.adapted"), {"service": "billing"})
    CallLogObserver(logger=adapter).llms_on_response(fake_call(), fake_answer())
    [record] = caplog.records
    assert (record.service, record.event, record.input_tokens) == ("billing", "llm.call", 3)  # type: ignore[attr-defined]


def test_a_higher_level_also_raises_the_failure_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tests.llms.high")
    observer = CallLogObserver(logger=logging.getLogger("tests.llms.high"), level=logging.ERROR)
    observer.llms_on_error(fake_call(), ServiceUnavailableError("down"))
    observer.llms_on_response(fake_call(), fake_answer())
    assert [r.levelno for r in caplog.records] == [logging.ERROR, logging.ERROR]


@pytest.mark.parametrize("kwargs", [{"level": "INFO"}, {"attempt_level": True}, {"logger": object()}])
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="CallLogObserver"):
        CallLogObserver(**kwargs)


def test_a_failing_logger_never_breaks_the_call(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(logging.Logger):
        def log(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("disk full")

    CallLogObserver(logger=Broken("tests.llms.broken")).llms_on_response(fake_call(), fake_answer())
    assert "could not log a response" in caplog.text


def test_the_default_logger_is_core_llms_calls() -> None:
    assert CallLogObserver().logger is logging.getLogger("core.llms.calls")
