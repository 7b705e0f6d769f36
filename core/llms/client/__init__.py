"""The providerless client: ``LLMClient`` (bare model names routed to configured providers,
events, labels, budgets, a blocking twin). See ``docs/client.md``.

Names are imported on first use, so ``import core.llms.client`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..budget import Budget as Budget
    from .client import LLMClient as LLMClient
    from .client import RetryIf as RetryIf
    from .events import ChatEvent as ChatEvent
    from .events import ChunkEvent as ChunkEvent
    from .events import LogEvent as LogEvent
    from .events import ToolCallEvent as ToolCallEvent
    from .events import UsageEvent as UsageEvent
    from .routing import ModelRouter as ModelRouter

_LAZY = {
    "LLMClient": "core.llms.client.client",
    "RetryIf": "core.llms.client.client",
    "ChatEvent": "core.llms.client.events",
    "ChunkEvent": "core.llms.client.events",
    "LogEvent": "core.llms.client.events",
    "ToolCallEvent": "core.llms.client.events",
    "UsageEvent": "core.llms.client.events",
    "ModelRouter": "core.llms.client.routing",
    "Budget": "core.llms.budget",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'core.llms.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
