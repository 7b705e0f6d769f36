"""Simulators for the observer tests: a primary and a backup, both keyed with the canary key
(no recognisable prefix: every observer's test searches its exports for pieces of it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.llms.simulator import Simulator

#: the API key of both simulators (the test files name it CANARY or KEY)
CANARY = "q7Zt93kPm2Lx8Vw4Rn6Jd1Hc5Fy0Bs"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=CANARY) as simulator:
        yield simulator


@pytest.fixture
async def backup() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=CANARY) as simulator:
        yield simulator
