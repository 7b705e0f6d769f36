"""What Cohere's embed and rerank calls share: reading call parameters (the model's ``defaults``
under the call's, refused when unknown), the per-call transport options (``model=``,
``timeout=``, ``read_timeout=``) and sending batches a few at a time."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...interfaces.endpoint import Timeouts
from ...interfaces.errors import InvalidInputError, RequestTimeoutError

if TYPE_CHECKING:
    from .model import CohereModel

__all__ = ["TRANSPORT_PARAMS", "Transport", "call_params", "shown"]

#: what every embed / rerank call takes besides its own parameters.
TRANSPORT_PARAMS = frozenset({"timeout", "read_timeout", "model"})


def shown(value: Any) -> str:
    """A rejected value in a message: short numbers and strings as they are, else the type."""
    return repr(value)[:40] if isinstance(value, int | float | str) else f"<{type(value).__name__}>"


def call_params(
    model: CohereModel, params: Mapping[str, Any], allowed: frozenset[str], *, call: str
) -> dict[str, Any]:
    """The row's and the model's ``defaults`` with ``params`` over them; ``None`` means "not
    given" (it also removes a default). An unknown name raises :class:`InvalidInputError`
    listing the allowed ones."""
    merged: dict[str, Any] = {}
    for source in (model.metadata.parameters.defaults, model._defaults, params):
        for name, value in source.items():
            if name not in allowed:
                raise InvalidInputError(
                    f"unknown parameter {name!r} for {call}() with {model.name}",
                    provider=model.provider,
                    model=model.name,
                    hint=f"allowed: {', '.join(sorted(allowed))}",
                )
            merged[name] = value
    return {name: value for name, value in merged.items() if value is not None}


class Transport:
    """The model id and timeouts of one call, and its deadline."""

    __slots__ = ("deadline", "model_fixed", "model_id", "read_timeout")

    def __init__(self, model: CohereModel, params: Mapping[str, Any]) -> None:
        wire = params.get("model")
        if wire is not None and (not isinstance(wire, str) or not wire.strip()):
            raise InvalidInputError(
                "model= must be a non-empty model id string", provider=model.provider, model=model.name
            )
        total, read = params.get("timeout"), params.get("read_timeout")
        if isinstance(total, Timeouts):
            read = total.read if read is None else read
            total = total.total
        elif total is not None:
            model._check_seconds("timeout", total)
        if read is not None:
            model._check_seconds("read_timeout", read)
        self.model_id: str = wire if wire is not None else model.metadata.model_id
        self.model_fixed = wire is not None
        self.read_timeout: float | None = read
        self.deadline: float | None = None if total is None else time.monotonic() + total

    def remaining(self, what: str) -> float | None:
        """Seconds left for ``what`` (None: no deadline); :class:`RequestTimeoutError` when none."""
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RequestTimeoutError(
                f"the call ran out of time before {what}", hint="pass a longer timeout="
            )
        return left
