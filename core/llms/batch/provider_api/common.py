"""What every provider Batch API shares: the batch price of an answer."""

from __future__ import annotations

from typing import Any

from ...interfaces.types import LLMResponse

__all__ = ["apply_batch_price"]


def apply_batch_price(response: LLMResponse, model: Any) -> LLMResponse:
    """Set ``response.cost`` to the model's batch price of its usage (``Pricing.batch_factor`` of
    the normal price, half for every provider here); None when usage or prices are unknown.

    ``model`` is the model object (a :class:`~core.llms.providers.base.BaseLLM`) the batch was
    made for.
    """
    metadata = getattr(model, "metadata", None)
    pricing = getattr(metadata, "pricing", None)
    cost = model.cost(response.usage) if callable(getattr(model, "cost", None)) else None
    response.cost = None if cost is None or pricing is None else cost * pricing.batch_factor
    return response
