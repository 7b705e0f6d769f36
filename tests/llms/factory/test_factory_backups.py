"""Backups: inherit every field they do not set; required fields are checked on each."""

from __future__ import annotations

import pytest
from plugins.support import SECRET, make_registry

from core.llms.factory import create_llm
from core.llms.interfaces.errors import ConfigurationError
from core.llms.providers.base.endpoint import EndpointConfig, Timeouts
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
    assert west.endpoint == "https://west.example"
    assert (west.deployment_name, west.api_version) == ("dep-east", "2024-10-21")
    assert west.api_key is not None and west.api_key.get_secret_value() == SECRET
    assert west.timeouts == primary.timeouts
    assert south.deployment_name == "dep-south"
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
    assert backup.display_name != primary.display_name


def test_backup_may_be_an_endpoint_config(registry: ModelRegistry) -> None:
    config = EndpointConfig(
        endpoint="https://x.example",
        api_key="k",
        deployment_name="d",
        api_version="v",  # type: ignore[arg-type]
    )
    _, backup = zure(registry, [config])
    assert backup.endpoint == "https://x.example"


def test_backup_unknown_field_lists_allowed(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        zure(registry, [{"endpoint": "https://west.example", "region": "west"}])
    text = str(info.value)
    assert "unknown endpoint field(s) ['region'] in backups[0] of zure/zpt-mini" in text
    assert "deployment_name" in text and SECRET not in text


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
