"""A stack's cookbook source: its SSH key kept in Parameter Store, the cookbooks run on setup."""

from __future__ import annotations

import json
from pathlib import Path

from stackops.config import state_home
from tests.helpers import ok_json

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nstackkeymaterial42\n-----END-----"
RECIPE = 'def recipe(run):\n    run.file("/etc/site/flavour", content="from git\\n", mode=0o644)\n'


def table_text(aws) -> str:
    items = aws.client("dynamodb").scan(TableName="stackops-state")["Items"]
    return json.dumps(items)


def test_the_cookbook_ssh_key_goes_to_parameter_store_and_follows_the_stack(aws, invoke):
    ok_json(invoke("bootstrap"))
    source = {"Type": "git", "Url": "git@github.com:org/cookbooks.git", "SshKey": KEY}
    stack_id = ok_json(
        invoke(
            "create-stack", "--name", "s", "--use-custom-cookbooks",
            "--custom-cookbooks-source", json.dumps(source),
        )
    )["StackId"]  # fmt: skip
    (stack,) = ok_json(invoke("describe-stacks"))["Stacks"]
    assert stack["CustomCookbooksSource"]["SshKey"] == "*****FILTERED*****"
    ssm = aws.client("ssm")
    path = f"/stackops/secrets/stacks/{stack_id}/cookbooks/ssh_key"
    stored = ssm.get_parameter(Name=path, WithDecryption=True)["Parameter"]
    assert (stored["Value"], stored["Type"]) == (KEY, "SecureString")
    assert "stackkeymaterial42" not in table_text(aws)

    source["SshKey"] = KEY.replace("42", "43")
    ok_json(invoke("update-stack", "--stack-id", stack_id, "--custom-cookbooks-source", json.dumps(
        source)))  # fmt: skip
    assert "43" in ssm.get_parameter(Name=path, WithDecryption=True)["Parameter"]["Value"]
    clone_id = ok_json(invoke("clone-stack", "--source-stack-id", stack_id))["StackId"]
    clone_path = f"/stackops/secrets/stacks/{clone_id}/cookbooks/ssh_key"
    assert "43" in ssm.get_parameter(Name=clone_path, WithDecryption=True)["Parameter"]["Value"]
    assert "stackkeymaterial" not in table_text(aws)
    ok_json(invoke("delete-stack", "--stack-id", stack_id))
    names = [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
    assert path not in names and clone_path in names


STACK = """\
stack:
  name: shop
  use_custom_cookbooks: true
  custom_cookbooks_source: {type: git, url: "REPO", revision: main}
layers:
  - shortname: app
    type: custom
    custom_recipes: {setup: [site::setup]}
instances:
  - {hostname: app1, layers: [app], instance_type: t3.micro}
"""


def test_setup_through_the_dispatcher_runs_the_fetched_cookbooks_and_records_the_revision(
    stack_env, repo, tmp_path
):
    commit = repo.commit({"site/setup.py": RECIPE}, "cookbooks")
    env = stack_env
    env.apply(STACK.replace("REPO", str(repo.bare)), tmp_path)
    env.start("app1")
    env.watch()
    assert env.dispatch()["Failed"] == 0
    assert env.instances()["app1"]["Status"] == "online"
    node: Path = env.node("app1")
    assert (node / "etc/site/flavour").read_text() == "from git\n"
    setup = env.commands("app1")[0]
    record = ok_json(env.invoke("--output", "json", "logs", setup["CommandId"]))
    assert record["Report"]["cookbooks"]["revision"] == commit
    assert (state_home() / "nodes").is_dir()
