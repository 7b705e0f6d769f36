"""OpenAI's and Azure OpenAI's Batch API (:class:`OpenAIBatchAPI`) end to end against the
simulator's ``/files`` + ``/batches`` routes: submit → refresh until done → results."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel

from core.llms import create_llm
from core.llms.batch.provider_api import batch_api_for
from core.llms.batch.provider_api.openai import OpenAIBatchAPI
from core.llms.batch.types import BatchJob, BatchRequest, BatchResult, IBatchAPI
from core.llms.interfaces import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ContextWindowExceededError,
    InvalidInputError,
    LLMError,
    RateLimitError,
    UnsupportedOperationError,
)
from core.llms.interfaces.errors import BatchJobFailedError
from core.llms.providers.base.implementation import BaseLLM
from core.llms.simulator import Fault, Simulator

FAST = {"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002}
CANARY = "zq8Xv2Lm7Pw4Rt9Kc3Hn"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class City(BaseModel):
    name: str
    population: int


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key="k") as simulator:
        yield simulator


@pytest.fixture
async def model(sim: Simulator) -> AsyncIterator[BaseLLM]:
    async with create_llm("openai/gpt-4.1-mini", api_key="k", endpoint=sim.url + "/v1", retry=FAST) as m:
        yield m


def triples(*prompts: str, **params: Any) -> list[tuple[int, str, BatchRequest]]:
    return [(i, f"req-{i}", BatchRequest(p, dict(params))) for i, p in enumerate(prompts)]


async def run(api: IBatchAPI, job: BatchJob, polls: int = 5) -> BatchJob:
    for _ in range(polls):
        if job.finished:
            break
        job = await api.refresh(job)
    assert job.finished
    return job


async def collect(api: IBatchAPI, job: BatchJob) -> dict[str, BatchResult]:
    results = [r async for r in api.results(job)]
    by_id = {r.id: r for r in results}
    assert len(by_id) == len(results) == len(job.request_ids)
    assert all(r.index == job.request_ids[r.id] for r in results)
    return by_id


async def file_lines(sim: Simulator, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(sim.url + path, headers=headers) as resp:
        assert resp.status == 200
        return [json.loads(line) for line in (await resp.read()).splitlines() if line.strip()]


# -- the whole job ------------------------------------------------------------------------------


async def test_openai_submit_refresh_results_round_trip(sim: Simulator, model: BaseLLM) -> None:
    api = batch_api_for(model, metadata={"team": "search"})
    assert isinstance(api, OpenAIBatchAPI) and isinstance(api, IBatchAPI)
    job = await api.submit(triples("hello one", "hello two", "hello three", max_tokens=50))

    assert job.status == "validating" and job.provider == "openai"
    assert job.request_ids == {"req-0": 0, "req-1": 1, "req-2": 2}
    assert job.locations["endpoint"] == sim.url + "/v1"
    upload, create = sim.requests
    assert (upload.method, upload.path, upload.json) == ("POST", "/v1/files", None)
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert (create.method, create.path) == ("POST", "/v1/batches")
    assert create.json == {
        "input_file_id": job.locations["input_file_id"],
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        "metadata": {"team": "search"},
    }
    lines = await file_lines(
        sim, f"/v1/files/{job.locations['input_file_id']}/content", {"Authorization": "Bearer k"}
    )
    assert [line["custom_id"] for line in lines] == ["req-0", "req-1", "req-2"]
    assert {(line["method"], line["url"]) for line in lines} == {("POST", "/v1/chat/completions")}
    assert lines[1]["body"] == model.batch_body("hello two", max_tokens=50)  # type: ignore[attr-defined]

    job = await api.refresh(job)
    assert job.status == "in_progress" and not job.finished
    job = await api.refresh(job)
    assert job.status == "completed" and job.counts == {"total": 3, "completed": 3, "failed": 0}
    assert "output_file_id" in job.locations and "error_file_id" not in job.locations
    assert job.raw["object"] == "batch" and job.raw["metadata"] == {"team": "search"}

    results = await collect(api, job)
    live = await model.get_answer("hello two", max_tokens=50)
    answer = results["req-1"].unwrap()
    assert answer.text == live.text and answer.finish_reason == live.finish_reason == "stop"
    assert answer.usage == live.usage and answer.usage is not None and answer.usage.output_tokens > 0
    assert live.cost is not None and answer.cost == pytest.approx(live.cost / 2)
    assert answer.request_id and answer.endpoint == sim.url + "/v1"
    assert all(r.ok and not r.cached for r in results.values())
    await api.close()
    assert not model.closed  # the model stays the caller's


async def test_tool_calls_and_structured_output_round_trip(sim: Simulator, model: BaseLLM) -> None:
    api = OpenAIBatchAPI(model)
    requests = [
        (0, "tools", BatchRequest("What is the weather in Paris?", {"tools": [WEATHER_TOOL]})),
        (1, "city", BatchRequest("Describe a city", {"response_format": City})),
    ]
    job = await run(api, await api.submit(requests))
    results = await collect(api, job)

    tools = results["tools"].unwrap()
    live = await model.get_answer("What is the weather in Paris?", tools=[WEATHER_TOOL])
    assert tools.finish_reason == live.finish_reason == "tool_calls"
    assert [(c.function.name, c.function.arguments) for c in tools.tool_calls] == [
        (c.function.name, c.function.arguments) for c in live.tool_calls
    ]
    assert tools.tool_calls[0].id
    city = results["city"].unwrap()
    assert isinstance(city.parsed, City)  # the response_format class, in the process that submitted


async def test_error_lines_are_typed_like_live_errors(model: BaseLLM) -> None:
    async with Simulator(api_key="k", context_chars=200) as small:
        m = create_llm("openai/gpt-4.1-mini", api_key="k", endpoint=small.url + "/v1", retry=FAST)
        async with m:
            api = OpenAIBatchAPI(m)
            job = await api.submit(triples("first", "x " * 300, "third"))
            job = await api.refresh(job)
            small.enqueue(Fault(), Fault(status=429))  # the running GET's own, then line 0's
            job = await api.refresh(job)
            assert job.counts == {"total": 3, "completed": 1, "failed": 2}
            results = await collect(api, job)

    limited = results["req-0"].error
    assert isinstance(limited, RateLimitError) and limited.status == 429
    too_long = results["req-1"].error
    assert isinstance(too_long, ContextWindowExceededError) and isinstance(too_long, BadRequestError)
    assert too_long.status == 400 and too_long.request_id is not None
    assert (too_long.provider, too_long.model) == ("openai", "gpt-4.1-mini")
    assert results["req-2"].ok
    with pytest.raises(RateLimitError):
        results["req-0"].unwrap()


async def test_an_expired_job_fails_the_requests_it_did_not_run(sim: Simulator, model: BaseLLM) -> None:
    api = OpenAIBatchAPI(model, metadata={"sim_expire_after": "1"})
    job = await run(api, await api.submit(triples("a", "b", "c")))
    assert job.status == "expired"
    results = await collect(api, job)

    assert results["req-0"].ok
    for key in ("req-1", "req-2"):
        error = results[key].error
        assert isinstance(error, BatchJobFailedError)
        assert (error.code, error.job_id) == ("expired", job.id)
        assert job.id in error.message and error.provider == "openai"


async def test_a_cancelled_job_fails_every_request(sim: Simulator, model: BaseLLM) -> None:
    api = OpenAIBatchAPI(model)
    job = await api.submit(triples("a", "b"))
    job = await api.cancel(job)
    assert job.status == "finalizing" and job.raw["status"] == "cancelling" and not job.finished
    assert sim.requests[-1].path == f"/v1/batches/{job.id}/cancel"
    job = await api.refresh(job)
    assert job.status == "cancelled"
    results = await collect(api, job)
    assert {(type(r.error), r.error.code) for r in results.values() if r.error} == {
        (BatchJobFailedError, "cancelled")
    }
    with pytest.raises(BadRequestError, match="Cannot cancel"):  # a finished job
        await api.cancel(job)


async def test_a_job_failing_validation_fails_every_request_with_its_reason(
    sim: Simulator, model: BaseLLM
) -> None:
    api = OpenAIBatchAPI(model, metadata={"sim_fail": "invalid_json_line"})
    job = await run(api, await api.submit(triples("a", "b")))
    assert job.status == "failed" and job.raw["errors"]["data"][0]["code"] == "invalid_json_line"
    results = await collect(api, job)
    for result in results.values():
        assert isinstance(result.error, BatchJobFailedError) and result.error.code == "failed"
        assert "failed validation" in result.error.message and "line 1" in result.error.message


async def test_results_of_a_running_job_are_refused(sim: Simulator, model: BaseLLM) -> None:
    api = OpenAIBatchAPI(model)
    job = await api.submit(triples("a"))
    with pytest.raises(InvalidInputError, match="validating"):
        [r async for r in api.results(job)]


async def test_the_download_is_retried_and_read_line_by_line(sim: Simulator, model: BaseLLM) -> None:
    api = OpenAIBatchAPI(model)
    prompts = [f"question number {i}" for i in range(120)]
    job = await run(api, await api.submit(triples(*prompts, max_tokens=20)))
    sim.enqueue(Fault(status=503))
    results = await collect(api, job)
    assert all(r.ok for r in results.values())
    assert results["req-77"].unwrap().text.endswith("question number 77")
    downloads = [r for r in sim.requests if r.path.endswith("/content")]
    assert len(downloads) == 2  # the 503, then the retry


# -- checks before anything is sent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([], "at least one request"),
        ([(0, "a", BatchRequest("x")), (1, "a", BatchRequest("y"))], "also request #0"),
        ([(0, "a", BatchRequest("x", {"temperature": 5}))], r"#0 \('a'\): temperature=5"),
        ([(0, "a", BatchRequest("x", {"bogus": 1}))], "unknown parameter 'bogus'"),
        ([(0, "a", BatchRequest("x")), (1, "b", BatchRequest("y", model="gpt-4o"))], "one model"),
        ([(0, "a", "not a request")], "not a BatchRequest"),
    ],
)
async def test_bad_requests_are_refused_before_uploading(
    sim: Simulator, model: BaseLLM, requests: Sequence[Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        await OpenAIBatchAPI(model).submit(requests)
    assert sim.requests == []


async def test_oversize_batches_are_refused_before_uploading(sim: Simulator, model: BaseLLM) -> None:
    api = OpenAIBatchAPI(model)
    assert api.max_requests == 50_000 and api.max_file_bytes == 200 * 1024 * 1024
    api.max_requests = 2
    with pytest.raises(InvalidInputError, match="more than one openai batch may hold"):
        await api.submit(triples("a", "b", "c"))
    api.max_requests, api.max_file_bytes = 50_000, 500
    with pytest.raises(InvalidInputError, match=r"would be \d[\d,]* bytes"):
        await api.submit(triples(*["a long prompt " * 10] * 3))
    assert sim.requests == []


async def test_a_per_request_model_and_the_responses_api(sim: Simulator, model: BaseLLM) -> None:
    api = OpenAIBatchAPI(model)
    job = await run(api, await api.submit([(0, "a", BatchRequest("hi", model="gpt-4o"))]))
    assert (await collect(api, job))["a"].unwrap().model == "gpt-4o"
    with pytest.raises(UnsupportedOperationError, match="Chat Completions"):
        await api.submit([(0, "a", BatchRequest("hi", {"api": "responses"}))])


def test_settings_are_checked(model: BaseLLM) -> None:
    with pytest.raises(ConfigurationError, match="completion_window"):
        OpenAIBatchAPI(model, completion_window="48h")
    with pytest.raises(ConfigurationError, match="metadata"):
        OpenAIBatchAPI(model, metadata={"k": 1})  # type: ignore[dict-item]
    with pytest.raises(UnsupportedOperationError):
        OpenAIBatchAPI(object())


async def test_a_job_of_another_provider_is_refused(model: BaseLLM) -> None:
    with pytest.raises(InvalidInputError, match="belongs to provider 'anthropic'"):
        await OpenAIBatchAPI(model).refresh(
            BatchJob(id="msgbatch_1", provider="anthropic", status="in_progress")
        )


# -- Azure ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("api_version", [None, "v1"])
async def test_azure_round_trip_sends_the_deployment(sim: Simulator, api_version: str | None) -> None:
    extra: dict[str, Any] = {} if api_version is None else {"api_version": api_version}
    async with create_llm(
        "azure/gpt-4.1-mini", api_key="k", endpoint=sim.url, deployment_name="mini-batch", retry=FAST, **extra
    ) as m:
        api = batch_api_for(m)
        job = await run(api, await api.submit(triples("hello azure", "again", tools=[WEATHER_TOOL])))
        results = await collect(api, job)

    root = "/openai" if api_version is None else "/openai/v1"
    upload, create, *_ = sim.requests
    assert (upload.path, create.path) == (f"{root}/files", f"{root}/batches")
    if api_version is None:
        assert upload.query == {"api-version": "2024-10-21"} and "api-key" in upload.headers
    assert create.json["endpoint"] == "/chat/completions"
    input_path = f"{root}/files/{job.locations['input_file_id']}/content"
    query = "" if api_version else "?api-version=2024-10-21"
    lines = await file_lines(sim, input_path + query, {"api-key": "k"})
    assert {(line["url"], line["body"]["model"]) for line in lines} == {("/chat/completions", "mini-batch")}
    answer = results["req-0"].unwrap()
    assert answer.finish_reason == "tool_calls" and answer.provider == "azure"
    assert answer.cost is not None and answer.cost > 0


async def test_azure_backup_gets_its_own_deployment_and_keeps_the_job(sim: Simulator) -> None:
    async with Simulator(api_key="k") as backup:
        async with create_llm(
            "azure/gpt-4.1-mini",
            api_key="k",
            endpoint=sim.url,
            deployment_name="primary-dep",
            backups=[{"endpoint": backup.url, "deployment_name": "backup-dep"}],
            retry={"max_retries": 0},
        ) as m:
            sim.enqueue(Fault(status=503))  # the upload fails over to the backup
            api = OpenAIBatchAPI(m)
            job = await run(api, await api.submit(triples("hi")))
            assert job.locations["endpoint"] == m.connector.endpoints[1]  # type: ignore[attr-defined]
            results = await collect(api, job)
        assert results["req-0"].unwrap().model == "backup-dep"
        assert [r.path for r in sim.requests] == ["/openai/files"]  # nothing else went to the primary
        lines = await file_lines(
            backup,
            f"/openai/files/{job.locations['input_file_id']}/content?api-version=2024-10-21",
            {"api-key": "k"},
        )
        assert lines[0]["body"]["model"] == "backup-dep"


# -- secrets --------------------------------------------------------------------------------------


def fragments(secret: str, size: int = 6) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def chain(error: BaseException | None) -> list[BaseException]:
    out: list[BaseException] = []
    while error is not None and error not in out:
        out.append(error)
        error = error.__cause__ or error.__context__
    return out


def assert_no_canary(texts: Sequence[str]) -> None:
    for text in texts:
        for piece in fragments(CANARY):
            assert piece not in text, f"a piece of the key leaked: {text[:200]!r}"


async def test_an_auth_error_is_typed_and_the_key_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    async with Simulator(api_key="the-right-key") as sim:
        endpoints: tuple[tuple[str, dict[str, Any]], ...] = (
            ("openai/gpt-4.1-mini", {"endpoint": sim.url + "/v1"}),
            ("azure/gpt-4.1-mini", {"endpoint": sim.url, "deployment_name": "d"}),
        )
        for name, kw in endpoints:
            async with create_llm(name, api_key=CANARY, retry=FAST, **kw) as m:
                api = OpenAIBatchAPI(m)
                with pytest.raises(AuthenticationError) as caught:
                    await api.submit(triples("hello"))
                error: LLMError = caught.value
                assert error.status == 401
                texts += [repr(api), repr(m)]
                texts += [f"{e!s} {e!r} {getattr(e, 'body', '')}" for e in chain(error)]
        texts += [repr(r) for r in sim.requests] + [json.dumps(r.to_dict()) for r in sim.requests]
    texts += [record.getMessage() for record in caplog.records]
    assert_no_canary(texts)


async def test_a_whole_job_never_shows_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    async with Simulator(api_key=CANARY, context_chars=100) as sim:
        async with create_llm(
            "openai/gpt-4.1-mini", api_key=CANARY, endpoint=sim.url + "/v1", retry=FAST
        ) as m:
            api = OpenAIBatchAPI(m, metadata={"sim_expire_after": "2"})
            job = await api.submit(triples("ok", "y " * 200, "late"))
            texts.append(repr(job))
            job = await run(api, job)
            texts += [repr(job), json.dumps(job.raw), json.dumps(job.locations)]
            results = await collect(api, job)
        assert {type(r.error) for r in results.values()} == {
            type(None),
            ContextWindowExceededError,
            BatchJobFailedError,
        }
        for result in results.values():
            texts.append(repr(result))
            for e in chain(result.error):
                texts.append(f"{e!s} {e!r} {getattr(e, 'body', '')}")
        texts += [repr(r) for r in sim.requests]
    texts += [record.getMessage() for record in caplog.records]
    assert_no_canary(texts)


# -- the simulator's routes -----------------------------------------------------------------------


class Client:
    """Raw HTTP calls to the simulator's OpenAI routes."""

    def __init__(self, sim: Simulator, session: aiohttp.ClientSession, prefix: str = "/v1") -> None:
        self.sim, self.session, self.prefix = sim, session, prefix
        self.headers = {"Authorization": "Bearer k"}

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        url = self.sim.url + self.prefix + path
        async with self.session.request(method, url, headers=self.headers, **kw) as resp:
            return resp.status, await resp.json()

    async def upload(self, lines: Sequence[Any], purpose: str = "batch", name: str = "in.jsonl") -> str:
        form = aiohttp.FormData()
        form.add_field("purpose", purpose)
        text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
        form.add_field("file", text.encode(), filename=name, content_type="application/jsonl")
        status, body = await self.call("POST", "/files", data=form)
        assert status == 200, body
        assert body["object"] == "file" and body["purpose"] == purpose and body["bytes"] == len(text.encode())
        return str(body["id"])

    async def job(self, lines: Sequence[Any], **create: Any) -> dict[str, Any]:
        file_id = await self.upload(lines)
        payload = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        status, body = await self.call("POST", "/batches", json={**payload, **create})
        assert status == 200, body
        return dict(body)


