"""The ssm executor: on moto in-process, with the agent run for real by a fake SSM, and stubbed."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from stackops.aws.session import AwsSession
from stackops.aws.ssm_commands import Invocation, RunCommand
from stackops.cli.main import cli
from stackops.config import Target
from stackops.errors import AwsFailure, NotFound
from stackops.executors import MASK, RunRequest, SsmExecutor
from stackops.executors.ssm import exit_code

SSM_ID = "0b4f5a6e-1111-4222-8333-944455556666"  # SSM command ids are UUIDs


class FakeClock:
    """A clock that moves only when the executor sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class MemoryBucket:
    """An S3 bucket in a dict."""

    def __init__(self, name: str = "artifacts") -> None:
        self.name = name
        self.objects: dict[str, bytes] = {}

    def put_object(self, key: str, body: bytes, *, content_type: str | None = None) -> None:
        self.objects[key] = body

    def get_object(self, key: str) -> bytes:
        if key not in self.objects:
            raise NotFound(f"s3://{self.name}/{key} does not exist")
        return self.objects[key]


def run_request(**change: Any) -> RunRequest:
    base = RunRequest(
        command_id="c-7",
        ec2_instance_id="i-0abc",
        recipes=("web::configure",),
        node={"db": {"password": {"ssm": "/shop/db"}}},
        cookbook_paths=("/opt/recipes",),
        timeout=90.5,
    )
    return RunRequest(**{**base.__dict__, **change})


def test_on_moto_the_payload_keeps_refs_and_send_command_names_the_agent(
    aws: boto3.session.Session,
) -> None:
    aws.client("s3").create_bucket(Bucket="artifacts")
    session = AwsSession(Target("account", "us-east-1"))
    clock = FakeClock()
    executor = SsmExecutor(session, "artifacts", sleep=clock.sleep, clock=clock)
    result = executor.run(run_request())

    stored = aws.client("s3").get_object(Bucket="artifacts", Key="payloads/c-7.json")
    payload = json.loads(stored["Body"].read())
    assert payload["node"] == {"db": {"password": {"ssm": "/shop/db"}}}  # resolved on the instance
    assert (payload["recipes"], payload["timeout"]) == (["web::configure"], 90.5)
    [command] = aws.client("ssm").list_commands()["Commands"]
    assert command["DocumentName"] == "AWS-RunShellScript"
    assert command["InstanceIds"] == ["i-0abc"]
    assert command["Parameters"] == {
        "commands": [
            "stackops agent apply --payload s3://artifacts/payloads/c-7.json --output json"
        ],
        "executionTimeout": ["91"],
    }
    assert command["Comment"] == "stackops command c-7"
    # moto answers Success at once and runs nothing: without a report, the run is not ok.
    assert (result.ok, result.exit_code, result.report, result.timed_out) == (
        False,
        70,
        None,
        False,
    )
    assert "no output and no report at s3://artifacts/logs/c-7.json" in result.log
    assert "Success" in result.log and "no output and no report" in result.log
    assert clock.sleeps == []


