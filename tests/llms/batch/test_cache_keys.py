"""request_key: equal requests give one key, different ones different keys, in every process."""

from __future__ import annotations

import base64
import enum
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import core.llms.batch as batch
from core.llms.batch.cache import request_key
from core.llms.batch.cache.keys import IGNORED_PARAMS, KEY_VERSION, canonical_request
from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import InvalidInputError
from core.llms.interfaces.messages import (
    AudioPart,
    FilePart,
    FunctionCall,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


class Person(BaseModel):
    name: str
    age: int


class Animal(BaseModel):
    name: str
    legs: int


class Colour(enum.Enum):
    RED = "red"


@dataclass
class Point:
    x: int
    y: int


def key(messages: Any = "hi", model: str = "gpt-4o-mini", **params: Any) -> str:
    return request_key(model, messages, params)


# ------------------------------------------------------------------------------------ basics


def test_key_is_hex_sha256_and_exported() -> None:
    k = key()
    assert len(k) == 64 and all(c in "0123456789abcdef" for c in k)
    assert batch.request_key is request_key


def test_known_value_pins_the_format() -> None:
    # A change of the canonical form must bump KEY_VERSION (and this value).
    assert KEY_VERSION == 1
    assert canonical_request("m", "hi", {"temperature": 0}) == {
        "v": 1,
        "model": "m",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "params": {"temperature": 0},
    }
    pinned = "9d33060c3b811ae5c81ed75562796eb015ef4cfcce7f5ebb155cfb49be63f5f7"
    assert request_key("m", "hi", {"temperature": 0}) == pinned
    assert request_key("m", [{"role": "user", "content": "hi"}], {"temperature": 0.0}) == pinned


def test_same_key_in_other_processes_and_hash_seeds() -> None:
    code = (
        "from core.llms.batch import request_key;"
        "print(request_key('gpt-4o', [('system', 'Be brief.'), ('user', 'hi')],"
        " {'temperature': 0.2, 'stop': ['a', 'b'], 'tools': [{'b': 1, 'a': {'y': 2, 'x': 1}}]}))"
    )
    here = request_key(
        "gpt-4o",
        [("system", "Be brief."), ("user", "hi")],
        {"temperature": 0.2, "stop": ["a", "b"], "tools": [{"a": {"x": 1, "y": 2}, "b": 1}]},
    )
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=os.getcwd()
        )
        assert out.stdout.strip() == here


# ------------------------------------------------------------------------------------ messages


@pytest.mark.parametrize(
    "messages",
    [
        "hi",
        [{"role": "user", "content": "hi"}],
        [("user", "hi")],
        ("user", "hi"),
        {"role": "user", "content": "hi"},
        Message.user("hi"),
        [Message("user", (TextPart("hi"),))],
        [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        ["hi"],
    ],
)
def test_message_spellings_give_one_key(messages: Any) -> None:
    assert key(messages) == key("hi")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("hi", "hi "),
        ("hi", "Hi"),
        ([("user", "hi")], [("system", "hi")]),
        ([("user", "a"), ("user", "b")], [("user", "b"), ("user", "a")]),
        ([("user", "ab")], [("user", "a"), ("user", "b")]),
        ([{"role": "user", "content": "hi", "name": "ann"}], [{"role": "user", "content": "hi"}]),
        (
            [{"role": "user", "content": "hi", "name": "ann"}],
            [{"role": "user", "content": "hi", "name": "bob"}],
        ),
        ([("user", "hi")], [("user", "hi"), ("assistant", "")]),
        ("x", "y"),
    ],
)
def test_different_messages_give_different_keys(a: Any, b: Any) -> None:
    assert key(a) != key(b)


def _tool_turn(
    call_id: str = "c1", args: str = '{"q": 1}', result_id: str = "c1", result: str = "42"
) -> list[Any]:
    return [
        ("user", "what?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "f", "arguments": args}}],
        },
        {"role": "tool", "tool_call_id": result_id, "content": result},
    ]


def test_tool_calls_and_results_are_part_of_the_key() -> None:
    base = key(_tool_turn())
    assert key(_tool_turn()) == base
    typed = [
        Message.user("what?"),
        Message.assistant(tool_calls=[ToolCall("c1", FunctionCall("f", '{"q": 1}'))]),
        Message.tool("c1", "42"),
    ]
    assert key(typed) == base
    assert key(_tool_turn(call_id="c2", result_id="c2")) != base
    assert key(_tool_turn(args='{"q": 2}')) != base
    assert key(_tool_turn(result="43")) != base
    assert key(_tool_turn(result_id="c9")) != base


