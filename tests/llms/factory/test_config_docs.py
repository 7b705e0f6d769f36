"""The TOML and YAML examples of docs/configuration.md load and build with the real providers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from plugins.ollama_support import ollama_plugin
from plugins.support import SECRET

from core.llms.config import load_config
from core.llms.factory import LLMFactory
from core.llms.plugins import build_plugin_manager
from core.llms.registry import ModelRegistry

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def example(language: str) -> str:
    [block] = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    return block


@pytest.mark.parametrize(("language", "suffix"), [("toml", ".toml"), ("yaml", ".yaml")])
def test_documented_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str, suffix: str
) -> None:
    monkeypatch.setenv("AZURE_EAST_KEY", SECRET)
    monkeypatch.setenv("AZURE_WEST_KEY", "west")
    path = tmp_path / f"llms{suffix}"
    path.write_text(example(language))
    config = load_config(path)
    assert list(config.models) == ["fast", "local"]
    pm = build_plugin_manager(autoload=False)
    pm.register(ollama_plugin, name="ollama")
    factory = LLMFactory.from_config(path, registry=ModelRegistry.from_plugins(pm))
    fast = factory["fast"]
    assert fast.metadata.qualified_name == "azure/gpt-4.1-mini"
    assert factory["local"].metadata.qualified_name == "ollama/llama3.2"
