"""Azure OpenAI's auth and URL rules: :class:`AzureAdapter`. Error bodies are OpenAI-shaped
(plus Azure's content-filter ``innererror``) and mapped by the dialect's error mapping."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from ...interfaces.endpoint import EndpointConfig, join_url
from ...interfaces.errors import ConfigurationError
from ..base.auth import resolve_bearer_token
from ..dialects.openai_chat.adapter import ChatCompletionsAdapter
from .credentials import EntraTokenProvider, default_credential, entra_scope, is_credential
from .settings import V1_API_VERSION, V1_OPERATIONS, AzureSettings

__all__ = ["REGION_HEADER", "RESOURCE_OPERATIONS", "AzureAdapter"]

#: the response header naming the Azure region that served a request (``response.region``).
REGION_HEADER = "x-ms-region"
#: operations on the resource rather than a deployment (the Batch API's files and jobs):
#: ``{endpoint}/openai/{path}?api-version=...``, or ``/openai/v1/{path}`` on the v1 API.
RESOURCE_OPERATIONS = frozenset({"files", "file_content", "batches"})


class AzureAdapter(ChatCompletionsAdapter):
    """Azure OpenAI rules (implements ``ProviderAdapter``).

    * URL: ``{endpoint}/openai/deployments/{deployment_name}/{operation path}?api-version=
      {api_version}``, with the deployment and version of *each* endpoint (a backup may have its
      own); without an ``api_version``, each operation's default
      (:data:`~.settings.DEFAULT_API_VERSIONS`). With ``api_version="v1"``, and always for the
      Responses API and videos: ``{endpoint}/openai/v1/{operation path}``, the deployment
      travelling as the body's ``model`` (the connector puts each endpoint's there:
      :meth:`endpoint_model`). The Batch API's files and jobs (:data:`RESOURCE_OPERATIONS`)
      belong to the resource: ``{endpoint}/openai/files?api-version=...`` (v1: ``/openai/v1/files``).
    * Auth: ``Authorization: Bearer`` from ``token_provider`` when set — a token callable (sync
      or async), or an Entra ID credential object (``get_token``), which is wrapped once in an
      :class:`~.credentials.EntraTokenProvider` (cached, refreshed before expiry, single-flight)
      — else the ``api-key`` header.
    * Request id: ``apim-request-id``, else ``x-request-id``; the serving region:
      ``x-ms-region`` (:data:`REGION_HEADER`).
    """

    #: ``token_provider`` may be a credential object (``get_token``): see the factory.
    accepts_credentials: ClassVar[bool] = True
    #: what ``credential="default"`` makes: ``azure.identity.DefaultAzureCredential()``.
    default_credential = staticmethod(default_credential)

    def __init__(self) -> None:
        super().__init__("azure", request_id_headers=("apim-request-id", "x-request-id"))
        #: (id of a credential, scope) -> its cached token provider (which keeps the credential)
        self._entra: dict[tuple[int, str], EntraTokenProvider] = {}

    @staticmethod
    def settings_of(endpoint: EndpointConfig) -> AzureSettings:
        """The endpoint's :class:`AzureSettings`; :class:`ConfigurationError` when it has none."""
        settings = endpoint.settings
        if not isinstance(settings, AzureSettings):
            raise ConfigurationError(
                f"Azure OpenAI endpoint {endpoint.display_name} has no deployment_name or api_version",
                endpoint=endpoint.display_name,
                hint="set deployment_name= (your Azure deployment) and, if you need one, api_version= "
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
        if settings.api_version == V1_API_VERSION or operation in V1_OPERATIONS:
            return join_url(base, f"/openai/v1{path}")
        if operation in RESOURCE_OPERATIONS:
            version = quote(settings.api_version_for(operation), safe="")
            return join_url(base, f"/openai{path}?api-version={version}")
        deployment = quote(model or settings.deployment_name, safe="")
        version = quote(settings.api_version_for(operation), safe="")
        return join_url(base, f"/openai/deployments/{deployment}{path}?api-version={version}")

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        provider = endpoint.token_provider
        if provider is not None:
            token: str | None
            if is_credential(provider):
                token = await self.entra_provider(endpoint, provider)()
            else:
                token = await resolve_bearer_token(endpoint)
            return {"Authorization": f"Bearer {token}"}
        if endpoint.api_key is not None:
            return {"api-key": endpoint.api_key.get_secret_value()}
        return {}

    def entra_provider(self, endpoint: EndpointConfig, credential: Any) -> EntraTokenProvider:
        """The cached token provider of ``credential`` for ``endpoint``'s cloud (made on first
        use, then shared by every endpoint of this adapter that has the same credential)."""
        scope = entra_scope(endpoint.endpoint)
        key = (id(credential), scope)
        provider = self._entra.get(key)
        if provider is None:
            provider = self._entra[key] = EntraTokenProvider(credential, scope=scope)
        return provider
