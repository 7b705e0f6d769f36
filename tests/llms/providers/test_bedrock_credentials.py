"""AWS credentials for Bedrock: resolved and refreshed in a worker thread (never on the event
loop), cached, single-flight, assumed roles (chained), and failures that name no secret."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from security.support import PLAIN_KEY, assert_no_key_fragment, everything_shown

from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.interfaces.errors import AuthenticationError, ConfigurationError, LLMError
from core.llms.providers.bedrock import AwsCredentialProvider, BedrockAdapter, BedrockSettings, CredentialSpec
from core.llms.providers.bedrock.credentials import FALLBACK_VALIDITY

pytest.importorskip("botocore")
from botocore.credentials import RefreshableCredentials

AKID = "AKIAEXAMPLEKEY000001"
#: a secret access key made of the canary: no 12-character piece of it may show anywhere.
SECRET = PLAIN_KEY
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE" + PLAIN_KEY[::-1]


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No credentials, profiles or metadata services from the machine running the tests."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


class Clock:
    """A fake clock for both the provider and botocore's refreshable credentials."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def utc(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now, dt.UTC)


class FakeSession:
    """A botocore session stand-in: its ``get_credentials`` runs ``make`` (and records the
    thread), ``create_client("sts", ...)`` returns a fake STS client."""

    def __init__(self, make: Callable[[], Any], delay: float = 0.0) -> None:
        self.make = make
        self.delay = delay
        self.threads: list[int] = []
        self.clients: list[dict[str, Any]] = []
        self.assumed: list[dict[str, Any]] = []

    def get_credentials(self) -> Any:
        self.threads.append(threading.get_ident())
        if self.delay:
            time.sleep(self.delay)
        return self.make()

    def create_client(self, service: str, **kwargs: Any) -> Any:
        self.clients.append({"service": service, **kwargs})
        session = self

        class STS:
            def assume_role(self, **request: Any) -> dict[str, Any]:
                session.assumed.append({**request, "caller": kwargs.get("aws_access_key_id")})
                n = len(session.assumed)
                return {
                    "Credentials": {
                        "AccessKeyId": f"ASIAROLE{n}",
                        "SecretAccessKey": f"role-secret-{n}",
                        "SessionToken": f"role-token-{n}",
                        "Expiration": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
                    },
                    "AssumedRoleUser": {"Arn": f"{request['RoleArn']}/s"},
                }

        return STS()


def static(access: str = AKID, secret: str = SECRET, token: str | None = None) -> Any:
    from botocore.credentials import Credentials

    return Credentials(access, secret, token)


def provider_with(
    session: FakeSession, spec: CredentialSpec | None = None, **kw: Any
) -> AwsCredentialProvider:
    return AwsCredentialProvider(spec or CredentialSpec(), session_factory=lambda profile: session, **kw)


async def test_credentials_are_resolved_in_a_worker_thread_and_cached() -> None:
    session = FakeSession(static)
    provider = provider_with(session)
    first = await provider()
    second = await provider()
    assert first is second and (first.access_key, first.secret_key, first.token) == (AKID, SECRET, None)
    assert len(session.threads) == 1 and session.threads[0] != threading.get_ident()
    assert first.expires_at is None  # static keys never expire


async def test_fifty_concurrent_requests_share_one_resolution() -> None:
    session = FakeSession(static, delay=0.05)
    provider = provider_with(session)
    results = await asyncio.gather(*(provider() for _ in range(50)))
    assert len(session.threads) == 1
    assert all(r is results[0] for r in results)


async def test_the_default_chain_reads_the_environment_in_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    import botocore.session

    threads: list[int] = []
    real = botocore.session.Session.get_credentials

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "get_credentials", spy)
    creds = await AwsCredentialProvider(CredentialSpec())()
    assert (creds.access_key, creds.secret_key, creds.token) == (AKID, SECRET, TOKEN)
    assert threads and all(t != threading.get_ident() for t in threads)


async def test_explicit_keys_win_over_the_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-the-environment")
    settings = BedrockSettings(region="us-east-1", aws_access_key_id=AKID, aws_secret_access_key=SECRET)
    creds = await AwsCredentialProvider(CredentialSpec.from_settings(settings))()
    assert (creds.access_key, creds.secret_key) == (AKID, SECRET)


