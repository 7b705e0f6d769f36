"""The Ollama model catalogue: a few popular library models, and the generic class for any other.

Context windows and output limits come from the models' cards. Ollama itself loads a model with
a smaller context by default (``num_ctx``, 2048-4096 tokens depending on the version): pass
``num_ctx=`` (or set it in the Modelfile) to use more. Local models cost nothing, so every price
is 0 and ``response.cost`` stays None.
"""

from __future__ import annotations

from typing import ClassVar

from core.llms.interfaces.metadata import Capabilities, ModelMetadata, ParameterRules

from .adapter import PROVIDER
from .base import OllamaBaseLLM

__all__ = ["CATALOGUE", "Gemma3", "Llama31_8B", "Llama32", "Mistral", "OllamaModel", "Qwen25"]

_RULES = ParameterRules(max_tokens_param="num_predict")
_TOOLS = Capabilities(tools=True, parallel_tools=True, json_schema=True, json_mode=True)
_NO_TOOLS = Capabilities(json_schema=True, json_mode=True)


class Llama32(OllamaBaseLLM):
    """Meta Llama 3.2 3B Instruct (``llama3.2``): 128K context, tool calling."""

    metadata: ClassVar[ModelMetadata] = ModelMetadata(
        name="llama3.2",
        provider=PROVIDER,
        family="llama",
        aliases=("llama3.2:latest", "llama3.2:3b"),
        context_window=131_072,
        max_output_tokens=131_072,
        capabilities=_TOOLS,
        parameters=_RULES,
        description="Meta Llama 3.2 3B instruct, multilingual, tool calling",
    )


class Llama31_8B(OllamaBaseLLM):
    """Meta Llama 3.1 8B Instruct (``llama3.1:8b``): 128K context, tool calling."""

    metadata: ClassVar[ModelMetadata] = ModelMetadata(
        name="llama3.1:8b",
        provider=PROVIDER,
        family="llama",
        aliases=("llama3.1", "llama3.1:latest"),
        context_window=131_072,
        max_output_tokens=131_072,
        capabilities=_TOOLS,
        parameters=_RULES,
        description="Meta Llama 3.1 8B instruct, tool calling",
    )


class Qwen25(OllamaBaseLLM):
    """Qwen2.5 7B Instruct (``qwen2.5``): 32K context as shipped (128K with YaRN), 8K output."""

    metadata: ClassVar[ModelMetadata] = ModelMetadata(
        name="qwen2.5",
        provider=PROVIDER,
        family="qwen",
        aliases=("qwen2.5:latest", "qwen2.5:7b"),
        context_window=32_768,
        max_output_tokens=8_192,
        capabilities=_TOOLS,
        parameters=_RULES,
        description="Alibaba Qwen2.5 7B instruct, tool calling, structured output",
    )


class Mistral(OllamaBaseLLM):
    """Mistral 7B Instruct v0.3 (``mistral``): 32K context, function calling."""

    metadata: ClassVar[ModelMetadata] = ModelMetadata(
        name="mistral",
        provider=PROVIDER,
        family="mistral",
        aliases=("mistral:latest", "mistral:7b"),
        context_window=32_768,
        max_output_tokens=32_768,
        capabilities=_TOOLS,
        parameters=_RULES,
        description="Mistral 7B instruct v0.3, function calling",
    )


class Gemma3(OllamaBaseLLM):
    """Google Gemma 3 4B (``gemma3``): 128K context, 8K output, image input, no tool calling."""

    metadata: ClassVar[ModelMetadata] = ModelMetadata(
        name="gemma3",
        provider=PROVIDER,
        family="gemma",
        aliases=("gemma3:latest", "gemma3:4b"),
        context_window=131_072,
        max_output_tokens=8_192,
        input_media=frozenset({"text", "image"}),
        capabilities=_NO_TOOLS.replace(vision=True),
        parameters=_RULES,
        description="Google Gemma 3 4B, multimodal (text and images)",
    )


class OllamaModel(OllamaBaseLLM):
    """Any Ollama model not in the catalogue (``ollama/<name>``, e.g. ``ollama/phi4:14b``).

    This metadata is a template: the registry derives a subclass per name with ``name`` set to
    it. Limits are permissive (the server enforces the real ones): 128K context, text and image
    input, tools and structured output allowed.
    """

    metadata: ClassVar[ModelMetadata] = ModelMetadata(
        name="*",
        provider=PROVIDER,
        context_window=131_072,
        max_output_tokens=131_072,
        input_media=frozenset({"text", "image"}),
        capabilities=_TOOLS.replace(vision=True),
        parameters=_RULES,
        description="an Ollama model outside the built-in catalogue",
    )


#: The catalogue classes the plugin registers (``OllamaModel`` serves every other name).
CATALOGUE: tuple[type[OllamaBaseLLM], ...] = (Llama32, Llama31_8B, Qwen25, Mistral, Gemma3)
