"""Google Gemini API provider: a profile (data) on the ``gemini`` dialect.

* :mod:`.catalogue` — the model rows (limits, capabilities, parameter rules, dated prices),
  shared with Vertex AI;
* :mod:`.adapter` — :class:`GeminiAdapter` (URL, ``x-goog-api-key``);
* :mod:`.model` — :class:`GeminiModel`, the class the rows are made from;
* :mod:`.plugin` — the profile, registered through the ``llms_register_providers`` hook.

Models are made by the registry from the rows: ``create_llm("gemini/gemini-2.5-flash")``.
"""

from __future__ import annotations

from ..dialects.gemini.parsing import model_content
from .adapter import DEFAULT_BASE_URL, GeminiAdapter
from .catalogue import GEMINI_CATALOGUE, GEMINI_MODELS, VERTEX_MODELS, gemini_metadata
from .model import GeminiModel

__all__ = [
    "DEFAULT_BASE_URL",
    "GEMINI_CATALOGUE",
    "GEMINI_MODELS",
    "VERTEX_MODELS",
    "GeminiAdapter",
    "GeminiModel",
    "gemini_metadata",
    "model_content",
]
