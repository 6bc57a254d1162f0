"""ARNs of what bootstrap makes, and policy documents compared as AWS compares them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stackops.aws.iam_policy import ArnScope


def partition(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def arn_scope(account: str, region: str) -> ArnScope:
    """The ARN scope of one account and region, for policies bootstrap puts on roles."""
    return ArnScope(partition(region), region, account)


def queue_arn(name: str, account: str, region: str) -> str:
    return f"arn:{partition(region)}:sqs:{region}:{account}:{name}"


def rule_arn(name: str, account: str, region: str) -> str:
    return f"arn:{partition(region)}:events:{region}:{account}:rule/{name}"


def same_document(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """True when two policy documents (as data) mean the same."""
    return canonical(left) == canonical(right)


def same_json(left: str, right: str) -> bool:
    """True when two JSON texts mean the same policy or pattern."""
    try:
        return canonical(json.loads(left)) == canonical(json.loads(right))
    except ValueError:
        return False


def canonical(value: Any) -> Any:
    """Forms AWS treats alike made equal: ["x"] and "x", 5 and "5", list order."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return items[0] if len(items) == 1 else items
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)
    return value
