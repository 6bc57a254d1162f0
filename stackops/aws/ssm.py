"""SSM Parameter Store adapter: protected values kept as SecureString, read at run time."""

from __future__ import annotations

from collections.abc import Iterable

from stackops.aws.roles import DISPATCHER, INSTANCE, OPERATOR, calls
from stackops.aws.session import AwsSession, aws_errors


class ParameterStore:
    """Reads and writes parameters; values returned here must never be logged."""

    def __init__(self, session: AwsSession) -> None:
        self._client = session.client("ssm")

    @calls("ssm:PutParameter", roles=(OPERATOR,))
    def put_secret(self, name: str, value: str) -> None:
        """Store `value` as a SecureString at `name`, replacing any previous value."""
        with aws_errors("ssm:PutParameter"):
            self._client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)

    @calls("ssm:GetParameters", roles=(OPERATOR, DISPATCHER, INSTANCE))
    def get_many(self, names: Iterable[str]) -> dict[str, str]:
        """Decrypted values by name, 10 per call; names not found are left out."""
        wanted = list(dict.fromkeys(names))
        values: dict[str, str] = {}
        for start in range(0, len(wanted), 10):
            with aws_errors("ssm:GetParameters"):
                resp = self._client.get_parameters(
                    Names=wanted[start : start + 10], WithDecryption=True
                )
            values.update({p["Name"]: p["Value"] for p in resp["Parameters"]})
        return values

    @calls("ssm:GetParameter", roles=(OPERATOR, DISPATCHER))
    def get_plain(self, name: str) -> str | None:
        """A public (not secret) parameter, such as an AMI id; None if absent."""
        with aws_errors("ssm:GetParameter"):
            try:
                return self._client.get_parameter(Name=name)["Parameter"]["Value"]
            except self._client.exceptions.ParameterNotFound:
                return None

    @calls("ssm:DeleteParameters", roles=(OPERATOR,))
    def delete_many(self, names: Iterable[str]) -> None:
        """Delete parameters, 10 per call (missing ones are ignored)."""
        wanted = list(dict.fromkeys(names))
        for start in range(0, len(wanted), 10):
            with aws_errors("ssm:DeleteParameters"):
                self._client.delete_parameters(Names=wanted[start : start + 10])
