"""The built-in providers: one folder each (``<name>/plugin.py`` registers it), plus the shared
wire dialects (``dialects/``) and transport (``base/``).

A built-in plugin is imported only when one of its providers is first needed (see
:mod:`core.llms.plugins`), so which providers a folder registers must be known without importing
it: :func:`builtin_provider_names`. A test checks it against what every plugin registers.
"""

from __future__ import annotations

__all__ = ["builtin_provider_names"]


def builtin_provider_names(folder: str) -> tuple[str, ...]:
    """The providers the built-in plugin of ``providers/<folder>/`` registers: the one named
    after the folder; for ``openai_compatible``, one per row of its hosts table (a data module,
    cheap to import)."""
    if folder == "openai_compatible":
        from .openai_compatible.hosts import HOSTS

        return tuple(host.name for host in HOSTS)
    return (folder,)
