"""Anthropic's Message Batches (:class:`AnthropicBatchAPI`) against the simulator's batch routes:
the round trip (bodies exactly as get_answer sends them, polling, JSON Lines results), tools and
thinking carried across batches, structured output, the batch price, errored / cancelled /
expired / missing results typed, custom_id mapping (and a journal resume that finds it again),
limits refused before sending, auth errors, failover pinning, a broken download read again, and
an API key that never shows in an error, a repr or a log line. Then the simulator's routes over
raw HTTP (validation, listing, deletion)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel

from core.llms import create_llm
from core.llms.batch import RequestManager
from core.llms.batch.provider_api import batch_api_for
from core.llms.batch.provider_api.anthropic import AnthropicBatchAPI, anthropic_custom_ids
from core.llms.batch.types import BatchJob, BatchRequest, BatchResult, IBatchAPI
from core.llms.interfaces import Message
from core.llms.interfaces.errors import (
    AuthenticationError,
    BadRequestError,
    BatchJobFailedError,
    ConfigurationError,
    InvalidInputError,
    LLMError,
    ServiceUnavailableError,
    UnsupportedOperationError,
)
from core.llms.providers.dialects.anthropic_messages import assistant_message
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.batch_anthropic_routes import EXPIRE_TRIGGER

KEY = "zq8Xv2Lm7Pw4Rt9Kc3Hn"  # the canary: never in an error, a repr or a log line
MODEL = "anthropic/claude-sonnet-4-5"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
THINKING = {"type": "enabled", "budget_tokens": 2048}
SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


class Weather(BaseModel):
    city: str
    celsius: float


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


@pytest.fixture
async def model(sim: Simulator) -> AsyncIterator[Any]:
    async with create_llm(MODEL, endpoint=sim.url, api_key=KEY) as m:
        yield m


def triples(
    *requests: BatchRequest | str, ids: list[str] | None = None
) -> list[tuple[int, str, BatchRequest]]:
    out = []
    for i, request in enumerate(requests):
        req = request if isinstance(request, BatchRequest) else BatchRequest(request)
        out.append((i, ids[i] if ids else f"r{i}", req))
    return out


async def finish(api: AnthropicBatchAPI, job: BatchJob, limit: int = 10) -> BatchJob:
    for _ in range(limit):
        if job.finished:
            return job
        job = await api.refresh(job)
    raise AssertionError(f"the job did not finish: {job}")


async def collect(api: AnthropicBatchAPI, job: BatchJob) -> dict[str, BatchResult]:
    results = [r async for r in api.results(job)]
    by_id = {r.id: r for r in results}
    assert len(by_id) == len(results) == len(job.request_ids), "one result per request"
    assert all(job.request_ids[r.id] == r.index for r in results)
    return by_id


def created_body(sim: Simulator) -> dict[str, Any]:
    (create,) = [r for r in sim.requests if r.method == "POST" and r.path == "/v1/messages/batches"]
    body: dict[str, Any] = create.json
    return body


# ------------------------------------------------------------------------------ the round trip


async def test_round_trip(sim: Simulator, model: Any) -> None:
    api = batch_api_for(model)
    assert isinstance(api, AnthropicBatchAPI) and isinstance(api, IBatchAPI)
    requests = triples(
        BatchRequest([Message.system("Be brief."), Message.user("hello there")], {"temperature": 0.5}),
        BatchRequest("one two three four five six", {"max_tokens": 3}),
        BatchRequest("alpha beta gamma delta", {"stop": ["gamma"]}),
    )
    job = await api.submit(requests)
    assert (job.provider, job.status, job.request_ids) == (
        "anthropic",
        "in_progress",
        {"r0": 0, "r1": 1, "r2": 2},
    )
    assert job.counts["processing"] == 3 and job.counts["total"] == 3
    assert job.locations == {"endpoint": sim.url} and job.id.startswith("msgbatch_")

    live = await model.get_answer([Message.system("Be brief."), Message.user("hello there")], temperature=0.5)
    body = created_body(sim)
    assert body["requests"][0] == {"custom_id": "r0", "params": sim.requests[-1].json}, "get_answer's body"
    assert body["requests"][1]["params"]["max_tokens"] == 3
    assert body["requests"][2]["params"]["stop_sequences"] == ["gamma"]
    create = sim.requests[0]
    assert create.headers["x-api-key"] == KEY and create.headers["anthropic-version"] == "2023-06-01"
    assert "anthropic-beta" not in create.headers

    polled = await api.refresh(job)
    assert polled.status == "in_progress" and polled.raw["processing_status"] == "in_progress"
    ended = await api.refresh(polled)
    assert ended.status == "completed" and ended.finished
    assert ended.counts == {
        "processing": 0,
        "succeeded": 3,
        "errored": 0,
        "canceled": 0,
        "expired": 0,
        "total": 3,
        "completed": 3,
        "failed": 0,
    }
    assert ended.locations["results_url"] == f"{sim.url}/v1/messages/batches/{job.id}/results"
    assert ended.raw["type"] == "message_batch" and ended.raw["ended_at"] and ended.raw["expires_at"]

    results = await collect(api, ended)
    first = results["r0"].unwrap()
    assert (first.text, first.finish_reason, first.model) == (live.text, "stop", live.model)
    assert first.usage == live.usage and first.endpoint == sim.url
    assert first.cost == pytest.approx(live.cost / 2)
    assert (results["r1"].unwrap().text, results["r1"].unwrap().finish_reason) == (
        "Simulated answer to:",
        "length",
    )
    stopped = results["r2"].unwrap()
    assert (stopped.text, stopped.finish_reason) == ("Simulated answer to: alpha beta ", "stop")
    paths = [(r.method, r.path) for r in sim.requests if "batches" in r.path]
    assert paths[-1] == ("GET", f"/v1/messages/batches/{job.id}/results")
    assert sim.requests[-1].headers["x-api-key"] == KEY
    await api.close()


async def test_results_of_a_job_not_ended_are_refused(model: Any) -> None:
    api = AnthropicBatchAPI(model)
    job = await api.submit(triples("hi"))
    with pytest.raises(InvalidInputError, match="once it ended"):
        [r async for r in api.results(job)]


async def test_tools_and_thinking_across_batches(sim: Simulator, model: Any) -> None:
    api = AnthropicBatchAPI(model)
    params: dict[str, Any] = {"tools": [WEATHER], "thinking": THINKING}
    job = await finish(api, await api.submit(triples(BatchRequest("weather in Oslo?", params))))
    first = (await collect(api, job))["r0"].unwrap()
    live = await model.get_answer("weather in Oslo?", **params)
    assert first.finish_reason == "tool_calls" == live.finish_reason
    assert first.reasoning == "Simulated reasoning about: weather in Oslo?"
    (call,) = first.tool_calls
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "sample city"})
    assert created_body(sim)["requests"][0]["params"]["thinking"] == THINKING

    turn = assistant_message(first)  # the thinking block goes back with its signature
    assert [b["type"] for b in turn["content"]] == ["thinking", "tool_use"]
    history: list[Any] = [Message.user("weather in Oslo?"), turn, Message.tool(call.id, "-3 C")]
    lost = [Message.user("weather in Oslo?"), Message.assistant(tool_calls=first.tool_calls), history[2]]
    job2 = await finish(
        api, await api.submit(triples(BatchRequest(history, params), BatchRequest(lost, params)))
    )
    second = await collect(api, job2)
    final = second["r0"].unwrap()
    assert (final.text, final.finish_reason) == ("Based on the tool result: -3 C", "stop")
    assert final.reasoning == "Simulated reasoning about: the tool result."
    refused = second["r1"].error  # without its thinking block the turn is invalid: errored
    assert isinstance(refused, BadRequestError) and "thinking" in refused.message
    assert refused.code == "invalid_request_error" and refused.provider == "anthropic"


async def test_structured_output_in_this_process_and_another(sim: Simulator, model: Any) -> None:
    api = AnthropicBatchAPI(model)
    job = await finish(
        api, await api.submit(triples(BatchRequest("weather as JSON", {"response_format": Weather})))
    )
    assert json.loads(job.locations["format_tools"]) == {"r0": "Weather"}
    answer = (await collect(api, job))["r0"].unwrap()
    assert answer.parsed == Weather(city="sample city", celsius=1.5)
    assert (answer.finish_reason, answer.tool_calls) == ("stop", [])
    other = AnthropicBatchAPI(model)  # another process: the job read back from a journal
    again = (await collect(other, job))["r0"].unwrap()
    assert again.parsed == {"city": "sample city", "celsius": 1.5} and json.loads(again.text) == again.parsed


async def test_batch_price_with_one_hour_cache_writes(sim: Simulator, model: Any) -> None:
    long_system = "You are a meticulous assistant. " * 200
    messages = [Message.system(long_system), Message.user("hello")]
    params = {"cache_system": "1h"}
    api = AnthropicBatchAPI(model)
    job = await finish(api, await api.submit(triples(BatchRequest(messages, params))))
    batch = (await collect(api, job))["r0"].unwrap()
    live = await model.get_answer(messages, **params)  # the Messages route's cache: written too
    assert batch.usage is not None and batch.usage.cache_write_input_tokens > 0
    assert batch.raw["usage"]["cache_creation"]["ephemeral_1h_input_tokens"] > 0
    assert batch.usage == live.usage
    assert batch.cost == pytest.approx(live.cost * model.metadata.pricing.batch_factor)
    assert live.cost != pytest.approx(model.cost(live.usage)), "the one-hour price differs"


async def test_betas_go_in_the_creation_header(sim: Simulator, model: Any) -> None:
    api = AnthropicBatchAPI(model)
    await api.submit(
        triples(
            BatchRequest("a", {"betas": ["beta-one"]}),
            BatchRequest("b", {"betas": ["beta-two", "beta-one"]}),
            BatchRequest("c"),
        )
    )
    assert sim.requests[0].headers["anthropic-beta"] == "beta-one,beta-two"


# ------------------------------------------------------------------------------ failures


async def test_errored_cancelled_and_expired_results_are_typed(sim: Simulator, model: Any) -> None:
    api = AnthropicBatchAPI(model)
    sim.enqueue(Fault(), Fault(status=529), Fault(status=429, message="slow down"))
    requests = triples(
        "overloaded",
        "rate limited",
        BatchRequest([Message.user("q"), Message.tool("toolu_nowhere", "x")], {"tools": [WEATHER]}),
        f"too late {EXPIRE_TRIGGER}",
        "fine",
    )
    results = await collect(api, await finish(api, await api.submit(requests)))
    overloaded = results["r0"].error
    assert isinstance(overloaded, ServiceUnavailableError) and overloaded.code == "overloaded_error"
    assert results["r1"].error is not None and results["r1"].error.message == "slow down"
    invalid = results["r2"].error
    assert isinstance(invalid, BadRequestError) and "tool_use_id" in invalid.message
    expired = results["r3"].error
    assert isinstance(expired, BatchJobFailedError) and expired.code == "expired"
    assert expired.job_id is not None and expired.job_id.startswith("msgbatch_")
    assert results["r4"].ok
    for result in results.values():
        if result.error is not None:
            assert (result.error.provider, result.error.model, result.error.endpoint) == (
                "anthropic",
                model.name,
                sim.url,
            )


async def test_cancel_keeps_what_ran_and_cancels_the_rest(sim: Simulator, model: Any) -> None:
    api = AnthropicBatchAPI(model)
    job = await api.submit(triples("a", "b", "c", "d"))
    job = await api.refresh(job)  # the first half runs
    canceling = await api.cancel(job)
    assert canceling.status == "in_progress" and canceling.raw["processing_status"] == "canceling"
    assert not canceling.finished
    ended = await api.refresh(canceling)
    assert ended.status == "cancelled" and ended.counts["canceled"] == 2 and ended.counts["succeeded"] == 2
    results = await collect(api, ended)
    assert results["r0"].ok and results["r1"].ok
    for name in ("r2", "r3"):
        error = results[name].error
        assert isinstance(error, BatchJobFailedError) and error.code == "cancelled" and error.job_id == job.id
    assert (await api.cancel(ended)).status == "cancelled", "cancelling an ended job changes nothing"


async def test_a_broken_download_is_read_again_and_a_short_one_leaves_requests_missing(
    sim: Simulator, model: Any
) -> None:
    api = AnthropicBatchAPI(model)
    job = await finish(api, await api.submit(triples("a", "b", "c", "d")))
    sim.enqueue(Fault(drop="after_first_chunk"))
    results = await collect(api, job)
    assert all(r.ok for r in results.values())
    downloads = [r for r in sim.requests if r.path.endswith("/results")]
    assert len(downloads) == 2

    sim.enqueue(Fault(truncate_stream=True))
    short = await collect(api, job)
    missing = [r.error for r in short.values() if r.error is not None]
    assert len(missing) == 2
    assert all(isinstance(e, BatchJobFailedError) and e.code == "missing" for e in missing)


async def test_auth_errors_are_typed(sim: Simulator) -> None:
    async with create_llm(MODEL, endpoint=sim.url, api_key="wrong-key-123456") as m:
        api = AnthropicBatchAPI(m)
        with pytest.raises(AuthenticationError) as caught:
            await api.submit(triples("hi"))
        assert caught.value.provider == "anthropic" and caught.value.status == 401
        job = BatchJob(
            "msgbatch_sim_999999", "anthropic", "completed", {"r0": 0}, locations={"endpoint": sim.url}
        )
        with pytest.raises(AuthenticationError):
            await api.refresh(job)


async def test_unknown_jobs_and_bad_inputs(sim: Simulator, model: Any) -> None:
    api = AnthropicBatchAPI(model)
    with pytest.raises(BadRequestError) as caught:  # 404 not_found_error
        await api.refresh(BatchJob("msgbatch_nowhere", "anthropic", "in_progress", {"r0": 0}))
    assert caught.value.status == 404
    with pytest.raises(InvalidInputError, match="not a Message Batch id"):
        await api.refresh(BatchJob("../v1/messages", "anthropic", "in_progress"))
    with pytest.raises(InvalidInputError, match="provider 'openai'"):
        await api.refresh(BatchJob("batch_1", "openai", "in_progress"))
    with pytest.raises(ConfigurationError, match="endpoint"):
        await api.refresh(
            BatchJob("msgbatch_1", "anthropic", "in_progress", locations={"endpoint": "elsewhere"})
        )
    with pytest.raises(InvalidInputError, match="at least one"):
        await api.submit([])
    with pytest.raises(InvalidInputError, match="also request #0"):
        await api.submit([(0, "x", BatchRequest("a")), (1, "x", BatchRequest("b"))])
    with pytest.raises(InvalidInputError, match=r"batch request #1 \('bad'\).*temperature"):
        await api.submit([(0, "ok", BatchRequest("a")), (1, "bad", BatchRequest("b", {"temperature": 7}))])
    with pytest.raises(UnsupportedOperationError):
        AnthropicBatchAPI(object())
    with pytest.raises(ConfigurationError):
        AnthropicBatchAPI(model, max_bytes=10**12)
    assert not [r for r in sim.requests if r.method == "POST"], "nothing was created"


async def test_limits_are_refused_before_sending(sim: Simulator, model: Any) -> None:
    api = AnthropicBatchAPI(model)
    many = [(i, f"r{i}", BatchRequest("x")) for i in range(100_001)]
    with pytest.raises(InvalidInputError, match="100,000"):
        await api.submit(many)
    small = AnthropicBatchAPI(model, max_bytes=4_000)
    with pytest.raises(InvalidInputError, match=r"4,000 bytes\) by request #2 \('r2'\)"):
        await small.submit(triples("a" * 1_000, "b" * 1_000, "c" * 2_000))
    assert sim.request_count == 0
    assert len(created_body_or_none(sim)) == 0
    few = AnthropicBatchAPI(model, max_requests=2)
    with pytest.raises(InvalidInputError, match=r"3 requests .* \(2\)"):
        await few.submit(triples("a", "b", "c"))


def created_body_or_none(sim: Simulator) -> list[Any]:
    return [r for r in sim.requests if r.path == "/v1/messages/batches"]


async def test_a_failed_over_job_stays_on_its_endpoint() -> None:
    async with Simulator(api_key=KEY) as down, Simulator(api_key=KEY) as backup:
        down.set_default_fault(Fault(status=529))
        async with create_llm(MODEL, endpoint=down.url, api_key=KEY, backups=[{"endpoint": backup.url}]) as m:
            api = AnthropicBatchAPI(m)
            job = await api.submit(triples("a", "b"))
            assert job.locations["endpoint"] == backup.url
            down.set_default_fault(None)  # healthy again: the job still lives on the backup only
            results = await collect(api, await finish(api, job))
    assert all(r.ok for r in results.values())
    assert not [r for r in down.requests if r.method == "GET"]
    assert [r.method for r in backup.requests] == ["POST", "GET", "GET", "GET"]


# ------------------------------------------------------------------------------ custom ids


def test_custom_ids_are_safe_unique_and_stable() -> None:
    ids = ["plain_id-1", "q 1", "#2", "é/x", "x" * 70, "a b", "a_b", "A" * 64]
    mapping = anthropic_custom_ids(ids)
    assert mapping["plain_id-1"] == "plain_id-1" and mapping["A" * 64] == "A" * 64
    assert all(SAFE.match(v) for v in mapping.values())
    assert len(set(mapping.values())) == len(ids)
    assert mapping["q 1"].startswith("q_1-") and mapping["#2"].startswith("_2-")
    assert anthropic_custom_ids(reversed(ids)) == mapping, "a function of the ids alone"
    clash = anthropic_custom_ids(["a b", mapping["a b"]])  # a raw id equal to another's derived id
    assert clash[mapping["a b"]] == mapping["a b"] and clash["a b"] != mapping["a b"]
    assert SAFE.match(clash["a b"])


async def test_ids_with_other_characters_round_trip(sim: Simulator, model: Any) -> None:
    ids = ["q 1", "#2", "é/x", "ok"]
    api = AnthropicBatchAPI(model)
    job = await api.submit(triples("a", "b", "c", "d", ids=ids))
    assert job.request_ids == {"q 1": 0, "#2": 1, "é/x": 2, "ok": 3}
    sent = [entry["custom_id"] for entry in created_body(sim)["requests"]]
    assert all(SAFE.match(c) for c in sent) and sent[3] == "ok"
    job = await finish(api, job)
    results = await collect(api, job)
    assert {k: r.unwrap().text for k, r in results.items()} == {
        "q 1": "Simulated answer to: a",
        "#2": "Simulated answer to: b",
        "é/x": "Simulated answer to: c",
        "ok": "Simulated answer to: d",
    }


async def test_manager_resumes_the_same_job_with_mapped_ids(
    sim: Simulator, model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [{"messages": f"m{i}", "id": f"req {i}/x"} for i in range(3)]
    path = tmp_path / "journal.jsonl"

    class Died(Exception):
        pass

    async def die(*_: Any) -> None:
        raise Died

    with monkeypatch.context() as patch:
        patch.setattr("core.llms.batch.provider_runner.asyncio.sleep", die)
        async with RequestManager(
            model, provider_batch=True, poll_interval=0.001, show_progress=False, journal=path
        ) as first:
            with pytest.raises(Died):
                await first.aprocess_batch(items)
    async with RequestManager(
        model, provider_batch=True, poll_interval=0.001, show_progress=False, journal=path
    ) as again:
        results = await again.aprocess_batch(items)
    assert [r.id for r in results] == ["req 0/x", "req 1/x", "req 2/x"]
    assert [r.unwrap().text for r in results] == [f"Simulated answer to: m{i}" for i in range(3)]
    assert len(created_body_or_none(sim)) == 1, "the requests were submitted twice"


# ------------------------------------------------------------------------------ the canary


def fragments(secret: str, size: int = 6) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def assert_clean(text: str) -> None:
    for piece in fragments(KEY):
        assert piece not in text, f"a fragment of the API key leaked: {text[:300]!r}"


def error_text(error: BaseException) -> str:
    parts = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(getattr(current, "body", None)), str(current.args)]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


async def test_the_api_key_never_leaks(sim: Simulator, model: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api = AnthropicBatchAPI(model)
    echo = f"invalid x-api-key {KEY}"
    texts: list[str] = [repr(api)]
    sim.enqueue(Fault(status=401, message=echo))  # the creation answers with the key in its message
    with pytest.raises(AuthenticationError) as caught:
        await api.submit(triples("a"))
    texts.append(error_text(caught.value))
    sim.enqueue(Fault(), Fault(status=400, message=echo), Fault(error_event=True, message=echo))
    job = await finish(api, await api.submit(triples("a", "b", f"c {EXPIRE_TRIGGER}", "d")))
    texts += [repr(job), str(job.locations), str(job.request_ids)]
    results = await collect(api, job)
    errors = [r.error for r in results.values() if r.error is not None]
    assert len(errors) == 3
    texts += [error_text(e) for e in errors] + [repr(r) for r in results.values()]
    sim.enqueue(
        Fault(status=503, message=echo), Fault(status=503, message=echo), Fault(status=503, message=echo)
    )
    with pytest.raises(LLMError) as failed:
        await api.refresh(job)
    texts.append(error_text(failed.value))
    ours = [r for r in caplog.records if not r.name.startswith("core.llms.simulator")]  # (the faults' own)
    texts += [record.getMessage() for record in ours] + [str(record.args) for record in ours]
    assert any("invalid x-api-key" in t for t in texts), "the echoed messages were seen"
    for text in texts:
        assert_clean(text)


# ------------------------------------------------------------------------------ the routes, raw


HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
PARAMS = {"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


async def call(
    sim: Simulator, method: str, path: str, body: Any = None, headers: Any = None
) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(
        method, f"{sim.url}{path}", json=body, headers=HEADERS if headers is None else headers
    ) as r:
        raw = await r.read()
        try:
            return r.status, json.loads(raw)
        except ValueError:
            return r.status, raw


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"requests": []}, "at least 1 item"),
        ({"requests": [{"custom_id": "a b", "params": PARAMS}]}, "String should match pattern"),
        ({"requests": [{"custom_id": "x" * 65, "params": PARAMS}]}, "String should match pattern"),
        (
            {"requests": [{"custom_id": "a", "params": PARAMS}, {"custom_id": "a", "params": PARAMS}]},
            "Duplicate",
        ),
        ({"requests": [{"custom_id": "a", "params": PARAMS, "extra": 1}]}, "Extra inputs"),
        ({"requests": [{"custom_id": "a"}]}, "params: Field required"),
        ({"requests": "no"}, "valid list"),
        ({"other": 1}, "Extra inputs"),
    ],
)
async def test_route_validates_the_creation(sim: Simulator, body: Any, message: str) -> None:
    status, answer = await call(sim, "POST", "/v1/messages/batches", body)
    assert status == 400 and answer["error"]["type"] == "invalid_request_error"
    assert message in answer["error"]["message"]


async def test_route_list_results_cancel_delete_and_auth(sim: Simulator) -> None:
    assert (await call(sim, "POST", "/v1/messages/batches", {"requests": []}, {"x-api-key": KEY}))[0] == 400
    status, answer = await call(
        sim, "GET", "/v1/messages/batches", headers={"anthropic-version": "2023-06-01"}
    )
    assert status == 401 and answer["error"]["type"] == "authentication_error"
    ids = []
    for _ in range(3):
        status, batch = await call(
            sim, "POST", "/v1/messages/batches", {"requests": [{"custom_id": "a", "params": PARAMS}]}
        )
        assert status == 200 and batch["processing_status"] == "in_progress" and batch["results_url"] is None
        ids.append(batch["id"])
    status, listed = await call(sim, "GET", "/v1/messages/batches?limit=2")
    assert [b["id"] for b in listed["data"]] == [ids[2], ids[1]] and listed["has_more"] is True
    status, rest = await call(sim, "GET", f"/v1/messages/batches?limit=2&after_id={listed['last_id']}")
    assert [b["id"] for b in rest["data"]] == [ids[0]] and rest["has_more"] is False
    status, early = await call(sim, "GET", f"/v1/messages/batches/{ids[0]}/results")
    assert status == 400 and "has not ended" in early["error"]["message"]
    assert (await call(sim, "DELETE", f"/v1/messages/batches/{ids[0]}"))[0] == 400
    status, canceling = await call(sim, "POST", f"/v1/messages/batches/{ids[0]}/cancel")
    assert canceling["processing_status"] == "canceling" and canceling["cancel_initiated_at"]
    status, ended = await call(sim, "GET", f"/v1/messages/batches/{ids[0]}")
    assert ended["processing_status"] == "ended" and ended["request_counts"]["canceled"] == 1
    status, line = await call(sim, "GET", f"/v1/messages/batches/{ids[0]}/results")  # one line: one JSON
    assert status == 200 and line == {"custom_id": "a", "result": {"type": "canceled"}}
    status, deleted = await call(sim, "DELETE", f"/v1/messages/batches/{ids[0]}")
    assert deleted == {"id": ids[0], "type": "message_batch_deleted"}
    status, gone = await call(sim, "GET", f"/v1/messages/batches/{ids[0]}")
    assert status == 404 and gone["error"]["type"] == "not_found_error"
    status, _ = await call(sim, "GET", f"/v1/messages/batches/{ids[1]}", headers={"x-api-key": KEY})
    assert status == 400, "anthropic-version is required"


async def test_route_errors_invalid_params_and_streams(sim: Simulator) -> None:
    requests = [
        {"custom_id": "ok", "params": PARAMS},
        {"custom_id": "nomax", "params": {k: v for k, v in PARAMS.items() if k != "max_tokens"}},
        {"custom_id": "stream", "params": {**PARAMS, "stream": True}},
    ]
    status, batch = await call(sim, "POST", "/v1/messages/batches", {"requests": requests})
    for _ in range(2):
        status, batch = await call(sim, "GET", f"/v1/messages/batches/{batch['id']}")
    assert batch["request_counts"] == {
        "processing": 0,
        "succeeded": 1,
        "errored": 2,
        "canceled": 0,
        "expired": 0,
    }
    status, raw = await call(sim, "GET", f"/v1/messages/batches/{batch['id']}/results")
    assert status == 200
    lines = {line["custom_id"]: line["result"] for line in map(json.loads, raw.splitlines())}
    assert lines["ok"]["message"]["usage"]["output_tokens"] > 0
    assert lines["nomax"]["error"]["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }
    assert "cannot be streamed" in lines["stream"]["error"]["error"]["message"]
