"""Shared names of the CLI tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

#: the only key the test simulator accepts.
KEY = "sim-key-not-secret"

#: any ANSI escape sequence.
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Result:
    """What ``main`` returned and wrote."""

    code: int
    out: str
    err: str


Run = Callable[..., Result]
