"""The OpenAI-compatible hosts: one row each. Adding a host is adding a row here.

Every host speaks the ``openai_chat`` dialect; a row says where it lives (default base URL and
the environment variables of its endpoint and key), how it authenticates, its quirks, and its
main models. Any other model name of a host works too (``groq/<any model>``): it is sent as
given, with generous limits and no price.

Quirks the dialect already handles for every host, so no row needs to say them: reasoning text in
``reasoning_content`` (DeepSeek, xAI) or ``reasoning`` (OpenRouter, Groq), Mistral's typed content
parts (``thinking`` / ``text``), SSE keep-alive comments (OpenRouter), ``{"error": …}`` events
inside a 200 stream, and streams that end after their finish reason and usage without ``[DONE]``
(Groq).

Prices are USD per 1M tokens (input, output; cached input where the host publishes one), as the
hosts published them when these rows were written (``HOST_PRICES_AS_OF``); they change, so check
the host's price page before relying on ``response.cost``. Databricks bills in DBUs: its rows have
no price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ...interfaces.metadata import Capabilities, MediaType, ModelMetadata, Pricing

__all__ = ["HOSTS", "HOST_PRICES_AS_OF", "Host"]

#: the day these rows (and their prices) were written.
HOST_PRICES_AS_OF = date(2026, 12, 5)

_TEXT: frozenset[MediaType] = frozenset({"text"})
_TEXT_IMAGE: frozenset[MediaType] = frozenset({"text", "image"})
_CHAT = Capabilities(tools=True, parallel_tools=True, json_mode=True, json_schema=True)
_REASONING = _CHAT.replace(reasoning=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Host:
    """One OpenAI-compatible host (see the module docstring)."""

    #: the provider name: ``create_llm("<name>/<model>")``.
    name: str
    description: str
    #: the default endpoint (None: the caller or ``endpoint_env`` must give one).
    base_url: str | None
    key_env: tuple[str, ...] = ()
    endpoint_env: tuple[str, ...] = ()
    #: False for keyless servers (a key is still sent when one is given).
    requires_key: bool = True
    auth_header: str = "Authorization"
    #: the scheme before the key (``""``: the key alone, as ``x-api-key`` headers take it).
    auth_scheme: str = "Bearer"
    #: a path between the endpoint and ``/chat/completions`` (Databricks: ``/serving-endpoints``).
    base_path: str = ""
    #: False when the host refuses ``stream_options`` (usage is then not asked for on streams).
    stream_usage: bool = True
    #: what differs on this host, for the providers page.
    quirks: str = ""
    #: bare model names starting with one of these are routed here by the client.
    model_prefixes: tuple[str, ...] = ()
    models: tuple[ModelMetadata, ...] = ()


def _model(
    host: str,
    name: str,
    context: int,
    max_output: int,
    price: tuple[float, float] | None,
    *,
    family: str = "",
    reasoning: bool = False,
    vision: bool = False,
    cached: float | None = None,
    note: str = "",
) -> ModelMetadata:
    """A host's catalogue row."""
    pricing = Pricing()
    if price is not None:
        pricing = Pricing(
            input_per_1m=price[0], output_per_1m=price[1], cached_input_per_1m=cached, as_of=HOST_PRICES_AS_OF
        )
    capabilities = _REASONING if reasoning else _CHAT
    return ModelMetadata(
        name=name,
        provider=host,
        family=family,
        context_window=context,
        max_output_tokens=max_output,
        input_media=_TEXT_IMAGE if vision else _TEXT,
        capabilities=capabilities.replace(vision=vision),
        pricing=pricing,
        description=note or f"{name} on {host}",
    )


