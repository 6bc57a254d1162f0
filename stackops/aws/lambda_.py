"""Lambda adapter: the dispatcher and scaler functions, their SQS mapping and permissions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stackops.aws.roles import BOOTSTRAP, calls
from stackops.aws.session import AwsSession, aws_errors, error_code
from stackops.errors import AwsFailure

WAIT = {"Delay": 2, "MaxAttempts": 150}


@dataclass(frozen=True)
class FunctionSpec:
    """A function as stackops wants it; its code is a zip in S3."""

    name: str
    role_arn: str
    handler: str
    runtime: str
    timeout: int
    memory: int
    environment: Mapping[str, str]
    architecture: str = "x86_64"
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def configuration(self) -> dict[str, Any]:
        """The settings UpdateFunctionConfiguration takes (and GetFunction gives back)."""
        return {
            "Role": self.role_arn,
            "Handler": self.handler,
            "Runtime": self.runtime,
            "Timeout": self.timeout,
            "MemorySize": self.memory,
            "Environment": {"Variables": dict(self.environment)},
            "Description": self.description,
        }


@dataclass(frozen=True)
class ExistingFunction:
    arn: str
    configuration: Mapping[str, Any]  # the keys of FunctionSpec.configuration()
    code_sha256: str  # base64 of the zip's sha256, as Lambda gives it


@dataclass(frozen=True)
class SourceMapping:
    """One event source mapping of a function."""

    uuid: str
    source_arn: str
    batch_size: int
    response_types: tuple[str, ...]
    enabled: bool


class Lambda:
    """Functions, event source mappings and resource policies."""

    def __init__(self, session: AwsSession) -> None:
        self._client = session.client("lambda")

    @calls("lambda:GetFunction", roles=(BOOTSTRAP,))
    def function(self, name: str) -> ExistingFunction | None:
        """The function called `name`, or None."""
        try:
            with aws_errors("lambda:GetFunction"):
                config = self._client.get_function(FunctionName=name)["Configuration"]
        except AwsFailure as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        wanted = ("Role", "Handler", "Runtime", "Timeout", "MemorySize", "Description")
        current = {k: config.get(k) for k in wanted}
        variables = dict(config.get("Environment", {}).get("Variables", {}))
        current["Environment"] = {"Variables": variables}
        return ExistingFunction(config["FunctionArn"], current, config.get("CodeSha256", ""))

    @calls(
        "lambda:CreateFunction",
        "lambda:GetFunction",
        roles=(BOOTSTRAP,),
        implied=(
            "iam:PassRole",
            "lambda:TagResource",
        ),
    )
    def create(self, spec: FunctionSpec, bucket: str, key: str) -> str:
        """Create the function from s3://bucket/key and wait until it is active; its ARN."""
        with aws_errors("lambda:CreateFunction"):
            resp = self._client.create_function(
                FunctionName=spec.name,
                Code={"S3Bucket": bucket, "S3Key": key},
                Architectures=[spec.architecture],
                Tags=dict(spec.tags),
                Publish=False,
                **spec.configuration(),
            )
            self._client.get_waiter("function_active_v2").wait(
                FunctionName=spec.name, WaiterConfig=WAIT
            )
        return resp["FunctionArn"]

    @calls("lambda:UpdateFunctionCode", "lambda:GetFunction", roles=(BOOTSTRAP,))
    def update_code(self, name: str, bucket: str, key: str) -> None:
        with aws_errors("lambda:UpdateFunctionCode"):
            self._client.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key=key)
            waiter = self._client.get_waiter("function_updated_v2")
            waiter.wait(FunctionName=name, WaiterConfig=WAIT)

    @calls(
        "lambda:UpdateFunctionConfiguration",
        "lambda:GetFunction",
        roles=(BOOTSTRAP,),
        implied=("iam:PassRole",),
    )
    def update_configuration(self, spec: FunctionSpec) -> None:
        with aws_errors("lambda:UpdateFunctionConfiguration"):
            self._client.update_function_configuration(
                FunctionName=spec.name, **spec.configuration()
            )
            self._client.get_waiter("function_updated_v2").wait(
                FunctionName=spec.name, WaiterConfig=WAIT
            )

    @calls("lambda:ListEventSourceMappings", roles=(BOOTSTRAP,))
    def mappings(self, function: str) -> list[SourceMapping]:
        """The event source mappings of `function`."""
        found: list[SourceMapping] = []
        kwargs: dict[str, Any] = {"FunctionName": function}
        while True:
            with aws_errors("lambda:ListEventSourceMappings"):
                page = self._client.list_event_source_mappings(**kwargs)
            for m in page.get("EventSourceMappings", []):
                found.append(
                    SourceMapping(
                        m["UUID"],
                        m.get("EventSourceArn", ""),
                        int(m.get("BatchSize") or 0),
                        tuple(m.get("FunctionResponseTypes") or ()),
                        m.get("State") not in ("Disabled", "Disabling"),
                    )
                )
            if not page.get("NextMarker"):
                return found
            kwargs["Marker"] = page["NextMarker"]

    @calls("lambda:CreateEventSourceMapping", roles=(BOOTSTRAP,))
    def create_mapping(
        self, function: str, source_arn: str, *, batch_size: int, response_types: tuple[str, ...]
    ) -> str:
        """Have Lambda poll `source_arn` (an SQS queue) for `function`; the mapping's UUID."""
        with aws_errors("lambda:CreateEventSourceMapping"):
            resp = self._client.create_event_source_mapping(
                FunctionName=function,
                EventSourceArn=source_arn,
                BatchSize=batch_size,
                FunctionResponseTypes=list(response_types),
                Enabled=True,
            )
        return resp["UUID"]

    @calls("lambda:UpdateEventSourceMapping", roles=(BOOTSTRAP,))
    def update_mapping(
        self, uuid: str, *, batch_size: int, response_types: tuple[str, ...]
    ) -> None:
        with aws_errors("lambda:UpdateEventSourceMapping"):
            self._client.update_event_source_mapping(
                UUID=uuid,
                BatchSize=batch_size,
                FunctionResponseTypes=list(response_types),
                Enabled=True,
            )

    @calls("lambda:GetPolicy", roles=(BOOTSTRAP,))
    def permission_ids(self, function: str) -> frozenset[str]:
        """The statement ids of the function's resource policy."""
        try:
            with aws_errors("lambda:GetPolicy"):
                policy = self._client.get_policy(FunctionName=function)["Policy"]
        except AwsFailure as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return frozenset()
            raise
        return frozenset(s.get("Sid", "") for s in json.loads(policy).get("Statement", []))

    @calls("lambda:AddPermission", roles=(BOOTSTRAP,))
    def allow_invoke(
        self, function: str, statement_id: str, principal: str, source_arn: str
    ) -> None:
        """Let `principal` (a service) invoke `function` for `source_arn` only."""
        with aws_errors("lambda:AddPermission"):
            self._client.add_permission(
                FunctionName=function,
                StatementId=statement_id,
                Action="lambda:InvokeFunction",
                Principal=principal,
                SourceArn=source_arn,
            )
