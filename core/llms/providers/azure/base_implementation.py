"""``AzureBaseLLM`` and ``AzureChatModel``: the OpenAI Chat Completions helpers, with the body's
``model`` set to the Azure deployment (which the v1 API requires)."""

from __future__ import annotations

from ..base.endpoint import EndpointConfig
from ..openai.base_implementation import OpenAIBaseLLM, OpenAIChatModel

__all__ = ["AzureBaseLLM", "AzureChatModel"]


class AzureBaseLLM(OpenAIBaseLLM):
    """Azure OpenAI wire helpers. Content-filter annotations (``prompt_filter_results``,
    ``content_filter_results``) land in ``response.content_filter`` / ``chunk.content_filter``;
    a completion cut by the filter has finish_reason ``"content_filter"``; a prompt the filter
    blocks raises :class:`ContentFilterError` with ``filter_results``.

    The body is serialised once per call and sent to every endpoint, so its ``model`` is the
    *primary* endpoint's deployment: with ``api_version="v1"`` (deployment in the body), backups
    must use the same deployment name. The classic API reads the deployment from each URL.
    """

    def _wire_model(self) -> str:
        primary = self._primary_endpoint()
        if primary is not None and primary.deployment_name:
            return primary.deployment_name
        return self.metadata.model_id

    def _primary_endpoint(self) -> EndpointConfig | None:
        connectors = getattr(self._connector, "connectors", None)
        endpoint = getattr(connectors[0], "endpoint", None) if connectors else None
        return endpoint if isinstance(endpoint, EndpointConfig) else None


class AzureChatModel(AzureBaseLLM, OpenAIChatModel):
    """An Azure OpenAI chat model (see :class:`OpenAIChatModel` for the parameters)."""
