"""Stack files: loading, and errors that name FILE:LINE:COLUMN and the field path."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from stackops.errors import InvalidInput
from stackops.model.enums import LayerType, SourceType
from stackops.model.stackfile import (
    StackFile,
    load_stack_file,
    parse_stack_file,
    stack_file_schema,
)

DEMO = Path(__file__).resolve().parents[2] / "stacks" / "demo.yaml"


def errors_of(tmp_path: Path, text: str) -> list[str]:
    """The error lines loading `text` gives, with the file's path written FILE."""
    path = tmp_path / "stack.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    with pytest.raises(InvalidInput) as info:
        load_stack_file(path)
    return info.value.message.replace(str(path), "FILE").splitlines()


def test_demo_stack_file_loads() -> None:
    demo = load_stack_file(DEMO)
    assert demo.stack.name == "demo"
    assert demo.stack.custom_json == {"env": "demo"}
    assert [(la.shortname, la.type) for la in demo.layers] == [
        ("lb", LayerType.lb),
        ("app", LayerType.custom),
        ("db", LayerType.custom),
    ]
    lb, app, db = demo.layers
    assert lb.custom_recipes.setup == ["lb::setup"]
    assert lb.custom_recipes.configure == ["lb::configure"]
    assert app.custom_recipes.deploy == ["web::deploy"]
    assert db.custom_recipes.setup == ["db::setup"]
    (web,) = demo.apps
    assert web.shortname == "web"
    assert web.app_source is not None and web.app_source.type is SourceType.archive
    assert web.app_source.url == "recipes/web/files/web-v1.tar.gz"
    assert [(e.key, e.value) for e in web.environment] == [("GREETING", "hello")]
    assert [(i.hostname, i.layers, i.instance_type) for i in demo.instances] == [
        ("lb1", ["lb"], "t3.micro"),
        ("app1", ["app"], "t3.micro"),
        ("app2", ["app"], "t3.micro"),
        ("app3", ["app"], "t3.micro"),
        ("db1", ["db"], "t3.micro"),
    ]
    assert demo.layer("app") is app and demo.layer("nope") is None


def test_pascal_case_keys_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "stack: {Name: demo, CustomJson: '{\"a\": 1}'}\n"
        "layers: [{Type: custom, Shortname: app, CustomRecipes: {Setup: [web::setup]}}]\n"
        "instances: [{Hostname: app1, Layers: [app], InstanceType: t3.micro}]\n"
    )
    loaded = load_stack_file(path)
    assert loaded.stack.custom_json == {"a": 1}
    assert loaded.layers[0].custom_recipes.setup == ["web::setup"]


def test_field_errors_name_file_line_column_and_path(tmp_path: Path) -> None:
    lines = errors_of(
        tmp_path,
        """
        stack:
          name: demo
          custm_json: {}
        layers:
          - shortname: lb
            type: lb
          - shortname: app
            type: custom
            custom_recipes:
              setup: [web::setup, "bad recipe"]
        apps:
          - name: Web
            environment:
              - {key: PORT, value: 8080}
        instances:
          - hostname: app1
            layers: [app]
            instance_type: t3micro
        """,
    )
    assert lines == [
        "FILE:3:3: stack.custm_json: unknown field 'custm_json'; did you mean 'custom_json'?",
        "FILE:10:27: layers[1].custom_recipes.setup[1]: recipe 'bad recipe' is not valid; "
        "write 'cookbook::recipe' or 'cookbook' with letters, digits, '_' and '-' "
        "(like 'web::deploy')",
        "FILE:14:28: apps[0].environment[0].value: Input should be a valid string, got 8080: "
        "YAML read an unquoted value; quote it ('8080')",
        "FILE:18:20: instances[0].instance_type: 't3micro' is not an EC2 instance type; "
        "write one like 't3.micro'",
    ]


def test_missing_field_points_at_its_mapping(tmp_path: Path) -> None:
    lines = errors_of(
        tmp_path,
        """
        stack: {name: demo}
        layers:
          - shortname: app
            name: App
        """,
    )
    assert lines == ["FILE:3:5: layers[0].type: required field is missing; add it"]


def test_wrong_kinds_and_enum_values(tmp_path: Path) -> None:
    lines = errors_of(
        tmp_path,
        """
        stack: {name: demo}
        layers:
          - {shortname: app, type: kustom}
        instances:
          - {hostname: app1, layers: app, instance_type: t3.micro}
        """,
    )
    assert lines[0].startswith("FILE:3:28: layers[0].type: Input should be 'aws-flow-ruby',")
    assert lines[0].endswith("'monitoring-master' or 'custom' (got 'kustom')")
    assert lines[1] == (
        "FILE:5:30: instances[0].layers: expected a list ('- item' lines or [a, b]), got a string"
    )


