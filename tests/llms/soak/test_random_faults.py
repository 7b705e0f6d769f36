"""The simulator's random fault generator (used by the soak): seeded, rate-bound, uniform over
its mix, behind the scripted queue and ahead of the default fault; also ``open_connections``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.llms.simulator import DEFAULT_FAULT_MIX, Fault, RandomFaults, Simulator
from core.llms.simulator.__main__ import main as simulator_main
from core.llms.simulator.faults import FaultQueue

CHAT = {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hi"}]}
AUTH = {"Authorization": "Bearer sk-test"}


def test_the_same_seed_gives_the_same_faults() -> None:
    a, b = RandomFaults(0.3, seed=5), RandomFaults(0.3, seed=5)
    assert [a() for _ in range(500)] == [b() for _ in range(500)]
    assert a.counts == b.counts and a.injected == sum(a.counts) > 0
    other = RandomFaults(0.3, seed=6)
    assert [other() for _ in range(500)] != [RandomFaults(0.3, seed=5)() for _ in range(500)]


def test_the_rate_and_the_mix_are_respected() -> None:
    never, always = RandomFaults(0.0, seed=1), RandomFaults(1.0, seed=1)
    assert all(never() is None for _ in range(1_000)) and never.injected == 0
    assert all(always() is not None for _ in range(1_000)) and always.injected == 1_000

    gen = RandomFaults(0.05, seed=3)
    picks = [gen() for _ in range(40_000)]
    assert 1_700 < gen.injected < 2_300  # 5 % of 40,000 = 2,000
    assert gen.injected == sum(p is not None for p in picks)
    assert len(gen.counts) == len(DEFAULT_FAULT_MIX)
    expected = gen.injected / len(DEFAULT_FAULT_MIX)
    assert all(0.6 * expected < n < 1.4 * expected for n in gen.counts), gen.counts
    assert all(p is None or p in DEFAULT_FAULT_MIX for p in picks)


@pytest.mark.parametrize(
    "rate, mix, needle",
    [
        (-0.1, DEFAULT_FAULT_MIX, "within [0, 1]"),
        (1.5, DEFAULT_FAULT_MIX, "within [0, 1]"),
        (True, DEFAULT_FAULT_MIX, "within [0, 1]"),
        ("0.1", DEFAULT_FAULT_MIX, "within [0, 1]"),
        (0.1, (), "at least one Fault"),
        (0.1, ({"status": 500},), "Fault objects"),
    ],
)
def test_bad_settings_are_refused(rate: object, mix: object, needle: str) -> None:
    with pytest.raises(ValueError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        RandomFaults(rate, mix, seed=1)  # type: ignore[arg-type]


def test_queue_first_then_generator_then_default() -> None:
    queue = FaultQueue()
    scripted, default, generated = Fault(status=400), Fault(status=404), Fault(status=503)
    picks = iter([generated, None])
    queue.set_default(default)
    queue.set_generator(lambda: next(picks))
    queue.enqueue(scripted)
    assert [queue.next(), queue.next(), queue.next()] == [scripted, generated, default]
    queue.clear()
    assert queue.generator is None and queue.next() is None


def test_a_generator_must_be_callable_and_return_faults() -> None:
    queue = FaultQueue()
    with pytest.raises(TypeError, match="callable"):
        queue.set_generator("503")  # type: ignore[arg-type]
    queue.set_generator(lambda: 503)  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="not a Fault"):
        queue.next()


def test_simulator_settings() -> None:
    sim = Simulator(fault_rate=0.2, seed=4)
    assert isinstance(sim.fault_generator, RandomFaults)
    assert sim.fault_generator.rate == 0.2 and sim.fault_generator.mix == DEFAULT_FAULT_MIX
    assert Simulator().fault_generator is None
    with pytest.raises(ValueError, match="fault_rate"):
        Simulator(fault_mix=[Fault(status=500)])
    sim.reset()
    assert sim.fault_generator is None
    assert sim.open_connections == 0  # not started


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_every_request_gets_a_fault_at_rate_one(client: aiohttp.ClientSession) -> None:
    mix = [Fault(status=503), Fault(status=429, retry_after_ms=5)]
    async with Simulator(fault_rate=1.0, fault_mix=mix, seed=9) as sim:
        statuses = []
        for _ in range(20):
            async with client.post(f"{sim.url}/v1/chat/completions", json=CHAT, headers=AUTH) as resp:
                statuses.append(resp.status)
                if resp.status == 429:
                    assert resp.headers["retry-after-ms"] == "5"
        assert set(statuses) == {503, 429}
        generator = sim.fault_generator
        assert isinstance(generator, RandomFaults)
        assert generator.counts == [statuses.count(503), statuses.count(429)]
        sim.enqueue(Fault(status=400))  # the scripted queue still comes first
        async with client.post(f"{sim.url}/v1/chat/completions", json=CHAT, headers=AUTH) as resp:
            assert resp.status == 400


async def test_open_connections_follows_the_clients(client: aiohttp.ClientSession) -> None:
    async with Simulator() as sim:
        async with client.post(f"{sim.url}/v1/chat/completions", json=CHAT, headers=AUTH) as resp:
            assert resp.status == 200
            await resp.read()
        assert sim.open_connections == 1  # kept alive in the client's pool
        await client.close()
        for _ in range(100):
            if sim.open_connections == 0:
                break
            await asyncio.sleep(0.01)
        assert sim.open_connections == 0


def test_cli_refuses_a_bad_fault_rate(capsys: pytest.CaptureFixture[str]) -> None:
    assert simulator_main(["--port", "0", "--fault-rate", "1.5"]) == 2
    assert "within [0, 1]" in capsys.readouterr().err