def chat_line(custom_id: str, text: str = "hi", model: str = "gpt-4.1-mini", **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": model, "messages": [{"role": "user", "content": text}], **body},
    }


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(sim, session)


async def test_sim_batch_objects_move_on_with_each_get(client: Client) -> None:
    created = await client.job([chat_line("a"), chat_line("b", temperature=7)])
    assert created["object"] == "batch" and created["status"] == "validating"
    assert created["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    assert isinstance(created["created_at"], int) and created["expires_at"] == created["created_at"] + 86_400
    path = f"/batches/{created['id']}"
    statuses = [(await client.call("GET", path))[1] for _ in range(3)]
    assert [s["status"] for s in statuses] == ["in_progress", "completed", "completed"]
    done = statuses[-1]
    assert done["request_counts"] == {"total": 2, "completed": 1, "failed": 1}
    assert done["completed_at"] is not None and done["in_progress_at"] is not None
    status, meta = await client.call("GET", f"/files/{done['output_file_id']}")
    assert status == 200 and meta["purpose"] == "batch_output"
    output = await file_lines(client.sim, f"/v1/files/{done['output_file_id']}/content", client.headers)
    errors = await file_lines(client.sim, f"/v1/files/{done['error_file_id']}/content", client.headers)
    assert output[0]["custom_id"] == "a" and output[0]["response"]["status_code"] == 200
    assert output[0]["response"]["body"]["object"] == "chat.completion"
    assert output[0]["response"]["body"]["usage"]["total_tokens"] > 0 and output[0]["error"] is None
    assert errors[0]["custom_id"] == "b" and errors[0]["response"]["status_code"] == 400
    assert errors[0]["response"]["body"]["error"]["param"] == "temperature"
    status, listing = await client.call("GET", "/batches", params={"limit": "1"})
    assert status == 200 and listing["object"] == "list" and listing["data"][0]["id"] == created["id"]


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([chat_line("a"), chat_line("a")], "duplicate_custom_id"),
        ([chat_line("a"), chat_line("b", model="gpt-4o")], "model_mismatch"),
        ([{**chat_line("a"), "url": "/v1/embeddings"}], "invalid_url"),
        (["{not json"], "invalid_json_line"),
        ([{**chat_line("a"), "custom_id": None}], "missing_custom_id"),
    ],
)
async def test_sim_validates_the_input_file_like_openai(client: Client, lines: list[Any], code: str) -> None:
    created = await client.job(lines)
    status, body = await client.call("GET", f"/batches/{created['id']}")
    assert status == 200 and body["status"] == "failed" and body["failed_at"] is not None
    assert body["errors"]["data"][0]["code"] == code and body["output_file_id"] is None


