"""The Cohere provider as data: profile, catalogue rows (published figures), adapter rules,
factory and environment, and a cold start that loads neither embed nor rerank code."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import model_classes
import pytest
from model_classes import model_class
from openai_testkit import ScriptedConnector

from core.llms import create_llm
from core.llms.interfaces import ConfigurationError, InvalidInputError, UnsupportedOperationError
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.plugins import builtin_plugins
from core.llms.providers.cohere import COHERE_MODELS, CohereAdapter, CohereModel
from core.llms.providers.cohere.catalogue import EMBED_DIMENSIONS, PRICES_AS_OF
from core.llms.providers.cohere.plugin import PROFILE

#: name → (context window, max output, USD per 1M input, per 1M output) as published.
CHAT_FIGURES = {
    "command-a-03-2025": (256_000, 8_000, 2.50, 10.00),
    "command-a-reasoning-08-2025": (256_000, 32_000, 0.0, 0.0),  # no public price
    "command-r-plus-08-2024": (128_000, 4_000, 2.50, 10.00),
    "command-r-08-2024": (128_000, 4_000, 0.15, 0.60),
    "command-r7b-12-2024": (128_000, 4_000, 0.0375, 0.15),
}
#: name → (output, price field, price).
MEDIA_FIGURES = {
    "embed-v4.0": ("embedding", "input_per_1m", 0.12),
    "embed-english-v3.0": ("embedding", "input_per_1m", 0.10),
    "embed-multilingual-v3.0": ("embedding", "input_per_1m", 0.10),
    "rerank-v3.5": ("rerank", "per_1k_searches", 2.00),
    "rerank-english-v3.0": ("rerank", "per_1k_searches", 2.00),
}


def test_catalogue_has_the_published_figures() -> None:
    rows = {m.name: m for m in COHERE_MODELS}
    assert set(rows) == set(CHAT_FIGURES) | set(MEDIA_FIGURES)
    for name, (context, max_output, price_in, price_out) in CHAT_FIGURES.items():
        meta = rows[name]
        assert (meta.context_window, meta.max_output_tokens) == (context, max_output), name
        assert (meta.pricing.input_per_1m, meta.pricing.output_per_1m) == (price_in, price_out), name
        assert meta.output_media == {"text"} and meta.capabilities.tools and meta.capabilities.json_schema
        assert meta.pricing.as_of == PRICES_AS_OF
    for name, (output, field, price) in MEDIA_FIGURES.items():
        meta = rows[name]
        assert meta.output_media == {output} and getattr(meta.pricing, field) == price, name
        assert not meta.capabilities.streaming
    assert rows["command-a-reasoning-08-2025"].capabilities.reasoning
    assert rows["command-a-reasoning-08-2025"].parameters.extra_allowed == {"thinking"}
    assert rows["command-r-08-2024"].parameters.unsupported == {"tool_choice"}
    assert set(EMBED_DIMENSIONS) == {n for n, (o, _, _) in MEDIA_FIGURES.items() if o == "embedding"}
    assert date(2025, 9, 1) == PRICES_AS_OF


def test_profile_and_registry() -> None:
    assert "core.llms.providers.cohere.plugin" in builtin_plugins()
    assert PROFILE.dialect == "cohere_v2"
    assert PROFILE.api_key_env == ("CO_API_KEY", "COHERE_API_KEY")
    assert PROFILE.endpoint_env == ("CO_API_URL",)
    assert PROFILE.default_endpoint == "https://api.cohere.com"
    registry = model_classes.test_registry()
    for meta in COHERE_MODELS:
        cls = registry.resolve(meta.qualified_name)[1]
        assert issubclass(cls, CohereModel) and cls.metadata == meta
    open_cls = model_class("cohere/command-a-vision-07-2025")
    assert issubclass(open_cls, CohereModel) and open_cls.metadata.supports_input("image")
    assert model_class("cohere/command-r7b-12-2024-custom").metadata.context_window == 128_000


def test_factory_reads_cohere_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CO_API_KEY", raising=False)
    monkeypatch.delenv("CO_API_URL", raising=False)
    monkeypatch.setenv("COHERE_API_KEY", "co-fallback-key")
    model = create_llm("cohere/command-a-03-2025", registry=model_classes.test_registry())
    assert model.connector.endpoints == ["https://api.cohere.com"]  # type: ignore[attr-defined]
    monkeypatch.setenv("CO_API_KEY", "co-primary-key")
    monkeypatch.setenv("CO_API_URL", "https://cohere.proxy.example")
    other = create_llm("cohere/embed-v4.0", registry=model_classes.test_registry())
    assert other.connector.endpoints == ["https://cohere.proxy.example"]  # type: ignore[attr-defined]
    assert "co-primary-key" not in repr(other) and "co-fallback-key" not in repr(model)
    monkeypatch.delenv("CO_API_KEY")
    monkeypatch.delenv("COHERE_API_KEY")
    with pytest.raises(ConfigurationError) as info:
        create_llm("cohere/command-r-08-2024", registry=model_classes.test_registry())
    assert "CO_API_KEY" in str(info.value)


@pytest.mark.parametrize(
    ("endpoint", "operation", "url"),
    [
        ("https://api.cohere.com", "chat", "https://api.cohere.com/v2/chat"),
        ("https://api.cohere.com/", "embed", "https://api.cohere.com/v2/embed"),
        ("https://api.cohere.com/v2", "rerank", "https://api.cohere.com/v2/rerank"),
        ("https://gw.example/cohere?tenant=a", "chat", "https://gw.example/cohere/v2/chat?tenant=a"),
    ],
)
def test_adapter_urls(endpoint: str, operation: str, url: str) -> None:
    assert CohereAdapter().url(EndpointConfig(endpoint=endpoint, api_key="k"), operation, "m") == url


async def test_adapter_auth_and_request_id() -> None:
    adapter = CohereAdapter()
    assert await adapter.auth_headers(EndpointConfig(endpoint="https://x", api_key="co-k")) == {
        "Authorization": "Bearer co-k"
    }
    assert await adapter.auth_headers(EndpointConfig(endpoint="https://x", token_provider=lambda: "tok")) == {
        "Authorization": "Bearer tok"
    }
    assert adapter.request_id({"x-debug-trace-id": "a", "x-request-id": "b"}) == "a"
    assert adapter.request_id({"x-trace-id": "c"}) == "c"
    with pytest.raises(UnsupportedOperationError):
        adapter.url(EndpointConfig(endpoint="https://x", api_key="k"), "images", "m")
    assert repr(adapter) == "CohereAdapter('cohere')"


async def test_methods_by_output() -> None:
    chat = model_class("cohere/command-a-03-2025")(ScriptedConnector())
    with pytest.raises(UnsupportedOperationError) as info:
        await chat.embed("x")
    assert info.value.hint == "this model produces text: use get_answer() or stream_answer()"
    with pytest.raises(UnsupportedOperationError):
        await chat.rerank("q", ["d"])
    embed = model_class("cohere/embed-v4.0")(ScriptedConnector(), defaults={"input_type": "search_query"})
    with pytest.raises(UnsupportedOperationError) as info:
        await embed.rerank("q", ["d"])
    assert info.value.hint == "this model produces embedding: use embed()"
    rerank = model_class("cohere/rerank-v3.5")(ScriptedConnector())
    with pytest.raises(UnsupportedOperationError, match="rerank"):
        await rerank.get_answer("hi")
    with pytest.raises(InvalidInputError, match=r"unknown parameter 'temperatur'"):
        model_class("cohere/command-a-03-2025")(ScriptedConnector(), defaults={"temperatur": 1})


COLD = """
import sys
import core.llms
for name in ("cohere/command-a-03-2025", "cohere/embed-v4.0", "cohere/rerank-v3.5"):
    core.llms.create_llm(name, api_key="k")
print(",".join(m for m in ("core.llms.providers.cohere.embed", "core.llms.providers.cohere.rerank",
                           "core.llms.interfaces.media", "aiohttp", "pydantic") if m in sys.modules))
"""


def test_import_and_create_load_no_embed_or_rerank_code() -> None:
    result = subprocess.run(
        [sys.executable, "-c", COLD], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
