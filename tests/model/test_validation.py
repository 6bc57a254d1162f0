"""Each validation rule, with an input that breaks it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stackops.errors import InvalidInput
from stackops.model.validation import (
    find_secret_refs,
    parse_custom_json,
    validate_custom_json,
    validate_ec2_tags,
    validate_environment,
    validate_hostname,
    validate_recipe_name,
    validate_region,
    validate_shortname,
)


def test_custom_json_parses_an_object() -> None:
    assert parse_custom_json('{"env": "demo", "n": [1, 2]}', "custom_json") == {
        "env": "demo",
        "n": [1, 2],
    }


@pytest.mark.parametrize(
    ("text", "kind"), [("[1, 2]", "an array"), ('"x"', "a string"), ("3", "a number")]
)
def test_custom_json_must_be_an_object(text: str, kind: str) -> None:
    with pytest.raises(InvalidInput, match=f"layer custom_json must be a JSON object.*not {kind}"):
        parse_custom_json(text, "layer custom_json")


def test_custom_json_syntax_error_names_field_line_and_column() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_custom_json('{\n  "a": 1,\n  "b": }', "--custom-json")
    assert "--custom-json is not valid JSON" in info.value.message
    assert "line 3 column 8" in info.value.message


def test_custom_json_at_most_80_kb() -> None:
    fits = {"k": "x" * (81920 - len('{"k":""}'))}
    assert validate_custom_json(fits) == fits
    with pytest.raises(
        InvalidInput, match=r"81921 bytes serialized; at most 81920 bytes \(80 KB\)"
    ):
        parse_custom_json(json.dumps({"k": "x" * (81920 - len('{"k":""}') + 1)}), "custom_json")


def test_custom_json_keeps_secret_refs_and_checks_their_names() -> None:
    value = {"db": {"password": {"ssm": "/demo/db/password"}}, "list": [{"ssm": "plain-name"}]}
    assert validate_custom_json(value) == value
    assert find_secret_refs(value) == {
        "db.password": "/demo/db/password",
        "list[0]": "plain-name",
    }
    with pytest.raises(InvalidInput, match=r"custom_json.db is a secret reference"):
        validate_custom_json({"db": {"ssm": 5}})


def test_custom_json_refuses_values_json_cannot_hold() -> None:
    with pytest.raises(InvalidInput, match="JSON cannot represent"):
        validate_custom_json({"when": object()})


def test_environment_accepts_valid_pairs() -> None:
    validate_environment([("GREETING", "hello"), ("_X1", ""), ("A" * 64, "v" * 256)])
    validate_environment([(f"KEY_{i:02}", "v" * 250) for i in range(40)])  # exactly 10240 bytes


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("K" * 65, "v")], "is 65 characters; use 1 to 64"),
        ([("", "v")], "is 0 characters; use 1 to 64"),
        ([("BAD-KEY", "v")], "environment key 'BAD-KEY' is not valid"),
        ([("1ABC", "v")], "starting with a letter or '_'"),
        ([("K", "v" * 257)], "environment value of K is 257 characters; at most 256"),
        ([("K", "a\nb")], "control character"),
        ([("K", "1"), ("K", "2")], "environment key 'K' appears twice"),
        (
            [*[(f"KEY_{i:02}", "v" * 250) for i in range(40)], ("X", "")],
            r"total 10241 bytes; at most 10240 bytes \(10 KB\)",
        ),
    ],
)
def test_environment_rules(pairs: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_environment(pairs)


@pytest.mark.parametrize("name", ["app", "php-app", "a.b_c", "0db", "x" * 200])
def test_shortname_valid(name: str) -> None:
    assert validate_shortname(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("App", "use lower-case letters"),
        ("-app", "starting with a letter or digit"),
        ("a b", "is not valid"),
        ("", "is 0 characters; use 1 to 200"),
        ("x" * 201, "is 201 characters; use 1 to 200"),
    ],
)
def test_shortname_invalid(name: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_shortname(name)


@pytest.mark.parametrize("name", ["app1", "A-1", "x" * 63, "9"])
def test_hostname_valid(name: str) -> None:
    assert validate_hostname(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("-app", "not starting or ending with '-'"),
        ("app-", "not starting or ending with '-'"),
        ("app_1", "is not valid"),
        ("app.example", "is not valid"),
        ("", "is 0 characters; use 1 to 63"),
        ("x" * 64, "is 64 characters; use 1 to 63"),
    ],
)
def test_hostname_invalid(name: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_hostname(name)


def test_ec2_tags_valid() -> None:
    validate_ec2_tags({f"k{i}": "v" * 256 for i in range(49)} | {"K" * 128: ""})


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({f"k{i}": "v" for i in range(51)}, "51 tags given; EC2 allows at most 50"),
        ({"K" * 129: "v"}, "is 129 characters; use 1 to 128"),
        ({"": "v"}, "is 0 characters; use 1 to 128"),
        ({"k": "v" * 257}, "value of tag 'k' is 257 characters; at most 256"),
        ({"aws:cloudformation:stack": "v"}, "starts with 'aws:', which AWS reserves"),
        ({"AWS:x": "v"}, "starts with 'aws:'"),
    ],
)
def test_ec2_tags_invalid(tags: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_ec2_tags(tags)


def test_region_and_recipe_names() -> None:
    assert validate_region("ap-southeast-2") == "ap-southeast-2"
    assert validate_region("us-gov-west-1") == "us-gov-west-1"
    with pytest.raises(InvalidInput, match="write one like 'us-east-1'"):
        validate_region("us-east")
    assert validate_recipe_name("web::deploy") == "web::deploy"
    assert validate_recipe_name("my-cookbook") == "my-cookbook"
    for bad in ("web::", "web::a::b", "web deploy", "::x"):
        with pytest.raises(InvalidInput, match="write 'cookbook::recipe'"):
            validate_recipe_name(bad)


def test_model_imports_nothing_of_aws() -> None:
    code = (
        "import sys, stackops.model, stackops.model.stackfile, stackops.model.plan, "
        "stackops.model.hostnames\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'moto')]\n"
        "ours = [m for m in sys.modules if m.startswith('stackops') "
        "and not m.startswith(('stackops.model', 'stackops.errors')) and m != 'stackops']\n"
        "assert not bad and not ours, (bad, ours)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
