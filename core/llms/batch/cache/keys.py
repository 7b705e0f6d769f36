"""Cache keys: one deterministic hex SHA-256 per distinct request.

:func:`request_key` hashes a canonical JSON document of

* a format version (:data:`KEY_VERSION`; bumped when the canonical form changes, so old entries
  simply stop matching),
* the model name,
* the messages, normalised with :func:`~core.llms.interfaces.messages.normalize_messages` (so
  ``"hi"``, ``[{"role": "user", "content": "hi"}]`` and ``[("user", "hi")]`` give one key). Text
  is kept as is; an image, audio clip or file is represented by its URL or file id, or by the
  SHA-256 of its bytes with its media type (a ``data:`` URL counts as its bytes, so the same
  image given either way gives one key); tool calls, names and ``tool_call_id`` are kept,
* the call parameters that can change the answer: everything except :data:`IGNORED_PARAMS`.

Unknown parameters are *kept*: a parameter we do not know may change the answer, and a needless
cache miss is cheaper than a wrong hit. Dict key order never matters; a float that is a whole
number equals the int (``temperature=1`` and ``temperature=1.0`` give one key); tuples equal lists;
a set is sorted. A pydantic model class (``response_format=`` or a tool) counts as its name and
JSON schema; a pydantic instance as its JSON dump; an enum as its value; a dataclass instance as
its fields.

The key uses nothing that changes between processes (no ``hash()``, no ``id()``), so every
process, machine and Python run computes the same key for the same request.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import hashlib
import json
import math
from collections.abc import Mapping, Set
from typing import Any

from ...interfaces.errors import InvalidInputError
from ...interfaces.messages import (
    AudioPart,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    MessagesInput,
    TextPart,
    normalize_messages,
)
from ...providers.base.pydantic_compat import is_pydantic_model_class

__all__ = ["IGNORED_PARAMS", "KEY_VERSION", "canonical_request", "request_key"]

#: version of the canonical form; part of every key.
KEY_VERSION = 1

#: call parameters left out of the key: they change how (or whether) a call is made, traced or
#: billed, never what the model answers.
IGNORED_PARAMS: frozenset[str] = frozenset(
    {
        # transport and deadlines
        "timeout",
        "read_timeout",
        "connect_timeout",
        "request_timeout",
        "max_retries",
        "num_retries",
        "retry",
        # streaming (the cache stores whole answers)
        "stream",
        "stream_options",
        # the request's context, ids and headers
        "ctx",
        "idempotency_key",
        "request_id",
        "extra_headers",
        "headers",
        # tracing, end-user ids and labels
        "user",
        "metadata",
        "request_metadata",
        "labels",
        "tags",
        # billing / scheduling tier, prompt-cache hints: same answer, other price or latency
        "service_tier",
        "prompt_cache",
        "prompt_cache_key",
        "cache_control",
        "cache_system",
        "cache_messages",
        "cache_tools",
    }
)

#: nesting deeper than this is refused (and a value that contains itself ends here).
_MAX_DEPTH = 64


class _Unkeyable(Exception):
    """A value with no canonical form; ``what`` names its type (never its content)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def request_key(model: str, messages: MessagesInput, params: Mapping[str, Any] | None = None) -> str:
    """The cache key of a request: a 64-character hex SHA-256.

    ``params`` are ``get_answer``'s keyword arguments; those in :data:`IGNORED_PARAMS` are left
    out. Raises :class:`InvalidInputError` for messages :func:`normalize_messages` refuses, for a
    model that is not a string, and for a parameter value with no canonical JSON form (naming the
    parameter and the value's type, never the value).
    """
    document = canonical_request(model, messages, params)
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def canonical_request(
    model: str, messages: MessagesInput, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON document :func:`request_key` hashes (useful to see why two keys differ)."""
    if not isinstance(model, str):
        raise InvalidInputError(f"request_key: model must be a string, not {type(model).__name__}")
    if params is None:
        params = {}
    elif not isinstance(params, Mapping):
        raise InvalidInputError(f"request_key: params must be a mapping, not {type(params).__name__}")
    canonical_params: dict[str, Any] = {}
    for name, value in params.items():
        if not isinstance(name, str):
            raise InvalidInputError(
                f"request_key: parameter names must be strings, not {type(name).__name__}"
            )
        if name in IGNORED_PARAMS:
            continue
        try:
            canonical_params[name] = _canonical(value, 0)
        except _Unkeyable as exc:
            raise InvalidInputError(
                f"request_key: parameter {name!r} holds a value with no canonical JSON form ({exc.what})",
                hint="pass JSON data (dicts, lists, strings, numbers), a pydantic class, or leave it out",
            ) from None
    return {
        "v": KEY_VERSION,
        "model": model,
        "messages": [_message(m) for m in normalize_messages(messages)],
        "params": canonical_params,
    }


# ------------------------------------------------------------------------------------ messages


def _message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": [_part(p) for p in message.content]}
    if message.name is not None:
        out["name"] = message.name
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
            for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


def _part(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        out: dict[str, Any] = {"type": "image"}
        if part.data is not None:
            out.update(_blob(part.data, part.media_type or ""))
        else:
            out.update(_url(part.url or ""))
        if part.detail is not None:
            out["detail"] = part.detail
        return out
    if isinstance(part, AudioPart):
        return {"type": "audio", "format": part.format, "sha256": _sha256(part.data), "size": len(part.data)}
    if isinstance(part, FilePart):
        out = {"type": "file", "media_type": part.media_type}
        if part.data is not None:
            out.update(_blob(part.data, part.media_type))
        elif part.url is not None:
            out.update(_url(part.url))
        else:
            out["file_id"] = part.file_id
        if part.filename is not None:
            out["filename"] = part.filename
        return out
    raise InvalidInputError(f"request_key: unknown content part {type(part).__name__}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blob(data: bytes, media_type: str) -> dict[str, Any]:
    return {"sha256": _sha256(data), "size": len(data), "media_type": media_type.lower()}


def _url(url: str) -> dict[str, Any]:
    """A URL; a base64 ``data:`` URL as the hash of its bytes (as if given as bytes)."""
    if url.startswith("data:"):
        header, comma, payload = url.partition(",")
        if comma and header.endswith(";base64"):
            try:
                data = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                pass
            else:
                return _blob(data, header[5:].split(";")[0])
        # (another data: URL is hashed as text: it may be long)
        return {"url_sha256": _sha256(url.encode("utf-8", "surrogatepass"))}
    return {"url": url}


# ------------------------------------------------------------------------------------ values


def _canonical(value: Any, depth: int) -> Any:
    """``value`` as JSON data whose dumps (with sorted keys) is the same for equal requests."""
    if depth > _MAX_DEPTH:
        raise _Unkeyable(f"nested deeper than {_MAX_DEPTH} levels, or contains itself")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return _canonical(value.value, depth + 1)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"$float": repr(value)}
        if value.is_integer():
            return int(value)
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return {"$bytes": _sha256(data), "size": len(data)}
    if is_pydantic_model_class(value):
        try:
            schema = value.model_json_schema()
        except Exception as exc:  # pydantic raises several error types for a class it cannot describe
            what = f"pydantic class {value.__name__} has no JSON schema: {type(exc).__name__}"
            raise _Unkeyable(what) from None
        return {"$pydantic": value.__name__, "schema": _canonical(schema, depth + 1)}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, enum.Enum):
                key = key.value
            if not isinstance(key, str):
                raise _Unkeyable(f"a dict key of type {type(key).__name__}")
            out[key] = _canonical(item, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_canonical(item, depth + 1) for item in value]
    if isinstance(value, Set):
        items = [_canonical(item, depth + 1) for item in value]
        return {"$set": sorted(items, key=lambda item: json.dumps(item, sort_keys=True, allow_nan=False))}
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):  # a pydantic instance
        try:
            data = dump(mode="json")
        except Exception as exc:  # a custom serializer may raise anything
            raise _Unkeyable(f"{type(value).__name__}.model_dump failed: {type(exc).__name__}") from None
        return {"$model": type(value).__name__, "data": _canonical(data, depth + 1)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"$dataclass": type(value).__name__, "data": _canonical(fields, depth + 1)}
    raise _Unkeyable(f"a {type(value).__name__}")
