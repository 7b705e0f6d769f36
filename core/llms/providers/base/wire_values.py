"""Reading single values out of decoded provider JSON, which may hold anything.

A provider (or a proxy in front of it) can send a number where a string belongs, a list where an
object belongs, or JSON nested thousands of levels deep. The parsers use these helpers so that
such input ends as a :class:`~core.llms.interfaces.errors.ResponseParsingError`, or, for
informational fields, as "absent", never as a ``TypeError`` / ``AttributeError``
escaping the library. (JSON nested too deeply for the parser raises ``RecursionError``, which
the parsers catch next to ``ValueError``.)

Rule of thumb used by every parser: the answer's own content (text, refusal, reasoning, tool call
names and arguments) of the wrong type is a :class:`ResponseParsingError`; metadata of the wrong
type (model name, token counts, an unknown finish reason) is treated as absent.
"""

from __future__ import annotations

from typing import Any

from ...interfaces.errors import ResponseParsingError

__all__ = ["MAX_TOKEN_COUNT", "optional_str", "optional_text", "token_count"]

#: token counts at or above this (2**53, the largest exact float integer) are treated as absent.
MAX_TOKEN_COUNT = 1 << 53


def token_count(value: Any) -> int:
    """A token count from the wire: a non-negative ``int`` below :data:`MAX_TOKEN_COUNT`, else 0
    (null, a bool, a float, a string, a huge or negative number)."""
    return value if type(value) is int and 0 <= value < MAX_TOKEN_COUNT else 0


def optional_str(value: Any) -> str | None:
    """A metadata string (model name, id): the value if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def optional_text(value: Any, where: str, **error_fields: Any) -> str | None:
    """A content string that may be absent: None for null / absent / ``""``, the string itself, or
    :class:`ResponseParsingError` naming ``where`` for any other JSON type."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    raise ResponseParsingError(f"{where} is a JSON {_json_type(value)}, not a string", **error_fields)


def _json_type(value: Any) -> str:
    match value:
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case list():
            return "array"
        case dict():
            return "object"
        case _:
            return type(value).__name__
