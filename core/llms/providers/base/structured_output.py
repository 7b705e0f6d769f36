"""Decoding a model's structured answer (``response_format=``), the same for every provider."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...interfaces.errors import ResponseParsingError
from .pydantic_compat import is_pydantic_model_class

__all__ = ["parse_structured"]

_CUT_SHORT = "the answer may have been cut short (finish_reason 'length'): raise max_tokens"


def parse_structured(text: str, response_format: Any, *, provider: str | None = None) -> Any:
    """Decode structured output: a pydantic instance for a model class, a dict (or list) for a
    JSON schema or ``json_object`` format, None for no / text format. Raises
    :class:`ResponseParsingError` (naming ``provider`` when given) when the text does not fit;
    the message says what failed, never the answer itself."""
    if response_format is None:
        return None
    if is_pydantic_model_class(response_format):
        from pydantic import ValidationError  # loaded already: the caller's class is a pydantic model

        try:
            return response_format.model_validate_json(text)
        except ValidationError as exc:
            raise ResponseParsingError(
                f"the answer does not match {response_format.__name__}: {exc.error_count()} error(s), "
                f"first: {exc.errors()[0]['msg']}",
                provider=provider,
                hint=_CUT_SHORT,
            ) from None
    if isinstance(response_format, Mapping) and response_format.get("type") == "text":
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode
        raise ResponseParsingError(
            f"the answer is not valid JSON ({len(text)} chars)", provider=provider, hint=_CUT_SHORT
        ) from None
