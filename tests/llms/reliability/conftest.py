"""Fixtures of the reliability tests: a throw-away TLS certificate and the provider registry."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from core.llms.registry import ModelRegistry

from .fault_matrix_support import registry


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path] | None:
    """A self-signed certificate and key for 127.0.0.1 (made by ``openssl``), or None when the
    ``openssl`` command is missing (the TLS cases then skip)."""
    if shutil.which("openssl") is None:
        return None
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="session")
def providers_registry() -> ModelRegistry:
    """The built-in providers plus the Ollama plugin, independent of the environment."""
    return registry()
