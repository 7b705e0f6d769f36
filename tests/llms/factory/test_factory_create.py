"""create_llm: resolution, environment fallbacks, required fields, unknown fields, no secrets."""

from __future__ import annotations

import pytest
from plugins.support import (
    SECRET,
    AcmeOne,
    AcmePlugin,
    EchoLLM,
    ZureMini,
    ZureSettings,
    make_registry,
)
from plugins.test_plugins_observer import Recorder

from core.llms.factory import create_llm
from core.llms.interfaces.endpoint import EndpointConfig, Timeouts
from core.llms.interfaces.errors import ConfigurationError, UnknownModelError
from core.llms.plugins import PluginObserver
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.retry import RetryPolicy
from core.llms.registry import ModelRegistry


@pytest.fixture
def registry() -> ModelRegistry:
    return make_registry()


def endpoints(llm: BaseLLM) -> list[EndpointConfig]:
    connector = llm.connector
    assert isinstance(connector, FailoverConnector)
    return [c.endpoint for c in connector.connectors]


def no_secret(error: BaseException) -> None:
    assert SECRET not in str(error) and SECRET not in repr(error)
    assert SECRET not in str(getattr(error, "hint", "") or "")


def test_explicit_settings(registry: ModelRegistry) -> None:
    llm = create_llm(
        "acme/acme-1",
        api_key=SECRET,
        endpoint="https://acme.example/v1/",
        model_id="acme-1-custom",
        headers={"X-Team": "a"},
        timeouts={"read": 5},
        defaults={"temperature": 0.1},
        registry=registry,
    )
    assert type(llm) is AcmeOne
    [primary] = endpoints(llm)
    assert primary.endpoint == "https://acme.example/v1"
    assert primary.api_key is not None and primary.api_key.get_secret_value() == SECRET
    assert primary.model_id == "acme-1-custom" and primary.headers == {"X-Team": "a"}
    assert primary.settings is None  # acme has no settings class
    assert primary.timeouts == Timeouts(read=5)
    assert llm._defaults == {"temperature": 0.1}
    assert SECRET not in repr(llm)


def test_alias_and_bare_names_give_the_models_own_class(registry: ModelRegistry) -> None:
    for name in ("acme-latest", "acme/acme-latest", "acme-1"):
        assert type(create_llm(name, api_key="k", endpoint="https://a.example", registry=registry)) is AcmeOne


