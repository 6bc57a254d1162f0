"""The pure checks of hostile input: characters, JSON depth, YAML aliases, deploy_to, argv."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest

from stackops.errors import InvalidInput
from stackops.model import deploysettings
from stackops.model import validation as v
from stackops.model.apps import AppSpec
from stackops.model.jsontext import MAX_DEPTH, check_tree, load_json, too_deep_at
from stackops.model.layers import LayerSpec
from stackops.model.stackfile import parse_stack_file
from stackops.model.stacks import StackSpec
from stackops.model.text import check_line, check_name, check_text
from stackops.model.yamlsource import MAX_EXPANDED_VALUES, parse_yaml

# -- characters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("shop\x00", "a control character, U+0000 (NUL)"),
        ("sh\u200bop", "an invisible character, U+200B (ZERO WIDTH SPACE)"),
        ("shop\u200d", "an invisible character, U+200D (ZERO WIDTH JOINER)"),
        ("\ufeffshop", "an invisible character, U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("shop\u202e", "an invisible character, U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("shop\u00a0x", "an invisible character, U+00A0 (NO-BREAK SPACE)"),
        ("shop 😀", "an emoji or symbol, U+1F600 (GRINNING FACE)"),
        ("shop\u2764\ufe0f", "an emoji or symbol, U+2764 (HEAVY BLACK HEART)"),
        ("two\nlines", "a control character, U+000A (NEWLINE)"),
    ],
)
def test_names_refuse_what_cannot_be_read_or_typed(value: str, why: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_name(value, "name")
    assert why in info.value.message


def test_names_keep_every_script_and_punctuation() -> None:
    for good in ("Shop (prod) #2", "Café Müller", "商店", "магазин", "a-b_c.d"):
        assert check_name(good) == good


def test_lines_and_text() -> None:
    assert check_line("https://x/y?z=1#a", "url") == "https://x/y?z=1#a"
    assert check_line("rev 😀", "revision") == "rev 😀"  # only names refuse emoji
    assert check_text("line one\n\tline two\r\n", "description").startswith("line one")
    with pytest.raises(InvalidInput, match=r"U\+001B \(ESCAPE\)"):
        check_text("colour \x1b[31m", "description")
    with pytest.raises(InvalidInput, match=r"U\+0000"):
        check_text("a\x00b", "description")


def test_model_fields_use_the_character_rules() -> None:
    with pytest.raises(ValueError, match=r"U\+200B"):
        StackSpec(name="shop\u200b")
    with pytest.raises(ValueError, match="blank"):
        StackSpec(name="   ")
    with pytest.raises(ValueError, match=r"U\+0000"):
        StackSpec(name="shop", default_os="Linux\x00")
    with pytest.raises(ValueError, match=r"U\+001B \(ESCAPE\)"):
        StackSpec(name="shop", attributes={"Color": "\x1b"})
    with pytest.raises(ValueError, match=r"U\+0000"):
        AppSpec(name="web", description="a\x00")
    with pytest.raises(ValueError, match=r"U\+000A"):
        AppSpec(name="web", app_source={"type": "archive", "url": "https://x/a\n.tgz"})


# -- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 3000, 30_000, 300_000])
def test_deep_json_is_refused_before_decoding(depth: int) -> None:
    text = "[" * depth + "]" * depth
    with pytest.raises(InvalidInput) as info:
        load_json(text, "--custom-json")
    assert info.value.message.startswith("--custom-json (line 1 column 33): nested more than 32")


def test_depth_counts_brackets_outside_strings_only() -> None:
    inside = json.dumps({"text": "[" * 500 + "{" * 500})
    assert too_deep_at(inside) is None
    assert load_json(inside, "x") == json.loads(inside)
    escaped = '{"a": "\\"[[[[", "b": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
    assert too_deep_at(escaped) is not None  # 33 levels: the object and 32 arrays
    assert too_deep_at(escaped, MAX_DEPTH + 1) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": ' + "1" * 5000 + "}", "not a usable JSON value: Exceeds the limit"),
        ('{"a": 1,}', "is not valid JSON at line 1 column 9"),
    ],
)
def test_json_a_parser_elsewhere_would_refuse(text: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as info:
        load_json(text, "--custom-json")
    assert expected in info.value.message
    assert "\n" not in info.value.message


def test_a_file_source_is_named_file_line_column() -> None:
    with pytest.raises(InvalidInput) as info:
        load_json('{\n  "a": [' + "[" * 40, "node.json", is_file=True)
    assert info.value.message.startswith("node.json:2:")


def test_tree_walk_never_recurses_and_names_the_path() -> None:
    deep: Any = "leaf"
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = [deep]
    with pytest.raises(InvalidInput, match="nested more than 32 levels"):
        check_tree({"a": deep}, "custom_json")
    with pytest.raises(InvalidInput) as info:
        check_tree({"a": [{"b": "x\x00y"}]}, "custom_json")
    assert info.value.message.startswith("custom_json.a[0].b: holds a NUL character")
    with pytest.raises(InvalidInput, match=r"key 'a\\u200bb' holds an invisible"):
        check_tree({"a\u200bb": 1}, "custom_json")
    with pytest.raises(InvalidInput, match="key 1 is not a string"):
        check_tree({1: "x"}, "custom_json")


def test_custom_json_deploy_overrides_follow_the_app_rules() -> None:
    ok = {"deploy": {"web": {"deploy_to": "/srv/app", "environment": {"A": {"ssm": "/p"}}}}}
    assert v.validate_custom_json(ok) == ok
    cases = [
        ({"deploy": {"web": {"deploy_to": "/"}}}, "custom_json.deploy.web.deploy_to: deploy_to"),
        ({"deploy": {"web": {"environment": {"A B": "x"}}}}, "environment key 'A B'"),
        ({"deploy": {"web": {"environment": {"A": "x\ny"}}}}, "control character"),
        ({"deploy": {"web": {"environment": {"A": 5}}}}, "must be a string or"),
        ({"deploy": {"web": {"migrate_command": "rake db:migrate"}}}, '["rake", "db:migrate"]'),
    ]
    for value, expected in cases:
        with pytest.raises(InvalidInput) as info:
            v.validate_custom_json(value)
        assert expected in info.value.message


# -- YAML ------------------------------------------------------------------------------------


@pytest.fixture(params=["libyaml", "pure-python"])
def yaml_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a YAML test with libyaml's loader and with the pure-Python fallback."""
    import yaml

    if request.param == "pure-python":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    elif not yaml.__with_libyaml__:
        pytest.skip("PyYAML built without libyaml")
    return str(request.param)


