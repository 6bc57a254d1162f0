"""The session factory: one boto3 session per target, clients made once and reused."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker

from stackops.config import Target
from stackops.errors import AwsFailure, AwsUnavailable, InvalidInput

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
        retries = retry_policy(target, os.environ)
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


RETRY_MODES = ("standard", "adaptive", "legacy")
# An AWS account throttles and has bad minutes: botocore retries with backoff first (and
# adaptive mode also slows the client down). A loopback sandbox does neither, and moto
# answers an operation it lacks with a 500 that retries would only make slow.
# Attempts count the first call (botocore's `total_max_attempts`, as AWS_MAX_ATTEMPTS does).
ACCOUNT_RETRIES = {"mode": "adaptive", "total_max_attempts": 8}
LOCAL_RETRIES = {"mode": "standard", "total_max_attempts": 1}

# What botocore itself retries as throttling or a passing fault: after its retries, the
# same errors mean "try again later", never "it failed" or "it is gone".
PASSING_CODES = frozenset(
    ThrottledRetryableChecker._THROTTLED_ERROR_CODES
    + TransientRetryableChecker._TRANSIENT_ERROR_CODES
    + ["InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable"]
    + ["ServiceUnavailableException", "InternalServerException", "RequestExpired"]
)
PASSING_STATUS = frozenset(TransientRetryableChecker._TRANSIENT_STATUS_CODES)
PASSING_BOTOCORE = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionError,
)


def retry_policy(target: Target, environ: Mapping[str, str]) -> dict[str, Any]:
    """botocore's retry settings: AWS_RETRY_MODE / AWS_MAX_ATTEMPTS when set (botocore's own
    variables), else adaptive with 8 attempts on an account, one attempt on loopback."""
    policy = dict(LOCAL_RETRIES if target.is_local else ACCOUNT_RETRIES)
    mode = environ.get("AWS_RETRY_MODE", "").strip()
    if mode in RETRY_MODES:
        policy["mode"] = mode
    attempts = environ.get("AWS_MAX_ATTEMPTS", "").strip()
    if attempts.isdigit() and 1 <= int(attempts) <= 50:
        policy["total_max_attempts"] = int(attempts)
    return policy


def is_passing(exc: BaseException) -> bool:
    """True for a botocore error that says "not now" rather than "no": throttling, a 5xx,
    a timeout or a lost connection (the errors botocore's retry modes retry)."""
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return err.get("Code") in PASSING_CODES or status in PASSING_STATUS
    return isinstance(exc, PASSING_BOTOCORE)


@contextlib.contextmanager
def aws_errors(call: str) -> Iterator[None]:
    """Turn botocore failures inside the block into a one-line AwsFailure naming `call`;
    a passing one (see `is_passing`) is an AwsUnavailable: nothing is known to be done."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        err = exc.response.get("Error", {})
        kind = AwsUnavailable if is_passing(exc) else AwsFailure
        message = " ".join(str(err.get("Message", "")).split())[:300]
        raise kind(f"{call} failed: {err.get('Code', 'Error')}: {message}") from exc
    except botocore.exceptions.NoCredentialsError as exc:
        raise AwsFailure(
            f"{call} failed: no AWS credentials", hint="configure a profile or run a sandbox"
        ) from exc
    except botocore.exceptions.EndpointConnectionError as exc:
        raise AwsUnavailable(
            f"{call} failed: cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}",
            hint="is the sandbox up? 'stackops sandbox status'",
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        kind = AwsUnavailable if is_passing(exc) else AwsFailure
        raise kind(f"{call} failed: {exc}") from exc


def error_code(exc: BaseException) -> str | None:
    """The AWS error code behind an AwsFailure or ClientError, if any."""
    cause = exc if isinstance(exc, botocore.exceptions.ClientError) else exc.__cause__
    if isinstance(cause, botocore.exceptions.ClientError):
        return cause.response.get("Error", {}).get("Code")
    return None
