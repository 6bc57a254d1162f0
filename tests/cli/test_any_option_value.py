"""No option value kills the CLI: every option of every verb, given hostile values.

For each command below and each of its options (the rest filled with valid
values), the values of `HOSTILE` must end in exit 0 (the value was fine) or
exit 2 with one line `stackops: error: ...`; never a traceback, never exit 1
(that would mean the value reached AWS before being judged) but for a conflict
with what exists (a name a value made, taken twice).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import click
import pytest
from click.testing import CliRunner
from moto import mock_aws

from stackops.cli.main import COMMANDS, cli, load_command

HOSTILE = {
    "nul": "a\x00b",
    "deep": "[" * 30000,
    "huge": "x" * 300_000,
}

# Commands that run until stopped (or start servers) are driven by their own tests.
LONG_RUNNING = {"dispatch", "watch", "sandbox", "agent", "events", "recipes"}
VERBS = sorted(name for name in COMMANDS if name not in LONG_RUNNING)


VALID = {
    "--stack-id": "{stack}",
    "--source-stack-id": "{stack}",
    "--layer-id": "{layer}",
    "--layer-ids": "{layer}",
    "--app-id": "{app}",
    "--instance-id": "{instance}",
    "--deployment-id": "00000000-0000-0000-0000-000000000000",
    "--ec2-instance-id": "i-0123456789abcdef0",
    "--elastic-ip": "203.0.113.10",
    "--elastic-load-balancer-name": "fuzz-elb",
    "--instance-ids": "{instance}",
    "--resource-arn": "arn:aws:opsworks:us-east-1:123456789012:stack/{stack}/",
    "--tags": "Team=fuzz",
    "--tag-keys": "Team",
    "--name": "fuzz",
    "--type": "custom",
    "--shortname": "fuzz",
    "--instance-type": "t3.micro",
    "--command": '{"Name": "configure"}',
    "-f": "/no/such/stack.yaml",
}


def _argv(name: str, option: click.Option, value: str, ids: dict[str, str]) -> list[str]:
    command = load_command(name)
    argv = [name]
    for param in command.params:
        if isinstance(param, click.Option) and param.required and param is not option:
            valid = VALID[param.opts[0]]
            for key, id_ in ids.items():
                valid = valid.replace("{" + key + "}", id_)
            argv += [param.opts[0], valid]
    argv += [option.opts[0], value]
    if name == "solo":
        argv += ["--dry-run", "stackops::setup"]
    return argv


@pytest.fixture(scope="module")
def ids() -> Iterator[dict[str, str]]:
    with pytest.MonkeyPatch.context() as patch:
        for env in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
            patch.delenv(env, raising=False)
        for env, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ):
            patch.setenv(env, value)
        with mock_aws():
            boto3.session.Session(region_name="us-east-1")

            def ok(*argv: str) -> Any:
                result = CliRunner().invoke(cli, list(argv))
                assert result.exit_code == 0, result.output
                return json.loads(result.stdout)

            ok("bootstrap")
            stack = ok("create-stack", "--name", "shop")["StackId"]
            layer = ok(
                "create-layer",
                "--stack-id",
                stack,
                "--type",
                "custom",
                "--name",
                "a",
                "--shortname",
                "a",
            )["LayerId"]
            app = ok("create-app", "--stack-id", stack, "--name", "web")["AppId"]
            instance = ok(
                "create-instance",
                "--stack-id",
                stack,
                "--layer-ids",
                layer,
                "--instance-type",
                "t3.micro",
            )["InstanceId"]
            yield {"stack": stack, "layer": layer, "app": app, "instance": instance}


@pytest.mark.parametrize("name", VERBS)
def test_every_option_survives_hostile_values(
    name: str, ids: dict[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a value taken as a path lands here, if anywhere
    options = [
        p for p in load_command(name).params if isinstance(p, click.Option) and not p.is_flag
    ]
    failures = []
    for option in options:
        for label, value in HOSTILE.items():
            result = CliRunner().invoke(cli, _argv(name, option, value, ids))
            lines = [
                line
                for line in result.stderr.splitlines()
                if not line.startswith(("target: ", "  hint: "))
            ]
            one_line = len(lines) == 1 and lines[0].startswith("stackops: error: ")
            conflict = one_line and "already has" in lines[0]
            ok = isinstance(result.exception, SystemExit | None) and (
                result.exit_code == 0
                or (result.exit_code == 2 and one_line)
                or (result.exit_code == 1 and conflict)
            )
            if not ok:
                failures.append(
                    f"{option.opts[0]}={label}: exit {result.exit_code}, "
                    f"{result.exception!r}, {result.stderr[:300]!r}"
                )
    assert not failures, "\n".join(failures)


def test_every_id_option_is_checked_as_an_id() -> None:
    """New verbs get the same door: an `--*-id(s)` option is typed RECORD_ID (or EC2's)."""
    from stackops.cli.params import EC2_INSTANCE_ID, RECORD_ID
    from stackops.model.apps import AppSpec
    from stackops.model.instances import InstanceSpec
    from stackops.model.layers import LayerSpec
    from stackops.model.stacks import StackSpec

    # options made from a model field (--vpc-id, --ami-id...) are checked by the model
    fields = {f for m in (StackSpec, LayerSpec, AppSpec, InstanceSpec) for f in m.model_fields}
    untyped = []
    for name in COMMANDS:
        command = load_command(name)
        commands = command.commands.values() if isinstance(command, click.Group) else [command]
        for each in commands:
            for param in each.params:
                flag = param.opts[0] if isinstance(param, click.Option) else ""
                if param.name in fields or not flag.endswith(("-id", "-ids")):
                    continue
                if param.type not in (RECORD_ID, EC2_INSTANCE_ID):
                    untyped.append(f"{name} {flag}")
    assert untyped == []
