"""Annotated field types shared by the specs: each checks one kind of value."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from stackops.model import deploysettings
from stackops.model import validation as v
from stackops.model.text import check_line, check_name, check_text


def _custom_json_before(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        return v.as_value_error(v.parse_custom_json, value, info.field_name or "custom_json")
    if value is None:
        return {}
    return value


def _custom_json_after(value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    return v.as_value_error(v.validate_custom_json, value, info.field_name or "custom_json")


def _pattern(regex: str, what: str, example: str, max_len: int = 255) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if len(value) > max_len:
            raise ValueError(f"is {len(value)} characters; {what} has at most {max_len}")
        v.as_value_error(check_line, value, what)
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}; write one like {example!r}")
        return value

    return AfterValidator(check)


def _timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO-8601 time; write one like '2026-11-28T17:00:00+00:00'"
        ) from None
    return value


CustomJson = Annotated[
    dict[str, Any],
    BeforeValidator(_custom_json_before),
    AfterValidator(_custom_json_after),
]
"""Custom JSON: a JSON object (or a string holding one), at most 80 KB serialized."""


def _name(value: str) -> str:
    v.as_value_error(check_name, value, "name")
    if not value.strip():
        raise ValueError("name is blank; give a name people can read, like 'shop'")
    return value


LINE_MAX = 2048
TEXT_MAX = 16384
Line = Annotated[
    str,
    Field(max_length=LINE_MAX),
    AfterValidator(lambda s: v.as_value_error(check_line, s, "the value")),
]
"""One line of visible characters (at most 2048): no control or invisible characters."""
Text = Annotated[
    str,
    Field(max_length=TEXT_MAX),
    AfterValidator(lambda s: v.as_value_error(check_text, s, "the value")),
]
"""Free text (at most 16384 characters): no control characters but tab, newline, CR."""
Attributes = dict[Line, Text | None]
Name = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_name)]
"""A display name: one printable line, not blank, no invisible characters or emoji."""
DeployTo = Annotated[
    str, AfterValidator(lambda s: v.as_value_error(deploysettings.validate_deploy_to, s))
]
"""Where an app's releases go: normalised, never a system directory, no '..'."""


def _argv(value: Any, info: ValidationInfo) -> list[str]:
    return v.as_value_error(deploysettings.validate_argv, value, info.field_name or "command")


Argv = Annotated[list[str], BeforeValidator(_argv)]
"""A command run without a shell: a non-empty list of arguments, the program first."""
Shortname = Annotated[str, AfterValidator(lambda s: v.as_value_error(v.validate_shortname, s))]
Hostname = Annotated[str, AfterValidator(lambda s: v.as_value_error(v.validate_hostname, s))]
Region = Annotated[str, AfterValidator(lambda s: v.as_value_error(v.validate_region, s))]
RecipeName = Annotated[str, AfterValidator(lambda s: v.as_value_error(v.validate_recipe_name, s))]
Timestamp = Annotated[str, AfterValidator(_timestamp)]
RecordId = Annotated[str, Field(min_length=1)]

Arn = Annotated[
    str,
    _pattern(
        r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S+",
        "an ARN",
        "arn:aws:iam::123456789012:role/name",
        2048,
    ),
]
TargetGroupArn = Annotated[
    str,
    _pattern(
        r"arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/\S+",
        "an ELBv2 target group ARN",
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef",
        2048,
    ),
]
AutoScalingGroupName = Annotated[
    str,
    _pattern(
        r"[^\x00-\x1f:]{1,255}",
        "an Auto Scaling group name (1-255 characters, no ':' or control characters)",
        "shop-app",
    ),
]
VpcId = Annotated[str, _pattern(r"vpc-[0-9a-f]{8,17}", "a VPC id", "vpc-0123456789abcdef0")]
SubnetId = Annotated[
    str, _pattern(r"subnet-[0-9a-f]{8,17}", "a subnet id", "subnet-0123456789abcdef0")
]
SecurityGroupId = Annotated[
    str, _pattern(r"sg-[0-9a-f]{8,17}", "a security group id", "sg-0123456789abcdef0")
]
AmiId = Annotated[
    str,
    _pattern(
        r"ami-[0-9a-f]{8,17}|resolve:ssm:\S+",
        "an AMI id (or resolve:ssm:<parameter>)",
        "ami-0123456789abcdef0",
    ),
]
AvailabilityZone = Annotated[
    str, _pattern(r"[a-z]{2}(-[a-z0-9]+)+[a-z]", "an availability zone name", "us-east-1a")
]
InstanceType = Annotated[
    str, _pattern(r"[a-z0-9-]+\.[a-z0-9-]+", "an EC2 instance type", "t3.micro")
]
PackageName = Annotated[
    str, _pattern(r"[A-Za-z0-9][A-Za-z0-9_.+:~=*-]*", "a package name", "nginx")
]
DomainName = Annotated[
    str,
    _pattern(
        r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*",
        "a domain name",
        "www.example.com",
        253,
    ),
]


def new_id() -> str:
    """A fresh record id (a UUID, as OpsWorks used)."""
    import uuid

    return str(uuid.uuid4())
