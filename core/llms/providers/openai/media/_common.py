"""What the media calls share: reading call parameters (the model's ``defaults`` under the
call's, refused when unknown), a choice among allowed values, and the per-call transport options
(``model=``, ``timeout=``, ``read_timeout=``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ....interfaces.endpoint import Timeouts
from ....interfaces.errors import InvalidInputError

if TYPE_CHECKING:
    from ..model import OpenAIModel

__all__ = ["TRANSPORT_PARAMS", "Transport", "call_params", "call_timeouts", "choice", "transport"]

#: what every media call takes besides its own parameters.
TRANSPORT_PARAMS = frozenset({"timeout", "read_timeout", "model"})


def call_params(
    model: OpenAIModel,
    params: Mapping[str, Any],
    allowed: frozenset[str],
    *,
    call: str,
    aliases: Mapping[str, str] | None = None,
    other_calls: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The model's ``defaults`` with ``params`` over them, each spelled as in ``allowed`` (an alias
    renamed; giving both spellings in one place is refused). ``None`` means "not given" (it
    also removes a default). An unknown name raises :class:`InvalidInputError` listing the
    allowed ones; a default named in ``other_calls`` (taken by the model's other audio call) is
    skipped."""
    merged: dict[str, Any] = {}
    for source, is_default in ((model._defaults, True), (params, False)):
        seen: dict[str, str] = {}
        for key, value in source.items():
            name = aliases.get(key, key) if aliases else key
            if name in seen:
                raise InvalidInputError(
                    f"pass only one of {seen[name]!r} and {key!r}", provider=model.provider, model=model.name
                )
            seen[name] = key
            if name not in allowed:
                if is_default and name in other_calls:
                    continue
                raise InvalidInputError(
                    f"unknown parameter {key!r} for {call}() with {model.name}",
                    provider=model.provider,
                    model=model.name,
                    hint=f"allowed: {', '.join(sorted(allowed))}",
                )
            merged[name] = value
    return {name: value for name, value in merged.items() if value is not None}


def choice(model: OpenAIModel, name: str, value: Any, allowed: tuple[str, ...], *, why: str = "") -> str:
    """``value`` when it is one of ``allowed``, else :class:`InvalidInputError` naming ``name``
    and the allowed values."""
    if isinstance(value, str) and value in allowed:
        return value
    shown = repr(value)[:40] if isinstance(value, str) else f"<{type(value).__name__}>"
    raise InvalidInputError(
        f"{name}={shown} is not supported by {model.name}{why}",
        provider=model.provider,
        model=model.name,
        hint=f"{name} must be one of: {', '.join(allowed)}",
    )


class Transport:
    """The model id and timeouts of one call."""

    __slots__ = ("model_fixed", "model_id", "read_timeout", "total_timeout")

    def __init__(self, model_id: str, model_fixed: bool, total: float | None, read: float | None) -> None:
        self.model_id = model_id
        self.model_fixed = model_fixed
        self.total_timeout = total
        self.read_timeout = read


def transport(model: OpenAIModel, params: Mapping[str, Any]) -> Transport:
    """``model=`` (a model id for this call only), ``timeout=`` (seconds for the whole call, or a
    :class:`Timeouts`: its total, and its read unless ``read_timeout=`` is given) and
    ``read_timeout=`` (longest silence between received bytes), checked."""
    wire = params.get("model")
    if wire is not None and (not isinstance(wire, str) or not wire.strip()):
        raise InvalidInputError(
            "model= must be a non-empty model id string", provider=model.provider, model=model.name
        )
    total, read = call_timeouts(model, params.get("timeout"), params.get("read_timeout"))
    return Transport(wire if wire is not None else model.metadata.model_id, wire is not None, total, read)


def call_timeouts(model: OpenAIModel, total: Any, read: Any) -> tuple[float | None, float | None]:
    """A call's ``(timeout, read_timeout)``, checked: ``timeout`` is seconds for the whole call,
    or a :class:`Timeouts` (its total, and its read unless ``read_timeout`` is given)."""
    if isinstance(total, Timeouts):
        if read is None:
            read = total.read
        total = total.total
    elif total is not None:
        model._check_seconds("timeout", total)
    if read is not None:
        model._check_seconds("read_timeout", read)
    return total, read
