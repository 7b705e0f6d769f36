"""An un-closed model, FailoverConnector, Connector or LLMFactory warns exactly once when it is
garbage-collected (a ResourceWarning naming it, without secrets), closes its connections itself,
and aiohttp has nothing left to complain about. Never-used and closed objects never warn."""

from __future__ import annotations

import contextlib
import gc
import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from core.llms import LLMFactory
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.providers.base.connector import Connector
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.openai.adapter import OpenAIAdapter
from core.llms.simulator import Fault, Simulator

from .support import KEY, client_sockets, connectors, eventually, model

CHAT = WireRequest("chat", {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hi"}]})


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(max_recorded=0) as simulator:
        yield simulator


@contextlib.contextmanager
def resource_warnings() -> Iterator[list[str]]:
    """Collects the ResourceWarnings raised in the block (objects deleted there, then a full
    garbage collection at its end)."""
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield found
        gc.collect()
        gc.collect()
    found.extend(str(w.message) for w in caught if issubclass(w.category, ResourceWarning))


@pytest.fixture(autouse=True)
def _aiohttp_stays_quiet(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """aiohttp reports an unclosed session or connector through asyncio's exception handler:
    it must have nothing to report."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    yield
    gc.collect()
    unclosed = [r.getMessage() for r in caplog.records if "nclosed" in r.getMessage()]
    assert unclosed == [], "aiohttp reported unclosed objects too"


async def _no_client_sockets(sim: Simulator) -> None:
    if client_sockets(sim.port) is not None:
        assert await eventually(lambda: client_sockets(sim.port) == 0), "the un-closed object leaked sockets"
    assert await eventually(lambda: sim.open_connections == 0)


async def test_an_unclosed_model_warns_once_and_closes_its_connections(sim: Simulator) -> None:
    async with Simulator(max_recorded=0) as backup:
        llm = model(sim, backup=backup)
        sim.enqueue(Fault(status=503))
        await llm.get_answer("hello")  # primary failed over: two sessions are open
        assert backup.request_count == 1
        with resource_warnings() as found:
            del llm
        assert len(found) == 1, found
        (message,) = found
        assert "unclosed" in message and "openai/gpt-4.1-mini" in message and "aclose()" in message
        assert sim.url in message  # named by its endpoints (display names only)
        assert KEY not in message
        await _no_client_sockets(sim)
        await _no_client_sockets(backup)


async def test_an_unclosed_model_in_a_reference_cycle_still_warns_once(sim: Simulator) -> None:
    llm = model(sim)
    await llm.get_answer("hello")
    llm.myself = llm  # type: ignore[attr-defined]  # only the cycle collector can free it now
    with resource_warnings() as found:
        del llm
    assert len(found) == 1, found
    assert KEY not in found[0]
    await _no_client_sockets(sim)


async def test_an_unclosed_failover_connector_warns_once(sim: Simulator) -> None:
    primary = EndpointConfig(endpoint=f"{sim.url}/v1", api_key=KEY)
    connector = FailoverConnector.from_endpoints(OpenAIAdapter(), primary, [{"endpoint": f"{sim.url}/v1/"}])
    await connector.send(CHAT)
    with resource_warnings() as found:
        del connector
    assert len(found) == 1, found
    assert found[0].startswith("unclosed FailoverConnector(") and KEY not in found[0]
    await _no_client_sockets(sim)


async def test_an_unclosed_connector_warns_once(sim: Simulator) -> None:
    connector = Connector(EndpointConfig(endpoint=f"{sim.url}/v1", api_key=KEY), OpenAIAdapter())
    await connector.send_once(
        CHAT, b'{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}]}', None, None
    )
    with resource_warnings() as found:
        del connector
    assert found == [f"unclosed Connector('{sim.url}/v1'): call aclose() or use 'async with'"]
    await _no_client_sockets(sim)


async def test_an_unclosed_factory_warns_once_and_its_models_stay_usable(sim: Simulator) -> None:
    config: dict[str, Any] = {
        "models": {"fast": {"model": "openai/gpt-4.1-mini", "endpoint": f"{sim.url}/v1", "api_key": KEY}}
    }
    llms = LLMFactory.from_config(config)
    kept = llms["fast"]
    await kept.get_answer("hello")
    with resource_warnings() as found:
        del llms
    assert len(found) == 1, found
    assert "unclosed LLMFactory(" in found[0] and "fast" in found[0] and KEY not in found[0]

    assert (await kept.get_answer("still here")).text.endswith("still here")  # a model in use is not cut off
    with resource_warnings() as found:
        del kept
    assert found == []  # the factory already warned for it; its sessions are closed silently
    await _no_client_sockets(sim)


async def test_an_unclosed_factory_whose_model_was_dropped_warns_once(sim: Simulator) -> None:
    config: dict[str, Any] = {
        "models": {"fast": {"model": "openai/gpt-4.1-mini", "endpoint": f"{sim.url}/v1", "api_key": KEY}}
    }
    llms = LLMFactory.from_config(config)
    await llms["fast"].get_answer("hello")
    with resource_warnings() as found:
        del llms
    assert len(found) == 1 and "LLMFactory" in found[0], found
    await _no_client_sockets(sim)


async def test_never_used_and_closed_objects_do_not_warn(sim: Simulator) -> None:
    # (each on an endpoint of its own: models on the same endpoint share one session, below)
    unused = model(sim, name="unused")
    closed = model(sim, name="closed")
    await closed.get_answer("hello")
    await closed.aclose()
    factory = LLMFactory.from_config(
        {"models": {"fast": {"model": "openai/gpt-4.1-mini", "endpoint": f"{sim.url}/v1", "api_key": KEY}}}
    )
    factory.get("fast")  # created, never used: no session was opened
    with resource_warnings() as found:
        del unused, closed, factory
    assert found == []


async def test_shared_session_closes_with_its_last_holder(sim: Simulator) -> None:
    """Two models on one endpoint share one session: closing one leaves it open for the other,
    closing both closes it, and neither warns."""
    first, second = model(sim), model(sim)
    [shared] = connectors(first)
    assert connectors(second) == [shared]
    await first.get_answer("hello")
    await first.aclose()
    assert not shared.closed and (await second.get_answer("still here")).text
    await second.aclose()
    assert shared.closed
    with resource_warnings() as found:
        del first, second
    assert found == []
    await _no_client_sockets(sim)


async def test_shared_session_left_open_warns_once(sim: Simulator) -> None:
    """The session is left open when no holder closed it: the last one collected warns, once."""
    first, second = model(sim), model(sim)
    await first.get_answer("hello")
    with resource_warnings() as found:
        del first, second
    assert len(found) == 1 and "unclosed" in found[0] and KEY not in found[0]
