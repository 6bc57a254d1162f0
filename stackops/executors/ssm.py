"""The ssm executor: the payload to S3, `stackops agent apply` on the instance by SSM Run Command.

The payload keeps secret refs unresolved: the agent resolves them on the instance
(with its instance role) and redacts its own report, which it uploads to
`logs/<command_id>.json` (the text log beside it, `logs/<command_id>.txt`) in
the same bucket. SSM's own copy of the output is the fallback.
"""

from __future__ import annotations

import contextlib
import json
import math
import shlex
import signal
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from stackops.errors import NotFound, StackopsError
from stackops.executors.base import (
    EXIT_INVALID,
    EXIT_NO_REPORT,
    EXIT_NOT_STARTED,
    EXIT_OK,
    EXIT_TIMED_OUT,
    CheckReply,
    CheckRequest,
    RunRequest,
    RunResult,
    executor,
)
from stackops.executors.checks import check_payload_bytes
from stackops.executors.payload import COMMAND_ID, payload_bytes

if TYPE_CHECKING:
    from stackops.aws.session import AwsSession
    from stackops.aws.ssm_commands import Invocation


class CommandSender(Protocol):
    """What the executor needs of SSM (`stackops.aws.ssm_commands.RunCommand`)."""

    def send_shell(
        self, instance_id: str, commands: Sequence[str], *, execution_timeout: int, comment: str
    ) -> str: ...

    def invocation(self, command_id: str, instance_id: str) -> Invocation | None: ...

    def cancel(self, command_id: str, instance_id: str) -> None: ...


class ObjectStore(Protocol):
    """What the executor needs of S3 (`stackops.aws.s3.Bucket`)."""

    name: str

    def put_object(self, key: str, body: bytes, *, content_type: str | None = None) -> None: ...

    def get_object(self, key: str) -> bytes: ...


def payload_key(command_id: str) -> str:
    return f"payloads/{command_id}.json"


def report_key(command_id: str) -> str:
    return f"logs/{command_id}.json"


def log_key(command_id: str) -> str:
    return f"logs/{command_id}.txt"


