"""A LiteLLM-compatible API on core-llms: swap ``import litellm`` for
``from core.llms import compat as litellm`` and LiteLLM's common calls run unchanged::

    from core.llms import compat as litellm

    try:
        response = litellm.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
        print(response.choices[0].message.content, litellm.completion_cost(response))
    except litellm.RateLimitError:
        ...

Calls: :func:`completion` / :func:`acompletion` (``stream=True`` too), :func:`embedding`,
:func:`image_generation`, :func:`speech`, :func:`transcription` (and their ``a``-prefixed async
forms), :func:`stream_chunk_builder`, :func:`mock_completion`. Model information:
:func:`completion_cost`, :func:`cost_per_token`, :func:`get_max_tokens`, :func:`get_model_info`,
:func:`get_supported_openai_params`, :func:`get_llm_provider`, the ``supports_*`` functions and
:data:`model_cost`. Errors under LiteLLM's names (:mod:`.exceptions`), each a subclass of the
core-llms error it stands for.

Module settings, read at call time as LiteLLM's are: ``drop_params``, ``num_retries``,
``request_timeout``, ``api_key``, ``api_base``, ``api_version``. ``callbacks`` /
``success_callback`` / ``failure_callback`` exist so that setting them fails loudly at the next
call (this layer has no LiteLLM callbacks). :func:`aclose` closes the async calls' connections,
:func:`close` the blocking calls' (also done at exit). See ``docs/litellm.md``.

Not imported by ``import core.llms``.
"""

from __future__ import annotations

from typing import Any

from . import exceptions
from .build import stream_chunk_builder
from .calls import aclose, close
from .completion import CustomStreamWrapper, acompletion, completion, mock_completion
from .exceptions import (
    LITELLM_EXCEPTION_TYPES,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    BudgetExceededError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    InternalServerError,
    InvalidRequestError,
    JSONSchemaValidationError,
    MockException,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    RejectedRequestError,
    ServiceUnavailableError,
    Timeout,
    UnknownModelError,
    UnprocessableEntityError,
    UnsupportedParamsError,
)
from .info import (
    completion_cost,
    cost_per_token,
    get_llm_provider,
    get_max_tokens,
    get_model_info,
    get_supported_openai_params,
    supports_audio_input,
    supports_audio_output,
    supports_function_calling,
    supports_parallel_function_calling,
    supports_pdf_input,
    supports_prompt_caching,
    supports_reasoning,
    supports_response_schema,
    supports_system_messages,
    supports_tool_choice,
    supports_vision,
)
from .media import (
    aembedding,
    aimage_generation,
    aspeech,
    atranscription,
    embedding,
    image_generation,
    speech,
    transcription,
)
from .objects import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Choices,
    Delta,
    Embedding,
    EmbeddingResponse,
    Function,
    ImageObject,
    ImageResponse,
    Message,
    ModelResponse,
    ModelResponseStream,
    SpeechResponse,
    StreamingChoices,
    TranscriptionResponse,
    Usage,
)

#: drop the parameters a model does not take instead of raising UnsupportedParamsError.
drop_params: bool = False
#: extra tries of every call that names none (None: the library's policy, 2).
num_retries: int | None = None
#: seconds per call when the call names none (None: the endpoints' timeouts).
request_timeout: float | None = None
#: the key / base URL / Azure API version of calls that name none (None: the environment).
api_key: str | None = None
api_base: str | None = None
api_version: str | None = None
#: LiteLLM's callback settings: not supported; a call made while one is set raises.
callbacks: list[Any] = []
success_callback: list[Any] = []
failure_callback: list[Any] = []
input_callback: list[Any] = []
#: LiteLLM's logging switches: accepted and without effect (core-llms logs through ``logging``).
set_verbose: bool = False
suppress_debug_info: bool = False

__all__ = [
    "LITELLM_EXCEPTION_TYPES",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "BudgetExceededError",
    "ChatCompletionDeltaToolCall",
    "ChatCompletionMessageToolCall",
    "Choices",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "CustomStreamWrapper",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "Function",
    "ImageObject",
    "ImageResponse",
    "InternalServerError",
    "InvalidRequestError",
    "JSONSchemaValidationError",
    "Message",
    "MockException",
    "ModelResponse",
    "ModelResponseStream",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "RejectedRequestError",
    "ServiceUnavailableError",
    "SpeechResponse",
    "StreamingChoices",
    "Timeout",
    "TranscriptionResponse",
    "UnknownModelError",
    "UnprocessableEntityError",
    "UnsupportedParamsError",
    "Usage",
    "aclose",
    "acompletion",
    "aembedding",
    "aimage_generation",
    "api_base",
    "api_key",
    "api_version",
    "aspeech",
    "atranscription",
    "callbacks",
    "close",
    "completion",
    "completion_cost",
    "cost_per_token",
    "drop_params",
    "embedding",
    "exceptions",
    "failure_callback",
    "get_llm_provider",
    "get_max_tokens",
    "get_model_info",
    "get_supported_openai_params",
    "image_generation",
    "input_callback",
    "mock_completion",
    "model_cost",
    "num_retries",
    "request_timeout",
    "set_verbose",
    "speech",
    "stream_chunk_builder",
    "success_callback",
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
    "suppress_debug_info",
    "transcription",
]


def __getattr__(name: str) -> Any:
    if name == "model_cost":
        value = _model_cost()
        globals()["model_cost"] = value
        return value
    raise AttributeError(f"module 'core.llms.compat' has no attribute {name!r}")


def _model_cost() -> dict[str, dict[str, Any]]:
    """LiteLLM's ``model_cost``: :func:`get_model_info` of every catalogue model, keyed as
    LiteLLM keys them (``gpt-4o`` for OpenAI and ``claude-…`` for Anthropic, else
    ``<LiteLLM provider>/<model>``). Made on first access."""
    from ..registry import default_registry
    from .names import litellm_provider

    out: dict[str, dict[str, Any]] = {}
    for meta in default_registry().models():
        bare = meta.provider in ("openai", "anthropic")
        key = meta.name if bare else f"{litellm_provider(meta.provider)}/{meta.name}"
        out[key] = get_model_info(meta.qualified_name)
    return out
