"""Which provider serves a model name given without one: :class:`ModelRouter`.

``LLMClient`` accepts ``"provider/model"`` (used as written) and bare names (``"gpt-4.1-mini"``,
``"claude-sonnet-4"``, ``"llama3.2"``). A bare name is routed by these rules, first match wins:

1. the client's own ``routes`` (an alias table: ``{"fast": "groq/llama-3.1-8b-instant"}``);
2. the model catalogue: every provider whose catalogue has the name (or alias) is a candidate;
3. the providers' ``model_prefixes`` (``gpt-``/``o3`` → OpenAI, ``claude-`` → Anthropic,
   ``gemini-`` → Gemini, ``grok-`` → xAI …): every provider claiming a prefix of the name is a
   candidate;
4. when exactly one configured provider serves any model name (a local Ollama or vLLM, an
   OpenRouter key), that provider.

Among candidates the choice is: a configured provider (its credentials are present, or the
client was given its settings) before one that is not; then the client's ``prefer`` order; then the
provider whose prefixes claim the name (its maker: ``claude-*`` → ``anthropic`` before
``bedrock``); then the name. A per-call ``provider=`` skips all of this.

Routing is pure data and cached per name, so a routed call costs a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from ..interfaces.errors import ConfigurationError, UnknownModelError
from ..registry import ModelRegistry, _close_matches

__all__ = ["ModelRouter"]


class ModelRouter:
    """Turns a model name (and an optional provider) into a qualified ``"provider/model"``."""

    def __init__(
        self,
        registry: ModelRegistry,
        *,
        configured: Collection[str] = (),
        prefer: Sequence[str] = (),
        routes: Mapping[str, str] | None = None,
    ) -> None:
        self._registry = registry
        known = {p.name for p in registry.providers()}
        for where, names in (("prefer", prefer), ("providers", configured)):
            if isinstance(names, str):
                raise ConfigurationError(f"{where} must be a list of provider names, not a string")
            for name in names:
                if name not in known:
                    close = _close_matches(str(name), sorted(known), n=3, cutoff=0.6)
                    hint = f"did you mean {', '.join(close)}? " if close else ""
                    raise ConfigurationError(
                        f"{where} names an unknown provider {name!r}",
                        hint=hint + f"registered providers: {', '.join(sorted(known))}",
                    )
        self._configured = frozenset(configured)
        self._prefer = {name: i for i, name in enumerate(dict.fromkeys(prefer))}
        self._routes: dict[str, str] = {}
        for alias, target in (routes or {}).items():
            if not isinstance(alias, str) or not isinstance(target, str) or "/" not in target:
                raise ConfigurationError(
                    "routes must map names to qualified 'provider/model' names",
                    hint='routes={"fast": "groq/llama-3.1-8b-instant"}',
                )
            self._routes[alias] = target
        self._prefixes = [
            (prefix, profile.name) for profile in registry.providers() for prefix in profile.model_prefixes
        ]
        self._open = sorted(p.name for p in registry.providers() if p.generic is not None)
        self._cache: dict[tuple[str, str | None], str] = {}

    @property
    def configured(self) -> frozenset[str]:
        """The providers calls can reach without more settings."""
        return self._configured

    def route(self, model: str, provider: str | None = None) -> str:
        """The qualified name ``model`` is served as (see the module docstring).

        Raises :class:`UnknownModelError` naming the candidates or the closest names.
        """
        key = (model, provider)
        found = self._cache.get(key)
        if found is None:
            found = self._route(model, provider)
            if len(self._cache) < 4096:  # (open names are unbounded: keep the cache bounded)
                self._cache[key] = found
        return found

    def _route(self, model: str, provider: str | None) -> str:
        if not isinstance(model, str) or not model.strip():
            what = "an empty string" if isinstance(model, str) else f"a {type(model).__name__}"
            raise UnknownModelError(f"model must be a model name, not {what}")
        if provider is not None:
            return self._with_provider(model, provider)
        head, sep, _ = model.partition("/")
        if sep and head in {p.name for p in self._registry.providers()}:
            return model
        routed = self._routes.get(model)
        if routed is not None:
            return routed
        candidates = [q.partition("/")[0] for q in self._registry.qualified_names(model)]
        makers = {name for prefix, name in self._prefixes if model.startswith(prefix)}
        if not candidates:
            candidates = sorted(makers)
        if not candidates:
            open_configured = [name for name in self._open if name in self._configured]
            if len(open_configured) == 1:
                return f"{open_configured[0]}/{model}"
            return self._unknown(model, open_configured)
        best = min(
            candidates,
            key=lambda name: (
                name not in self._configured,
                self._prefer.get(name, len(self._prefer)),
                name not in makers,
                name,
            ),
        )
        return f"{best}/{model}"

    def _with_provider(self, model: str, provider: str) -> str:
        if not isinstance(provider, str) or not provider:
            raise UnknownModelError(f"provider must be a provider name, not {type(provider).__name__}")
        self._registry.provider(provider)  # (raises naming the registered providers)
        head, sep, _ = model.partition("/")
        if sep and head == provider:
            return model
        return f"{provider}/{model}"

    def _unknown(self, model: str, open_configured: list[str]) -> str:
        names = [m.qualified_name for m in self._registry.models()]
        close = _close_matches(model, [n.partition("/")[2] for n in names], n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        if open_configured:
            hint += f"several configured providers serve any name ({', '.join(open_configured)}): "
        hint += "name the provider: 'provider/model', or provider=..."
        raise UnknownModelError(f"no provider is known for model {model!r}", hint=hint)
