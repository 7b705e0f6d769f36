"""Prompt templates without any call: construction errors, rendering, escaping, types, defaults."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from core.llms import ConfigurationError, ImagePart, InvalidInputError, Message, TextPart
from core.llms.prompt import Prompt

SECRET = "hunter2-super-secret-value"


def texts(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in messages]


# -- construction ---------------------------------------------------------------------------------


def test_undeclared_and_unused_inputs_are_named_together() -> None:
    with pytest.raises(ConfigurationError) as err:
        Prompt("Summarize {topic} in {n} words", inputs={"topic": str, "length": int})
    message = str(err.value)
    assert "'n'" in message and "'length'" in message
    assert "not in inputs" in message and "not used" in message


@pytest.mark.parametrize(
    "template, shown",
    [
        ("Hello {user.name}", "{user.name}"),
        ("Hello {items[0]}", "{items[0]}"),
        ("Hello {}", "{}"),
        ("Hello {0}", "{0}"),
        ("Hello {x:{width}}", "{x:{width}}"),
        ("Hello { x }", "{ x }"),
    ],
)
def test_unsupported_placeholders_are_refused(template: str, shown: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        Prompt(template)
    assert shown in str(err.value)
    assert "{{" in str(err.value)  # the hint says how to write a literal brace


def test_every_bad_placeholder_is_named_at_once() -> None:
    with pytest.raises(ConfigurationError) as err:
        Prompt("{a.b} and {c[1]} and {}")
    assert all(p in str(err.value) for p in ("{a.b}", "{c[1]}", "{}"))


@pytest.mark.parametrize("template", ["a lone } brace", "a lone { brace", 'JSON like {"a": 1}'])
def test_lone_braces_and_raw_json_are_configuration_errors(template: str) -> None:
    with pytest.raises(ConfigurationError, match="literal braces"):
        Prompt(template)


def test_options_is_a_reserved_placeholder_name() -> None:
    with pytest.raises(ConfigurationError, match="'options' is reserved"):
        Prompt("Pick one of {options}")


def test_bad_inputs_and_defaults_declarations() -> None:
    with pytest.raises(ConfigurationError, match="must be a type"):
        Prompt("{n}", inputs={"n": "int"})
    with pytest.raises(ConfigurationError, match="not a Python identifier"):
        Prompt("{n}", inputs={"n": str, "bad-name": str})
    with pytest.raises(ConfigurationError, match="unknown input"):
        Prompt("{n}", defaults={"m": "x"})
    with pytest.raises(ConfigurationError) as err:
        Prompt("{n}", inputs={"n": int}, defaults={"n": SECRET})
    assert "'n' must be int, not str of 26 chars" in str(err.value)
    assert SECRET not in str(err.value)
    with pytest.raises(ConfigurationError, match="mapping"):
        Prompt("{n}", inputs=42)


def test_bad_template_settings() -> None:
    with pytest.raises(ConfigurationError, match="template"):
        Prompt([("wizard", "hi {x}")])
    with pytest.raises(ConfigurationError, match="system"):
        Prompt("hi", system=3)  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="response_format"):
        Prompt("hi", response_format="json")  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="LLMClient"):
        Prompt("hi", client=object())
    with pytest.raises(ConfigurationError, match="params"):
        Prompt("hi", params=[("temperature", 0)])  # type: ignore[call-overload]


# -- rendering ----------------------------------------------------------------------------------


def test_render_fills_every_message_and_keeps_other_parts() -> None:
    image = ImagePart(url="https://example.com/cat.png")
    prompt = Prompt(
        [
            ("system", "You write for {audience}."),
            {"role": "user", "content": "Describe {topic}."},
            ("assistant", "Sure."),
            Message.user(TextPart("And in {n} words?"), image),
        ],
        inputs={"audience": str, "topic": str, "n": int},
    )
    messages = prompt.render(audience="kids", topic="volcanoes", n=5)
    assert texts(messages) == [
        ("system", "You write for kids."),
        ("user", "Describe volcanoes."),
        ("assistant", "Sure."),
        ("user", "And in 5 words?"),
    ]
    assert messages[3].content[1] is image
    assert messages[2] is prompt.template[2]  # a message without placeholders is reused
    assert "{topic}" in prompt.template[1].text  # the template itself is unchanged


def test_system_may_hold_placeholders_too() -> None:
    prompt = Prompt("Translate {text}", system="Answer in {language}.")
    assert texts(prompt.render(text="hello", language="French")) == [
        ("system", "Answer in French."),
        ("user", "Translate hello"),
    ]


def test_escaped_braces_and_braces_inside_values() -> None:
    prompt = Prompt('Reply as JSON {{"answer": ...}} about {topic}; keep {{topic}} literal')
    [message] = prompt.render(topic="{evil} {0} {{x}} {topic.__class__}")
    assert message.text == (
        'Reply as JSON {"answer": ...} about {evil} {0} {{x}} {topic.__class__}; keep {topic} literal'
    )


def test_format_specs_and_conversions() -> None:
    prompt = Prompt(
        "{price:.2f} EUR, {n:03d}, {name!r}, {name:>6}|", inputs={"price": float, "n": int, "name": str}
    )
    assert prompt.render(price=3, n=7, name="ab")[0].text == "3.00 EUR, 007, 'ab',     ab|"


def test_a_spec_that_does_not_fit_the_value_is_an_input_error() -> None:
    prompt = Prompt("{topic:.2f}")
    with pytest.raises(InvalidInputError, match=r"\{topic:.2f\} cannot format a str"):
        prompt.render(topic="x")


def test_missing_and_extra_inputs_are_named_together() -> None:
    prompt = Prompt("{a} {b} {c}", defaults={"c": "default"})
    with pytest.raises(InvalidInputError) as err:
        prompt.render(a="x", temperature=0.2, model="gpt-4o")
    message = str(err.value)
    assert "missing 'b'" in message and "unexpected 'temperature', 'model'" in message
    assert "options={" in message  # the hint says where call options go
    assert "c: str = …" in message  # the hint shows the signature, never a default's value
    assert "default" not in message


@pytest.mark.parametrize(
    "tp, value, expected",
    [
        (str, 12, "'x' must be str, not int"),
        (int, "12", "'x' must be int, not str of 2 chars"),
        (int, True, "'x' must be int, not bool"),
        (float, "1.5", "'x' must be float, not str"),
        (
            list[str],
            ["a", 2],
            "'x' must be list[str], not list of 2 items ([1] Input should be a valid string)",
        ),
        (list[str], ("a",), "'x' must be list[str], not tuple of 1 items"),
        (Literal["a", "b"], "c", "'x' must be Literal['a', 'b']"),
    ],
)
def test_values_are_checked_strictly_against_their_type(tp: Any, value: Any, expected: str) -> None:
    prompt = Prompt("{x}", inputs={"x": tp})
    with pytest.raises(InvalidInputError) as err:
        prompt.render(x=value)
    assert expected in str(err.value)


def test_every_wrong_value_is_named_and_no_value_is_echoed() -> None:
    prompt = Prompt("{a} {b} {c}", inputs={"a": int, "b": int, "c": str})
    with pytest.raises(InvalidInputError) as err:
        prompt.render(a=SECRET, b=[SECRET], c=SECRET)
    message = str(err.value)
    assert "'a' must be int" in message and "'b' must be int" in message
    assert "'c'" not in message
    assert SECRET not in message and SECRET not in repr(err.value)


def test_typed_values_render_with_str_format_semantics() -> None:
    class Point(BaseModel):
        x: int
        y: int

    prompt = Prompt("{items} {point} {flag}", inputs={"items": list[str], "point": Point, "flag": bool})
    [message] = prompt.render(items=["a", "b"], point=Point(x=1, y=2), flag=False)
    assert message.text == "['a', 'b'] x=1 y=2 False"


def test_defaults_fill_in_and_can_be_overridden() -> None:
    prompt = Prompt("{greeting}, {name}!", defaults={"greeting": "Hello"})
    assert prompt.render(name="Ada")[0].text == "Hello, Ada!"
    assert prompt.render(name="Ada", greeting="Hi")[0].text == "Hi, Ada!"
    assert prompt.defaults == {"greeting": "Hello"}
    assert prompt.inputs == {"greeting": str, "name": str}


def test_inputs_may_be_a_list_of_names() -> None:
    assert Prompt("{a}{b}", inputs=["a", "b"]).render(a="1", b="2")[0].text == "12"


def test_an_input_named_model_or_self_is_an_input() -> None:
    prompt = Prompt("Compare {model} with {self}")
    assert prompt.render(model="gpt-4o", self="me")[0].text == "Compare gpt-4o with me"


def test_repr_shows_template_and_types_never_values() -> None:
    prompt = Prompt(
        "Write a very long and detailed report about {topic} for the board, please, with charts",
        inputs={"topic": str},
        defaults={"topic": SECRET},
        system="Be formal.",
        model="gpt-4.1-mini",
    )
    shown = repr(prompt)
    assert shown.startswith(
        "Prompt('Write a very long and detailed report about {topic} for t...' (+1 messages)"
    )
    assert "topic: str = …" in shown and "model='gpt-4.1-mini'" in shown
    assert SECRET not in shown


def test_import_is_lazy_and_str_prompts_need_no_pydantic() -> None:
    code = (
        "import sys, core.llms\n"
        "assert 'core.llms.prompt' not in sys.modules\n"
        "from core.llms import Prompt\n"
        "assert Prompt('hi {x}').render(x='a')[0].text == 'hi a'\n"
        "assert 'pydantic' not in sys.modules, 'a str-only prompt imported pydantic'\n"
        "assert 'core.llms.client.client' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