# fmt: off
HOSTS: tuple[Host, ...] = (
    Host(
        name="groq", description="Groq (LPU inference)", base_url="https://api.groq.com/openai/v1",
        key_env=("GROQ_API_KEY",), endpoint_env=("GROQ_BASE_URL",),
        quirks="reasoning in delta.reasoning; a stream may end without [DONE]; tool-call validation "
        "errors arrive as an error event inside the stream",
        models=(
            _model("groq", "llama-3.3-70b-versatile", 131_072, 32_768, (0.59, 0.79), family="llama"),
            _model("groq", "llama-3.1-8b-instant", 131_072, 131_072, (0.05, 0.08), family="llama"),
            _model("groq", "openai/gpt-oss-120b", 131_072, 65_536, (0.15, 0.75), family="gpt-oss",
                   reasoning=True),
        ),
    ),
    Host(
        name="together", description="Together AI", base_url="https://api.together.xyz/v1",
        key_env=("TOGETHER_API_KEY",), endpoint_env=("TOGETHER_BASE_URL",),
        models=(
            _model("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", 131_072, 32_768, (0.88, 0.88),
                   family="llama"),
            _model("together", "deepseek-ai/DeepSeek-V3", 131_072, 32_768, (1.25, 1.25), family="deepseek"),
            _model("together", "Qwen/Qwen2.5-72B-Instruct-Turbo", 32_768, 8_192, (1.20, 1.20), family="qwen"),
        ),
    ),
    Host(
        name="fireworks", description="Fireworks AI", base_url="https://api.fireworks.ai/inference/v1",
        key_env=("FIREWORKS_API_KEY",), endpoint_env=("FIREWORKS_BASE_URL",),
        quirks="model ids are paths: accounts/fireworks/models/<name>",
        models=(
            _model("fireworks", "accounts/fireworks/models/llama-v3p3-70b-instruct", 131_072, 16_384,
                   (0.90, 0.90), family="llama"),
            _model("fireworks", "accounts/fireworks/models/deepseek-v3", 131_072, 16_384, (0.90, 0.90),
                   family="deepseek"),
        ),
    ),
    Host(
        name="deepseek", model_prefixes=("deepseek-",),
        description="DeepSeek API", base_url="https://api.deepseek.com",
        key_env=("DEEPSEEK_API_KEY",), endpoint_env=("DEEPSEEK_BASE_URL",),
        quirks="deepseek-reasoner streams its reasoning in delta.reasoning_content; "
        "no /v1 in the base URL",
        models=(
            _model("deepseek", "deepseek-chat", 131_072, 8_192, (0.28, 0.42), cached=0.028,
                   family="deepseek"),
            _model("deepseek", "deepseek-reasoner", 131_072, 65_536, (0.28, 0.42), cached=0.028,
                   family="deepseek", reasoning=True),
        ),
    ),
    Host(
        name="perplexity", model_prefixes=("sonar",), description="Perplexity (Sonar, web-grounded answers)",
        base_url="https://api.perplexity.ai", key_env=("PERPLEXITY_API_KEY", "PPLX_API_KEY"),
        endpoint_env=("PERPLEXITY_BASE_URL",),
        quirks="answers carry citations / search_results fields (kept in response.raw); no /v1 in the "
        "base URL; per-request search fees are not in the token prices",
        models=(
            _model("perplexity", "sonar", 127_072, 8_192, (1.00, 1.00), family="sonar"),
            _model("perplexity", "sonar-pro", 200_000, 8_192, (3.00, 15.00), family="sonar"),
        ),
    ),
    Host(
        name="bedrock_openai",
        description="Amazon Bedrock's OpenAI-compatible endpoint (Bedrock API key; gpt-oss models)",
        base_url="https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1",
        key_env=("AWS_BEARER_TOKEN_BEDROCK",), endpoint_env=("BEDROCK_OPENAI_BASE_URL",),
        quirks="the key is a Bedrock API key (bearer); other regions: "
        "https://bedrock-runtime.<region>.amazonaws.com/openai/v1; gpt-oss writes its reasoning "
        "inline as <reasoning>…</reasoning> text; chunks carry an 'obfuscation' field",
        models=(
            _model("bedrock_openai", "openai.gpt-oss-120b-1:0", 128_000, 32_768, (0.15, 0.60),
                   family="gpt-oss", reasoning=True),
            _model("bedrock_openai", "openai.gpt-oss-20b-1:0", 128_000, 32_768, (0.07, 0.30),
                   family="gpt-oss", reasoning=True),
        ),
    ),
    Host(
        name="databricks", description="Databricks Model Serving (workspace URL + personal access token)",
        base_url=None, key_env=("DATABRICKS_TOKEN",), endpoint_env=("DATABRICKS_HOST",),
        base_path="/serving-endpoints",
        quirks="the endpoint is the workspace URL (/serving-endpoints is added); the model is the "
        "serving endpoint's name; billed in DBUs, so no price",
        models=(
            _model("databricks", "databricks-meta-llama-3-3-70b-instruct", 128_000, 8_192, None,
                   family="llama"),
            _model("databricks", "databricks-claude-sonnet-4", 200_000, 64_000, None, family="claude",
                   vision=True),
        ),
    ),
    Host(
        name="mistral",
        model_prefixes=(
            "mistral-", "open-mistral-", "codestral-", "pixtral-", "magistral-", "ministral-", "devstral-",
        ),
        description="Mistral AI (La Plateforme)", base_url="https://api.mistral.ai/v1",
        key_env=("MISTRAL_API_KEY",), endpoint_env=("MISTRAL_BASE_URL",),
        quirks="magistral models send content as typed parts (thinking / text)",
        models=(
            _model("mistral", "mistral-large-latest", 131_072, 131_072, (2.00, 6.00), family="mistral"),
            _model("mistral", "mistral-small-latest", 131_072, 131_072, (0.10, 0.30), family="mistral",
                   vision=True),
            _model("mistral", "magistral-medium-latest", 40_960, 40_960, (2.00, 5.00), family="magistral",
                   reasoning=True),
        ),
    ),
    Host(
        name="xai", model_prefixes=("grok-",), description="xAI (Grok)", base_url="https://api.x.ai/v1",
        key_env=("XAI_API_KEY",), endpoint_env=("XAI_BASE_URL",),
        quirks="grok-3-mini streams reasoning in delta.reasoning_content and tool calls in one delta",
        models=(
            _model("xai", "grok-4", 256_000, 256_000, (3.00, 15.00), family="grok", reasoning=True,
                   vision=True),
            _model("xai", "grok-3-mini", 131_072, 131_072, (0.30, 0.50), family="grok", reasoning=True),
        ),
    ),
    Host(
        name="openrouter", description="OpenRouter (one key, many upstream providers)",
        base_url="https://openrouter.ai/api/v1", key_env=("OPENROUTER_API_KEY",),
        endpoint_env=("OPENROUTER_BASE_URL",),
        quirks="model ids are <upstream>/<model>; SSE keep-alive comments while the upstream works; "
        "upstream errors arrive as {error: {code, message, metadata}} (also inside a 200 stream); "
        "reasoning in delta.reasoning",
        models=(
            _model("openrouter", "openai/gpt-4o-mini", 128_000, 16_384, (0.15, 0.60), family="gpt-4o",
                   vision=True),
            _model("openrouter", "anthropic/claude-sonnet-4", 200_000, 64_000, (3.00, 15.00), family="claude",
                   vision=True, reasoning=True),
        ),
    ),
    Host(
        name="huggingface", description="Hugging Face Inference Providers (router)",
        base_url="https://router.huggingface.co/v1", key_env=("HF_TOKEN",), endpoint_env=("HF_BASE_URL",),
        quirks="model ids are <org>/<model>[:<provider>]; prices depend on the provider chosen",
    ),
    Host(
        name="vllm", description="vLLM's OpenAI-compatible server (self-hosted)",
        base_url="http://localhost:8000/v1", key_env=("VLLM_API_KEY",), endpoint_env=("VLLM_BASE_URL",),
        requires_key=False, quirks="keyless unless started with --api-key; serves any model it loaded",
    ),
    Host(
        name="llamacpp", description="llama.cpp server (llama-server, self-hosted)",
        base_url="http://localhost:8080/v1", key_env=("LLAMACPP_API_KEY",),
        endpoint_env=("LLAMACPP_BASE_URL",), requires_key=False,
        quirks="keyless unless started with --api-key; the model name is informational",
    ),
    Host(
        name="lmstudio", description="LM Studio's local server", base_url="http://localhost:1234/v1",
        key_env=("LMSTUDIO_API_KEY",), endpoint_env=("LMSTUDIO_BASE_URL",), requires_key=False,
        quirks="keyless",
    ),
    Host(
        name="openai_compatible", description="any other OpenAI-compatible server (give its base URL)",
        base_url=None, key_env=("OPENAI_COMPATIBLE_API_KEY",), endpoint_env=("OPENAI_COMPATIBLE_BASE_URL",),
        requires_key=False, quirks="endpoint required; a key is sent when one is given",
    ),
)
# fmt: on