def test_images_by_url_and_by_bytes() -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    by_bytes = key(Message.user("look", ImagePart(data=PNG, media_type="image/png")))
    by_data_url = key(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": data_url}},
                ],
            }
        ]
    )
    assert by_bytes == by_data_url
    assert key(Message.user("look", ImagePart(data=PNG + b"x", media_type="image/png"))) != by_bytes
    assert key(Message.user("look", ImagePart(data=PNG, media_type="image/jpeg"))) != by_bytes
    assert key(Message.user("look", ImagePart(data=PNG, media_type="IMAGE/PNG"))) == by_bytes
    url_a = key(Message.user("look", ImagePart(url="https://example.com/a.png")))
    assert url_a == key(
        [
            {
                "role": "user",
                "content": ["look", {"type": "image_url", "image_url": "https://example.com/a.png"}],
            }
        ]
    )
    assert url_a != key(Message.user("look", ImagePart(url="https://example.com/b.png")))
    assert url_a != key(Message.user("look", ImagePart(url="https://example.com/a.png", detail="low")))
    assert url_a != by_bytes


def test_audio_and_files() -> None:
    audio = key(Message.user("transcribe", AudioPart(b"RIFF1234", "wav")))
    assert audio == key(Message.user("transcribe", AudioPart(b"RIFF1234", "wav")))
    assert audio != key(Message.user("transcribe", AudioPart(b"RIFF1235", "wav")))
    assert audio != key(Message.user("transcribe", AudioPart(b"RIFF1234", "mp3")))
    as_dict = [
        {
            "role": "user",
            "content": [
                "transcribe",
                {
                    "type": "input_audio",
                    "input_audio": {"data": base64.b64encode(b"RIFF1234").decode(), "format": "wav"},
                },
            ],
        }
    ]
    assert key(as_dict) == audio
    pdf = key(Message.user(FilePart(data=b"%PDF-1.4 a")))
    assert pdf == key(Message.user(FilePart(data=b"%PDF-1.4 a")))
    assert pdf != key(Message.user(FilePart(data=b"%PDF-1.4 b")))
    assert pdf != key(Message.user(FilePart(data=b"%PDF-1.4 a", filename="a.pdf")))
    assert key(Message.user(FilePart(file_id="file-1"))) != key(Message.user(FilePart(file_id="file-2")))
    assert key(Message.user(FilePart(url="https://x/a.pdf"))) != key(
        Message.user(FilePart(file_id="https://x/a.pdf"))
    )


def test_big_bytes_do_not_end_up_in_the_document() -> None:
    blob = os.urandom(1 << 20)
    document = canonical_request("m", Message.user(ImagePart(data=blob, media_type="image/png")))
    assert len(json.dumps(document)) < 1000


# ------------------------------------------------------------------------------------ params


@pytest.mark.parametrize("name", sorted(IGNORED_PARAMS))
def test_ignored_params_do_not_change_the_key(name: str) -> None:
    assert key(temperature=0, **{name: "whatever"}) == key(temperature=0)


def test_documented_ignored_params() -> None:
    for name in (
        "timeout",
        "ctx",
        "stream",
        "idempotency_key",
        "request_id",
        "extra_headers",
        "user",
        "metadata",
    ):
        assert name in IGNORED_PARAMS
    assert key(ctx=RequestContext()) == key()
    assert request_key("m", "hi", None) == request_key("m", "hi", {})


@pytest.mark.parametrize(
    ("name", "a", "b"),
    [
        ("temperature", 0.0, 0.7),
        ("max_tokens", 100, 101),
        ("top_p", 0.9, 1.0),
        ("seed", 1, 2),
        ("stop", ["a"], ["b"]),
        (
            "tools",
            [{"type": "function", "function": {"name": "f"}}],
            [{"type": "function", "function": {"name": "g"}}],
        ),
        ("tool_choice", "auto", "required"),
        ("response_format", {"type": "json_object"}, {"type": "text"}),
        ("response_format", Person, Animal),
        ("reasoning_effort", "low", "high"),
        ("n", 1, 2),
        ("some_future_param", 1, 2),
        ("frequency_penalty", 0.0, 0.5),
        ("logit_bias", {"1": 1}, {"1": 2}),
    ],
)
def test_answer_changing_params(name: str, a: Any, b: Any) -> None:
    assert key(**{name: a}) == key(**{name: a})
    assert key(**{name: a}) != key(**{name: b})
    assert key(**{name: a}) != key()


