"""The worked provider plugin of docs/plugins.md, installed as written and run against the
simulator: entry point discovery, the adapter's own auth header, a settings field, the rows."""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.llms import create_llm
from core.llms.interfaces.errors import ConfigurationError
from core.llms.plugins import reset_plugin_manager
from core.llms.simulator import Simulator

ROOT = Path(__file__).resolve().parents[3]
KEY = "acmekey-5Hj2Wq8Rz1"


def block(first_line: str) -> str:
    """The fenced code block of docs/plugins.md whose first line is ``first_line``."""
    page = (ROOT / "docs" / "plugins.md").read_text()
    for body in re.findall(r"```\w*\n(.*?)```", page, re.S):
        if body.startswith(first_line + "\n"):
            return str(body)
    raise AssertionError(f"docs/plugins.md has no code block starting with {first_line!r}")


@pytest.fixture
def acme_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example as a distribution on sys.path: its package and an entry point, as pip would."""
    project = tomllib.loads(block("# pyproject.toml"))["project"]
    package = tmp_path / "acme_llm"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(block("# acme_llm/plugin.py"))
    info = tmp_path / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    entry_points = project["entry-points"]["core_llms"]
    (info / "entry_points.txt").write_text(
        "[core_llms]\n" + "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("CORE_LLMS_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("ACME_REGION", raising=False)
    monkeypatch.setenv("ACME_API_KEY", KEY)
    reset_plugin_manager()
    yield
    reset_plugin_manager()
    for name in ("acme_llm.plugin", "acme_llm"):
        sys.modules.pop(name, None)


async def test_the_documented_plugin_works_as_written(acme_installed: None) -> None:
    async with (
        Simulator(auth_header="X-Acme-Key", api_key=KEY) as sim,
        create_llm("acme/acme-large", endpoint=f"{sim.url}/v1", region="us") as llm,
    ):
        answer = await llm.get_answer("Hello")
        chunks = [c async for c in llm.stream_answer("Hello again")]
    assert answer.text == "Simulated answer to: Hello" and answer.provider == "acme"
    assert answer.cost is not None and answer.cost > 0  # the row's price
    assert "".join(c.text for c in chunks) == "Simulated answer to: Hello again"
    for request in sim.requests:
        assert request.path == "/v1/chat/completions" and request.json["model"] == "acme-large"
        assert request.headers["x-acme-key"] == KEY and "authorization" not in request.headers
        assert request.headers["x-acme-region"] == "us"


async def test_the_documented_plugin_defaults_and_checks(acme_installed: None) -> None:
    llm = create_llm("acme/acme-large")
    [endpoint] = [c.endpoint for c in llm.connector.connectors]  # type: ignore[attr-defined]
    assert endpoint.endpoint == "https://api.acme.example/v1" and endpoint.settings.region == "eu"
    await llm.aclose()
    with pytest.raises(ConfigurationError, match="did you mean region"):
        create_llm("acme/acme-large", regoin="us")
    other = create_llm("acme/acme-small-preview")  # an open name: generic limits, no price
    assert other.metadata.context_window == 200_000 and other.cost(None) is None
    await other.aclose()
