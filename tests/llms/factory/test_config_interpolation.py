"""``${NAME}`` interpolation and ``api_key_env``: values from the environment, errors name only
the variable."""

from __future__ import annotations

import pytest
from plugins.support import SECRET

from core.llms.config import interpolate_env, load_config
from core.llms.interfaces.errors import ConfigurationError


def test_interpolates_every_string_recursively(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "east.example")
    monkeypatch.setenv("TEAM", "blue")
    data = {"a": "https://${HOST}/v1", "b": ["x-${TEAM}", {"c": "${TEAM}${TEAM}"}], "n": 3, "t": True}
    assert interpolate_env(data) == {
        "a": "https://east.example/v1",
        "b": ["x-blue", {"c": "blueblue"}],
        "n": 3,
        "t": True,
    }


def test_escape_and_plain_dollars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X", "value")
    assert interpolate_env("$${X} costs $5 and ${X}") == "${X} costs $5 and value"
    assert interpolate_env("no vars") == "no vars"


def test_missing_variable_names_key_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESENT", SECRET)
    with pytest.raises(ConfigurationError) as info:
        interpolate_env({"models": {"m": {"api_key": "${PRESENT}", "endpoint": "https://${ABSENT_HOST}"}}})
    text = str(info.value)
    assert "models.m.endpoint: environment variable ABSENT_HOST is not set" in text
    assert SECRET not in text


def test_invalid_variable_name() -> None:
    with pytest.raises(ConfigurationError, match=r"'\$\{1BAD-NAME\}' is not a valid variable name"):
        interpolate_env({"k": "${1BAD-NAME}"})


def test_empty_variable_is_substituted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPTY", "")
    assert interpolate_env("a${EMPTY}b") == "ab"


def test_interpolated_secret_never_appears_in_validation_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAK", SECRET)
    with pytest.raises(ConfigurationError) as info:
        load_config({"models": {"m": {"model": "local/tiny", "max_connections": "${LEAK}"}}})
    assert "models.m.max_connections" in str(info.value) and SECRET not in str(info.value)


def test_api_key_env_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", SECRET)
    config = load_config({"models": {"m": {"model": "local/tiny", "api_key_env": "MY_KEY"}}})
    kwargs = config.models["m"].llm_kwargs(config.defaults, "models.m")
    assert kwargs["api_key"] == SECRET


def test_api_key_env_missing_names_variable() -> None:
    config = load_config({"models": {"m": {"model": "local/tiny", "api_key_env": "NOT_SET_ANYWHERE_KEY"}}})
    with pytest.raises(
        ConfigurationError, match=r"models.m.api_key_env: environment variable NOT_SET_ANYWHERE_KEY"
    ):
        config.models["m"].llm_kwargs(config.defaults, "models.m")


def test_api_key_env_in_defaults_and_backups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARED_KEY", "shared")
    monkeypatch.setenv("BACKUP_KEY", "backup")
    config = load_config(
        {
            "defaults": {"api_key_env": "SHARED_KEY"},
            "models": {"m": {"model": "local/tiny", "backups": [{"api_key_env": "BACKUP_KEY"}]}},
        }
    )
    kwargs = config.models["m"].llm_kwargs(config.defaults, "models.m")
    assert kwargs["api_key"] == "shared"
    assert kwargs["backups"] == [{"api_key": "backup"}]


def test_model_key_overrides_shared_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARED_KEY", "shared")
    config = load_config(
        {
            "defaults": {"api_key_env": "SHARED_KEY"},
            "models": {"m": {"model": "local/tiny", "api_key": "own"}},
        }
    )
    assert config.models["m"].llm_kwargs(config.defaults, "models.m")["api_key"] == "own"


def test_api_key_env_must_be_a_name() -> None:
    with pytest.raises(ConfigurationError, match="api_key_env must be an environment variable name"):
        load_config({"models": {"m": {"model": "local/tiny", "api_key_env": "MY-KEY"}}})
