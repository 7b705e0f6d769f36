"""Microsoft Entra ID on Azure OpenAI: EntraTokenProvider (cache, refresh before expiry, never an
expired token, single-flight, sync credentials off the event loop, async credentials, failures
that leak nothing) and credentials given to create_llm (credential=, token_provider=,
azure_ad_token_provider=, "default"), end to end against the simulator."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import pytest
from aiohttp import web
from local_http import serve_locally

from core.llms import create_llm
from core.llms.interfaces import AuthenticationError, ConfigurationError
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.azure import ENTRA_SCOPE, AzureAdapter, AzureSettings, EntraTokenProvider
from core.llms.providers.azure.credentials import (
    FALLBACK_VALIDITY,
    RETRY_AFTER_FAILURE,
    default_credential,
    entra_scope,
)
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.openai import OpenAIAdapter
from core.llms.simulator import Fault, Simulator

#: a token with no recognisable prefix (no "eyJ", no "sk-"): only the redactor can hide it.
CANARY = "q7XnV2pLw9RzT4kYb8HcM3fJd6GsA1eUoP5tQ0"
START = 1_700_000_000.0


class AccessToken(NamedTuple):
    """azure-core's AccessToken shape (azure-identity is not needed by these tests)."""

    token: str
    expires_on: int


class AccessTokenInfo:
    """azure-core's AccessTokenInfo shape: with a refresh_on hint."""

    def __init__(self, token: str, expires_on: int, refresh_on: int | None = None) -> None:
        self.token, self.expires_on, self.refresh_on = token, expires_on, refresh_on


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class SyncCredential:
    """A synchronous credential (like azure.identity.DefaultAzureCredential): token n is
    ``<prefix>-n``, valid ``lifetime`` seconds from the clock's now."""

    def __init__(
        self, clock: Clock | None = None, *, lifetime: float = 3600, prefix: str = CANARY, delay: float = 0.0
    ) -> None:
        self.clock = clock or Clock(time.time())
        self.lifetime = lifetime
        self.prefix = prefix
        self.delay = delay
        self.calls = 0
        self.scopes: list[tuple[str, ...]] = []
        self.threads: list[int] = []
        self.fail: BaseException | None = None

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.calls += 1
        self.scopes.append(scopes)
        self.threads.append(threading.get_ident())
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return AccessToken(f"{self.prefix}-{self.calls}", int(self.clock.now + self.lifetime))


