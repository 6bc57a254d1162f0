"""`stackops agent apply`: run a payload of recipes on this instance (executors' far end).

Start-up matters (the local executor starts one per run): this module loads
click and the converge engine; boto3 only for an s3:// payload or secret refs.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stackops.cli.params import RECORD_ID, LocalPath
from stackops.errors import InvalidInput, StackopsError
from stackops.executors.base import EXIT_TIMED_OUT, RunRequest
from stackops.executors.payload import parse_payload
from stackops.secrets import redact, redact_data, secret_refs

if TYPE_CHECKING:
    from stackops.aws.session import AwsSession
    from stackops.converge import Report
    from stackops.converge.context import Fetcher
    from stackops.converge.custom_cookbooks import Cookbooks


class RunTimedOut(StackopsError):
    """The run's time budget ran out before its recipes were done."""

    exit_code = EXIT_TIMED_OUT


class RedactedError(StackopsError):
    """An error whose message had secret values in it, masked; keeps the exit status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def engine_budget(timeout: float, spent: float) -> float:
    """The converge's share of `timeout`: it stops early enough to report, before the
    executor (or SSM) kills the whole run at `timeout`."""
    margin = min(10.0, max(0.5, timeout * 0.05))
    return max(0.05, timeout - margin - spent)


class Payload:
    """Where a payload comes from: a file, stdin ('-') or s3://bucket/key."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.bucket: str | None = None
        self.key: str | None = None
        if source.startswith("s3://"):
            self.bucket, _, self.key = source[len("s3://") :].partition("/")
            if not self.bucket or not self.key:
                raise InvalidInput(f"--payload {source}: give s3://BUCKET/KEY")

    def read(self, session: AwsSession | None) -> bytes:
        if self.bucket and self.key:
            from stackops.aws.s3 import Bucket

            assert session is not None
            return Bucket(session, self.bucket).get_object(self.key)
        if self.source == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(self.source).read_bytes()
        except FileNotFoundError:
            raise InvalidInput(f"--payload {self.source}: no such file") from None
        except OSError as exc:
            raise InvalidInput(f"--payload {self.source}: cannot read it: {exc}") from None


class Sessions:
    """AWS sessions made on first use, one per region (Parameter Store is regional)."""

    def __init__(self, ctx: click.Context) -> None:
        self._ctx = ctx
        self._made: dict[str | None, AwsSession] = {}

    def get(self, region_hint: str | None = None) -> AwsSession:
        """A session on the chosen target; on an instance with nothing configured, the
        instance role (boto3's default credentials) in the given or hinted region."""
        from stackops.aws.session import AwsSession
        from stackops.cli.context import options
        from stackops.config import DEFAULT_REGION, Target, choose_target, state_home
        from stackops.errors import TargetNotConfigured

        opts = options(self._ctx)
        region = opts.region or os.environ.get("AWS_DEFAULT_REGION") or region_hint
        if region not in self._made:
            try:
                target = choose_target(
                    endpoint_url=opts.endpoint_url,
                    region=region,
                    profile=opts.profile,
                    home=state_home(),
                )
            except TargetNotConfigured:
                target = Target("account", region or DEFAULT_REGION)
            self._made[region] = AwsSession(target)
        return self._made[region]


def _stack_region(node: dict[str, Any]) -> str | None:
    stack = node.get("stackops", {}).get("stack", {}) if isinstance(node, dict) else {}
    region = stack.get("region") if isinstance(stack, dict) else None
    return region if isinstance(region, str) and region else None


