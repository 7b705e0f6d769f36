"""Azure OpenAI provider: a profile (data) on the ``openai_chat`` dialect, serving OpenAI's
models from Azure deployments.

* :mod:`.adapter` — :class:`AzureAdapter` (deployment URLs or the v1 API, ``api-key`` or Entra ID);
* :mod:`.settings` — :class:`AzureSettings` (``deployment_name``, ``api_version``) and the
  API version of each operation when none is given;
* :mod:`.credentials` — :class:`EntraTokenProvider` (Entra ID tokens from an azure-identity
  credential: cached, refreshed before expiry, single-flight);
* :mod:`.plugin` — the profile; the rows are OpenAI's catalogue with ``provider="azure"``.
"""

from __future__ import annotations

from .adapter import AzureAdapter
from .credentials import ENTRA_SCOPE, EntraTokenProvider
from .settings import DEFAULT_API_VERSIONS, V1_API_VERSION, AzureSettings

__all__ = [
    "DEFAULT_API_VERSIONS",
    "ENTRA_SCOPE",
    "V1_API_VERSION",
    "AzureAdapter",
    "AzureSettings",
    "EntraTokenProvider",
]
