"""Field checks for the frozen settings dataclasses (model metadata, endpoint settings).

Each check returns the value (normalised: ints widened to float, sets frozen, sequences made
tuples) or raises :class:`ConfigurationError` naming ``owner.field`` and what was expected. A
rejected value is never quoted, only its type: a misplaced secret must not reach a message.
These run when settings are built (import, ``create_llm``), never per request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from .errors import ConfigurationError

__all__ = [
    "build",
    "check_bool",
    "check_float",
    "check_int",
    "check_mapping",
    "check_str",
    "check_str_set",
    "check_str_tuple",
    "field_names",
    "replace",
]

T = TypeVar("T")


def _fail(owner: str, name: str, expected: str, value: object) -> ConfigurationError:
    return ConfigurationError(f"{owner}.{name} must be {expected}, not {type(value).__name__}")


def check_bool(owner: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(owner, name, "True or False", value)
    return value


def check_int(owner: str, name: str, value: object, *, minimum: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(owner, name, "an integer", value)
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{owner}.{name} must be >= {minimum}")
    return value


def check_float(owner: str, name: str, value: object, *, positive: bool = False) -> float:
    """A number (an int is widened); ``positive`` requires > 0, otherwise >= 0 (NaN never)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _fail(owner, name, "a number", value)
    number = float(value)
    if positive and not number > 0:
        raise ConfigurationError(f"{owner}.{name} must be > 0")
    if not positive and not number >= 0:
        raise ConfigurationError(f"{owner}.{name} must be >= 0")
    return number


def check_str(owner: str, name: str, value: object) -> str:
    if not isinstance(value, str):
        raise _fail(owner, name, "a string", value)
    return value


def check_str_set(
    owner: str, name: str, value: object, allowed: Collection[str] | None = None
) -> frozenset[str]:
    """A set of strings (any collection of them is accepted), each in ``allowed`` if given."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Collection):
        raise _fail(owner, name, "a set of strings", value)
    items = frozenset(value)
    for item in items:
        if not isinstance(item, str):
            raise _fail(owner, name, "a set of strings", value)
        if allowed is not None and item not in allowed:
            raise ConfigurationError(f"{owner}.{name} may hold only {', '.join(sorted(allowed))}")
    return items


def check_str_tuple(owner: str, name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Collection):
        raise _fail(owner, name, "a tuple of strings", value)
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise _fail(owner, name, "a tuple of strings", value)
    return items


def check_mapping(owner: str, name: str, value: object, *, str_values: bool = False) -> dict[str, Any]:
    """A copy of a mapping with string keys (and string values if ``str_values``)."""
    if not isinstance(value, Mapping):
        raise _fail(owner, name, "a mapping", value)
    for key, item in value.items():
        if not isinstance(key, str) or (str_values and not isinstance(item, str)):
            expected = "a mapping of strings" if str_values else "a mapping with string keys"
            raise _fail(owner, name, expected, value)
    return dict(value)


def field_names(cls: type) -> tuple[str, ...]:
    """The names of a dataclass's fields, in order."""
    return tuple(f.name for f in dataclasses.fields(cls))


def _check_known(cls: type, names: Collection[str], owner: str) -> None:
    allowed = field_names(cls)
    unknown = sorted(str(name) for name in set(names) - set(allowed))
    if unknown:
        raise ConfigurationError(f"unknown {owner} field(s) {unknown}", hint=f"allowed: {', '.join(allowed)}")


def build(cls: type[T], data: Mapping[str, Any], owner: str) -> T:
    """``cls(**data)`` for a keyword-only dataclass, with an unknown or missing field reported as a
    :class:`ConfigurationError` (the constructor's own ``TypeError`` would not say which is wrong
    in the library's terms)."""
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"{owner} settings must be a mapping, not {type(data).__name__}")
    _check_known(cls, data, owner)
    missing = [
        f.name
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.init
        and f.name not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigurationError(f"{owner} needs {', '.join(missing)}")
    return cls(**data)


def replace(obj: T, changes: Mapping[str, Any], owner: str) -> T:
    """A copy of the dataclass instance ``obj`` with ``changes`` (validated again)."""
    _check_known(type(obj), changes, owner)
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
