"""EndpointConfig and Timeouts are frozen dataclasses; api_key is a Secret; errors name the field."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.llms.interfaces.endpoint import ENDPOINT_FIELDS, EndpointConfig, Secret, Timeouts
from core.llms.interfaces.errors import ConfigurationError
from core.llms.providers.azure.settings import AzureSettings
from core.llms.providers.openai.settings import OpenAISettings

KEY = "sk-canary-endpoint-key-0123456789"
URL = "https://api.example.com/v1"


def test_secret_hides_its_value() -> None:
    secret = Secret(KEY)
    assert secret.get_secret_value() == KEY
    assert repr(secret) == "Secret('**********')" and str(secret) == "**********"
    assert secret == Secret(KEY) and secret != Secret("other") and secret != KEY
    assert hash(secret) == hash(Secret(KEY))
    with pytest.raises(ConfigurationError, match="must be a string, not int"):
        Secret(123)  # type: ignore[arg-type]


@pytest.mark.parametrize("given", [KEY, Secret(KEY), "pydantic"])
def test_api_key_is_kept_as_a_secret(given: Any) -> None:
    if given == "pydantic":  # anything with get_secret_value(), e.g. pydantic's SecretStr
        from pydantic import SecretStr

        given = SecretStr(KEY)
    config = EndpointConfig(endpoint=URL, api_key=given)
    assert isinstance(config.api_key, Secret) and config.api_key.get_secret_value() == KEY
    assert KEY not in repr(config) and KEY not in str(config)


def test_frozen_keyword_only_and_normalised() -> None:
    headers = {"X-Team": "a"}
    config = EndpointConfig(endpoint=URL + "/", headers=headers, timeouts={"read": 5})
    assert config.endpoint == URL
    assert config.timeouts == Timeouts(read=5) and config.timeouts.connect == 10.0
    headers["X-Team"] = "changed"
    assert config.headers == {"X-Team": "a"}  # a copy
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.endpoint = "https://other.example"  # type: ignore[misc]
    with pytest.raises(TypeError):
        EndpointConfig(URL)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.timeouts.read = 1.0  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(EndpointConfig)] == list(ENDPOINT_FIELDS)
    # a provider's own fields live in its settings class, not here
    assert {"model_id", "settings"} <= set(ENDPOINT_FIELDS)
    assert not {"deployment_name", "api_version", "organization"} & set(ENDPOINT_FIELDS)
    assert config.settings is None and config.model_id is None and config.setting_names() == ()


def test_repr_leaves_out_headers_token_provider_and_url_credentials() -> None:
    config = EndpointConfig(
        endpoint=f"https://user:{KEY}@api.example.com/v1?key={KEY}",
        api_key=KEY,
        headers={"api-key": KEY},
        token_provider=lambda: KEY,
        proxy=f"http://me:{KEY}@proxy.corp:3128",
    )
    text = repr(config)
    assert KEY not in text and "headers" not in text and "token_provider" not in text
    assert "endpoint='https://api.example.com/v1'" in text and "proxy='http://proxy.corp:3128'" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"endpoint": f"ftp://{KEY}"}, r"EndpointConfig.endpoint must be an http\(s\) URL"),
        ({"endpoint": 42}, r"EndpointConfig.endpoint must be an http\(s\) URL"),
        ({"api_key": 12345}, "EndpointConfig.api_key must be a string, not int"),
        ({"max_connections": 0}, "EndpointConfig.max_connections must be >= 1"),
        ({"max_connections": KEY}, "EndpointConfig.max_connections must be an integer, not str"),
        ({"max_response_bytes": 1.5}, "EndpointConfig.max_response_bytes must be an integer, not float"),
        ({"verify_tls": KEY}, "EndpointConfig.verify_tls must be True or False, not str"),
        ({"proxy": f"socks5://u:{KEY}@p:1"}, r"EndpointConfig.proxy must be an http\(s\) URL"),
        ({"headers": {"X-Key": 1}}, "EndpointConfig.headers must be a mapping of strings"),
        ({"timeouts": {"read": KEY}}, r"EndpointConfig.timeouts: Timeouts.read must be a number, not str"),
        ({"timeouts": {"read": 0}}, r"Timeouts.read must be > 0"),
        ({"timeouts": {"reed": 1}}, r"unknown Timeouts field\(s\) \['reed'\]"),
        ({"timeouts": 5}, "EndpointConfig.timeouts must be a Timeouts or a mapping, not int"),
        ({"token_provider": KEY}, "EndpointConfig.token_provider must be a callable"),
        ({"model_id": 3}, "EndpointConfig.model_id must be a string, not int"),
        ({"model_id": "  "}, "EndpointConfig.model_id must not be empty"),
        ({"name": 3}, "EndpointConfig.name must be a string, not int"),
        (
            {"settings": {"deployment_name": KEY}},
            r"EndpointConfig.settings must be a provider's settings object \(a dataclass\), not dict",
        ),
        ({"api_key": f"{KEY}\nX-Other: 1"}, "EndpointConfig.api_key contains a control character"),
        ({"api_key": f"{KEY}\x7f"}, "EndpointConfig.api_key contains a control character"),
        ({"api_key": " \n\t"}, r"EndpointConfig.api_key is empty \(or only whitespace\)"),
    ],
)
def test_bad_values_name_the_field_never_the_value(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        EndpointConfig(**{"endpoint": URL, **kwargs})
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert isinstance(info.value, ValueError)  # as pydantic's ValidationError was


def test_from_mapping_reports_unknown_and_missing_fields() -> None:
    assert EndpointConfig.from_mapping({"endpoint": URL, "api_key": KEY}).api_key == Secret(KEY)
    with pytest.raises(ConfigurationError, match=r"invalid endpoint settings: unknown EndpointConfig field"):
        EndpointConfig.from_mapping({"endpoint": URL, "api_kye": KEY})
    with pytest.raises(ConfigurationError, match=r"invalid settings of x: EndpointConfig needs endpoint"):
        EndpointConfig.from_mapping({"api_key": KEY}, what="settings of x")
    with pytest.raises(ConfigurationError, match="must be a mapping") as info:
        EndpointConfig.from_mapping(KEY)  # type: ignore[arg-type]
    assert KEY not in str(info.value)


def test_replace_and_derive() -> None:
    azure = AzureSettings(deployment_name="d", api_version="2024-10-21")
    primary = EndpointConfig(endpoint=URL, api_key=KEY, name="main", settings=azure)
    assert primary.setting_names() == ("deployment_name", "api_version")
    renamed = primary.replace(name="other")
    assert (renamed.name, renamed.api_key, primary.name) == ("other", Secret(KEY), "main")
    assert renamed.settings is azure
    backup = primary.derive({"endpoint": "https://backup.example.com/v1"})
    assert backup.name is None and backup.display_name == "https://backup.example.com/v1"
    assert backup.api_key == Secret(KEY) and backup.settings == azure
    assert backup.settings.deployment_name == "d"
    assert primary.derive({"max_connections": 5}).name == "main"
    with pytest.raises(ConfigurationError, match=r"unknown backup endpoint field\(s\) \['region'\]") as info:
        primary.derive({"region": "eu"})
    assert "deployment_name" in str(info.value) and "api_version" in str(info.value)  # allowed
    with pytest.raises(
        ConfigurationError, match=r"invalid backups\[0\]: EndpointConfig.max_connections"
    ) as info:
        primary.derive({"max_connections": KEY}, what="backups[0]")
    assert KEY not in str(info.value)
    with pytest.raises(ConfigurationError, match="max_connections must be >= 1"):
        primary.replace(max_connections=0)


def test_derive_replaces_settings_fields() -> None:
    azure = AzureSettings(deployment_name="d", api_version="2024-10-21")
    primary = EndpointConfig(endpoint=URL, api_key=KEY, settings=azure, model_id="m")
    other = primary.derive({"deployment_name": "d2", "model_id": "m2"})
    assert other.settings == AzureSettings(deployment_name="d2", api_version="2024-10-21")
    assert other.model_id == "m2" and other.endpoint == URL and other.api_key == Secret(KEY)
    assert primary.settings is azure and primary.model_id == "m"  # unchanged
    newer = primary.derive({"api_version": "v1"})
    assert newer.settings == AzureSettings(deployment_name="d", api_version="v1")
    # a settings object in the overrides replaces the whole object; a field beside it wins
    whole = primary.derive(
        {"settings": AzureSettings(deployment_name="x", api_version="y"), "api_version": "z"}
    )
    assert whole.settings == AzureSettings(deployment_name="x", api_version="z")
    with pytest.raises(
        ConfigurationError,
        match=r"invalid backups\[1\]: AzureSettings.deployment_name must be a string, not int",
    ):
        primary.derive({"deployment_name": 3}, what="backups[1]")
    with pytest.raises(
        ConfigurationError, match=r"invalid backups\[1\]: AzureSettings.api_version must not be empty"
    ):
        primary.derive({"api_version": " "}, what="backups[1]")


def test_derive_without_settings_refuses_provider_fields() -> None:
    primary = EndpointConfig(endpoint=URL, api_key=KEY)
    with pytest.raises(
        ConfigurationError, match=r"unknown backup endpoint field\(s\) \['deployment_name'\]"
    ) as info:
        primary.derive({"deployment_name": KEY})
    assert KEY not in str(info.value) and KEY not in str(info.value.hint)


@pytest.mark.parametrize("name", ["deployment_name", "api_version", "organization"])
def test_provider_fields_are_refused_with_a_hint_to_settings(name: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"unknown EndpointConfig field\(s\) \['{name}'\]") as info:
        EndpointConfig(endpoint=URL, **{name: KEY})
    hint = str(info.value.hint)
    assert "a provider's own fields" in hint and "go in settings=" in hint
    assert KEY not in str(info.value) and KEY not in repr(info.value) and KEY not in hint
    with pytest.raises(ConfigurationError, match=rf"unknown EndpointConfig field\(s\) \['{name}'\]"):
        EndpointConfig.from_mapping({"endpoint": URL, name: "x"})


def test_provider_settings_are_kept_and_compared() -> None:
    azure = AzureSettings(deployment_name="d", api_version="v1")
    config = EndpointConfig(endpoint=URL, settings=azure)
    assert config.settings is azure and config.setting_names() == ("deployment_name", "api_version")
    assert "settings=AzureSettings(deployment_name='d', api_version='v1')" in repr(config)
    assert config == EndpointConfig(
        endpoint=URL, settings=AzureSettings(deployment_name="d", api_version="v1")
    )
    assert config != EndpointConfig(
        endpoint=URL, settings=AzureSettings(deployment_name="e", api_version="v1")
    )
    openai = EndpointConfig(endpoint=URL, settings=OpenAISettings(organization="org-1"))
    assert openai.setting_names() == ("organization", "project")
    assert openai.settings == OpenAISettings(organization="org-1", project=None)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: AzureSettings(deployment_name=3, api_version="v"),  # type: ignore[arg-type]
            "AzureSettings.deployment_name must be a string, not int",
        ),
        (
            lambda: AzureSettings(deployment_name="", api_version="v"),
            "AzureSettings.deployment_name must not be empty",
        ),
        (
            lambda: AzureSettings(deployment_name="d", api_version="  "),
            "AzureSettings.api_version must not be empty",
        ),
        (lambda: OpenAISettings(organization=3), "OpenAISettings.organization must be a string, not int"),  # type: ignore[arg-type]
        (lambda: OpenAISettings(project=b"p"), "OpenAISettings.project must be a string, not bytes"),  # type: ignore[arg-type]
    ],
)
def test_provider_settings_check_their_fields(build: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_provider_settings_are_frozen_and_keyword_only() -> None:
    azure = AzureSettings(deployment_name="d", api_version="v")
    with pytest.raises(dataclasses.FrozenInstanceError):
        azure.deployment_name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        AzureSettings("d", "v")  # type: ignore[misc]
    with pytest.raises(TypeError, match="deployment_name"):
        AzureSettings(api_version="v")  # type: ignore[call-arg]
    assert OpenAISettings() == OpenAISettings(organization=None, project=None)


def test_api_key_surrounding_whitespace_is_removed() -> None:
    config = EndpointConfig(endpoint=URL, api_key=f"  {KEY}\r\n")
    assert config.api_key == Secret(KEY)
    from pydantic import SecretStr

    assert EndpointConfig(endpoint=URL, api_key=SecretStr(f"{KEY}\n")).api_key == Secret(KEY)
    with pytest.raises(ConfigurationError, match="api_key contains a control character") as info:
        EndpointConfig(endpoint=URL, api_key=SecretStr(f"{KEY}\n{KEY}"))
    assert KEY not in str(info.value) and KEY not in repr(info.value) and KEY not in str(info.value.hint)


def test_equal_configs_compare_equal() -> None:
    assert EndpointConfig(endpoint=URL, api_key=KEY) == EndpointConfig(
        endpoint=URL + "/", api_key=Secret(KEY)
    )
    assert EndpointConfig(endpoint=URL, api_key=KEY) != EndpointConfig(endpoint=URL, api_key="other")