async def test_a_shared_profile_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(
        f"[team]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"
    )
    creds = await AwsCredentialProvider(CredentialSpec(profile="team"))()
    assert creds.access_key == AKID


async def test_refreshable_credentials_are_refreshed_before_expiry_off_the_loop() -> None:
    clock = Clock()
    refreshes: list[int] = []

    def refresh() -> dict[str, Any]:
        refreshes.append(threading.get_ident())
        n = len(refreshes)
        return {
            "access_key": f"ASIAREFRESHED{n}",
            "secret_key": f"secret-{n}",
            "token": f"token-{n}",
            "expiry_time": (clock.utc() + dt.timedelta(hours=1)).isoformat(),
        }

    initial = RefreshableCredentials(
        "ASIAFIRST", "secret-0", "token-0", clock.utc() + dt.timedelta(hours=1), refresh, "test",
        time_fetcher=clock.utc,
    )  # fmt: skip
    session = FakeSession(lambda: initial)
    provider = provider_with(session, clock=clock)
    first = await provider()
    assert first.access_key == "ASIAFIRST" and first.expires_at == pytest.approx(clock.now + 3600, abs=1)

    clock.now += 40 * 60  # 20 minutes left: not yet due (15 minutes before expiry)
    assert await provider() is first and refreshes == []

    clock.now += 6 * 60  # 14 minutes left: due
    results = await asyncio.gather(*(provider() for _ in range(50)))
    assert {r.access_key for r in results} == {"ASIAREFRESHED1"}
    assert len(refreshes) == 1 and refreshes[0] != threading.get_ident()
    assert results[0].expires_at == pytest.approx(clock.now + 3600, abs=1)
    assert len(session.threads) == 1  # the chain was resolved once; botocore refreshed its credentials


async def test_a_failed_refresh_keeps_the_current_credentials_until_they_nearly_expire() -> None:
    clock = Clock()
    calls: list[int] = []

    def refresh() -> dict[str, Any]:
        calls.append(1)
        raise RuntimeError(f"STS said no to {SECRET}")

    initial = RefreshableCredentials(
        "ASIAFIRST", SECRET, TOKEN, clock.utc() + dt.timedelta(minutes=20), refresh, "test",
        time_fetcher=clock.utc,
    )  # fmt: skip
    provider = provider_with(FakeSession(lambda: initial), clock=clock)
    first = await provider()
    clock.now += 12 * 60  # 8 minutes left: botocore's mandatory refresh raises
    assert await provider() is first and calls
    clock.now += 8 * 60 - FALLBACK_VALIDITY / 2  # nearly expired, and the refresh still fails
    with pytest.raises(AuthenticationError) as info:
        await provider()
    assert_no_key_fragment(*everything_shown(info.value))


async def test_an_assumed_role_chain_uses_each_roles_session_in_the_endpoints_region() -> None:
    session = FakeSession(static)
    settings = BedrockSettings(
        region="eu-west-1",
        role_arn=["arn:aws:iam::111111111111:role/first", "arn:aws:iam::222222222222:role/second"],
        role_session_name="batch",
        external_id="ext-1",
    )
    provider = provider_with(session, CredentialSpec.from_settings(settings))
    creds = await provider()
    assert (creds.access_key, creds.secret_key, creds.token) == ("ASIAROLE2", "role-secret-2", "role-token-2")
    assert creds.expires_at is not None and creds.expires_at > time.time() + 3000
    assert [a["RoleArn"] for a in session.assumed] == list(settings.roles)
    assert [a["caller"] for a in session.assumed] == [AKID, "ASIAROLE1"]  # chained
    assert all(a["RoleSessionName"] == "batch" and a["ExternalId"] == "ext-1" for a in session.assumed)
    assert all(c["service"] == "sts" and c["region_name"] == "eu-west-1" for c in session.clients)
    assert all(c["aws_session_token"] == "role-token-1" for c in session.clients[1:])


async def test_no_credentials_is_an_authentication_error_with_a_hint() -> None:
    provider = AwsCredentialProvider(CredentialSpec())
    with pytest.raises(AuthenticationError) as info:
        await provider()
    assert "no AWS credentials found" in info.value.message
    assert "AWS_PROFILE" in (info.value.hint or "") and "AWS_BEARER_TOKEN_BEDROCK" in (info.value.hint or "")


