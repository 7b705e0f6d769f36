"""``core-llms models`` and ``providers``: filters, sorting, the plain (piped) and rich
(terminal) layouts, JSON, the docs pages unchanged; ``--help`` and ``--version``."""

from __future__ import annotations

import io
import json

import pytest

from core import llms
from core.llms.cli import catalogue_markdown, providers_markdown
from core.llms.cli.term import Column, Terminal, color_wanted
from core.llms.registry import default_registry

from .support import ANSI, Run


def names(out: str) -> list[str]:
    """The first column of a plain table, header dropped."""
    return [line.split("\t")[0] for line in out.splitlines()[1:]]


def test_piped_output_is_tab_separated_without_escape_codes(run: Run) -> None:
    result = run("models", "--provider", "openai")
    assert result.code == 0 and result.err == ""
    assert not ANSI.search(result.out)
    lines = result.out.splitlines()
    assert lines[0].split("\t") == [
        "model",
        "context",
        "max out",
        "in $/1M",
        "out $/1M",
        "outputs",
        "capabilities",
    ]
    assert all(line.count("\t") == 6 for line in lines)
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    meta = default_registry().metadata("openai/gpt-4.1-mini")
    row = rows["openai/gpt-4.1-mini"]
    assert row[1:5] == [
        str(meta.context_window),
        str(meta.max_output_tokens),
        f"{meta.pricing.input_per_1m:g}",
        f"{meta.pricing.output_per_1m:g}",
    ]
    assert "vision" in row[6].split(",") and "tools" in row[6].split(",")
    assert names(result.out) == sorted(m.qualified_name for m in default_registry().models("openai"))


def test_forced_colour_gives_the_terminal_layout(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    forced = run("models", "--provider", "openai", "--color", "always")
    assert forced.code == 0
    assert "\x1b[1m" in forced.out  # bold header
    assert "\t" not in forced.out
    plain_text = ANSI.sub("", forced.out)
    assert "openai/gpt-4.1-mini" in plain_text and "$0.40" in plain_text
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ANSI.search(run("models", "--provider", "openai").out)
    assert not ANSI.search(run("--color", "never", "models", "--provider", "openai").out)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(run("models", "--provider", "openai").out)


def test_colour_rules() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert color_wanted("auto", Tty(), {}) is True
    assert color_wanted("auto", Tty(), {"TERM": "dumb"}) is False
    assert color_wanted("auto", Tty(), {"NO_COLOR": "1"}) is False
    assert color_wanted("auto", io.StringIO(), {}) is False
    assert color_wanted("auto", io.StringIO(), {"FORCE_COLOR": "1"}) is True
    assert color_wanted("auto", io.StringIO(), {"FORCE_COLOR": "0"}) is False
    assert color_wanted("always", io.StringIO(), {"NO_COLOR": "1"}) is True
    assert color_wanted("never", Tty(), {"FORCE_COLOR": "1"}) is False
    assert Terminal.for_stream(Tty(), "never").rich  # a terminal keeps its layout, without colour


def test_terminal_table_fits_the_width_and_cuts_with_an_ellipsis() -> None:
    stream = io.StringIO()
    term = Terminal(stream, color=True, rich=True, width=30)
    columns = (Column("name", shrink=8), Column("n", right=True), Column("notes", shrink=6))
    term.table(columns, [["a-rather-long-model-name", "12", (("red", "31"), (" words here", ""))]])
    lines = [ANSI.sub("", line) for line in stream.getvalue().splitlines()]
    assert all(len(line) <= 30 for line in lines), lines
    assert "…" in lines[1]
    assert lines[1].startswith("a-rather-long-model-name"[:5])
    assert "\x1b[31m" in stream.getvalue()


def test_wide_terminal_rows_fit_columns(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    out = run("models", "--color", "always").out
    lines = [ANSI.sub("", line) for line in out.splitlines()]
    assert max(len(line) for line in lines) <= 72
    assert any("…" in line for line in lines)


def test_capability_filters_must_all_hold(run: Run) -> None:
    out = run("models", "--capability", "vision", "--capability", "reasoning").out
    assert names(out)
    for name in names(out):
        caps = default_registry().metadata(name).capabilities
        assert caps.vision and caps.reasoning
    assert names(run("models", "--capability", "vision,reasoning").out) == names(out)
    every = names(run("models").out)
    assert set(names(out)) < set(every)


def test_output_filter(run: Run) -> None:
    out = run("models", "--output", "embedding").out
    assert names(out)
    assert all("embedding" in default_registry().metadata(n).output_media for n in names(out))
    assert "openai/text-embedding-3-small" in names(out)


def test_unknown_filter_value_is_a_usage_error(run: Run) -> None:
    result = run("models", "--capability", "telepathy")
    assert result.code == 2
    assert "telepathy" in result.err and "vision" in result.err


def test_search_and_max_price(run: Run) -> None:
    found = names(run("models", "--search", "SONNET").out)
    assert found and all("sonnet" in n for n in found)
    cheap = names(run("models", "--max-input-price", "0.2").out)
    assert cheap
    for name in cheap:
        pricing = default_registry().metadata(name).pricing
        assert pricing.known and pricing.input_per_1m <= 0.2


def test_sorting(run: Run) -> None:
    by_price = names(run("models", "--provider", "openai", "--sort", "price").out)
    prices = [default_registry().metadata(n).pricing for n in by_price]
    known = [p.input_per_1m for p in prices if p.known]
    assert known == sorted(known)
    assert [p.known for p in prices] == sorted((p.known for p in prices), reverse=True)  # unpriced last
    by_context = names(run("models", "--provider", "anthropic", "--sort", "context").out)
    windows = [default_registry().metadata(n).context_window for n in by_context]
    assert windows == sorted(windows, reverse=True)


def test_json(run: Run) -> None:
    result = run("models", "--provider", "openai", "--capability", "tools", "--json")
    records = json.loads(result.out)
    assert records and all("tools" in r["capabilities"] for r in records)
    mini = next(r for r in records if r["name"] == "openai/gpt-4.1-mini")
    meta = default_registry().metadata("openai/gpt-4.1-mini")
    assert mini["context_window"] == meta.context_window
    assert mini["pricing"]["input_per_1m"] == meta.pricing.input_per_1m
    assert mini["output_media"] == ["text"]


def test_markdown_is_the_docs_generator_unchanged(run: Run) -> None:
    assert run("models", "--markdown").out == catalogue_markdown()
    assert run("providers", "--markdown").out == providers_markdown()
    refused = run("models", "--markdown", "--capability", "vision")
    assert refused.code == 2 and "--markdown" in refused.err


def test_providers(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "x")
    result = run("providers")
    rows = {line.split("\t")[0]: line.split("\t") for line in result.out.splitlines()[1:]}
    assert rows["anthropic"][2] == "yes" and rows["openai"][2] == "no"
    assert "OPENAI_API_KEY" in rows["openai"][4]
    records = json.loads(run("providers", "--json").out)
    assert {r["name"]: r["configured"] for r in records}["anthropic"] is True
    assert "x" not in json.dumps([r["api_key_env"] for r in records])  # names only, never values


def test_help_and_version(run: Run) -> None:
    top = run("--help")
    assert top.code == 0
    for command in ("chat", "models", "providers", "cost", "simulator"):
        assert command in top.out
    for command in ("chat", "models", "providers", "cost"):
        page = run(command, "--help")
        assert page.code == 0 and "examples:" in page.out, command
    assert run("--version").out.strip() == f"core-llms {llms.__version__}"
    missing = run()
    assert missing.code == 2 and "COMMAND" in missing.err