@executor(
    "ssm",
    actions=(
        "s3:PutObject",
        "s3:GetObject",
        "ssm:SendCommand",
        "ssm:GetCommandInvocation",
        "ssm:CancelCommand",
    ),
)
class SsmExecutor:
    """Runs `stackops agent apply` on the instance through SSM Run Command; payload in S3."""

    name: ClassVar[str]

    def __init__(self, session: AwsSession, bucket: str, **options: Any) -> None:
        """On `session`: SSM Run Command and the artifacts bucket called `bucket`.
        `options` are those of `with_adapters`."""
        from stackops.aws.s3 import Bucket
        from stackops.aws.ssm_commands import RunCommand

        self._configure(RunCommand(session), Bucket(session, bucket), **options)

    @classmethod
    def with_adapters(
        cls, commands: CommandSender, bucket: ObjectStore, **options: Any
    ) -> SsmExecutor:
        """The executor on given adapters (fakes in tests)."""
        made = cls.__new__(cls)
        made._configure(commands, bucket, **options)
        return made

    def _configure(
        self,
        commands: CommandSender,
        bucket: ObjectStore,
        *,
        agent: str = "stackops",
        poll_interval: float = 2.0,
        first_poll: float = 0.25,
        wait_grace: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`agent` is the stackops command on the instance; polls start `first_poll` apart
        and double up to `poll_interval` (short runs are seen soon, long ones cost few
        calls); polling goes on `wait_grace` seconds past the timeout, for delivery and
        for SSM to report its own TimedOut."""
        self._commands = commands
        self._bucket = bucket
        self._agent = agent
        self._poll_interval = poll_interval
        self._first_poll = min(first_poll, poll_interval)
        self._wait_grace = wait_grace
        self._sleep = sleep
        self._clock = clock

    def command_line(self, command_id: str) -> str:
        """The shell line the instance runs."""
        url = f"s3://{self._bucket.name}/{payload_key(command_id)}"
        return shlex.join([self._agent, "agent", "apply", "--payload", url, "--output", "json"])

    def run(self, request: RunRequest) -> RunResult:
        """Send the run and follow it; AWS failures are results, never exceptions."""
        started = self._clock()

        def result(
            code: int,
            report: dict[str, Any] | None,
            log: str,
            *,
            ok: bool = False,
            timed_out: bool = False,
        ) -> RunResult:
            return RunResult(ok, code, report, log, timed_out, self._clock() - started)

        cid, instance = request.command_id, request.ec2_instance_id
        if not COMMAND_ID.match(cid):
            return result(EXIT_INVALID, None, f"stackops: command id {cid!r} is not valid")
        try:
            self._bucket.put_object(
                payload_key(cid), payload_bytes(request), content_type="application/json"
            )
            ssm_id = self._commands.send_shell(
                instance,
                [self.command_line(cid)],
                execution_timeout=math.ceil(request.timeout),
                comment=f"stackops command {cid}",
            )
        except StackopsError as exc:
            return result(
                EXIT_NOT_STARTED, None, f"stackops: cannot start the run on {instance}: {exc}"
            )
        invocation, trouble = self._follow(ssm_id, instance, started + request.timeout)
        report, log = self._outputs(cid, invocation)
        if invocation is None or not invocation.finished:
            last = invocation.status if invocation else "no invocation yet"
            note = (
                f"stackops: timed out after {request.timeout:g} s: SSM command {ssm_id} on "
                f"{instance} still {last}"
            )
            try:
                self._commands.cancel(ssm_id, instance)
                note += "; cancel requested"
            except StackopsError as exc:
                note += f"; cancel failed: {exc}"
            return result(EXIT_TIMED_OUT, report, _join(log, *trouble, note), timed_out=True)
        code, timed_out = exit_code(invocation)
        if code == EXIT_OK and report is None:
            code = EXIT_NO_REPORT  # a run is ok only when its report says so (as local's)
        ok = code == EXIT_OK and report is not None and report.get("ok") is True
        status = (
            f"ssm: command {ssm_id} on {instance}: {invocation.status} "
            f"({invocation.status_details or 'no details'}), exit {code}"
        )
        if not log.strip() and report is None:
            status += (
                f"; the instance returned no output and no report at "
                f"s3://{self._bucket.name}/{report_key(cid)}"
            )
        return result(code, report, _join(log, *trouble, status), ok=ok, timed_out=timed_out)

    def run_check(self, request: CheckRequest) -> CheckReply:
        """Run a health check's command on the instance: `stackops agent check` by SSM Run
        Command, the request (with secret refs, resolved there) in S3; never raises."""
        started = self._clock()
        cid, instance = request.check_id, request.ec2_instance_id
        if not COMMAND_ID.match(cid):
            return CheckReply(None, error=f"check id {cid!r} is not valid")
        url = f"s3://{self._bucket.name}/{payload_key(cid)}"
        line = shlex.join([self._agent, "agent", "check", "--payload", url])
        try:
            self._bucket.put_object(
                payload_key(cid), check_payload_bytes(request), content_type="application/json"
            )
            ssm_id = self._commands.send_shell(
                instance,
                [line],
                execution_timeout=math.ceil(request.timeout) + 30,
                comment=f"stackops health check {cid}",
            )
        except StackopsError as exc:
            return CheckReply(None, error=f"cannot send the check to {instance}: {exc}")
        invocation, _trouble = self._follow(ssm_id, instance, started + request.timeout)
        if invocation is None or not invocation.finished:
            with contextlib.suppress(StackopsError):
                self._commands.cancel(ssm_id, instance)
            last = invocation.status if invocation else "no invocation yet"
            return CheckReply(None, error=f"SSM command {ssm_id} on {instance} still {last}")
        try:
            answer = json.loads(invocation.stdout)
            return CheckReply(
                answer.get("exit_code"), answer.get("output", ""), answer.get("error")
            )
        except (ValueError, AttributeError):
            said = (invocation.stderr or invocation.stdout).strip().splitlines()
            return CheckReply(
                None,
                error=f"SSM command {ssm_id} on {instance}: {invocation.status}, no check result"
                + (f": {said[-1]}" if said else ""),
            )

    def _follow(
        self, ssm_id: str, instance: str, timeout_at: float
    ) -> tuple[Invocation | None, list[str]]:
        """Poll the invocation until it finishes or `wait_grace` after `timeout_at`."""
        deadline = timeout_at + self._wait_grace
        trouble: list[str] = []
        invocation: Invocation | None = None
        interval = self._first_poll
        while True:
            try:
                invocation = self._commands.invocation(ssm_id, instance) or invocation
            except StackopsError as exc:  # throttled, a blip: keep polling until the deadline
                if str(exc) not in trouble:
                    trouble.append(f"stackops: polling: {exc}")
            if invocation is not None and invocation.finished:
                return invocation, trouble
            left = deadline - self._clock()
            if left <= 0:
                return invocation, trouble
            self._sleep(min(interval, left))
            interval = min(interval * 2, self._poll_interval)

    def _outputs(self, cid: str, invocation: Invocation | None) -> tuple[dict | None, str]:
        """The report and the text log: the agent's uploads, else what SSM kept."""
        report = _as_report(self._read(report_key(cid)))
        log = (self._read(log_key(cid)) or b"").decode("utf-8", "replace")
        if invocation is not None:
            if report is None:
                report = _as_report(invocation.stdout.encode())
                if report is None and invocation.stdout.strip():
                    log = _join(log, invocation.stdout.rstrip())
            if not log.strip():
                log = invocation.stderr
        return report, log

    def _read(self, key: str) -> bytes | None:
        try:
            return self._bucket.get_object(key)
        except NotFound:
            return None
        except StackopsError:
            return None  # SSM's copy of the output is the fallback


def exit_code(invocation: Invocation) -> tuple[int, bool]:
    """The run's exit code from a finished invocation, and whether the run timed out."""
    code = invocation.response_code
    match invocation.status:
        case "Success":
            return (code if code > 0 else EXIT_OK), False
        case "TimedOut" if invocation.status_details == "DeliveryTimedOut":
            return EXIT_NOT_STARTED, False
        case "TimedOut":
            return EXIT_TIMED_OUT, True
        case "Cancelled":
            return 128 + signal.SIGTERM, False
    if code > 0:  # Failed with the agent's own status: 1, 2, 124, 127 (no stackops there)...
        return code, code == EXIT_TIMED_OUT
    return EXIT_NOT_STARTED, False  # Undeliverable, Terminated, InvalidPlatform, AccessDenied


def _as_report(data: bytes | None) -> dict[str, Any] | None:
    if not data or not data.strip():
        return None
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "resources" in parsed else None


def _join(*parts: str) -> str:
    return "\n".join(part.rstrip() for part in parts if part and part.strip())
