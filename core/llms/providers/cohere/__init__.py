"""Cohere provider: a profile (data) on the ``cohere_v2`` dialect, plus embed and rerank.

* :mod:`.catalogue` — the model rows (limits, capabilities, parameter rules, dated prices);
* :mod:`.adapter` — :class:`CohereAdapter` (URL, auth, error rules);
* :mod:`.model` — :class:`CohereModel`: chat, and ``embed`` / ``rerank`` by the row's output;
* :mod:`.embed`, :mod:`.rerank` — the two non-chat calls (loaded on first use);
* :mod:`.plugin` — the profile, registered through the ``llms_register_providers`` hook.

Models are made by the registry from the rows: ``create_llm("cohere/command-a-03-2025")``.
"""

from __future__ import annotations

from .adapter import DEFAULT_BASE_URL, CohereAdapter
from .catalogue import COHERE_CATALOGUE, COHERE_MODELS, cohere_metadata
from .model import CohereModel

__all__ = [
    "COHERE_CATALOGUE",
    "COHERE_MODELS",
    "DEFAULT_BASE_URL",
    "CohereAdapter",
    "CohereModel",
    "cohere_metadata",
]