def _laughs(levels: int) -> str:
    lines = ["x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    names = "abcdefghijklmnop"
    for up, down in zip(names[1:levels], names[: levels - 1], strict=True):
        lines.append(f"x-{up}: &{up} [{', '.join([f'*{down}'] * 9)}]")
    lines.append(f"stack: {{name: lol, custom_json: {{lol: *{names[levels - 1]}}}}}")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_fast_with_file_and_line(yaml_loader: str) -> None:
    started = time.process_time()
    with pytest.raises(InvalidInput) as info:
        parse_stack_file(_laughs(9), "laughs.yaml")  # 9**9 = 387,420,489 values
    assert time.process_time() - started < 5  # CPU seconds, generous; a hang never returns
    message = info.value.message
    assert message.startswith("laughs.yaml:6:6: YAML aliases expand this value to more than")
    assert str(MAX_EXPANDED_VALUES) in message


def test_a_few_aliases_are_fine(yaml_loader: str) -> None:
    doc = parse_yaml(_laughs(3), "ok.yaml")  # 729 values
    assert len(doc.data["stack"]["custom_json"]["lol"]) == 9


def test_merge_keys_that_double_at_each_level_are_counted(yaml_loader: str) -> None:
    lines = ["x-m0: &m0 {k: 1}"]
    lines += [f"x-m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}" for i in range(1, 40)]
    with pytest.raises(InvalidInput, match="YAML aliases expand this value"):
        parse_yaml("\n".join(lines) + "\nstack: {name: x}\n", "merge.yaml")


def test_a_large_file_without_aliases_is_named_as_large(yaml_loader: str) -> None:
    body = "".join(f"  k{i}: [a, b, c, d, e, f, g, h, i]\n" for i in range(11_000))
    with pytest.raises(InvalidInput, match=r"big\.yaml:1:1: holds more than 100000 values"):
        parse_yaml("stack: {name: x}\nx-big:\n" + body, "big.yaml")


def test_an_alias_inside_its_own_anchor_is_a_loop(yaml_loader: str) -> None:
    with pytest.raises(InvalidInput, match=r"loop\.yaml:1:6: a YAML alias refers to the value"):
        parse_yaml("x-a: &a [1, *a]\nstack: {name: x}\n", "loop.yaml")


def test_deep_yaml_is_refused_before_the_composer_recurses(yaml_loader: str) -> None:
    for depth in (65, 70, 3000, 30_000):
        text = "stack: {name: x, custom_json: {a: " + "[" * depth + "]" * depth + "}}\n"
        with pytest.raises(InvalidInput, match=r"deep\.yaml:1:.*nested more than 64 levels"):
            parse_yaml(text, "deep.yaml")


def test_custom_json_in_yaml_deeper_than_32_points_at_the_line(yaml_loader: str) -> None:
    nested = "[" * 40 + "]" * 40
    with pytest.raises(InvalidInput) as info:
        parse_stack_file(f"stack:\n  name: x\n  custom_json:\n    a: {nested}\n", "f.yaml")
    assert info.value.message.startswith("f.yaml:4:")
    assert "nested more than 32 levels deep" in info.value.message


# -- deploy_to -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("/srv/www/web", "/srv/www/web"),
        ("/srv/www/web/", "/srv/www/web"),
        ("//srv//www/./web", "/srv/www/web"),
        ("/opt/shop", "/opt/shop"),
        ("/usr/local/shop", "/usr/local/shop"),
        ("/home/deploy/shop", "/home/deploy/shop"),
        ("/var/www/shop", "/var/www/shop"),
        ("/app", "/app"),
    ],
)
def test_deploy_to_is_normalised(given: str, stored: str) -> None:
    assert deploysettings.validate_deploy_to(given) == stored
    assert AppSpec(name="web", deploy_to=given).deploy_to == stored


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("/../../etc", "climbs out with '..'"),
        ("/srv/www/../../etc/app", "climbs out with '..'"),
        ("/", "'/' is a system directory"),
        ("/etc", "'/etc' is a system directory"),
        ("/etc/", "'/etc' is a system directory"),
        ("/usr", "'/usr' is a system directory"),
        ("/bin", "'/bin' is a system directory"),
        ("/var", "'/var' is a system directory"),
        ("/root", "'/root' is a system directory"),
        ("/proc", "'/proc' is a system directory"),
        ("/srv/www", "'/srv/www' is a system directory"),
        ("/usr/lib/shop", "inside the system directory /usr"),
        ("/proc/self", "inside the system directory /proc"),
        ("/usr/local/bin", "is a system directory"),
        ("/home/deploy", "a home directory"),
        ("srv/www/web", "must be an absolute path"),
        ("/srv/my app", "must be an absolute path without spaces"),
        ("/srv/\x00", "control character"),
    ],
)
def test_deploy_to_refuses_what_a_deploy_may_not_own(given: str, why: str) -> None:
    with pytest.raises(InvalidInput) as info:
        deploysettings.validate_deploy_to(given)
    assert why in info.value.message


