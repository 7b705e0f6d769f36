"""Helpers for the shutdown tests: models on the simulator, connection counters, waiting."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

from core.llms import create_llm
from core.llms.providers.base.connector import Connector
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.retry import RetryPolicy
from core.llms.simulator import Simulator

#: a canary key: it must never appear in a warning.
KEY = "sk-shutdown-CANARY-0123456789abcdef"
FAST = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002, jitter=0.0)


def model(sim: Simulator, *, backup: Simulator | None = None, **kw: Any) -> BaseLLM:
    """``openai/gpt-4.1-mini`` on ``sim`` (and ``backup``), fast retries."""
    backups = [{"endpoint": f"{backup.url}/v1"}] if backup is not None else []
    return create_llm(
        "openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1", api_key=KEY, backups=backups, retry=FAST, **kw
    )


def connectors(llm: BaseLLM) -> list[Connector]:
    connector = llm.connector
    assert isinstance(connector, FailoverConnector)
    return connector.connectors


def acquired(llm: BaseLLM) -> int:
    """Connections the model's aiohttp connectors have handed out and not got back."""
    total = 0
    for conn in connectors(llm):
        session = conn._session
        if session is not None and session.connector is not None:
            total += len(session.connector._acquired)
    return total


def open_sessions(llm: BaseLLM) -> int:
    return sum(1 for conn in connectors(llm) if conn._session is not None and not conn._session.closed)


def client_sockets(port: int) -> int | None:
    """TCP sockets of this process connected to ``port`` on 127.0.0.1 (None without /proc)."""
    try:
        inodes = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
        count = 0
        with open("/proc/net/tcp") as table:
            next(table)
            for row in table:
                cols = row.split()
                if int(cols[9]) in inodes and int(cols[2].rsplit(":", 1)[1], 16) == port:
                    count += 1
        return count
    except OSError:
        return None


async def eventually(check: Callable[[], bool], seconds: float = 2.0) -> bool:
    """Run the loop until ``check()`` holds (True) or ``seconds`` pass (False)."""
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.005)
    return True
