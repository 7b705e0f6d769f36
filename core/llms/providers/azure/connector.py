"""Azure OpenAI's auth and URL rules: :class:`AzureAdapter`. Error bodies are OpenAI-shaped
(plus Azure's content-filter ``innererror``) and mapped by the OpenAI adapter's ``map_error``."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from ...interfaces.errors import ConfigurationError
from ..base.endpoint import EndpointConfig
from ..openai.connector import OpenAIAdapter, resolve_bearer_token

__all__ = ["V1_API_VERSION", "AzureAdapter"]

#: ``api_version`` value selecting Azure's version-less v1 API (``/openai/v1/...``).
V1_API_VERSION = "v1"
_REQUIRED = ("deployment_name", "api_version")


class AzureAdapter(OpenAIAdapter):
    """Azure OpenAI rules (implements ``ProviderAdapter``).

    * URL: ``{endpoint}/openai/deployments/{deployment_name}/chat/completions?api-version=
      {api_version}``, with the deployment and version of *each* endpoint (a backup may have its
      own). With ``api_version="v1"``: ``{endpoint}/openai/v1/chat/completions`` and the
      deployment travels as the body's ``model`` (the model class puts it there).
    * Auth: ``Authorization: Bearer`` from ``token_provider`` (Entra ID; sync or async) when
      set, else the ``api-key`` header.
    * Request id: ``apim-request-id``, else ``x-request-id``.
    """

    provider = "azure"

    @classmethod
    def validate(cls, endpoint: EndpointConfig) -> None:
        """Raise :class:`ConfigurationError` naming each required field ``endpoint`` lacks."""
        missing = [name for name in _REQUIRED if not getattr(endpoint, name)]
        if missing:
            raise ConfigurationError(
                f"Azure OpenAI endpoint {endpoint.display_name} has no {' or '.join(missing)}",
                endpoint=endpoint.display_name,
                hint="set deployment_name= (your Azure deployment) and api_version= "
                "(e.g. '2024-10-21', or 'v1'), or AZURE_OPENAI_DEPLOYMENT / OPENAI_API_VERSION",
            )

    def url(self, endpoint: EndpointConfig, operation: str) -> str:
        self.validate(endpoint)
        assert endpoint.deployment_name is not None and endpoint.api_version is not None
        base = endpoint.endpoint.removesuffix("/openai")
        path = self.operation_path(operation)
        if endpoint.api_version == V1_API_VERSION:
            return f"{base}/openai/v1{path}"
        deployment = quote(endpoint.deployment_name, safe="")
        version = quote(endpoint.api_version, safe="")
        return f"{base}/openai/deployments/{deployment}{path}?api-version={version}"

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        if endpoint.token_provider is not None:
            return {"Authorization": f"Bearer {await resolve_bearer_token(endpoint)}"}
        if endpoint.api_key is not None:
            return {"api-key": endpoint.api_key.get_secret_value()}
        return {}

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        return headers.get("apim-request-id") or headers.get("x-request-id")
