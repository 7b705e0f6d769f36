"""JSON schemas for OpenAI strict mode (structured output and strict function tools).

Strict mode accepts a subset of JSON Schema: every object must say ``additionalProperties:
false`` and list *all* its properties as ``required`` (optional fields are expressed as a union
with ``null``), a property may not declare a ``default``, and a ``$ref`` may not carry sibling
keywords. Pydantic's schemas need adjusting
on all three counts, at every nesting level, including the models under ``$defs``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ....interfaces.errors import InvalidInputError

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["pydantic_strict_schema", "schema_name", "strict_json_schema"]

_NAME_INVALID = re.compile(r"[^a-zA-Z0-9_-]")


def schema_name(name: str) -> str:
    """A schema / function name as OpenAI accepts it: ``[a-zA-Z0-9_-]{1,64}``."""
    return _NAME_INVALID.sub("_", name)[:64] or "response"


@functools.lru_cache(maxsize=256)
def pydantic_strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The strict-mode schema of a pydantic model class (cached per class; do not mutate)."""
    return strict_json_schema(model.model_json_schema())


def strict_json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` made valid for strict mode.

    Objects get ``additionalProperties: false`` and all properties required; ``oneOf`` becomes
    ``anyOf`` (dropping pydantic's ``discriminator``); a one-element ``allOf`` is merged into its
    parent; ``default`` is dropped (every property is required, so it could never apply); a
    ``$ref`` with siblings (pydantic writes a field's description next to the ref) is replaced by
    the referenced definition. A free-form mapping
    (``additionalProperties`` set to a schema) cannot be strict: :class:`InvalidInputError`.
    """
    defs = schema.get("$defs") or {}
    out: dict[str, Any] = _Strictifier(defs if isinstance(defs, Mapping) else {}).convert(schema, "#")
    return out


class _Strictifier:
    def __init__(self, defs: Mapping[str, Any]) -> None:
        self._defs = defs
        self._inlining: list[str] = []

    def convert(self, node: Any, path: str) -> Any:
        if isinstance(node, list):
            return [self.convert(item, f"{path}/{i}") for i, item in enumerate(node)]
        if not isinstance(node, Mapping):
            return node
        if "$ref" in node and len(node) > 1:
            return self._inline_ref(node, path)
        out: dict[str, Any] = {}
        for key, value in node.items():
            match key:
                case "$defs" | "definitions" | "properties" if isinstance(value, Mapping):
                    out[key] = {k: self.convert(v, f"{path}/{key}/{k}") for k, v in value.items()}
                case "items" | "anyOf" | "allOf" | "prefixItems":
                    out[key] = self.convert(value, f"{path}/{key}")
                case "oneOf":
                    out["anyOf"] = self.convert(value, f"{path}/oneOf")
                case "discriminator" | "default":
                    pass
                case _:
                    out[key] = value
        if out.get("type") == "object" or "properties" in out:
            extra = out.get("additionalProperties")
            if extra not in (None, False):
                raise InvalidInputError(
                    f"the schema at {path} allows arbitrary keys (additionalProperties), which strict "
                    "structured output cannot express",
                    hint="use a nested model with named fields instead of a dict",
                )
            out["additionalProperties"] = False
            out["required"] = list(out.get("properties") or {})
        all_of = out.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            del out["allOf"]
            out = {**all_of[0], **out}
        return out

    def _inline_ref(self, node: Mapping[str, Any], path: str) -> Any:
        ref = node["$ref"]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        prefix = "#/$defs/"
        target = None
        if isinstance(ref, str) and ref.startswith(prefix):
            target = self._defs.get(ref[len(prefix) :])
        if target is None or ref in self._inlining:
            # Unknown or recursive reference: keep the bare ref (strict mode allows that), drop
            # the siblings it may not carry.
            return {"$ref": ref}
        self._inlining.append(ref)
        try:
            resolved = self.convert(target, path)
        finally:
            self._inlining.pop()
        return {**resolved, **self.convert(siblings, path)}
