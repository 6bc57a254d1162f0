"""The least-privilege IAM policy, assembled from the ACTIONS every adapter module declares.

The registry is the `stackops.aws` package itself: every module in it except the
session factory and this one is an adapter and declares `ACTIONS`, a tuple of
"service:Action" strings. A new adapter is picked up without editing this file.
Actions of a service with a rule below are scoped to the namespace's resources;
others get Resource "*".
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from stackops.naming import ResourceNames

NOT_ADAPTERS = frozenset({"session", "iam_policy"})


@dataclass(frozen=True)
class ArnScope:
    """Where the policy applies; "*" where the account or region is not known."""

    partition: str = "aws"
    region: str = "*"
    account: str = "*"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"


def _dynamodb(names: ResourceNames, scope: ArnScope) -> list[str]:
    table = scope.arn("dynamodb", f"table/{names.table}")
    return [table, f"{table}/index/*"]


def _sqs(names: ResourceNames, scope: ArnScope) -> list[str]:
    return [scope.arn("sqs", names.queue), scope.arn("sqs", names.dead_letter_queue)]


def _events(names: ResourceNames, scope: ArnScope) -> list[str]:
    return [scope.arn("events", f"rule/{names.rule}"), scope.arn("events", "event-bus/default")]


def _s3(names: ResourceNames, scope: ArnScope) -> list[str]:
    # Bucket ARNs carry no region or account: the bucket name holds both.
    bucket = f"arn:{scope.partition}:s3:::{names.bucket(scope.account, scope.region)}"
    return [bucket, f"{bucket}/*"]


# service prefix -> the resources its actions are limited to
SCOPED_RESOURCES: dict[str, Callable[[ResourceNames, ArnScope], list[str]]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "events": _events,
    "s3": _s3,
}


def adapter_modules() -> list[ModuleType]:
    """Every adapter module of the `stackops.aws` package, imported, sorted by name."""
    import stackops.aws as package

    found = [
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if not info.ispkg and info.name not in NOT_ADAPTERS and not info.name.startswith("_")
    ]
    return [importlib.import_module(f"{package.__name__}.{name}") for name in sorted(found)]


def declared_actions(modules: Iterable[ModuleType] | None = None) -> list[str]:
    """The IAM actions the adapter modules declare, de-duplicated and sorted."""
    modules = adapter_modules() if modules is None else modules
    return sorted({action for module in modules for action in getattr(module, "ACTIONS", ())})


def build_policy(
    names: ResourceNames,
    *,
    scope: ArnScope | None = None,
    modules: Iterable[ModuleType] | None = None,
) -> dict[str, Any]:
    """The IAM policy document: one statement per service, resources as narrow as known."""
    scope = scope or ArnScope()
    by_service: dict[str, list[str]] = {}
    for action in declared_actions(modules):
        by_service.setdefault(action.partition(":")[0], []).append(action)
    statements = []
    for service in sorted(by_service):
        rule = SCOPED_RESOURCES.get(service)
        statements.append(
            {
                "Sid": "".join(part.title() for part in service.split("-")),
                "Effect": "Allow",
                "Action": by_service[service],
                "Resource": rule(names, scope) if rule else "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
