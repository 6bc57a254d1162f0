"""Putting a dispatcher together: executor, cookbooks, node roots, settings."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stackops.aws.session import FAKE_CREDENTIALS
from stackops.lifecycle.activities import RunSettings
from stackops.lifecycle.dispatcher import Dispatcher, DispatchSettings
from stackops.secrets import resolve_secret_refs

if TYPE_CHECKING:
    from stackops.config import Target
    from stackops.executors import Executor
    from stackops.services import Services


def run_environment(target: Target, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of a run started on this host: ours, pointed at our target.

    A recipe's s3:// source (and anything else the run asks AWS for) goes where the
    dispatcher goes: the sandbox's endpoint and region, with its fake credentials when
    none are set; on an account, no endpoint is forced.
    """
    env = dict(environ)
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = target.region
    if target.endpoint_url:
        env["AWS_ENDPOINT_URL"] = target.endpoint_url
    else:
        env.pop("AWS_ENDPOINT_URL", None)
    if target.is_local and not env.get("AWS_ACCESS_KEY_ID"):
        env["AWS_ACCESS_KEY_ID"] = FAKE_CREDENTIALS["aws_access_key_id"]
        env["AWS_SECRET_ACCESS_KEY"] = FAKE_CREDENTIALS["aws_secret_access_key"]
    return env


def make_executor(services: Services, name: str) -> Executor:
    """The executor called `name`, wired to this target."""
    from stackops.executors import get_executor

    factory = get_executor(name)
    if name == "local":
        return factory(
            resolve=lambda node: resolve_secret_refs(node, services.parameters.get_many),
            env=run_environment(services.session.target, os.environ),
        )
    return factory(services.session, services.artifacts.name)


def queue_visibility(services: Services) -> int:
    """The visibility timeout the queue gives messages received without one (Lambda's)."""
    attributes = services.queue.attributes()
    return int(attributes.get("VisibilityTimeout", "30"))


def build_dispatcher(
    services: Services,
    *,
    executor: str = "local",
    cookbooks: Sequence[Path] = (),
    nodes_root: Path | None = None,
    workers: int = 8,
    visibility_timeout: int | None = 300,
    with_autoscaling: bool = True,
    sweep_every_seconds: float = 60.0,
) -> Dispatcher:
    """A dispatcher on the services' target.

    With the local executor every EC2 instance is a node folder under
    `nodes_root` on this host, reached on loopback (the sandbox); with ssm the
    recipes run on the instances themselves. `visibility_timeout=None` reads the
    queue's own (what Lambda receives with), so claims and leases last as long.
    """
    from stackops.converge import search_path

    local = executor == "local"
    run = RunSettings(
        cookbook_paths=tuple(str(p) for p in search_path(list(cookbooks), Path.cwd())),
        nodes_root=nodes_root if local else None,
        sandbox=local,
    )
    autoscaling = None
    if with_autoscaling:
        from stackops.aws.autoscaling import AutoScaling

        autoscaling = AutoScaling(services.session)
    if visibility_timeout is None:
        visibility_timeout = queue_visibility(services)
    settings = DispatchSettings(
        run=run,
        workers=workers,
        visibility_timeout=visibility_timeout,
        sweep_every_seconds=sweep_every_seconds,
    )
    return Dispatcher(
        services, settings, make_executor(services, executor), autoscaling=autoscaling
    )
