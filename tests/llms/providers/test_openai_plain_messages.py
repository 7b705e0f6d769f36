"""Plain text dict messages take a shortcut to the wire (no typed messages built): it must write
exactly what the typed path writes, estimate the same prompt size, and leave anything else to the
typed path (which checks it)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_classes import model_class
from openai_testkit import ScriptedConnector

from core.llms.interfaces import ContextWindowExceededError, InvalidInputError, Message
from core.llms.interfaces.messages import normalize_messages, plain_text_messages
from core.llms.providers.dialects.openai_chat import OpenAIChatModel
from core.llms.providers.dialects.openai_chat.payload import build_chat_payload

O3 = model_class("openai/o3")
GPT41Mini = model_class("openai/gpt-4.1-mini")

ROLES = ["system", "developer", "user", "assistant"]

plain_message = st.fixed_dictionaries({"role": st.sampled_from(ROLES), "content": st.text(max_size=40)})


def typed_path(model: OpenAIChatModel, messages: list[dict[str, Any]]) -> tuple[list[Any], int]:
    """What the model writes for ``messages`` going through typed messages."""
    typed = normalize_messages(messages)
    payload = build_chat_payload("m", typed, {}, stream=False, system_role=model._system_role)
    return payload["messages"], model._estimate_tokens(typed)


@pytest.mark.parametrize("model_cls", [GPT41Mini, O3], ids=["system-role", "developer-role"])
@settings(max_examples=60, deadline=None)
@given(messages=st.lists(plain_message, min_size=1, max_size=5))
def test_the_shortcut_writes_what_the_typed_path_writes(
    model_cls: type[OpenAIChatModel], messages: list[dict[str, Any]]
) -> None:
    model = model_cls(ScriptedConnector())
    assert plain_text_messages(messages) is not None
    assert model._wire_messages(messages) == typed_path(model, messages)


def test_the_developer_role_models_get_the_system_prompt_as_developer() -> None:
    wire, _ = O3(ScriptedConnector())._wire_messages([{"role": "system", "content": "be brief"}])
    assert wire == [{"role": "developer", "content": "be brief"}]


@pytest.mark.parametrize(
    "messages",
    [
        "hello",
        [Message.user("hi")],
        ({"role": "user", "content": "hi"},),  # not a list
        [{"role": "user", "content": "hi", "name": "ann"}],  # another key
        [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],  # parts
        [{"role": "tool", "content": "42", "tool_call_id": "call_1"}],
        [{"role": "user", "content": None}],
        [{"role": "user"}, {"role": "assistant", "content": "x"}],
        [{"role": "user", "content": "hi"}, Message.user("typed")],
        [],
    ],
    ids=["str", "typed", "tuple", "name", "parts", "tool", "none-content", "no-content", "mixed", "empty"],
)
def test_anything_else_is_left_to_the_typed_path(messages: Any) -> None:
    assert plain_text_messages(messages) is None


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([{"role": "robot", "content": "hi"}], r"messages\[0\]\.role is 'robot'"),
        ([{"role": ["user"], "content": "hi"}], r"messages\[0\]\.role is \['user'\]"),
        ([{"role": "user", "content": "hi", "extra": 1}], r"unknown field\(s\) \['extra'\]"),
        ([{"role": "tool", "content": "42"}], "no tool_call_id"),
    ],
    ids=["unknown-role", "unhashable-role", "unknown-key", "tool-without-id"],
)
def test_what_the_shortcut_declines_is_still_checked(messages: Any, error: str) -> None:
    with pytest.raises(InvalidInputError, match=error):
        GPT41Mini(ScriptedConnector())._prepare(messages, {}, False)


def test_the_shortcut_still_refuses_a_prompt_too_long_for_the_model() -> None:
    model = GPT41Mini(ScriptedConnector())
    huge = [{"role": "user", "content": "x" * (4 * model.metadata.context_window)}]
    with pytest.raises(ContextWindowExceededError):
        model._prepare(huge, {}, False)
