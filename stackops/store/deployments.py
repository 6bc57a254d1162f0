"""Deployment records, newest first per stack, and the releases instances are on."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stackops.errors import NotFound
from stackops.model.deployments import Deployment

if TYPE_CHECKING:
    from stackops.aws.dynamodb import StateTable


class DeploymentLog:
    """Deployments by id and by stack."""

    def __init__(self, table: StateTable) -> None:
        self._table = table

    def put(self, deployment: Deployment) -> None:
        self._table.put(
            {
                "pk": f"deployment#{deployment.deployment_id}",
                "sk": "deployment",
                "gsi1pk": f"deployments#{deployment.stack_id}",
                "gsi1sk": f"deployment#{deployment.created_at}#{deployment.deployment_id}",
                "kind": "deployment",
                "data": json.dumps(deployment.to_record(), separators=(",", ":"), sort_keys=True),
            }
        )

    def get(self, deployment_id: str) -> Deployment:
        item = self._table.get(f"deployment#{deployment_id}", "deployment")
        if item is None:
            raise NotFound(f"no deployment with id {deployment_id}")
        return _decode(item)

    def for_stack(self, stack_id: str) -> list[Deployment]:
        """Every deployment of a stack, newest first."""
        items = list(self._table.query_index(f"deployments#{stack_id}", "deployment#"))
        return [_decode(i) for i in reversed(items)]


def _decode(item: dict[str, Any]) -> Deployment:
    return Deployment.from_record(json.loads(item["data"]))
