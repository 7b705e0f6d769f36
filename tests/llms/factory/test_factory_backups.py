"""Backups: inherit every field they do not set; required fields are checked on each."""

from __future__ import annotations

import pytest
from plugins.support import SECRET, ZureSettings, make_registry

from core.llms.factory import create_llm
from core.llms.interfaces.endpoint import EndpointConfig, Timeouts
from core.llms.interfaces.errors import ConfigurationError
from core.llms.providers.base.failover import FailoverConnector
from core.llms.registry import ModelRegistry


@pytest.fixture
def registry() -> ModelRegistry:
    return make_registry()


def zure(registry: ModelRegistry, backups: list[object], **kw: object) -> list[EndpointConfig]:
    llm = create_llm(
        "zure/zpt-mini",
        api_key=SECRET,
        endpoint="https://east.example",
        deployment_name="dep-east",
        api_version="2024-10-21",
        timeouts={"connect": 2, "read": 20},
        backups=backups,  # type: ignore[arg-type]
        registry=registry,
        **kw,  # type: ignore[arg-type]
    )
    assert isinstance(llm.connector, FailoverConnector)
    return [c.endpoint for c in llm.connector.connectors]


def test_backups_inherit_unset_fields(registry: ModelRegistry) -> None:
    primary, west, south = zure(
        registry,
        [
            {"endpoint": "https://west.example"},
            {"endpoint": "https://south.example", "deployment_name": "dep-south", "api_key": "other-key"},
        ],
    )
    assert primary.settings == ZureSettings(deployment_name="dep-east", api_version="2024-10-21")
    assert west.endpoint == "https://west.example"
    assert west.settings == ZureSettings(deployment_name="dep-east", api_version="2024-10-21")
    assert west.api_key is not None and west.api_key.get_secret_value() == SECRET
    assert west.timeouts == primary.timeouts
    assert south.settings == ZureSettings(deployment_name="dep-south", api_version="2024-10-21")
    assert south.api_key is not None and south.api_key.get_secret_value() == "other-key"
    assert [e.display_name for e in (primary, west, south)] == [
        "https://east.example",
        "https://west.example",
        "https://south.example",
    ]


def test_backup_timeouts_merge_field_by_field(registry: ModelRegistry) -> None:
    _, backup = zure(registry, [{"endpoint": "https://west.example", "timeouts": {"read": 5}}])
    assert backup.timeouts == Timeouts(connect=2, read=5)


def test_same_url_other_deployment_gets_a_distinct_name(registry: ModelRegistry) -> None:
    primary, backup = zure(registry, [{"deployment_name": "dep-2"}])
    assert backup.endpoint == primary.endpoint
    assert backup.settings == ZureSettings(deployment_name="dep-2", api_version="2024-10-21")
    assert backup.display_name != primary.display_name


def test_each_backup_has_its_own_provider_fields_and_model_id(registry: ModelRegistry) -> None:
    primary, west, tuned, older = zure(
        registry,
        [
            {"endpoint": "https://west.example", "deployment_name": "dep-west"},
            {"model_id": "zpt-mini-ft"},
            {"api_version": "2024-02-01", "model_id": "zpt-mini-old", "deployment_name": "dep-old"},
        ],
        model_id="zpt-mini-east",
    )
    assert (primary.model_id, primary.settings) == (
        "zpt-mini-east",
        ZureSettings(deployment_name="dep-east", api_version="2024-10-21"),
    )
    assert (west.model_id, west.settings) == (
        "zpt-mini-east",  # inherited
        ZureSettings(deployment_name="dep-west", api_version="2024-10-21"),
    )
    assert (tuned.endpoint, tuned.model_id, tuned.settings) == (
        "https://east.example",
        "zpt-mini-ft",
        ZureSettings(deployment_name="dep-east", api_version="2024-10-21"),  # inherited
    )
    assert (older.model_id, older.settings) == (
        "zpt-mini-old",
        ZureSettings(deployment_name="dep-old", api_version="2024-02-01"),
    )
    # the same URL with another model id is told apart in logs
    assert len({e.display_name for e in (primary, west, tuned, older)}) == 4


def test_backup_may_be_an_endpoint_config(registry: ModelRegistry) -> None:
    config = EndpointConfig(
        endpoint="https://x.example",
        api_key="k",
        settings=ZureSettings(deployment_name="d", api_version="v"),
    )
    _, backup = zure(registry, [config])
    assert backup == config  # taken as it is: nothing inherited
    assert backup.settings == ZureSettings(deployment_name="d", api_version="v")


