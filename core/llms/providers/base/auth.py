"""Credentials shared by adapters: the bearer token of an endpoint."""

from __future__ import annotations

import inspect

from ...interfaces.endpoint import EndpointConfig
from ...interfaces.errors import ConfigurationError

__all__ = ["resolve_bearer_token"]


async def resolve_bearer_token(endpoint: EndpointConfig) -> str | None:
    """The bearer credential of ``endpoint``: its ``token_provider`` (sync or async) if set, else
    its ``api_key``, else None. A token provider must return a non-empty string of one line."""
    if endpoint.token_provider is not None:
        token = endpoint.token_provider()
        if inspect.isawaitable(token):
            token = await token
        if not isinstance(token, str) or not token.strip() or any(c in token for c in "\r\n"):
            raise ConfigurationError(
                f"the token_provider of {endpoint.display_name} returned "
                + (f"a {type(token).__name__}" if not isinstance(token, str) else "an unusable token")
                + ", not a one-line token string",
                endpoint=endpoint.display_name,
            )
        return token.strip()
    if endpoint.api_key is not None:
        return endpoint.api_key.get_secret_value()
    return None
