"""Model information from the catalogue (costs, limits, capabilities) and LiteLLM's model names."""

from __future__ import annotations

import pytest

import core.llms as core
from core.llms import compat, default_registry
from core.llms.compat.names import litellm_env_fields, split_model


def test_cost_per_token_and_completion_cost() -> None:
    meta = default_registry().metadata("openai/gpt-4o-mini")
    prompt, completion = compat.cost_per_token("gpt-4o-mini", prompt_tokens=1000, completion_tokens=500)
    assert prompt == pytest.approx(1000 * meta.pricing.input_per_1m / 1e6)
    assert completion == pytest.approx(500 * meta.pricing.output_per_1m / 1e6)
    cached, _ = compat.cost_per_token("gpt-4o-mini", 1000, 0, cache_read_input_tokens=1000)
    assert cached < prompt
    # from a response's usage and model (a response without its own cost figure)
    resp = compat.ModelResponse(model="gpt-4o-mini", usage={"prompt_tokens": 1000, "completion_tokens": 500})
    assert compat.completion_cost(resp) == pytest.approx(prompt + completion)
    assert compat.completion_cost(completion_response=resp.model_dump()) == pytest.approx(prompt + completion)
    # from text: tokens estimated as characters / 4
    assert compat.completion_cost(
        model="gpt-4o-mini", prompt="x" * 4000, completion="y" * 2000
    ) == pytest.approx(prompt + completion)
    assert compat.completion_cost(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x" * 4000}], completion="y" * 2000
    ) == pytest.approx(prompt + completion)


def test_unpriced_and_unknown_models() -> None:
    with pytest.raises(compat.NotFoundError, match="no price"):
        compat.cost_per_token("openai/my-fine-tune-xyz", 10, 10)
    assert compat.cost_per_token("ollama/llama3.2", 10, 10) == (0.0, 0.0)  # (a local model is free)
    with pytest.raises(compat.UnknownModelError) as caught:
        compat.get_model_info("no-such-model-anywhere")
    assert isinstance(caught.value, core.UnknownModelError) and isinstance(caught.value, compat.NotFoundError)
    assert compat.supports_vision("no-such-model-anywhere") is False


def test_get_model_info_keys() -> None:
    info = compat.get_model_info("gpt-4o-mini")
    meta = default_registry().metadata("openai/gpt-4o-mini")
    assert info["max_input_tokens"] == meta.context_window
    assert (
        info["max_output_tokens"]
        == info["max_tokens"]
        == meta.max_output_tokens
        == compat.get_max_tokens("gpt-4o-mini")
    )
    assert info["input_cost_per_token"] == pytest.approx(meta.pricing.input_per_1m / 1e6)
    assert info["litellm_provider"] == "openai" and info["mode"] == "chat"
    assert info["supports_vision"] is True and info["supports_function_calling"] is True
    assert "temperature" in info["supported_openai_params"]
    assert compat.get_model_info("vertex_ai/gemini-2.5-flash")["litellm_provider"] == "vertex_ai"
    assert compat.get_model_info("openai/text-embedding-3-small")["mode"] == "embedding"
    assert compat.get_model_info("openai/whisper-1")["mode"] == "audio_transcription"
    assert compat.get_model_info("my-model", custom_llm_provider="openai")["input_cost_per_token"] is None


def test_supports_functions() -> None:
    assert compat.supports_vision("gpt-4o-mini") and not compat.supports_vision("openai/o3-mini")
    assert compat.supports_pdf_input("anthropic/claude-sonnet-4-5")
    assert compat.supports_function_calling("claude-sonnet-4-5")
    assert compat.supports_response_schema("gpt-4o-mini")
    assert compat.supports_reasoning("o3-mini") and not compat.supports_reasoning("gpt-4o-mini")
    assert compat.supports_prompt_caching("gpt-4o-mini")
    assert compat.supports_audio_output("openai/tts-1") and not compat.supports_audio_output("gpt-4o-mini")


def test_model_cost_table() -> None:
    table = compat.model_cost
    assert table["gpt-4o-mini"]["litellm_provider"] == "openai"
    assert "vertex_ai/gemini-2.5-flash" in table and "azure/gpt-4o-mini" in table


def test_litellm_names() -> None:
    assert split_model("vertex_ai/gemini-2.5-pro") == ("gemini-2.5-pro", "vertex")
    assert split_model("together_ai/meta-llama/Llama-3.3-70B") == ("meta-llama/Llama-3.3-70B", "together")
    assert split_model("fireworks_ai/accounts/fireworks/models/x") == (
        "accounts/fireworks/models/x",
        "fireworks",
    )
    assert split_model("bedrock/converse/anthropic.claude-3") == ("anthropic.claude-3", "bedrock")
    assert split_model("ollama_chat/llama3.2") == ("llama3.2", "ollama")
    assert split_model("lm_studio/qwen") == ("qwen", "lmstudio")
    assert split_model("gpt-4o") == ("gpt-4o", None)
    assert split_model("meta-llama/Llama-3") == ("meta-llama/Llama-3", None)  # (not a provider: bare)
    assert split_model("gpt-4o", "openai") == ("gpt-4o", "openai")
    assert split_model("openai/gpt-4o", "openai") == ("gpt-4o", "openai")
    assert compat.get_llm_provider("gpt-4o-mini") == ("gpt-4o-mini", "openai", None, None)
    assert compat.get_llm_provider("vertex_ai/gemini-2.5-pro")[1] == "vertex_ai"
    with pytest.raises(core.UnknownModelError, match="not supported"):
        split_model("azure_ai/mistral-large")
    with pytest.raises(core.UnknownModelError):
        split_model("x", custom_llm_provider="nope")


def test_litellm_environment_variables() -> None:
    profile = default_registry().provider("azure")
    env = {"AZURE_API_KEY": "k1", "AZURE_API_BASE": "https://r.example", "AZURE_API_VERSION": "2024-10-21"}
    assert litellm_env_fields(profile, {}, env) == {
        "api_key": "k1",
        "endpoint": "https://r.example",
        "api_version": "2024-10-21",
    }
    # core-llms' own variables and given fields win
    assert litellm_env_fields(profile, {"api_key": "given"}, {**env, "AZURE_OPENAI_ENDPOINT": "x"}) == {
        "api_version": "2024-10-21"
    }
