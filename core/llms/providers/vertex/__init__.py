"""Google Vertex AI provider (Gemini on Vertex AI): a profile (data) on the ``gemini`` dialect,
serving the Gemini catalogue's models.

* :mod:`.adapter` — :class:`VertexAdapter` (project / location URLs, regional hosts, Google
  access tokens, API keys);
* :mod:`.settings` — :class:`VertexSettings` (``project``, ``location``, ``credentials``,
  ``credentials_file``, ``api_version``);
* :mod:`.credentials` — :class:`GoogleTokenProvider` (google-auth credentials: refreshed off the
  event loop, cached until shortly before expiry, single-flight);
* :mod:`.plugin` — the profile; the rows are Gemini's catalogue with ``provider="vertex"``.
"""

from __future__ import annotations

from .adapter import DEFAULT_ENDPOINT, VertexAdapter
from .credentials import CLOUD_PLATFORM_SCOPE, GoogleTokenProvider
from .settings import DEFAULT_LOCATION, VertexSettings

__all__ = [
    "CLOUD_PLATFORM_SCOPE",
    "DEFAULT_ENDPOINT",
    "DEFAULT_LOCATION",
    "GoogleTokenProvider",
    "VertexAdapter",
    "VertexSettings",
]
