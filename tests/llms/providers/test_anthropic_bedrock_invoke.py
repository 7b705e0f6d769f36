"""Claude's native payloads on Bedrock end to end: ``invoke_answer`` / ``invoke_stream`` with a
``bedrock/`` model, through the real Bedrock adapter (SigV4, the ``invoke`` and
``invoke_stream`` operations, the event-stream decoder) against the simulator's Bedrock routes:
the Anthropic body with ``anthropic_version``, streams read by the Anthropic parser, thinking
carried back with its signature, and Bedrock's errors."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.llms import create_llm
from core.llms.interfaces import InvalidInputError, Message, RateLimitError
from core.llms.providers.bedrock.anthropic_invoke import invoke_answer, invoke_stream
from core.llms.providers.dialects.anthropic_messages import assistant_message
from core.llms.simulator import Fault, Simulator

pytest.importorskip("botocore")

AKID = "AKIASIMULATOR0000042"
SECRET = "sim/secret+key/0123456789abcdefghijklmnopqrstu"
TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
THINK = {"type": "enabled", "budget_tokens": 1024}


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=AKID) as simulator:
        yield simulator


def claude(sim: Simulator) -> Any:
    return create_llm(
        "bedrock/claude-sonnet-4",
        region="us-east-1",
        endpoint=sim.url,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        retry={"max_retries": 0},
    )


async def test_answer_and_stream(sim: Simulator) -> None:
    async with claude(sim) as model:
        r = await invoke_answer(model, "hello invoke", None, {"max_tokens": 50})
        chunks = [c async for c in invoke_stream(model, "stream invoke", None, {"thinking": THINK})]
    assert (r.text, r.finish_reason, r.provider) == ("Simulated answer to: hello invoke", "stop", "bedrock")
    assert r.usage is not None and r.cost is not None and r.cost > 0
    assert "".join(c.text for c in chunks) == "Simulated answer to: stream invoke"
    assert "".join(c.reasoning or "" for c in chunks) == "Simulated reasoning about: stream invoke"
    assert chunks[-1].finish_reason == "stop" and chunks[-1].raw["content"][0]["signature"]
    answer, stream = sim.requests
    assert answer.path.endswith("anthropic.claude-sonnet-4-20250514-v1:0/invoke")
    assert stream.path.endswith("/invoke-with-response-stream")
    assert answer.json == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hello invoke"}],
    }
    assert "model" not in stream.json and "stream" not in stream.json and stream.json["thinking"] == THINK
    assert SECRET not in repr(sim.requests)


async def test_thinking_carried_back_across_a_tool_call(sim: Simulator) -> None:
    params = {"tools": [TOOL], "thinking": THINK}
    async with claude(sim) as model:
        first = await invoke_answer(model, "weather in Oslo?", None, params)
        (call,) = first.tool_calls
        messages = [Message.user("weather in Oslo?"), assistant_message(first), Message.tool(call.id, "-3 C")]
        final = await invoke_answer(model, messages, None, params)
    assert final.text == "Based on the tool result: -3 C"
    sent = sim.requests[-1].json["messages"][1]["content"]
    assert [b["type"] for b in sent] == ["thinking", "tool_use"]
    assert sent[0]["signature"] == first.raw["content"][0]["signature"]


async def test_errors(sim: Simulator) -> None:
    sim.enqueue(Fault(status=429))
    async with claude(sim) as model:
        with pytest.raises(RateLimitError):
            await invoke_answer(model, "hi", None, {})
        with pytest.raises(InvalidInputError, match="unknown parameter 'seed'"):
            await invoke_answer(model, "hi", None, {"seed": 3})
        with pytest.raises(InvalidInputError, match="above the thinking budget"):
            invoke_stream(model, "hi", None, {"thinking": THINK, "max_tokens": 1000})
    assert len(sim.requests) == 1 and json.dumps(sim.requests[0].json)
