"""Azure OpenAI's auth and URL rules: :class:`AzureAdapter`. Error bodies are OpenAI-shaped
(plus Azure's content-filter ``innererror``) and mapped by the dialect's error mapping."""

from __future__ import annotations

from urllib.parse import quote

from ...interfaces.endpoint import EndpointConfig, join_url
from ...interfaces.errors import ConfigurationError
from ..base.auth import resolve_bearer_token
from ..dialects.openai_chat.adapter import ChatCompletionsAdapter
from .settings import V1_API_VERSION, AzureSettings

__all__ = ["AzureAdapter"]


class AzureAdapter(ChatCompletionsAdapter):
    """Azure OpenAI rules (implements ``ProviderAdapter``).

    * URL: ``{endpoint}/openai/deployments/{deployment_name}/chat/completions?api-version=
      {api_version}``, with the deployment and version of *each* endpoint (a backup may have its
      own). With ``api_version="v1"``: ``{endpoint}/openai/v1/chat/completions`` and the
      deployment travels as the body's ``model`` (the connector puts each endpoint's there:
      :meth:`endpoint_model`).
    * Auth: ``Authorization: Bearer`` from ``token_provider`` (Entra ID; sync or async) when
      set, else the ``api-key`` header.
    * Request id: ``apim-request-id``, else ``x-request-id``.
    """

    def __init__(self) -> None:
        super().__init__("azure", request_id_headers=("apim-request-id", "x-request-id"))

    @staticmethod
    def settings_of(endpoint: EndpointConfig) -> AzureSettings:
        """The endpoint's :class:`AzureSettings`; :class:`ConfigurationError` when it has none."""
        settings = endpoint.settings
        if not isinstance(settings, AzureSettings):
            raise ConfigurationError(
                f"Azure OpenAI endpoint {endpoint.display_name} has no deployment_name or api_version",
                endpoint=endpoint.display_name,
                hint="set deployment_name= (your Azure deployment) and api_version= "
                "(e.g. '2024-10-21', or 'v1'), or AZURE_OPENAI_DEPLOYMENT / OPENAI_API_VERSION",
            )
        return settings

    def endpoint_model(self, endpoint: EndpointConfig) -> str | None:
        """The deployment this endpoint serves the model from (sent in the URL or the body)."""
        return endpoint.model_id or self.settings_of(endpoint).deployment_name

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        settings = self.settings_of(endpoint)
        root, _, query = endpoint.endpoint.partition("?")
        base = root.rstrip("/").removesuffix("/openai")
        if query:
            base += "?" + query
        path = self.operation_path(operation)
        if settings.api_version == V1_API_VERSION:
            return join_url(base, f"/openai/v1{path}")
        deployment = quote(model or settings.deployment_name, safe="")
        version = quote(settings.api_version, safe="")
        return join_url(base, f"/openai/deployments/{deployment}{path}?api-version={version}")

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        if endpoint.token_provider is not None:
            return {"Authorization": f"Bearer {await resolve_bearer_token(endpoint)}"}
        if endpoint.api_key is not None:
            return {"api-key": endpoint.api_key.get_secret_value()}
        return {}
