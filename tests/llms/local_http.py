"""Local HTTP(S) servers for tests: one way to serve an aiohttp app on 127.0.0.1 at a free port,
and one throw-away TLS certificate for 127.0.0.1."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

from aiohttp import web


async def serve_locally(
    app: web.Application, *, ssl_context: ssl.SSLContext | None = None, **runner_options: Any
) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on 127.0.0.1 at a free port (HTTPS with ``ssl_context``); returns the runner
    (``await runner.cleanup()`` stops it) and the port. ``runner_options`` go to ``AppRunner``."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    return runner, runner.addresses[0][1]


def make_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate and key for 127.0.0.1 in ``folder`` (made by the ``openssl``
    command), or None when the command is missing."""
    if shutil.which("openssl") is None:
        return None
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
