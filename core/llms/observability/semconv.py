"""The OpenTelemetry GenAI semantic conventions, in one place: names, well-known values, buckets.

Everything here comes from the GenAI conventions of semantic-conventions v1.41.0
(``docs/gen-ai/gen-ai-spans.md``, ``gen-ai-metrics.md`` and the attribute registry). Nothing
here imports OpenTelemetry: the Prometheus and log observers may read these names too.

Provider names
    ``gen_ai.provider.name`` has well-known values (``openai``, ``aws.bedrock``,
    ``gcp.vertex_ai`` ...) which, when one applies, MUST be used. :func:`provider_name` maps a
    core-llms provider (the part before ``/`` in ``"provider/model"``) to its value; a provider
    the conventions do not list keeps its own name (``together``, ``ollama``, ``vllm`` ...).
    The deprecated ``gen_ai.system`` (v1.36.0 and before) had the same values except xAI
    (``xai``, now ``x_ai``): :func:`legacy_system_name`.

Environment
    ``OTEL_SEMCONV_STABILITY_OPT_IN`` (a comma list; :data:`LATEST_EXPERIMENTAL` is the GenAI
    value) and ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (``true`` / ``false``),
    read by :func:`latest_only` and :func:`capture_content_from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = [
    "CAPTURE_CONTENT_ENV",
    "DURATION_BUCKETS",
    "LATEST_EXPERIMENTAL",
    "OPERATION_NAMES",
    "PROVIDER_NAMES",
    "STABILITY_OPT_IN_ENV",
    "TOKEN_BUCKETS",
    "TTFC_BUCKETS",
    "capture_content_from_env",
    "latest_only",
    "legacy_system_name",
    "operation_name",
    "provider_name",
]

# --- span / metric attributes -------------------------------------------------------------------

OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
#: deprecated (v1.36.0 and before) predecessor of ``gen_ai.provider.name``.
SYSTEM = "gen_ai.system"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_TOP_P = "gen_ai.request.top_p"
REQUEST_TOP_K = "gen_ai.request.top_k"
REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
REQUEST_SEED = "gen_ai.request.seed"
REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
#: set (to True) if and only if the request streams.
REQUEST_STREAM = "gen_ai.request.stream"
RESPONSE_ID = "gen_ai.response.id"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
TOKEN_TYPE = "gen_ai.token.type"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
HTTP_STATUS = "http.response.status_code"

#: ``gen_ai.token.type`` values.
TOKEN_INPUT = "input"
TOKEN_OUTPUT = "output"

# --- metrics ------------------------------------------------------------------------------------

METRIC_TOKEN_USAGE = "gen_ai.client.token.usage"
METRIC_OPERATION_DURATION = "gen_ai.client.operation.duration"
METRIC_TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
UNIT_TOKEN = "{token}"
UNIT_SECONDS = "s"

# fmt: off
#: ``gen_ai.client.token.usage``'s explicit bucket boundaries.
TOKEN_BUCKETS: tuple[float, ...] = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)
#: ``gen_ai.client.operation.duration``'s explicit bucket boundaries (seconds).
DURATION_BUCKETS: tuple[float, ...] = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)
# fmt: on
#: ``gen_ai.client.operation.time_to_first_chunk``'s (the conventions give it the duration's).
TTFC_BUCKETS: tuple[float, ...] = DURATION_BUCKETS

# --- well-known values --------------------------------------------------------------------------

#: core-llms provider -> ``gen_ai.provider.name`` (only where the conventions list a value that
#: differs from, or equals, ours; any other provider keeps its own name).
PROVIDER_NAMES: Mapping[str, str] = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "bedrock": "aws.bedrock",
    # Bedrock's OpenAI-compatible endpoint is still AWS Bedrock.
    "bedrock_openai": "aws.bedrock",
    # Gemini (and Claude) on Vertex AI: the aiplatform.googleapis.com endpoint.
    "vertex": "gcp.vertex_ai",
    # Google AI Studio: the generativelanguage.googleapis.com endpoint.
    "gemini": "gcp.gemini",
    "anthropic": "anthropic",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "mistral": "mistral_ai",
    "perplexity": "perplexity",
    "xai": "x_ai",
}

#: ``gen_ai.provider.name`` -> the deprecated ``gen_ai.system`` value, where they differ.
_LEGACY_SYSTEM_NAMES: Mapping[str, str] = {"x_ai": "xai"}

#: core-llms operation -> ``gen_ai.operation.name`` (well-known values: chat, embeddings,
#: generate_content, text_completion, retrieval ...; an operation of ours the conventions do not
#: name keeps its own name, e.g. ``speech``, ``generate_image``, ``rerank``).
OPERATION_NAMES: Mapping[str, str] = {
    "chat": "chat",
    "embeddings": "embeddings",
    "embed": "embeddings",
    "completion": "text_completion",
    "text_completion": "text_completion",
}


def provider_name(provider: str) -> str:
    """The ``gen_ai.provider.name`` of a core-llms provider (its own name when none is listed)."""
    return PROVIDER_NAMES.get(provider, provider)


def legacy_system_name(provider_value: str) -> str:
    """The deprecated ``gen_ai.system`` value for a ``gen_ai.provider.name`` value."""
    return _LEGACY_SYSTEM_NAMES.get(provider_value, provider_value)


def operation_name(operation: str) -> str:
    """The ``gen_ai.operation.name`` of a core-llms operation."""
    return OPERATION_NAMES.get(operation, operation)


# --- environment --------------------------------------------------------------------------------

STABILITY_OPT_IN_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"
#: the opt-in value: emit the latest experimental GenAI conventions and not the old (v1.36) ones.
LATEST_EXPERIMENTAL = "gen_ai_latest_experimental"
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

_TRUE = frozenset({"true", "1", "yes", "on"})


def latest_only(value: str | None = None) -> bool:
    """Whether ``OTEL_SEMCONV_STABILITY_OPT_IN`` (or ``value``) lists ``gen_ai_latest_experimental``:
    a comma-separated list, compared without surrounding blanks and case-insensitively."""
    if value is None:
        value = os.environ.get(STABILITY_OPT_IN_ENV, "")
    return any(part.strip().lower() == LATEST_EXPERIMENTAL for part in value.split(","))


def capture_content_from_env(value: str | None = None) -> bool:
    """Whether ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (or ``value``) asks for
    message content: ``true`` (also ``1`` / ``yes`` / ``on``), any case; anything else is no."""
    if value is None:
        value = os.environ.get(CAPTURE_CONTENT_ENV, "")
    return value.strip().lower() in _TRUE