class AgentBySsm:
    """SSM as a fake that really runs the command line it is sent, in-process (moto for S3
    and Parameter Store), and reports what the agent did as SSM would."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.result: Invocation | None = None

    def send_shell(
        self, instance_id: str, commands: Sequence[str], *, execution_timeout: int, comment: str
    ) -> str:
        [line] = commands
        self.sent.append(line)
        argv = shlex.split(line)
        assert argv[0] == "stackops"
        done = CliRunner().invoke(cli, argv[1:])
        status = "Success" if done.exit_code == 0 else "Failed"
        self.result = Invocation(status, status, done.exit_code, done.stdout, done.stderr)
        return SSM_ID

    def invocation(self, command_id: str, instance_id: str) -> Invocation | None:
        return self.result

    def cancel(self, command_id: str, instance_id: str) -> None:
        raise AssertionError("nothing to cancel")


def test_the_agent_s_uploaded_report_comes_back_with_secrets_masked(
    aws: boto3.session.Session, tmp_path: Path
) -> None:
    aws.client("s3").create_bucket(Bucket="artifacts")
    aws.client("ssm").put_parameter(Name="/shop/db", Value="pa55word!", Type="SecureString")
    (tmp_path / "web").mkdir()
    (tmp_path / "web/configure.py").write_text(
        "def recipe(run):\n"
        "    run.file('/etc/db.conf', content=run.node['db']['password'])\n"
        "    run.execute(['false'])\n"
    )
    session = AwsSession(Target("account", "us-east-1"))
    from stackops.aws.s3 import Bucket

    ssm = AgentBySsm()
    executor = SsmExecutor.with_adapters(ssm, Bucket(session, "artifacts"), sleep=FakeClock().sleep)
    request = run_request(cookbook_paths=(str(tmp_path),), root=str(tmp_path / "node"))
    result = executor.run(request)
    assert (tmp_path / "node/etc/db.conf").read_text() == "pa55word!"
    assert (result.ok, result.exit_code, result.timed_out) == (False, 1, False)
    assert result.report is not None and result.report["failed"] == "execute[false]"
    assert f"+{MASK}" in result.report["resources"][0]["diff"]
    assert "pa55word!" not in json.dumps(result.report) + result.log
    assert "! execute[false]" in result.log  # the text log the agent uploaded
    assert "Failed (Failed), exit 1" in result.log


def stubbed_executor(clock: FakeClock) -> tuple[SsmExecutor, Stubber, MemoryBucket]:
    session = AwsSession(Target("endpoint", "us-east-1", endpoint_url="http://127.0.0.1:9"))
    commands = RunCommand(session)
    bucket = MemoryBucket()
    executor = SsmExecutor.with_adapters(
        commands, bucket, poll_interval=2.0, wait_grace=5.0, sleep=clock.sleep, clock=clock
    )
    return executor, Stubber(session.client("ssm")), bucket


def invocation_response(status: str, code: int = -1, stderr: str = "") -> dict[str, Any]:
    return {
        "CommandId": SSM_ID,
        "InstanceId": "i-0abc",
        "Status": status,
        "StatusDetails": status,
        "ResponseCode": code,
        "StandardOutputContent": "",
        "StandardErrorContent": stderr,
    }


def test_a_failed_invocation_after_a_late_start_is_exit_1_with_ssm_s_output() -> None:
    clock = FakeClock()
    executor, stubber, bucket = stubbed_executor(clock)
    keys = {"CommandId": SSM_ID, "InstanceId": "i-0abc"}
    stubber.add_response(
        "send_command",
        {"Command": {"CommandId": SSM_ID}},
        {
            "InstanceIds": ["i-0abc"],
            "DocumentName": "AWS-RunShellScript",
            "Parameters": {
                "commands": [
                    "stackops agent apply --payload s3://artifacts/payloads/c-7.json --output json"
                ],
                "executionTimeout": ["30"],
            },
            "Comment": "stackops command c-7",
        },
    )
    stubber.add_client_error(
        "get_command_invocation", "InvocationDoesNotExist", expected_params=keys
    )
    stubber.add_response("get_command_invocation", invocation_response("InProgress"), keys)
    failed = invocation_response("Failed", 1, "! execute[false]: run false\nstackops: error: ...")
    stubber.add_response("get_command_invocation", failed, keys)
    with stubber:
        result = executor.run(run_request(timeout=30))
    stubber.assert_no_pending_responses()
    assert "payloads/c-7.json" in bucket.objects
    assert (result.ok, result.exit_code, result.report, result.timed_out) == (False, 1, None, False)
    assert "! execute[false]" in result.log and "Failed (Failed), exit 1" in result.log
    assert clock.sleeps == [0.25, 0.5]  # polls start soon and back off


class StuckSsm:
    """An invocation that never finishes (the instance hangs or never picks it up)."""

    def __init__(self, cancel_error: bool = False) -> None:
        self.polls = 0
        self.cancelled: list[str] = []
        self.cancel_error = cancel_error

    def send_shell(self, instance_id: str, commands: Sequence[str], **_: Any) -> str:
        return "ssm-9"

    def invocation(self, command_id: str, instance_id: str) -> Invocation | None:
        self.polls += 1
        return None if self.polls == 1 else Invocation("InProgress", "InProgress", -1, "", "")

    def cancel(self, command_id: str, instance_id: str) -> None:
        if self.cancel_error:
            raise AwsFailure("ssm:CancelCommand failed: ThrottlingException: slow down")
        self.cancelled.append(command_id)


@pytest.mark.parametrize("cancel_error", [False, True])
def test_polling_stops_at_the_timeout_and_cancels(cancel_error: bool) -> None:
    clock = FakeClock()
    ssm = StuckSsm(cancel_error)
    executor = SsmExecutor.with_adapters(
        ssm, MemoryBucket(), poll_interval=2.0, wait_grace=5.0, sleep=clock.sleep, clock=clock
    )
    result = executor.run(run_request(timeout=10))
    assert (result.ok, result.exit_code, result.timed_out, result.report) == (
        False,
        124,
        True,
        None,
    )
    # 0.25 s apart, doubling to every 2 s; the last at timeout + grace
    assert clock.now == 15.0 and ssm.polls == 11
    assert clock.sleeps[:5] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert "timed out after 10 s: SSM command ssm-9 on i-0abc still InProgress" in result.log
    if cancel_error:
        assert "cancel failed: ssm:CancelCommand failed" in result.log
    else:
        assert ssm.cancelled == ["ssm-9"] and "cancel requested" in result.log


def test_a_send_that_fails_is_a_result_not_an_exception() -> None:
    class Refused(StuckSsm):
        def send_shell(self, instance_id: str, commands: Sequence[str], **_: Any) -> str:
            raise AwsFailure("ssm:SendCommand failed: InvalidInstanceId: not managed")

    result = SsmExecutor.with_adapters(Refused(), MemoryBucket()).run(run_request())
    assert (result.ok, result.exit_code, result.report) == (False, 125, None)
    assert "cannot start the run on i-0abc" in result.log and "InvalidInstanceId" in result.log
    bad_id = SsmExecutor.with_adapters(Refused(), MemoryBucket()).run(run_request(command_id="a b"))
    assert bad_id.exit_code == 2 and "command id 'a b'" in bad_id.log


@pytest.mark.parametrize(
    ("status", "details", "code", "expected"),
    [
        ("Success", "Success", 0, (0, False)),
        ("Failed", "Failed", 1, (1, False)),
        ("Failed", "Failed", 2, (2, False)),
        ("Failed", "Failed", 124, (124, True)),
        ("TimedOut", "ExecutionTimedOut", -1, (124, True)),
        ("TimedOut", "DeliveryTimedOut", -1, (125, False)),
        ("Failed", "Undeliverable", -1, (125, False)),
        ("Cancelled", "Cancelled", -1, (143, False)),
    ],
)
def test_exit_codes_from_invocations(
    status: str, details: str, code: int, expected: tuple[int, bool]
) -> None:
    assert exit_code(Invocation(status, details, code, "", "")) == expected


def test_a_health_check_command_runs_on_the_instance_by_the_agent(
    aws: boto3.session.Session, tmp_path: Path
) -> None:
    """The check goes to the instance (`stackops agent check`), its secret refs resolved
    there; the dispatcher's credentials are not in its environment."""
    from stackops.executors import CheckRequest

    aws.client("s3").create_bucket(Bucket="artifacts")
    aws.client("ssm").put_parameter(Name="/shop/token", Value="t0ken-42", Type="SecureString")
    current = tmp_path / "srv/www/web/current"
    current.mkdir(parents=True)
    (current / "health").write_text("ok")
    from stackops.aws.s3 import Bucket

    ssm = AgentBySsm()
    session = AwsSession(Target("account", "us-east-1"))
    executor = SsmExecutor.with_adapters(ssm, Bucket(session, "artifacts"))
    script = (
        'test -f health && test "$TOKEN" = t0ken-42 && test -z "$AWS_SECRET_ACCESS_KEY" '
        '&& echo "healthy $TOKEN"'
    )
    reply = executor.run_check(
        CheckRequest(
            check_id="c-9-health-1",
            ec2_instance_id="i-0abc",
            argv=("sh", "-c", script),
            cwd="/srv/www/web/current",
            env={"TOKEN": {"ssm": "/shop/token"}},
            timeout=10,
            root=str(tmp_path),
        )
    )
    assert reply.exit_code == 0, reply
    assert reply.output.strip() == f"healthy {MASK}"  # its own output, the secret masked
    (line,) = ssm.sent
    assert line == "stackops agent check --payload s3://artifacts/payloads/c-9-health-1.json"
    stored = aws.client("s3").get_object(Bucket="artifacts", Key="payloads/c-9-health-1.json")
    assert json.loads(stored["Body"].read())["env"] == {"TOKEN": {"ssm": "/shop/token"}}


def test_a_check_that_cannot_be_sent_is_a_reply_not_an_exception() -> None:
    from stackops.executors import CheckRequest

    class Refusing(AgentBySsm):
        def send_shell(self, *args: Any, **kwargs: Any) -> str:
            raise AwsFailure("ssm:SendCommand failed: InvalidInstanceId")

    executor = SsmExecutor.with_adapters(Refusing(), MemoryBucket())
    reply = executor.run_check(CheckRequest("c-1-h", "i-0gone", ("true",), None, {}, 5))
    assert reply.exit_code is None and "InvalidInstanceId" in (reply.error or "")
