"""RetryPolicy.retry_if: the caller's say after each failed attempt, through the simulator."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.llms import (
    AllEndpointsFailedError,
    BadRequestError,
    ConfigurationError,
    LLMError,
    RequestContext,
    RequestTimeoutError,
    RetryPolicy,
    ServiceUnavailableError,
    StreamInterruptedError,
    create_llm,
)
from core.llms.config import load_config
from core.llms.simulator import Fault, Simulator

KEY = "sim-key-not-secret"


@pytest.fixture
async def sims() -> AsyncIterator[tuple[Simulator, Simulator]]:
    async with Simulator() as primary, Simulator() as backup:
        yield primary, backup


def model(primary: Simulator, backup: Simulator | None, hook: Any, **policy: Any) -> Any:
    backups = [{"endpoint": f"{backup.url}/v1"}] if backup is not None else []
    retry = RetryPolicy(**{"max_retries": 2, "backoff_initial": 0, "retry_if": hook, **policy})
    return create_llm(
        "openai/gpt-4.1-mini", endpoint=f"{primary.url}/v1", api_key=KEY, retry=retry, backups=backups
    )


class Recorder:
    def __init__(self, verdict: Any) -> None:
        self.verdict = verdict
        self.calls: list[tuple[str, int, RequestContext | None]] = []

    def __call__(self, error: LLMError, attempt: int, ctx: RequestContext | None) -> bool | None:
        self.calls.append((type(error).__name__, attempt, ctx))
        return self.verdict(error, attempt) if callable(self.verdict) else self.verdict  # type: ignore[no-any-return]


async def test_false_stops_a_failover(sims: tuple[Simulator, Simulator]) -> None:
    primary, backup = sims
    hook = Recorder(False)
    primary.enqueue(Fault(status=503))
    async with model(primary, backup, hook) as llm:
        ctx = RequestContext(tenant="t")
        with pytest.raises(ServiceUnavailableError):
            await llm.get_answer("hi", ctx)
    assert backup.request_count == 0 and primary.request_count == 1
    assert hook.calls == [("ServiceUnavailableError", 1, ctx)]


async def test_true_retries_a_bad_request_up_to_max_retries(sims: tuple[Simulator, Simulator]) -> None:
    primary, _ = sims
    hook = Recorder(True)
    primary.enqueue(Fault(status=400), Fault(status=400))
    async with model(primary, None, hook) as llm:
        answer = await llm.get_answer("hi")
    assert answer.text == "Simulated answer to: hi"
    assert [c[:2] for c in hook.calls] == [("BadRequestError", 1), ("BadRequestError", 2)]
    primary.enqueue(*[Fault(status=400)] * 3)
    async with model(primary, None, Recorder(True)) as llm:
        with pytest.raises(BadRequestError):
            await llm.get_answer("hi")  # three tries: the first and max_retries=2 more


async def test_true_with_retries_used_up_moves_to_the_backup(sims: tuple[Simulator, Simulator]) -> None:
    primary, backup = sims
    hook = Recorder(True)
    primary.enqueue(Fault(status=400), Fault(status=400))
    async with model(primary, backup, hook, max_retries=1) as llm:
        answer = await llm.get_answer("hi")
    assert answer.endpoint is not None and answer.endpoint.startswith(backup.url)
    assert [c[:2] for c in hook.calls] == [("BadRequestError", 1), ("BadRequestError", 2)]


async def test_none_keeps_the_rules(sims: tuple[Simulator, Simulator]) -> None:
    primary, backup = sims
    hook = Recorder(None)
    primary.enqueue(Fault(status=503))
    async with model(primary, backup, hook) as llm:
        answer = await llm.get_answer("hi")  # the rules: a 503 with a backup fails over at once
    assert answer.endpoint is not None and answer.endpoint.startswith(backup.url)
    primary.enqueue(Fault(status=400))
    async with model(primary, backup, Recorder(None)) as llm:
        with pytest.raises(BadRequestError):
            await llm.get_answer("hi")  # the rules: a 400 is raised, not retried
    assert backup.request_count == 1


async def test_a_failing_hook_propagates_with_the_error_as_context(sims: tuple[Simulator, Simulator]) -> None:
    primary, _ = sims

    def broken(error: LLMError, attempt: int, ctx: Any) -> bool:
        raise RuntimeError("hook bug")

    primary.enqueue(Fault(status=503))
    async with model(primary, None, broken) as llm:
        with pytest.raises(RuntimeError, match="hook bug") as info:
            await llm.get_answer("hi")
    assert isinstance(info.value.__context__, ServiceUnavailableError)


async def test_a_wrong_verdict_and_a_wrong_hook_are_typed_errors(sims: tuple[Simulator, Simulator]) -> None:
    primary, _ = sims
    primary.enqueue(Fault(status=503))
    async with model(primary, None, Recorder("yes")) as llm:
        with pytest.raises(ConfigurationError, match="retry_if must return True, False or None"):
            await llm.get_answer("hi")
    with pytest.raises(ConfigurationError, match="retry_if must be a function"):
        RetryPolicy(retry_if="always")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        create_llm("openai/gpt-4.1-mini", api_key=KEY, retry={"retry_if": 3})


async def test_streams_ask_before_the_first_chunk_only(sims: tuple[Simulator, Simulator]) -> None:
    primary, _ = sims
    hook = Recorder(True)
    primary.enqueue(Fault(status=400))
    async with model(primary, None, hook) as llm:
        text = "".join([c.text async for c in llm.stream_answer("one two three")])
        assert text == "Simulated answer to: one two three"
        assert [c[:2] for c in hook.calls] == [("BadRequestError", 1)]
        primary.enqueue(Fault(drop="after_first_chunk"))
        with pytest.raises(StreamInterruptedError):
            async for _ in llm.stream_answer("one two three four five"):
                pass
    assert len(hook.calls) == 1  # not asked after data had arrived


async def test_the_deadline_still_bounds_a_yes(sims: tuple[Simulator, Simulator]) -> None:
    primary, _ = sims
    primary.enqueue(*[Fault(status=400)] * 10)
    async with model(primary, None, Recorder(True), max_retries=9, backoff_initial=0.2, jitter=0) as llm:
        started = time.monotonic()
        with pytest.raises((RequestTimeoutError, BadRequestError, AllEndpointsFailedError)):
            await llm.get_answer("hi", RequestContext.with_timeout(0.5))
        assert time.monotonic() - started < 1.5
    assert primary.request_count < 6


async def test_the_hook_sees_every_attempt_of_the_call_numbered_across_endpoints(
    sims: tuple[Simulator, Simulator],
) -> None:
    primary, backup = sims
    hook = Recorder(None)
    primary.enqueue(Fault(status=503))
    backup.enqueue(Fault(status=503), Fault(status=409))
    async with model(primary, backup, hook) as llm:
        ctx = RequestContext(tenant="t")
        answer = await llm.get_answer("hi", ctx)  # the rules: failover, then the last endpoint retries
    assert answer.endpoint is not None and answer.endpoint.startswith(backup.url)
    assert hook.calls == [
        ("ServiceUnavailableError", 1, ctx),
        ("ServiceUnavailableError", 2, ctx),
        ("ConflictError", 3, ctx),
    ]
    assert (primary.request_count, backup.request_count) == (1, 3)


async def test_true_retries_the_same_endpoint_before_failing_over(sims: tuple[Simulator, Simulator]) -> None:
    primary, backup = sims
    primary.enqueue(Fault(status=503), Fault(status=503))
    async with model(primary, backup, Recorder(True)) as llm:
        answer = await llm.get_answer("hi")  # the rules would fail over at once
    assert answer.endpoint is not None and answer.endpoint.startswith(primary.url)
    assert (primary.request_count, backup.request_count) == (3, 0)


async def test_true_through_every_endpoint_gives_up_as_usual(sims: tuple[Simulator, Simulator]) -> None:
    primary, backup = sims
    hook = Recorder(True)
    primary.enqueue(*[Fault(status=400)] * 2)
    backup.enqueue(*[Fault(status=400)] * 2)
    async with model(primary, backup, hook, max_retries=1) as llm:
        with pytest.raises(AllEndpointsFailedError) as info:
            await llm.get_answer("hi")
    assert [a.error.__class__.__name__ for a in info.value.attempts] == ["BadRequestError"] * 4
    assert [c[1] for c in hook.calls] == [1, 2, 3, 4]


async def test_false_on_a_later_attempt_raises_that_error(sims: tuple[Simulator, Simulator]) -> None:
    primary, backup = sims
    hook = Recorder(lambda e, attempt: None if attempt == 1 else False)
    primary.enqueue(Fault(status=503))
    backup.enqueue(Fault(status=503))
    async with model(primary, backup, hook) as llm:
        with pytest.raises(ServiceUnavailableError) as info:
            await llm.get_answer("hi")  # the rules would retry the backup, the last endpoint
    assert info.value.endpoint is not None and info.value.endpoint.startswith(backup.url)
    assert (primary.request_count, backup.request_count) == (1, 1)


async def test_a_hook_failing_on_a_later_attempt_still_chains_the_error(
    sims: tuple[Simulator, Simulator],
) -> None:
    primary, backup = sims

    def hook(error: LLMError, attempt: int, ctx: Any) -> bool | None:
        if attempt == 2:
            raise KeyError("hook bug")
        return None

    primary.enqueue(Fault(status=503))
    backup.enqueue(Fault(status=502))
    async with model(primary, backup, hook) as llm:
        with pytest.raises(KeyError) as info:
            await llm.get_answer("hi")
        context = info.value.__context__
        assert isinstance(context, ServiceUnavailableError) and context.status == 502
        primary.enqueue(Fault(status=503))
        backup.enqueue(Fault(status=502))
        with pytest.raises(KeyError) as info:  # the same before a stream's first chunk
            async for _ in llm.stream_answer("hi"):
                pass
        context = info.value.__context__
        assert isinstance(context, ServiceUnavailableError) and context.status == 502


async def test_false_stops_a_stream_failover_before_the_first_chunk(
    sims: tuple[Simulator, Simulator],
) -> None:
    primary, backup = sims
    hook = Recorder(False)
    primary.enqueue(Fault(status=503))
    async with model(primary, backup, hook) as llm:
        with pytest.raises(ServiceUnavailableError):
            async for _ in llm.stream_answer("hi"):
                pass
    assert (primary.request_count, backup.request_count) == (1, 0)
    assert [c[:2] for c in hook.calls] == [("ServiceUnavailableError", 1)]


async def test_cancellation_never_reaches_the_hook(sims: tuple[Simulator, Simulator]) -> None:
    primary, backup = sims
    hook = Recorder(True)
    primary.enqueue(Fault(delay=5))
    async with model(primary, backup, hook) as llm:
        task = asyncio.create_task(llm.get_answer("hi"))
        while primary.request_count == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert hook.calls == [] and backup.request_count == 0


async def test_a_mapping_in_create_llm_carries_the_hook(sims: tuple[Simulator, Simulator]) -> None:
    primary, _ = sims
    hook = Recorder(True)
    primary.enqueue(*[Fault(status=400)] * 3)
    retry = {"max_retries": 3, "backoff_initial": 0, "retry_if": hook}
    async with create_llm(
        "openai/gpt-4.1-mini", endpoint=f"{primary.url}/v1", api_key=KEY, retry=retry
    ) as llm:
        answer = await llm.get_answer("hi")
    assert answer.text == "Simulated answer to: hi" and primary.request_count == 4
    assert [c[1] for c in hook.calls] == [1, 2, 3]


@pytest.mark.parametrize("section", ["models.fast", "defaults"])
def test_a_config_file_cannot_name_a_hook(section: str) -> None:
    retry = {"max_retries": 3, "retry_if": "mymodule.retry_if"}
    config: dict[str, Any] = {"models": {"fast": {"model": "openai/gpt-4.1-mini", "api_key": "k"}}}
    if section == "defaults":
        config["defaults"] = {"retry": retry}
    else:
        config["models"]["fast"]["retry"] = retry
    with pytest.raises(ConfigurationError, match=rf"{section}\.retry: .*retry_if is a Python function"):
        load_config(config)


async def test_the_hook_verdict_is_logged(
    sims: tuple[Simulator, Simulator], caplog: pytest.LogCaptureFixture
) -> None:
    primary, backup = sims
    caplog.set_level(logging.DEBUG, logger="core.llms.transport")
    primary.enqueue(Fault(status=400))
    async with model(primary, backup, Recorder(lambda e, attempt: e.status == 400)) as llm:
        await llm.get_answer("hi")
        primary.enqueue(Fault(status=503))
        with pytest.raises(ServiceUnavailableError):
            await llm.get_answer("hi")
    messages = [r.getMessage() for r in caplog.records if r.name == "core.llms.transport"]
    assert any("BadRequestError status=400 -> retry (retry_if said retry: retry in" in m for m in messages)
    assert any("ServiceUnavailableError status=503 -> raise (retry_if said no)" in m for m in messages)


async def test_the_docs_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "reliability.md").read_text()
    start = text.index("### A retry hook: `retry_if`")
    [code] = re.findall(r"```python\n(.*?)```", text[start : text.index("\n## ", start)], flags=re.S)
    assert code.rstrip().endswith("asyncio.run(main())")
    namespace: dict[str, Any] = {}
    exec(compile(code.rstrip().removesuffix("asyncio.run(main())"), "docs/reliability.md", "exec"), namespace)
    await namespace["main"]()
    assert capsys.readouterr().out == "Simulated answer to: hello 2\n"
