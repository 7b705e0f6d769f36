"""Credentials shared by adapters: the bearer token of an endpoint."""

from __future__ import annotations

import inspect

from ...interfaces.endpoint import EndpointConfig
from ...interfaces.errors import AuthenticationError, ConfigurationError, LLMError

__all__ = ["resolve_bearer_token"]


async def resolve_bearer_token(endpoint: EndpointConfig) -> str | None:
    """The bearer credential of ``endpoint``: its ``token_provider`` (sync or async) if set, else
    its ``api_key``, else None. A token provider must return a non-empty string of one line.

    A token provider that raises an error of the library's tree raises it as it is; any other
    exception becomes :class:`AuthenticationError` naming its type only (its text may quote
    what it was given) and never caused by it. A credential object (``get_token``, Azure Entra
    ID) is refused here: only adapters that know its scope take one (Azure's)."""
    provider = endpoint.token_provider
    if provider is not None:
        if not callable(provider):
            raise ConfigurationError(
                f"the token_provider of {endpoint.display_name} is a {type(provider).__name__}, "
                "a credential object: this provider needs a callable returning a token",
                endpoint=endpoint.display_name,
                hint="pass token_provider=lambda: <your token> (credential objects are for azure/ models)",
            )
        failure: str | None = None
        try:
            token = provider()
            if inspect.isawaitable(token):
                token = await token
        except LLMError:
            raise
        except Exception as exc:  # reported by type only, outside this block (no __context__)
            failure = type(exc).__name__
        if failure is not None:
            raise AuthenticationError(
                f"the token_provider of {endpoint.display_name} failed ({failure})",
                endpoint=endpoint.display_name,
                hint="call your token provider yourself to see why",
            )
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
