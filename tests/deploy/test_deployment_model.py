"""The deployment record: command arguments, stackops options, API shape and storage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from stackops.model.base import FILTERED
from stackops.model.deployments import (
    BatchProgress,
    Deployment,
    DeploymentCommand,
    DeploymentStatus,
    snapshot_source,
)
from stackops.model.enums import DeploymentCommandName
from stackops.model.sources import Source
from stackops.model.strategies import STRATEGIES

WHEN = "2026-11-28T17:00:00+00:00"


def deployment(**fields: Any) -> Deployment:
    base: dict[str, Any] = {
        "deployment_id": "d-1",
        "stack_id": "st-1",
        "app_id": "app-1",
        "created_at": WHEN,
        "command": {"Name": "deploy"},
    }
    return Deployment.model_validate({**base, **fields})


def error_of(**fields: Any) -> str:
    with pytest.raises(ValidationError) as err:
        deployment(**fields)
    return str(err.value)


# -- DeploymentCommand ------------------------------------------------------------


def test_command_in_both_alias_styles() -> None:
    pascal = DeploymentCommand.model_validate({"Name": "deploy", "Args": {"migrate": ["true"]}})
    snake = DeploymentCommand.model_validate({"name": "deploy", "args": {"migrate": ["true"]}})
    assert pascal == snake
    assert pascal.name is DeploymentCommandName.deploy
    assert pascal.to_api() == {"Name": "deploy", "Args": {"migrate": ["true"]}}


def test_migrate() -> None:
    assert DeploymentCommand(name="deploy", args={"migrate": ["true"]}).migrate
    assert DeploymentCommand(name="deploy", args={"migrate": ["TRUE"]}).args == {
        "migrate": ["true"]
    }
    assert not DeploymentCommand(name="deploy", args={"migrate": ["false"]}).migrate
    assert not DeploymentCommand(name="deploy").migrate
    for bad in (["yes"], [], ["true", "false"]):
        with pytest.raises(ValidationError, match="'migrate' takes one value, 'true' or 'false'"):
            DeploymentCommand(name="deploy", args={"migrate": bad})


def test_execute_recipes_needs_recipes() -> None:
    command = DeploymentCommand(name="execute_recipes", args={"recipes": ["web::deploy", "nginx"]})
    assert command.recipes == ["web::deploy", "nginx"]
    with pytest.raises(ValidationError, match="needs the argument 'recipes'"):
        DeploymentCommand(name="execute_recipes")
    with pytest.raises(ValidationError, match="at least one recipe"):
        DeploymentCommand(name="execute_recipes", args={"recipes": []})
    with pytest.raises(ValidationError, match="'web deploy' is not valid"):
        DeploymentCommand(name="execute_recipes", args={"recipes": ["web deploy"]})


def test_rollback_to() -> None:
    assert DeploymentCommand(name="rollback", args={"to": ["d-0"]}).rollback_to == "d-0"
    assert DeploymentCommand(name="rollback").rollback_to is None
    with pytest.raises(ValidationError, match="takes one deployment id"):
        DeploymentCommand(name="rollback", args={"to": ["d-0", "d-1"]})


def test_update_dependencies_takes_the_opsworks_arguments() -> None:
    args = {"upgrade_os_to": ["Amazon Linux 2016.09"], "allow_reboot": ["true"]}
    assert DeploymentCommand(name="update_dependencies", args=args).args == args


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("deploy", {"migrat": ["true"]}, "deploy takes no argument 'migrat'; valid: migrate"),
        ("rollback", {"migrate": ["true"]}, "rollback takes no argument 'migrate'; valid: to"),
        (
            "execute_recipes",
            {"recipes": ["a"], "recipe": ["b"]},
            "execute_recipes takes no argument 'recipe'; valid: recipes",
        ),
        ("setup", {"recipes": ["a"]}, "setup takes no argument 'recipes'; it takes none"),
    ],
)
def test_unknown_arguments_name_the_valid_ones(
    name: str, args: dict[str, list[str]], expected: str
) -> None:
    with pytest.raises(ValidationError) as err:
        DeploymentCommand(name=name, args=args)
    assert expected in str(err.value)


def test_unknown_command_is_refused() -> None:
    with pytest.raises(ValidationError, match="execute_recipes"):
        DeploymentCommand(name="migrate")


# -- Deployment ---------------------------------------------------------------------


def test_defaults() -> None:
    d = deployment()
    assert d.status is DeploymentStatus.running and not d.status.done
    assert d.strategy == "all_at_once"
    assert d.max_failures == "0"
    assert d.on_failure is None and d.effective_on_failure == "rollback_all"
    assert deployment(strategy="rolling").effective_on_failure == "stop"
    assert deployment(strategy="rolling", on_failure="rollback_failed").effective_on_failure == (
        "rollback_failed"
    )


def test_status_done() -> None:
    assert [s.value for s in DeploymentStatus if s.done] == ["successful", "failed"]


def test_stack_commands_need_no_app_but_app_commands_do() -> None:
    for name in ("setup", "configure", "update_custom_cookbooks"):
        assert deployment(app_id=None, command={"Name": name}).app_id is None
    assert deployment(app_id=None, command={"Name": "execute_recipes", "Args": {"recipes": ["a"]}})
    for name in ("deploy", "rollback", "start", "stop", "restart", "undeploy"):
        assert f"a {name} deployment needs an app id" in error_of(
            app_id=None, command={"Name": name}
        )


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_registered_strategy_is_accepted(name: str) -> None:
    assert deployment(strategy=name).strategy == name


def test_unknown_strategy_names_the_valid_ones() -> None:
    message = error_of(strategy="canary")
    assert "unknown deployment strategy 'canary'" in message
    assert "all_at_once, rolling, pilot, half" in message


@pytest.mark.parametrize("text", ["0", "0%", "101%", "x", "-2"])
def test_batch_size_is_checked(text: str) -> None:
    message = error_of(strategy="rolling", batch_size=text)
    assert f"--batch-size {text!r} is not valid" in message
    assert "at least 1" in message


def test_batch_size_is_kept_in_normal_form() -> None:
    assert deployment(strategy="rolling", batch_size="30%").batch_size == "30%"
    assert deployment(strategy="rolling", batch_size="02").batch_size == "2"


@pytest.mark.parametrize("text", ["-1", "101%", "x", ""])
def test_max_failures_is_checked(text: str) -> None:
    message = error_of(max_failures=text)
    assert f"--max-failures {text!r} is not valid" in message
    assert "0 or more" in message


def test_batch_size_only_for_rolling_and_pause_only_for_half() -> None:
    assert "--batch-size applies to the rolling strategy, not pilot" in error_of(
        strategy="pilot", batch_size="2"
    )
    assert "--pause applies to the half strategy, not rolling" in error_of(
        strategy="rolling", pause=True
    )
    assert deployment(strategy="half", pause=True).pause


def test_rollback_of() -> None:
    rollback = deployment(command={"Name": "rollback", "Args": {"to": ["d-0"]}}, rollback_of="d-0")
    assert rollback.rollback_of == "d-0"
    assert deployment(command={"Name": "rollback"}, rollback_of="d-0").rollback_of == "d-0"
    assert "rollback_of is for rollback deployments, not deploy" in error_of(rollback_of="d-0")
    assert "differs from the command's 'to' argument 'd-9'" in error_of(
        command={"Name": "rollback", "Args": {"to": ["d-9"]}}, rollback_of="d-0"
    )


def test_instance_ids_are_unique() -> None:
    assert "['i-1'] are given more than once" in error_of(instance_ids=["i-1", "i-2", "i-1"])


def test_batches_hold_only_the_deployments_instances() -> None:
    good = deployment(
        instance_ids=["i-1", "i-2"],
        batches=[{"index": 0, "instance_ids": ["i-1"]}, {"index": 1, "instance_ids": ["i-2"]}],
    )
    assert [b.status for b in good.batches] == ["pending", "pending"]
    assert "batch 1 holds instances ['i-3']" in error_of(
        instance_ids=["i-1"], batches=[{"index": 1, "instance_ids": ["i-3"]}]
    )


def test_batch_progress_subsets() -> None:
    batch = BatchProgress(
        index=0,
        instance_ids=["i-1", "i-2"],
        status="failed",
        failed_instance_ids=["i-2"],
        switched_instance_ids=["i-1"],
    )
    assert batch.failed_instance_ids == ["i-2"]
    with pytest.raises(ValidationError, match=r"failed_instance_ids \['i-9'\] are not in"):
        BatchProgress(index=0, instance_ids=["i-1"], failed_instance_ids=["i-9"])
    with pytest.raises(ValidationError, match="at least 1 item"):
        BatchProgress(index=0, instance_ids=[])
    with pytest.raises(ValidationError, match="status"):
        BatchProgress(index=0, instance_ids=["i-1"], status="paused")


def test_app_source_keeps_no_secret() -> None:
    source = Source(
        type="git", url="https://git.example/app.git", password="hunter2", revision="v2"
    )
    snapshot = snapshot_source(source)
    assert snapshot == {"type": "git", "url": "https://git.example/app.git", "revision": "v2"}
    assert snapshot_source(None) is None
    assert deployment(app_source=snapshot).app_source == snapshot
    with pytest.raises(ValidationError) as err:
        deployment(app_source={**snapshot, "password": "hunter2"})
    message = err.value.errors()[0]["msg"]  # what stackops shows (pydantic's str has the input)
    assert "app_source keeps only type, url, revision (never credentials)" in message
    assert "hunter2" not in message
    pascal = deployment(app_source={"Type": "s3", "Url": "s3://b/app.tgz"}).app_source
    assert pascal == {"type": "s3", "url": "s3://b/app.tgz"}
    assert "app_source type 'ftp' is not one of" in error_of(app_source={"type": "ftp", "url": "x"})


def test_custom_json_as_object_or_string() -> None:
    assert deployment(custom_json='{"a": 1}').custom_json == {"a": 1}
    assert "custom_json is not valid JSON" in error_of(custom_json="{")


def test_typos_are_refused() -> None:
    assert "Extra inputs are not permitted" in error_of(stratgy="rolling")


def test_to_api_is_the_opsworks_shape_plus_stackops_fields() -> None:
    d = deployment(
        comment="release 42",
        custom_json={"feature": {"on": True}},
        instance_ids=["i-1", "i-2"],
        command={"Name": "deploy", "Args": {"migrate": ["true"]}},
        strategy="half",
        pause=True,
        max_failures="10%",
        release="20261128170000",
        app_source={"type": "git", "url": "https://git.example/app.git", "revision": None},
        batches=[{"index": 0, "instance_ids": ["i-1"], "status": "running"}],
        command_ids=["c-1"],
        status="paused",
        completed_at=WHEN,
        duration=12,
    )
    api = d.to_api()
    assert api == {
        "DeploymentId": "d-1",
        "StackId": "st-1",
        "AppId": "app-1",
        "CreatedAt": WHEN,
        "CompletedAt": WHEN,
        "Duration": 12,
        "Comment": "release 42",
        "Command": {"Name": "deploy", "Args": {"migrate": ["true"]}},
        "Status": "paused",
        "CustomJson": '{"feature": {"on": true}}',
        "InstanceIds": ["i-1", "i-2"],
        "Strategy": "half",
        "MaxFailures": "10%",
        "Pause": True,
        "Release": "20261128170000",
        "AppSource": {"Type": "git", "Url": "https://git.example/app.git"},
        "Batches": [
            {
                "Index": 0,
                "InstanceIds": ["i-1"],
                "Status": "running",
                "FailedInstanceIds": [],
                "SwitchedInstanceIds": [],
            }
        ],
        "CommandIds": ["c-1"],
    }  # DeleteApp and AbortRequested are the runner's bookkeeping, not in answers
    assert json.loads(api["CustomJson"]) == d.custom_json
    assert FILTERED not in json.dumps(api)


def test_to_api_leaves_out_empty_custom_json_and_unset_fields() -> None:
    api = deployment(app_id=None, command={"Name": "setup"}).to_api()
    assert "CustomJson" not in api and "AppId" not in api and "OnFailure" not in api
    assert api["Command"] == {"Name": "setup", "Args": {}}


def test_record_round_trip() -> None:
    d = deployment(
        strategy="rolling",
        batch_size="25%",
        on_failure="rollback_failed",
        max_failures="1",
        instance_ids=["i-1", "i-2"],
        batches=[
            {"index": 0, "instance_ids": ["i-1"], "status": "successful"},
            {
                "index": 1,
                "instance_ids": ["i-2"],
                "status": "failed",
                "failed_instance_ids": ["i-2"],
            },
        ],
        status="failed",
        message="i-2 failed its health check",
        app_source={"type": "git", "url": "https://git.example/app.git", "revision": "v2"},
    )
    record = d.to_record()
    assert record["batch_size"] == "25%" and record["status"] == "failed"
    assert json.loads(json.dumps(record)) == record
    assert Deployment.from_record(record) == d
    assert Deployment.model_validate(d.to_api()) == d  # the API shape validates back too