def test_param_and_dict_order_never_matter() -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {}, "b": {}}}},
        }
    ]
    reordered = [
        {
            "function": {"parameters": {"properties": {"b": {}, "a": {}}, "type": "object"}, "name": "f"},
            "type": "function",
        }
    ]
    assert key(temperature=0.1, max_tokens=5, tools=tools) == request_key(
        "gpt-4o-mini", "hi", {"tools": reordered, "max_tokens": 5, "temperature": 0.1}
    )


def test_number_and_sequence_spellings() -> None:
    assert key(temperature=1) == key(temperature=1.0)
    assert key(temperature=True) != key(temperature=1)
    assert key(stop=("a", "b")) == key(stop=["a", "b"])
    assert key(stop=["a", "b"]) != key(stop=["b", "a"])
    assert key(stop={"b", "a"}) == key(stop=frozenset({"a", "b"}))
    assert key(temperature=float("nan")) == key(temperature=float("nan"))
    assert key(temperature=float("inf")) != key(temperature=float("nan"))
    assert key(x=None) != key()


def test_rich_values() -> None:
    assert key(response_format=Person) == key(response_format=Person)
    assert key(tools=[Person]) != key(tools=[Animal])
    assert key(x=Person(name="a", age=1)) == key(x=Person(name="a", age=1))
    assert key(x=Person(name="a", age=1)) != key(x=Person(name="a", age=2))
    assert key(x=Colour.RED) == key(x="red")
    assert key(x=Point(1, 2)) == key(x=Point(1, 2)) != key(x=Point(2, 1))
    assert key(x=b"abc") == key(x=bytearray(b"abc")) != key(x=b"abd")


def test_model_is_part_of_the_key() -> None:
    assert key(model="a") != key(model="b")
    assert key(model="openai/gpt-4o") != key(model="gpt-4o")


# ------------------------------------------------------------------------------------ errors


class _Secretive:
    def __repr__(self) -> str:
        return "sk-live-SECRET"

    __str__ = __repr__


def test_unkeyable_value_names_the_parameter_not_the_value() -> None:
    with pytest.raises(InvalidInputError) as info:
        key(api_thing={"nested": [_Secretive()]})
    message = str(info.value)
    assert "'api_thing'" in message and "_Secretive" in message
    assert "SECRET" not in message and "SECRET" not in repr(info.value)
    assert info.value.__cause__ is None


@pytest.mark.parametrize(
    "value",
    [object(), {1: "a"}, lambda: None, {"a": {2.5: 1}}, [1, {"k": object()}]],
    ids=["object", "int-key", "function", "float-key", "nested"],
)
def test_unkeyable_values(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="'p'"):
        key(p=value)


def test_self_containing_value() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(InvalidInputError, match="contains itself"):
        key(p=loop)


def test_bad_model_params_and_messages() -> None:
    with pytest.raises(InvalidInputError, match="model"):
        request_key(42, "hi")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="params"):
        request_key("m", "hi", ["temperature"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="parameter names"):
        request_key("m", "hi", {1: 2})  # type: ignore[dict-item]
    with pytest.raises(InvalidInputError):
        request_key("m", [])
    with pytest.raises(InvalidInputError):
        request_key("m", [{"role": "wizard", "content": "hi"}])


# ------------------------------------------------------------------------------------ properties

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@settings(max_examples=150, deadline=None)
@given(params=st.dictionaries(st.text(min_size=1, max_size=10), _json, max_size=5), seed=st.integers(0, 1000))
def test_key_ignores_dict_order(params: dict[str, Any], seed: int) -> None:
    assert request_key("m", "hi", params) == request_key("m", "hi", _shuffled(params, random.Random(seed)))


@settings(max_examples=150, deadline=None)
@given(a=_json, b=_json)
def test_keys_equal_exactly_when_canonical_documents_are(a: Any, b: Any) -> None:
    def text(value: Any) -> str:
        return json.dumps(canonical_request("m", "hi", {"p": value}), sort_keys=True)

    same_document = text(a) == text(b)
    assert (request_key("m", "hi", {"p": a}) == request_key("m", "hi", {"p": b})) == same_document


@settings(max_examples=100, deadline=None)
@given(
    a=st.lists(st.text(max_size=20), min_size=1, max_size=3),
    b=st.lists(st.text(max_size=20), min_size=1, max_size=3),
)
def test_texts_give_equal_keys_exactly_when_equal(a: list[str], b: list[str]) -> None:
    assert (key([("user", t) for t in a]) == key([("user", t) for t in b])) == (a == b)
