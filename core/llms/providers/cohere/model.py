"""``CohereModel``: the class Cohere's models are made from.

It adds to the v2 chat model (:class:`~..dialects.cohere_v2.model.CohereChatModel`) what Cohere
serves beyond chat: ``embed`` (``/v2/embed``, :mod:`.embed`) and ``rerank`` (``/v2/rerank``,
:mod:`.rerank`), named in ``media_functions``: ``BaseLLM`` checks that the model produces that
output, then calls the function, imported on first use, so a program that only chats never loads
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..dialects.cohere_v2.model import CohereChatModel

__all__ = ["CohereModel"]


class CohereModel(CohereChatModel):
    """A Cohere model: chat (``command-*``), ``embed`` (``embed-*``) or ``rerank``
    (``rerank-*``), by its ``output_media``."""

    media_functions: ClassVar[Mapping[str, str]] = {
        "embed": "core.llms.providers.cohere.embed:embed",
        "rerank": "core.llms.providers.cohere.rerank:rerank",
    }
