"""``CohereModel``: the class Cohere's models are made from.

It adds to the v2 chat model (:class:`~..dialects.cohere_v2.model.CohereChatModel`) what Cohere
serves beyond chat: ``embed`` (``/v2/embed``, :mod:`.embed`) and ``rerank`` (``/v2/rerank``,
:mod:`.rerank`). Each checks that the model produces that output, then hands over to its module,
imported on first use, so a program that only chats never loads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...interfaces.context import RequestContext
from ...interfaces.metadata import MediaType
from ..dialects.cohere_v2.model import CohereChatModel

if TYPE_CHECKING:
    from ...interfaces.media import EmbeddingResponse, RerankResponse

__all__ = ["CohereModel"]


class CohereModel(CohereChatModel):
    """A Cohere model: chat (``command-*``), ``embed`` (``embed-*``) or ``rerank``
    (``rerank-*``), by its ``output_media``."""

    def _check_defaults(self) -> None:
        if self.metadata.supports_output("text"):
            super()._check_defaults()
        # an embedding or rerank model's defaults are checked by its call, against its parameters

    def _produces(self, media: MediaType, method: str) -> None:
        if not self.metadata.supports_output(media):
            raise self._unsupported_output(media, method)

    async def embed(
        self, texts: str | Sequence[Any], ctx: RequestContext | None = None, **params: Any
    ) -> EmbeddingResponse:
        """Embed ``texts`` (embed-v4.0, embed-english-v3.0, embed-multilingual-v3.0): see
        :mod:`.embed`."""
        self._produces("embedding", "embed")
        from .embed import embed

        return await self._media_call(ctx, embed(self, texts, ctx, params))

    async def rerank(
        self, query: str, documents: Sequence[str], ctx: RequestContext | None = None, **params: Any
    ) -> RerankResponse:
        """Order ``documents`` by relevance to ``query`` (rerank-v3.5, rerank-english-v3.0):
        see :mod:`.rerank`."""
        self._produces("rerank", "rerank")
        from .rerank import rerank

        return await self._media_call(ctx, rerank(self, query, documents, ctx, params))
