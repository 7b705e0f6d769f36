"""Fixtures of the CLI tests: a clean environment (no provider credentials, no colour
variables, a fixed width), a simulator on its own thread (``main`` is blocking and runs its own
event loop), and ``run`` to call ``main`` capturing its output."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from core.llms.cli import main
from core.llms.registry import default_registry
from core.llms.simulator import Simulator

from .support import KEY, Result, Run


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider is configured, no colour is forced or refused, the terminal is 100 wide."""
    for profile in default_registry().providers():
        names = (*profile.api_key_env, *profile.endpoint_env, *profile.credential_env)
        for values in profile.settings_env.values():
            names += tuple(values)
        for name in names:
            monkeypatch.delenv(name, raising=False)
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "100")


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run("models", "--json")``: main's exit code, stdout and stderr."""

    def call(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A simulator accepting only KEY, served by its own loop on its own thread."""
    yield from _thread_simulator(Simulator(api_key=KEY))


@pytest.fixture
def slow_sim() -> Iterator[Simulator]:
    """A simulator pausing 0.2 s between stream events."""
    yield from _thread_simulator(Simulator(api_key=KEY, chunk_delay=0.2))


def _thread_simulator(server: Simulator) -> Iterator[Simulator]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="cli-test-sim", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch, sim: Simulator) -> Simulator:
    """OPENAI_API_KEY and OPENAI_BASE_URL pointing at the simulator, as a user would set them."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{sim.url}/v1")
    return sim
