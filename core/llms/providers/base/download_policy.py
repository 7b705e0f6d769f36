"""The limits of the downloads a model makes on its own: :class:`DownloadPolicy`.

Kept apart from :mod:`.download` (which imports aiohttp) so that a model class can hold a policy
as a class attribute without loading the HTTP stack at import; the download module is imported
by the first :meth:`DownloadPolicy.fetch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DEFAULT_DOWNLOAD_MAX_BYTES", "DEFAULT_DOWNLOAD_TIMEOUT", "DownloadPolicy"]

#: default size limit of one download (20 MiB: the largest image the big providers accept).
DEFAULT_DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024
#: default time limit of one download, in seconds, redirects included.
DEFAULT_DOWNLOAD_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class DownloadPolicy:
    """The limits of the downloads a model makes on its own (see
    :func:`~core.llms.providers.base.download.fetch_bytes`)."""

    max_bytes: int = DEFAULT_DOWNLOAD_MAX_BYTES
    timeout: float = DEFAULT_DOWNLOAD_TIMEOUT
    allow_private: bool = False

    async def fetch(self, url: str, *, session: aiohttp.ClientSession | None = None) -> tuple[bytes, str]:
        """:func:`~core.llms.providers.base.download.fetch_bytes` with this policy's limits."""
        from .download import fetch_bytes

        return await fetch_bytes(
            url,
            max_bytes=self.max_bytes,
            timeout=self.timeout,
            allow_private=self.allow_private,
            session=session,
        )