# -- argv ------------------------------------------------------------------------------------


def test_migrate_command_given_as_a_string_shows_the_list_form() -> None:
    with pytest.raises(ValueError) as info:
        AppSpec(name="web", migrate_command="./manage.py migrate --noinput")
    message = str(info.value)
    assert '["./manage.py", "migrate", "--noinput"]' in message
    assert '["sh", "-c", "./manage.py migrate --noinput"]' in message


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        ([], "must be a non-empty list"),
        ([""], "is not a program"),
        (["./manage.py migrate"], 'did you mean ["./manage.py", "migrate"]'),
        (["it's here"], "is not a program"),
        (['{"a": 1}'], "is not a program"),
        (["-rf"], "is not a program"),
        (["./x", 5], "migrate_command[1] is a number"),
        (["./x", "a\x00b"], "NUL"),
        (["./x"] * 101, "at most 100"),
    ],
)
def test_migrate_command_refusals(argv: list[Any], why: str) -> None:
    with pytest.raises(InvalidInput) as info:
        deploysettings.validate_argv(argv, "migrate_command")
    assert why in info.value.message


def test_migrate_command_allows_empty_later_arguments() -> None:
    assert deploysettings.validate_argv(["./x", ""]) == ["./x", ""]


# -- sources ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ({"type": "svn", "url": "https://x/y"}, "svn sources are not supported"),
        ({"type": "s3", "url": "https://x/y.tgz"}, "is not an S3 object address"),
        ({"type": "s3", "url": "s3://bucket"}, "is not an S3 object address"),
        ({"type": "archive", "url": "ftp://x/y.tgz"}, "scheme 'ftp' is not supported"),
        ({"type": "archive", "url": "https:///y.tgz"}, "names no host"),
    ],
)
def test_app_sources_a_deployment_cannot_fetch_are_refused(
    source: dict[str, str], why: str
) -> None:
    with pytest.raises(ValueError) as info:
        AppSpec(name="web", app_source=source)
    assert why in str(info.value)


