"""Google credentials for Vertex AI: GoogleTokenProvider (refreshed off the event loop with a
google-auth transport request, cached until shortly before expiry, single-flight, never an expired
token, failures that leak nothing), Application Default Credentials and credentials files, and a
real service-account key file whose token exchange goes to a local fake token endpoint."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from local_http import serve_locally

from core.llms.interfaces import AuthenticationError, ConfigurationError
from core.llms.providers.vertex import CLOUD_PLATFORM_SCOPE, GoogleTokenProvider
from core.llms.providers.vertex.credentials import (
    FALLBACK_VALIDITY,
    RETRY_AFTER_FAILURE,
    UNKNOWN_EXPIRY_LIFETIME,
)

#: a token with no recognisable prefix: only the redactor can hide it.
CANARY = "Zq8RtV3nLw6PxK2mYb9HcD4fJs7GaT1eUo"
START = 1_800_000_000.0


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def naive_utc(seconds: float) -> datetime.datetime:
    """google-auth's ``expiry``: a naive datetime in UTC."""
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).replace(tzinfo=None)


class FakeCredentials:
    """A google-auth credentials object: ``refresh(request)`` sets ``token`` (``<prefix>-n``) and
    ``expiry`` (``lifetime`` seconds from the clock's now), after ``delay`` seconds."""

    def __init__(
        self, clock: Clock, *, lifetime: float = 3600, delay: float = 0.0, quota: str | None = None
    ) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.delay = delay
        self.token: str | None = None
        self.expiry: datetime.datetime | None = None
        self.quota_project_id = quota
        self.calls = 0
        self.threads: list[int] = []
        self.requests: list[Any] = []
        self.fail: BaseException | None = None

    def refresh(self, request: Any) -> None:
        self.calls += 1
        self.threads.append(threading.get_ident())
        self.requests.append(request)
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        self.token = f"{CANARY}-{self.calls}"
        self.expiry = naive_utc(self.clock.now + self.lifetime)


def provider(credentials: Any, clock: Clock, **kw: Any) -> GoogleTokenProvider:
    return GoogleTokenProvider(credentials, clock=clock, **kw)


async def test_refreshed_in_a_worker_thread_with_a_google_auth_request() -> None:
    from google.auth.transport.requests import Request

    clock = Clock()
    creds = FakeCredentials(clock)
    tokens = provider(creds, clock)
    assert await tokens() == f"{CANARY}-1"
    assert creds.threads[0] != threading.get_ident()  # never on the event loop's thread
    assert isinstance(creds.requests[0], Request)


async def test_kept_until_the_refresh_margin_then_refreshed() -> None:
    clock = Clock()
    creds = FakeCredentials(clock, lifetime=3600)
    tokens = provider(creds, clock, refresh_margin=300)
    assert await tokens() == f"{CANARY}-1"
    clock.now += 3600 - 301
    assert await tokens() == f"{CANARY}-1" and creds.calls == 1
    clock.now += 2  # inside the margin: refreshed before it expires
    assert await tokens() == f"{CANARY}-2" and creds.calls == 2


async def test_a_short_lived_token_is_kept_for_half_its_life() -> None:
    clock = Clock()
    creds = FakeCredentials(clock, lifetime=120)
    tokens = provider(creds, clock, refresh_margin=300)
    await tokens()
    clock.now += 59
    assert await tokens() == f"{CANARY}-1"
    clock.now += 2
    assert await tokens() == f"{CANARY}-2"


async def test_single_flight() -> None:
    clock = Clock()
    creds = FakeCredentials(clock, delay=0.05)
    tokens = provider(creds, clock)
    results = await asyncio.gather(*(tokens() for _ in range(20)))
    assert set(results) == {f"{CANARY}-1"} and creds.calls == 1


async def test_a_cancelled_waiter_does_not_cancel_the_refresh() -> None:
    clock = Clock()
    creds = FakeCredentials(clock, delay=0.05)
    tokens = provider(creds, clock)
    first = asyncio.ensure_future(tokens())
    second = asyncio.ensure_future(tokens())
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == f"{CANARY}-1" and creds.calls == 1


async def test_never_an_expired_token() -> None:
    clock = Clock()
    creds = FakeCredentials(clock, lifetime=-5)  # the source hands out an already expired token
    with pytest.raises(AuthenticationError, match="expired token"):
        await provider(creds, clock)()
    # every token handed out is valid for at least the margin (or half its life) when handed out
    creds = FakeCredentials(clock, lifetime=1000)
    tokens = provider(creds, clock, refresh_margin=300)
    for _ in range(40):
        value = await tokens()
        expiry = creds.expiry.replace(tzinfo=datetime.UTC).timestamp() if creds.expiry else 0
        assert value == creds.token and expiry - clock.now > 0
        clock.now += 97


