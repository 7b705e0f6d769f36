"""``multipart/form-data`` request bodies (file uploads: audio to transcribe, images to edit).

A :class:`MultipartForm` is built once per call and encoded once per distinct model id (an
endpoint serving the model under another id, an Azure v1 deployment, gets the form with its own
``model`` field, like a JSON body's). The boundary is random per form and checked against the
content, so no file can contain it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from ...interfaces.errors import InvalidInputError

__all__ = ["FormField", "MultipartForm"]


@dataclass(frozen=True, slots=True)
class FormField:
    """One form field: text, or a file when ``filename`` is set."""

    name: str
    value: str | bytes
    filename: str | None = None
    content_type: str | None = None

    def __repr__(self) -> str:  # never print file bytes (or text a caller uploaded) in full
        size = len(self.value)
        kind = f"file {self.filename!r}" if self.filename is not None else "text"
        return f"FormField({self.name!r}, <{kind}, {size} bytes>)"


def _quoted(value: str, what: str) -> str:
    if any(c in value for c in '\r\n"'):
        raise InvalidInputError(f"form {what} {value!r} must not contain quotes or line breaks")
    return value


class MultipartForm:
    """The fields of one upload, encoded as ``multipart/form-data``."""

    __slots__ = ("_encoded", "boundary", "fields")

    def __init__(self, fields: Iterable[FormField]) -> None:
        self.fields = tuple(fields)
        for field in self.fields:
            _quoted(field.name, "field name")
            if field.filename is not None:
                _quoted(field.filename, "file name")
        self.boundary = self._boundary()
        self._encoded: dict[str | None, bytes] = {}

    def __repr__(self) -> str:
        return f"MultipartForm({', '.join(f.name for f in self.fields)})"

    def _boundary(self) -> str:
        while True:
            boundary = "core-llms-" + secrets.token_hex(16)
            marker = boundary.encode()
            if not any(
                marker in (f.value if isinstance(f.value, bytes) else f.value.encode()) for f in self.fields
            ):
                return boundary

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value, with the boundary."""
        return f"multipart/form-data; boundary={self.boundary}"

    def value(self, name: str) -> str | bytes | None:
        """The value of the first field called ``name`` (None if there is none)."""
        for field in self.fields:
            if field.name == name:
                return field.value
        return None

    def encode(self, model: str | None = None) -> bytes:
        """The body; with ``model``, its ``model`` field (if it has one) set to that id."""
        body = self._encoded.get(model)
        if body is None:
            body = self._encoded[model] = self._encode(model)
        return body

    def _encode(self, model: str | None) -> bytes:
        dash = b"--" + self.boundary.encode()
        out = bytearray()
        for field in self.fields:
            value = field.value
            if model is not None and field.name == "model" and field.filename is None:
                value = model
            out += dash + b"\r\n"
            disposition = f'Content-Disposition: form-data; name="{field.name}"'
            if field.filename is not None:
                disposition += f'; filename="{field.filename}"'
            out += disposition.encode() + b"\r\n"
            if field.content_type is not None:
                out += f"Content-Type: {field.content_type}\r\n".encode()
            out += b"\r\n"
            out += value if isinstance(value, bytes) else value.encode()
            out += b"\r\n"
        out += dash + b"--\r\n"
        return bytes(out)
