"""Test-only provider plugins and helpers shared by the plugin, registry and factory tests.

Three fake providers, registered through the real hooks on a fresh plugin manager:

* ``acme`` — needs an API key (``ACME_API_KEY``), endpoint from ``ACME_ENDPOINT``;
* ``zure`` — Azure-like: its settings need ``deployment_name`` and ``api_version``
  (``ZURE_DEPLOYMENT`` / ``ZURE_API_VERSION``), key from ``ZURE_API_KEY``, endpoint from
  ``ZURE_ENDPOINT``;
* ``local`` — keyless, default endpoint, serves any model name (a ``generic`` template).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pluggy
import pytest

from core.llms import hookspecs
from core.llms.hookspecs import hookimpl
from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.errors import LLMError
from core.llms.interfaces.llm_interfaces import StreamDecoder, WireRequest
from core.llms.interfaces.messages import MessagesInput
from core.llms.interfaces.metadata import ModelMetadata
from core.llms.interfaces.provider import ProviderProfile
from core.llms.interfaces.types import LLMResponse, LLMStreamChunk
from core.llms.plugins import reset_plugin_manager
from core.llms.providers.base.http_errors import error_for_status
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.ndjson import NDJSONDecoder
from core.llms.registry import ModelRegistry

SECRET = "sk-test-SECRET-0123456789abcdef"
PROVIDER_ENV = (
    "ACME_API_KEY",
    "ACME_ENDPOINT",
    "ZURE_API_KEY",
    "ZURE_ENDPOINT",
    "ZURE_DEPLOYMENT",
    "ZURE_API_VERSION",
    "OLLAMA_API_KEY",
    "OLLAMA_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_OPENAI_API_VERSION",
    "CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD",
    "CORE_LLMS_BLOCKED_PLUGINS",
)


@pytest.fixture
def clean_provider_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No provider variable of :data:`PROVIDER_ENV` set, and a fresh plugin manager before and
    after the test (the plugin and factory test folders use it autouse)."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


class FakeAdapter:
    """A minimal ProviderAdapter: ``{endpoint}/chat``, bearer key, NDJSON, status-table errors."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        return f"{endpoint.endpoint}/{operation}"

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        key = endpoint.api_key.get_secret_value() if endpoint.api_key else None
        return {"Authorization": f"Bearer {key}"} if key else {}

    def decoder(self, operation: str) -> StreamDecoder:
        return NDJSONDecoder()

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        return error_for_status(status, body.decode("utf-8", "replace"), endpoint=endpoint)

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        return None


class EchoLLM(BaseLLM):
    """Answers with the last message's text through the connector's ``send`` (payload echo)."""

    metadata: ClassVar[ModelMetadata]
    provider_parameters: ClassVar[frozenset[str]] = frozenset({"temperature"})

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        msgs = self._validate_messages(messages)
        wire = await self._connector.send(WireRequest("chat", {"text": msgs[-1].text}), ctx)
        return LLMResponse(text=str(wire.data), model=self.name, provider=self.provider)

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        return _single_chunk(self._validate_messages(messages)[-1].text)


async def _single_chunk(text: str) -> AsyncIterator[LLMStreamChunk]:
    yield LLMStreamChunk(text=text, finish_reason="stop")


def model_class(provider: str, name: str, *aliases: str, cls_name: str | None = None) -> type[EchoLLM]:
    """A new EchoLLM subclass with metadata for ``provider/name``."""
    meta = ModelMetadata(name=name, provider=provider, aliases=aliases)
    return type(cls_name or f"Model_{provider}_{name}", (EchoLLM,), {"metadata": meta})


AcmeOne = model_class("acme", "acme-1", "acme-latest", cls_name="AcmeOne")
AcmeTwo = model_class("acme", "acme-2", cls_name="AcmeTwo")
AcmeShared = model_class("acme", "shared-model", cls_name="AcmeShared")
ZureMini = model_class("zure", "zpt-mini", "zpt-mini-2025", cls_name="ZureMini")
ZureShared = model_class("zure", "shared-model", cls_name="ZureShared")
LocalTiny = model_class("local", "tiny", cls_name="LocalTiny")


@dataclass(frozen=True, slots=True, kw_only=True)
class ZureSettings:
    """The ``zure`` provider's own endpoint fields (both required)."""

    deployment_name: str
    api_version: str


ACME = ProviderProfile(
    name="acme",
    adapter=lambda: FakeAdapter("acme"),
    model_class=EchoLLM,
    api_key_env=("ACME_API_KEY",),
    endpoint_env=("ACME_ENDPOINT",),
    description="test provider needing a key",
)
ZURE = ProviderProfile(
    name="zure",
    adapter=lambda: FakeAdapter("zure"),
    model_class=EchoLLM,
    settings=ZureSettings,
    api_key_env=("ZURE_API_KEY",),
    endpoint_env=("ZURE_ENDPOINT",),
    settings_env={"deployment_name": ("ZURE_DEPLOYMENT",), "api_version": ("ZURE_API_VERSION",)},
)
LOCAL = ProviderProfile(
    name="local",
    adapter=lambda: FakeAdapter("local"),
    model_class=EchoLLM,
    default_endpoint="http://127.0.0.1:9",
    generic=ModelMetadata(name="*", provider="local"),
    requires_api_key=False,
)


class AcmePlugin:
    @hookimpl
    def llms_register_providers(self) -> list[ProviderProfile]:
        return [ACME]

    @hookimpl
    def llms_register_models(self) -> list[type]:
        return [AcmeOne, AcmeTwo, AcmeShared]


class ZurePlugin:
    @hookimpl
    def llms_register_providers(self) -> list[ProviderProfile]:
        return [ZURE]

    @hookimpl
    def llms_register_models(self) -> list[type]:
        return [ZureMini, ZureShared]


class LocalPlugin:
    @hookimpl
    def llms_register_providers(self) -> list[ProviderProfile]:
        return [LOCAL]

    @hookimpl
    def llms_register_models(self) -> list[type]:
        return [LocalTiny]


def make_pm(*plugins: tuple[str, object]) -> pluggy.PluginManager:
    """A fresh plugin manager with the hookspecs and ``(name, plugin)`` pairs, in order."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name, plugin in plugins:
        pm.register(plugin, name=name)
    return pm


def make_registry(*extra: tuple[str, object]) -> ModelRegistry:
    """A registry of the three fake providers (plus ``extra`` plugins after them)."""
    pm = make_pm(
        ("acme-plugin", AcmePlugin()), ("zure-plugin", ZurePlugin()), ("local-plugin", LocalPlugin()), *extra
    )
    return ModelRegistry.from_plugins(pm)
