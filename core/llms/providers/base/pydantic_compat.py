"""Recognising a caller's pydantic model class without importing pydantic.

Callers pass pydantic model classes as ``response_format=`` or ``tools=``; such a class can only
exist once pydantic is imported, so the check looks pydantic up in ``sys.modules`` and never
imports it. ``import core.llms`` + ``create_llm`` stay free of pydantic's import cost; pydantic
is loaded by the caller's own models (or by a config file, :mod:`core.llms.config`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["is_pydantic_model_class"]


def is_pydantic_model_class(obj: object) -> TypeGuard[type[BaseModel]]:
    """Is ``obj`` a pydantic model class (a ``BaseModel`` subclass)?"""
    if not isinstance(obj, type):
        return False
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and issubclass(obj, pydantic.BaseModel)