def resolve_node(request: RunRequest, sessions: Sessions) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The node with its secret refs resolved from Parameter Store, and the secret values."""
    if not secret_refs(request.node):
        return request.node, ()
    from stackops.aws.ssm import ParameterStore
    from stackops.secrets import resolve_secret_refs

    store = ParameterStore(sessions.get(_stack_region(request.node)))
    return resolve_secret_refs(request.node, store.get_many)


@click.group()
def agent() -> None:
    """The stackops agent: run recipes on this instance for the dispatcher."""


@agent.command("apply")
@click.option(
    "--payload",
    "source",
    required=True,
    metavar="PATH|-|s3://BUCKET/KEY",
    help="The run request (JSON): a file, '-' for stdin, or an S3 object.",
)
@click.option(
    "--output",
    type=click.Choice(["json", "text"]),
    default="text",
    show_default=True,
    help="json: the report JSON on stdout and the text report on stderr.",
)
@click.option(
    "--root",
    "root_override",
    type=LocalPath(file_okay=False, path_type=Path),
    envvar="STACKOPS_AGENT_ROOT",
    help="Converge under this folder instead of the payload's root (the sandbox's nodes).",
)
@click.pass_context
def apply(ctx: click.Context, source: str, output: str, root_override: Path | None) -> None:
    """Converge the recipes of a run payload on this host.

    Exit status: 0 ok, 1 a resource failed, 2 invalid payload, 124 timed out.

    \b
    stackops agent apply --payload run.json
    stackops agent apply --payload s3://bucket/payloads/c-1.json --output json

    An s3:// payload's report is uploaded beside it, to logs/<command_id>.json
    (and the text to logs/<command_id>.txt). The stack's custom cookbooks
    (stackops.custom_cookbooks) are fetched on setup and searched first; the
    report names their revision.
    """
    started = time.monotonic()
    payload = Payload(source)
    sessions = Sessions(ctx)
    name = "stdin" if source == "-" else source
    request = parse_payload(payload.read(sessions.get() if payload.bucket else None), name)
    if payload.bucket and not request.command_id:
        raise InvalidInput(f"payload {name}: field 'command_id' is needed to upload the report")
    node, secrets = resolve_node(request, sessions)
    root = Path(root_override or request.root or "/")
    try:
        fetchers = run_fetchers(node, sessions)
        cookbooks = custom_cookbooks(request, node, root, fetchers)
        budget = engine_budget(request.timeout, time.monotonic() - started)
        run_started = time.monotonic()
        extra = [cookbooks.path] if cookbooks else []
        report = _converge(
            request, node, root, budget, extra, fetchers, quiet_stdout=output == "json"
        )
    except StackopsError as exc:
        if secrets:
            raise RedactedError(redact(str(exc), secrets), exc.exit_code) from None
        raise
    from stackops.converge import format_text

    data = report.to_dict()
    if cookbooks:
        data["cookbooks"] = cookbooks.to_report(root)
    data = redact_data(data, secrets)
    text = redact(format_text(report), secrets)
    if payload.bucket:
        _upload(sessions.get(), payload.bucket, request.command_id, data, text)
    if output == "json":
        click.echo(json.dumps(data, separators=(",", ":")))
        click.echo(text, err=True)
    else:
        click.echo(text)
    if not report.ok:
        if time.monotonic() - run_started >= budget:
            raise RunTimedOut(f"run timed out: its budget of {request.timeout:g} s ran out")
        raise RedactedError(
            redact(f"converge failed: {report.failure_line()}", secrets), exit_code=1
        )


def run_fetchers(node: dict[str, Any], sessions: Sessions) -> dict[str, Fetcher]:
    """How this run downloads: s3 with the agent's session, git with the apps' SSH keys."""
    from stackops.converge.git import GitFetcher

    def fetch_s3(url: str, dest: Path) -> None:
        from stackops.aws.s3_fetch import download

        download(url, dest, client=sessions.get(_stack_region(node)).client("s3"))

    keys = {}
    for attrs in (node.get("deploy") or {}).values():
        scm = attrs.get("scm") if isinstance(attrs, dict) else None
        if isinstance(scm, dict) and isinstance(scm.get("ssh_key"), str) and scm["ssh_key"]:
            keys[str(scm.get("repository"))] = scm["ssh_key"]
    return {"s3": fetch_s3, "git": GitFetcher(keys)}


def custom_cookbooks(
    request: RunRequest, node: dict[str, Any], root: Path, fetchers: dict[str, Fetcher]
) -> Cookbooks | None:
    """The stack's cookbooks for this run: fetched on setup, the cached ones otherwise.

    A dry run fetches nothing: it uses what is cached, or runs without them."""
    from stackops.converge.custom_cookbooks import cookbook_source_of, cookbooks_for

    source = cookbook_source_of(node)
    if source is None:
        return None
    activity = (node.get("stackops") or {}).get("activity")
    if request.dry_run:
        from stackops.converge.custom_cookbooks import cached_cookbooks

        found = cached_cookbooks(root, source)
        if found is None:
            click.echo(f"stackops: dry run: cookbooks of {source.describe()} not fetched", err=True)
        return found
    return cookbooks_for(root, source, refresh=activity == "setup", fetchers=fetchers)


def _converge(
    request: RunRequest,
    node: dict[str, Any],
    root: Path,
    budget: float,
    extra: list[Path],
    fetchers: dict[str, Fetcher],
    *,
    quiet_stdout: bool,
) -> Report:
    """run_recipes on the request; recipe code printing goes to stderr when stdout is the report.

    s3:// sources are fetched on the agent's target (the sandbox's endpoint in the
    sandbox, the instance role on AWS)."""
    from stackops.converge import run_recipes, search_path

    paths = search_path([*extra, *(Path(p) for p in request.cookbook_paths)])
    redirect = contextlib.redirect_stdout(sys.stderr) if quiet_stdout else contextlib.nullcontext()
    with redirect:
        return run_recipes(
            list(request.recipes),
            node,
            root,
            paths,
            dry_run=request.dry_run,
            timeout=budget,
            fetchers=fetchers,
        )


def _upload(session: AwsSession, bucket: str, command_id: str, data: dict, text: str) -> None:
    """The report and text log beside the payload; a failure is noted, not fatal."""
    from stackops.aws.s3 import Bucket

    target = Bucket(session, bucket)
    try:
        body = json.dumps(data, separators=(",", ":")).encode()
        target.put_object(f"logs/{command_id}.json", body, content_type="application/json")
        target.put_object(f"logs/{command_id}.txt", text.encode(), content_type="text/plain")
    except StackopsError as exc:
        click.echo(f"stackops: warning: report not uploaded: {exc}", err=True)


@agent.command("check")
@click.option(
    "--payload",
    "source",
    required=True,
    metavar="PATH|-|s3://BUCKET/KEY",
    help="The check request (JSON): a file, '-' for stdin, or an S3 object.",
)
@click.pass_context
def check(ctx: click.Context, source: str) -> None:
    """Run a health check's command on this instance; print its result as JSON.

    The executors' far end for command health checks: the command runs in the
    app's release folder with the app's environment (secret refs resolved here),
    never where the dispatcher runs. Exit status 0 whatever the check said (the
    result is the JSON: exit_code, output, error); 2 for an invalid payload.
    """
    from stackops.executors.checks import node_environment, parse_check_payload, run_check_here

    payload = Payload(source)
    sessions = Sessions(ctx)
    name = "stdin" if source == "-" else source
    request = parse_check_payload(payload.read(sessions.get() if payload.bucket else None), name)
    env, secrets = request.env, ()
    if secret_refs(request.env):
        from stackops.aws.ssm import ParameterStore
        from stackops.secrets import resolve_secret_refs

        env, secrets = resolve_secret_refs(request.env, ParameterStore(sessions.get()).get_many)
    reply = run_check_here(request, env, secrets, node_environment(os.environ))
    body = {"exit_code": reply.exit_code, "output": reply.output, "error": reply.error}
    click.echo(json.dumps(body, separators=(",", ":")))


@agent.command("metrics")
@click.option(
    "--instance-id", type=RECORD_ID, required=True, help="The stackops instance id of this node."
)
@click.option(
    "--stack-id", type=RECORD_ID, help="Its stack (default: read from the instance's record)."
)
@click.option(
    "--layer-id",
    "layer_ids",
    type=RECORD_ID,
    multiple=True,
    help="One of its layers, repeatable (default: read from the instance's record).",
)
@click.option("--cpu", type=click.FloatRange(0, 100), help="CPU in use, percent.")
@click.option("--memory", type=click.FloatRange(0, 100), help="Memory in use, percent.")
@click.option("--load", type=click.FloatRange(0), help="1-minute load average.")
@click.option("--at", metavar="TIME", help="When the figures were taken (default: now, UTC).")
@click.pass_context
def metrics(
    ctx: click.Context,
    instance_id: str,
    stack_id: str | None,
    layer_ids: tuple[str, ...],
    cpu: float | None,
    memory: float | None,
    load: float | None,
    at: str | None,
) -> None:
    """Publish this node's CPU, memory and load for load-based scaling.

    Figures not given are measured on this host (/proc, the load average). In
    the sandbox, give them to play a node's load:

    \b
    stackops agent metrics --instance-id I --cpu 92 --at 2026-12-07T09:01:00Z
    """
    from stackops.api.autoscaling import parse_moment, publish_node_metrics
    from stackops.autoscale.node_metrics import NodeFigures, measure
    from stackops.cli.context import names, show
    from stackops.cli.output import note
    from stackops.services import Services

    moment = parse_moment("--at", at) if at is not None else None
    figures = NodeFigures(cpu, memory, load)
    if None in (cpu, memory, load):
        here = measure(sample_seconds=0.5 if cpu is None else 0)
        figures = NodeFigures(
            cpu if cpu is not None else here.cpu,
            memory if memory is not None else here.memory,
            load if load is not None else here.load,
        )
    svc = Services(Sessions(ctx).get(), names(ctx))
    note(svc.session.target.describe())
    result = publish_node_metrics(
        svc, instance_id, figures, moment, stack_id=stack_id, layer_ids=list(layer_ids) or None
    )
    show(ctx, result)
