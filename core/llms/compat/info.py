"""LiteLLM's model-information helpers, answered from the core-llms catalogue (prices, limits,
capabilities: :class:`~core.llms.interfaces.metadata.ModelMetadata`).

A model name is read as LiteLLM writes it (:mod:`.names`); a bare name goes to the provider
whose names it has (``gpt-4o`` → ``openai/gpt-4o``), whatever credentials are set. An unknown
name raises :class:`~.exceptions.UnknownModelError` (a ``NotFoundError`` and a
``BadRequestError``), except in the ``supports_*`` functions, which answer False (as LiteLLM's
do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..interfaces.errors import InvalidInputError, LLMError
from ..interfaces.metadata import ModelMetadata
from ..interfaces.types import Usage as CoreUsage
from .exceptions import NotFoundError, raise_compat
from .names import litellm_provider, metadata_for, split_model

__all__ = [
    "completion_cost",
    "cost_per_token",
    "get_llm_provider",
    "get_max_tokens",
    "get_model_info",
    "get_supported_openai_params",
    "supports_audio_input",
    "supports_audio_output",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_pdf_input",
    "supports_prompt_caching",
    "supports_reasoning",
    "supports_response_schema",
    "supports_system_messages",
    "supports_tool_choice",
    "supports_vision",
]

#: output media -> LiteLLM's ``mode`` (chat when the model answers with text).
_MODES = (
    ("text", "chat"),
    ("embedding", "embedding"),
    ("image", "image_generation"),
    ("audio", "audio_speech"),
    ("transcription", "audio_transcription"),
    ("video", "video_generation"),
    ("rerank", "rerank"),
)
#: providers that run on the caller's own machines: no price means free.
_LOCAL = frozenset({"ollama", "vllm", "lmstudio", "llamacpp", "openai_compatible"})


def _metadata(model: Any, custom_llm_provider: str | None = None) -> ModelMetadata:
    try:
        return metadata_for(model, custom_llm_provider)
    except LLMError as exc:
        raise_compat(exc)


def _per_token(per_1m: float | None) -> float | None:
    return None if per_1m is None else per_1m / 1_000_000


def _prices(meta: ModelMetadata) -> None:
    """Raise when ``meta`` has no token prices (a local model is free: no error)."""
    if not meta.pricing.known and meta.provider not in _LOCAL:
        raise NotFoundError(
            f"no price is known for {meta.qualified_name}",
            model=meta.name,
            llm_provider=meta.provider,
            hint="the catalogue has no price for this name (a dated snapshot or a model outside it); "
            "see docs/models.md",
        )


def cost_per_token(
    model: str = "",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    custom_llm_provider: str | None = None,
    cache_read_input_tokens: int = 0,
    cache_creation_input_tokens: int = 0,
    **_: Any,
) -> tuple[float, float]:
    """``(prompt cost, completion cost)`` in USD for these token counts at the catalogue's
    prices (cache reads and writes at their own prices, where the model has them)."""
    meta = _metadata(model, custom_llm_provider)
    _prices(meta)
    pricing = meta.pricing
    prompt = pricing.cost(
        CoreUsage(
            input_tokens=int(prompt_tokens),
            cached_input_tokens=int(cache_read_input_tokens or 0),
            cache_write_input_tokens=int(cache_creation_input_tokens or 0),
        )
    )
    completion = pricing.cost(CoreUsage(output_tokens=int(completion_tokens)))
    return prompt, completion


def completion_cost(
    completion_response: Any = None,
    model: str | None = None,
    prompt: str = "",
    messages: Sequence[Any] | None = None,
    completion: str = "",
    custom_llm_provider: str | None = None,
    **_: Any,
) -> float:
    """The cost in USD of a result of this layer (its own figure: the one the call computed,
    for chat, embeddings, images, speech and transcripts alike), of a completion's ``usage``
    (any object or dict with ``prompt_tokens`` / ``completion_tokens``) and ``model``, or of
    ``prompt`` (or ``messages``) and ``completion`` text, whose tokens are *estimated* as
    characters / 4 (LiteLLM counts them with the model's tokenizer)."""
    if completion_response is not None:
        hidden = getattr(completion_response, "_hidden_params", None) or {}
        if hidden.get("response_cost") is not None:
            return float(hidden["response_cost"])
        qualified = hidden.get("model")
        usage = _get(completion_response, "usage")
        name = model or qualified or _get(completion_response, "model")
        if usage is None or not name:
            raise_compat(
                InvalidInputError(
                    f"cannot price a {type(completion_response).__name__}: it has no cost, usage or model"
                )
            )
        details = _get(usage, "prompt_tokens_details")
        cached = _get(details, "cached_tokens") if details is not None else 0
        first, second = cost_per_token(
            name,
            _get(usage, "prompt_tokens") or 0,
            _get(usage, "completion_tokens") or 0,
            None if qualified and name == qualified else custom_llm_provider,
            cache_read_input_tokens=cached or 0,
        )
        return first + second
    if not model:
        raise_compat(InvalidInputError("completion_cost needs a completion_response or a model"))
    text = prompt or "".join(str(_get(m, "content") or "") for m in messages or ())
    first, second = cost_per_token(model, len(text) // 4, len(completion) // 4, custom_llm_provider)
    return first + second


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def get_max_tokens(model: str) -> int:
    """The model's maximum output tokens (LiteLLM's ``max_tokens``)."""
    return _metadata(model).max_output_tokens


def get_model_info(model: str, custom_llm_provider: str | None = None) -> dict[str, Any]:
    """The model's limits, prices and capabilities under LiteLLM's keys (``max_tokens``,
    ``max_input_tokens``, ``max_output_tokens``, ``input_cost_per_token``,
    ``output_cost_per_token``, ``litellm_provider``, ``mode``, ``supports_vision``,
    ``supports_function_calling`` …; prices None when the catalogue has none)."""
    meta = _metadata(model, custom_llm_provider)
    pricing, caps = meta.pricing, meta.capabilities
    mode = next((m for media, m in _MODES if meta.supports_output(media)), "chat")  # type: ignore[arg-type]
    known = pricing.known or meta.provider in _LOCAL
    return {
        "key": meta.name,
        "qualified_name": meta.qualified_name,
        "max_tokens": meta.max_output_tokens,
        "max_input_tokens": meta.context_window,
        "max_output_tokens": meta.max_output_tokens,
        "input_cost_per_token": pricing.input_per_1m / 1e6 if known else None,
        "output_cost_per_token": pricing.output_per_1m / 1e6 if known else None,
        "cache_read_input_token_cost": _per_token(pricing.cached_input_per_1m),
        "cache_creation_input_token_cost": _per_token(pricing.cache_write_input_per_1m),
        "output_cost_per_image": pricing.per_image,
        "input_cost_per_second": pricing.per_audio_second,
        "output_cost_per_video_per_second": pricing.per_video_second,
        "input_cost_per_character": _per_token(pricing.per_1m_characters),
        "litellm_provider": litellm_provider(meta.provider),
        "mode": mode,
        "supports_system_messages": caps.system_prompt,
        "supports_vision": caps.vision,
        "supports_function_calling": caps.tools,
        "supports_parallel_function_calling": caps.parallel_tools,
        "supports_tool_choice": caps.tools,
        "supports_response_schema": caps.json_schema,
        "supports_reasoning": caps.reasoning,
        "supports_pdf_input": caps.pdf,
        "supports_audio_input": caps.audio_in,
        "supports_audio_output": meta.supports_output("audio"),
        "supports_prompt_caching": pricing.cached_input_per_1m is not None,
        "supports_native_streaming": caps.streaming,
        "deprecation_date": meta.deprecation_date.isoformat() if meta.deprecation_date else None,
        "supported_openai_params": get_supported_openai_params(model, custom_llm_provider),
    }


def get_supported_openai_params(model: str, custom_llm_provider: str | None = None) -> list[str]:
    """The call parameters the model takes (``max_tokens`` and ``max_completion_tokens``
    included), sorted."""
    from ..registry import default_registry
    from .names import qualified_for_info

    try:
        qualified = qualified_for_info(model, custom_llm_provider)
        _, cls = default_registry().resolve(qualified)
    except LLMError as exc:
        raise_compat(exc)
    meta: ModelMetadata = getattr(cls, "metadata")  # noqa: B009  (a model class's ClassVar)
    names = set(getattr(cls, "provider_parameters", ())) | set(meta.parameters.extra_allowed) | {"max_tokens"}
    names |= set(getattr(cls, "parameter_aliases", {}))
    names -= set(meta.parameters.unsupported) | {"model", "read_timeout", "timeout"}
    return sorted(names | {"max_completion_tokens", "stream", "stream_options"})


def get_llm_provider(
    model: str,
    custom_llm_provider: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
) -> tuple[str, str, str | None, str | None]:
    """LiteLLM's ``get_llm_provider``: ``(model, provider, api_key, api_base)`` with LiteLLM's
    provider name (``vertex_ai`` …); the key and base are the ones given."""
    try:
        name, provider = split_model(model, custom_llm_provider)
        if provider is None:
            from .names import qualified_for_info

            provider, _, name = qualified_for_info(name).partition("/")
    except LLMError as exc:
        raise_compat(exc)
    return name, litellm_provider(provider), api_key, api_base


def _supports(model: str, custom_llm_provider: str | None, check: str) -> bool:
    try:
        meta = metadata_for(model, custom_llm_provider)
    except LLMError:
        return False
    if check == "audio_output":
        return meta.supports_output("audio")
    if check == "prompt_caching":
        return meta.pricing.cached_input_per_1m is not None
    return bool(getattr(meta.capabilities, check))


def supports_vision(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model reads images (False for an unknown model)."""
    return _supports(model, custom_llm_provider, "vision")


def supports_pdf_input(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model reads PDF files."""
    return _supports(model, custom_llm_provider, "pdf")


def supports_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model calls tools."""
    return _supports(model, custom_llm_provider, "tools")


def supports_parallel_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model calls several tools in one answer."""
    return _supports(model, custom_llm_provider, "parallel_tools")


def supports_tool_choice(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model takes ``tool_choice`` (every model that calls tools)."""
    return _supports(model, custom_llm_provider, "tools")


def supports_response_schema(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model follows a JSON schema (``response_format`` with a schema)."""
    return _supports(model, custom_llm_provider, "json_schema")


def supports_reasoning(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model reasons before it answers."""
    return _supports(model, custom_llm_provider, "reasoning")


def supports_system_messages(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model takes a system prompt."""
    return _supports(model, custom_llm_provider, "system_prompt")


def supports_audio_input(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model reads audio in chat messages."""
    return _supports(model, custom_llm_provider, "audio_in")


def supports_audio_output(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model speaks (produces audio)."""
    return _supports(model, custom_llm_provider, "audio_output")


def supports_prompt_caching(model: str, custom_llm_provider: str | None = None) -> bool:
    """Whether the model bills cached prompt tokens at their own price."""
    return _supports(model, custom_llm_provider, "prompt_caching")
