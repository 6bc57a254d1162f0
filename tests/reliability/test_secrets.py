"""Secrets after a full lifecycle: boot, configure, deploy, rollback, with four kinds of them.

A protected environment value, a source password, a layer's `MysqlRootPassword` and
an `{"ssm": ...}` reference in custom JSON, each a distinct sentinel. Afterwards no
sentinel is in a DynamoDB record, an S3 object (logs, reports, payloads), any verb's
output in json, table or yaml, with or without `--debug`, or the dispatcher's log.
On the nodes, a file holding one is mode 0600; and when a value changes, the file
that held it is rewritten (the old value gone).
"""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.lifecycle.conftest import make_dispatcher
from tests.reliability.figures import full_run, record

SENTINELS = {
    "protected env": "SENTINEL-ENV-7f3a91",
    "source password": "SENTINEL-PW-2b8c44",
    "MysqlRootPassword": "SENTINEL-MYSQL-c0d9e1",
    "ssm reference": "SENTINEL-SSM-5e6f02",
}
NEW_ENV = "SENTINEL-ENV2-19aa7c"
STACK = """\
stack:
  name: secrets
  custom_json: {web: {port_base: PORT_BASE}, db: {url: {ssm: /shop/db-url}}}
layers:
  - shortname: app
    type: custom
    custom_recipes: {setup: [web::setup], configure: [web::configure], deploy: [web::deploy]}
    attributes: {MysqlRootPassword: MYSQL}
apps:
  - shortname: web
    app_source: {type: archive, url: recipes/web/files/web-v1.tar.gz, username: deployer,
                 password: PASSWORD}
    layers: [app]
    environment:
      - {key: API_TOKEN, value: ENV, secure: true}
      - {key: GREETING, value: hello}
instances:
  - {hostname: app1, layers: [app], instance_type: t3.micro}
  - {hostname: app2, layers: [app], instance_type: t3.micro}
"""
FORMATS = ("json", "table", "yaml")


