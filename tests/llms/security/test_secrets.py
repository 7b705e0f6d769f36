"""Secret hygiene: canary API keys, Azure keys, bearer tokens from a ``token_provider``, an AWS
secret key in a header, and proxy credentials never appear in an exception (message, str, repr,
hint, body, cause chain, attempts), a log record of the ``core.llms`` / ``aiohttp`` trees at
DEBUG, or a repr / debug dump, for every provider and every error path we can trigger.

The "hostile" server below echoes every request header value it received into its error bodies
(in full: real OpenAI echoes a masked key; a buggy gateway may echo everything), in HTTP errors,
in 2xx error bodies, and inside 200 streams. The library must mask or omit them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from core_llms_ollama import plugin as ollama_plugin

from core.llms.config import load_config
from core.llms.factory import LLMFactory, create_llm
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.errors import (
    AllEndpointsFailedError,
    APIConnectionError,
    AttemptRecord,
    AuthenticationError,
    ConfigurationError,
    LLMError,
)
from core.llms.interfaces.llm_interfaces import WireRequest
from core.llms.plugins import build_plugin_manager
from core.llms.providers.base.connector import Connector
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.openai.adapter import OpenAIAdapter
from core.llms.registry import ModelRegistry
from core.llms.simulator import Fault, Simulator

from .support import (
    AWS_SECRET,
    AZURE_KEY,
    BEARER,
    OPENAI_KEY,
    PROXY_PASSWORD,
    LocalServer,
    assert_clean,
    captured_logs,
    error_texts,
)

AWS_HEADERS = {"X-Amz-Secret-Access-Key": AWS_SECRET}


def registry() -> ModelRegistry:
    pm = build_plugin_manager(autoload=False)
    pm.register(ollama_plugin, name="ollama")
    return ModelRegistry.from_plugins(pm)


async def async_bearer() -> str:
    return BEARER


@dataclass
class Provider:
    name: str
    model: str
    fields: dict[str, Any]
    path: str = "/v1"


PROVIDERS = [
    Provider("openai", "openai/gpt-4o", {"api_key": OPENAI_KEY}),
    Provider("openai-token", "openai/gpt-4o", {"token_provider": lambda: BEARER}),
    Provider(
        "azure-key",
        "azure/gpt-4.1-mini",
        {"api_key": AZURE_KEY, "deployment_name": "mini", "api_version": "2024-10-21"},
        path="",
    ),
    Provider(
        "azure-entra",
        "azure/gpt-4.1-mini",
        {"token_provider": async_bearer, "deployment_name": "mini", "api_version": "2024-10-21"},
        path="",
    ),
    Provider("ollama", "ollama/llama3.2", {"api_key": OPENAI_KEY}, path=""),
    Provider("ollama-token", "ollama/llama3.2", {"token_provider": async_bearer}, path=""),
]


# -- the hostile echo server ----------------------------------------------------------------------


class Echo:
    """Answers every request by echoing all its header values, in the mode set by the test."""

    def __init__(self) -> None:
        self.mode = "401"
        self.server = LocalServer([("*", "/{tail:.*}", self.handle)])

    async def handle(self, request: web.Request) -> web.StreamResponse:
        echo = " | ".join(f"{k}: {v}" for k, v in request.headers.items())
        ollama = request.path.endswith("/api/chat")
        body = await request.json() if request.can_read_body else {}
        stream = bool(body.get("stream"))
        if ollama:
            error: Any = {"error": f"unauthorized: {echo}"}
        else:
            error = {
                "error": {
                    "message": f"Incorrect API key provided: {echo}",
                    "type": "invalid_request_error",
                    "param": echo,
                    "code": "invalid_api_key",
                    "innererror": {"echo": [echo]},
                }
            }
        match self.mode:
            case "401" | "403" | "429" | "500":
                headers = {"x-request-id": "req-echo", "retry-after": "0"}
                return web.json_response(error, status=int(self.mode), headers=headers)
            case "body":  # a 2xx whose body is an error
                return web.json_response(error)
            case "text":  # a non-JSON error body
                return web.Response(status=502, text=f"<html>bad gateway {echo}</html>")
            case "stream" if stream:
                resp = web.StreamResponse(
                    headers={"Content-Type": "application/x-ndjson" if ollama else "text/event-stream"}
                )
                await resp.prepare(request)
                line = json.dumps(error).encode()
                await resp.write(line + b"\n" if ollama else b"data: " + line + b"\n\n")
                await resp.write_eof()
                return resp
            case _:
                return web.json_response(error, status=400)


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    server = Echo()
    async with server.server:
        yield server


def build(provider: Provider, url: str, **kw: Any) -> Any:
    fields = {**provider.fields, **kw}
    return create_llm(
        provider.model,
        endpoint=url + provider.path,
        headers={**AWS_HEADERS, **fields.pop("headers", {})},
        retry={"max_retries": 1, "backoff_initial": 0, "backoff_max": 0},
        registry=registry(),
        **fields,
    )


async def run(llm: Any, stream: bool) -> LLMError:
    with pytest.raises(LLMError) as info:
        if stream:
            async for _ in llm.stream_answer("hello"):
                pass
        else:
            await llm.get_answer("hello")
    return info.value


def everything(llm: Any) -> list[Any]:
    """Every object whose repr / str a user may print or log."""
    connector = llm.connector
    out: list[Any] = [llm, connector]
    if isinstance(connector, FailoverConnector):
        for conn in connector.connectors:
            out += [conn, conn.endpoint, conn.endpoint.timeouts, conn.name]
    return out


# -- every provider, every error path ------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
@pytest.mark.parametrize("mode", ["401", "403", "429", "500", "body", "text", "stream"])
async def test_errors_and_logs_never_show_secrets(echo: Echo, provider: Provider, mode: str) -> None:
    echo.mode = mode
    url = echo.server.url
    with captured_logs() as logs:
        async with build(provider, url, backups=[{"endpoint": url.replace("127.0.0.1", "localhost")}]) as llm:
            for stream in (False, True):
                error = await run(llm, stream)
                if mode == "500":  # retried, failed over, every attempt listed
                    assert isinstance(error, AllEndpointsFailedError)
                    assert len({a.endpoint for a in error.attempts}) == 2
                assert_clean(*error_texts(error))
            assert_clean(*everything(llm))
    assert echo.server.seen, "the echo server was never reached"
    assert_clean(*logs)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
async def test_connection_errors_with_secrets_in_the_url_and_proxy(provider: Provider) -> None:
    # Nothing listens on port 9 of 127.0.0.1 (discard): connection refused, directly and via a
    # proxy whose URL holds a password; the endpoint URL carries a secret in its query string.
    url = f"http://127.0.0.1:9?sig={quote(AWS_SECRET, safe='')}"
    proxy = f"http://egress:{PROXY_PASSWORD}@127.0.0.1:9"
    with captured_logs() as logs:
        for kw in ({}, {"proxy": proxy}):
            async with build(provider, url, **kw) as llm:
                for stream in (False, True):
                    error = await run(llm, stream)
                    assert isinstance(error, APIConnectionError), repr(error)
                    assert_clean(*error_texts(error))
                assert_clean(*everything(llm))
    assert_clean(*logs)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_user_info_in_the_endpoint_url(provider: Provider) -> None:
    # Unencoded, the "/" in the password ends the host part: refused, and not quoted.
    with pytest.raises(ConfigurationError) as info:
        build(provider, f"http://user:{AWS_SECRET}@127.0.0.1:9")
    assert_clean(*error_texts(info.value))


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
async def test_user_info_and_an_authorization_header(provider: Provider) -> None:
    # aiohttp refuses to combine URL credentials with an Authorization header: a typed error.
    url = f"http://user:{quote(AWS_SECRET, safe='')}@127.0.0.1:9"
    async with build(provider, url) as llm:
        for stream in (False, True):
            error = await run(llm, stream)
            assert isinstance(error, ConfigurationError | APIConnectionError), repr(error)
            assert_clean(*error_texts(error))


# -- reprs and debug dumps ---------------------------------------------------------------------------


def test_endpoint_config_repr_str_and_validation_errors() -> None:
    config = EndpointConfig(
        endpoint=f"https://me:{quote(AWS_SECRET, safe='')}@api.example.com/v1?key={OPENAI_KEY}",
        api_key=AZURE_KEY,
        token_provider=lambda: BEARER,
        headers={"api-key": AZURE_KEY, **AWS_HEADERS},
        proxy=f"http://egress:{PROXY_PASSWORD}@proxy.corp:3128",
    )
    assert_clean(config, config.display_name, config.timeouts)
    assert config.display_name == "https://api.example.com/v1"
    for bad in (
        {"endpoint": f"ftp://{OPENAI_KEY}"},
        {"endpoint": "https://x", "max_connections": AWS_SECRET},
        {"endpoint": "https://x", "proxy": f"socks5://u:{PROXY_PASSWORD}@p:1"},
        {"endpoint": "https://x", "api_key": AWS_SECRET, "verify_tls": AZURE_KEY},
        {"endpoint": "https://x", "timeouts": {"read": BEARER}},
    ):
        with pytest.raises(ValueError) as info:
            EndpointConfig(**bad)
        assert_clean(*error_texts(info.value))


async def test_connector_model_factory_and_wire_request_reprs(tmp_path: Path) -> None:
    request = WireRequest(
        "chat", {"messages": []}, headers={"Authorization": f"Bearer {BEARER}", **AWS_HEADERS}
    )
    assert_clean(request)
    config = EndpointConfig(endpoint="https://api.example.com/v1", api_key=OPENAI_KEY, headers=AWS_HEADERS)
    async with Connector(config, OpenAIAdapter()) as conn:
        assert_clean(conn)
    path = tmp_path / "llms.toml"
    path.write_text(
        f"""
