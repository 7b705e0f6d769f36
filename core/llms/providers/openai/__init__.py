"""OpenAI provider: a profile (data) on the ``openai_chat`` dialect.

* :mod:`.catalogue` — the model rows (limits, capabilities, parameter rules, dated prices);
* :mod:`.adapter` — :class:`OpenAIAdapter` (URL, auth, organization/project headers);
* :mod:`.settings` — :class:`OpenAISettings`, OpenAI's own endpoint fields;
* :mod:`.plugin` — the profile, registered through the ``llms_register_providers`` hook.

Models are made by the registry from the rows: ``create_llm("openai/gpt-4.1-mini")``.
"""

from __future__ import annotations

from .adapter import DEFAULT_BASE_URL, OpenAIAdapter
from .catalogue import OPENAI_CATALOGUE, OPENAI_MODELS, openai_metadata
from .settings import OpenAISettings

__all__ = [
    "DEFAULT_BASE_URL",
    "OPENAI_CATALOGUE",
    "OPENAI_MODELS",
    "OpenAIAdapter",
    "OpenAISettings",
    "openai_metadata",
]
