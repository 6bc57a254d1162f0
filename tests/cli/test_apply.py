"""`stackops apply` and `stackops schema` through the CLI against moto in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ok_json

DEMO = Path(__file__).resolve().parents[2] / "stacks" / "demo.yaml"

SMALL = """\
stack:
  name: small
  custom_json: {env: test}
layers:
  - shortname: app
    type: custom
    name: App server
    custom_recipes: {setup: [web::setup]}
apps:
  - shortname: web
    name: Web
    environment:
      - {key: GREETING, value: hello}
      - {key: TOKEN, value: sekret, secure: true}
instances:
  - hostname: app1
    layers: [app]
    instance_type: t3.micro
"""


@pytest.fixture
def boot(aws, invoke):
    ok_json(invoke("bootstrap"))
    return aws


def write(tmp_path: Path, text: str, name: str = "stack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_demo_plan_apply_and_again_no_changes(boot, invoke):
    dry = invoke("apply", "-f", str(DEMO), "--dry-run")
    out = ok_json(dry)
    assert out["DryRun"] is True and out["StackId"] is None
    assert [(c["Action"], c["Kind"], c["Key"]) for c in out["Changes"]] == [
        ("create", "stack", "demo"),
        ("create", "layer", "lb"),
        ("create", "layer", "app"),
        ("create", "layer", "db"),
        ("create", "app", "web"),
        ("create", "instance", "lb1"),
        ("create", "instance", "app1"),
        ("create", "instance", "app2"),
        ("create", "instance", "app3"),
        ("create", "instance", "db1"),
    ]
    assert "+ layer app" in dry.stderr
    assert ok_json(invoke("describe-stacks"))["Stacks"] == []  # the dry run created nothing

    done = ok_json(invoke("apply", "-f", str(DEMO)))
    assert done["Created"] == 10
    stack_id = done["StackId"]
    instances = ok_json(invoke("describe-instances", "--stack-id", stack_id))["Instances"]
    assert sorted(i["Hostname"] for i in instances) == ["app1", "app2", "app3", "db1", "lb1"]
    layers = {
        la["LayerId"]: la["Shortname"]
        for la in ok_json(invoke("describe-layers", "--stack-id", stack_id))["Layers"]
    }
    by_host = {i["Hostname"]: [layers[x] for x in i["LayerIds"]] for i in instances}
    assert by_host == {
        "lb1": ["lb"],
        "app1": ["app"],
        "app2": ["app"],
        "app3": ["app"],
        "db1": ["db"],
    }

    again = invoke("apply", "-f", str(DEMO))
    out = ok_json(again)
    assert out["Changes"] == [] and out["StackId"] == stack_id
    assert "No changes" in again.stderr


def test_update_and_prune(boot, invoke, tmp_path):
    path = write(tmp_path, SMALL)
    stack_id = ok_json(invoke("apply", "-f", str(path)))["StackId"]
    assert ok_json(invoke("apply", "-f", str(path)))["Changes"] == []  # secrets too

    changed = SMALL.replace("env: test", "env: prod").replace("sekret", "rotated")
    changed = changed.replace(
        "instances:\n  - hostname: app1\n    layers: [app]\n    instance_type: t3.micro\n",
        "instances: []\n",
    )
    path.write_text(changed)
    dry = invoke("apply", "-f", str(path), "--dry-run")
    out = ok_json(dry)
    assert [(c["Action"], c["Kind"], c.get("Fields")) for c in out["Changes"]] == [
        ("update", "stack", ["custom_json"]),
        ("update", "app", ["environment"]),
    ]
    assert "rotated" not in dry.output and "sekret" not in dry.output
    assert "instance app1" in dry.stderr  # kept, not in the file

    ok_json(invoke("apply", "-f", str(path)))
    (stack,) = ok_json(invoke("describe-stacks", "--stack-ids", stack_id))["Stacks"]
    assert json.loads(stack["CustomJson"]) == {"env": "prod"}
    (app,) = ok_json(invoke("describe-apps", "--stack-id", stack_id))["Apps"]
    param = boot.client("ssm").get_parameter(
        Name=f"/stackops/secrets/apps/{app['AppId']}/env/TOKEN", WithDecryption=True
    )
    assert param["Parameter"]["Value"] == "rotated"

    pruned = ok_json(invoke("apply", "-f", str(path), "--prune"))
    assert [(c["Action"], c["Key"]) for c in pruned["Changes"]] == [("delete", "app1")]
    assert ok_json(invoke("describe-instances", "--stack-id", stack_id))["Instances"] == []


def test_invalid_file_names_line_and_creates_nothing(boot, invoke, tmp_path):
    bad = SMALL.replace("    type: custom\n", "    type: costum\n")
    result = invoke("apply", "-f", str(write(tmp_path, bad)))
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'stack.yaml'}:6:11: layers[0].type" in result.stderr
    assert "Traceback" not in result.output
    assert ok_json(invoke("describe-stacks"))["Stacks"] == []

    unknown = SMALL.replace("layers: [app]", "layers: [web]")
    result = invoke("apply", "-f", str(write(tmp_path, unknown, "b.yaml")))
    assert result.exit_code == 2 and "instances[0].layers" in result.stderr

    unknown_app_layer = SMALL.replace("    name: Web\n", "    name: Web\n    layers: [ap]\n")
    result = invoke("apply", "-f", str(write(tmp_path, unknown_app_layer, "c.yaml")))
    assert result.exit_code == 2 and "apps[0].layers[0]" in result.stderr
    assert "did you mean 'app'" in result.stderr

    result = invoke("apply", "-f", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2 and "missing.yaml" in result.stderr


def test_file_is_checked_before_any_target(invoke, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    bad = SMALL.replace("name: small", "name: ''")
    result = invoke("apply", "-f", str(write(tmp_path, bad)))
    assert result.exit_code == 2 and "stack.name" in result.stderr
    assert "target" not in result.stderr


def test_schema_is_json_schema(invoke):
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"stack", "layers", "apps", "instances"} <= set(schema["properties"])


def test_structured_values_in_either_spelling_apply_once(boot, invoke, tmp_path):
    """A health check, migrate command and deploy_to as OpsWorks users write them: stored
    as given (normalised), and applying the same file again changes nothing."""
    path = tmp_path / "stack.yaml"
    path.write_text(
        "stack: {name: spelled}\n"
        "apps:\n"
        "  - name: web\n"
        "    deploy_to: /srv/www/web/\n"
        "    migrate_command: [./manage.py, migrate]\n"
        "    health_check: {Path: /health, Port: 8080, Interval: 0.5}\n"
    )
    ok_json(invoke("apply", "-f", str(path)))
    stack_id = ok_json(invoke("describe-stacks"))["Stacks"][0]["StackId"]
    (app,) = ok_json(invoke("describe-apps", "--stack-id", stack_id))["Apps"]
    assert app["DeployTo"] == "/srv/www/web"
    assert app["HealthCheck"] == {"Path": "/health", "Port": 8080, "Interval": 0.5}
    again = invoke("apply", "-f", str(path))
    assert again.exit_code == 0 and "No changes" in again.stderr
