"""Model classes by name, for tests that build a model on a connector of their own.

The registry makes one class per catalogue row; tests reach them by qualified name::

    GPT41Mini = model_class("openai/gpt-4.1-mini")
    model = GPT41Mini(connector)

The registry used holds the built-in providers and the Ollama plugin (registered directly, so
entry-point autoload settings of the environment do not matter).
"""

from __future__ import annotations

import functools
from typing import Any

from core.llms.plugins import build_plugin_manager
from core.llms.registry import ModelRegistry


@functools.cache
def test_registry() -> ModelRegistry:
    """Built-ins plus the Ollama plugin, built once per test session."""
    pm = build_plugin_manager(autoload=False, blocked=())
    import core_llms_ollama.plugin as ollama_plugin

    pm.register(ollama_plugin, name="ollama")
    return ModelRegistry.from_plugins(pm)


def model_class(name: str) -> Any:
    """The model class ``name`` (``"provider/model"``) resolves to."""
    return test_registry().resolve(name)[1]
