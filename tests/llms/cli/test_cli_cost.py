"""``core-llms cost``: the figures are ``BaseLLM.cost`` of the same usage; unpriced models and
bad counts are reported."""

from __future__ import annotations

import io
import json

import pytest

from core.llms import Usage, create_llm
from core.llms.budget import estimate_input_tokens
from core.llms.interfaces.messages import normalize_messages
from core.llms.registry import default_registry

from .support import ANSI, Run


@pytest.mark.parametrize(
    ("model", "tokens"),
    [
        ("openai/gpt-4.1-mini", (12_000, 0, 800)),
        ("openai/gpt-4.1-mini", (10_000, 4_000, 1_500)),
        ("anthropic/claude-sonnet-4-5", (50_000, 40_000, 2_000)),
        ("openai/gpt-4o", (1, 0, 1_000_000)),
    ],
)
async def test_cost_equals_the_models_own_cost(run: Run, model: str, tokens: tuple[int, int, int]) -> None:
    n_in, n_cached, n_out = tokens
    llm = create_llm(model, api_key="not-used")
    try:
        expected = llm.cost(Usage(input_tokens=n_in, output_tokens=n_out, cached_input_tokens=n_cached))
    finally:
        await llm.aclose()
    assert expected is not None
    argv = [
        model,
        "--input-tokens",
        str(n_in),
        "--output-tokens",
        str(n_out),
        "--cached-tokens",
        str(n_cached),
    ]
    record = json.loads(run("cost", *argv, "--json").out)
    assert record["cost_usd"] == expected
    assert sum(record["breakdown_usd"].values()) == pytest.approx(expected)
    assert record["model"] == model and record["input_estimated"] is False
    plain = run("cost", *argv)
    assert plain.code == 0 and not ANSI.search(plain.out)
    rows = {line.split("\t")[0]: line.split("\t") for line in plain.out.splitlines()[1:]}
    assert float(rows["total"][3]) == pytest.approx(expected)
    assert rows["total"][1] == str(n_in + n_out)


def test_terminal_layout(run: Run) -> None:
    result = run(
        "cost", "openai/gpt-4.1-mini", "--input-tokens", "1000", "--cached-tokens", "200",
        "--output-tokens", "500", "--color", "always",
    )  # fmt: skip
    text = ANSI.sub("", result.out)
    assert "openai/gpt-4.1-mini" in text and "cached input" in text
    assert "$0.001140" in text  # 800 * 0.40 + 200 * 0.10 + 500 * 1.60, per 1M
    assert "\x1b[1m" in result.out


def test_prompt_tokens_are_estimated_as_the_library_does(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    prompt = "Summarise the French revolution in three short paragraphs, please."
    tokens = estimate_input_tokens(normalize_messages(prompt))
    record = json.loads(
        run("cost", "openai/gpt-4.1", "--prompt", prompt, "--output-tokens", "500", "--json").out
    )
    assert record["input_tokens"] == tokens and record["input_estimated"] is True
    pricing = default_registry().metadata("openai/gpt-4.1").pricing
    assert record["cost_usd"] == pricing.cost(Usage(input_tokens=tokens, output_tokens=500))
    monkeypatch.setattr("sys.stdin", io.StringIO(prompt))
    from_stdin = json.loads(
        run("cost", "openai/gpt-4.1", "--prompt", "-", "--output-tokens", "500", "--json").out
    )
    assert from_stdin["input_tokens"] == tokens


def test_bare_names_are_routed_like_chat(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("--input-tokens", "10", "--output-tokens", "10", "--json")
    assert json.loads(run("cost", "gpt-4.1-mini", *args).out)["model"] == "openai/gpt-4.1-mini"
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://example.openai.azure.com")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    assert json.loads(run("cost", "gpt-4.1-mini", *args).out)["model"] == "azure/gpt-4.1-mini"


def test_a_model_without_price_says_so(run: Run) -> None:
    open_name = run("cost", "openai/gpt-4o-2099-01-01", "--input-tokens", "10", "--output-tokens", "10")
    assert open_name.code == 1
    assert "no price" in open_name.err and open_name.out == ""
    image = run("cost", "openai/dall-e-3", "--input-tokens", "10", "--output-tokens", "10")
    assert image.code == 1 and "per image" in image.err


def test_errors_and_usage_errors(run: Run) -> None:
    unknown = run("cost", "nosuchprovider/x", "--input-tokens", "1", "--output-tokens", "1")
    assert unknown.code == 1 and "UnknownModelError" in unknown.err and "Traceback" not in unknown.err
    too_many = run(
        "cost", "openai/gpt-4o", "--input-tokens", "5", "--cached-tokens", "6", "--output-tokens", "1"
    )
    assert too_many.code == 2 and "--cached-tokens" in too_many.err
    negative = run("cost", "openai/gpt-4o", "--input-tokens", "-5", "--output-tokens", "1")
    assert negative.code == 2
    both = run("cost", "openai/gpt-4o", "--input-tokens", "5", "--prompt", "hi", "--output-tokens", "1")
    assert both.code == 2
    neither = run("cost", "openai/gpt-4o", "--output-tokens", "1")
    assert neither.code == 2
