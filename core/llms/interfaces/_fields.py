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
    "field_meant",
    "field_names",
    "replace",
    "unknown_fields_error",
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
    unknown = set(names) - set(allowed)
    if unknown:
        raise unknown_fields_error(owner, unknown, allowed)


#: what other clients call some endpoint settings (the OpenAI SDK, LiteLLM, langchain): a hint
#: names the field core-llms uses instead.
_SYNONYMS: dict[str, str] = {
    "base_url": "endpoint",
    "api_base": "endpoint",
    "azure_endpoint": "endpoint",
    "url": "endpoint",
    "host": "endpoint",
    "azure_deployment": "deployment_name",
    "deployment": "deployment_name",
    "deployment_id": "deployment_name",
    "timeout": "timeouts",
    "request_timeout": "timeouts",
    "default_headers": "headers",
    "extra_headers": "headers",
    "organization_id": "organization",
    "max_retries": "retry",
    "num_retries": "retry",
    "verify": "verify_tls",
    "ssl_verify": "verify_tls",
}


def field_meant(name: str, choices: Collection[str]) -> str | None:
    """The field a caller probably meant by the unknown ``name``: a known synonym from another
    client (``base_url`` for ``endpoint``) when ``choices`` has it, else a close spelling."""
    from difflib import get_close_matches  # only for error hints: not on the import path

    guess = _SYNONYMS.get(name.lower())
    if guess is not None and guess in choices:
        return guess
    close = get_close_matches(name, list(choices), n=1, cutoff=0.7)
    return close[0] if close else None


def unknown_fields_error(
    what: str,
    unknown: Collection[str],
    allowed: Collection[str],
    where: str = "",
    related: Collection[str] = (),
) -> ConfigurationError:
    """The error for settings with fields nobody reads: names them (never their values), suggests
    the field meant (see :func:`field_meant`) and lists the allowed ones. It reads
    "unknown <what> field(s) [...] <where>". ``related``: other names the caller may have meant
    but that are not fields here (``create_llm``'s ``retry=`` for ``max_retries``)."""
    names = sorted(str(name) for name in unknown)
    choices = list(allowed)
    meant = []
    for name in names:
        guess = field_meant(name, [*choices, *related])
        if guess is not None:
            meant.append(f"{guess} (not {name})")
    hint = f"did you mean {', '.join(meant)}? " if meant else ""
    place = f" {where}" if where else ""
    return ConfigurationError(
        f"unknown {what} field(s) {names}{place}", hint=hint + f"allowed: {', '.join(choices)}"
    )


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
