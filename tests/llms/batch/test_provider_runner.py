"""RequestManager(provider_batch=...) with an in-memory Batch API: one job for what the journal
and the cache do not hold, polling, results matched back by id, missing results typed, and a
run that dies while the job runs waiting for the same job next time instead of submitting again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from core.llms.batch import Journal, MemoryCache, RequestManager
from core.llms.batch.types import BatchJob, BatchRequest, BatchResult, IBatchAPI
from core.llms.interfaces.errors import BadRequestError, BatchJobFailedError, InvalidInputError, LLMError
from core.llms.interfaces.types import LLMResponse, Usage


class FakeModel:
    provider = "fake"
    name = "fake-model"

    async def get_answer(self, messages: Any, ctx: Any = None, **params: Any) -> LLMResponse:
        raise AssertionError("a provider batch never calls the model live")

    def stream_answer(self, messages: Any, ctx: Any = None, **params: Any) -> Any:
        raise AssertionError("never streamed")


class FakeBatchAPI:
    """Answers every request with its text reversed after ``polls`` status checks; ``drop`` ids
    get no result line; ``fail`` ids get a BadRequestError line."""

    provider = "fake"

    def __init__(
        self, *, polls: int = 2, end: str = "completed", drop: Sequence[str] = (), fail: Sequence[str] = ()
    ) -> None:
        self.polls, self.end, self.drop, self.fail = polls, end, set(drop), set(fail)
        self.submitted: list[list[str]] = []
        self.refreshes = 0
        self.jobs: dict[str, dict[str, str]] = {}
        self.closed = False

    async def submit(self, requests: Sequence[tuple[int, str, BatchRequest]]) -> BatchJob:
        job_id = f"job-{len(self.submitted)}"
        self.submitted.append([request_id for _, request_id, _ in requests])
        self.jobs[job_id] = {request_id: str(request.messages) for _, request_id, request in requests}
        return BatchJob(
            id=job_id,
            provider=self.provider,
            status="validating",
            request_ids={request_id: index for index, request_id, _ in requests},
            locations={"input": f"file-{job_id}"},
        )

    async def refresh(self, job: BatchJob) -> BatchJob:
        self.refreshes += 1
        status = self.end if self.refreshes >= self.polls else "in_progress"
        counts = {"total": len(job.request_ids)}
        return BatchJob(job.id, job.provider, status, dict(job.request_ids), counts=counts)  # type: ignore[arg-type]

    async def results(self, job: BatchJob) -> AsyncIterator[BatchResult]:
        for request_id, text in self.jobs[job.id].items():
            index = job.request_ids.get(request_id, -1)
            if request_id in self.drop:
                continue
            if request_id in self.fail:
                error = BadRequestError("refused line", status=400)
                yield BatchResult(index=index, id=request_id, error=error)
                continue
            usage = Usage(input_tokens=10, output_tokens=5)
            response = LLMResponse(text[::-1], "fake-model", "fake", usage=usage, cost=0.5)
            yield BatchResult(index=index, id=request_id, response=response)

    async def cancel(self, job: BatchJob) -> BatchJob:
        return job

    async def close(self) -> None:
        self.closed = True


def manager(api: FakeBatchAPI, **kw: Any) -> RequestManager:
    return RequestManager(FakeModel(), provider_batch=api, poll_interval=0.001, show_progress=False, **kw)


def texts(n: int) -> list[dict[str, str]]:
    return [{"messages": f"abc{i}", "id": f"r{i}"} for i in range(n)]


async def test_one_job_polled_until_done_and_results_in_input_order() -> None:
    api = FakeBatchAPI(polls=3, fail=["r2"])
    assert isinstance(api, IBatchAPI)
    async with manager(api) as runner:
        results = await runner.aprocess_batch(texts(5))
    assert api.submitted == [["r0", "r1", "r2", "r3", "r4"]] and api.refreshes == 3
    assert [r.id for r in results] == ["r0", "r1", "r2", "r3", "r4"]
    assert results[0].unwrap().text == "0cba"
    assert isinstance(results[2].error, BadRequestError)
    assert runner.stats.done == 4 and runner.stats.failed == 1 and runner.stats.cost_usd == 2.0
    assert not api.closed  # given, not owned


@pytest.mark.parametrize("end", ["completed", "expired", "cancelled", "failed"])
async def test_a_request_without_a_result_is_a_batch_job_failure(end: str) -> None:
    api = FakeBatchAPI(end=end, drop=["r1"])
    async with manager(api) as runner:
        results = await runner.aprocess_batch(texts(3))
    error = results[1].error
    assert isinstance(error, BatchJobFailedError) and error.job_id == "job-0"
    assert error.code == (end if end != "completed" else "missing")
    assert results[0].ok and results[2].ok


async def test_the_cache_and_the_journal_are_read_before_submitting(tmp_path: Path) -> None:
    cache = MemoryCache()
    api = FakeBatchAPI()
    async with manager(api, cache=cache, journal=tmp_path / "j.jsonl") as runner:
        await runner.aprocess_batch(texts(2))
        api.refreshes = 0
        results = await runner.aprocess_batch(texts(4))
    assert api.submitted == [["r0", "r1"], ["r2", "r3"]]
    assert [r.resumed for r in results] == [True, True, False, False]


async def test_a_run_that_died_while_the_job_ran_waits_for_that_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.jsonl"
    api = FakeBatchAPI(polls=10**9)  # never finishes: the run "dies" while waiting

    class Died(Exception):
        pass

    async def die(*_: Any) -> None:
        raise Died

    runner = manager(api, journal=path)
    with monkeypatch.context() as patch:
        patch.setattr("core.llms.batch.provider_runner.asyncio.sleep", die)
        with pytest.raises(Died):
            await runner.aprocess_batch(texts(3))
    assert len(api.submitted) == 1
    with Journal(path) as journal:
        assert [job["id"] for job in journal.jobs()] == ["job-0"]

    api.polls, api.refreshes = 1, 0  # the job finishes now
    async with manager(api, journal=path) as again:
        results = await again.aprocess_batch(texts(3))
    assert len(api.submitted) == 1, "the requests were submitted twice"
    assert [r.unwrap().text for r in results] == ["0cba", "1cba", "2cba"]


async def test_duplicate_ids_and_other_models_fail_alone() -> None:
    api = FakeBatchAPI()
    items: list[Any] = [*texts(2), {"messages": "x", "id": "r0"}]
    items.append({"messages": "y", "model": "another", "id": "m"})
    async with manager(api) as runner:
        results = await runner.aprocess_batch(items)
    assert results[0].ok and results[1].ok
    assert isinstance(results[2].error, InvalidInputError)
    assert isinstance(results[3].error, LLMError) and "one model" in str(results[3].error)
    assert api.submitted == [["r0", "r1"]]