def test_cross_checks_are_located(tmp_path: Path) -> None:
    lines = errors_of(
        tmp_path,
        """
        stack: {name: demo, region: eu-west-1}
        layers:
          - {shortname: app, type: custom}
          - {shortname: app, type: custom, name: Again}
        apps:
          - {name: Web}
          - {shortname: web}
        instances:
          - {hostname: app1, layers: [app, app], instance_type: t3.micro}
          - {hostname: APP1, layers: [ap], instance_type: t3.micro, availability_zone: us-east-1a}
        """,
    )
    assert lines == [
        "FILE:4:17: layers[1].shortname: 'app' is already used by layers[0]; "
        "each shortname must be unique",
        "FILE:7:17: apps[1].shortname: 'web' is already used by apps[0]; "
        "each shortname must be unique",
        "FILE:9:36: instances[0].layers[1]: layer 'app' is listed twice; list it once",
        "FILE:10:16: instances[1].hostname: 'app1' is already used by instances[0]; "
        "each hostname must be unique",
        "FILE:10:31: instances[1].layers[0]: layer 'ap' is not defined in this file; "
        "did you mean 'app'? defined layers: app",
        "FILE:10:80: instances[1].availability_zone: zone 'us-east-1a' is not in the stack's "
        "region 'eu-west-1'; choose a zone like 'eu-west-1a'",
    ]


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    lines = errors_of(tmp_path, "stack:\n  name: demo\n layers: [\n")
    assert len(lines) == 1
    assert lines[0].startswith("FILE:3:")
    assert "YAML syntax error" in lines[0]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "- stack\n- layers\n") == [
        "FILE:1:1: expected a mapping with keys stack, layers, apps, instances; found list"
    ]
    assert errors_of(tmp_path, "# nothing here\n") == [
        "FILE:1:1: expected a mapping with keys stack, layers, apps, instances; found nothing"
    ]


def test_repeated_keys_are_refused(tmp_path: Path) -> None:
    lines = errors_of(tmp_path, "stack: {name: a}\nlayers: []\nlayers: []\n")
    assert lines == [
        "FILE:3:1: layers: key 'layers' repeats the one on line 2; "
        "YAML would silently keep only the last, so write it once"
    ]


def test_at_most_20_errors_are_listed(tmp_path: Path) -> None:
    layers = "".join(f"  - {{shortname: l{n}, type: nope}}\n" for n in range(25))
    lines = errors_of(tmp_path, "stack: {name: demo}\nlayers:\n" + layers)
    assert len(lines) == 21
    assert lines[-1] == "... and 5 more errors"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read the stack file"):
        load_stack_file(tmp_path / "absent.yaml")


def test_parse_from_text_with_anchors_under_x_keys() -> None:
    text = textwrap.dedent(
        """
        stack: {name: demo}
        x-layer: &base {type: custom, custom_recipes: {setup: [web::setup]}}
        layers:
          - {<<: *base, shortname: app}
          - {<<: *base, shortname: api, custom_recipes: {setup: [api::setup]}}
        """
    )
    merged = parse_stack_file(text, "<stdin>")
    assert [la.shortname for la in merged.layers] == ["app", "api"]
    assert merged.layers[0].custom_recipes.setup == ["web::setup"]
    assert merged.layers[1].custom_recipes.setup == ["api::setup"]
    with pytest.raises(InvalidInput, match=r"<stdin>:3:1: y-layer: unknown field 'y-layer'"):
        parse_stack_file(text.replace("x-layer", "y-layer"), "<stdin>")


def test_stack_file_model_validates_without_yaml() -> None:
    with pytest.raises(ValueError, match="layer 'x' is not defined"):
        StackFile.model_validate(
            {
                "stack": {"name": "demo"},
                "instances": [{"hostname": "a1", "layers": ["x"], "instance_type": "t3.micro"}],
            }
        )


def test_schema_is_json_schema_with_the_four_sections() -> None:
    schema = stack_file_schema()
    json.dumps(schema)
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"stack", "layers", "apps", "instances"}
    assert schema["required"] == ["stack"]
    assert "$schema" in schema
    layer = schema["$defs"]["LayerSpec"]
    assert "custom_recipes" in layer["properties"]
    assert layer["additionalProperties"] is False
