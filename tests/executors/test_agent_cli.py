"""`stackops agent apply` in-process through click, payloads from a file, stdin and S3."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from stackops.cli.agent_cmd import engine_budget
from stackops.cli.main import cli
from stackops.executors import MASK


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Any]:
    """A cookbook `web` (configure writes a file; broken fails) and a node root."""
    folder = tmp_path / "cookbooks/web"
    folder.mkdir(parents=True)
    (folder / "configure.py").write_text(
        textwrap.dedent(
            """\
            def recipe(run):
                print("recipes may print")
                secret = run.node.get("db", {}).get("password", "none")
                run.file("/etc/web.conf", content=f"password={secret}\\n")
            """
        )
    )
    (folder / "broken.py").write_text('def recipe(run):\n    run.execute(["false"])\n')
    root = tmp_path / "node"
    root.mkdir()
    return {
        "command_id": "c-42",
        "ec2_instance_id": "i-0abc",
        "recipes": ["web::configure"],
        "node": {},
        "cookbook_paths": [str(tmp_path / "cookbooks")],
        "timeout": 30,
        "root": str(root),
    }


def agent(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["agent", "apply", *args], input=stdin)


def test_payload_from_a_file_prints_the_report_json_and_the_text_on_stderr(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(setup))
    result = agent("--payload", str(path), "--output", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)  # a recipe's print() went to stderr, not into the JSON
    assert report["ok"] and report["resources"][0]["status"] == "changed"
    assert "recipes may print" in result.stderr and "1 changed" in result.stderr
    assert (Path(setup["root"]) / "etc/web.conf").read_text() == "password=none\n"


def test_payload_from_stdin_as_text_and_a_failure_exits_1(setup: dict[str, Any]) -> None:
    ok = agent("--payload", "-", "--output", "text", stdin=json.dumps(setup))
    assert ok.exit_code == 0 and "+ file[/etc/web.conf]" in ok.stdout
    failing = agent("--payload", "-", stdin=json.dumps({**setup, "recipes": ["web::broken"]}))
    assert failing.exit_code == 1
    assert "! execute[false]" in failing.stdout
    assert "converge failed: execute[false] failed" in failing.stderr


def test_the_global_output_option_does_not_take_apply_s_own(setup: dict[str, Any]) -> None:
    """`--output` after `agent apply` is apply's (json|text), not the global json|table|yaml."""
    result = agent("--payload", "-", "--output", "text", "--region", "us-east-1", stdin="{}")
    assert result.exit_code == 2 and "field 'recipes' is missing" in result.stderr


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "payload stdin:1:2: not valid JSON"),
        ("[]", "must be a JSON object, not list"),
        ('{"recipes": ["web::configure"]}', "field 'timeout' is missing"),
        ('{"recipes": "web::configure", "timeout": 5}', "field 'recipes' must be a non-empty"),
        ('{"recipes": ["a::b"], "timeout": -1}', "field 'timeout' must be a number"),
        ('{"recipes": ["a::b"], "timeout": 5, "node": []}', "field 'node' must be a JSON object"),
        ('{"recipes": ["a::b"], "timeout": 5, "nodes": {}}', "field 'nodes' is not a payload"),
        ('{"recipes": ["a::b"], "timeout": 5, "command_id": "../x"}', "field 'command_id'"),
    ],
)
def test_an_invalid_payload_exits_2_naming_the_field(payload: str, message: str) -> None:
    result = agent("--payload", "-", stdin=payload)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_missing_payload_file_exits_2(tmp_path: Path) -> None:
    result = agent("--payload", str(tmp_path / "nope.json"))
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_secret_refs_are_resolved_from_parameter_store_and_masked(
    aws: boto3.session.Session, setup: dict[str, Any]
) -> None:
    secret = "s3cr3t-from-ssm"
    aws.client("ssm").put_parameter(Name="/shop/db", Value=secret, Type="SecureString")
    payload = {**setup, "node": {"db": {"password": {"ssm": "/shop/db"}}}}
    result = agent("--payload", "-", "--output", "json", stdin=json.dumps(payload))
    assert result.exit_code == 0, result.stderr
    assert (Path(setup["root"]) / "etc/web.conf").read_text() == f"password={secret}\n"
    assert secret not in result.stdout and secret not in result.stderr
    report = json.loads(result.stdout)
    assert f"+password={MASK}" in report["resources"][0]["diff"]
    missing = {**setup, "node": {"db": {"password": {"ssm": "/shop/nope"}}}}
    gone = agent("--payload", "-", stdin=json.dumps(missing))
    assert gone.exit_code == 2 and "db.password (/shop/nope)" in gone.stderr


def test_an_s3_payload_uploads_its_report_beside_it(
    aws: boto3.session.Session, setup: dict[str, Any]
) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="payloads/c-42.json", Body=json.dumps(setup).encode())
    result = agent("--payload", "s3://artifacts/payloads/c-42.json", "--output", "json")
    assert result.exit_code == 0, result.stderr
    uploaded = s3.get_object(Bucket="artifacts", Key="logs/c-42.json")["Body"].read()
    assert json.loads(uploaded) == json.loads(result.stdout)
    text = s3.get_object(Bucket="artifacts", Key="logs/c-42.txt")["Body"].read().decode()
    assert "+ file[/etc/web.conf]" in text
    missing = agent("--payload", "s3://artifacts/payloads/nope.json")
    assert missing.exit_code == 2 and "s3://artifacts/payloads/nope.json" in missing.stderr


def test_the_agent_loads_neither_boto3_nor_pydantic_for_a_plain_payload(
    setup: dict[str, Any],
) -> None:
    code = (
        "import sys\n"
        "from stackops.cli.main import main\n"
        "try:\n"
        "    main(['agent', 'apply', '--payload', '-', '--output', 'json'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pydantic', 'yaml') if m in sys.modules]\n"
        "print(heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(setup).encode(), capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode().strip().splitlines()[-1] == "[]"


def test_the_engine_stops_before_the_executor_kills() -> None:
    assert engine_budget(1.0, 0.0) == 0.5
    assert engine_budget(600.0, 1.0) == 589.0
    assert engine_budget(0.2, 0.5) == 0.05


def test_agent_check_runs_the_command_in_the_release_and_prints_its_result(
    tmp_path: Path,
) -> None:
    current = tmp_path / "node/srv/www/web/current"
    current.mkdir(parents=True)
    (current / "health").write_text("ok")
    payload = tmp_path / "check.json"
    request = {
        "check_id": "c-1-health-1",
        "argv": ["sh", "-c", 'cat health; echo " $GREETING"'],
        "cwd": "/srv/www/web/current",
        "env": {"GREETING": "hello"},
        "timeout": 5,
        "root": str(tmp_path / "node"),
    }
    payload.write_text(json.dumps(request))
    done = CliRunner().invoke(cli, ["agent", "check", "--payload", str(payload)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"exit_code": 0, "output": "ok hello\n", "error": None}

    payload.write_text(json.dumps({**request, "argv": [], "bogus": 1}))
    bad = CliRunner().invoke(cli, ["agent", "check", "--payload", str(payload)])
    assert bad.exit_code == 2 and "field 'bogus' is not a field" in bad.stderr
