"""Config files: TOML and YAML, schema errors with the path of the bad key, file errors."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from pathlib import Path

import pytest
from plugins.support import SECRET, ZureMini, make_registry

from core.llms.config import FactoryConfig, load_config
from core.llms.factory import LLMFactory
from core.llms.interfaces.errors import ConfigurationError, UnknownModelError
from core.llms.providers.base.endpoint import EndpointConfig, Timeouts
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.retry import RetryPolicy

TOML = """
[defaults]
timeouts = { connect = 3, read = 30 }
retry = { max_retries = 1, backoff_initial = 0.1 }
cooldown = 5

[models.fast]
model = "zure/zpt-mini"
endpoint = "https://east.example"
api_key_env = "ZURE_EAST_KEY"
deployment_name = "mini-east"
api_version = "2024-10-21"
timeouts = { read = 10 }
retry = { rate_limit = "failover" }
defaults = { temperature = 0.2 }
backups = [
  { endpoint = "https://west.example", api_key = "${ZURE_WEST_KEY}" },
  { deployment_name = "mini-east-2" },
]

[models.local]
model = "local/tiny"
drop_unsupported = true
"""

YAML = """
defaults:
  timeouts: {connect: 3, read: 30}
  retry: {max_retries: 1, backoff_initial: 0.1}
  cooldown: 5
models:
  fast:
    model: zure/zpt-mini
    endpoint: https://east.example
    api_key_env: ZURE_EAST_KEY
    deployment_name: mini-east
    api_version: "2024-10-21"
    timeouts: {read: 10}
    retry: {rate_limit: failover}
    defaults: {temperature: 0.2}
    backups:
      - endpoint: https://west.example
        api_key: ${ZURE_WEST_KEY}
      - deployment_name: mini-east-2
  local:
    model: local/tiny
    drop_unsupported: true
