"""Structured output: JSON documents generated from JSON schemas validate against them."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field
from simulator_helpers import Api, user

from core.llms.simulator.generation import SchemaError, value_for_schema


class Color(StrEnum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    street: str
    city: str = Field(min_length=3, max_length=40)
    zip_code: str | None = None


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    age: int = Field(ge=18, le=120)
    score: float = Field(gt=0, lt=1)
    active: bool
    favourite: Color
    kind: Literal["customer", "vendor"]
    born: dt.date
    updated: dt.datetime
    website: str = Field(json_schema_extra={"format": "uri"})
    home: Address
    others: list[Address] = Field(min_length=2)
    tags: list[str]
    nickname: str | None
    lucky: int = Field(multiple_of=7, ge=10)


class TreeNode(BaseModel):
    label: str
    children: list[TreeNode] = []


def _schema_format(model: type[BaseModel], name: str = "Answer") -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


@pytest.mark.parametrize("model", [Person, Address, TreeNode])
async def test_json_schema_content_validates(api: Api, model: type[BaseModel]) -> None:
    body = await api.chat(user("fill it in", response_format=_schema_format(model)))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    model.model_validate_json(choice["message"]["content"])


async def test_person_values_are_derived_from_names(api: Api) -> None:
    body = await api.chat(user("x", response_format=_schema_format(Person)))
    person = Person.model_validate_json(body["choices"][0]["message"]["content"])
    assert "name" in person.name
    assert person.website.startswith("https://")
    assert len(person.others) == 2
    assert person.lucky % 7 == 0 and person.lucky >= 10
    assert 0 < person.score < 1


async def test_json_schema_is_deterministic(api: Api) -> None:
    fmt = _schema_format(Person)
    a = await api.chat(user("x", response_format=fmt))
    b = await api.chat(user("different words", response_format=fmt))
    assert a["choices"][0]["message"]["content"] == b["choices"][0]["message"]["content"]


@pytest.mark.parametrize("route", ["openai", "azure"])
async def test_json_schema_streams(api: Api, route: str) -> None:
    body = user("x", response_format=_schema_format(Person))
    events = await api.stream(body, route)
    pieces = [c["delta"]["content"] for e in events for c in e["choices"] if c["delta"].get("content")]
    assert len(pieces) > 5
    Person.model_validate_json("".join(pieces))
    assert "".join(pieces) == (await api.chat(body, route))["choices"][0]["message"]["content"]


async def test_json_object_mode(api: Api) -> None:
    body = await api.chat(user("Answer in JSON please", response_format={"type": "json_object"}))
    parsed = json.loads(body["choices"][0]["message"]["content"])
    assert isinstance(parsed, dict) and parsed
    assert "JSON please" in parsed["answer"]


async def test_json_schema_cut_by_max_tokens(api: Api) -> None:
    body = await api.chat(user("x", response_format=_schema_format(Person), max_tokens=5))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length"
    assert len(choice["message"]["content"]) == 20
    with pytest.raises(json.JSONDecodeError):
        json.loads(choice["message"]["content"])


async def test_unresolvable_ref_is_400(api: Api) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "X", "schema": {"$ref": "#/$defs/Missing"}}}
    status, err = await api.error(user("x", response_format=fmt))
    assert status == 400
    assert err["error"]["code"] == "invalid_json_schema"
    assert "Missing" in err["error"]["message"]


# ---------------------------------------------------------------------------- the generator itself


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"const": 5}, 5),
        ({"enum": [None, "b", "c"]}, "b"),
        ({"type": "boolean"}, True),
        ({"type": "null"}, None),
        ({"type": ["null", "integer"]}, 1),
        ({"type": "integer", "minimum": 10}, 10),
        ({"type": "integer", "maximum": -3}, -3),
        ({"type": "integer", "exclusiveMinimum": 4}, 5),
        ({"type": "number", "minimum": 2.5}, 2.5),
        ({"type": "integer", "minimum": 1, "multipleOf": 5}, 5),
        ({"type": "string", "format": "date"}, "2024-01-01"),
        ({"type": "string", "format": "date-time"}, "2024-01-01T00:00:00Z"),
        ({"type": "string", "format": "email"}, "value@example.com"),
        ({"type": "string", "maxLength": 3}, "sam"),
        ({"type": "string", "minLength": 20}, "sample valuexxxxxxxx"),
        ({"type": "array", "items": {"type": "integer"}}, [1]),
        ({"type": "array", "items": {"type": "boolean"}, "minItems": 3}, [True, True, True]),
        ({"type": "array", "items": {"type": "integer"}, "maxItems": 0}, []),
        ({"anyOf": [{"type": "null"}, {"type": "integer"}]}, 1),
        ({"oneOf": [{"type": "string", "format": "uuid"}]}, "00000000-0000-4000-8000-000000000000"),
        ({"type": "string", "nullable": True, "format": "ipv4"}, "127.0.0.1"),
        (
            {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "integer"}}},
                    {"properties": {"b": {"const": 2}}},
                ]
            },
            {"a": 1, "b": 2},
        ),
        (
            {
                "$defs": {"X": {"type": "object", "properties": {"v": {"type": "integer"}}}},
                "$ref": "#/$defs/X",
            },
            {"v": 1},
        ),
        (
            {
                "definitions": {"Y": {"type": "string", "format": "uri"}},
                "properties": {"site": {"$ref": "#/definitions/Y"}},
            },
            {"site": "https://example.com/site"},
        ),
    ],
)
def test_value_for_schema(schema: dict[str, Any], expected: Any) -> None:
    assert value_for_schema(schema) == expected


def test_recursive_required_schema_is_refused() -> None:
    schema = {
        "$defs": {"N": {"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}, "required": ["n"]}},
        "$ref": "#/$defs/N",
    }
    with pytest.raises(SchemaError, match="deeper"):
        value_for_schema(schema)


def test_remote_ref_is_refused() -> None:
    with pytest.raises(SchemaError, match="local"):
        value_for_schema({"$ref": "https://example.com/schema.json"})
