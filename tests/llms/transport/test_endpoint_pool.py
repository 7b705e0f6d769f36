"""Connections and circuit breakers are shared per endpoint across model objects (EndpointPool)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.llms import create_llm
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.pool import EndpointPool
from core.llms.providers.openai.adapter import OpenAIAdapter
from core.llms.simulator import Fault, Simulator

KEY = "poolkey-3Vb8Nq1Wd6"


@pytest.fixture
async def sims() -> AsyncIterator[tuple[Simulator, Simulator]]:
    async with Simulator() as dead, Simulator() as healthy:
        dead.set_default_fault(Fault(status=503))
        yield dead, healthy


def _model(name: str, dead: Simulator, healthy: Simulator, api_key: str = KEY, **kw: object) -> BaseLLM:
    return create_llm(
        name,
        endpoint=f"{dead.url}/v1",
        api_key=api_key,
        backups=[{"endpoint": f"{healthy.url}/v1", "name": "backup"}],
        retry={"max_retries": 0},
        failure_threshold=2,
        **kw,
    )


def _fc(llm: BaseLLM) -> FailoverConnector:
    assert isinstance(llm.connector, FailoverConnector)
    return llm.connector


async def test_two_models_on_one_endpoint_share_session_and_health(sims: tuple[Simulator, Simulator]) -> None:
    dead, healthy = sims
    async with (
        _model("openai/gpt-4.1-mini", dead, healthy) as mini,
        _model("openai/gpt-4o", dead, healthy) as big,
    ):
        assert _fc(mini).connectors == _fc(big).connectors  # the same Connector objects
        primary = _fc(mini).endpoints[0]
        assert _fc(mini).breaker(primary) is _fc(big).breaker(primary)
        for _ in range(2):  # two failover-class failures open the primary's breaker (threshold 2)
            assert (await mini.get_answer("hi")).endpoint == "backup"
        assert _fc(big).breaker(primary).state == "open"
        before = len(dead.requests)
        answer = await big.get_answer("hi")  # the other model skips the dead primary at once
        assert answer.endpoint == "backup"
        assert len(dead.requests) == before
        assert [r.json["model"] for r in healthy.requests][-1] == "gpt-4o"


async def test_different_settings_are_different_endpoints(sims: tuple[Simulator, Simulator]) -> None:
    dead, healthy = sims
    async with (
        _model("openai/gpt-4.1-mini", dead, healthy) as one,
        _model("openai/gpt-4.1-mini", dead, healthy, headers={"X-Team": "b"}) as other,
        _model("openai/gpt-4.1-mini", dead, healthy, api_key="another-key-123") as third,
    ):
        assert not set(map(id, _fc(one).connectors)) & set(map(id, _fc(other).connectors))
        assert not set(map(id, _fc(one).connectors)) & set(map(id, _fc(third).connectors))


def test_pool_keeps_weak_references_and_renews_closed_connectors() -> None:
    pool = EndpointPool()
    endpoint = EndpointConfig(endpoint="https://pool.example.test/v1", api_key=KEY)
    first = pool.connector(endpoint, OpenAIAdapter(), 3, 30.0)
    assert pool.connector(endpoint, OpenAIAdapter(), 3, 30.0) is first and len(pool) == 1
    first._closed = True  # a closed connector is never handed out again
    renewed = pool.connector(endpoint, OpenAIAdapter(), 3, 30.0)
    assert renewed is not first and renewed.breaker is not first.breaker
    del first, renewed
    import gc

    gc.collect()
    assert len(pool) == 0  # nothing kept alive by the pool itself
