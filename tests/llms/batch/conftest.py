"""Fixtures of the batch tests: a real Redis server for the whole session (when installed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis_server import redis_server

from core.llms.client.sync import SyncRunner
from core.llms.simulator import Simulator


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a throwaway redis-server (skipped without one, except under CI=true)."""
    with redis_server() as url:
        yield url


@pytest.fixture
def sim_thread() -> Iterator[Simulator]:
    """A simulator (api key ``sim-key-for-batches``) served by a loop of its own in a
    background thread: for synchronous tests and for other processes."""

    runner = SyncRunner(name="batch-test-simulator")
    sim = Simulator(api_key="sim-key-for-batches", max_recorded=None)
    runner.run(sim.start())
    try:
        yield sim
    finally:
        try:
            runner.run(sim.stop())
        finally:
            runner.close()
