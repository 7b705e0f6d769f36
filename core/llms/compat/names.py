"""LiteLLM's model names and environment variables, in core-llms terms.

LiteLLM writes ``<provider>/<model>`` with its own provider names; the ones that differ from
ours are in :data:`PROVIDERS` (``vertex_ai`` → ``vertex``, ``together_ai`` → ``together`` …),
every other prefix that names a core-llms provider is used as it is, and a route LiteLLM allows
between provider and model (``bedrock/converse/<id>``) is dropped. A bare name (``gpt-4o-mini``,
``claude-sonnet-4-5``) is routed by :class:`~core.llms.client.LLMClient` (the catalogue, then the
providers' name prefixes; configured providers first). A name whose first part is not a
provider (``meta-llama/Llama-3.3-70B``) is routed whole, as a bare name.

Credentials and endpoints: the core-llms environment variables are read as always (see
``docs/configuration.md``); when one is unset, LiteLLM's name for it is read too
(:data:`LITELLM_ENV`: ``AZURE_API_KEY``, ``AZURE_API_BASE``, ``AZURE_API_VERSION``,
``TOGETHERAI_API_KEY``, ``VERTEXAI_PROJECT`` …).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..interfaces.errors import UnknownModelError

if TYPE_CHECKING:
    from ..client.routing import ModelRouter
    from ..interfaces.metadata import ModelMetadata
    from ..interfaces.provider import ProviderProfile

__all__ = [
    "LITELLM_ENV",
    "PROVIDERS",
    "litellm_env_fields",
    "litellm_provider",
    "metadata_for",
    "qualified_for_info",
    "split_model",
]

#: LiteLLM provider names that core-llms spells differently.
PROVIDERS: dict[str, str] = {
    "vertex_ai": "vertex",
    "vertex_ai_beta": "vertex",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "hosted_vllm": "vllm",
    "lm_studio": "lmstudio",
    "cohere_chat": "cohere",
    "ollama_chat": "ollama",
    "codestral": "mistral",
    "custom_openai": "openai_compatible",
    "openai_like": "openai_compatible",
    "llamafile": "openai_compatible",
}
#: LiteLLM routes core-llms does not serve, with what to use instead.
UNSUPPORTED: dict[str, str] = {
    "text-completion-openai": "the legacy Completions API is not served: use the chat model "
    "(openai/gpt-4o-mini …)",
    "text-completion-codestral": "the legacy Completions API is not served: use mistral/codestral-latest",
    "azure_text": "the legacy Completions API is not served: use azure/<chat deployment>",
    "azure_ai": "Azure AI Foundry models: use openai_compatible/<model> with api_base=<the "
    "resource's /openai/v1 or /models URL> and extra_headers={'api-key': KEY}, or azure/<deployment> "
    "for Azure OpenAI",
}
#: route segments LiteLLM allows between a provider and its model id (dropped).
_ROUTES: dict[str, tuple[str, ...]] = {
    "bedrock": ("converse/", "invoke/"),
    "vertex": ("gemini/",),
}
#: core-llms provider name -> LiteLLM's (``litellm_provider`` in model info).
_TO_LITELLM: dict[str, str] = {
    "vertex": "vertex_ai",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "vllm": "hosted_vllm",
    "lmstudio": "lm_studio",
}

#: LiteLLM's environment variables, read when core-llms' own are unset:
#: provider -> {create_llm keyword: variable names}.
LITELLM_ENV: dict[str, dict[str, tuple[str, ...]]] = {
    "openai": {"endpoint": ("OPENAI_API_BASE",)},
    "azure": {
        "api_key": ("AZURE_API_KEY",),
        "endpoint": ("AZURE_API_BASE",),
        "api_version": ("AZURE_API_VERSION",),
    },
    "anthropic": {"endpoint": ("ANTHROPIC_API_BASE",)},
    "together": {"api_key": ("TOGETHERAI_API_KEY", "TOGETHER_AI_API_KEY")},
    "fireworks": {"api_key": ("FIREWORKS_AI_API_KEY", "FIREWORKSAI_API_KEY")},
    "perplexity": {"api_key": ("PERPLEXITYAI_API_KEY",)},
    "huggingface": {"api_key": ("HUGGINGFACE_API_KEY",), "endpoint": ("HUGGINGFACE_API_BASE",)},
    "databricks": {"api_key": ("DATABRICKS_API_KEY",), "endpoint": ("DATABRICKS_API_BASE",)},
    "openrouter": {"endpoint": ("OPENROUTER_API_BASE",)},
    "mistral": {"endpoint": ("MISTRAL_API_BASE",)},
    "groq": {"endpoint": ("GROQ_API_BASE",)},
    "deepseek": {"endpoint": ("DEEPSEEK_API_BASE",)},
    "xai": {"endpoint": ("XAI_API_BASE",)},
    "ollama": {"endpoint": ("OLLAMA_API_BASE",)},
    "vllm": {"api_key": ("HOSTED_VLLM_API_KEY",), "endpoint": ("HOSTED_VLLM_API_BASE",)},
    "lmstudio": {"api_key": ("LM_STUDIO_API_KEY",), "endpoint": ("LM_STUDIO_API_BASE",)},
    "vertex": {"project": ("VERTEXAI_PROJECT",), "location": ("VERTEXAI_LOCATION",)},
    "bedrock": {"region": ("AWS_REGION_NAME",)},
}


def split_model(model: Any, custom_llm_provider: str | None = None) -> tuple[str, str | None]:
    """``(model name, core-llms provider or None)`` for a LiteLLM model name.

    ``custom_llm_provider`` names the provider of a bare name (LiteLLM's spelling or ours).
    Raises :class:`UnknownModelError` for an empty name, an unknown ``custom_llm_provider`` and
    a route core-llms does not serve (naming what to use instead).
    """
    if not isinstance(model, str) or not model.strip():
        what = "an empty string" if isinstance(model, str) else f"a {type(model).__name__}"
        raise UnknownModelError(f"model must be a model name, not {what}")
    head, sep, rest = model.partition("/")
    provider: str | None = None
    if custom_llm_provider is not None:
        if not isinstance(custom_llm_provider, str) or not custom_llm_provider:
            raise UnknownModelError("custom_llm_provider must be a provider name")
        _refuse_unsupported(custom_llm_provider)
        provider = PROVIDERS.get(custom_llm_provider, custom_llm_provider)
        if sep and PROVIDERS.get(head, head) == provider:
            model = rest
    elif sep:
        _refuse_unsupported(head)
        if head in PROVIDERS:
            provider, model = PROVIDERS[head], rest
        elif head in _provider_names():
            provider, model = head, rest
    if provider is not None:
        if provider not in _provider_names():
            from ..registry import default_registry

            default_registry().provider(provider)  # (raises naming the registered providers)
        for route in _ROUTES.get(provider, ()):
            if model.startswith(route):
                model = model[len(route) :]
                break
        if not model:
            raise UnknownModelError(f"{provider}/ names no model", hint=f"e.g. {provider}/<model>")
    return model, provider


def _refuse_unsupported(name: str) -> None:
    hint = UNSUPPORTED.get(name)
    if hint is not None:
        raise UnknownModelError(f"LiteLLM's {name!r} route is not supported by core.llms.compat", hint=hint)


_PROVIDER_NAMES: frozenset[str] | None = None


def _provider_names() -> frozenset[str]:
    global _PROVIDER_NAMES
    if _PROVIDER_NAMES is None:
        from ..registry import default_registry

        _PROVIDER_NAMES = frozenset(p.name for p in default_registry().providers())
    return _PROVIDER_NAMES


def litellm_provider(provider: str) -> str:
    """LiteLLM's name for the core-llms provider ``provider`` (``vertex`` → ``vertex_ai``)."""
    return _TO_LITELLM.get(provider, provider)


def litellm_env_fields(
    profile: ProviderProfile, given: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Endpoint fields read from LiteLLM's variables (:data:`LITELLM_ENV`) for the fields of
    ``profile`` that neither ``given`` nor core-llms' own variables set."""
    env = os.environ if environ is None else environ
    out: dict[str, str] = {}
    for field, names in LITELLM_ENV.get(profile.name, {}).items():
        if given.get(field) is not None:
            continue
        own: tuple[str, ...]
        if field == "api_key":
            own = profile.api_key_env
        elif field == "endpoint":
            own = profile.endpoint_env
        else:
            own = tuple(profile.settings_env.get(field, ()))
        if any(env.get(n) for n in own):
            continue
        value = next((env[n] for n in names if env.get(n)), None)
        if value is not None:
            out[field] = value
    return out


_ROUTER: ModelRouter | None = None


def _router() -> ModelRouter:
    """A router over the default registry with no provider configured: model information does
    not depend on which credentials happen to be set."""
    global _ROUTER
    if _ROUTER is None:
        from ..client.routing import ModelRouter
        from ..registry import default_registry

        _ROUTER = ModelRouter(default_registry())
    return _ROUTER


def qualified_for_info(model: str, custom_llm_provider: str | None = None) -> str:
    """The qualified core-llms name model information is read from (a bare name goes to the
    provider whose names it has: ``gpt-4o`` → ``openai/gpt-4o``, not Azure's)."""
    name, provider = split_model(model, custom_llm_provider)
    return _router().route(name, provider)


def metadata_for(model: str, custom_llm_provider: str | None = None) -> ModelMetadata:
    """The catalogue metadata of a LiteLLM model name (:class:`UnknownModelError` when none)."""
    from ..registry import default_registry

    return default_registry().metadata(qualified_for_info(model, custom_llm_provider))
