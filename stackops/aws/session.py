"""The session factory: one boto3 session per target, clients made once and reused."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from stackops.config import Target
from stackops.errors import AwsFailure, InvalidInput

FAKE_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


class AwsSession:
    """Clients for one target. Pass it in; never keep one in a global."""

    def __init__(self, target: Target) -> None:
        self.target = target
        kwargs: dict[str, Any] = {"region_name": target.region}
        if target.profile:
            kwargs["profile_name"] = target.profile
        try:
            self._session = boto3.session.Session(**kwargs)
        except botocore.exceptions.ProfileNotFound as exc:
            raise InvalidInput(f"--profile: AWS profile not found: {target.profile}") from exc
        if target.is_local and self._session.get_credentials() is None:
            # A loopback sandbox needs no real credentials; never invent them for AWS.
            self._session = boto3.session.Session(region_name=target.region, **FAKE_CREDENTIALS)
        retries = {"max_attempts": 1 if target.is_local else 4, "mode": "standard"}
        self._config = botocore.config.Config(
            retries=retries, connect_timeout=5, read_timeout=60, max_pool_connections=32
        )
        self._clients: dict[str, Any] = {}
        self._account: str | None = None
        guard_target(self._session, target)

    def client(self, service: str) -> Any:
        """The boto3 client for `service`, made on first use."""
        client = self._clients.get(service)
        if client is None:
            client = self._session.client(
                service, endpoint_url=self.target.endpoint_url, config=self._config
            )
            self._clients[service] = client
        return client

    def account_id(self) -> str:
        """The account id of the target (a sandbox answers with its own)."""
        if self._account is None:
            with aws_errors("sts:GetCallerIdentity"):
                self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account


def guard_target(session: boto3.session.Session, target: Target) -> None:
    """Before any call: the region must be one AWS has (as botocore knows them), and any
    reply that is an HTML page (a web server, a proxy, a crashed emulator) is refused as
    one line instead of being parsed as an AWS answer or printed whole."""
    loader = session._session.get_component("data_loader")
    partitions = loader.load_data("partitions")["partitions"]
    known = sorted({region for p in partitions for region in p.get("regions", {})})
    if target.region not in known:
        import difflib

        close = difflib.get_close_matches(target.region, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InvalidInput(
            f"--region {target.region!r} is not a region AWS has; {hint}"
            f"known regions: {', '.join(known[:6])}, ... (if AWS opened it lately, upgrade boto3)"
        )

    def refuse_html(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        if operation_model.has_streaming_output:
            return  # an S3 object may well be an HTML page
        # The body decides, not the Content-Type: moto answers a HEAD 404 "text/html", empty.
        body = response_dict.get("body") or b""
        start = body[:200].lstrip().lower() if isinstance(body, bytes) else b""
        if start.startswith((b"<!doctype html", b"<html")):
            service = operation_model.service_model.service_name
            raise AwsFailure(
                f"{service}:{operation_model.name} failed: {target.endpoint_url or 'AWS'} "
                f"answered HTTP {response_dict.get('status_code')} with an HTML page, "
                "not an AWS reply",
                hint="check --endpoint-url and --region",
            )

    session.events.register("before-parse", refuse_html)


@contextlib.contextmanager
def aws_errors(call: str) -> Iterator[None]:
    """Turn botocore failures inside the block into a one-line AwsFailure naming `call`."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        err = exc.response.get("Error", {})
        message = " ".join(str(err.get("Message", "")).split())[:300]
        raise AwsFailure(f"{call} failed: {err.get('Code', 'Error')}: {message}") from exc
    except botocore.exceptions.NoCredentialsError as exc:
        raise AwsFailure(
            f"{call} failed: no AWS credentials", hint="configure a profile or run a sandbox"
        ) from exc
    except botocore.exceptions.EndpointConnectionError as exc:
        raise AwsFailure(
            f"{call} failed: cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}",
            hint="is the sandbox up? 'stackops sandbox status'",
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise AwsFailure(f"{call} failed: {exc}") from exc


def error_code(exc: BaseException) -> str | None:
    """The AWS error code behind an AwsFailure or ClientError, if any."""
    cause = exc if isinstance(exc, botocore.exceptions.ClientError) else exc.__cause__
    if isinstance(cause, botocore.exceptions.ClientError):
        return cause.response.get("Error", {}).get("Code")
    return None
