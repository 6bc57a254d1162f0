"""SSM Run Command adapter: send a shell script to one instance, follow its invocation.

The S3 side of a run (payload in, report out) goes through the s3 adapter, whose
methods declare s3:PutObject and s3:GetObject.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from stackops.aws.roles import DISPATCHER, calls
from stackops.aws.session import AwsSession, aws_errors, error_code
from stackops.errors import AwsFailure

SHELL_DOCUMENT = "AWS-RunShellScript"
TERMINAL_STATUSES = frozenset({"Success", "Failed", "Cancelled", "TimedOut"})
COMMENT_LIMIT = 100  # SendCommand's Comment is at most 100 characters


class Invocation(NamedTuple):
    """The state of one command on one instance."""

    status: str  # Pending, InProgress, Delayed, Success, Cancelling, Cancelled, TimedOut, Failed
    status_details: str  # finer: DeliveryTimedOut, ExecutionTimedOut, Undeliverable, ...
    response_code: int  # the script's exit status; -1 while none
    stdout: str  # what SSM kept of it (24,000 characters at most)
    stderr: str  # (8,000 characters at most)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


class RunCommand:
    """SSM Run Command with the AWS-RunShellScript document."""

    def __init__(self, session: AwsSession) -> None:
        self._client = session.client("ssm")

    @calls("ssm:SendCommand", roles=(DISPATCHER,))
    def send_shell(
        self,
        instance_id: str,
        commands: Sequence[str],
        *,
        execution_timeout: int,
        comment: str,
    ) -> str:
        """Run `commands` (shell lines) on the instance; the SSM command id."""
        with aws_errors("ssm:SendCommand"):
            resp = self._client.send_command(
                InstanceIds=[instance_id],
                DocumentName=SHELL_DOCUMENT,
                Parameters={
                    "commands": list(commands),
                    "executionTimeout": [str(max(1, execution_timeout))],
                },
                Comment=comment[:COMMENT_LIMIT],
            )
        return resp["Command"]["CommandId"]

    @calls("ssm:GetCommandInvocation", roles=(DISPATCHER,))
    def invocation(self, command_id: str, instance_id: str) -> Invocation | None:
        """The invocation on the instance; None while SSM has not created it yet."""
        try:
            with aws_errors("ssm:GetCommandInvocation"):
                resp = self._client.get_command_invocation(
                    CommandId=command_id, InstanceId=instance_id
                )
        except AwsFailure as exc:
            if error_code(exc) == "InvocationDoesNotExist":
                return None
            raise
        return Invocation(
            status=resp.get("Status", "Pending"),
            status_details=resp.get("StatusDetails", ""),
            response_code=int(resp.get("ResponseCode", -1)),
            stdout=resp.get("StandardOutputContent", ""),
            stderr=resp.get("StandardErrorContent", ""),
        )

    @calls("ssm:CancelCommand", roles=(DISPATCHER,))
    def cancel(self, command_id: str, instance_id: str) -> None:
        """Ask SSM to stop the command on the instance."""
        with aws_errors("ssm:CancelCommand"):
            self._client.cancel_command(CommandId=command_id, InstanceIds=[instance_id])
