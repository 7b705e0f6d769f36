"""Config files: TOML and YAML, schema errors with the path of the bad key, file errors."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from pathlib import Path

import pytest
from plugins.support import SECRET, ZureMini, ZureSettings, make_registry

from core.llms.config import FactoryConfig, load_config
from core.llms.factory import LLMFactory
from core.llms.interfaces.endpoint import ENDPOINT_FIELDS, EndpointConfig, Timeouts
from core.llms.interfaces.errors import ConfigurationError, UnknownModelError
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
    assert primary.settings == ZureSettings(deployment_name="mini-east", api_version="2024-10-21")
    assert west.endpoint == "https://west.example"
    assert west.api_key is not None and west.api_key.get_secret_value() == "west-" + SECRET
    assert west.settings == primary.settings and west.timeouts == primary.timeouts
    assert east2.endpoint == primary.endpoint
    assert east2.settings == ZureSettings(deployment_name="mini-east-2", api_version="2024-10-21")
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
        ({"retry": {"max_retry": 1}}, "models.t.retry.max_retry"),
        ({"timeouts": {"reed": 1}}, "models.t.timeouts.reed"),
        ({"retry": {"rate_limit": "sometimes"}}, "models.t.retry.rate_limit"),
        ({"max_connections": 0}, "models.t.max_connections"),
        ({"backups": [{"max_connections": 0}]}, "models.t.backups.0.max_connections"),
        ({"defaults": []}, "models.t.defaults"),
    ],
)
def test_typo_fails_at_load_with_path(patch: dict[str, object], path: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config({"models": {"t": {"model": "local/tiny", **patch}}})
    assert path in str(info.value)


# Endpoint keys a section does not declare may be a provider's own fields (deployment_name …):
# they load, and the factory checks them against the model's provider, naming the entry.
@pytest.mark.parametrize(
    ("entry", "message", "meant"),
    [
        (
            {
                "model": "zure/zpt-mini",
                "api_key": SECRET,
                "endpoint": "https://z.example",
                "deployment_name": "d",
                "api_version": "v",
                "backups": [{"endpoint": "https://b.example", "deploymnt": "x"}],
            },
            "config: models.t: unknown endpoint field(s) ['deploymnt'] in backups[0] of zure/zpt-mini",
            "did you mean deployment_name (not deploymnt)?",
        ),
        (
            {
                "model": "zure/zpt-mini",
                "api_key": SECRET,
                "endpoint": "https://z.example",
                "deployment_name": "d",
                "api_verison": SECRET,
            },
            "config: models.t: unknown endpoint field(s) ['api_verison'] for zure/zpt-mini",
            "did you mean api_version (not api_verison)?",
        ),
        (
            {"model": "local/tiny", "deployment_name": "d"},  # a field of another provider
            "config: models.t: unknown endpoint field(s) ['deployment_name'] for local/tiny",
            "allowed: endpoint, api_key",
        ),
    ],
)
def test_endpoint_typo_fails_when_the_factory_is_made(
    entry: dict[str, object], message: str, meant: str
) -> None:
    config = load_config({"models": {"t": entry}})  # loads: the key may be a provider's field
    with pytest.raises(ConfigurationError) as info:
        LLMFactory(config, registry=make_registry())
    text = str(info.value)
    assert message in text and meant in text
    assert SECRET not in text and SECRET not in repr(info.value)


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"deployment_name": ["a", "b"]}, "models.t: Value error, deployment_name: a provider field holds"),
        ({"api_version": {"v": 1}}, "models.t: Value error, api_version: a provider field holds"),
        ({"backups": [{"deployment_name": None}]}, "models.t.backups.0: Value error, deployment_name"),
    ],
)
def test_provider_fields_in_a_file_must_be_plain_values(patch: dict[str, object], path: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config({"models": {"t": {"model": "zure/zpt-mini", **patch}}})
    assert path in str(info.value) and "a string, number or boolean" in str(info.value)


def test_top_level_typo() -> None:
    with pytest.raises(ConfigurationError, match="defaultz: Extra inputs"):
        load_config({"defaultz": {}, "models": {"t": {"model": "local/tiny"}}})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"model": "local/tiny", "base_url": SECRET},
            "models.t: Value error, base_url: unknown key (did you mean endpoint?)",
        ),
        (
            {"model": "local/tiny", "endpointt": SECRET},
            "models.t: Value error, endpointt: unknown key (did you mean endpoint?)",
        ),
        (
            {"model": "local/tiny", "cooldwn": 3},
            "models.t: Value error, cooldwn: unknown key (did you mean cooldown?)",
        ),
    ],
)
def test_key_close_to_a_config_key_fails_at_load(entry: dict[str, object], message: str) -> None:
    """An extra key may be a provider's field, but not one that is (close to) a key of the file's
    own schema: that is a typo, refused when the file loads, with the key meant."""
    with pytest.raises(ConfigurationError) as info:
        LLMFactory.from_config({"models": {"t": entry}}, registry=make_registry())
    text = str(info.value)
    assert text.startswith("config: invalid configuration: ") and message in text
    assert SECRET not in text and SECRET not in repr(info.value)


@pytest.mark.parametrize(
    "section", [{"model": "openai/gpt-4o"}, {"backups": [{"endpoint": "https://b.example"}]}]
)
def test_keys_of_a_model_entry_are_refused_in_defaults(section: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match=r"defaults: Value error, \w+: not allowed here"):
        load_config({"defaults": section, "models": {"t": {"model": "local/tiny"}}})


@pytest.mark.parametrize(
    ("patch", "hint"),
    [
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
    """Every EndpointConfig field but the token provider (a callable) and the settings object
    (built by the factory from the provider's own fields, which a file gives as plain keys) can
    be set in a file."""
    from core.llms.config import EndpointSettings, RetrySettings

    file_fields = set(EndpointSettings.model_fields) - {"api_key_env"}
    assert file_fields == {f.name for f in dataclasses.fields(EndpointConfig)} - {
        "token_provider",
        "settings",
    }
    assert file_fields == set(ENDPOINT_FIELDS) - {"token_provider", "settings"}
    # retry_if is a callable too: a file naming it gets its own ConfigurationError
    assert set(RetrySettings.model_fields) == {f.name for f in dataclasses.fields(RetryPolicy)} - {"retry_if"}


def test_provider_fields_reach_create_llm() -> None:
    config = load_config(
        {
            "defaults": {"api_version": "2024-10-21"},
            "models": {
                "t": {
                    "model": "zure/zpt-mini",
                    "deployment_name": "d",
                    "model_id": "zpt-ft",
                    "backups": [{"deployment_name": "d2", "api_version": "v1"}],
                }
            },
        }
    )
    kwargs = config.models["t"].llm_kwargs(config.defaults, "models.t")
    assert (kwargs["deployment_name"], kwargs["api_version"], kwargs["model_id"]) == (
        "d",
        "2024-10-21",
        "zpt-ft",
    )
    assert kwargs["backups"] == [{"deployment_name": "d2", "api_version": "v1"}]


def test_shared_provider_field_applies_only_to_providers_that_have_it() -> None:
    source = {
        "defaults": {"api_version": "2024-10-21", "api_key": SECRET},
        "models": {
            "z": {"model": "zure/zpt-mini", "endpoint": "https://z.example", "deployment_name": "d"},
            "a": {"model": "acme-1", "endpoint": "https://a.example"},
            "l": {"model": "local/tiny"},
        },
    }
    factory = LLMFactory.from_config(source, registry=make_registry())
    [zure] = endpoints(factory["z"])
    assert zure.settings == ZureSettings(deployment_name="d", api_version="2024-10-21")
    [acme] = endpoints(factory["a"])
    assert acme.settings is None and acme.endpoint == "https://a.example"
    assert acme.api_key is not None and acme.api_key.get_secret_value() == SECRET  # common fields still apply
    assert endpoints(factory["l"])[0].settings is None


def test_model_entry_overrides_a_shared_provider_field() -> None:
    source = {
        "defaults": {"api_version": "2024-10-21"},
        "models": {
            "z": {
                "model": "zure/zpt-mini",
                "api_key": "k",
                "endpoint": "https://z.example",
                "deployment_name": "d",
                "api_version": "v1",
            }
        },
    }
    [zure] = endpoints(LLMFactory.from_config(source, registry=make_registry())["z"])
    assert zure.settings == ZureSettings(deployment_name="d", api_version="v1")


def test_misspelt_shared_key_still_fails() -> None:
    source = {
        "defaults": {"api_verison": "2024-10-21"},
        "models": {"l": {"model": "local/tiny"}, "a": {"model": "acme-1", "api_key": "k"}},
    }
    config = load_config(source)  # a provider might have it: loads
    with pytest.raises(ConfigurationError) as info:
        LLMFactory(config, registry=make_registry())
    assert "unknown endpoint field(s) ['api_verison'] for local/tiny" in str(info.value)


def test_factory_config_is_reusable() -> None:
    config = FactoryConfig.model_validate({"models": {"a": {"model": "local/tiny"}}})
    assert LLMFactory(config, registry=make_registry()).names() == ["a"]
