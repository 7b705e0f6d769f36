"""The in-memory metrics recorder: exact counts for a scripted sequence of calls through the
simulator (answers, retries, failover, errors, a stream), its histograms and quantiles, its
JSON snapshot, reset(), and what a call costs it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from observer_support import CANARY, enabled, model

from core.llms.interfaces.errors import InvalidInputError, LLMError, ServiceUnavailableError
from core.llms.interfaces.observer import AttemptInfo, CallInfo
from core.llms.interfaces.types import LLMResponse, Usage
from core.llms.observability import Observability
from core.llms.observability.recorder import LATENCY_BUCKETS, HistogramSnapshot, MetricsRecorder
from core.llms.simulator import Fault, Simulator


@pytest.fixture
def handle() -> Iterator[Observability]:
    with enabled(metrics=MetricsRecorder()) as observed:
        yield observed


def recorder_of(handle: Observability) -> MetricsRecorder:
    assert handle.recorder is not None
    return handle.recorder


async def test_a_scripted_sequence_is_counted_exactly(
    handle: Observability, sim: Simulator, backup: Simulator
) -> None:
    primary, secondary = f"http://127.0.0.1:{sim.port}/v1", f"http://127.0.0.1:{backup.port}/v1"
    answers: list[LLMResponse] = []
    retry = {"max_retries": 1, "backoff_initial": 0.001}
    async with model(sim, retry=retry, backups=[{"endpoint": f"{backup.url}/v1"}]) as llm:
        answers.append(await llm.get_answer("one"))  # ok, 1 attempt
        sim.enqueue(Fault(status=429))
        answers.append(await llm.get_answer("two"))  # 429: retried on the primary, then ok
        sim.set_default_fault(Fault(status=503))
        answers.append(await llm.get_answer("three"))  # 503: failover to the backup, ok there
        backup.set_default_fault(Fault(status=503))
        with pytest.raises(LLMError) as failed:
            await llm.get_answer("four")  # 503 on both: failover, retry on the backup, give up
    async with model(sim, retry=retry) as single:
        with pytest.raises(ServiceUnavailableError):
            await single.get_answer("five")  # 503: retried once, then raised
    sim.set_default_fault(None)
    async with model(sim) as streamer:
        chunks = [chunk async for chunk in streamer.stream_answer("six")]
    assert chunks

    snap = recorder_of(handle).snapshot()
    assert snap.count(endpoint=primary, outcome="ok") == 3  # one, two, six
    assert snap.count(endpoint=secondary, outcome="ok") == 1  # three
    assert snap.count(outcome="error") == 2
    assert snap.count() == 6
    [stats] = snap.models
    assert (stats.provider, stats.model) == ("openai", "gpt-4.1-mini")
    assert stats.calls == 6 and stats.outcomes == {"error": 2, "ok": 4}
    assert stats.errors == {type(failed.value).__name__: 1, "ServiceUnavailableError": 1}
    # attempts: 1 + 2 + 2 + (primary 1, backup 2) + 2 + 1
    assert stats.attempts == 11
    assert stats.retries == 1 + 1 + 1  # two's 429, four's backup 503, five's first 503
    assert stats.failovers == 2  # three and four
    assert stats.skipped == 0
    usages = [a.usage for a in answers]
    assert all(u is not None for u in usages)
    assert stats.input_tokens >= sum(u.input_tokens for u in usages if u) > 0
    assert stats.output_tokens >= sum(u.output_tokens for u in usages if u) > 0
    costs = [a.cost for a in answers]
    assert all(c is not None and c > 0 for c in costs)
    assert stats.cost >= sum(c for c in costs if c)
    assert stats.latency.count == 6 and stats.time_to_first_chunk.count == 1
    assert stats.latency.min is not None and stats.latency.max is not None
    assert 0 < stats.latency.min <= stats.latency.max < 10
    assert snap.totals.calls == 6 and snap.totals.retries == 3 and snap.totals.failovers == 2
    assert (snap.totals.provider, snap.totals.model) == ("*", "*")
    assert snap.model("openai", "gpt-4.1-mini") == stats and snap.model("openai", "nope") is None


async def test_tokens_and_cost_are_the_answers_sums(handle: Observability, sim: Simulator) -> None:
    async with model(sim) as llm:
        answers = [await llm.get_answer("hello"), await llm.get_answer("a longer question, twice as long")]
    stats = recorder_of(handle).snapshot().totals
    usages = [a.usage for a in answers if a.usage is not None]
    assert len(usages) == 2
    assert stats.input_tokens == sum(u.input_tokens for u in usages)
    assert stats.output_tokens == sum(u.output_tokens for u in usages)
    assert stats.cached_input_tokens == sum(u.cached_input_tokens for u in usages)
    assert stats.reasoning_tokens == sum(u.reasoning_tokens for u in usages)
    assert stats.cost == pytest.approx(sum(a.cost or 0.0 for a in answers))


async def test_the_snapshot_is_json_and_reset_empties_it(handle: Observability, sim: Simulator) -> None:
    async with model(sim) as llm:
        await llm.get_answer("hello")
    recorder = recorder_of(handle)
    data = recorder.snapshot().to_dict()
    text = json.dumps(data)
    assert '"ok"' in text
    again = json.loads(text)
    assert again == data
    [calls] = again["calls"]
    assert calls == {
        "provider": "openai",
        "model": "gpt-4.1-mini",
        "endpoint": f"http://127.0.0.1:{sim.port}/v1",
        "outcome": "ok",
        "count": 1,
    }
    assert again["totals"]["latency"]["count"] == 1
    assert list(again["totals"]["latency"]["buckets"])[-2:] == ["81.92", "+Inf"]
    assert CANARY not in text
    recorder.reset()
    empty = recorder.snapshot()
    assert empty.calls == () and empty.models == () and empty.totals.calls == 0
    assert empty.totals.latency.count == 0 and empty.totals.latency.quantile(0.5) is None


def fake_call(duration: float, stream: bool = False, first_chunk: float | None = None) -> CallInfo:
    started = time.perf_counter() - duration
    call = CallInfo("openai", "gpt-4.1-mini", None, stream, started)
    if first_chunk is not None:
        call.first_chunk = started + first_chunk
    return call


def answer(tokens: int = 10) -> LLMResponse:
    return LLMResponse(
        text="hi",
        model="gpt-4.1-mini",
        provider="openai",
        usage=Usage(input_tokens=tokens, output_tokens=2 * tokens, cached_input_tokens=1, reasoning_tokens=3),
        cost=0.5,
        endpoint="https://api.example/v1",
    )


def test_latencies_land_in_their_buckets() -> None:
    recorder = MetricsRecorder()
    for duration in (0.015, 0.03, 0.03, 0.1, 3.0, 100.0):
        recorder.llms_on_response(fake_call(duration), answer())
    recorder.llms_on_response(fake_call(0.5, stream=True, first_chunk=0.05), answer())
    stats = recorder.snapshot().totals
    latency = stats.latency
    assert latency.bounds == LATENCY_BUCKETS and len(latency.counts) == len(LATENCY_BUCKETS) + 1
    by_bound = dict(zip([*LATENCY_BUCKETS, float("inf")], latency.counts, strict=True))
    assert by_bound[0.02] == 1 and by_bound[0.04] == 2 and by_bound[0.16] == 1
    assert by_bound[0.64] == 1 and by_bound[5.12] == 1 and by_bound[float("inf")] == 1
    assert sum(latency.counts) == latency.count == 7
    assert latency.min is not None and 0.015 <= latency.min < 0.016
    assert latency.max is not None and 100.0 <= latency.max < 100.01
    assert latency.sum == pytest.approx(0.015 + 0.06 + 0.1 + 3.0 + 100.0 + 0.5, abs=0.01)
    assert latency.cumulative()[-1] == 7
    ttfc = stats.time_to_first_chunk
    assert ttfc.count == 1 and dict(zip(LATENCY_BUCKETS, ttfc.counts, strict=False))[0.08] == 1
    assert (stats.input_tokens, stats.output_tokens, stats.cached_input_tokens, stats.reasoning_tokens) == (
        70,
        140,
        7,
        21,
    )
    assert stats.cost == pytest.approx(3.5)


def test_a_quantile_interpolates_inside_its_bucket() -> None:
    counts = [0] * (len(LATENCY_BUCKETS) + 1)
    counts[1] = 10  # ten values in (0.01, 0.02]
    counts[4] = 10  # ten in (0.08, 0.16]
    hist = HistogramSnapshot(LATENCY_BUCKETS, tuple(counts), 20, 1.5, 0.011, 0.15)
    assert hist.quantile(0.25) == pytest.approx(0.011 + (0.02 - 0.011) * 5 / 10)
    assert hist.quantile(0.5) == pytest.approx(0.02)
    assert hist.quantile(0.75) == pytest.approx(0.08 + (0.15 - 0.08) * 5 / 10)
    assert hist.quantile(1.0) == pytest.approx(0.15)
    assert hist.quantile(0.0) == pytest.approx(0.011)
    assert hist.mean == pytest.approx(0.075)
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(InvalidInputError, match="quantile"):
            hist.quantile(bad)  # type: ignore[arg-type]


def test_a_value_above_the_last_bucket_is_estimated_up_to_the_maximum() -> None:
    recorder = MetricsRecorder()
    for duration in (100.0, 200.0):
        recorder.llms_on_response(fake_call(duration), answer())
    latency = recorder.snapshot().totals.latency
    assert latency.counts[-1] == 2
    q = latency.quantile(0.99)
    assert q is not None and 100.0 <= q <= latency.max  # type: ignore[operator]


def test_attempt_actions_are_counted() -> None:
    recorder = MetricsRecorder()
    call = fake_call(0.01)
    for action in ("retry", "retry", "failover", "skipped", "done"):
        recorder.llms_on_attempt(call, AttemptInfo("https://a.example/v1", 1, action))
    stats = recorder.snapshot().totals
    assert (stats.attempts, stats.retries, stats.failovers, stats.skipped, stats.calls) == (4, 2, 1, 1, 0)


def test_an_error_counts_by_type_and_a_missing_endpoint_is_unknown() -> None:
    recorder = MetricsRecorder()
    recorder.llms_on_error(fake_call(0.01), ServiceUnavailableError("down", status=503))
    snap = recorder.snapshot()
    assert snap.count(endpoint="unknown", outcome="error") == 1
    assert snap.totals.errors == {"ServiceUnavailableError": 1} and snap.totals.input_tokens == 0


def test_a_bad_response_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    recorder = MetricsRecorder()
    bad = answer()
    bad.cost = "free"  # type: ignore[assignment]
    recorder.llms_on_response(fake_call(0.01), bad)
    assert "could not record" in caplog.text


def test_threads_lose_no_update() -> None:
    recorder = MetricsRecorder()
    response = answer(1)

    def work() -> None:
        for _ in range(2000):
            recorder.llms_on_response(fake_call(0.01), response)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = recorder.snapshot().totals
    assert stats.calls == 16000 and stats.latency.count == 16000 and stats.input_tokens == 16000


def test_a_response_costs_a_few_microseconds() -> None:
    recorder = MetricsRecorder()
    call, response = fake_call(0.2), answer()
    for _ in range(1000):
        recorder.llms_on_response(call, response)
    n = 20000
    started = time.process_time()
    for _ in range(n):
        recorder.llms_on_response(call, response)
    per_call = (time.process_time() - started) / n
    print(f"\nMetricsRecorder.llms_on_response: {per_call * 1e6:.2f} us CPU per call")
    assert per_call < 50e-6  # a few µs measured; generous for slow CI machines
