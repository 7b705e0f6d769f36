"""The hot path's shortcuts give exactly what the full way gives: the plain-call request
(``OpenAIBaseLLM._plain_request``) and the plain-answer parse (``parsing._plain_completion``)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from model_classes import model_class
from openai_testkit import ScriptedConnector

from core.llms.interfaces.errors import LLMError
from core.llms.providers.dialects.openai_chat import parsing

MODELS = ["openai/gpt-4.1-mini", "openai/o4-mini", "azure/gpt-5-mini", "groq/llama-3.3-70b-versatile"]


def cost(usage: Any) -> float | None:
    return None if usage is None else usage.input_tokens * 1e-6 + usage.output_tokens * 2e-6


text = st.text(max_size=30)
counts = st.one_of(st.integers(-2, 10**6), st.none(), st.text(max_size=3), st.booleans(), st.floats())
bodies = st.fixed_dictionaries(
    {
        "choices": st.lists(
            st.fixed_dictionaries(
                {
                    "index": st.just(0),
                    "message": st.fixed_dictionaries(
                        {"role": st.just("assistant"), "content": st.one_of(text, st.none(), st.integers())},
                        optional={
                            "refusal": st.one_of(st.none(), text),
                            "annotations": st.just([]),
                            "tool_calls": st.just(
                                [{"id": "c", "function": {"name": "f", "arguments": "{}"}}]
                            ),
                            "reasoning_content": text,
                        },
                    ),
                    "finish_reason": st.one_of(
                        st.sampled_from(["stop", "length", "tool_calls", "content_filter", "weird"]),
                        st.none(),
                        st.integers(),
                    ),
                },
                optional={"content_filter_results": st.just({"hate": {"filtered": False}})},
            ),
            min_size=0,
            max_size=2,
        ),
    },
    optional={
        "model": st.one_of(text, st.none(), st.integers()),
        "usage": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {"prompt_tokens": counts, "completion_tokens": counts},
                optional={
                    "total_tokens": counts,
                    "prompt_tokens_details": st.just({"cached_tokens": 3}),
                    "completion_tokens_details": st.fixed_dictionaries({"reasoning_tokens": counts}),
                },
            ),
        ),
        "prompt_filter_results": st.just([{"prompt_index": 0}]),
    },
)


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_plain_answer_shortcut_equals_the_full_parse(body: dict[str, Any]) -> None:
    plain = parsing._plain_completion(body, "openai", "m", cost)
    try:
        full = parsing._parse_completion(body, "openai", "m", cost, None)
    except LLMError:
        assert plain is None  # the shortcut never accepts what the full way refuses
        return
    if plain is not None:
        assert plain == full


def test_the_usual_answer_takes_the_shortcut() -> None:
    body = {
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hi", "refusal": None, "annotations": []},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    assert parsing._plain_completion(body, "openai", "m", cost) is not None


messages = st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant"]), "content": text}),
    min_size=1,
    max_size=4,
)
params = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"max_tokens": st.one_of(st.integers(-5, 300_000), st.none(), st.booleans())}),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MODELS), messages, params, st.booleans())
def test_plain_request_shortcut_equals_the_full_way(
    name: str, msgs: list[dict[str, Any]], call_params: dict[str, Any], stream: bool
) -> None:
    model = model_class(name)(ScriptedConnector())
    try:
        shortcut = model._plain_request(msgs, call_params, stream)
    except LLMError as exc:
        shortcut = exc
    model.__dict__["_plain_call"] = None  # the full way only
    try:
        full = model._prepare(msgs, call_params, stream)[0]
    except LLMError as exc:
        assert isinstance(shortcut, type(exc)) and str(shortcut) == str(exc)
        return
    assert shortcut is not None and not isinstance(shortcut, LLMError)
    assert (shortcut.payload, shortcut.model, shortcut.stream, shortcut.model_fixed) == (
        full.payload,
        full.model,
        full.stream,
        full.model_fixed,
    )
    assert (shortcut.read_timeout, shortcut.total_timeout, shortcut.headers) == (None, None, None)
