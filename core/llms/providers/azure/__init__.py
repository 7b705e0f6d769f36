"""Azure OpenAI provider: a profile (data) on the ``openai_chat`` dialect, serving OpenAI's
models from Azure deployments.

* :mod:`.adapter` — :class:`AzureAdapter` (deployment URLs or the v1 API, ``api-key`` or Entra ID);
* :mod:`.settings` — :class:`AzureSettings` (``deployment_name``, ``api_version``);
* :mod:`.plugin` — the profile; the rows are OpenAI's catalogue with ``provider="azure"``.
"""

from __future__ import annotations

from .adapter import AzureAdapter
from .settings import V1_API_VERSION, AzureSettings

__all__ = ["V1_API_VERSION", "AzureAdapter", "AzureSettings"]
