"""What the observer tests share: the canary key, a model on a simulator, observers switched on
for one test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.llms import create_llm
from core.llms.observability import Observability, enable
from core.llms.simulator import Simulator

#: the API key of the simulators (conftest.py): no recognisable prefix; every observer's test
#: searches its exports for pieces of it.
CANARY = "q7Zt93kPm2Lx8Vw4Rn6Jd1Hc5Fy0Bs"


def model(sim: Simulator, **kw: Any) -> Any:
    """``openai/gpt-4.1-mini`` on ``sim`` with the canary key (no retries unless ``retry=``)."""
    kw.setdefault("retry", {"max_retries": 0})
    return create_llm("openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1", api_key=CANARY, **kw)


@contextmanager
def enabled(**observers: Any) -> Iterator[Observability]:
    """``observability.enable(**observers)`` for the ``with`` block, then ``disable()``."""
    handle = enable(**observers)
    try:
        yield handle
    finally:
        handle.disable()
