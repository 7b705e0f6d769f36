"""OpenAI-compatible hosts' routes: any ``/<prefix>/chat/completions`` and ``/<prefix>/models``,
host auth (bearer, a custom header, keyless) and what is recorded (raw aiohttp, no client code)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict
from simulator_helpers import AZURE_VERSION, Api, sse_json, user

from core.llms.simulator import Fault, HostFlavor, Simulator
from core.llms.simulator.__main__ import _parser, main

BEARER = {"Authorization": "Bearer sk-host"}

#: the path part of each host's real base URL (host replaced by the simulator's).
HOST_BASES = {
    "together": "/v1",
    "fireworks": "/inference/v1",
    "deepseek": "",
    "perplexity": "",
    "databricks": "/serving-endpoints",
    "mistral": "/v1",
    "xai": "/v1",
    "openrouter": "/api/v1",
    "vllm": "/v1",
    "llama.cpp": "/v1",
    "lmstudio": "/v1",
    "ollama": "/v1",
    "custom": "/my/gateway/v2",
}


async def _post(
    session: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, CIMultiDict[str], bytes]:
    async with session.post(url, json=body, headers=BEARER if headers is None else headers) as resp:
        return resp.status, CIMultiDict(resp.headers), await resp.read()


@pytest.mark.parametrize("host", sorted(HOST_BASES))
async def test_every_host_base_path_serves_chat_completions(
    sim: Simulator, session: aiohttp.ClientSession, host: str
) -> None:
    path = f"{HOST_BASES[host]}/chat/completions"
    status, headers, raw = await _post(
        session, f"{sim.url}{path}", user("hello host", model="some/host-model")
    )
    assert status == 200, raw
    body = json.loads(raw)
    assert body["object"] == "chat.completion"
    assert body["model"] == "some/host-model"
    assert body["choices"][0]["message"]["content"] == "Simulated answer to: hello host"
    assert "prompt_filter_results" not in body
    assert headers["x-request-id"] == "req_sim_000001"
    assert "apim-request-id" not in headers
    [record] = sim.requests
    assert record.path == path
    assert record.json == user("hello host", model="some/host-model")
    assert record.redacted_headers()["authorization"] == "<redacted>"


async def test_groq_base_path_is_served_as_the_host_by_a_groq_simulator(
    session: aiohttp.ClientSession,
) -> None:
    async with Simulator(flavor="groq") as sim:
        status, headers, raw = await _post(
            session, f"{sim.url}/openai/v1/chat/completions", user("hi groq", model="llama-3.3-70b-versatile")
        )
        assert status == 200
        body = json.loads(raw)
        assert body["model"] == "llama-3.3-70b-versatile"
        assert "prompt_filter_results" not in body
        assert "content_filter_results" not in body["choices"][0]
        assert "apim-request-id" not in headers
        assert sim.requests[0].path == "/openai/v1/chat/completions"
        # Azure's deployment route is still Azure's
        url = f"{sim.url}/openai/deployments/dep/chat/completions?api-version={AZURE_VERSION}"
        status, headers, raw = await _post(session, url, user("x"), {"api-key": "k"})
        assert status == 200 and headers["x-ms-deployment-name"] == "dep"
        assert "prompt_filter_results" in json.loads(raw)
        async with session.get(f"{sim.url}/openai/v1/models", headers=BEARER) as resp:
            assert resp.status == 200 and "apim-request-id" not in resp.headers


async def test_a_default_simulator_keeps_azure_on_openai_v1(api: Api) -> None:
    status, headers, raw = await api.post(user("x"), "azure_v1", headers={"api-key": "k"})
    assert status == 200
    assert "prompt_filter_results" in json.loads(raw)
    assert headers["apim-request-id"]
    status, _, raw = await api.post(user("x"), "azure_v1", headers={"Authorization": "Bearer nope"})
    assert status == 200  # Azure accepts a bearer token too
    # the deployments route still wants its api-version: it is not swallowed by the any-prefix route
    async with api.session.post(
        f"{api.sim.url}/openai/deployments/d/chat/completions", json=user("x"), headers={"api-key": "k"}
    ) as resp:
        assert resp.status == 400
        assert await resp.json() == {
            "error": {"code": "BadRequest", "message": "Missing required query parameter 'api-version'."}
        }


async def test_host_routes_stream_with_usage_and_done(sim: Simulator, session: aiohttp.ClientSession) -> None:
    body = user("one two", model="deepseek-chat", stream=True, stream_options={"include_usage": True})
    status, headers, raw = await _post(session, f"{sim.url}/chat/completions", body)
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = sse_json(raw)  # ends with [DONE]
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    assert text == "Simulated answer to: one two"
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 5


async def test_host_routes_do_tools_and_structured_output(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}/inference/v1/chat/completions"
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    status, _, raw = await _post(session, url, user("weather?", model="accounts/f/models/m", tools=[tool]))
    assert status == 200
    [call] = json.loads(raw)["choices"][0]["message"]["tool_calls"]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"sample city"}'}
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "r", "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    }
    status, _, raw = await _post(session, url, user("give json", model="m", response_format=fmt))
    assert json.loads(json.loads(raw)["choices"][0]["message"]["content"]) == {"n": 1}


async def test_host_model_names_skip_openai_parameter_rules(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}/openai/v2/chat/completions"
    body = user("x", model="deepseek-reasoner", reasoning_effort="high", temperature=0.3, max_tokens=50)
    status, _, raw = await _post(session, url, body)
    assert status == 200, raw
    assert json.loads(raw)["usage"]["completion_tokens_details"]["reasoning_tokens"] == 32
    status, _, raw = await _post(session, url, user("x", model="gpt-4o", reasoning_effort="low"))
    assert status == 400  # OpenAI's own model names keep OpenAI's rules
    assert json.loads(raw)["error"]["code"] == "unsupported_parameter"


async def test_faults_apply_to_host_routes(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.enqueue(Fault(status=503, retry_after_ms=5))
    status, headers, raw = await _post(session, f"{sim.url}/api/v1/chat/completions", user("x"))
    assert status == 503 and headers["retry-after-ms"] == "5"
    assert json.loads(raw)["error"]["code"] == "service_unavailable"
    assert (await _post(session, f"{sim.url}/api/v1/chat/completions", user("x")))[0] == 200


async def test_other_methods_and_paths_still_hit_the_json_404(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{sim.url}/api/v1/chat/completions", headers=BEARER) as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["message"] == "Invalid URL (GET /api/v1/chat/completions)"
    async with session.post(f"{sim.url}/api/v1/completions", json=user("x"), headers=BEARER) as resp:
        assert resp.status == 404
    async with session.post(
        f"{sim.url}/api/v1/chat/completions/extra", json=user("x"), headers=BEARER
    ) as resp:
        assert resp.status == 404
    assert [r.path for r in sim.requests] == [
        "/api/v1/chat/completions",
        "/api/v1/completions",
        "/api/v1/chat/completions/extra",
    ]


@pytest.mark.parametrize(
    "path", ["/models", "/api/v1/models", "/serving-endpoints/models", "/inference/v1/models"]
)
async def test_host_models_listing(sim: Simulator, session: aiohttp.ClientSession, path: str) -> None:
    async with session.get(f"{sim.url}{path}", headers=BEARER) as resp:
        assert resp.status == 200
        listing = await resp.json()
    assert listing["object"] == "list"
    entry = {"id": "gpt-4o", "object": "model", "created": 1_700_000_000, "owned_by": "system"}
    assert entry in listing["data"]
    async with session.get(f"{sim.url}{path}") as resp:
        assert resp.status == 401
    assert [r.path for r in sim.requests] == [path, path]


# ---------------------------------------------------------------------------- auth


async def test_host_routes_want_a_bearer_key_by_default(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    url = f"{sim.url}/api/v1/chat/completions"
    for headers in ({}, {"Authorization": "Basic abc"}, {"x-api-key": "k"}):
        status, _, raw = await _post(session, url, user("x"), headers)
        assert status == 401
        assert "didn't provide an API key" in json.loads(raw)["error"]["message"]


async def test_keyless_server(session: aiohttp.ClientSession) -> None:
    async with Simulator(auth_header=None) as sim:
        for path in ("/v1/chat/completions", "/chat/completions", "/api/v1/chat/completions"):
            status, _, raw = await _post(session, f"{sim.url}{path}", user("local", model="qwen3:8b"), {})
            assert status == 200, raw
        status, _, _ = await _post(session, f"{sim.url}/v1/chat/completions", user("x"), BEARER)
        assert status == 200  # a key sent to a keyless server is ignored
        async with session.get(f"{sim.url}/v1/models") as resp:
            assert resp.status == 200
        assert "authorization" not in sim.requests[0].headers
        assert sim.requests[3].redacted_headers()["authorization"] == "<redacted>"


async def test_custom_auth_header(session: aiohttp.ClientSession) -> None:
    async with Simulator(auth_header="x-api-key", api_key="sk-right") as sim:
        url = f"{sim.url}/custom/v1/chat/completions"
        assert (await _post(session, url, user("x"), {"x-api-key": "sk-right"}))[0] == 200
        status, _, raw = await _post(session, url, user("x"), {"Authorization": "Bearer sk-right"})
        assert status == 401
        assert json.loads(raw)["error"]["message"] == (
            "You didn't provide an API key. Send it in the 'x-api-key' header."
        )
        status, _, raw = await _post(session, url, user("x"), {"x-api-key": "sk-wrong"})
        assert status == 401
        assert json.loads(raw)["error"]["code"] == "invalid_api_key"
        assert "sk-wrong" not in raw.decode()
        # the Azure deployments route keeps Azure's auth
        azure = f"{sim.url}/openai/deployments/d/chat/completions?api-version={AZURE_VERSION}"
        assert (await _post(session, azure, user("x"), {"api-key": "sk-right"}))[0] == 200
        first = sim.requests[0]
        assert first.path == "/custom/v1/chat/completions"
        assert first.headers["x-api-key"] == "sk-right"
        assert first.redacted_headers()["x-api-key"] == "<redacted>"
        assert "sk-right" not in repr(first)
        async with session.get(f"{sim.url}/_sim/requests") as resp:
            recorded = await resp.json()
        assert recorded[0]["path"] == "/custom/v1/chat/completions"
        assert recorded[0]["headers"]["x-api-key"] == "<redacted>"
        assert "sk-right" not in json.dumps(recorded)


async def test_configured_auth_header_is_redacted_whatever_its_name(session: aiohttp.ClientSession) -> None:
    async with Simulator(auth_header="X-Gateway-Id") as sim:
        url = f"{sim.url}/v1/chat/completions"
        headers = {"X-Gateway-Id": "gw-secret", "X-Trace": "t1"}
        assert (await _post(session, url, user("x"), headers))[0] == 200
        [record] = sim.requests
        assert record.redacted_headers()["x-gateway-id"] == "<redacted>"
        assert record.redacted_headers()["x-trace"] == "t1"
        assert "gw-secret" not in repr(record)
        assert record.headers["x-gateway-id"] == "gw-secret"


async def test_custom_auth_header_serves_openai_v1_as_the_host(session: aiohttp.ClientSession) -> None:
    async with Simulator(auth_header="x-api-key") as sim:
        status, headers, raw = await _post(
            session, f"{sim.url}/openai/v1/chat/completions", user("x"), {"x-api-key": "k"}
        )
        assert status == 200 and "apim-request-id" not in headers
        assert "prompt_filter_results" not in json.loads(raw)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"auth_header": "bad header"}, "auth_header"),
        ({"auth_header": ""}, "auth_header"),
        ({"auth_header": None, "api_key": "k"}, "keyless"),
        ({"flavor": "nope"}, "unknown flavor"),
    ],
)
def test_constructor_rejects_bad_host_settings(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Simulator(**kwargs)


def test_flavor_property() -> None:
    assert Simulator().flavor.name == "openai"
    assert Simulator(flavor="deepseek").flavor.reasoning == "reasoning_content"
    custom = HostFlavor("mine", reasoning="reasoning", always_reason=True)
    assert Simulator(flavor=custom).flavor is custom


def test_cli_host_options() -> None:
    args = _parser().parse_args(["--flavor", "openrouter", "--no-auth"])
    assert (args.flavor, args.no_auth) == ("openrouter", True)
    args = _parser().parse_args(["--auth-header", "x-api-key"])
    assert (args.auth_header, args.no_auth, args.flavor) == ("x-api-key", False, "openai")
    with pytest.raises(SystemExit):
        _parser().parse_args(["--flavor", "unknown"])


def test_cli_rejects_a_key_on_a_keyless_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIM_HOST_TEST_KEY", "k")
    assert main(["--no-auth", "--api-key-env", "SIM_HOST_TEST_KEY"]) == 2
    assert "keyless" in capsys.readouterr().err