"""


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZURE_EAST_KEY", SECRET)
    monkeypatch.setenv("ZURE_WEST_KEY", "west-" + SECRET)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def endpoints(llm: BaseLLM) -> list[EndpointConfig]:
    assert isinstance(llm.connector, FailoverConnector)
    return [c.endpoint for c in llm.connector.connectors]


@pytest.mark.parametrize(("name", "text"), [("llms.toml", TOML), ("llms.yaml", YAML), ("llms.yml", YAML)])
def test_full_config(tmp_path: Path, name: str, text: str) -> None:
    factory = LLMFactory.from_config(write(tmp_path, name, text), registry=make_registry())
    assert factory.names() == ["fast", "local"] and len(factory) == 2 and "fast" in factory
    fast = factory.get("fast")
    assert isinstance(fast, ZureMini)
    primary, west, east2 = endpoints(fast)
    assert primary.api_key is not None and primary.api_key.get_secret_value() == SECRET
    assert primary.timeouts == Timeouts(connect=3, read=10)
    assert west.endpoint == "https://west.example"
    assert west.api_key is not None and west.api_key.get_secret_value() == "west-" + SECRET
    assert west.deployment_name == "mini-east" and west.timeouts == primary.timeouts
    assert east2.endpoint == primary.endpoint and east2.deployment_name == "mini-east-2"
    connector = fast.connector
    assert isinstance(connector, FailoverConnector)
    assert connector.policy == RetryPolicy(max_retries=1, backoff_initial=0.1, rate_limit="failover")
    assert fast._defaults == {"temperature": 0.2}
    local = factory["local"]
    assert local._drop_unsupported is True
    assert endpoints(local)[0].timeouts == Timeouts(connect=3, read=30)


def test_mapping_source() -> None:
    factory = LLMFactory.from_config({"models": {"t": {"model": "local/tiny"}}}, registry=make_registry())
    assert factory.names() == ["t"]


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"endpointt": "https://x.example"}, "models.t.endpointt"),
        ({"retry": {"max_retry": 1}}, "models.t.retry.max_retry"),
        ({"timeouts": {"reed": 1}}, "models.t.timeouts.reed"),
        ({"backups": [{"endpoint": "https://b.example", "deploymnt": "x"}]}, "models.t.backups.0.deploymnt"),
        ({"retry": {"rate_limit": "sometimes"}}, "models.t.retry.rate_limit"),
        ({"max_connections": 0}, "models.t.max_connections"),
    ],
)
def test_typo_fails_at_load_with_path(patch: dict[str, object], path: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config({"models": {"t": {"model": "local/tiny", **patch}}})
    assert path in str(info.value)


def test_top_level_typo() -> None:
    with pytest.raises(ConfigurationError, match="defaultz: Extra inputs"):
        load_config({"defaultz": {}, "models": {"t": {"model": "local/tiny"}}})


@pytest.mark.parametrize(
    ("patch", "hint"),
    [
        ({"base_url": SECRET}, "models.t.base_url: Extra inputs are not permitted (did you mean endpoint?)"),
        (
            {"retry": {"max_retry": 1}},
            "models.t.retry.max_retry: Extra inputs are not permitted (did you mean max_retries?)",
        ),
        ({"timeouts": {"conect": 1}}, "(did you mean connect?)"),
    ],
)
def test_unknown_key_suggests_the_key_meant(patch: dict[str, object], hint: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config({"models": {"t": {"model": "local/tiny", **patch}}})
    assert hint in str(info.value) and SECRET not in str(info.value)


def test_models_are_required() -> None:
    with pytest.raises(ConfigurationError, match="models"):
        load_config({"models": {}})
    with pytest.raises(ConfigurationError, match=r"models.t.model: Field required"):
        load_config({"models": {"t": {}}})


def test_api_key_and_api_key_env_are_exclusive() -> None:
    with pytest.raises(ConfigurationError, match="api_key or api_key_env, not both") as info:
        load_config({"models": {"t": {"model": "local/tiny", "api_key": SECRET, "api_key_env": "X"}}})
    assert SECRET not in str(info.value)


def test_validation_errors_never_quote_values() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(
            {"models": {"t": {"model": "local/tiny", "max_connections": SECRET, "verify_tls": SECRET}}}
        )
    assert "max_connections" in str(info.value) and "verify_tls" in str(info.value)
    assert SECRET not in str(info.value)


def test_bad_model_name_fails_at_load_naming_the_alias() -> None:
    with pytest.raises(UnknownModelError) as info:
        LLMFactory.from_config({"models": {"fast": {"model": "zure/zpt-mnii"}}}, registry=make_registry())
    text = str(info.value)
    assert "config: models.fast: unknown model 'zure/zpt-mnii'" in text and "zure/zpt-mini" in text


def test_missing_required_field_fails_at_load() -> None:
    source = {
        "models": {"fast": {"model": "zure/zpt-mini", "endpoint": "https://z.example", "api_key": SECRET}}
    }
    with pytest.raises(ConfigurationError) as info:
        LLMFactory.from_config(source, registry=make_registry())
    text = str(info.value)
    assert "models.fast: zure/zpt-mini needs deployment_name" in text and "ZURE_DEPLOYMENT" in text
    assert SECRET not in text


def test_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"unsupported config file type '.json'"):
        load_config(write(tmp_path, "llms.json", "{}"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read config file"):
        load_config(tmp_path / "absent.toml")


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="invalid TOML"):
        load_config(write(tmp_path, "bad.toml", "[models.t\nmodel = 1\n"))


def test_invalid_yaml_does_not_quote_the_line(tmp_path: Path) -> None:
    text = f'models:\n  t:\n    api_key: "{SECRET}\n    model: [unclosed\n'
    with pytest.raises(ConfigurationError) as info:
        load_config(write(tmp_path, "bad.yaml", text))
    assert "invalid YAML at line" in str(info.value)
    assert SECRET not in str(info.value)


def test_yaml_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="top level must be a table"):
        load_config(write(tmp_path, "list.yaml", "- a\n- b\n"))


def test_yaml_without_pyyaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ConfigurationError) as info:
        load_config(write(tmp_path, "llms.yaml", YAML))
    assert "needs PyYAML" in str(info.value) and "core-llms[yaml]" in str(info.value)


def test_config_schema_covers_every_endpoint_field() -> None:
    """Every EndpointConfig field but the token provider (a callable) can be set in a file."""
    from core.llms.config import EndpointSettings, RetrySettings

    file_fields = set(EndpointSettings.model_fields) - {"api_key_env"}
    assert file_fields == {f.name for f in dataclasses.fields(EndpointConfig)} - {"token_provider"}
    assert set(RetrySettings.model_fields) == {f.name for f in dataclasses.fields(RetryPolicy)}


def test_factory_config_is_reusable() -> None:
    config = FactoryConfig.model_validate({"models": {"a": {"model": "local/tiny"}}})
    assert LLMFactory(config, registry=make_registry()).names() == ["a"]
