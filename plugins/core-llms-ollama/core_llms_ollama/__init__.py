"""Ollama provider plugin for core-llms.

``pip install core-llms-ollama`` makes ``ollama/<model>`` available to
:func:`core.llms.factory.create_llm`, through the ``core_llms`` entry point::

    llm = create_llm("ollama/llama3.2")                       # http://localhost:11434
    llm = create_llm("ollama/phi4", endpoint="http://gpu-box:11434")
"""

from .adapter import DEFAULT_ENDPOINT, OllamaAdapter, error_from_message
from .base import OllamaBaseLLM
from .models import CATALOGUE, GENERIC
from .parsing import OllamaStreamParser
from .payload import build_payload

__version__ = "0.1.0"
__all__ = [
    "CATALOGUE",
    "DEFAULT_ENDPOINT",
    "GENERIC",
    "OllamaAdapter",
    "OllamaBaseLLM",
    "OllamaStreamParser",
    "__version__",
    "build_payload",
    "error_from_message",
]
