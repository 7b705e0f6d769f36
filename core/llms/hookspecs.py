"""The hooks a core-llms plugin may implement (pluggy project ``core_llms``).

Every hook is synchronous and returns data only: discovery never opens a connection and never
imports a heavy SDK. A plugin is one module with ``@hookimpl`` functions, registered through
the ``core_llms`` entry-point group::

    # pyproject.toml of the plugin
    [project.entry-points.core_llms]
    myprovider = "my_package.plugin"

    # my_package/plugin.py
    from core.llms.hookspecs import hookimpl
    from core.llms.interfaces.provider import ProviderProfile

    @hookimpl
    def llms_register_providers() -> list[ProviderProfile]:
        return [ProviderProfile(name="myprovider", adapter=MyAdapter, model_class=OpenAIChatModel,
                                models=(ModelMetadata(name="my-model", provider="myprovider"),))]

Built-in providers (each folder of ``core/llms/providers`` with a ``plugin`` module) register
through exactly the same hooks; see docs/plugins.md for a complete worked example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from .interfaces.errors import LLMError
from .interfaces.observer import AttemptInfo, CallInfo
from .interfaces.types import LLMResponse

if TYPE_CHECKING:
    from .interfaces.provider import ProviderProfile

__all__ = [
    "PROJECT_NAME",
    "hookimpl",
    "hookspec",
    "llms_on_attempt",
    "llms_on_error",
    "llms_on_request",
    "llms_on_response",
    "llms_register_models",
    "llms_register_providers",
]

#: The pluggy project name, which is also the entry-point group plugins are found under.
PROJECT_NAME = "core_llms"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def llms_register_providers() -> list[ProviderProfile]:  # type: ignore[empty-body]
    """Return the providers this plugin adds.

    Each :class:`~core.llms.interfaces.provider.ProviderProfile` names the provider (the part
    before ``/`` in ``"provider/model"``), its wire dialect's model class, a factory for its
    :class:`ProviderAdapter`, its settings class, where endpoint and credentials come from, and
    its catalogue rows. A provider name registered by two plugins is an error.
    """


@hookspec
def llms_register_models() -> list[Any]:  # type: ignore[empty-body]
    """Return models this plugin adds to providers registered by this or another plugin.

    Each item is a row: a :class:`~core.llms.interfaces.metadata.ModelMetadata` (made from its
    provider's dialect class), a :class:`~core.llms.interfaces.provider.ModelRow` naming another
    class, or a hand-written model class (a ``BaseLLM`` subclass with ``metadata``), for a model
    whose behaviour differs. Its qualified name ``provider/name`` and its aliases must not clash
    with a model registered by another plugin.
    """


@hookspec
def llms_on_request(call: CallInfo) -> None:
    """Called when a model call starts (before the first byte is sent).

    Must be fast and must not block; an exception is logged and swallowed.
    """


@hookspec
def llms_on_attempt(call: CallInfo, attempt: AttemptInfo) -> None:
    """Called after each attempt of a call (each try on an endpoint, and each endpoint skipped
    because its circuit breaker is open), with what happened next (``attempt.action``: done,
    retry, failover, raise, give_up, skipped or interrupted).

    Must be fast and must not block; an exception is logged and swallowed.
    """


@hookspec
def llms_on_response(call: CallInfo, response: LLMResponse) -> None:
    """Called when a model call finished with an answer (for streams: once, at the end).

    Must be fast and must not block; an exception is logged and swallowed.
    """


@hookspec
def llms_on_error(call: CallInfo, error: LLMError) -> None:
    """Called when a model call failed with ``error``.

    Must be fast and must not block; an exception is logged and swallowed.
    """
