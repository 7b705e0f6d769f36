"""The installed core-llms-ollama distribution is found through the ``core_llms`` entry point,
and the autoload switch and block list keep it out."""

from __future__ import annotations

import importlib.metadata

import pytest

from core.llms.factory import create_llm
from core.llms.interfaces.errors import UnknownModelError
from core.llms.plugins import get_plugin_manager, reset_plugin_manager

from .ollama_support import FakeOllama, Reply, whole_answer


def _entry_point_installed() -> bool:
    try:
        dist = importlib.metadata.distribution("core-llms-ollama")
    except importlib.metadata.PackageNotFoundError:
        return False
    return any(ep.group == "core_llms" and ep.name == "ollama" for ep in dist.entry_points)


pytestmark = pytest.mark.skipif(
    not _entry_point_installed(),
    reason="the core-llms-ollama distribution is not installed (pip install -e plugins/core-llms-ollama)",
)


async def test_create_llm_resolves_through_the_entry_point(ollama: FakeOllama) -> None:
    reset_plugin_manager()
    async with create_llm("ollama/llama3.2", endpoint=ollama.url) as llm:
        # a catalogue row of the plugin, made from its dialect class
        assert type(llm).__module__ == "core_llms_ollama.base" and type(llm).metadata.name == "llama3.2"
        ollama.enqueue(Reply(json=whole_answer("hello from ollama")))
        assert (await llm.get_answer("hi")).text == "hello from ollama"
    plugin = get_plugin_manager().get_plugin("ollama")
    assert plugin is not None and plugin.__name__ == "core_llms_ollama.plugin"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD", "1"), ("CORE_LLMS_BLOCKED_PLUGINS", "ollama")],
)
def test_switched_off(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    reset_plugin_manager()
    with pytest.raises(UnknownModelError, match="unknown provider 'ollama'"):
        create_llm("ollama/llama3.2", endpoint="http://127.0.0.1:11434")
    assert get_plugin_manager().get_plugin("ollama") is None
    # the built-in providers are still there
    assert create_llm("openai/gpt-4.1-mini", api_key="k").metadata.qualified_name == "openai/gpt-4.1-mini"
