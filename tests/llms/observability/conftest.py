"""Simulators for the observer tests: a primary and a backup, both keyed with the canary key
(no recognisable prefix: every observer's test searches its exports for pieces of it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from observer_support import CANARY

from core.llms.simulator import Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=CANARY) as simulator:
        yield simulator


@pytest.fixture
async def backup() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=CANARY) as simulator:
        yield simulator