async def test_a_failed_refresh_falls_back_on_a_token_still_valid() -> None:
    clock = Clock()
    creds = FakeCredentials(clock, lifetime=3600)
    tokens = provider(creds, clock, refresh_margin=300)
    await tokens()
    clock.now += 3400  # due for a refresh, 200 s left
    creds.fail = OSError("token endpoint down")
    assert await tokens() == f"{CANARY}-1"
    assert creds.calls == 2
    clock.now += RETRY_AFTER_FAILURE - 1
    assert await tokens() == f"{CANARY}-1" and creds.calls == 2  # not retried at once
    clock.now += 2
    creds.fail = None
    assert await tokens() == f"{CANARY}-3"


async def test_a_failed_refresh_without_a_usable_token_is_an_authentication_error() -> None:
    clock = Clock()
    creds = FakeCredentials(clock, lifetime=3600)
    tokens = provider(creds, clock, refresh_margin=300)
    await tokens()
    clock.now += 3600 - FALLBACK_VALIDITY + 1
    creds.fail = RuntimeError(f"invalid_grant for {CANARY} account x@y.iam")
    with pytest.raises(AuthenticationError) as info:
        await tokens()
    text = f"{info.value} {info.value.hint} {info.value!r}"
    assert "RuntimeError" in text and CANARY not in text and "x@y" not in text
    assert info.value.__cause__ is None and info.value.__context__ is None


async def test_no_token_after_a_refresh() -> None:
    clock = Clock()

    class Empty(FakeCredentials):
        def refresh(self, request: Any) -> None:
            self.token = None

    with pytest.raises(AuthenticationError, match="no usable access token"):
        await provider(Empty(clock), clock)()


async def test_a_token_without_an_expiry_is_refreshed_after_a_while() -> None:
    clock = Clock()

    class NoExpiry(FakeCredentials):
        def refresh(self, request: Any) -> None:
            super().refresh(request)
            self.expiry = None

    creds = NoExpiry(clock)
    tokens = provider(creds, clock)
    await tokens()
    clock.now += UNKNOWN_EXPIRY_LIFETIME - 1
    assert await tokens() == f"{CANARY}-1"
    clock.now += 2
    assert await tokens() == f"{CANARY}-2"


def test_nothing_secret_in_the_repr() -> None:
    clock = Clock()
    tokens = provider(FakeCredentials(clock), clock)
    assert repr(tokens) == "GoogleTokenProvider(FakeCredentials)"
    assert repr(GoogleTokenProvider()) == "GoogleTokenProvider(application default credentials)"
    asyncio.run(tokens())
    assert CANARY not in repr(tokens) and CANARY not in repr(tokens._token)


def test_bad_arguments() -> None:
    with pytest.raises(ConfigurationError, match="refresh"):
        GoogleTokenProvider(object())
    with pytest.raises(ConfigurationError, match="refresh_margin"):
        GoogleTokenProvider(refresh_margin=-1)
    with pytest.raises(ConfigurationError, match="scopes"):
        GoogleTokenProvider(scopes="https://x")


async def test_application_default_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth

    clock = Clock()
    creds = FakeCredentials(clock, quota="billing-project")
    seen: list[Any] = []

    def default(scopes: Any = None, **kwargs: Any) -> Any:
        seen.append((scopes, threading.get_ident()))
        return creds, "adc-project"

    monkeypatch.setattr(google.auth, "default", default)
    tokens = GoogleTokenProvider(clock=clock)
    assert await tokens() == f"{CANARY}-1"
    assert seen[0][0] == [CLOUD_PLATFORM_SCOPE] and seen[0][1] != threading.get_ident()
    assert tokens.credentials is creds and tokens.quota_project == "billing-project"


async def test_no_application_default_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    def default(scopes: Any = None, **kwargs: Any) -> Any:
        raise DefaultCredentialsError("Your default credentials were not found at /home/secret/path")

    monkeypatch.setattr(google.auth, "default", default)
    with pytest.raises(AuthenticationError) as info:
        await GoogleTokenProvider()()
    assert "DefaultCredentialsError" in info.value.message and "/home/secret" not in str(info.value)
    assert "gcloud auth application-default login" in (info.value.hint or "")


async def test_without_google_auth_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.auth.transport.requests", None)  # import fails
    clock = Clock()
    with pytest.raises(ConfigurationError, match="google-auth") as info:
        await provider(FakeCredentials(clock), clock)()
    assert "core-llms[vertex]" in (info.value.hint or "")


