"""The ``core-llms`` command line (``python -m core.llms.cli`` works the same).

::

    core-llms chat "Name three rivers." -m gpt-4.1-mini     # the answer streams to stdout
    core-llms models --capability vision --sort price      # the catalogue, filtered
    core-llms providers                                     # providers, configured or not
    core-llms cost gpt-4o-mini --input-tokens 1000 --output-tokens 200
    core-llms simulator --port 8000                         # the fake provider server

One module per command (:mod:`.chat`, :mod:`.models`, :mod:`.cost`, :mod:`.simulator`), the
terminal helper in :mod:`.term`, the docs pages' generators in :mod:`.markdown`. See
``docs/cli.md``.
"""

from __future__ import annotations

from .app import main
from .markdown import catalogue_markdown, providers_markdown

__all__ = ["catalogue_markdown", "main", "providers_markdown"]
