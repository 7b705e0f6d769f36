"""Amazon Bedrock batch inference (:class:`BedrockBatchAPI`) against the simulator's control plane
(``/model-invocation-job``) and path-style S3: Claude and Nova round trips, tool use and
structured output, the batch price, record errors from scripted faults, failed / stopped / expired
jobs, record ids that do not fit Bedrock's rule, refused model families and counts, the
simulator's validation, and a canary secret key that never shows."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel

from core.llms import create_llm
from core.llms.batch.provider_api import batch_api_for
from core.llms.batch.provider_api.bedrock import BedrockBatchAPI, record_error
from core.llms.batch.types import BatchJob, BatchRequest, BatchResult
from core.llms.interfaces.errors import (
    BadRequestError,
    BatchJobFailedError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedOperationError,
)
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.bedrock.adapter import control_endpoint
from core.llms.providers.bedrock.media.s3 import parse_s3_uri
from core.llms.simulator import Fault, Simulator

KEY = "AKIDSIMULATOR0001"
SECRET = "zq8Xv2Lm7Pw4Rt9Kc3Hn"
SECRET_FRAGMENTS = [SECRET[i : i + 6] for i in range(len(SECRET) - 5)]
ROLE = "arn:aws:iam::123456789012:role/BedrockBatch"
IN = "s3://batch-in/requests"
OUT = "s3://batch-out/results"
FAST = {"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def bedrock(sim: Simulator, row: str, **kw: Any) -> BaseLLM:
    kw.setdefault("retry", FAST)
    return create_llm(
        f"bedrock/{row}",
        endpoint=sim.url,
        region="us-east-1",
        s3_endpoint=sim.url + "/s3",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        **kw,
    )


def batch(model: BaseLLM, **kw: Any) -> BedrockBatchAPI:
    kw.setdefault("input_s3_uri", IN)
    kw.setdefault("output_s3_uri", OUT)
    kw.setdefault("role_arn", ROLE)
    return BedrockBatchAPI(model, **kw)


def requests(n: int = 100, *, ids: Any = None, **params: Any) -> list[tuple[int, str, BatchRequest]]:
    params.setdefault("max_tokens", 64)
    out = []
    for i in range(n):
        rid = ids(i) if ids is not None else f"q{i}"
        out.append(
            (i, rid, BatchRequest([{"role": "user", "content": f"question number {i}"}], dict(params)))
        )
    return out


async def run(
    api: BedrockBatchAPI, items: list[tuple[int, str, BatchRequest]]
) -> tuple[BatchJob, list[BatchResult]]:
    job = await api.submit(items)
    for _ in range(10):
        if job.finished:
            break
        job = await api.refresh(job)
    return job, [r async for r in api.results(job)]


async def input_lines(api: BedrockBatchAPI, job: BatchJob) -> list[dict[str, Any]]:
    data = await api._s3.get_object(parse_s3_uri(job.locations["input"]))
    return [json.loads(line) for line in data.splitlines()]


def create_body(sim: Simulator) -> dict[str, Any]:
    [record] = [r for r in sim.requests if r.method == "POST" and r.path == "/model-invocation-job"]
    assert isinstance(record.json, dict)
    return record.json


# -- round trips --------------------------------------------------------------------------------


async def test_claude_round_trip_at_half_price(sim: Simulator) -> None:
    async with (
        bedrock(sim, "claude-haiku-4-5") as model,
        batch(model, timeout_hours=48, tags={"team": "nlp"}) as api,
    ):
        job, results = await run(api, requests())
        assert job.status == "completed"
        assert job.counts == {"total": 100, "processed": 100, "completed": 100, "failed": 0}
        assert sorted(r.index for r in results) == list(range(100))
        for r in results:
            assert r.ok and r.id == f"q{r.index}"
            response = r.unwrap()
            assert response.text == f"Simulated answer to: question number {r.index}"
            assert response.finish_reason == "stop" and response.provider == "bedrock"
            assert response.usage is not None and response.usage.output_tokens > 0
            full = model.cost(response.usage)
            assert full is not None and response.cost == pytest.approx(full / 2)
        lines = await input_lines(api, job)
    assert [line["recordId"] for line in lines] == [f"q{i}" for i in range(100)]  # ids fit: used as they are
    first = lines[0]["modelInput"]
    assert first["anthropic_version"] == "bedrock-2023-05-31" and first["max_tokens"] == 64
    assert "model" not in first and "stream" not in first
    body = create_body(sim)
    assert body["roleArn"] == ROLE and body["modelId"] == job.locations["model"]
    assert body["inputDataConfig"]["s3InputDataConfig"] == {
        "s3Uri": job.locations["input"],
        "s3InputFormat": "JSONL",
    }
    assert body["outputDataConfig"] == {"s3OutputDataConfig": {"s3Uri": OUT}}
    assert body["timeoutDurationInHours"] == 48 and body["tags"] == [{"key": "team", "value": "nlp"}]
    assert (
        body["jobName"].startswith("core-llms-") and len(body["jobName"]) <= 63 and body["clientRequestToken"]
    )
    assert job.locations["input"].startswith(f"{IN}/{body['jobName']}")
    assert job.locations["output"] == f"{OUT}/{job.id.rsplit('/', 1)[-1]}/"
    signed = {r.path.split("/")[1]: r.headers["authorization"] for r in sim.requests}
    assert "/us-east-1/bedrock/aws4_request" in signed["model-invocation-job"]
    assert "/us-east-1/s3/aws4_request" in signed["s3"]


async def test_nova_round_trip_with_its_invoke_body(sim: Simulator) -> None:
    async with bedrock(sim, "nova-lite") as model, batch(model) as api:
        job, results = await run(api, requests(temperature=0.2, top_p=0.9, stop=["zzz"]))
        assert job.status == "completed" and len(results) == 100
        response = next(r for r in results if r.index == 7).unwrap()
        assert response.text == "Simulated answer to: question number 7"
        assert response.usage is not None and response.usage.input_tokens > 0
        full = model.cost(response.usage)
        assert full is not None and response.cost == pytest.approx(full / 2)
        body = (await input_lines(api, job))[0]["modelInput"]
    assert set(body) == {"messages", "inferenceConfig"}
    assert body["inferenceConfig"] == {
        "maxTokens": 64,
        "temperature": 0.2,
        "topP": 0.9,
        "stopSequences": ["zzz"],
    }
    assert body["messages"] == [{"role": "user", "content": [{"text": "question number 0"}]}]


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Verdict(BaseModel):
    label: str
    score: int


@pytest.mark.parametrize("row", ["claude-haiku-4-5", "nova-lite"])
async def test_tool_calls_and_structured_answers(sim: Simulator, row: str) -> None:
    items = requests(50, tools=[WEATHER], tool_choice="required")
    items += [(i, f"s{i}", BatchRequest([{"role": "user", "content": "judge"}], {"response_format": Verdict}))
              for i in range(50, 100)]  # fmt: skip
    async with bedrock(sim, row) as model, batch(model) as api:
        _, results = await run(api, items)
    by_index = {r.index: r.unwrap() for r in results}
    call = by_index[3]
    assert call.finish_reason == "tool_calls" and len(call.tool_calls) == 1
    assert call.tool_calls[0].function.name == "get_weather"
    assert "city" in json.loads(call.tool_calls[0].function.arguments)
    structured = by_index[60]
    assert structured.tool_calls == [] and isinstance(structured.parsed, Verdict)
    assert json.loads(structured.text) == structured.parsed.model_dump()


# -- record errors and ended jobs ----------------------------------------------------------------


async def test_record_errors_are_typed(sim: Simulator) -> None:
    async with bedrock(sim, "claude-haiku-4-5") as model, batch(model) as api:
        job = await api.submit(requests())
        # the next GET takes the first fault; the records, in order, the next ones
        sim.enqueue(
            Fault(),
            Fault(status=429, message="Too many tokens"),
            Fault(status=400, message="messages: bad"),
            Fault(status=500),
        )
        while not job.finished:
            job = await api.refresh(job)
        assert job.counts["failed"] == 3 and job.counts["completed"] == 97
        results = {r.index: r async for r in api.results(job)}
    assert isinstance(results[0].error, RateLimitError) and "Too many tokens" in results[0].error.message
    assert isinstance(results[1].error, BadRequestError) and results[1].error.status == 400
    assert isinstance(results[2].error, ServiceUnavailableError)
    assert all(
        e.provider == "bedrock" and e.model == model.name for e in (results[i].error for i in range(3))
    )
    assert all(results[i].ok for i in range(3, 100))


def test_record_error_by_name_and_status() -> None:
    assert isinstance(
        record_error({"errorCode": "ThrottlingException", "errorMessage": "slow"}), RateLimitError
    )
    assert isinstance(record_error({"errorCode": "404", "errorMessage": "gone"}), NotFoundError)
    assert isinstance(record_error({"errorCode": 503}), ServiceUnavailableError)
    assert isinstance(record_error("???"), LLMError)


async def test_a_failed_job_fails_every_request_with_its_message(sim: Simulator) -> None:
    items = requests()
    items[5] = (5, "q5", BatchRequest("[sim:fail=the role cannot read the input bucket]", {"max_tokens": 64}))
    async with bedrock(sim, "claude-haiku-4-5") as model, batch(model) as api:
        job, results = await run(api, items)
    assert job.status == "failed" and job.raw["message"] == "the role cannot read the input bucket"
    assert len(results) == 100
    for r in results:
        assert (
            isinstance(r.error, BatchJobFailedError) and r.error.code == "failed" and r.error.job_id == job.id
        )
        assert "the role cannot read the input bucket" in r.error.message and r.id in r.error.message


async def test_a_stopped_job_answers_what_it_processed(sim: Simulator) -> None:
    async with bedrock(sim, "nova-lite") as model, batch(model) as api:
        job = await api.submit(requests())
        job = await api.refresh(job)
        assert job.status == "in_progress"
        job = await api.cancel(job)  # stop, then GET: the simulator's Stopping becomes Stopped there
        assert job.status == "cancelled" and job.raw["status"] == "Stopped"
        assert await api.cancel(job) is job  # ended: nothing sent
        results = {r.index: r async for r in api.results(job)}
    assert all(results[i].ok for i in range(50))
    missing = [results[i].error for i in range(50, 100)]
    assert all(isinstance(e, BatchJobFailedError) and e.code == "cancelled" for e in missing)
    assert [r.path.rsplit("/", 1)[-1] for r in sim.requests if r.method == "POST"][-1] == "stop"


async def test_an_expired_job(sim: Simulator) -> None:
    items = requests()
    items[99] = (99, "q99", BatchRequest("slow one [sim:expire]", {"max_tokens": 64}))
    async with bedrock(sim, "claude-haiku-4-5") as model, batch(model) as api:
        job, results = await run(api, items)
    assert job.status == "expired"
    codes = {r.error.code for r in results if r.error is not None}
    assert codes == {"expired"} and sum(r.ok for r in results) == 50


async def test_results_of_a_running_job_are_refused(sim: Simulator) -> None:
    async with bedrock(sim, "claude-haiku-4-5") as model, batch(model) as api:
        job = await api.submit(requests())
        with pytest.raises(InvalidInputError, match="refresh"):
            [r async for r in api.results(job)]


# -- ids, counts, families, settings ---------------------------------------------------------------


async def test_ids_that_do_not_fit_are_mapped_by_index(sim: Simulator) -> None:
    async with bedrock(sim, "claude-haiku-4-5") as model, batch(model) as api:
        items = requests(ids=lambda i: f"doc/{i}.txt" if i % 2 else f"d{i}")
        job, results = await run(api, items)
        lines = await input_lines(api, job)
    assert [line["recordId"] for line in lines] == [f"R{i:010d}" for i in range(100)]
    assert job.request_ids == {rid: i for i, rid, _ in items}
    assert {r.index: r.id for r in results} == {i: rid for i, rid, _ in items}
    assert all(r.unwrap().text.endswith(f"number {r.index}") for r in results)


async def test_counts_outside_the_quotas_are_refused(sim: Simulator) -> None:
    async with bedrock(sim, "claude-haiku-4-5") as model:
        async with batch(model) as api:
            with pytest.raises(InvalidInputError, match="100 to 50,000 records"):
                await api.submit(requests(5))
        async with batch(model, min_records=1, max_records=10) as api:
            with pytest.raises(InvalidInputError, match="1 to 10 records"):
                await api.submit(requests(11))
            job, results = await run(api, requests(5))  # Bedrock itself refuses it
    assert job.status == "failed" and "between 100 and 50000" in job.raw["message"]
    assert all(isinstance(r.error, BatchJobFailedError) for r in results)
    assert not [r for r in sim.requests if r.path.startswith("/model/")]


async def test_other_model_families_are_refused(sim: Simulator) -> None:
    async with bedrock(sim, "llama3-3-70b") as model:
        with pytest.raises(UnsupportedOperationError, match="Anthropic Claude and Amazon Nova"):
            batch_api_for(model, input_s3_uri=IN, output_s3_uri=OUT, role_arn=ROLE)


async def test_one_bad_request_refuses_the_submission_naming_it(sim: Simulator) -> None:
    async with bedrock(sim, "nova-lite") as model, batch(model) as api:
        items = requests()
        items[42] = (42, "bad-one", BatchRequest("hi", {"temperature": 7}))
        with pytest.raises(InvalidInputError, match="'bad-one' \\(#42\\)"):
            await api.submit(items)
        items[42] = (
            42,
            "guarded",
            BatchRequest("hi", {"guardrail": {"guardrailIdentifier": "g", "guardrailVersion": "1"}}),
        )
        with pytest.raises(InvalidInputError, match="guardrailConfig"):
            await api.submit(items)
        items[42] = (42, "twice", BatchRequest("hi"))
        items[43] = (43, "twice", BatchRequest("hi"))
        with pytest.raises(InvalidInputError, match="twice"):
            await api.submit(items)
    assert sim.request_count == 0


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("role_arn", "not-a-role"),
        ("input_s3_uri", "https://bucket/x"),
        ("output_s3_uri", "s3://b/with space"),
        ("timeout_hours", 12),
        ("job_name_prefix", "-bad"),
        ("tags", [{"key": "", "value": "x"}]),
        ("min_records", 0),
    ],
)
async def test_bad_settings_are_configuration_errors(sim: Simulator, option: str, value: Any) -> None:
    async with bedrock(sim, "claude-haiku-4-5") as model:
        with pytest.raises(ConfigurationError):
            batch(model, **{option: value})


def test_the_control_plane_host_beside_the_runtime_host() -> None:
    assert (
        control_endpoint("https://bedrock-runtime.eu-west-1.amazonaws.com")
        == "https://bedrock.eu-west-1.amazonaws.com"
    )
    assert control_endpoint("https://bedrock-runtime-fips.us-east-1.amazonaws.com/") == (
        "https://bedrock-fips.us-east-1.amazonaws.com"
    )
    assert control_endpoint("http://127.0.0.1:9000/") == "http://127.0.0.1:9000"


# -- the simulator's control plane ---------------------------------------------------------------


async def test_the_simulator_validates_like_bedrock(sim: Simulator) -> None:
    async with bedrock(sim, "claude-haiku-4-5") as model, batch(model) as api:
        good = {
            "jobName": "job-1",
            "roleArn": ROLE,
            "modelId": "anthropic.claude-haiku-4-5-20251001-v1:0",
            "clientRequestToken": "token-1",
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": IN}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": OUT}},
        }

        async def create(body: dict[str, Any]) -> dict[str, Any]:
            return await api._call(WireRequest("model_invocation_job", body))

        first = await create(good)
        assert await create(good) == first  # the same clientRequestToken: the same job
        with pytest.raises(ConflictError, match="already exists"):
            await create({**good, "clientRequestToken": "token-2"})
        with pytest.raises(
            BadRequestError, match="1 validation error detected: Value 'bad name!' at 'jobName'"
        ):
            await create({**good, "jobName": "bad name!", "clientRequestToken": "token-3"})
        with pytest.raises(BadRequestError, match="between 24 and 168"):
            await create({**good, "jobName": "j3", "clientRequestToken": "t4", "timeoutDurationInHours": 200})
        with pytest.raises(BadRequestError, match="does not support batch inference"):
            await create(
                {
                    **good,
                    "jobName": "j4",
                    "clientRequestToken": "t5",
                    "modelId": "meta.llama3-3-70b-instruct-v1:0",
                }
            )
        with pytest.raises(NotFoundError, match="ResourceNotFoundException"):
            await api.refresh(BatchJob(first["jobArn"][:-12] + "0" * 12, "bedrock", "validating"))
        with pytest.raises(InvalidInputError, match="not a Bedrock model-invocation-job ARN"):
            await api.refresh(BatchJob("msgbatch_123", "bedrock", "validating"))
        job = await api.refresh(BatchJob(first["jobArn"], "bedrock", "validating"))
        assert job.status == "failed" and "Unable to find any .jsonl input" in job.raw["message"]
        stop = WireRequest("model_invocation_job", {}, path=f"/{first['jobArn']}/stop")
        with pytest.raises(BadRequestError, match="cannot be stopped: its status is Failed"):
            await api._call(stop)


async def test_s3_errors_are_typed_with_the_batch_hint(sim: Simulator) -> None:
    async with bedrock(sim, "claude-haiku-4-5") as model, batch(model) as api:
        sim.enqueue(Fault(status=403))
        with pytest.raises(PermissionDeniedError) as caught:
            await api.submit(requests())
    assert "s3:PutObject" in (caught.value.hint or "")


# -- secrets ------------------------------------------------------------------------------------


async def test_the_secret_key_never_shows(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[Any] = []
    async with bedrock(sim, "claude-haiku-4-5") as model, batch(model) as api:
        shown += [api, model]
        sim.enqueue(Fault(status=403, message="denied"))
        with pytest.raises(LLMError) as s3_error:
            await api.submit(requests())
        sim.enqueue(Fault(), Fault(status=403, message="no access"))  # the PUT, then the create
        with pytest.raises(LLMError) as control_error:
            await api.submit(requests())
        items = requests()
        items[0] = (0, "q0", BatchRequest("[sim:fail]", {"max_tokens": 64}))
        job, results = await run(api, items)
        shown += [s3_error.value, control_error.value, job, *results, *(r.error for r in results)]
    texts: list[str] = [caplog.text]
    for item in shown:
        texts += [str(item), repr(item)]
        if isinstance(item, BaseException):
            texts += [str(item.__cause__), str(item.__context__), repr(getattr(item, "body", None))]
    leaked = [fragment for fragment in SECRET_FRAGMENTS for text in texts if fragment in text]
    assert not leaked, leaked[:3]
    assert all(SECRET not in json.dumps(r.json) for r in sim.requests)
