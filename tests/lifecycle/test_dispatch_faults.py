"""AWS faults inside the dispatcher, injected through botocore's hooks, and poison messages.

Whatever fails (a throttle, a 500 or a timeout from DynamoDB, SQS, S3, EC2 or
EventBridge), nothing is lost and nothing is recorded that did not happen: the
message comes back and the instance ends online with one successful setup, no
command is recorded failed for a run that never ran, nothing reaches the DLQ. And
no message, whatever it holds, takes the dispatcher down or its batch-mates with it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from stackops.lifecycle.events import configure_request_message
from stackops.model.commands import CommandStatus
from tests.faults import faults_on
from tests.lifecycle.conftest import (
    make_dispatcher,
    queue_depth,
    send,
    small_stack,
    state_event,
)
from tests.reliability.figures import record

SMALL = small_stack("faults", "app1")


@pytest.fixture(autouse=True)
def _one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    """One attempt per AWS call: what a fault does once botocore's retries are spent."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


def booting(env: Any, tmp_path: Any) -> None:
    env.apply(SMALL, tmp_path)
    env.start("app1")
    env.watch()


def commands(env: Any) -> list[tuple[str, str]]:
    return [(c["Type"], c["Status"]) for c in env.commands("app1")]


def settled(env: Any, worker: Any) -> None:
    """After the faults: everything comes back and ends done, once."""
    worker.drain()
    assert env.instances()["app1"]["Status"] == "online"
    assert [s for t, s in commands(env) if t == "setup"][-1] == "successful"
    assert queue_depth() == (0, 0)
    assert env.run("events", "dlq")["Messages"] == []


FAULTS = [
    # (service, operation, match): where in a round the fault lands
    ("dynamodb", "BatchGetItem", None),  # planning: reading the instance records
    ("ec2", "DescribeInstances", None),  # planning: which stackops instance it is
    ("dynamodb", "PutItem", '"event#'),  # claiming the event
    ("dynamodb", "PutItem", '"inflight#command#'),  # the run's own bookkeeping, before it
    ("sqs", "DeleteMessageBatch", None),  # the round's end: messages come back
    ("events", "PutEvents", None),  # publishing state changes
    ("sqs", "ChangeMessageVisibility", None),  # the heartbeat
    ("s3", "PutObject", None),  # storing the run's log
]


@pytest.mark.parametrize("kind", ["throttle", "500", "timeout"])
@pytest.mark.parametrize(("service", "operation", "match"), FAULTS)
def test_a_fault_loses_nothing_and_records_nothing_false(
    stack_env, tmp_path, service, operation, match, kind
):
    env = stack_env
    beating = "Visibility" in operation  # the heartbeat's: a setup long enough to beat
    if beating:
        books = tmp_path / "cookbooks" / "t"
        books.mkdir(parents=True)
        (books / "slow.py").write_text(
            'def recipe(run):\n    run.execute(["sleep", "2"], name="take a while")\n'
        )
        env.apply(
            small_stack("faults", "app1", layer="custom_recipes: {setup: [t::slow]}"), tmp_path
        )
        env.start("app1")
        env.watch()
        worker = make_dispatcher(books.parent, visibility_timeout=1)
    else:
        booting(env, tmp_path)
        worker = make_dispatcher()
    with faults_on(worker.services.session.client(service)) as faults:
        fault = faults.add(operation, kind, times=1, match=match)
        first = worker.poll()
    false_records = commands(env).count(("setup", "failed"))
    worker.drain()
    lost = int(
        env.instances()["app1"]["Status"] != "online"
        or queue_depth() != (0, 0)
        or env.run("events", "dlq")["Messages"] != []
    )
    record(
        "injected AWS faults (throttle, 500, timeout)",
        f"{service} {operation} {match or ''} {kind}",
        {"faults": fault.hits, "lost": lost, "false records": false_records},
        bad=["lost", "false records"],
        order=40,
    )
    assert fault.hits == 1, "the fault was not reached"
    assert first.received == 1
    assert false_records == 0  # a run that did not run is not failed
    settled(env, worker)
    assert [s for t, s in commands(env) if t == "setup"].count("successful") == 1


def test_a_run_stopped_before_the_executor_is_skipped_not_failed(stack_env, tmp_path):
    env = stack_env
    booting(env, tmp_path)
    worker = make_dispatcher()
    with faults_on(worker.services.session.client("dynamodb")) as faults:
        faults.add("PutItem", "throttle", match='"inflight#command#')
        first = worker.poll()
    assert first.failed and not first.handled
    ((kind, status),) = commands(env)
    assert (kind, status) == ("setup", "skipped")
    assert "not run: AWS unavailable" in env.commands("app1")[0]["Summary"]
    settled(env, worker)
    assert [s for t, s in commands(env) if t == "setup"] == ["skipped", "successful"]


