"""The apply planner, tested by comparing plans with == against in-memory state."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackops.errors import InvalidInput
from stackops.model.apps import App, EnvironmentVariable
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.model.plan import (
    Change,
    CurrentState,
    FieldChange,
    Plan,
    plan_stack_changes,
)
from stackops.model.stackfile import StackFile, load_stack_file, parse_stack_file
from stackops.model.stacks import Stack

DEMO = Path(__file__).resolve().parents[2] / "stacks" / "demo.yaml"
WHEN = "2026-11-28T17:00:00+00:00"


@pytest.fixture
def demo() -> StackFile:
    return load_stack_file(DEMO)


def state_of(desired: StackFile) -> CurrentState:
    """The records an apply of `desired` would leave, with what EC2 decided filled in."""
    stack = Stack.from_spec(desired.stack, stack_id="st-1", created_at=WHEN)
    layers = [
        Layer.from_spec(spec, layer_id=f"la-{spec.shortname}", stack_id="st-1", created_at=WHEN)
        for spec in desired.layers
    ]
    apps = [
        App.from_spec(spec, app_id=f"ap-{spec.shortname}", stack_id="st-1", created_at=WHEN)
        for spec in desired.apps
    ]
    instances = [
        Instance.model_validate(
            {
                **entry.model_dump(exclude={"layers"}),
                "instance_id": f"in-{entry.hostname}",
                "stack_id": "st-1",
                "layer_ids": [f"la-{name}" for name in entry.layers],
                "created_at": WHEN,
                "status": "online",
                "subnet_id": "subnet-0123abcd",
                "availability_zone": "us-east-1a",
                "ami_id": "ami-0123abcd",
            }
        )
        for entry in desired.instances
    ]
    return CurrentState(stack, layers, apps, instances)


def test_empty_state_creates_everything_in_order(demo: StackFile) -> None:
    plan = plan_stack_changes(demo, CurrentState())
    assert plan == Plan(
        changes=(
            Change("create", "stack", "demo", None, demo.stack),
            Change("create", "layer", "lb", None, demo.layers[0]),
            Change("create", "layer", "app", None, demo.layers[1]),
            Change("create", "layer", "db", None, demo.layers[2]),
            Change("create", "app", "web", None, demo.apps[0]),
            Change("create", "instance", "lb1", None, demo.instances[0]),
            Change("create", "instance", "app1", None, demo.instances[1]),
            Change("create", "instance", "app2", None, demo.instances[2]),
            Change("create", "instance", "app3", None, demo.instances[3]),
            Change("create", "instance", "db1", None, demo.instances[4]),
        )
    )
    assert not plan.is_empty
    assert plan.render("stacks/demo.yaml") == textwrap.dedent(
        """\
        + stack demo (us-east-1)
        + layer lb (Load balancer)
        + layer app (App server)
        + layer db (Database)
        + app web (Web)
        + instance lb1 (t3.micro in lb)
        + instance app1 (t3.micro in app)
        + instance app2 (t3.micro in app)
        + instance app3 (t3.micro in app)
        + instance db1 (t3.micro in db)
        Plan: 10 to create, 0 to update, 0 to delete."""
    )


def test_matching_state_gives_an_empty_plan(demo: StackFile) -> None:
    plan = plan_stack_changes(demo, state_of(demo))
    assert plan.is_empty
    assert plan.unchanged == (
        ("stack", "demo"),
        ("layer", "lb"),
        ("layer", "app"),
        ("layer", "db"),
        ("app", "web"),
        ("instance", "lb1"),
        ("instance", "app1"),
        ("instance", "app2"),
        ("instance", "app3"),
        ("instance", "db1"),
    )
    assert plan.kept == ()
    assert plan.render("stacks/demo.yaml") == "No changes: stack demo matches stacks/demo.yaml."


def test_a_changed_field_is_one_update(demo: StackFile) -> None:
    state = state_of(demo)
    lb = state.layers[0].model_copy(update={"custom_json": {"backend": "old"}})
    state = CurrentState(state.stack, [lb, *state.layers[1:]], state.apps, state.instances)
    plan = plan_stack_changes(demo, state)
    assert plan.changes == (
        Change(
            "update",
            "layer",
            "lb",
            "la-lb",
            demo.layers[0],
            (FieldChange("custom_json", {"backend": "old"}, {}),),
        ),
    )
    assert plan.render() == (
        '~ layer lb: custom_json {"backend": "old"} -> {}\n'
        "Plan: 0 to create, 1 to update, 0 to delete."
    )


def test_instance_layers_compare_as_shortnames(demo: StackFile) -> None:
    state = state_of(demo)
    app1 = state.instances[1].model_copy(update={"layer_ids": ["la-app", "la-db"]})
    instances = [state.instances[0], app1, *state.instances[2:]]
    plan = plan_stack_changes(demo, CurrentState(state.stack, state.layers, state.apps, instances))
    assert plan.changes == (
        Change(
            "update",
            "instance",
            "app1",
            "in-app1",
            demo.instances[1],
            (FieldChange("layers", ["app", "db"], ["app"]),),
        ),
    )


def test_values_decided_at_creation_are_not_changes(demo: StackFile) -> None:
    # state_of filled subnet, zone and AMI the file leaves out; naming one in the file is a change
    assert plan_stack_changes(demo, state_of(demo)).is_empty
    pinned = demo.model_copy(
        update={
            "instances": [
                demo.instances[0].model_copy(update={"ami_id": "ami-99999999"}),
                *demo.instances[1:],
            ]
        }
    )
    plan = plan_stack_changes(pinned, state_of(demo))
    assert plan.changes[0].fields == (FieldChange("ami_id", "ami-0123abcd", "ami-99999999"),)


def test_things_not_in_the_file_are_kept_or_pruned(demo: StackFile) -> None:
    state = state_of(demo)
    extra_layer = state.layers[0].model_copy(update={"shortname": "old", "layer_id": "la-old"})
    extra_app = state.apps[0].model_copy(update={"shortname": "api", "app_id": "ap-api"})
    extra = [
        state.instances[1].model_copy(update={"hostname": h, "instance_id": f"in-{h}"})
        for h in ("app5", "app4")
    ]
    full = CurrentState(
        state.stack,
        [*state.layers, extra_layer],
        [*state.apps, extra_app],
        [*state.instances, *extra],
    )
    kept = plan_stack_changes(demo, full)
    assert kept.is_empty
    assert kept.kept == (
        ("layer", "old"),
        ("app", "api"),
        ("instance", "app4"),
        ("instance", "app5"),
    )
    pruned = plan_stack_changes(demo, full, prune=True)
    assert pruned.changes == (
        Change("delete", "instance", "app4", "in-app4"),
        Change("delete", "instance", "app5", "in-app5"),
        Change("delete", "app", "api", "ap-api"),
        Change("delete", "layer", "old", "la-old"),
    )
    assert pruned.kept == ()
    assert pruned.render() == textwrap.dedent(
        """\
        - instance app4
        - instance app5
        - app api
        - layer old
        Plan: 0 to create, 0 to update, 4 to delete."""
    )
    assert kept.render("stacks/demo.yaml").splitlines()[0] == (
        "  kept: layer old (not in stacks/demo.yaml; pruning would delete it)"
    )


def test_secrets_are_masked_in_plans(demo: StackFile) -> None:
    desired = demo.model_copy(
        update={
            "apps": [
                demo.apps[0].model_copy(
                    update={
                        "environment": [
                            EnvironmentVariable(key="TOKEN", value="s3cr3t-new", secure=True)
                        ]
                    }
                )
            ]
        }
    )
    state = state_of(demo)
    web = state.apps[0].model_copy(
        update={"environment": [EnvironmentVariable(key="TOKEN", value="s3cr3t-old", secure=True)]}
    )
    plan = plan_stack_changes(
        desired, CurrentState(state.stack, state.layers, [web], state.instances)
    )
    masked = [{"key": "TOKEN", "value": "(secret)", "secure": True}]
    assert plan.changes == (
        Change("update", "app", "web", "ap-web", desired.apps[0], (
            FieldChange("environment", masked, masked),
        )),
    )  # fmt: skip
    assert plan.render().splitlines()[0] == "~ app web: environment (secret changed)"
    assert "s3cr3t" not in repr(plan)


def test_a_secret_the_record_no_longer_holds_is_not_a_change(demo: StackFile) -> None:
    text = DEMO.read_text().replace(
        "url: recipes/web/files/web-v1.tar.gz",
        "url: recipes/web/files/web-v1.tar.gz\n      password: hunter2",
    )
    desired = parse_stack_file(text)
    state = state_of(desired)
    source = state.apps[0].app_source
    assert source is not None
    stashed = state.apps[0].model_copy(
        update={"app_source": source.model_copy(update={"password": ""})}
    )
    current = CurrentState(state.stack, state.layers, [stashed], state.instances)
    assert plan_stack_changes(desired, current).is_empty
    # a different URL is shown, the password masked
    moved = desired.model_copy(
        update={
            "apps": [
                desired.apps[0].model_copy(
                    update={"app_source": source.model_copy(update={"url": "s3://b/v2.tgz"})}
                )
            ]
        }
    )
    (change,) = plan_stack_changes(moved, current).changes
    assert change.fields[0].new["password"] == "(secret)"
    assert change.fields[0].old["password"] == ""


def test_plan_refuses_a_state_of_another_stack(demo: StackFile) -> None:
    state = state_of(demo)
    other = CurrentState(state.stack.model_copy(update={"name": "shop"}))  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="current state is stack 'shop'"):
        plan_stack_changes(demo, other)
