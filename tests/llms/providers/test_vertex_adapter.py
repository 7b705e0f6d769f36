"""The URL and auth rules of Vertex AI (and of the Gemini API, which shares the operation table):
every operation's URL, regional / global / multi-region hosts, custom endpoints, resource names,
settings and their environment variables, backups per location, auth precedence."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from core.llms import create_llm
from core.llms.interfaces import ConfigurationError, UnsupportedOperationError
from core.llms.interfaces.endpoint import EndpointConfig
from core.llms.providers.dialects.gemini.adapter import OPERATIONS, gemini_url, vertex_host, vertex_url
from core.llms.providers.gemini import GeminiAdapter
from core.llms.providers.vertex import VertexAdapter, VertexSettings

ROOT = "https://generativelanguage.googleapis.com/v1beta"
MODEL = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "VERTEX_AI_ENDPOINT",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GEMINI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("operation", "gemini", "vertex"),
    [
        ("generate", "/models/gemini-2.5-flash:generateContent", ":generateContent"),
        (
            "stream_generate",
            "/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            ":streamGenerateContent?alt=sse",
        ),
        ("count_tokens", "/models/gemini-2.5-flash:countTokens", ":countTokens"),
        ("predict", "/models/gemini-2.5-flash:predict", ":predict"),
        ("predict_long_running", "/models/gemini-2.5-flash:predictLongRunning", ":predictLongRunning"),
        ("operation", "", ":fetchPredictOperation"),
        ("embed", "/models/gemini-2.5-flash:embedContent", ":predict"),
        ("batch_embed", "/models/gemini-2.5-flash:batchEmbedContents", ":predict"),
    ],
)
def test_the_operation_table(operation: str, gemini: str, vertex: str) -> None:
    assert operation in OPERATIONS
    assert gemini_url(ROOT, operation, "gemini-2.5-flash") == ROOT + gemini
    url = vertex_url(
        "https://us-central1-aiplatform.googleapis.com",
        operation,
        "gemini-2.5-flash",
        project="p",
        location="us-central1",
    )
    assert url == "https://us-central1-aiplatform.googleapis.com" + MODEL + vertex


def test_an_unknown_operation() -> None:
    with pytest.raises(UnsupportedOperationError, match="known: generate"):
        gemini_url(ROOT, "images", "m")


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("us-central1", "https://us-central1-aiplatform.googleapis.com"),
        ("europe-west4", "https://europe-west4-aiplatform.googleapis.com"),
        ("global", "https://aiplatform.googleapis.com"),
        ("us", "https://aiplatform.us.rep.googleapis.com"),
        ("eu", "https://aiplatform.eu.rep.googleapis.com"),
    ],
)
def test_hosts_follow_the_location(location: str, host: str) -> None:
    assert vertex_host(location) == host
    for given in ("https://aiplatform.googleapis.com", "https://us-central1-aiplatform.googleapis.com"):
        url = vertex_url(given, "generate", "m", project="p", location=location)
        assert url == f"{host}/v1/projects/p/locations/{location}/publishers/google/models/m:generateContent"


def test_other_hosts_are_kept() -> None:
    url = vertex_url(
        "https://vertex.proxy.corp/gw/?team=a", "generate", "m", project="p", location="europe-west4"
    )
    assert (
        url
        == "https://vertex.proxy.corp/gw/v1/projects/p/locations/europe-west4/publishers/google/models/m:generateContent?team=a"
    )
    already = vertex_url(
        "http://127.0.0.1:9/v1beta1", "generate", "m", project="p", location="l1", api_version="v1beta1"
    )
    assert (
        already
        == "http://127.0.0.1:9/v1beta1/projects/p/locations/l1/publishers/google/models/m:generateContent"
    )


def test_resource_names() -> None:
    tuned = vertex_url(
        vertex_host("us-central1"),
        "generate",
        "projects/p/locations/us-central1/endpoints/123",
        project="x",
        location="us-central1",
    )
    assert (
        tuned
        == "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/123:generateContent"
    )
    other = vertex_url(
        vertex_host("us-east5"), "generate", "publishers/meta/models/llama", project="p", location="us-east5"
    )
    assert other.endswith("/v1/projects/p/locations/us-east5/publishers/meta/models/llama:generateContent")
    assert gemini_url(ROOT, "generate", "tunedModels/mine") == ROOT + "/tunedModels/mine:generateContent"
    assert gemini_url(ROOT, "generate", "a b") == ROOT + "/models/a%20b:generateContent"


def test_operation_polls() -> None:
    assert GeminiAdapter.operation_poll("models/veo/operations/abc") == (
        "GET",
        "/models/veo/operations/abc",
        {},
    )
    assert VertexAdapter.operation_poll("projects/p/.../operations/1") == (
        "POST",
        "",
        {"operationName": "projects/p/.../operations/1"},
    )


# -- settings and the factory ---------------------------------------------------------------------


def test_settings_are_checked() -> None:
    assert VertexSettings(project=" p ", location="Europe-West4").location == "europe-west4"
    for bad in (
        {"project": "no spaces"},
        {"project": "p", "location": "a/b"},
        {"project": "p", "api_version": "x"},
    ):
        with pytest.raises(ConfigurationError):
            VertexSettings(**bad)
    with pytest.raises(ConfigurationError, match="google-auth credentials object"):
        VertexSettings(project="p", credentials="not-credentials")
    with pytest.raises(ConfigurationError, match="credentials_file"):
        VertexSettings(project="p", credentials_file=" ")
    assert "credentials=" not in repr(VertexSettings(project="p", credentials=FakeCreds()))


class FakeCreds:
    token = "ya29.fake-token-0123456789"
    expiry = datetime.datetime(2100, 1, 1)
    quota_project_id = "billing-project"

    def refresh(self, request: Any) -> None:
        pass


def test_create_llm_builds_one_endpoint_per_location() -> None:
    llm = create_llm(
        "vertex/gemini-2.5-flash",
        project="proj",
        backups=[{"location": "europe-west4"}, {"location": "global"}],
    )
    connectors = llm.connector.connectors  # type: ignore[attr-defined]
    assert [c.name for c in connectors] == [
        "https://us-central1-aiplatform.googleapis.com",
        "https://europe-west4-aiplatform.googleapis.com",
        "https://global-aiplatform.googleapis.com",
    ]
    urls = [c.adapter.url(c.endpoint, "generate", "gemini-2.5-flash") for c in connectors]
    assert urls == [
        "https://us-central1-aiplatform.googleapis.com/v1/projects/proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent",
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent",
        "https://aiplatform.googleapis.com/v1/projects/proj/locations/global/publishers/google/models/gemini-2.5-flash:generateContent",
    ]
    assert [c.endpoint.settings.location for c in connectors] == ["us-central1", "europe-west4", "global"]


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "asia-northeast1")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/keys/sa.json")
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSyShouldNeverGoToVertex000000000000")
    llm = create_llm("vertex/gemini-2.5-pro")
    (connector,) = llm.connector.connectors  # type: ignore[attr-defined]
    settings = connector.endpoint.settings
    assert (settings.project, settings.location, settings.credentials_file) == (
        "env-project",
        "asia-northeast1",
        "/keys/sa.json",
    )
    assert connector.endpoint.api_key is None  # a Gemini API key is not a Vertex AI credential
    assert connector.name == "https://asia-northeast1-aiplatform.googleapis.com"


def test_a_project_is_required() -> None:
    with pytest.raises(ConfigurationError, match="needs project") as info:
        create_llm("vertex/gemini-2.5-flash")
    assert "GOOGLE_CLOUD_PROJECT" in (info.value.hint or "")


def test_gemini_needs_a_key_and_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="API key") as info:
        create_llm("gemini/gemini-2.5-flash")
    assert "GEMINI_API_KEY" in (info.value.hint or "")
    monkeypatch.setenv("GOOGLE_API_KEY", "AIzaSyFromTheEnvironment0000000000000")
    monkeypatch.setenv("GEMINI_BASE_URL", "https://gateway.corp/gemini/v1beta")
    llm = create_llm("gemini/gemini-2.5-flash")
    (connector,) = llm.connector.connectors  # type: ignore[attr-defined]
    assert connector.endpoint.api_key.get_secret_value() == "AIzaSyFromTheEnvironment0000000000000"
    assert connector.adapter.url(connector.endpoint, "generate", "gemini-2.5-flash") == (
        "https://gateway.corp/gemini/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert "AIza" not in repr(llm) and "AIza" not in repr(connector.endpoint)


def test_unknown_settings_are_named() -> None:
    with pytest.raises(ConfigurationError, match="locaton"):
        create_llm("vertex/gemini-2.5-flash", project="p", locaton="x")


# -- auth ------------------------------------------------------------------------------------------


def vertex_endpoint(**fields: Any) -> EndpointConfig:
    settings = fields.pop("settings", VertexSettings(project="p"))
    return EndpointConfig(
        endpoint="https://us-central1-aiplatform.googleapis.com", settings=settings, **fields
    )


async def test_auth_precedence() -> None:
    adapter = VertexAdapter()
    key = vertex_endpoint(api_key="AIzaSyVertexExpressKey000000000000000")
    assert await adapter.auth_headers(key) == {"x-goog-api-key": "AIzaSyVertexExpressKey000000000000000"}
    assert await adapter.sign_request(key, "POST", "u", {}, b"") == {}
    token = vertex_endpoint(token_provider=lambda: "ya29.from-provider")
    assert await adapter.auth_headers(token) == {"Authorization": "Bearer ya29.from-provider"}
    assert await adapter.sign_request(token, "POST", "u", {}, b"") == {}
    creds = FakeCreds()
    google = vertex_endpoint(settings=VertexSettings(project="p", credentials=creds))
    assert await adapter.auth_headers(google) == {}
    assert await adapter.sign_request(google, "POST", "u", {}, b"") == {
        "Authorization": "Bearer ya29.fake-token-0123456789",
        "x-goog-user-project": "billing-project",
    }
    # one token provider per credentials source, shared by the adapter's endpoints
    backup = vertex_endpoint(settings=VertexSettings(project="p", location="europe-west4", credentials=creds))
    assert adapter.token_provider(google) is adapter.token_provider(backup)
    assert adapter.token_provider(google) is not adapter.token_provider(vertex_endpoint())


async def test_gemini_auth() -> None:
    adapter = GeminiAdapter()
    key = EndpointConfig(endpoint=ROOT, api_key="AIzaSyGeminiKey0000000000000000000000")
    assert await adapter.auth_headers(key) == {"x-goog-api-key": "AIzaSyGeminiKey0000000000000000000000"}
    assert "key=" not in adapter.url(key, "generate", "m")
    oauth = EndpointConfig(endpoint=ROOT, token_provider=lambda: "ya29.oauth")
    assert await adapter.auth_headers(oauth) == {"Authorization": "Bearer ya29.oauth"}


def test_a_vertex_endpoint_without_settings() -> None:
    with pytest.raises(ConfigurationError, match="no project"):
        VertexAdapter().url(EndpointConfig(endpoint="https://x.example"), "generate", "m")


def test_errors_in_a_2xx_body() -> None:
    adapter = GeminiAdapter()
    error = adapter.error_in_body(
        {"error": {"code": 503, "status": "UNAVAILABLE", "message": "busy"}}, {}, "e"
    )
    assert error is not None and error.status == 503
    # a long-running operation that failed is the media module's to report, not a transport error
    assert (
        adapter.error_in_body({"name": "operations/1", "done": True, "error": {"code": 3}}, {}, "e") is None
    )
    assert adapter.error_in_body({"candidates": []}, {}, "e") is None
