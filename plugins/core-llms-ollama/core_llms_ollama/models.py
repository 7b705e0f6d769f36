"""The Ollama model catalogue: a few popular library models (one row each), and the template for
any other name.

Context windows and output limits come from the models' cards. Ollama itself loads a model with
a smaller context by default (``num_ctx``, 2048-4096 tokens depending on the version): pass
``num_ctx=`` (or set it in the Modelfile) to use more. Local models cost nothing, so every price
is 0 and ``response.cost`` stays None.
"""

from __future__ import annotations

from core.llms.interfaces.metadata import Capabilities, ModelMetadata, ParameterRules

from .adapter import PROVIDER

__all__ = ["CATALOGUE", "GENERIC"]

_RULES = ParameterRules(max_tokens_param="num_predict")
_TOOLS = Capabilities(tools=True, parallel_tools=True, json_schema=True, json_mode=True)
_NO_TOOLS = Capabilities(json_schema=True, json_mode=True)


#: Meta Llama 3.2 3B Instruct (``llama3.2``): 128K context, tool calling.
LLAMA32 = ModelMetadata(
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


#: Meta Llama 3.1 8B Instruct (``llama3.1:8b``): 128K context, tool calling.
LLAMA31_8B = ModelMetadata(
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


#: Qwen2.5 7B Instruct (``qwen2.5``): 32K context as shipped (128K with YaRN), 8K output.
QWEN25 = ModelMetadata(
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


#: Mistral 7B Instruct v0.3 (``mistral``): 32K context, function calling.
MISTRAL = ModelMetadata(
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


#: Google Gemma 3 4B (``gemma3``): 128K context, 8K output, image input, no tool calling.
GEMMA3 = ModelMetadata(
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


#: Any Ollama model not in the catalogue (``ollama/<name>``, e.g. ``ollama/phi4:14b``): limits
#: are permissive (the server enforces the real ones): 128K context, text and image input, tools
#: and structured output allowed.
GENERIC = ModelMetadata(
    name="*",
    provider=PROVIDER,
    context_window=131_072,
    max_output_tokens=131_072,
    input_media=frozenset({"text", "image"}),
    capabilities=_TOOLS.replace(vision=True),
    parameters=_RULES,
    description="an Ollama model outside the built-in catalogue",
)


#: The catalogue rows the plugin registers (``GENERIC`` serves every other name).
CATALOGUE: tuple[ModelMetadata, ...] = (LLAMA32, LLAMA31_8B, QWEN25, MISTRAL, GEMMA3)