async def test_an_unknown_profile_is_a_configuration_error_naming_it() -> None:
    with pytest.raises(ConfigurationError) as info:
        await AwsCredentialProvider(CredentialSpec(profile="nope"))()
    assert "'nope'" in info.value.message


async def test_missing_botocore_is_a_configuration_error_with_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "botocore.credentials", None)  # import fails
    with pytest.raises(ConfigurationError) as info:
        await AwsCredentialProvider(CredentialSpec(access_key_id=AKID))()
    assert "botocore" in info.value.message and "core-llms[bedrock]" in (info.value.hint or "")


@pytest.mark.parametrize("kind", ["chain", "role"])
async def test_failures_name_no_secret(kind: str) -> None:
    """The exception botocore raises may quote what it holds: only its type or code is reported."""

    class ClientError(Exception):
        def __init__(self) -> None:
            super().__init__(f"AccessDenied for key {SECRET} token {TOKEN}")
            self.response = {"Error": {"Code": "AccessDenied", "Message": f"denied {SECRET}"}}

    class Leaky(FakeSession):
        def create_client(self, service: str, **kwargs: Any) -> Any:
            class STS:
                def assume_role(self, **request: Any) -> Any:
                    raise ClientError

            return STS()

    def boom() -> Any:
        raise ValueError(f"could not parse {SECRET}")

    if kind == "chain":
        provider = provider_with(FakeSession(boom))
    else:
        spec = CredentialSpec(
            access_key_id=AKID,
            secret_access_key=BedrockSettings(
                region="us-east-1", aws_access_key_id=AKID, aws_secret_access_key=SECRET
            ).aws_secret_access_key,  # type: ignore[arg-type]
            roles=("arn:aws:iam::111111111111:role/r",),
            sts_region="us-east-1",
        )
        provider = provider_with(Leaky(static), spec)
    with pytest.raises(LLMError) as info:
        await provider()
    assert isinstance(info.value, AuthenticationError)
    shown = everything_shown(info.value)
    assert_no_key_fragment(*shown, repr(provider), repr(provider.spec))
    assert TOKEN not in " ".join(shown)
    if kind == "role":
        assert "AccessDenied" in info.value.message and "role/r" in info.value.message


async def test_the_adapter_shares_one_provider_per_identity_across_regions() -> None:
    adapter = BedrockAdapter(session_factory=lambda profile: FakeSession(static))
    keys = {"aws_access_key_id": AKID, "aws_secret_access_key": SECRET}
    east = EndpointConfig(endpoint="https://a.example", settings=BedrockSettings(region="us-east-1", **keys))
    west = EndpointConfig(endpoint="https://b.example", settings=BedrockSettings(region="us-west-2", **keys))
    other = EndpointConfig(
        endpoint="https://b.example", settings=BedrockSettings(region="us-west-2", profile="p")
    )
    assert adapter.credentials_for(east) is adapter.credentials_for(west)
    assert adapter.credentials_for(other) is not adapter.credentials_for(east)
    # roles are assumed in each endpoint's region: one provider per region then
    role = "arn:aws:iam::111111111111:role/r"
    east_role = east.replace(settings=BedrockSettings(region="us-east-1", role_arn=role, **keys))
    west_role = west.replace(settings=BedrockSettings(region="us-west-2", role_arn=role, **keys))
    assert adapter.credentials_for(east_role) is not adapter.credentials_for(west_role)


async def test_sign_request_never_blocks_the_loop_on_credentials() -> None:
    """While the credentials are resolved (slowly, in a thread), the event loop keeps running."""
    session = FakeSession(static, delay=0.2)
    adapter = BedrockAdapter(session_factory=lambda profile: session)
    endpoint = EndpointConfig(endpoint="https://a.example", settings=BedrockSettings(region="us-east-1"))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        signed = await adapter.sign_request(
            endpoint, "POST", "https://a.example/model/m.x/converse", {}, b"{}"
        )
    finally:
        task.cancel()
    assert ticks >= 5 and signed["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=" + AKID)
