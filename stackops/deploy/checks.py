"""An app's health check on one instance, after a deploy (by a deployment or at boot).

HTTP checks go from here to the instance, as a load balancer's would: to its
private IP on AWS, to loopback at the node's port offset in the sandbox. A
command check is the app owner's code: it runs on the node, through the
executor of the run (local in the sandbox, ssm on AWS), in the app's `current`
release folder with the app's environment, never here.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stackops.deploy.health import (
    CommandReply,
    Getter,
    HealthResult,
    Sleeper,
    check_command,
    parse_health_check,
    run_health_check,
    urllib_get,
)
from stackops.executors.base import CheckRequest
from stackops.lifecycle.attributes import SANDBOX_ADDRESS, app_env_secret_path

if TYPE_CHECKING:
    from stackops.executors import Executor
    from stackops.model.apps import App
    from stackops.model.instances import Instance


def app_environment(app: App, secret_prefix: str) -> dict[str, Any]:
    """The app's environment as the node sees it: secure values as Parameter Store refs."""
    return {
        var.key: (
            {"ssm": app_env_secret_path(secret_prefix, app.app_id, var.key)}
            if var.secure
            else var.value
        )
        for var in app.environment
    }


def check_app(
    app: App,
    instance: Instance,
    *,
    executor: Executor,
    sandbox: bool,
    root: str | None,
    secret_prefix: str,
    check_id: str,
    get: Getter | None = None,
    sleep: Sleeper = time.sleep,
) -> HealthResult | None:
    """Run `app`'s health check against `instance`; None when the app has none.

    `root` is the node's root (the sandbox's node folder; None on an instance) and
    `check_id` names the check's runs (each attempt of a command check is one run).
    """
    check = parse_health_check(app.health_check)
    if check is None:
        return None
    if check.kind == "http":
        address = SANDBOX_ADDRESS if sandbox else (instance.private_ip or SANDBOX_ADDRESS)
        offset = instance.port_offset if sandbox else 0
        return run_health_check(
            check, address=address, port_offset=offset, get=get or urllib_get, sleep=sleep
        )
    attempts = itertools.count(1)
    env = app_environment(app, secret_prefix)

    def on_node(
        argv: Sequence[str], timeout: float, _env: Mapping[str, str] | None, _cwd: str | None
    ) -> CommandReply:
        reply = executor.run_check(
            CheckRequest(
                check_id=f"{check_id}-{next(attempts)}",
                ec2_instance_id=instance.ec2_instance_id or "",
                argv=tuple(argv),
                cwd=f"{app.deploy_to}/current",
                env=env,
                timeout=timeout,
                root=root,
            )
        )
        return CommandReply(reply.exit_code, reply.output, reply.error)

    return check_command(check, run=on_node, sleep=sleep)