def found_in(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


def everything_stored(aws: Any) -> list[tuple[str, str]]:
    """(where, text) of every DynamoDB item and S3 object."""
    ddb, s3 = aws.client("dynamodb"), aws.client("s3")
    out = []
    for table in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                out.append((f"dynamodb {table}", json.dumps(item, default=str)))
    for bucket in s3.list_buckets()["Buckets"]:
        listing = s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
        for obj in listing:
            body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
            out.append((f"s3://{bucket['Name']}/{obj['Key']}", body.decode("utf-8", "replace")))
    return out


def verbs(env: Any) -> list[tuple[str, ...]]:
    """Every describe verb on what the lifecycle made, and the log of every command."""
    stack = env.stack_id
    lines: list[tuple[str, ...]] = [
        ("describe-stacks", "--stack-ids", stack),
        ("describe-layers", "--stack-id", stack),
        ("describe-apps", "--stack-id", stack),
        ("describe-instances", "--stack-id", stack),
        ("describe-deployments", "--stack-id", stack),
        ("describe-stack-summary", "--stack-id", stack),
    ]
    kinds: set[str] = set()
    for host in env.instances():
        for command in env.commands(host):
            if command["Type"] in kinds and not full_run():
                continue  # make test: one command of each type; make reliability: all
            kinds.add(command["Type"])
            lines.append(("describe-commands", "--command-ids", command["CommandId"]))
            lines.append(("logs", command["CommandId"]))
    return lines


def node_files(root: Path) -> dict[Path, str]:
    out = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                out[path] = path.read_text()
            except (UnicodeDecodeError, OSError):
                continue
    return out


@pytest.mark.slow
def test_no_secret_leaks_after_a_full_lifecycle(stack_env, tmp_path, caplog):
    env = stack_env
    caplog.set_level(logging.DEBUG, logger="stackops")
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/shop/db-url", Value=SENTINELS["ssm reference"], Type="SecureString")
    text = (
        STACK.replace("MYSQL", SENTINELS["MysqlRootPassword"])
        .replace("PASSWORD", SENTINELS["source password"])
        .replace("ENV", SENTINELS["protected env"], 1)
    )
    applied = env.invoke("apply", "-f", str(_write(tmp_path, text, env.port_base)))
    assert applied.exit_code == 0, applied.stderr
    outputs = [("apply", applied.stdout + applied.stderr)]
    env.stack_id = json.loads(applied.stdout)["StackId"]
    env.start("app1", "app2")
    env.watch()
    worker = make_dispatcher()
    worker.drain()  # boot: setup, deploy, configure
    app_id = env.run("describe-apps", "--stack-id", env.stack_id)["Apps"][0]["AppId"]
    deploy = ("create-deployment", "--stack-id", env.stack_id, "--app-id", app_id)
    first = env.run(*deploy, "--command", '{"Name": "deploy"}')
    worker.drain()
    env.run(*deploy, "--command", '{"Name": "deploy"}')
    worker.drain()
    env.run(*deploy, "--command", '{"Name": "rollback"}')
    worker.drain()
    deployments = env.run("describe-deployments", "--stack-id", env.stack_id)["Deployments"]
    assert {d["Status"] for d in deployments} == {"successful"}, deployments
    assert first["DeploymentId"] in {d["DeploymentId"] for d in deployments}

    leaks: list[str] = []
    for where, body in everything_stored(env.aws):
        leaks += [f"{name} in {where}" for name in found_in(body, SENTINELS)]
    checked = 0
    for argv in verbs(env):
        for output in FORMATS:
            for debug in ((), ("--debug",)):
                result = env.invoke("--output", output, *debug, *argv)
                checked += 1
                if result.exit_code != 0:
                    leaks.append(f"{' '.join(argv)} --output {output} failed: {result.stderr}")
                said = result.stdout + result.stderr
                leaks += [
                    f"{name} in `{' '.join(argv)}` ({output}{' --debug' if debug else ''})"
                    for name in found_in(said, SENTINELS)
                ]
    for name, said in outputs:
        leaks += [f"{s} in `{name}` output" for s in found_in(said, SENTINELS)]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("stackops"))
    leaks += [f"{name} in stackops's log" for name in found_in(logged, SENTINELS)]

    # On the nodes: a file holding a secret is 0600.
    nodes = Path(env.node("app1")).parent
    loose = []
    holding = 0
    for path, body in node_files(nodes).items():
        if found_in(body, SENTINELS):
            holding += 1
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                loose.append(f"{path.relative_to(nodes)} ({oct(path.stat().st_mode & 0o777)})")
    env_file = env.node("app1") / "srv/www/web/shared/app.env"
    assert SENTINELS["protected env"] in env_file.read_text()

    # A changed value rewrites the file that held it.
    env.run(
        "update-app",
        "--app-id",
        app_id,
        "--environment",
        json.dumps(
            [
                {"Key": "API_TOKEN", "Value": NEW_ENV, "Secure": True},
                {"Key": "GREETING", "Value": "hello"},
            ]
        ),
    )
    env.run(*deploy, "--command", '{"Name": "deploy"}')
    worker.drain()
    stale = [
        str(path.relative_to(nodes))
        for path, body in node_files(nodes).items()
        if SENTINELS["protected env"] in body
    ]
    assert NEW_ENV in env_file.read_text()
    record(
        "secrets after a full lifecycle (4 sentinels)",
        "lifecycle",
        {
            "stored items and objects read": len(everything_stored(env.aws)),
            "outputs read": checked,
            "node files holding one": holding,
            "leaks": len(leaks),
            "node files not 0600": len(loose),
            "stale copies after a change": len(stale),
        },
        bad=["leaks", "node files not 0600", "stale copies after a change"],
        order=60,
    )
    assert leaks == [], leaks
    assert loose == [], loose
    assert stale == [], stale


def _write(tmp: Path, text: str, port_base: int) -> Path:
    path = tmp / "secrets.yaml"
    path.write_text(text.replace("PORT_BASE", str(port_base)))
    return path
