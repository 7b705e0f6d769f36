"""Every OpenAI-compatible host row answers through the simulator, with its own base URL path and
auth header, and fails over between two of its endpoints — by ``create_llm("<host>/<model>")``.

For each row of ``core/llms/providers/openai_compatible/hosts.py``: the primary endpoint is a
simulator answering 503 to everything, the backup a healthy one speaking the host's flavour
(reasoning fields, keep-alive comments …). The backup's recorded request shows the path the real
host serves (the path of the row's base URL, plus Databricks' ``/serving-endpoints``), the model
name as given, and the credential in the row's header — or no credential for a keyless server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from core.llms import create_llm
from core.llms.providers.openai_compatible.hosts import HOSTS, Host
from core.llms.simulator import Fault, Simulator

KEY = "hostkey-7Qm2Zr9Tx4Lp"
#: the simulator flavour that speaks like each host (others: plain OpenAI)
FLAVOR = {
    "groq": "groq",
    "deepseek": "deepseek",
    "openrouter": "openrouter",
    "mistral": "mistral",
    "xai": "xai",
}


def host_path(host: Host) -> str:
    """The path the host serves its API under (what its base URL has after the host name)."""
    path = urlsplit(host.base_url).path if host.base_url is not None else "/v1"
    return path.rstrip("/")


def model_of(host: Host) -> str:
    return host.models[0].name if host.models else "served-model-7b"


@pytest.fixture(params=HOSTS, ids=[h.name for h in HOSTS])
def host(request: pytest.FixtureRequest) -> Host:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def pair(host: Host) -> AsyncIterator[tuple[Simulator, Simulator]]:
    auth = host.auth_header if host.requires_key else None
    flavor = FLAVOR.get(host.name, "openai")
    async with (
        Simulator(auth_header=auth, flavor=flavor) as dead,
        Simulator(auth_header=auth, flavor=flavor) as healthy,
    ):
        dead.set_default_fault(Fault(status=503))
        yield dead, healthy


def _llm(host: Host, dead: Simulator, healthy: Simulator):  # type: ignore[no-untyped-def]
    path = host_path(host)
    return create_llm(
        f"{host.name}/{model_of(host)}",
        endpoint=f"{dead.url}{path}",
        backups=[{"endpoint": f"{healthy.url}{path}", "name": "backup"}],
        retry={"max_retries": 0},
        **({"api_key": KEY} if host.requires_key else {}),
    )


def _check_request(host: Host, healthy: Simulator) -> None:
    [request] = healthy.requests
    assert request.path == host_path(host) + host.base_path + "/chat/completions"
    assert request.json["model"] == model_of(host)
    headers = request.headers
    if host.requires_key:
        expected = f"{host.auth_scheme} {KEY}" if host.auth_scheme else KEY
        assert headers[host.auth_header.lower()] == expected
    else:
        assert "authorization" not in headers  # a keyless server gets no dummy key


async def test_host_answers_and_fails_over(host: Host, pair: tuple[Simulator, Simulator]) -> None:
    dead, healthy = pair
    async with _llm(host, dead, healthy) as llm:
        answer = await llm.get_answer("hello host")
    assert answer.text == "Simulated answer to: hello host"
    assert answer.provider == host.name and answer.endpoint == "backup"
    assert answer.usage is not None and answer.usage.output_tokens > 0
    assert (answer.cost is not None) == host.models[0].pricing.known if host.models else answer.cost is None
    assert len(dead.requests) == 1
    _check_request(host, healthy)


async def test_host_streams_and_fails_over(host: Host, pair: tuple[Simulator, Simulator]) -> None:
    dead, healthy = pair
    async with _llm(host, dead, healthy) as llm:
        chunks = [chunk async for chunk in llm.stream_answer("stream please")]
    assert "".join(c.text for c in chunks) == "Simulated answer to: stream please"
    assert chunks[0].endpoint == "backup"
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage is not None
    assert len(dead.requests) == 1
    _check_request(host, healthy)


async def test_keyless_host_sends_a_key_when_given() -> None:
    host = next(h for h in HOSTS if h.name == "vllm")
    async with (
        Simulator(auth_header="Authorization", api_key=KEY) as sim,
        create_llm("vllm/my-model", endpoint=f"{sim.url}/v1", api_key=KEY) as llm,
    ):
        answer = await llm.get_answer("hi")
    assert answer.text == "Simulated answer to: hi"
    assert sim.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert not host.requires_key


@pytest.mark.parametrize("name", ["deepseek", "openrouter"])
async def test_host_reasoning_reaches_the_answer(name: str) -> None:
    host = next(h for h in HOSTS if h.name == name)
    async with Simulator(flavor=FLAVOR[name]) as sim, create_llm(
        f"{name}/{model_of(host)}", endpoint=f"{sim.url}{host_path(host)}", api_key=KEY
    ) as llm:
        answer = await llm.get_answer("think first [[reasoning]]")
        chunks = [c async for c in llm.stream_answer("think first [[reasoning]]")]
    assert answer.reasoning == "Simulated reasoning about: think first [[reasoning]]"
    assert "".join(c.reasoning or "" for c in chunks) == answer.reasoning
    assert "".join(c.text for c in chunks) == answer.text


async def test_databricks_workspace_url_gets_serving_endpoints() -> None:
    host = next(h for h in HOSTS if h.name == "databricks")
    async with Simulator() as sim:
        async with create_llm("databricks/my-endpoint", endpoint=sim.url, api_key=KEY) as llm:
            await llm.get_answer("hi")
        # a base URL that already ends with the path is taken as it is
        async with create_llm(
            "databricks/my-endpoint", endpoint=f"{sim.url}/serving-endpoints", api_key=KEY
        ) as llm:
            await llm.get_answer("hi")
    assert [r.path for r in sim.requests] == ["/serving-endpoints/chat/completions"] * 2
    assert host.base_url is None