# -- a real service-account key, exchanged at a local fake token endpoint ---------------------------


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class FakeTokenEndpoint:
    """Google's OAuth token endpoint for the JWT-bearer grant: verifies the assertion's RS256
    signature with the service account's public key and its claims, then issues a token."""

    def __init__(self, public_key: Any, *, lifetime: int = 3600) -> None:
        self.public_key = public_key
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.claims: list[dict[str, Any]] = []
        self.threads: list[int] = []
        self.url = ""
        self._runner: Any = None

    async def handle(self, request: web.Request) -> web.Response:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        header, claims, signature = str(form["assertion"]).split(".")
        try:
            self.public_key.verify(
                b64url_decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, status=400
            )
        decoded = json.loads(b64url_decode(claims))
        self.claims.append(decoded)
        token = f"ya29.fake-{len(self.issued) + 1}-{CANARY}"
        self.issued.append(token)
        return web.json_response({"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"})

    async def __aenter__(self) -> FakeTokenEndpoint:
        app = web.Application()
        app.router.add_post("/token", self.handle)
        self._runner, port = await serve_locally(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}/token"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


def service_account_file(tmp_path: Path, token_uri: str, *, project: str = "sa-project") -> tuple[Path, Any]:
    """A service-account key file (a fresh RSA key) whose token exchange goes to ``token_uri``;
    returns its path and the public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": f"tester@{project}.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(info))
    return path, key.public_key()


async def test_a_service_account_file_exchanges_a_signed_jwt(tmp_path: Path) -> None:
    async with FakeTokenEndpoint(None) as endpoint:
        path, public_key = service_account_file(tmp_path, endpoint.url)
        endpoint.public_key = public_key
        tokens = GoogleTokenProvider(credentials_file=str(path))
        first, second = await asyncio.gather(tokens(), tokens())
        assert first == second == endpoint.issued[0] and len(endpoint.issued) == 1
        (claims,) = endpoint.claims
        assert claims["iss"] == "tester@sa-project.iam.gserviceaccount.com"
        assert claims["scope"] == CLOUD_PLATFORM_SCOPE
        assert claims["aud"] == "https://oauth2.googleapis.com/token"  # google-auth's audience
        assert await tokens() == first  # kept


async def test_a_wrong_key_is_refused_by_the_token_endpoint(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    async with FakeTokenEndpoint(None) as endpoint:
        path, _ = service_account_file(tmp_path, endpoint.url)
        endpoint.public_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        with pytest.raises(AuthenticationError) as info:
            await GoogleTokenProvider(credentials_file=str(path))()
    assert "RefreshError" in info.value.message and "Invalid JWT" not in str(info.value)


async def test_a_missing_credentials_file() -> None:
    with pytest.raises(AuthenticationError, match="credentials file") as info:
        await GoogleTokenProvider(credentials_file="/nonexistent/key.json")()
    assert "DefaultCredentialsError" in info.value.message


async def test_a_service_account_file_end_to_end(tmp_path: Path) -> None:
    """create_llm with credentials_file=: the key signs a JWT, the local token endpoint checks it and
    issues a token, and the simulator (accepting only that token) answers."""
    from core.llms import create_llm
    from core.llms.simulator import Simulator

    async with FakeTokenEndpoint(None) as endpoint:
        path, endpoint.public_key = service_account_file(tmp_path, endpoint.url)
        expected = f"ya29.fake-1-{CANARY}"
        async with Simulator(api_key=expected) as sim:
            llm = create_llm(
                "vertex/gemini-2.5-pro", project="sa-project", endpoint=sim.url, credentials_file=str(path)
            )
            async with llm:
                answers = await asyncio.gather(*(llm.get_answer(f"q{i}") for i in range(5)))
                chunks = [c async for c in llm.stream_answer("streamed")]
            assert [a.text for a in answers] == [f"Simulated answer to: q{i}" for i in range(5)]
            assert chunks[-1].finish_reason == "stop"
            assert endpoint.issued == [expected]  # one exchange for six calls
            assert {r.headers["authorization"] for r in sim.requests} == {f"Bearer {expected}"}
            assert all("/projects/sa-project/locations/us-central1/" in r.path for r in sim.requests)
            # a token the simulator rejects never shows in the error
            other = create_llm(
                "vertex/gemini-2.5-pro",
                project="sa-project",
                endpoint=sim.url,
                token_provider=lambda: f"ya29.wrong-{CANARY}",
            )
            async with other:
                with pytest.raises(AuthenticationError) as info:
                    await other.get_answer("hi")
            assert CANARY not in str(info.value) and CANARY not in repr(info.value)
