"""Annotated field types shared by the specs: each checks one kind of value."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo

from stackops.model import validation as v


def _custom_json_before(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        return v.as_value_error(v.parse_custom_json, value, info.field_name or "custom_json")
    if value is None:
        return {}
    return value


def _custom_json_after(value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    return v.as_value_error(v.validate_custom_json, value, info.field_name or "custom_json")


def _pattern(regex: str, what: str, example: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
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

Attributes = dict[str, str | None]
Name = Annotated[str, Field(min_length=1, max_length=255)]
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
    ),
]
TargetGroupArn = Annotated[
    str,
    _pattern(
        r"arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/\S+",
        "an ELBv2 target group ARN",
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef",
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
    ),
]
AbsolutePath = Annotated[str, _pattern(r"/\S*", "an absolute path", "/srv/www/web")]


def new_id() -> str:
    """A fresh record id (a UUID, as OpsWorks used)."""
    import uuid

    return str(uuid.uuid4())
