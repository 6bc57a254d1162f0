"""DynamoDB adapter: the single state table (its shape, and item reads and writes)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from stackops.aws.roles import BOOTSTRAP, DISPATCHER, OPERATOR, calls
from stackops.aws.session import AwsSession, aws_errors, error_code
from stackops.errors import AwsFailure, StackopsError

INDEX = "gsi1"
TTL_ATTRIBUTE = "expires_at"

# The table's shape: items keyed by (pk, sk); one index (gsi1pk, gsi1sk) for listings.
TABLE_SHAPE: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk")
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": INDEX,
            "KeySchema": [
                {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


class ConditionFailed(AwsFailure):
    """A conditional write found the item not in the expected state."""


class StateTable:
    """One DynamoDB table of stackops state; items are plain dicts of strings and numbers."""

    def __init__(self, session: AwsSession, name: str) -> None:
        self.name = name
        self._session = session
        self._client = session.client("dynamodb")

    # -- the table itself -------------------------------------------------
    @calls("dynamodb:DescribeTable", roles=(BOOTSTRAP,))
    def exists(self) -> bool:
        """True when the table exists (any status)."""
        try:
            with aws_errors("dynamodb:DescribeTable"):
                self._client.describe_table(TableName=self.name)
        except AwsFailure as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return False
            raise
        return True

    @calls(
        "dynamodb:CreateTable",
        "dynamodb:DescribeTable",
        "dynamodb:UpdateTimeToLive",
        roles=(BOOTSTRAP,),
        implied=("dynamodb:TagResource",),
    )
    def create(self, tags: dict[str, str]) -> None:
        """Create the table with TABLE_SHAPE and TTL on `expires_at`, and wait for it."""
        with aws_errors("dynamodb:CreateTable"):
            self._client.create_table(
                TableName=self.name,
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
                **TABLE_SHAPE,
            )
            self._client.get_waiter("table_exists").wait(
                TableName=self.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        with aws_errors("dynamodb:UpdateTimeToLive"):
            self._client.update_time_to_live(
                TableName=self.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
            )

    # -- items --------------------------------------------------------------
    @calls("dynamodb:GetItem", roles=(OPERATOR, DISPATCHER))
    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        """One item, or None."""
        with self._errors("dynamodb:GetItem"):
            resp = self._client.get_item(TableName=self.name, Key=_key(pk, sk), ConsistentRead=True)
        item = resp.get("Item")
        return _decode(item) if item else None

    @calls("dynamodb:BatchGetItem", roles=(OPERATOR, DISPATCHER))
    def get_many(self, keys: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """Several items by key, 100 per call; missing ones are left out."""
        wanted = [_key(pk, sk) for pk, sk in dict.fromkeys(keys)]
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), 100):
            request = {self.name: {"Keys": wanted[start : start + 100], "ConsistentRead": True}}
            while request:
                with self._errors("dynamodb:BatchGetItem"):
                    resp = self._client.batch_get_item(RequestItems=request)
                found.extend(_decode(i) for i in resp.get("Responses", {}).get(self.name, []))
                request = resp.get("UnprocessedKeys") or {}
        return found

    @calls("dynamodb:PutItem", roles=(OPERATOR, DISPATCHER))
    def put(
        self,
        item: dict[str, Any],
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """Write one item; with `condition`, raise ConditionFailed when it does not hold."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": _encode(item)}
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = _encode(values)
        self._conditional("dynamodb:PutItem", self._client.put_item, kwargs)

    @calls("dynamodb:UpdateItem", roles=(OPERATOR, DISPATCHER))  # port offsets, membership
    def increment(self, pk: str, sk: str, attribute: str, by: int = 1) -> int:
        """Add `by` to a number attribute (created at 0) and return the new value, atomically."""
        with self._errors("dynamodb:UpdateItem"):
            resp = self._client.update_item(
                TableName=self.name,
                Key=_key(pk, sk),
                UpdateExpression="ADD #a :by",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":by": {"N": str(by)}},
                ReturnValues="UPDATED_NEW",
            )
        return int(resp["Attributes"][attribute]["N"])

    @calls("dynamodb:DeleteItem", roles=(OPERATOR, DISPATCHER))
    def delete(
        self,
        pk: str,
        sk: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """Delete one item (no error when it is already gone, unless a condition says so)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": _key(pk, sk)}
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = _encode(values)
        self._conditional("dynamodb:DeleteItem", self._client.delete_item, kwargs)

    @calls("dynamodb:BatchWriteItem", roles=(OPERATOR, DISPATCHER))
    def put_many(self, items: Iterable[dict[str, Any]]) -> None:
        """Unconditional writes, 25 per call."""
        requests = [{"PutRequest": {"Item": _encode(i)}} for i in items]
        self._batch_write(requests)

    @calls("dynamodb:BatchWriteItem", roles=(OPERATOR,))  # start-stack forgets schedule marks
    def delete_many(self, keys: Iterable[tuple[str, str]]) -> None:
        """Unconditional deletes, 25 per call."""
        requests = [{"DeleteRequest": {"Key": _key(pk, sk)}} for pk, sk in keys]
        self._batch_write(requests)

    @calls("dynamodb:Query", roles=(OPERATOR, DISPATCHER))
    def query_index(self, gsi1pk: str, prefix: str | None = None) -> Iterator[dict[str, Any]]:
        """Every item of index partition `gsi1pk`, optionally with gsi1sk starting `prefix`."""
        condition = "gsi1pk = :p"
        values: dict[str, Any] = {":p": {"S": gsi1pk}}
        if prefix:
            condition += " AND begins_with(gsi1sk, :s)"
            values[":s"] = {"S": prefix}
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        while True:
            with self._errors("dynamodb:Query"):
                resp = self._client.query(**kwargs)
            yield from (_decode(i) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), 25):
            pending = {self.name: requests[start : start + 25]}
            while pending:
                with self._errors("dynamodb:BatchWriteItem"):
                    resp = self._client.batch_write_item(RequestItems=pending)
                pending = resp.get("UnprocessedItems") or {}

    @contextlib.contextmanager
    def _errors(self, call: str) -> Iterator[None]:
        """aws_errors, with a missing table explained: bootstrap was not run."""
        try:
            with aws_errors(call):
                yield
        except AwsFailure as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise StackopsError(
                    f"{call} failed: the state table {self.name} does not exist",
                    hint=f"run 'stackops bootstrap --namespace {self.name.removesuffix('-state')}'",
                ) from exc
            raise

    def _conditional(self, call: str, method: Any, kwargs: dict[str, Any]) -> None:
        try:
            with self._errors(call):
                method(**kwargs)
        except AwsFailure as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConditionFailed(f"{call}: condition failed") from exc
            raise


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _encode(item: dict[str, Any]) -> dict[str, Any]:
    """Plain values to DynamoDB attribute values (str, int/float, bool, None only)."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, bool):
            out[key] = {"BOOL": value}
        elif isinstance(value, int | float):
            out[key] = {"N": repr(value)}
        elif value is None:
            out[key] = {"NULL": True}
        else:
            out[key] = {"S": str(value)}
    return out


def _decode(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        ((kind, raw),) = value.items()
        match kind:
            case "S":
                out[key] = raw
            case "N":
                out[key] = int(raw) if raw.lstrip("-").isdigit() else float(raw)
            case "BOOL":
                out[key] = raw
            case "NULL":
                out[key] = None
            case _:
                out[key] = raw
    return out