[models.main]
model = "openai/gpt-4o"
endpoint = "https://api.example.com/v1"
api_key = "{OPENAI_KEY}"
headers = {{ "X-Amz-Secret-Access-Key" = "{AWS_SECRET}" }}
backups = [{{ endpoint = "https://backup.example.com/v1", api_key = "{AZURE_KEY}" }}]
"""
    )
    async with LLMFactory.from_config(path, registry=registry()) as factory:
        assert_clean(factory, load_config(path))
        llm = factory["main"]
        assert_clean(*everything(llm))


@pytest.mark.parametrize(
    "text",
    [
        # a value of the wrong type next to the secrets
        '[models.m]\nmodel = "openai/gpt-4o"\napi_key = "{k}"\nmax_connections = "{a}"\n',
        # an unknown key whose value is a secret
        '[models.m]\nmodel = "openai/gpt-4o"\napi_key = "{k}"\napi_kye = "{a}"\n',
        # a TOML syntax error on the line holding the secret
        '[models.m]\nmodel = "openai/gpt-4o"\napi_key = "{k}" "{a}"\n',
        # a bad proxy URL holding a password
        '[models.m]\nmodel = "openai/gpt-4o"\napi_key = "{k}"\nproxy = "socks5://u:{a}@p:1"\n',
        # a backup with a secret in a wrong-typed field
        '[models.m]\nmodel = "openai/gpt-4o"\napi_key = "{k}"\nbackups = [{{ max_connections = "{a}" }}]\n',
    ],
)
def test_config_file_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "llms.toml"
    path.write_text(text.format(k=OPENAI_KEY, a=AWS_SECRET))
    with captured_logs() as logs, pytest.raises(ConfigurationError) as info:
        factory = LLMFactory.from_config(path, registry=registry())
        factory.get("m")
    assert_clean(*error_texts(info.value), *logs)


def test_yaml_syntax_error_on_a_secret_line(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "llms.yaml"
    path.write_text(
        f'models:\n  m:\n    model: openai/gpt-4o\n    api_key: "{OPENAI_KEY}\n  bad: [{AWS_SECRET}\n'
    )
    with pytest.raises(ConfigurationError) as info:
        load_config(path)
    assert_clean(*error_texts(info.value))


@pytest.mark.parametrize(
    "backup",
    [
        {"endpoint": f"ftp://{AWS_SECRET}"},
        {"max_connections": AWS_SECRET},
        {"api_kye": AWS_SECRET},
        {"timeouts": {"read": OPENAI_KEY}},
        {"proxy": f"gopher://{PROXY_PASSWORD}"},
        AWS_SECRET,
    ],
)
def test_backup_derive_errors(backup: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm(
            "openai/gpt-4o", api_key=OPENAI_KEY, endpoint="https://api.example.com/v1", backups=[backup]
        )
    assert_clean(*error_texts(info.value))
    config = EndpointConfig(endpoint="https://api.example.com/v1", api_key=OPENAI_KEY)
    if isinstance(backup, dict):
        with pytest.raises(ConfigurationError) as info:
            config.derive(backup)
        assert_clean(*error_texts(info.value))


async def test_simulator_request_dump_redacts_credentials() -> None:
    with captured_logs() as logs:
        await _simulator_dump()
    assert_clean(*logs)


async def _simulator_dump() -> None:
    async with Simulator(api_key=OPENAI_KEY) as sim:
        async with create_llm(
            "openai/gpt-4o", endpoint=f"{sim.url}/v1", api_key=OPENAI_KEY, headers=AWS_HEADERS
        ) as llm:
            await llm.get_answer("hello")
        sim.enqueue(Fault(status=401))
        async with create_llm(
            "azure/gpt-4.1-mini",
            endpoint=sim.url,
            token_provider=lambda: BEARER,
            deployment_name="mini",
            api_version="2024-10-21",
            headers={"api-key": AZURE_KEY, "X-Session-Token": AWS_SECRET},
        ) as llm:
            with pytest.raises(LLMError) as info:
                await llm.get_answer("hello")
            assert_clean(*error_texts(info.value))
        async with aiohttp.ClientSession() as session, session.get(f"{sim.url}/_sim/requests") as resp:
            dump = await resp.text()
        assert len(json.loads(dump)) == 2
        assert_clean(dump, sim.requests, [r.to_dict() for r in sim.requests], sim)
        assert "<redacted>" in dump


def test_all_endpoints_failed_error_text() -> None:
    inner = AuthenticationError("bad key sk-***", endpoint="https://a.example/v1", status=401)
    error = AllEndpointsFailedError(
        "all 2 endpoints failed", attempts=[AttemptRecord("https://a.example/v1", 1, inner)]
    )
    assert_clean(*error_texts(error))
