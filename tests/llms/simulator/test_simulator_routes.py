"""Routes, auth, headers and request recording of the simulator (raw aiohttp, no client code)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from simulator_helpers import AZURE_VERSION, Api, user

from core.llms.simulator import Fault, Simulator


async def test_openai_chat_completion_body(api: Api) -> None:
    body = await api.chat(user("What is the capital of France?"))
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o"
    assert isinstance(body["created"], int)
    [choice] = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "Simulated answer to: What is the capital of France?"
    assert "prompt_filter_results" not in body
    assert "content_filter_results" not in choice
    usage = body["usage"]
    assert usage["completion_tokens"] == len(choice["message"]["content"].split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


async def test_answers_are_deterministic(api: Api) -> None:
    first = await api.chat(user("same question"))
    second = await api.chat(user("same question"))
    assert first["choices"] == second["choices"]
    assert first["usage"] == second["usage"]
    assert first["id"] != second["id"]


async def test_prompt_tokens_grow_with_the_prompt(api: Api) -> None:
    short = await api.chat(user("one"))
    longer = await api.chat(
        {
            "model": "gpt-4o",
            "messages": [{"role": "system", "content": "be brief"}, *user("one two three")["messages"]],
        }
    )
    assert longer["usage"]["prompt_tokens"] > short["usage"]["prompt_tokens"] + 3


async def test_long_user_text_is_echoed_shortened(api: Api) -> None:
    text = " ".join(f"w{i}" for i in range(200))
    content = (await api.chat(user(text)))["choices"][0]["message"]["content"]
    assert content.startswith("Simulated answer to: w0 w1")
    assert len(content.split()) < 50


async def test_request_ids_are_counter_based(api: Api) -> None:
    _, h1, _ = await api.post(user("a"))
    _, h2, _ = await api.post(user("b"))
    assert h1["x-request-id"] == "req_sim_000001"
    assert h2["x-request-id"] == "req_sim_000002"


async def test_concurrent_requests_keep_their_own_ids(api: Api) -> None:
    api.sim.enqueue(*[Fault(delay=0.05 * (i % 3)) for i in range(12)])
    results = await asyncio.gather(*(api.post(user(f"question {i}")) for i in range(12)))
    ids = set()
    for i, (status, headers, raw) in enumerate(results):
        assert status == 200
        body = json.loads(raw)
        number = int(headers["x-request-id"].removeprefix("req_sim_"))
        assert body["id"] == f"chatcmpl-sim-{number}"
        assert body["choices"][0]["message"]["content"] == f"Simulated answer to: question {i}"
        ids.add(number)
    assert ids == set(range(1, 13))


async def test_models_list_and_one_model(api: Api) -> None:
    headers = api.auth("openai")
    async with api.session.get(f"{api.sim.url}/v1/models", headers=headers) as resp:
        assert resp.status == 200
        listing = await resp.json()
    assert listing["object"] == "list"
    ids = [m["id"] for m in listing["data"]]
    assert "gpt-4o" in ids and "o3-mini" in ids
    async with api.session.get(f"{api.sim.url}/v1/models/gpt-4o-mini", headers=headers) as resp:
        assert (await resp.json())["id"] == "gpt-4o-mini"
    async with api.session.get(f"{api.sim.url}/v1/models/nope", headers=headers) as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "model_not_found"
    async with api.session.get(f"{api.sim.url}/v1/models") as resp:
        assert resp.status == 401
    async with api.session.get(f"{api.sim.url}/openai/v1/models", headers={"api-key": "k"}) as resp:
        assert resp.status == 200
        assert "apim-request-id" in resp.headers


async def test_unknown_route_is_openai_404(api: Api) -> None:
    async with api.session.post(f"{api.sim.url}/v1/completionz", json={}) as resp:
        assert resp.status == 404
        body = await resp.json()
    assert body["error"]["message"] == "Invalid URL (POST /v1/completionz)"
    assert body["error"]["type"] == "invalid_request_error"
    async with api.session.get(f"{api.sim.url}/v1/chat/completions") as resp:
        assert resp.status == 404


async def test_azure_deployment_route(api: Api) -> None:
    status, headers, raw = await api.post(
        {"messages": [{"role": "user", "content": "Hello Azure"}]}, "azure", deployment="my-gpt4o"
    )
    assert status == 200
    body = json.loads(raw)
    assert body["model"] == "my-gpt4o"
    assert body["choices"][0]["message"]["content"] == "Simulated answer to: Hello Azure"
    [prompt_filter] = body["prompt_filter_results"]
    assert prompt_filter["prompt_index"] == 0
    assert prompt_filter["content_filter_results"]["jailbreak"] == {"filtered": False, "detected": False}
    results = body["choices"][0]["content_filter_results"]
    assert set(results) >= {"hate", "self_harm", "sexual", "violence"}
    assert results["hate"] == {"filtered": False, "severity": "safe"}
    assert headers["apim-request-id"]
    assert headers["x-request-id"] == "req_sim_000001"
    assert headers["x-ms-deployment-name"] == "my-gpt4o"


async def test_azure_deployment_model_wins_over_body_model(api: Api) -> None:
    body = await api.chat(user("hi", model="something-else"), "azure", deployment="dep1")
    assert body["model"] == "dep1"


async def test_azure_v1_route(api: Api) -> None:
    body = await api.chat(user("hi there", model="gpt-5-mini"), "azure_v1")
    assert body["model"] == "gpt-5-mini"
    assert "prompt_filter_results" in body
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    status, err = await api.error({"messages": [{"role": "user", "content": "x"}]}, "azure_v1")
    assert status == 400  # the v1 route needs a model in the body
    assert err["error"]["message"] == "you must provide a model parameter"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Missing required query parameter 'api-version'."),
        ("?api-version=banana", "API version not supported"),
    ],
)
async def test_azure_api_version_is_required(api: Api, query: str, message: str) -> None:
    url = f"{api.sim.url}/openai/deployments/d/chat/completions{query}"
    async with api.session.post(url, json=user("x"), headers={"api-key": "k"}) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert body == {"error": {"code": "BadRequest", "message": message}}


async def test_azure_preview_api_version_accepted(api: Api) -> None:
    url = f"{api.sim.url}/openai/deployments/d/chat/completions?api-version=2025-04-01-preview"
    async with api.session.post(url, json=user("x"), headers={"api-key": "k"}) as resp:
        assert resp.status == 200


# ---------------------------------------------------------------------------- auth


async def test_openai_missing_key_is_401(api: Api) -> None:
    status, body = await api.error(user("x"), headers={})
    assert status == 401
    assert "didn't provide an API key" in body["error"]["message"]
    status, body = await api.error(user("x"), headers={"Authorization": "Bearer "})
    assert status == 401


async def test_azure_missing_key_is_401(api: Api) -> None:
    status, body = await api.error(user("x"), "azure", headers={})
    assert status == 401
    assert body["error"]["code"] == "401"


async def test_any_key_accepted_without_api_key(api: Api) -> None:
    for key in ("a", "sk-whatever"):
        status, _, _ = await api.post(user("x"), headers=api.auth("openai", key))
        assert status == 200


async def test_configured_api_key_is_enforced(session: aiohttp.ClientSession) -> None:
    async with Simulator(api_key="sk-right") as sim:
        api = Api(sim, session)
        assert (await api.post(user("x"), headers=api.auth("openai", "sk-right")))[0] == 200
        status, body = await api.error(user("x"), headers=api.auth("openai", "sk-wrong"))
        assert status == 401
        assert body["error"]["code"] == "invalid_api_key"
        assert body["error"]["type"] == "invalid_request_error"
        assert "sk-wrong" not in json.dumps(body)
        # Azure: api-key header or bearer token, both compared with the key
        assert (await api.post(user("x"), "azure", headers={"api-key": "sk-right"}))[0] == 200
        assert (await api.post(user("x"), "azure", headers={"Authorization": "Bearer sk-right"}))[0] == 200
        status, body = await api.error(user("x"), "azure", headers={"api-key": "sk-wrong"})
        assert status == 401
        assert "invalid subscription key" in body["error"]["message"]
        status, body = await api.error(user("x"), "azure_v1", headers={"Authorization": "Bearer nope"})
        assert status == 401
        assert "Access token" in body["error"]["message"]


# ---------------------------------------------------------------------------- records and lifecycle


async def test_requests_are_recorded(api: Api) -> None:
    await api.post(user("recorded"), headers={"Authorization": "Bearer sk-secret-value"})
    await api.post(user("second"), "azure", headers={"api-key": "azure-secret"})
    assert api.sim.request_count == 2
    first, second = api.sim.requests
    assert first.method == "POST"
    assert first.path == "/v1/chat/completions"
    assert first.json == user("recorded")
    assert first.headers["authorization"] == "Bearer sk-secret-value"
    assert second.query == {"api-version": AZURE_VERSION}
    assert second.headers["api-key"] == "azure-secret"
    assert "sk-secret-value" not in repr(first)
    assert "azure-secret" not in repr(api.sim.requests)
    api.sim.reset()
    assert api.sim.requests == []


async def test_non_json_body_is_recorded_as_none(api: Api) -> None:
    async with api.session.post(
        api.url("openai"),
        data=b"{not json",
        headers={**api.auth("openai"), "Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
    assert api.sim.requests[0].json is None


async def test_max_recorded_keeps_the_newest(session: aiohttp.ClientSession) -> None:
    async with Simulator(max_recorded=2) as sim:
        api = Api(sim, session)
        for text in ("one", "two", "three"):
            await api.post(user(text))
        assert [r.json["messages"][0]["content"] for r in sim.requests] == ["two", "three"]
        assert sim.request_count == 3


async def test_start_and_stop_are_idempotent(session: aiohttp.ClientSession) -> None:
    sim = Simulator()
    with pytest.raises(RuntimeError, match="not started"):
        _ = sim.url
    await sim.start()
    url = sim.url
    await sim.start()
    assert sim.url == url
    assert url.startswith("http://127.0.0.1:")
    async with session.post(f"{url}/v1/chat/completions", json=user("x"), headers=Api.auth("openai")) as resp:
        assert resp.status == 200
    await sim.stop()
    await sim.stop()
    assert "not started" in repr(sim)
    with pytest.raises(aiohttp.ClientConnectionError):
        async with session.post(f"{url}/v1/chat/completions", json=user("x")):
            pass


def test_constructor_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="port"):
        Simulator(port=70000)
    with pytest.raises(ValueError, match="api_key"):
        Simulator(api_key="")
    assert "secret" not in repr(Simulator(api_key="secret"))
