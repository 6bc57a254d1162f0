"""IAM adapter: the roles and instance profiles `stackops bootstrap` creates."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackops.aws.roles import BOOTSTRAP, calls
from stackops.aws.session import AwsSession, aws_errors, error_code
from stackops.errors import AwsFailure


@dataclass(frozen=True)
class ExistingRole:
    """A role as IAM holds it: its trust policy and one inline policy."""

    arn: str
    trust: Mapping[str, Any]
    inline: Mapping[str, Any] | None


class Iam:
    """Roles, their policies, and instance profiles."""

    def __init__(self, session: AwsSession) -> None:
        self._client = session.client("iam")

    @calls("iam:GetRole", "iam:GetRolePolicy", roles=(BOOTSTRAP,))
    def role(self, name: str, policy_name: str) -> ExistingRole | None:
        """The role `name` with its inline policy `policy_name`; None when there is no role."""
        try:
            with aws_errors("iam:GetRole"):
                role = self._client.get_role(RoleName=name)["Role"]
        except AwsFailure as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
        try:
            with aws_errors("iam:GetRolePolicy"):
                inline = self._client.get_role_policy(RoleName=name, PolicyName=policy_name)
        except AwsFailure as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            inline = None
        return ExistingRole(
            arn=role["Arn"],
            trust=_document(role.get("AssumeRolePolicyDocument")),
            inline=_document(inline["PolicyDocument"]) if inline else None,
        )

    @calls("iam:CreateRole", roles=(BOOTSTRAP,), implied=("iam:TagRole",))
    def create_role(
        self, name: str, trust: Mapping[str, Any], description: str, tags: Mapping[str, str]
    ) -> str:
        """Create a role trusted as `trust` says; its ARN."""
        with aws_errors("iam:CreateRole"):
            resp = self._client.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description=description,
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )
        return resp["Role"]["Arn"]

    @calls("iam:UpdateAssumeRolePolicy", roles=(BOOTSTRAP,))
    def set_trust(self, name: str, trust: Mapping[str, Any]) -> None:
        with aws_errors("iam:UpdateAssumeRolePolicy"):
            self._client.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))

    @calls("iam:PutRolePolicy", roles=(BOOTSTRAP,))
    def put_inline_policy(self, role: str, policy_name: str, document: Mapping[str, Any]) -> None:
        """Create or replace the role's inline policy `policy_name`."""
        with aws_errors("iam:PutRolePolicy"):
            self._client.put_role_policy(
                RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )

    @calls("iam:GetInstanceProfile", roles=(BOOTSTRAP,))
    def instance_profile(self, name: str) -> tuple[str, ...] | None:
        """The role names in instance profile `name`; None when there is no such profile."""
        try:
            with aws_errors("iam:GetInstanceProfile"):
                profile = self._client.get_instance_profile(InstanceProfileName=name)
        except AwsFailure as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
        return tuple(r["RoleName"] for r in profile["InstanceProfile"].get("Roles", []))

    @calls("iam:CreateInstanceProfile", roles=(BOOTSTRAP,), implied=("iam:TagInstanceProfile",))
    def create_instance_profile(self, name: str, tags: Mapping[str, str]) -> None:
        with aws_errors("iam:CreateInstanceProfile"):
            self._client.create_instance_profile(
                InstanceProfileName=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )

    @calls("iam:AddRoleToInstanceProfile", roles=(BOOTSTRAP,), implied=("iam:PassRole",))
    def add_role_to_instance_profile(self, profile: str, role: str) -> None:
        with aws_errors("iam:AddRoleToInstanceProfile"):
            self._client.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)


def _document(value: Any) -> dict[str, Any]:
    """A policy document as data (boto3 decodes them; some endpoints send the text)."""
    if isinstance(value, str):
        from urllib.parse import unquote

        return json.loads(unquote(value))
    return dict(value or {})