class AsyncCredential(SyncCredential):
    """An async credential (like azure.identity.aio.DefaultAzureCredential)."""

    def __init__(self, *args: Any, gate: asyncio.Event | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = gate

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls += 1
        self.scopes.append(scopes)
        self.threads.append(threading.get_ident())
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return AccessToken(f"{self.prefix}-{self.calls}", int(self.clock.now + self.lifetime))


def fragments(secret: str, size: int = 12) -> list[str]:
    """Every piece of ``secret`` of ``size`` characters (what the redactor masks anywhere)."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def assert_hidden(text: str, secret: str = CANARY) -> None:
    leaked = [piece for piece in fragments(secret) if piece in text]
    assert not leaked, f"a piece of the token leaked: {leaked[:3]}"


# -- the cache ---------------------------------------------------------------------------------


async def test_token_is_kept_until_the_refresh_margin() -> None:
    clock = Clock()
    credential = SyncCredential(clock, lifetime=3600)
    tokens = EntraTokenProvider(credential, clock=clock)  # margin: 300 s
    assert await tokens() == f"{CANARY}-1"
    clock.now = START + 3600 - 301  # 301 s left: kept
    assert await tokens() == f"{CANARY}-1"
    assert credential.calls == 1
    clock.now = START + 3600 - 299  # inside the margin: refreshed before it expires
    assert await tokens() == f"{CANARY}-2"
    assert credential.calls == 2
    assert credential.scopes == [(ENTRA_SCOPE,), (ENTRA_SCOPE,)]


async def test_refresh_margin_is_configurable() -> None:
    clock = Clock()
    credential = SyncCredential(clock, lifetime=3600)
    tokens = EntraTokenProvider(credential, clock=clock, refresh_margin=600)
    assert tokens.refresh_margin == 600.0
    await tokens()
    clock.now = START + 3600 - 601
    assert await tokens() == f"{CANARY}-1"
    clock.now = START + 3600 - 599
    assert await tokens() == f"{CANARY}-2"


async def test_short_lived_token_is_refreshed_at_half_its_life() -> None:
    # a token shorter-lived than the margin is not fetched again on every request
    clock = Clock()
    credential = SyncCredential(clock, lifetime=120)
    tokens = EntraTokenProvider(credential, clock=clock)
    await tokens()
    clock.now = START + 59
    assert await tokens() == f"{CANARY}-1"
    clock.now = START + 61
    assert await tokens() == f"{CANARY}-2"


async def test_never_an_expired_token() -> None:
    clock = Clock()
    credential = SyncCredential(clock, lifetime=600)
    tokens = EntraTokenProvider(credential, clock=clock)
    assert await tokens() == f"{CANARY}-1"
    clock.now = START + 10_000  # long past its expiry (a laptop woke up): a new one first
    assert await tokens() == f"{CANARY}-2"
    # a credential handing out a token that has already expired is refused
    credential.lifetime = -5
    clock.now += 10_000
    with pytest.raises(AuthenticationError, match="returned an expired token"):
        await tokens()


async def test_the_credentials_refresh_on_hint_is_honoured() -> None:
    clock = Clock()

    class Hinting(SyncCredential):
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            self.calls += 1
            return AccessTokenInfo(f"{CANARY}-{self.calls}", int(clock.now + 3600), int(clock.now + 1000))

    credential = Hinting(clock)
    tokens = EntraTokenProvider(credential, clock=clock)
    await tokens()
    clock.now = START + 999
    assert await tokens() == f"{CANARY}-1"
    clock.now = START + 1001
    assert await tokens() == f"{CANARY}-2"


async def test_failed_refresh_keeps_a_still_valid_token_then_fails(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    credential = SyncCredential(clock, lifetime=3600)
    tokens = EntraTokenProvider(credential, clock=clock)
    await tokens()
    credential.fail = RuntimeError(f"token endpoint down; last token {CANARY}")
    clock.now = START + 3600 - 200  # time to refresh; the refresh fails
    with caplog.at_level(logging.WARNING, logger="core.llms.azure"):
        assert await tokens() == f"{CANARY}-1"  # still valid for 200 s: used
    assert credential.calls == 2
    assert "RuntimeError" in caplog.text
    assert_hidden(caplog.text)
    # not asked again before RETRY_AFTER_FAILURE seconds
    clock.now += RETRY_AFTER_FAILURE - 1
    assert await tokens() == f"{CANARY}-1"
    assert credential.calls == 2
    clock.now += 2
    assert await tokens() == f"{CANARY}-1"
    assert credential.calls == 3
    # too close to its expiry: the call fails rather than sending a token about to expire
    clock.now = START + 3600 - FALLBACK_VALIDITY + 1
    with pytest.raises(AuthenticationError):
        await tokens()
    # the credential recovers: a new token
    credential.fail = None
    assert await tokens() == f"{CANARY}-5"


async def test_invalidate_fetches_a_new_token() -> None:
    credential = SyncCredential()
    tokens = EntraTokenProvider(credential)
    await tokens()
    tokens.invalidate()
    assert await tokens() == f"{CANARY}-2"


# -- single flight, threads, async credentials ------------------------------------------------


async def test_single_flight_async_credential_50_concurrent_requests() -> None:
    gate = asyncio.Event()
    credential = AsyncCredential(gate=gate)
    tokens = EntraTokenProvider(credential)
    waiting = [asyncio.ensure_future(tokens()) for _ in range(50)]
    await asyncio.sleep(0.01)
    assert credential.calls == 1  # one refresh in flight, 50 requests waiting for it
    gate.set()
    results = await asyncio.gather(*waiting)
    assert results == [f"{CANARY}-1"] * 50
    assert credential.calls == 1
    # the async credential runs on the event loop's thread (no thread hop needed)
    assert credential.threads == [threading.get_ident()]


async def test_single_flight_sync_credential_runs_off_the_event_loop() -> None:
    credential = SyncCredential(delay=0.2)
    tokens = EntraTokenProvider(credential)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.ensure_future(ticker())
    try:
        results = await asyncio.gather(*(tokens() for _ in range(50)))
    finally:
        beat.cancel()
    assert results == [f"{CANARY}-1"] * 50
    assert credential.calls == 1
    # get_token ran in a worker thread, and the loop kept running while it slept
    assert credential.threads[0] != threading.get_ident()
    assert ticks >= 5


async def test_a_cancelled_request_does_not_cancel_the_shared_refresh() -> None:
    gate = asyncio.Event()
    credential = AsyncCredential(gate=gate)
    tokens = EntraTokenProvider(credential)
    first = asyncio.ensure_future(tokens())
    second = asyncio.ensure_future(tokens())
    await asyncio.sleep(0.01)
    first.cancel()
    gate.set()
    assert await second == f"{CANARY}-1"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert credential.calls == 1
    assert await tokens() == f"{CANARY}-1"  # and it was kept


async def test_concurrent_failures_each_get_their_own_error() -> None:
    gate = asyncio.Event()
    credential = AsyncCredential(gate=gate)
    credential.fail = PermissionError(f"AADSTS700016 client secret {CANARY} is wrong")
    tokens = EntraTokenProvider(credential)
    waiting = [asyncio.ensure_future(tokens()) for _ in range(5)]
    await asyncio.sleep(0.01)
    gate.set()
    errors = await asyncio.gather(*waiting, return_exceptions=True)
    assert credential.calls == 1
    assert all(isinstance(e, AuthenticationError) for e in errors)
    assert len({id(e) for e in errors}) == 5  # filled in per request, never shared


# -- failures and secrets ------------------------------------------------------------------------


async def test_failing_credential_leaks_nothing() -> None:
    credential = SyncCredential()
    credential.fail = ValueError(f"DefaultAzureCredential failed: client_secret={CANARY}")
    tokens = EntraTokenProvider(credential)
    with pytest.raises(AuthenticationError) as info:
        await tokens()
    error = info.value
    assert error.message == "the Entra ID credential SyncCredential could not get a token (ValueError)"
    assert error.hint is not None and "get_token" in error.hint
    for text in (str(error), repr(error), error.hint):
        assert_hidden(text)
    # the credential's exception (and its text) is neither the cause nor the context
    assert error.__cause__ is None and error.__context__ is None


@pytest.mark.parametrize(
    ("returned", "shown"),
    [(None, "NoneType"), ({"token": CANARY}, "dict"), (AccessToken(f"{CANARY}\nX", 2**40), "AccessToken")],
)
async def test_a_credential_returning_no_usable_token(returned: Any, shown: str) -> None:
    class Odd:
        def get_token(self, *scopes: str) -> Any:
            return returned

    with pytest.raises(AuthenticationError) as info:
        await EntraTokenProvider(Odd())()
    assert (
        info.value.message == f"the Entra ID credential Odd returned a {shown}, not an access token "
        "(token, expires_on)"
    )
    assert_hidden(str(info.value))


async def test_reprs_never_show_the_token() -> None:
    credential = SyncCredential()
    tokens = EntraTokenProvider(credential)
    await tokens()
    assert repr(tokens) == f"EntraTokenProvider(credential=SyncCredential, scope='{ENTRA_SCOPE}')"
    assert_hidden(repr(tokens._token))
    endpoint = EndpointConfig(
        endpoint="https://res.openai.azure.com",
        token_provider=credential,
        settings=AzureSettings(deployment_name="d"),
    )
    assert_hidden(repr(endpoint))
    llm = create_llm("azure/gpt-4.1-mini", endpoint="https://res.openai.azure.com", token_provider=tokens)
    assert_hidden(repr(llm))


async def test_a_token_callable_that_raises_is_an_authentication_error() -> None:
    def broken() -> str:
        raise OSError(f"vault unreachable, cached {CANARY}")

    endpoint = EndpointConfig(
        endpoint="https://res.openai.azure.com",
        token_provider=broken,
        settings=AzureSettings(deployment_name="d"),
    )
    with pytest.raises(AuthenticationError) as info:
        await AzureAdapter().auth_headers(endpoint)
    assert info.value.message == "the token_provider of https://res.openai.azure.com failed (OSError)"
    assert info.value.__context__ is None
    assert_hidden(str(info.value))


def test_constructor_checks() -> None:
    with pytest.raises(ConfigurationError, match="must have a get_token"):
        EntraTokenProvider(object())
    with pytest.raises(ConfigurationError, match="refresh_margin"):
        EntraTokenProvider(SyncCredential(), refresh_margin=-1)
    with pytest.raises(ConfigurationError, match="scope"):
        EntraTokenProvider(SyncCredential(), scope="a b")
    # wrapping a provider wraps its credential
    inner = EntraTokenProvider(SyncCredential())
    assert EntraTokenProvider(inner).credential is inner.credential


def test_sovereign_cloud_scopes() -> None:
    assert entra_scope("https://res.openai.azure.com") == ENTRA_SCOPE
    assert entra_scope("https://res.openai.azure.us/") == "https://cognitiveservices.azure.us/.default"
    assert entra_scope("https://res.openai.azure.cn") == "https://cognitiveservices.azure.cn/.default"


def test_importing_the_provider_never_imports_azure_identity() -> None:
    code = (
        "import sys, core.llms, core.llms.providers.azure.credentials\n"
        "from core.llms import create_llm\n"
        "create_llm('azure/gpt-4.1-mini', endpoint='https://r.openai.azure.com', api_key='k' * 20)\n"
        "assert not [m for m in sys.modules if m.startswith('azure')], 'azure imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_default_credential_without_azure_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # import fails as when not installed
    with pytest.raises(ConfigurationError) as info:
        default_credential()
    assert info.value.hint is not None and "pip install 'core-llms[azure]'" in info.value.hint
    with pytest.raises(ConfigurationError, match="needs the azure-identity package"):
        create_llm("azure/gpt-4.1-mini", endpoint="https://res.openai.azure.com", credential="default")
    with pytest.raises(ConfigurationError, match="needs the azure-identity package"):
        EntraTokenProvider("default")


def test_default_credential_with_azure_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    identity = pytest.importorskip("azure.identity")
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    llm = create_llm("azure/gpt-4.1-mini", endpoint="https://res.openai.azure.com", credential="default")
    (connector,) = llm.connector.connectors  # type: ignore[attr-defined]
    assert isinstance(connector.endpoint.token_provider, identity.DefaultAzureCredential)
    assert connector.endpoint.api_key is None


# -- create_llm and the wire ---------------------------------------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=f"{CANARY}-1") as simulator:  # the first token is the valid one
        yield simulator


@pytest.mark.parametrize("keyword", ["credential", "token_provider"])
async def test_credential_end_to_end(sim: Simulator, monkeypatch: pytest.MonkeyPatch, keyword: str) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "an-api-key-not-to-be-sent")
    credential = SyncCredential()
    llm = create_llm("azure/gpt-4.1-mini", endpoint=sim.url, deployment_name="mini", **{keyword: credential})
    async with llm:
        for question in ("one", "two", "three"):
            response = await llm.get_answer(question)
            assert response.text == f"Simulated answer to: {question}"
        chunks = [c async for c in llm.stream_answer("four")]
    assert "".join(c.text for c in chunks) == "Simulated answer to: four"
    assert credential.calls == 1  # one token for every request
    assert credential.scopes == [(ENTRA_SCOPE,)]
    for request in sim.requests:
        assert request.headers["authorization"] == f"Bearer {CANARY}-1"
        assert "api-key" not in request.headers
        assert request.path == "/openai/deployments/mini/chat/completions"


async def test_async_credential_end_to_end(sim: Simulator) -> None:
    credential = AsyncCredential()
    async with create_llm("azure/gpt-4.1-mini", endpoint=sim.url, credential=credential) as llm:
        await llm.get_answer("hi")
        await llm.get_answer("again")
    assert credential.calls == 1
    assert sim.requests[1].headers["authorization"] == f"Bearer {CANARY}-1"


async def test_azure_ad_token_provider_is_a_token_callable(sim: Simulator) -> None:
    async def provider() -> str:
        return f"{CANARY}-1"

    async with create_llm("azure/gpt-4.1-mini", endpoint=sim.url, azure_ad_token_provider=provider) as llm:
        await llm.get_answer("hi")
    assert sim.requests[0].headers["authorization"] == f"Bearer {CANARY}-1"


def test_one_credential_keyword_only() -> None:
    with pytest.raises(ConfigurationError, match="give one of token_provider, credential"):
        create_llm(
            "azure/gpt-4.1-mini",
            endpoint="https://res.openai.azure.com",
            credential=SyncCredential(),
            token_provider=lambda: "t" * 20,
        )


async def test_credential_objects_only_for_providers_that_take_them() -> None:
    with pytest.raises(ConfigurationError, match=r"credential object .* which openai does not take"):
        create_llm("openai/gpt-4.1-mini", credential=SyncCredential())
    # an EndpointConfig built by hand for another provider fails at the first request, typed
    endpoint = EndpointConfig(endpoint="https://api.openai.com/v1", token_provider=SyncCredential())
    with pytest.raises(ConfigurationError, match="a credential object: this provider needs a callable"):
        await OpenAIAdapter().auth_headers(endpoint)


async def test_one_cached_provider_per_credential_shared_by_endpoints() -> None:
    credential = SyncCredential()
    adapter = AzureAdapter()
    east = EndpointConfig(
        endpoint="https://east.openai.azure.com",
        token_provider=credential,
        settings=AzureSettings(deployment_name="d"),
    )
    west = east.derive({"endpoint": "https://west.openai.azure.com", "deployment_name": "w"})
    assert await adapter.auth_headers(east) == {"Authorization": f"Bearer {CANARY}-1"}
    assert await adapter.auth_headers(west) == {"Authorization": f"Bearer {CANARY}-1"}
    assert credential.calls == 1
    assert adapter.entra_provider(east, credential) is adapter.entra_provider(west, credential)


async def test_failing_credential_end_to_end_sends_nothing(sim: Simulator) -> None:
    credential = SyncCredential()
    credential.fail = RuntimeError(f"no managed identity; stale {CANARY}")
    async with create_llm("azure/gpt-4.1-mini", endpoint=sim.url, credential=credential) as llm:
        with pytest.raises(AuthenticationError) as info:
            await llm.get_answer("hi")
    assert (info.value.provider, info.value.endpoint) == ("azure", sim.url)
    assert_hidden(str(info.value))
    assert sim.request_count == 0  # no request without a token, and no retry


async def test_a_token_echoed_by_the_server_is_masked() -> None:
    """A gateway that quotes the request's Authorization header in its 401: the token (learnt by
    the connector's redactor from the auth header) is masked in the error and its body."""

    async def echo(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        body = {"error": {"code": "401", "message": f"Token rejected: {header} (token {header[7:19]}...)"}}
        return web.json_response(body, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner, port = await serve_locally(app, access_log=None)
    try:
        credential = SyncCredential()
        url = f"http://127.0.0.1:{port}"
        async with create_llm("azure/gpt-4.1-mini", endpoint=url, credential=credential) as llm:
            with pytest.raises(AuthenticationError) as info:
                await llm.get_answer("hi")
    finally:
        await runner.cleanup()
    error = info.value
    assert "Token rejected" in error.message
    assert_hidden(str(error))
    assert_hidden(repr(error))
    assert_hidden(repr(error.body))


async def test_backup_with_its_own_api_key_does_not_use_the_primarys_token() -> None:
    async with (
        Simulator(api_key=f"{CANARY}-1") as primary,
        Simulator(api_key="backup-api-key-0123") as backup,
    ):
        primary.set_default_fault(Fault(status=503))
        credential = SyncCredential()
        llm = create_llm(
            "azure/gpt-4.1-mini",
            endpoint=primary.url,
            credential=credential,
            backups=[{"endpoint": backup.url, "api_key": "backup-api-key-0123"}],
            retry={"max_retries": 0},
        )
        async with llm:
            response = await llm.get_answer("hi")
        assert response.endpoint == backup.url
        (request,) = backup.requests
        assert request.headers["api-key"] == "backup-api-key-0123"
        assert "authorization" not in request.headers
        assert primary.requests[0].headers["authorization"] == f"Bearer {CANARY}-1"


async def test_failover_connector_with_credential_endpoints(sim: Simulator) -> None:
    config = EndpointConfig(
        endpoint=sim.url, token_provider=SyncCredential(), settings=AzureSettings(deployment_name="dep")
    )
    connector = FailoverConnector.from_endpoints(AzureAdapter(), config)
    async with connector:
        (conn,) = connector.connectors
        assert conn.endpoint.token_provider is config.token_provider
