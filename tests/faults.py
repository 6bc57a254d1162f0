"""AWS faults injected through botocore's event hooks: throttles, 500s and timeouts.

A hook registered first on a client's `before-send` event answers in place of the
service (moto included, which never sees the request) for the next N calls of one
operation: the response goes through botocore's parsing and its retry mode exactly
as a real one would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import botocore.awsrequest
import botocore.exceptions

Kind = Literal["throttle", "500", "timeout"]

# The error codes botocore (and stackops) read as throttling, by protocol.
_THROTTLE_XML = {
    "ec2": "RequestLimitExceeded",
    "s3": "SlowDown",
    "autoscaling": "Throttling",
}


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _response(service: str, protocol: str, kind: Kind, url: str) -> Any:
    status = 500 if kind == "500" else (503 if service in ("ec2", "s3") else 400)
    code = "InternalError" if kind == "500" else _THROTTLE_XML.get(service, "ThrottlingException")
    if protocol.startswith("json") or protocol == "rest-json":
        body = json.dumps({"__type": f"com.amazonaws#{code}", "message": "injected"}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
    elif service == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>injected</Message>"
            "</Error></Errors><RequestID>fault</RequestID></Response>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    elif service == "s3":
        body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
        headers = {"Content-Type": "application/xml"}
    else:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>injected</Message></Error>"
            "<RequestId>fault</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    return botocore.awsrequest.AWSResponse(url, status, headers, _Raw(body))


@dataclass
class Fault:
    """`times` failures of `operation` (botocore's name, e.g. "BatchGetItem"), of those
    calls whose request body holds `match` when given, after letting `skip` through."""

    operation: str
    kind: Kind
    times: int
    match: bytes | None = None
    skip: int = 0
    hits: int = 0


@dataclass
class Faults:
    """Faults on one client, by operation; see the module docstring."""

    client: Any
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client.meta.events.register_first("before-send", self._before_send)

    def add(
        self,
        operation: str,
        kind: Kind,
        times: int = 1,
        *,
        match: str | None = None,
        skip: int = 0,
    ) -> Fault:
        fault = Fault(operation, kind, times, match.encode() if match else None, skip)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def _before_send(self, request: Any, **kwargs: Any) -> Any:
        operation = kwargs.get("event_name", "").rsplit(".", 1)[-1]
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        for fault in self.faults:
            if fault.match is not None and fault.match not in body:
                continue
            if fault.operation == operation and fault.skip > 0:
                fault.skip -= 1
                continue
            if fault.operation == operation and fault.hits < fault.times:
                fault.hits += 1
                if fault.kind == "timeout":
                    raise botocore.exceptions.ReadTimeoutError(endpoint_url=request.url)
                meta = self.client.meta
                answer = _response(
                    meta.service_model.service_name,
                    meta.service_model.protocol,
                    fault.kind,
                    request.url,
                )
                # botocore calls every before-send handler: point the request nowhere so
                # moto's (after this one) does not carry it out. A throttle did nothing.
                request.url = "https://fault.invalid/"
                return answer
        return None


@contextmanager
def faults_on(client: Any) -> Iterator[Faults]:
    """Faults on `client` for the block; the hook is removed afterwards."""
    faults = Faults(client)
    try:
        yield faults
    finally:
        client.meta.events.unregister("before-send", faults._before_send)
