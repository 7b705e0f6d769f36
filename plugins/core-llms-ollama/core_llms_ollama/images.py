"""Images given by ``http(s)`` URL, downloaded for Ollama (whose chat API takes image bytes only).

Downloads go through :func:`core.llms.providers.base.download.fetch_bytes` (loaded by the first
one): private, loopback and link-local addresses are refused unless the model's
:class:`DownloadPolicy` allows them, and every download has a size and a time limit. ``data:``
URLs are never fetched: the payload builder sends their base64 text as it is.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from core.llms.interfaces.messages import ContentPart, ImagePart, Message
from core.llms.providers.base.download_policy import DownloadPolicy
from core.llms.providers.base.implementation import sniff_image_media_type

__all__ = ["fetch_remote_images", "has_remote_images"]

_REMOTE = ("http://", "https://")


def _remote_url(part: ContentPart) -> str | None:
    """The ``http(s)`` URL of an image part given by one, else None."""
    if isinstance(part, ImagePart) and part.url is not None and part.url.lower().startswith(_REMOTE):
        return part.url
    return None


def has_remote_images(messages: Sequence[Message]) -> bool:
    """Does any message hold an image given by ``http(s)`` URL?"""
    return any(_remote_url(part) for message in messages for part in message.content)


async def fetch_remote_images(messages: Sequence[Message], policy: DownloadPolicy) -> list[Message]:
    """``messages`` with every ``http(s)`` image URL replaced by the downloaded bytes (fetched
    concurrently). Raises :class:`~core.llms.interfaces.errors.UnsafeURLError` or
    :class:`~core.llms.interfaces.errors.InvalidInputError` when a download is refused or fails,
    or when the bytes are not an image."""
    urls = sorted({url for m in messages for part in m.content if (url := _remote_url(part))})
    if not urls:
        return list(messages)
    fetched = await asyncio.gather(*(policy.fetch(url) for url in urls))
    parts: dict[str, ImagePart] = {}
    for url, (data, media_type) in zip(urls, fetched, strict=True):
        if not media_type.startswith("image/"):
            media_type = sniff_image_media_type(data)  # raises unless PNG / JPEG / GIF / WebP
        parts[url] = ImagePart(data=data, media_type=media_type)
    out: list[Message] = []
    for message in messages:
        if any(_remote_url(part) for part in message.content):
            message = dataclasses.replace(message, content=tuple(_local(p, parts) for p in message.content))
        out.append(message)
    return out


def _local(part: ContentPart, downloaded: dict[str, ImagePart]) -> ContentPart:
    url = _remote_url(part)
    if url is None or not isinstance(part, ImagePart):
        return part
    return dataclasses.replace(downloaded[url], detail=part.detail)
