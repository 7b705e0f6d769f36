"""The simulator's Gemini API and Vertex AI ``generateContent`` routes, checked on the wire with plain
aiohttp (no core-llms client code): answers and SSE framing, auth, the requests the real services
refuse, tool calls and Gemini 3's thought signatures, safety, faults in Google's shapes."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from core.llms.simulator import Fault, Simulator

KEY = "AIzaSySimRawKey000000000000000000000000"
TOKEN = "ya29.sim-raw-token"
GEMINI = "/v1beta/models/{model}:{method}"
VERTEX = "/{version}/projects/p1/locations/europe-west4/publishers/google/models/{model}:{method}"
WEATHER = {
    "functionDeclarations": [
        {
            "name": "get_weather",
            "parametersJsonSchema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]
}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=None) as simulator:
        yield simulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def user(text: str, **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


async def post(
    session: aiohttp.ClientSession,
    sim: Simulator,
    body: Any,
    *,
    model: str = "gemini-2.5-flash",
    method: str = "generateContent",
    vertex: bool = False,
    version: str = "v1",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> tuple[int, Any, bytes]:
    path = (VERTEX if vertex else GEMINI).format(model=model, method=method, version=version)
    if headers is None:
        headers = {"Authorization": f"Bearer {TOKEN}"} if vertex else {"x-goog-api-key": KEY}
    async with session.post(f"{sim.url}{path}{query}", json=body, headers=headers) as resp:
        return resp.status, resp.headers, await resp.read()


async def ok(session: aiohttp.ClientSession, sim: Simulator, body: Any, **kw: Any) -> dict[str, Any]:
    status, _, raw = await post(session, sim, body, **kw)
    assert status == 200, raw
    data: dict[str, Any] = json.loads(raw)
    return data


async def refused(
    session: aiohttp.ClientSession, sim: Simulator, body: Any, **kw: Any
) -> tuple[int, dict[str, Any]]:
    status, _, raw = await post(session, sim, body, **kw)
    error = json.loads(raw)
    assert set(error) == {"error"} and {"code", "message", "status"} <= set(error["error"]), error
    assert error["error"]["code"] == status
    return status, error["error"]


def sse_events(raw: bytes) -> list[dict[str, Any]]:
    """The events of a Google SSE body: ``data: {...}`` blocks separated by CRLF CRLF, no [DONE]."""
    assert raw.endswith(b"\r\n\r\n")
    blocks = raw.decode().split("\r\n\r\n")[:-1]
    assert all(b.startswith("data: ") and "\n" not in b for b in blocks)
    return [json.loads(b[6:]) for b in blocks]


async def test_generate_content(session: aiohttp.ClientSession, sim: Simulator) -> None:
    body = user(
        "hello there", systemInstruction={"parts": [{"text": "terse"}]}, generationConfig={"temperature": 0}
    )
    data = await ok(session, sim, body)
    (candidate,) = data["candidates"]
    assert candidate["content"] == {"role": "model", "parts": [{"text": "Simulated answer to: hello there"}]}
    assert (candidate["finishReason"], candidate["index"]) == ("STOP", 0)
    usage = data["usageMetadata"]
    assert (
        usage["totalTokenCount"]
        == usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )
    assert data["modelVersion"] == "gemini-2.5-flash" and data["responseId"]
    assert "safetyRatings" not in candidate  # the Gemini API's answers carry none; Vertex AI's do


async def test_stream_framing_and_usage(session: aiohttp.ClientSession, sim: Simulator) -> None:
    status, headers, raw = await post(
        session, sim, user("one two three"), method="streamGenerateContent", query="?alt=sse"
    )
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(raw)
    texts = [p["text"] for e in events for p in e["candidates"][0]["content"]["parts"]]
    assert "".join(texts) == "Simulated answer to: one two three"
    assert [e["candidates"][0].get("finishReason") for e in events] == [None] * (len(events) - 1) + ["STOP"]
    assert all("usageMetadata" in e for e in events)
    assert events[-1]["usageMetadata"]["candidatesTokenCount"] == 6
    # without alt=sse: one JSON array of the same responses
    status, _, array = await post(session, sim, user("one two three"), method="streamGenerateContent")
    assert status == 200 and [e["candidates"] for e in json.loads(array)] == [e["candidates"] for e in events]


async def test_vertex_route(session: aiohttp.ClientSession, sim: Simulator) -> None:
    for version in ("v1", "v1beta1"):
        data = await ok(session, sim, user("hi", labels={"team": "a"}), vertex=True, version=version)
        assert data["candidates"][0]["safetyRatings"] and "createTime" in data
    recorded = sim.requests[-1]
    assert recorded.path.startswith("/v1beta1/projects/p1/locations/europe-west4/")


async def test_auth(session: aiohttp.ClientSession) -> None:
    async with Simulator(api_key=KEY) as sim:
        status, error = await refused(session, sim, user("x"), headers={})
        assert (status, error["status"]) == (403, "PERMISSION_DENIED")
        status, error = await refused(session, sim, user("x"), headers={"x-goog-api-key": "AIzaWrong"})
        assert (status, error["status"]) == (400, "INVALID_ARGUMENT")
        assert error["details"][0]["reason"] == "API_KEY_INVALID"
        assert (await post(session, sim, user("x"), headers={}, query=f"?key={KEY}"))[0] == 200
        status, error = await refused(session, sim, user("x"), vertex=True, headers={})
        assert (status, error["status"]) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "Expected an object"),
        ({}, "contents is not specified"),
        ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "valid role"),
        ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
        (
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "x", "inlineData": {"mimeType": "a/b", "data": ""}}]}
                ]
            },
            "oneof",
        ),
        (
            {
                "contents": [
                    {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "%%%"}}]}
                ]
            },
            "Base64",
        ),
        (
            {"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]},
            "immediately after",
        ),
        (user("x", labels={"a": "b"}), 'Unknown name "labels"'),
        (user("x", generationConfig={"responseSchema": {"type": "OBJECT"}}), "application/json"),
        (user("x", generationConfig={"temperature": 3}), "temperature"),
        (user("x", generationConfig={"candidateCount": 2}), "candidate"),
        (user("x", generationConfig={"thinkingConfig": {"thinkingLevel": "HIGH"}}), "Thinking level"),
        (user("x", tools=[{"functionDeclarations": [{"name": "1bad"}]}]), "Invalid function name"),
        (
            user("x", toolConfig={"functionCallingConfig": {"mode": "AUTO", "allowedFunctionNames": ["f"]}}),
            "ANY",
        ),
    ],
)
async def test_requests_the_service_refuses(
    session: aiohttp.ClientSession, sim: Simulator, body: Any, message: str
) -> None:
    status, error = await refused(session, sim, body)
    assert status == 400 and error["status"] == "INVALID_ARGUMENT" and message in error["message"]


async def test_function_responses_must_match_the_calls(
    session: aiohttp.ClientSession, sim: Simulator
) -> None:
    call = {
        "role": "model",
        "parts": [{"functionCall": {"name": "a", "args": {}}}, {"functionCall": {"name": "b", "args": {}}}],
    }
    one = {"role": "user", "parts": [{"functionResponse": {"name": "a", "response": {"r": 1}}}]}
    _status, error = await refused(session, sim, {"contents": [*user("x")["contents"], call, one]})
    assert "number of function response parts" in error["message"]


async def test_thinking_models_and_others(session: aiohttp.ClientSession, sim: Simulator) -> None:
    thoughts = await ok(
        session, sim, user("why", generationConfig={"thinkingConfig": {"includeThoughts": True}})
    )
    parts = thoughts["candidates"][0]["content"]["parts"]
    assert parts[0] == {"text": "Simulated reasoning about: why", "thought": True}
    assert thoughts["usageMetadata"]["thoughtsTokenCount"] == 4
    off = await ok(session, sim, user("why", generationConfig={"thinkingConfig": {"thinkingBudget": 0}}))
    assert "thoughtsTokenCount" not in off["usageMetadata"]
    flash20 = await ok(session, sim, user("why"), model="gemini-2.0-flash")
    assert "thoughtsTokenCount" not in flash20["usageMetadata"]
    _status, error = await refused(
        session,
        sim,
        user("why", generationConfig={"thinkingConfig": {"thinkingBudget": 5}}),
        model="gemini-2.0-flash",
    )
    assert "not supported" in error["message"]


async def test_tool_calls_and_openapi_schemas(session: aiohttp.ClientSession, sim: Simulator) -> None:
    data = await ok(session, sim, user("weather?", tools=[WEATHER]))
    (part,) = data["candidates"][0]["content"]["parts"]
    assert part == {"functionCall": {"name": "get_weather", "args": {"city": "sample city"}}}
    assert data["candidates"][0]["finishReason"] == "STOP"
    openapi = {
        "functionDeclarations": [
            {"name": "f", "parameters": {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}}}
        ]
    }
    data = await ok(session, sim, user("x", tools=[openapi]))
    assert data["candidates"][0]["content"]["parts"][0]["functionCall"]["args"] == {"n": 1}


async def test_gemini3_signs_and_checks_function_calls(
    session: aiohttp.ClientSession, sim: Simulator
) -> None:
    model = "gemini-3-pro-preview"
    first = await ok(session, sim, user("weather?", tools=[WEATHER]), model=model)
    turn = first["candidates"][0]["content"]
    signature = turn["parts"][0]["thoughtSignature"]
    assert base64.b64decode(signature)  # opaque, base64
    answer = {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"t": 1}}}]}
    contents = [*user("weather?")["contents"], turn, answer]
    done = await ok(session, sim, {"contents": contents, "tools": [WEATHER]}, model=model)
    assert done["candidates"][0]["content"]["parts"][0]["text"] == 'Based on the tool result: {"t":1}'
    unsigned = {"role": "model", "parts": [{"functionCall": turn["parts"][0]["functionCall"]}]}
    _status, error = await refused(
        session, sim, {"contents": [*user("weather?")["contents"], unsigned, answer]}, model=model
    )
    assert "thought_signature" in error["message"]
    forged = {"role": "model", "parts": [{**unsigned["parts"][0], "thoughtSignature": "Zm9yZ2Vk"}]}
    assert (
        await refused(
            session, sim, {"contents": [*user("weather?")["contents"], forged, answer]}, model=model
        )
    )[0] == 400
    # an earlier turn's calls are not checked (only the current turn's)
    earlier = [*user("weather?")["contents"], unsigned, answer, *user("and now?")["contents"]]
    assert (await post(session, sim, {"contents": earlier}, model=model))[0] == 200


async def test_structured_output(session: aiohttp.ClientSession, sim: Simulator) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "n": {"type": "integer"}},
        "required": ["city", "n"],
    }
    config = {"responseMimeType": "application/json", "responseJsonSchema": schema}
    data = await ok(session, sim, user("x", generationConfig=config))
    assert json.loads(data["candidates"][0]["content"]["parts"][0]["text"]) == {"city": "sample city", "n": 1}


async def test_safety(session: aiohttp.ClientSession, sim: Simulator) -> None:
    blocked = await ok(session, sim, user("[[content_filter]] x"))
    assert "candidates" not in blocked and blocked["promptFeedback"]["blockReason"] == "SAFETY"
    stopped = await ok(session, sim, user("[[safety]] x"))
    candidate = stopped["candidates"][0]
    assert candidate["finishReason"] == "SAFETY" and "content" not in candidate
    assert any(r.get("blocked") for r in candidate["safetyRatings"])


async def test_unknown_models(session: aiohttp.ClientSession, sim: Simulator) -> None:
    status, error = await refused(session, sim, user("x"), model="text-bison")
    assert (status, error["status"]) == (404, "NOT_FOUND") and "models/text-bison" in error["message"]
    status, error = await refused(session, sim, user("x"), model="text-bison", vertex=True)
    assert status == 404 and "Publisher Model" in error["message"]


async def test_faults_in_google_shapes(session: aiohttp.ClientSession, sim: Simulator) -> None:
    sim.enqueue(Fault(status=429, retry_after=7))
    status, error = await refused(session, sim, user("x"))
    assert (status, error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]
    sim.enqueue(Fault(error_event=True, status=503))
    status, _, raw = await post(
        session, sim, user("a b c d"), method="streamGenerateContent", query="?alt=sse"
    )
    events = sse_events(raw)
    assert status == 200 and events[-1]["error"]["status"] == "UNAVAILABLE"
    sim.enqueue(Fault(truncate_stream=True, after_chunks=2))
    _, _, raw = await post(session, sim, user("a b c d"), method="streamGenerateContent", query="?alt=sse")
    assert all("finishReason" not in e["candidates"][0] for e in sse_events(raw))


async def test_the_tts_models_are_answered_by_the_media_routes(
    session: aiohttp.ClientSession, sim: Simulator
) -> None:
    config = {
        "responseModalities": ["AUDIO"],
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
    }
    data = await ok(
        session, sim, user("say hi", generationConfig=config), model="gemini-2.5-flash-preview-tts"
    )
    assert data["candidates"][0]["content"]["parts"][0]["inlineData"]["mimeType"].startswith("audio/L16")
