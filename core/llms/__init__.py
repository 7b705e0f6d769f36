"""core-llms: one async-first client for hosted and self-hosted LLMs, with failover.

Quick use::

    from core.llms import create_llm
    llm = create_llm("azure/gpt-4.1-mini", endpoint=..., api_key=..., deployment_name=...)
    answer = await llm.get_answer("Hello")

The contracts live in :mod:`core.llms.interfaces` and are re-exported here. The factory,
registry and transport names below are imported on first use, so ``import core.llms`` stays
cheap and loads no provider code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .interfaces import *  # noqa: F403
from .interfaces import __all__ as _interfaces_all
from .interfaces.types import MEDIA_NAMES as _MEDIA_NAMES

if TYPE_CHECKING:
    from .budget import Budget as Budget
    from .client import LLMClient as LLMClient
    from .factory import LLMFactory as LLMFactory
    from .factory import create_llm as create_llm
    from .fallback import FallbackLLM as FallbackLLM
    from .hookspecs import hookimpl as hookimpl
    from .interfaces.endpoint import EndpointConfig as EndpointConfig
    from .interfaces.endpoint import Timeouts as Timeouts
    from .interfaces.media import EmbeddingResponse as EmbeddingResponse
    from .interfaces.media import GeneratedImage as GeneratedImage
    from .interfaces.media import LLMAudioChunk as LLMAudioChunk
    from .interfaces.media import LLMAudioResponse as LLMAudioResponse
    from .interfaces.media import LLMImageChunk as LLMImageChunk
    from .interfaces.media import LLMImageResponse as LLMImageResponse
    from .interfaces.media import LLMVideoChunk as LLMVideoChunk
    from .interfaces.media import LLMVideoResponse as LLMVideoResponse
    from .interfaces.media import RerankResponse as RerankResponse
    from .interfaces.media import RerankResult as RerankResult
    from .interfaces.media import Transcription as Transcription
    from .interfaces.media import TranscriptionSegment as TranscriptionSegment
    from .interfaces.media import TranscriptionWord as TranscriptionWord
    from .interfaces.provider import ModelRow as ModelRow
    from .interfaces.provider import ProviderProfile as ProviderProfile
    from .prompt import Prompt as Prompt
    from .providers.base.breaker import FailureRate as FailureRate
    from .providers.base.implementation import BaseLLM as BaseLLM
    from .providers.base.retry import RetryPolicy as RetryPolicy
    from .registry import ModelRegistry as ModelRegistry
    from .registry import default_registry as default_registry

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "create_llm": "core.llms.factory",
    "LLMFactory": "core.llms.factory",
    "hookimpl": "core.llms.hookspecs",
    "BaseLLM": "core.llms.providers.base.implementation",
    "EndpointConfig": "core.llms.interfaces.endpoint",
    "Timeouts": "core.llms.interfaces.endpoint",
    "FallbackLLM": "core.llms.fallback",
    "LLMClient": "core.llms.client.client",
    "Budget": "core.llms.budget",
    "Prompt": "core.llms.prompt",
    "ModelRow": "core.llms.interfaces.provider",
    "ProviderProfile": "core.llms.interfaces.provider",
    "RetryPolicy": "core.llms.providers.base.retry",
    "FailureRate": "core.llms.providers.base.breaker",
    "ModelRegistry": "core.llms.registry",
    "default_registry": "core.llms.registry",
    # media results: their classes are created on first use (see core.llms.interfaces.media)
    **dict.fromkeys(sorted(_MEDIA_NAMES), "core.llms.interfaces.media"),
}

__all__ = [*_interfaces_all, *_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'core.llms' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
