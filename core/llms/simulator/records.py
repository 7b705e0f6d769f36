"""What the simulator remembers of each request: :class:`RecordedRequest` (credentials hidden)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["REDACTED", "RecordedRequest"]

#: what a credential header's value shows as in ``redacted_headers()``, ``to_dict()`` and the repr.
REDACTED = "<redacted>"
#: a header whose lower-cased name contains one of these carries a credential (api-key,
#: authorization, x-amz-security-token, cookie, x-session-token ...): its value is never shown.
_SECRET_WORDS = ("auth", "key", "token", "secret", "signature", "credential", "password", "cookie", "session")


def _is_secret(header: str) -> bool:
    return any(word in header for word in _SECRET_WORDS)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the simulator received it. ``path`` is the URL path (no query); ``headers``
    has lower-case names and the real values; ``json`` is the parsed body (None when empty or not
    JSON). ``secret_headers``: more lower-case header names to redact (the simulator's configured
    auth header), besides any whose name looks like a credential. The repr hides credentials."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    secret_headers: frozenset[str] = field(default=frozenset(), compare=False)

    def redacted_headers(self) -> dict[str, str]:
        """``headers`` with credential values replaced by ``"<redacted>"`` (names all kept)."""
        return {
            k: (REDACTED if _is_secret(k) or k in self.secret_headers else v) for k, v in self.headers.items()
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with credentials redacted (used by ``GET /_sim/requests``)."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.redacted_headers(),
            "json": self.json,
        }

    def __repr__(self) -> str:
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, query={self.query!r}, "
            f"headers={self.redacted_headers()!r}, json={self.json!r})"
        )
