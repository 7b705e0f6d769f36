"""What the Bedrock media calls share: the provider-neutral call helpers of the OpenAI media
modules (parameters over the model's ``defaults``, a choice among allowed values, ``timeout`` /
``read_timeout`` / ``model=``) typed for any :class:`BaseLLM`, a model's base model id, bounded
concurrent sends in order, and short renderings of values for error messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ...openai.media import _common as _shared

if TYPE_CHECKING:
    from ...base.implementation import BaseLLM
    from ...openai.model import OpenAIModel

__all__ = [
    "TRANSPORT_PARAMS",
    "Transport",
    "base_model_id",
    "call_params",
    "call_timeouts",
    "choice",
    "model_ids",
    "shown",
    "transport",
]

_T = TypeVar("_T")
_A = TypeVar("_A")

TRANSPORT_PARAMS = _shared.TRANSPORT_PARAMS
Transport = _shared.Transport

#: the geography prefixes of cross-region inference profiles (``us.amazon.nova-canvas-v1:0``).
_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "ca.", "jp.", "au.", "global.")


def _as_shared(model: BaseLLM) -> OpenAIModel:
    # the shared helpers read only what every BaseLLM has (_defaults, name, provider, metadata,
    # _check_seconds); they are annotated with OpenAIModel, their first user.
    return cast("OpenAIModel", model)


def call_params(
    model: BaseLLM,
    params: Mapping[str, Any],
    allowed: frozenset[str],
    *,
    call: str,
    aliases: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The model's ``defaults`` with ``params`` over them (aliases renamed, ``None`` dropped); an
    unknown name raises :class:`InvalidInputError` listing the allowed ones."""
    return _shared.call_params(_as_shared(model), params, allowed, call=call, aliases=aliases)


def choice(model: BaseLLM, name: str, value: Any, allowed: tuple[str, ...], *, why: str = "") -> str:
    """``value`` when it is one of ``allowed``, else :class:`InvalidInputError` naming ``name``."""
    return _shared.choice(_as_shared(model), name, value, allowed, why=why)


def call_timeouts(model: BaseLLM, total: Any, read: Any) -> tuple[float | None, float | None]:
    """A call's ``(timeout, read_timeout)``, checked."""
    return _shared.call_timeouts(_as_shared(model), total, read)


def transport(model: BaseLLM, params: Mapping[str, Any]) -> _shared.Transport:
    """``model=`` (a model id for this call only), ``timeout=`` and ``read_timeout=``, checked."""
    return _shared.transport(_as_shared(model), params)


def base_model_id(model_id: str) -> str:
    """A Bedrock model id without its inference-profile geography prefix:
    ``us.amazon.nova-canvas-v1:0`` -> ``amazon.nova-canvas-v1:0``; an ARN's last part."""
    if model_id.startswith("arn:"):
        model_id = model_id.rsplit("/", 1)[-1]
    for prefix in _PROFILE_PREFIXES:
        if model_id.startswith(prefix) and model_id.count(".") >= 2:
            return model_id[len(prefix) :]
    return model_id


def model_ids(model: BaseLLM) -> tuple[str, ...]:
    """The ids a model is known by (its wire id and its catalogue name), without profile prefixes."""
    meta = model.metadata
    return tuple(dict.fromkeys(base_model_id(name) for name in (meta.model_id, meta.name)))


def shown(value: Any) -> str:
    """A value for an error message: short, and never the content of bytes or secrets."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return f"<{type(value).__name__}>"