@pytest.mark.parametrize(
    "config",
    [
        EndpointConfig(endpoint="https://x.example", api_key="k"),
        EndpointConfig(endpoint="https://x.example", api_key="k", settings=Timeouts()),  # another class
    ],
)
def test_backup_endpoint_config_without_the_providers_settings(
    registry: ModelRegistry, config: EndpointConfig
) -> None:
    with pytest.raises(ConfigurationError) as info:
        zure(registry, [config])
    assert "backups[0] of zure/zpt-mini has no ZureSettings" in str(info.value)
    assert "deployment_name, api_version" in str(info.value.hint)


def test_backup_may_give_a_settings_object(registry: ModelRegistry) -> None:
    _, whole, patched = zure(
        registry,
        [
            {"settings": ZureSettings(deployment_name="d2", api_version="v2")},
            {"settings": ZureSettings(deployment_name="d3", api_version="v3"), "api_version": "v4"},
        ],
    )
    assert whole.settings == ZureSettings(deployment_name="d2", api_version="v2")
    assert patched.settings == ZureSettings(deployment_name="d3", api_version="v4")
    with pytest.raises(ConfigurationError, match="backups\\[0\\] of zure/zpt-mini has no ZureSettings"):
        zure(registry, [{"settings": None}])


def test_backup_unknown_field_lists_allowed(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        zure(registry, [{"endpoint": "https://west.example", "region": "west"}])
    text = str(info.value)
    assert "unknown endpoint field(s) ['region'] in backups[0] of zure/zpt-mini" in text
    # the common fields and the provider's own
    assert "deployment_name" in text and "api_version" in text and "model_id" in text
    assert SECRET not in text


def test_backup_may_not_set_fields_its_provider_does_not_have(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm(
            "acme-1",
            api_key=SECRET,
            endpoint="https://a.example",
            backups=[{"deployment_name": SECRET}],
            registry=registry,
        )
    text = str(info.value)
    assert "unknown endpoint field(s) ['deployment_name'] in backups[0] of acme/acme-1" in text
    assert "model_id" in text and SECRET not in text


def test_backup_clearing_a_required_field(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        zure(registry, [{"endpoint": "https://ok.example"}, {"deployment_name": None}])
    assert "backups[1] of zure/zpt-mini needs deployment_name" in str(info.value)


def test_backup_clearing_the_key(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError, match="backups\\[0\\] of zure/zpt-mini has no API key"):
        zure(registry, [{"endpoint": "https://ok.example", "api_key": None}])


@pytest.mark.parametrize(
    "bad",
    [
        {"endpoint": f"ftp://user:{SECRET}@host"},
        {"api_key": 12345, "endpoint": f"https://h.example/?k={SECRET}"},
        {"max_connections": -1, "headers": {"X-Key": SECRET}},
    ],
)
def test_invalid_backup_reports_no_values(registry: ModelRegistry, bad: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError) as info:
        zure(registry, [bad])
    text = str(info.value)
    assert "invalid backups[0] of zure/zpt-mini" in text
    assert SECRET not in text and "12345" not in text and SECRET not in repr(info.value)


def test_backup_must_be_a_mapping(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError, match="must be a mapping of endpoint fields, not str"):
        zure(registry, ["https://west.example"])


@pytest.mark.parametrize("backups", [{"endpoint": "https://west.example"}, "https://west.example", 3])
def test_backups_must_be_a_list(registry: ModelRegistry, backups: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        zure(registry, backups)  # type: ignore[arg-type]
    kind = type(backups).__name__
    assert f"backups of zure/zpt-mini must be a list of endpoint settings (mappings), not {kind}" in str(
        info.value
    )
    assert "backups=[{" in str(info.value.hint)


def test_backups_may_be_a_tuple(registry: ModelRegistry) -> None:
    _, west = zure(registry, ({"endpoint": "https://west.example"},))  # type: ignore[arg-type]
    assert west.endpoint == "https://west.example"


def test_backup_api_key_is_stripped_or_refused_without_its_value(registry: ModelRegistry) -> None:
    _, west = zure(registry, [{"endpoint": "https://west.example", "api_key": f"{SECRET}-west\n"}])
    assert west.api_key is not None and west.api_key.get_secret_value() == f"{SECRET}-west"
    with pytest.raises(ConfigurationError) as info:
        zure(registry, [{"api_key": f"{SECRET}\n{SECRET}"}])
    text = str(info.value)
    assert "invalid backups[0] of zure/zpt-mini: EndpointConfig.api_key contains a control character" in text
    assert SECRET not in text and SECRET not in repr(info.value) and SECRET not in str(info.value.hint)
