"""docs/models.md is the registry's catalogue, and the README's links resolve."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from core.llms.cli import catalogue_markdown, main

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(
    importlib.util.find_spec("core_llms_ollama") is None,
    reason="the catalogue page includes the Ollama plugin, which is not installed",
)
def test_models_page_matches_registry() -> None:
    page = (ROOT / "docs" / "models.md").read_text()
    regenerate = "python -m core.llms.cli models --markdown > docs/models.md"
    assert page == catalogue_markdown(), f"docs/models.md is stale; regenerate: {regenerate}"


def test_catalogue_lists_required_models() -> None:
    page = catalogue_markdown()
    for name in ("gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "o4-mini"):
        assert f"`openai/{name}`" in page
        assert f"`azure/{name}`" in page
    assert "`max_completion_tokens`" in page


def test_cli_lists_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--provider", "openai"]) == 0
    out = capsys.readouterr().out
    assert "openai/gpt-4.1-mini" in out and "azure/" not in out


def test_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert links
    for link in links:
        assert (ROOT / link).exists(), f"README links to missing {link}"
