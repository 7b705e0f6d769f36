"""Google Vertex AI provider: a profile (data) on the ``gemini`` dialect, serving the Gemini
catalogue's models, and Anthropic's Claude models on the ``anthropic_messages`` dialect
(:mod:`.anthropic`: ``rawPredict`` / ``streamRawPredict``).

* :mod:`.adapter` — :class:`VertexAdapter` (project / location URLs, regional hosts, Google
  access tokens, API keys);
* :mod:`.settings` — :class:`VertexSettings` (``project``, ``location``, ``credentials``,
  ``credentials_file``, ``api_version``);
* :mod:`.credentials` — :class:`GoogleTokenProvider` (google-auth credentials: refreshed off the
  event loop, cached until shortly before expiry, single-flight);
* :mod:`.anthropic` — :class:`VertexClaudeModel` and the Claude rows;
* :mod:`.plugin` — the profile; the rows are Gemini's catalogue with ``provider="vertex"`` and the
  Claude rows (``ModelRow(meta, VertexClaudeModel)``).
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
