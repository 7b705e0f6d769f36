"""Vertex AI batch prediction (``VertexBatchAPI``) against the simulator's Cloud Storage and
``batchPredictionJobs`` routes: the round trip (bodies exactly as ``get_answer`` sends them, labels
matching lines to requests, job states, streamed output files), function calls, thoughts and
structured answers, the batch price, line errors as typed errors, failed / expired / cancelled jobs,
failover before the job exists and pinning after, refusals, and a token that never shows."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel

from core.llms import create_llm
from core.llms.batch.provider_api import batch_api_for
from core.llms.batch.provider_api import vertex as vertex_api
from core.llms.batch.provider_api.vertex import INDEX_LABEL, VertexBatchAPI, line_error
from core.llms.batch.types import BatchJob, BatchRequest, BatchResult
from core.llms.interfaces.errors import (
    AuthenticationError,
    BadRequestError,
    BatchJobFailedError,
    ConfigurationError,
    ContentFilterError,
    InvalidInputError,
    LLMError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOperationError,
)
from core.llms.providers.vertex.adapter import STORAGE_HOST, batch_url
from core.llms.simulator import Fault, Simulator, batch_vertex_routes

TOKEN = "ya29.batch-test-token"
CANARY = "zq8Xv2Lm7Pw4Rt9Kc3Hn"
FAST = {"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002}
IN, OUT = "gs://in-bucket/batches", "gs://out-bucket/results"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class City(BaseModel):
    name: str
    population: int


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as simulator:
        yield simulator


def model(sim: Simulator, name: str = "gemini-2.5-flash", token: str = TOKEN, **kw: Any) -> Any:
    kw.setdefault("project", "proj")
    return create_llm(f"vertex/{name}", endpoint=sim.url, token_provider=lambda: token, retry=FAST, **kw)


def api_for(llm: Any, **kw: Any) -> VertexBatchAPI:
    api = batch_api_for(llm, input_gcs_uri=IN, output_gcs_uri=OUT, **kw)
    assert isinstance(api, VertexBatchAPI)
    return api


def triples(*requests: BatchRequest, start: int = 0) -> list[tuple[int, str, BatchRequest]]:
    return [(start + i, f"req-{start + i}", r) for i, r in enumerate(requests)]


async def finish(api: VertexBatchAPI, job: BatchJob) -> tuple[BatchJob, list[str]]:
    seen = [job.status]
    for _ in range(10):
        if job.finished:
            return job, seen
        job = await api.refresh(job)
        seen.append(job.status)
    raise AssertionError(f"the job never ended: {seen}")


async def collect(api: VertexBatchAPI, job: BatchJob) -> dict[str, BatchResult]:
    results = [r async for r in api.results(job)]
    by_id = {r.id: r for r in results}
    assert len(by_id) == len(results) == len(job.request_ids)  # one result per request, no duplicate
    for r in results:
        assert (r.response is None) != (r.error is None) and job.request_ids[r.id] == r.index
    return by_id


async def fetch_object(sim: Simulator, uri: str) -> bytes:
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    from urllib.parse import quote

    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{sim.url}/storage/v1/b/{bucket}/o/{quote(name, safe='')}?alt=media",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as resp,
    ):
        assert resp.status == 200
        return await resp.read()


# --------------------------------------------------------------------------- round trip


async def test_round_trip_sends_get_answers_bodies_and_matches_every_line(sim: Simulator) -> None:
    params = {"max_tokens": 200, "temperature": 0.3, "labels": {"team": "search"}}
    async with model(sim) as llm:
        live = await llm.get_answer("what is 2+2?", **params)
        live_body = sim.requests[-1].json
        api = api_for(llm, display_name_prefix="nightly", labels={"env": "test"})
        requests = triples(
            BatchRequest("what is 2+2?", params),
            BatchRequest(
                [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi there"}]
            ),
            BatchRequest("third one", {"max_tokens": 100}),
        )
        job = await api.submit(requests)
        assert job.provider == "vertex" and job.status == "validating"
        assert job.id.startswith("projects/proj/locations/us-central1/batchPredictionJobs/")
        assert job.request_ids == {"req-0": 0, "req-1": 1, "req-2": 2}
        assert job.locations["endpoint"] == sim.url and job.locations["output_prefix"] == OUT
        upload, create = sim.requests[-2], sim.requests[-1]
        assert upload.path == "/upload/storage/v1/b/in-bucket/o" and upload.query["uploadType"] == "media"
        assert upload.headers["authorization"] == f"Bearer {TOKEN}"
        assert create.path == "/v1/projects/proj/locations/us-central1/batchPredictionJobs"
        body = create.json
        assert (
            body["displayName"].startswith("nightly-")
            and body["model"] == "publishers/google/models/gemini-2.5-flash"
        )
        assert body["inputConfig"] == {
            "instancesFormat": "jsonl",
            "gcsSource": {"uris": [job.locations["input"]]},
        }
        assert body["outputConfig"] == {
            "predictionsFormat": "jsonl",
            "gcsDestination": {"outputUriPrefix": OUT},
        }
        assert body["labels"] == {"core-llms": "batch", "env": "test"}
        lines = [json.loads(x) for x in (await fetch_object(sim, job.locations["input"])).splitlines()]
        assert [set(x) for x in lines] == [{"request"}] * 3
        first = lines[0]["request"]
        # exactly get_answer's body, plus the label carrying the request's index
        assert first["labels"] == {"team": "search", INDEX_LABEL: "0"}
        assert {**first, "labels": live_body["labels"]} == live_body
        assert lines[1]["request"]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}

        job, states = await finish(api, job)
        assert states == ["validating", "validating", "in_progress", "completed"]
        assert job.counts == {"total": 3, "completed": 3, "failed": 0, "incomplete": 0}
        assert job.raw["state"] == "JOB_STATE_SUCCEEDED" and job.locations["output_dir"].startswith(OUT)
        results = await collect(api, job)
    answer = results["req-0"].unwrap()
    assert answer.text == live.text == "Simulated answer to: what is 2+2?"
    assert answer.usage == live.usage and answer.finish_reason == live.finish_reason == "stop"
    assert answer.provider == "vertex" and answer.endpoint == sim.url and answer.request_id
    assert results["req-1"].unwrap().text == "Simulated answer to: hi there"
    assert not any(r.cached or r.resumed for r in results.values())
    # the output was listed and streamed from the job's own directory, not its sub-folders
    reads = [r for r in sim.requests if r.query.get("alt") == "media" and "out-bucket" in r.path]
    assert [r.path.rsplit("/", 1)[-1] for r in reads] == ["predictions.jsonl"]


async def test_half_price_of_the_same_answer_live(sim: Simulator) -> None:
    async with model(sim) as llm:
        live = await llm.get_answer("price me", max_tokens=300)
        api = api_for(llm)
        job, _ = await finish(api, await api.submit(triples(BatchRequest("price me", {"max_tokens": 300}))))
        answer = (await collect(api, job))["req-0"].unwrap()
    assert live.cost and answer.cost == pytest.approx(live.cost * llm.metadata.pricing.batch_factor)
    assert answer.cost == pytest.approx(live.cost / 2)


async def test_function_calls_thoughts_and_structured_answers(sim: Simulator) -> None:
    async with model(sim) as llm:
        api = api_for(llm)
        requests = triples(
            BatchRequest("weather in Paris?", {"tools": [WEATHER], "tool_choice": "get_weather"}),
            BatchRequest("think about it", {"include_thoughts": True, "thinking_budget": 512}),
            BatchRequest("a city please", {"response_format": City}),
        )
        job, _ = await finish(api, await api.submit(requests))
        results = await collect(api, job)
        live = await llm.get_answer("weather in Paris?", tools=[WEATHER], tool_choice="get_weather")
    called = results["req-0"].unwrap()
    assert called.finish_reason == "tool_calls" and len(called.tool_calls) == 1
    call = called.tool_calls[0]
    assert call.function.name == "get_weather" and isinstance(json.loads(call.function.arguments), dict)
    assert call.function.arguments == live.tool_calls[0].function.arguments
    thought = results["req-1"].unwrap()
    assert thought.reasoning and thought.usage is not None and thought.usage.reasoning_tokens > 0
    city = results["req-2"].unwrap()
    assert isinstance(city.parsed, City)


async def test_cached_tokens_are_kept_in_the_usage(sim: Simulator) -> None:
    async with model(sim) as llm:
        api = api_for(llm)
        job, _ = await finish(
            api, await api.submit(triples(BatchRequest("cached", {"cached_content": "cachedContents/abc"})))
        )
        answer = (await collect(api, job))["req-0"].unwrap()
    assert answer.usage is not None and answer.usage.cached_input_tokens > 0


async def test_many_output_files_and_listing_pages(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_vertex_routes, "LINES_PER_FILE", 2)
    async with model(sim) as llm:
        api = api_for(llm)
        api.list_page_size = 1
        job, _ = await finish(api, await api.submit(triples(*(BatchRequest(f"q{i}") for i in range(5)))))
        results = await collect(api, job)
    assert sorted(r.unwrap().text for r in results.values()) == [
        f"Simulated answer to: q{i}" for i in range(5)
    ]
    lists = [r for r in sim.requests if r.path == "/storage/v1/b/out-bucket/o"]
    assert len(lists) == 4 and lists[1].query["pageToken"]  # 3 files + the incremental copy, 1 a page
    reads = [r.path.rsplit("/", 1)[-1] for r in sim.requests if r.query.get("alt") == "media"]
    assert reads == ["predictions.jsonl", "predictions_00001.jsonl", "predictions_00002.jsonl"]


# --------------------------------------------------------------------------- errors


async def test_line_errors_are_typed(sim: Simulator) -> None:
    sim.enqueue(
        Fault(),  # the upload
        Fault(),  # the job's creation
        Fault(status=429, message="Quota exceeded for batch rows."),
        Fault(),
        Fault(status=400, message="Please use a valid role: user, model."),
        Fault(error_event=True, error_code="INTERNAL"),
    )
    async with model(sim) as llm:
        api = api_for(llm)
        requests = triples(
            BatchRequest("one"), BatchRequest("two"), BatchRequest("three"), BatchRequest("four"),
            BatchRequest("[[content_filter]] five"),
        )  # fmt: skip
        job, _ = await finish(api, await api.submit(requests))
        assert job.counts["failed"] == 3 and job.counts["completed"] == 2
        results = await collect(api, job)
    limited = results["req-0"].error
    assert isinstance(limited, RateLimitError) and limited.code == "RESOURCE_EXHAUSTED"
    assert "Quota exceeded" in limited.message and limited.provider == "vertex"
    assert results["req-1"].unwrap().text == "Simulated answer to: two"
    bad = results["req-2"].error
    assert isinstance(bad, BadRequestError) and bad.status == 400 and "valid role" in bad.message
    assert isinstance(results["req-3"].error, ServiceUnavailableError)
    assert isinstance(results["req-4"].error, ContentFilterError)


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        ('Bad Request: {"error": {"code": 400, "message": "x", "status": "INVALID_ARGUMENT"}}',
         BadRequestError, 400),
        ('Too Many Requests: {"error": {"code": 429, "message": "slow", "status": "RESOURCE_EXHAUSTED"}}',
         RateLimitError, 429),
        ("429 Resource has been exhausted", RateLimitError, 429),
        ("Internal Server Error", ServiceUnavailableError, 500),
        ("the row failed with RESOURCE_EXHAUSTED", RateLimitError, 429),
        ("Bad Request: the request is not valid {", BadRequestError, 400),
        ("something odd", ServiceUnavailableError, 500),
    ],
)  # fmt: skip
def test_line_status_strings_map_to_typed_errors(status: str, kind: type[LLMError], code: int) -> None:
    error = line_error(status)
    assert type(error) is kind and error.status == code


async def test_a_failed_job_answers_the_lines_it_wrote_and_fails_the_rest(sim: Simulator) -> None:
    async with model(sim) as llm:
        api = api_for(llm)
        requests = triples(BatchRequest("a"), BatchRequest("b [sim:job=FAILED]"), BatchRequest("c"))
        job, states = await finish(api, await api.submit(requests))
        assert states[-1] == "failed" and job.raw["error"]["code"] == 13
        assert job.counts == {"total": 3, "completed": 1, "failed": 0, "incomplete": 2}
        results = await collect(api, job)
    assert results["req-0"].unwrap().text == "Simulated answer to: a"
    for key in ("req-1", "req-2"):
        error = results[key].error
        assert isinstance(error, BatchJobFailedError) and error.code == "failed" and error.job_id == job.id
        assert "simulated internal error" in error.message and key in error.message


async def test_an_expired_job(sim: Simulator) -> None:
    async with model(sim) as llm:
        api = api_for(llm)
        job, _ = await finish(api, await api.submit(triples(BatchRequest("x [sim:job=EXPIRED]"))))
        results = await collect(api, job)
    assert job.status == "expired" and "output_dir" not in job.locations
    error = results["req-0"].error
    assert isinstance(error, BatchJobFailedError) and error.code == "expired"


async def test_cancelled_jobs(sim: Simulator) -> None:
    async with model(sim) as llm:
        api = api_for(llm)
        queued = await api.submit(triples(BatchRequest("a"), BatchRequest("b")))
        queued = await api.cancel(queued)
        assert sim.requests[-2].path.endswith(":cancel") and queued.status == "cancelled"
        results = await collect(api, queued)
        assert all(
            isinstance(r.error, BatchJobFailedError) and r.error.code == "cancelled" for r in results.values()
        )

        running = await api.submit(triples(*(BatchRequest(f"r{i}") for i in range(4))))
        running = await api.refresh(await api.refresh(running))
        assert running.raw["state"] == "JOB_STATE_RUNNING"
        running = await api.cancel(running)
        assert running.status == "cancelled" and running.counts["completed"] == 2
        results = await collect(api, running)
        assert sum(r.ok for r in results.values()) == 2
        with pytest.raises(BadRequestError, match="cannot be cancelled"):
            await api.cancel(running)


async def test_results_wait_for_the_end(sim: Simulator) -> None:
    async with model(sim) as llm:
        api = api_for(llm)
        job = await api.submit(triples(BatchRequest("a")))
        with pytest.raises(InvalidInputError, match="refresh"):
            await anext(aiter(api.results(job)))


async def test_claude_on_vertex_is_refused(sim: Simulator) -> None:
    async with model(sim, "claude-sonnet-4-5") as claude:
        with pytest.raises(UnsupportedOperationError) as info:
            api_for(claude)
    assert "anthropic" in (info.value.hint or "") and "Message Batches" in (info.value.hint or "")
    async with create_llm("openai/gpt-4o-mini", api_key="sk-x", endpoint=sim.url) as other:
        with pytest.raises(UnsupportedOperationError):
            VertexBatchAPI(other, input_gcs_uri=IN, output_gcs_uri=OUT)


async def test_bad_settings_and_input(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    async with model(sim) as llm:
        for options in (
            {"input_gcs_uri": "s3://bucket/x", "output_gcs_uri": OUT},
            {"input_gcs_uri": IN, "output_gcs_uri": "gs://UPPER/x"},
            {"input_gcs_uri": IN, "output_gcs_uri": OUT, "labels": {"Env": "x"}},
            {"input_gcs_uri": IN, "output_gcs_uri": OUT, "display_name_prefix": ""},
        ):
            with pytest.raises(ConfigurationError):
                VertexBatchAPI(llm, **options)
        api = api_for(llm)
        cases = [
            ([], "at least one"),
            (triples(BatchRequest("a"), BatchRequest("b", model="gemini-2.5-pro")), "one model"),
            (triples(BatchRequest("a", {"labels": {INDEX_LABEL: "1"}})), "reserved"),
            (triples(BatchRequest("a", {"labels": {"k": "Not OK"}})), "label rules"),
            (triples(BatchRequest("a", {"top_p": 7})), "req-0"),
            ([(0, "x", BatchRequest("a")), (0, "y", BatchRequest("b"))], "twice"),
        ]
        for requests, words in cases:
            with pytest.raises(InvalidInputError, match=words):
                await api.submit(requests)
        monkeypatch.setattr(vertex_api, "MAX_REQUESTS", 2)
        with pytest.raises(InvalidInputError, match="at most 2"):
            await api.submit(triples(*(BatchRequest("q") for _ in range(3))))
        monkeypatch.setattr(vertex_api, "MAX_INPUT_BYTES", 100)
        with pytest.raises(InvalidInputError, match="input file"):
            await api.submit(triples(BatchRequest("q" * 200)))
        await api.close()
        with pytest.raises(ConfigurationError, match="closed"):
            await api.submit(triples(BatchRequest("a")))
    assert not [r for r in sim.requests if "batchPredictionJobs" in r.path]


# --------------------------------------------------------------------------- endpoints


async def test_failover_before_the_job_then_pinned(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))  # the primary's upload fails; the backup takes the job
    backups = [{"location": "europe-west4", "name": "vertex-eu"}]
    async with model(sim, name="gemini-2.5-flash", backups=backups) as llm:
        api = api_for(llm)
        job = await api.submit(triples(BatchRequest("a")))
        assert job.locations["endpoint"] == "vertex-eu" and "/locations/europe-west4/" in job.id
        sim.enqueue(Fault(status=503))  # a read fails once: retried on the same endpoint, not failed over
        job, _ = await finish(api, job)
        results = await collect(api, job)
    assert results["req-0"].unwrap().endpoint == "vertex-eu"
    reads = [r.path for r in sim.requests if "batchPredictionJobs/" in r.path]
    assert reads and all("/locations/europe-west4/" in p for p in reads)


def test_hosts_follow_the_endpoint() -> None:
    google = "https://us-central1-aiplatform.googleapis.com"
    assert batch_url(google, "gcs", project="p", location="europe-west4") == STORAGE_HOST
    assert (
        batch_url(google, "batch_jobs", project="p", location="europe-west4")
        == "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/europe-west4/batchPredictionJobs"
    )
    assert batch_url("http://proxy:8080/v1", "gcs", project="p", location="l") == "http://proxy:8080"
    assert (
        batch_url("http://proxy:8080/v1", "batch_jobs", project="p", location="l")
        == "http://proxy:8080/v1/projects/p/locations/l/batchPredictionJobs"
    )


async def test_simulator_refuses_like_google(sim: Simulator) -> None:
    base = f"{sim.url}/v1/projects/p/locations/us-central1/batchPredictionJobs"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(base, json={"displayName": "x"}) as resp:
            assert resp.status == 401 and (await resp.json())["error"]["status"] == "UNAUTHENTICATED"
        good = {
            "displayName": "x",
            "model": "publishers/google/models/gemini-2.5-flash",
            "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://bkt/missing.jsonl"]}},
            "outputConfig": {
                "predictionsFormat": "jsonl",
                "gcsDestination": {"outputUriPrefix": "gs://bkt/o"},
            },
        }
        for change, status, words in (
            ({"inputConfig": {"instancesFormat": "bigquery"}}, 400, "instances_format"),
            ({}, 400, "does not exist"),
            ({"model": "publishers/google/models/imagen-3"}, 404, "not found"),
            ({"labels": {"A": "b"}}, 400, "label"),
            ({"extra": 1}, 400, "Unknown name"),
        ):
            async with session.post(base, json={**good, **change}, headers=auth) as resp:
                error = (await resp.json())["error"]
                assert resp.status == status == error["code"] and words in error["message"]
                assert error["status"] in ("INVALID_ARGUMENT", "NOT_FOUND")
        async with session.get(f"{base}/42", headers=auth) as resp:
            assert resp.status == 404 and (await resp.json())["error"]["status"] == "NOT_FOUND"
        async with session.get(f"{sim.url}/storage/v1/b/bkt/o/nothing?alt=media", headers=auth) as resp:
            assert resp.status == 404


# --------------------------------------------------------------------------- secrets


def fragments(secret: str) -> list[str]:
    return [secret[i : i + 6] for i in range(len(secret) - 5)]


def assert_hidden(text: str, secret: str = CANARY) -> None:
    leaked = [f for f in fragments(secret) if f in text]
    assert not leaked, f"secret fragments {leaked} in {text[:300]!r}"


def error_text(error: BaseException) -> str:
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        parts += [
            str(seen),
            repr(seen),
            str(getattr(seen, "hint", "")),
            json.dumps(getattr(seen, "body", None), default=str),
        ]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


async def test_the_token_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with Simulator(api_key=CANARY) as sim:
        sim.enqueue(Fault(), Fault(), Fault(status=400, message=f"token {CANARY} is not allowed here"))
        async with model(sim, token=CANARY) as llm:
            api = api_for(llm)
            job, _ = await finish(api, await api.submit(triples(BatchRequest("a"), BatchRequest("b"))))
            results = await collect(api, job)
            texts = [repr(api), repr(job), str(job.locations), repr(list(results.values()))]
            leaked = results["req-0"].error
            assert isinstance(leaked, BadRequestError) and "is not allowed" in leaked.message
            texts.append(error_text(leaked))
            sim.enqueue(Fault(status=401, message=f"bad credentials {CANARY}"))
            with pytest.raises(AuthenticationError) as refused:
                await api.refresh(job)
            texts.append(error_text(refused.value))
        wrong = "Zq8Xv2Lm7Pw4Rt9Kc3HnWRONG"
        async with model(sim, token=wrong) as other:
            with pytest.raises(AuthenticationError) as denied:
                await api_for(other).submit(triples(BatchRequest("a")))
            texts.append(error_text(denied.value))
    # the client's log lines (the simulator's own, quoting the scripted faults, are not ours)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("core.llms.simulator"))
    assert "AuthenticationError" in logged
    for text in (*texts, logged):
        assert_hidden(text)
    assert_hidden(error_text(denied.value), wrong)