async def test_sim_refuses_bad_creations(client: Client) -> None:
    file_id = await client.upload([chat_line("a")])
    base = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    for change, status in (
        ({"input_file_id": "file-nope"}, 404),
        ({"endpoint": "/v1/images"}, 400),
        ({"completion_window": "1h"}, 400),
        ({"metadata": {"k": 1}}, 400),
    ):
        got, body = await client.call("POST", "/batches", json={**base, **change})
        assert got == status and "error" in body
    other = await client.upload(["x"], purpose="user_data", name="x.txt")
    got, body = await client.call("POST", "/batches", json={**base, "input_file_id": other})
    assert got == 400 and "purpose" in body["error"]["message"]
    got, body = await client.call("DELETE", f"/files/{file_id}")
    assert (got, body["deleted"]) == (200, True)
    assert (await client.call("GET", f"/files/{file_id}"))[0] == 404


async def test_sim_azure_routes_check_auth_and_api_version(sim: Simulator, client: Client) -> None:
    azure = Client(sim, client.session, "/openai")
    azure.headers = {"api-key": "wrong"}
    assert (await azure.call("GET", "/batches", params={"api-version": "2024-10-21"}))[0] == 401
    azure.headers = {"api-key": "k"}
    status, body = await azure.call("GET", "/batches")
    assert status == 400 and "api-version" in body["error"]["message"]
    assert (await azure.call("GET", "/batches", params={"api-version": "2024-10-21"}))[0] == 200