def test_env_fallbacks(registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZURE_API_KEY", SECRET)
    monkeypatch.setenv("ZURE_ENDPOINT", "https://zure.example")
    monkeypatch.setenv("ZURE_DEPLOYMENT", "dep-env")
    monkeypatch.setenv("ZURE_API_VERSION", "2024-10-21")
    llm = create_llm("zure/zpt-mini", registry=registry)
    assert isinstance(llm, ZureMini)
    [primary] = endpoints(llm)
    assert primary.endpoint == "https://zure.example"
    assert primary.api_key is not None and primary.api_key.get_secret_value() == SECRET
    assert primary.settings == ZureSettings(deployment_name="dep-env", api_version="2024-10-21")


def test_explicit_values_beat_env(registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", "from-env")
    monkeypatch.setenv("ACME_ENDPOINT", "https://env.example")
    [primary] = endpoints(
        create_llm("acme-1", api_key="given", endpoint="https://given.example", registry=registry)
    )
    assert primary.endpoint == "https://given.example"
    assert primary.api_key is not None and primary.api_key.get_secret_value() == "given"


def test_explicit_settings_fields_beat_env(registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZURE_DEPLOYMENT", "dep-env")
    monkeypatch.setenv("ZURE_API_VERSION", "version-env")
    [primary] = endpoints(
        create_llm(
            "zure/zpt-mini",
            api_key="k",
            endpoint="https://z.example",
            deployment_name="dep-given",
            registry=registry,
        )
    )
    assert primary.settings == ZureSettings(deployment_name="dep-given", api_version="version-env")
    # "" counts as not given, as for the common fields
    [primary] = endpoints(
        create_llm(
            "zure/zpt-mini", api_key="k", endpoint="https://z.example", deployment_name="", registry=registry
        )
    )
    assert primary.settings == ZureSettings(deployment_name="dep-env", api_version="version-env")


def test_settings_fields_of_another_provider_are_unknown(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm(
            "acme-1", api_key=SECRET, endpoint="https://a.example", deployment_name=SECRET, registry=registry
        )
    text = str(info.value)
    assert "unknown endpoint field(s) ['deployment_name'] for acme/acme-1" in text
    assert "api_version" not in text  # acme has no settings: only the common fields are offered
    no_secret(info.value)


def test_api_key_surrounding_whitespace_is_removed(registry: ModelRegistry) -> None:
    [primary] = endpoints(
        create_llm("acme-1", api_key="key\n", endpoint="https://a.example", registry=registry)
    )
    assert primary.api_key is not None and primary.api_key.get_secret_value() == "key"
    [primary] = endpoints(
        create_llm("acme-1", api_key=f"\t{SECRET}\r\n", endpoint="https://a.example", registry=registry)
    )
    assert primary.api_key is not None and primary.api_key.get_secret_value() == SECRET


def test_api_key_from_env_is_stripped(registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", f"{SECRET}\n")  # e.g. export ACME_API_KEY=$(cat key.txt)
    [primary] = endpoints(create_llm("acme-1", endpoint="https://a.example", registry=registry))
    assert primary.api_key is not None and primary.api_key.get_secret_value() == SECRET


@pytest.mark.parametrize("key", ["a\nb", f"{SECRET}\n{SECRET}", f"{SECRET}\x00", "a\rb"])
def test_api_key_with_a_line_break_inside_is_refused_without_its_value(
    registry: ModelRegistry, key: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm("acme-1", api_key=key, endpoint="https://a.example", registry=registry)
    text = str(info.value)
    assert (
        "invalid endpoint settings of acme/acme-1: EndpointConfig.api_key contains a control character"
        in text
    )
    no_secret(info.value)
    assert key not in text and key not in repr(info.value) and key not in str(info.value.hint)


def test_api_key_of_only_whitespace_is_refused(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError, match=r"EndpointConfig.api_key is empty \(or only whitespace\)"):
        create_llm("acme-1", api_key=" \n", endpoint="https://a.example", registry=registry)


def test_empty_env_var_does_not_count(registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", "")
    with pytest.raises(ConfigurationError, match="needs an API key"):
        create_llm("acme-1", endpoint="https://a.example", registry=registry)


def test_empty_strings_count_as_not_given(registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_ENDPOINT", "https://env.example")
    with pytest.raises(ConfigurationError, match="needs an API key"):
        create_llm("acme-1", api_key="", endpoint="", registry=registry)
    monkeypatch.setenv("ACME_API_KEY", "k")
    assert endpoints(create_llm("acme-1", api_key="", endpoint="", registry=registry))[0].endpoint == (
        "https://env.example"
    )


def test_default_endpoint_and_keyless_provider(registry: ModelRegistry) -> None:
    llm = create_llm("local/tiny", registry=registry)
    [primary] = endpoints(llm)
    assert primary.endpoint == "http://127.0.0.1:9" and primary.api_key is None


def test_generic_model(registry: ModelRegistry) -> None:
    llm = create_llm("local/phi-9:q4", endpoint="http://127.0.0.1:1", registry=registry)
    assert isinstance(llm, EchoLLM)
    assert llm.metadata.qualified_name == "local/phi-9:q4"


def test_missing_api_key_names_env_var(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm("acme/acme-1", endpoint="https://a.example", registry=registry)
    text = str(info.value)
    assert "acme/acme-1 needs an API key" in text and "ACME_API_KEY" in text


def test_token_provider_replaces_api_key(registry: ModelRegistry) -> None:
    llm = create_llm("acme-1", endpoint="https://a.example", token_provider=lambda: "tok", registry=registry)
    assert endpoints(llm)[0].token_provider is not None


def test_missing_endpoint_names_env_var(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm("acme-1", api_key=SECRET, registry=registry)
    assert "acme/acme-1 needs an endpoint" in str(info.value) and "ACME_ENDPOINT" in str(info.value)
    no_secret(info.value)


@pytest.mark.parametrize(
    ("missing", "env"), [("deployment_name", "ZURE_DEPLOYMENT"), ("api_version", "ZURE_API_VERSION")]
)
def test_missing_required_field_names_field_model_and_env(
    registry: ModelRegistry, missing: str, env: str
) -> None:
    fields = {"deployment_name": "d", "api_version": "v"}
    del fields[missing]
    with pytest.raises(ConfigurationError) as info:
        create_llm("zpt-mini", api_key=SECRET, endpoint="https://z.example", registry=registry, **fields)
    text = str(info.value)
    assert f"zure/zpt-mini needs {missing}" in text and env in text
    no_secret(info.value)


def test_unknown_endpoint_field_lists_allowed(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm(
            "zure/zpt-mini", api_key=SECRET, endpoint="https://a.example", deployment="x", registry=registry
        )
    text = str(info.value)
    assert "unknown endpoint field(s) ['deployment']" in text
    # the common fields and the provider's own (its settings class)
    assert "deployment_name" in text and "api_version" in text and "proxy" in text and "model_id" in text
    no_secret(info.value)


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("base_url", "endpoint"),  # the OpenAI SDK's name
        ("api_base", "endpoint"),  # LiteLLM's
        ("azure_deployment", "deployment_name"),
        ("timeout", "timeouts"),
        ("default_headers", "headers"),
        ("api_verison", "api_version"),  # a close spelling of a provider field
        ("proxi", "proxy"),
        ("max_retries", "retry"),  # create_llm's own keyword, not an endpoint field
    ],
)
def test_unknown_endpoint_field_suggests_the_field_meant(
    registry: ModelRegistry, given: str, meant: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm(
            "zure/zpt-mini",
            api_key=SECRET,
            endpoint="https://a.example",
            registry=registry,
            **{given: SECRET},
        )
    text = str(info.value)
    assert f"unknown endpoint field(s) ['{given}'] for " in text
    assert f"did you mean {meant} (not {given})?" in text
    no_secret(info.value)


def test_unknown_field_without_a_likely_meaning_gets_no_guess(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm("acme-1", api_key=SECRET, endpoint="https://a.example", registry=registry, zzz=1)
    assert "did you mean" not in str(info.value) and "allowed: " in str(info.value)


def test_unknown_retry_field_suggests_close_spelling(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm(
            "acme-1",
            api_key=SECRET,
            endpoint="https://a.example",
            registry=registry,
            retry={"max_retry": 2},
        )
    assert "unknown retry field(s) ['max_retry']" in str(info.value)
    assert "did you mean max_retries (not max_retry)?" in str(info.value)


def test_invalid_values_are_reported_without_secret(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_llm("acme-1", api_key=SECRET, endpoint=f"ftp://{SECRET}@host", registry=registry)
    assert "endpoint" in str(info.value)
    no_secret(info.value)
    with pytest.raises(ConfigurationError) as info:
        create_llm(
            "acme-1", api_key=SECRET, endpoint="https://a.example", max_connections=0, registry=registry
        )
    assert "max_connections" in str(info.value)
    no_secret(info.value)


def test_retry_policy_object_or_mapping(registry: ModelRegistry) -> None:
    policy = RetryPolicy(max_retries=5)
    llm = create_llm("local/tiny", retry=policy, registry=registry)
    assert isinstance(llm.connector, FailoverConnector) and llm.connector.policy is policy
    llm = create_llm("local/tiny", retry={"max_retries": 0, "rate_limit": "failover"}, registry=registry)
    assert isinstance(llm.connector, FailoverConnector)
    assert llm.connector.policy == RetryPolicy(max_retries=0, rate_limit="failover")


def test_retry_errors(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError, match=r"unknown retry field\(s\) \['retries'\]"):
        create_llm("local/tiny", retry={"retries": 1}, registry=registry)
    with pytest.raises(ConfigurationError, match="jitter"):
        create_llm("local/tiny", retry={"jitter": 3.0}, registry=registry)


def test_breaker_settings_are_checked(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigurationError, match="failure_threshold"):
        create_llm("local/tiny", failure_threshold=0, registry=registry)
    with pytest.raises(ConfigurationError, match="failure_threshold must be an integer >= 1"):
        create_llm("local/tiny", failure_threshold=True, registry=registry)
    for cooldown in (-1, -0.5, float("nan"), "5", True, None):
        with pytest.raises(ConfigurationError, match="cooldown must be a number of seconds >= 0"):
            create_llm("local/tiny", cooldown=cooldown, registry=registry)  # type: ignore[arg-type]
    for n, cooldown in enumerate((0, 0.0, 2.5)):
        url = f"https://cooldown-{n}.example"  # one endpoint each: a shared one keeps its first breaker
        llm = create_llm(
            "local/tiny", endpoint=url, cooldown=cooldown, failure_threshold=2, registry=registry
        )
        assert isinstance(llm.connector, FailoverConnector)
        breaker = llm.connector.breaker(url)
        assert (breaker.cooldown, breaker.failure_threshold) == (cooldown, 2)


def test_unknown_model(registry: ModelRegistry) -> None:
    with pytest.raises(UnknownModelError, match=r"did you mean .*acme/acme-1"):
        create_llm("acme/acme-l", registry=registry)


def test_observer_only_when_a_plugin_observes(registry: ModelRegistry) -> None:
    assert create_llm("local/tiny", registry=registry)._observer is None
    observing = make_registry(("rec", Recorder()))
    assert isinstance(create_llm("local/tiny", registry=observing)._observer, PluginObserver)


def test_registry_without_plugin_manager(registry: ModelRegistry) -> None:
    direct = ModelRegistry()
    for spec in registry.providers():
        direct.register_provider(spec)
    direct.register_model(AcmeOne)
    llm = create_llm("acme-1", api_key="k", endpoint="https://a.example", registry=direct)
    assert type(llm) is AcmeOne and llm._observer is None


async def test_default_registry_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from plugins.support import make_pm

    monkeypatch.setattr("core.llms.plugins.build_plugin_manager", lambda: make_pm(("acme", AcmePlugin())))
    async with create_llm("acme-1", api_key="k", endpoint="https://a.example") as llm:
        assert type(llm) is AcmeOne