def test_recipes_and_shutdown_settings_in_both_spellings() -> None:
    layer = LayerSpec(
        type="custom",
        shortname="app",
        custom_recipes={"Setup": ["web::setup"]},
        lifecycle_event_configuration={"Shutdown": {"ExecutionTimeout": 30}},
    )
    assert layer.custom_recipes.setup == ["web::setup"]
    assert layer.lifecycle_event_configuration.shutdown.execution_timeout == 30
    with pytest.raises(ValueError, match=r"execution_timeout|ExecutionTimeout"):
        LayerSpec(
            type="custom",
            shortname="app",
            lifecycle_event_configuration={"Shutdown": {"ExecutionTimeout": 901}},
        )


def test_the_pure_checks_load_no_pydantic() -> None:
    code = (
        "import sys, stackops.model.jsontext, stackops.model.text\n"
        "assert 'pydantic' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- every field is checked ------------------------------------------------------------------


def _bare_strings(model: type, seen: set[type] | None = None) -> list[str]:
    """Fields of `model` (and the models inside it) typed plain `str`: nothing checks them."""
    import types
    import typing

    from pydantic import BaseModel

    seen = seen if seen is not None else set()
    if model in seen:
        return []
    seen.add(model)
    found = []
    validated = {
        field
        for decorator in model.__pydantic_decorators__.field_validators.values()
        for field in decorator.info.fields
    }
    for name, info in model.model_fields.items():
        pending = [info.annotation]
        checked = bool(info.metadata) or name in validated or "*" in validated
        while pending:
            tp = pending.pop()
            origin = typing.get_origin(tp)
            if origin is typing.Annotated:
                checked = True
                pending.append(typing.get_args(tp)[0])
            elif origin in (typing.Union, types.UnionType, list, dict):
                pending.extend(a for a in typing.get_args(tp) if a is not type(None))
            elif tp is str and not checked:
                found.append(f"{model.__name__}.{name}")
            elif isinstance(tp, type) and issubclass(tp, BaseModel):
                found += _bare_strings(tp, seen)
    return found


def test_no_user_set_field_is_an_unchecked_string() -> None:
    from stackops.model.deployments import DeploymentCommand
    from stackops.model.stackfile import StackFile

    assert _bare_strings(StackFile) == []
    # its args are checked per command by a model validator (ARGS in model/deployments.py)
    assert set(_bare_strings(DeploymentCommand)) == {"DeploymentCommand.args"}
