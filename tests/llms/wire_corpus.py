"""Where the recorded provider traffic lives: ``tests/llms/wire/`` inside this repository.

``tests/llms/wire/README.md`` names the public source of every file. Tests read the corpus only
through :data:`WIRE`, so a plain clone with nothing beside it runs the whole suite.
"""

from __future__ import annotations

from pathlib import Path

#: The recorded-traffic corpus shipped with the tests.
WIRE = Path(__file__).resolve().parent / "wire"
