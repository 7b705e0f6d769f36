"""The providers' asynchronous Batch APIs behind one interface (:class:`~..types.IBatchAPI`).

=========  =====================================  ================================
provider   API                                    class
=========  =====================================  ================================
openai     ``/v1/files`` + ``/v1/batches``        :class:`.openai.OpenAIBatchAPI`
azure      ``/openai/files`` + ``/openai/batches``:class:`.openai.OpenAIBatchAPI`
anthropic  Message Batches                        :class:`.anthropic.AnthropicBatchAPI`
bedrock    ``CreateModelInvocationJob`` (S3)      :class:`.bedrock.BedrockBatchAPI`
vertex     ``batchPredictionJobs`` (GCS)          :class:`.vertex.VertexBatchAPI`
=========  =====================================  ================================
"""

from __future__ import annotations

import importlib
from typing import Any

from ...interfaces.errors import UnsupportedOperationError
from ..types import IBatchAPI

__all__ = ["BATCH_APIS", "batch_api_for"]

#: provider name → "module:class" of its Batch API (modules imported on first use).
BATCH_APIS: dict[str, str] = {
    "openai": "openai:OpenAIBatchAPI",
    "azure": "openai:OpenAIBatchAPI",
    "anthropic": "anthropic:AnthropicBatchAPI",
    "bedrock": "bedrock:BedrockBatchAPI",
    "vertex": "vertex:VertexBatchAPI",
}


def batch_api_for(model: Any, **options: Any) -> IBatchAPI:
    """The Batch API of ``model``'s provider, bound to that model object (its endpoints,
    credentials and prices). ``options`` are the API's own settings (Bedrock's S3 locations and
    role, Vertex's GCS locations …). A provider without one raises
    :class:`UnsupportedOperationError` naming those that have one."""
    provider = getattr(model, "provider", None)
    target = BATCH_APIS.get(provider) if isinstance(provider, str) else None
    if target is None:
        raise UnsupportedOperationError(
            f"provider {provider!r} has no Batch API in core-llms",
            hint=f"providers with one: {', '.join(sorted(BATCH_APIS))}; run the requests live instead",
        )
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    api: IBatchAPI = getattr(module, class_name)(model, **options)
    return api
