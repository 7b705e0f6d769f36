"""The built-in OpenAI-compatible hosts plugin: one provider profile per row of :mod:`.hosts`."""

from __future__ import annotations

import functools

from ...hookspecs import hookimpl
from ...interfaces.metadata import Capabilities, ModelMetadata
from ...interfaces.provider import ProviderProfile
from ..dialects.openai_chat.adapter import ChatCompletionsAdapter
from ..dialects.openai_chat.model import OpenAIChatModel
from .hosts import HOSTS, Host

__all__ = ["PROFILES", "llms_register_providers", "profile_of"]


def _generic(host: Host) -> ModelMetadata:
    """Any model name of ``host`` outside its rows: generous limits (the server enforces the real
    ones), tools and structured output allowed, no price."""
    return ModelMetadata(
        name="*",
        provider=host.name,
        context_window=1_000_000,
        max_output_tokens=131_072,
        input_media=frozenset({"text", "image"}),
        capabilities=Capabilities(
            tools=True, parallel_tools=True, json_mode=True, json_schema=True, vision=True
        ),
        description=f"a {host.description} model outside the catalogue",
    )


def profile_of(host: Host) -> ProviderProfile:
    """The provider profile of one host row."""
    model_class: type = OpenAIChatModel
    if not host.stream_usage:
        model_class = type("OpenAIChatModel", (OpenAIChatModel,), {"stream_usage": False})
    return ProviderProfile(
        name=host.name,
        adapter=functools.partial(
            ChatCompletionsAdapter,
            host.name,
            auth_header=host.auth_header,
            auth_scheme=host.auth_scheme,
            base_path=host.base_path,
        ),
        model_class=model_class,
        default_endpoint=host.base_url,
        api_key_env=host.key_env,
        endpoint_env=host.endpoint_env,
        requires_api_key=host.requires_key,
        model_prefixes=host.model_prefixes,
        models=host.models,
        generic=_generic(host),
        description=host.description,
        notes=host.quirks,
    )


#: one profile per host row.
PROFILES: tuple[ProviderProfile, ...] = tuple(profile_of(host) for host in HOSTS)


@hookimpl
def llms_register_providers() -> list[ProviderProfile]:
    """Every OpenAI-compatible host."""
    return list(PROFILES)
