"""LLMFactory: lazy creation and caching, aliases, closing every created model."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from plugins.support import EchoLLM, make_registry, model_class

from core.llms.factory import LLMFactory
from core.llms.hookspecs import hookimpl
from core.llms.interfaces.errors import UnknownModelError
from core.llms.registry import ModelRegistry

CONFIG: dict[str, Any] = {
    "models": {
        "small": {"model": "local/tiny"},
        "big": {"model": "local/closing"},
        "other": {"model": "local/closing-2"},
    }
}


class Closing(EchoLLM):
    """Counts aclose calls; ``fail`` makes aclose raise after counting."""

    closed: ClassVar[list[str]] = []
    fail: ClassVar[bool] = False

    async def aclose(self) -> None:
        await super().aclose()
        Closing.closed.append(self.name)
        if Closing.fail and self.name == "closing-2":
            raise RuntimeError("close failed")


ClosingOne = type("ClosingOne", (Closing,), {"metadata": model_class("local", "closing").metadata})
ClosingTwo = type("ClosingTwo", (Closing,), {"metadata": model_class("local", "closing-2").metadata})


class ClosingPlugin:
    @hookimpl
    def llms_register_models(self) -> list[type]:
        return [ClosingOne, ClosingTwo]


@pytest.fixture
def registry() -> ModelRegistry:
    Closing.closed = []
    Closing.fail = False
    return make_registry(("closing", ClosingPlugin()))


def test_models_are_created_lazily_and_cached(registry: ModelRegistry) -> None:
    factory = LLMFactory.from_config(CONFIG, registry=registry)
    assert "created=[]" in repr(factory)
    small = factory.get("small")
    assert factory["small"] is small and factory.get("small") is small
    assert "created=['small']" in repr(factory)


def test_unknown_alias_suggests(registry: ModelRegistry) -> None:
    factory = LLMFactory.from_config(CONFIG, registry=registry)
    with pytest.raises(UnknownModelError) as info:
        factory["smal"]
    assert "did you mean small?" in str(info.value) and "defined: small, big, other" in str(info.value)
    assert "nope" not in factory


async def test_aclose_closes_every_created_model(registry: ModelRegistry) -> None:
    factory = LLMFactory.from_config(CONFIG, registry=registry)
    big = factory.get("big")
    factory.get("other")
    factory.get("small")
    await factory.aclose()
    assert sorted(Closing.closed) == ["closing", "closing-2"]
    # closed models are forgotten: the next get creates a fresh one
    assert factory.get("big") is not big
    await factory.aclose()


async def test_async_with_closes(registry: ModelRegistry) -> None:
    async with LLMFactory.from_config(CONFIG, registry=registry) as factory:
        factory.get("big")
    assert Closing.closed == ["closing"]


async def test_aclose_closes_all_then_raises_the_first_failure(registry: ModelRegistry) -> None:
    Closing.fail = True
    factory = LLMFactory.from_config(CONFIG, registry=registry)
    factory.get("other")
    factory.get("big")
    with pytest.raises(RuntimeError, match="close failed"):
        await factory.aclose()
    assert sorted(Closing.closed) == ["closing", "closing-2"]


async def test_aclose_without_models_is_a_no_op(registry: ModelRegistry) -> None:
    await LLMFactory.from_config(CONFIG, registry=registry).aclose()
    assert Closing.closed == []