def test_a_log_s3_refuses_still_records_the_run(stack_env, tmp_path):
    env = stack_env
    booting(env, tmp_path)
    worker = make_dispatcher()
    with faults_on(worker.services.session.client("s3")) as faults:
        faults.add("PutObject", "throttle", times=5)
        outcome = worker.drain()
    assert outcome.failed == []
    setup = env.commands("app1")[0]
    assert setup["Status"] == "successful" and "log not stored" in setup["Summary"]
    assert env.instances()["app1"]["Status"] == "online"


def test_a_stop_ec2_refuses_for_a_while_runs_its_shutdown_once(stack_env, tmp_path):
    env = stack_env
    booting(env, tmp_path)
    worker = make_dispatcher()
    worker.drain()
    env.stop("app1")
    with faults_on(worker.services.session.client("ec2")) as faults:
        faults.add("StopInstances", "throttle", times=2)
        worker.drain()
    assert env.instances()["app1"]["Status"] == "stopped"
    assert [t for t, _ in commands(env)].count("shutdown") == 1
    assert env.run("events", "dlq")["Messages"] == []


def test_the_loop_waits_out_an_sqs_outage(stack_env, tmp_path):
    env = stack_env
    booting(env, tmp_path)
    worker = make_dispatcher()
    stop = threading.Event()
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)

    with faults_on(worker.services.session.client("sqs")) as faults:
        faults.add("ReceiveMessage", "500", times=3)
        original = worker.poll

        def poll(wait_seconds: int = 0) -> Any:
            outcome = original(0)
            if outcome.received:
                stop.set()
            return outcome

        worker.poll = poll  # type: ignore[method-assign]
        worker.serve(stop, wait_seconds=0, pause=pause)
    assert pauses == [2.0, 4.0, 8.0]  # backed off, never gave up
    assert env.instances()["app1"]["Status"] == "online"


POISON = {
    "deep nesting": "[" * (256 * 1024),
    "deep objects": '{"a":' * 20_000 + "1" + "}" * 20_000,
    "event id over 2 KB": state_event("i-0123456789abcdef0", "running", "e" * 2100),
    "unknown stack": configure_request_message("no-such-stack", 1),
    "not JSON": "\u00ff\u00fe not json",
    "JSON list": "[1, 2, 3]",
    "foreign": json.dumps(
        {"id": "f", "source": "aws.s3", "detail-type": "Object Created", "time": "x", "detail": {}}
    ),
    "bad time": json.dumps(
        {
            "id": "t",
            "source": "aws.ec2",
            "detail-type": "EC2 Instance State-change Notification",
            "time": "yesterday",
            "detail": {"instance-id": "i-1", "state": "running"},
        }
    ),
}


def test_poison_messages_are_dropped_alone_with_a_reason(stack_env, tmp_path):
    env = stack_env
    booting(env, tmp_path)
    for body in POISON.values():
        send(body)
    outcome = make_dispatcher().drain()
    assert env.instances()["app1"]["Status"] == "online"  # the good one, in the same batches
    assert outcome.dropped == len(POISON) and outcome.failed == []
    assert len(outcome.reasons) == len(POISON)
    assert all("\n" not in reason and len(reason) < 400 for reason in outcome.reasons.values())
    assert queue_depth() == (0, 0)
    assert env.run("events", "dlq")["Messages"] == []


def test_the_cli_dispatcher_survives_them_too(stack_env, tmp_path):
    env = stack_env
    booting(env, tmp_path)
    for body in POISON.values():
        send(body)
    result = env.invoke("dispatch", "--drain", "--executor", "local")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["Dropped"] == len(POISON)
    assert env.instances()["app1"]["Status"] == "online"
    assert CommandStatus.failed.value not in {s for _, s in commands(env)}


def test_a_deployment_is_resumed_after_an_outage_never_failed_by_it(stack_env, tmp_path):
    env = stack_env
    env.apply(small_stack("faults", "app1", "app2"), tmp_path)
    env.start("app1", "app2")
    env.watch()
    worker = make_dispatcher()
    worker.drain()
    made = env.run(
        "create-deployment",
        "--stack-id",
        env.stack_id,
        "--command",
        '{"Name": "configure"}',
        "--strategy",
        "rolling",
        "--batch-size",
        "1",
    )
    with faults_on(worker.services.session.client("dynamodb")) as faults:
        # The second write of the deployment's record: after its first batch is recorded.
        fault = faults.add("PutItem", "throttle", match='"deployment#', skip=1)
        first = worker.poll()
    assert fault.hits == 1 and first.failed  # the request comes back
    found = env.run("describe-deployments", "--deployment-ids", made["DeploymentId"])
    assert found["Deployments"][0]["Status"] == "running"  # not failed by an outage
    worker.drain()
    found = env.run("describe-deployments", "--deployment-ids", made["DeploymentId"])
    assert found["Deployments"][0]["Status"] == "successful"
    commands = env.run("describe-commands", "--deployment-id", made["DeploymentId"])
    assert {c["Status"] for c in commands["Commands"]} == {"successful"}
