"""Putting a dispatcher together: executor, cookbooks, node roots, settings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stackops.lifecycle.activities import RunSettings
from stackops.lifecycle.dispatcher import Dispatcher, DispatchSettings
from stackops.nodes import node_aws_environment
from stackops.secrets import resolve_secret_refs

if TYPE_CHECKING:
    from stackops.executors import Executor
    from stackops.services import Services


def make_executor(services: Services, name: str) -> Executor:
    """The executor called `name`, wired to this target."""
    from stackops.executors import get_executor

    factory = get_executor(name)
    if name == "local":
        return factory(
            resolve=lambda node: resolve_secret_refs(node, services.parameters.get_many),
            aws_env=node_aws_environment(services.session.target),
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
    recipes run on the instances themselves (in the sandbox, its SSM agent runs
    them on the same node folders, reached on loopback too). `visibility_timeout=None`
    reads the queue's own (what Lambda receives with), so claims and leases last as long.
    """
    from stackops.converge import search_path

    local = executor == "local"
    on_sandbox = services.session.target.kind == "sandbox"
    run = RunSettings(
        cookbook_paths=tuple(str(p) for p in search_path(list(cookbooks), Path.cwd())),
        nodes_root=nodes_root if local else None,
        sandbox=local or on_sandbox,  # ssm on the sandbox too
        agent_nodes_root=nodes_root if on_sandbox and not local else None,
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
