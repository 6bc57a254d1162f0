"""The `stackops` command: global options, lazy sub-commands, the one error path."""

from __future__ import annotations

import importlib
import os
from typing import NamedTuple

import click

from stackops.errors import StackopsError

# name -> "module:attribute". Commands load on use so that `stackops solo`
# never pays for boto3 or pydantic. Keep the list sorted by module.
COMMANDS: dict[str, str] = {
    # the AWS side and the sandbox
    "bootstrap": "stackops.cli.bootstrap_cmd:bootstrap",
    "sandbox": "stackops.cli.sandbox_cmd:sandbox",
    "template": "stackops.cli.template_cmd:template",
    # stack file
    "apply": "stackops.cli.apply_cmd:apply",
    "schema": "stackops.cli.apply_cmd:schema",
    # OpsWorks verbs
    "create-stack": "stackops.cli.stacks:create_stack",
    "describe-stacks": "stackops.cli.stacks:describe_stacks",
    "update-stack": "stackops.cli.stacks:update_stack",
    "delete-stack": "stackops.cli.stacks:delete_stack",
    "clone-stack": "stackops.cli.stacks:clone_stack",
    "describe-stack-summary": "stackops.cli.stacks:describe_stack_summary",
    "start-stack": "stackops.cli.stacks:start_stack",
    "stop-stack": "stackops.cli.stacks:stop_stack",
    "create-layer": "stackops.cli.layers:create_layer",
    "describe-layers": "stackops.cli.layers:describe_layers",
    "update-layer": "stackops.cli.layers:update_layer",
    "delete-layer": "stackops.cli.layers:delete_layer",
    "create-app": "stackops.cli.apps:create_app",
    "describe-apps": "stackops.cli.apps:describe_apps",
    "update-app": "stackops.cli.apps:update_app",
    "delete-app": "stackops.cli.apps:delete_app",
    "upload-app-bundle": "stackops.cli.bundles:upload_app_bundle",
    "create-instance": "stackops.cli.instances:create_instance",
    "describe-instances": "stackops.cli.instances:describe_instances",
    "update-instance": "stackops.cli.instances:update_instance",
    "delete-instance": "stackops.cli.instances:delete_instance",
    "start-instance": "stackops.cli.instances:start_instance",
    "stop-instance": "stackops.cli.instances:stop_instance",
    "reboot-instance": "stackops.cli.instances:reboot_instance",
    "register-instance": "stackops.cli.registered:register_instance",
    "get-hostname-suggestion": "stackops.cli.instances:get_hostname_suggestion",
    "describe-operating-systems": "stackops.cli.instances:describe_operating_systems",
    "assign-instance": "stackops.cli.registered:assign_instance",
    "unassign-instance": "stackops.cli.registered:unassign_instance",
    "deregister-instance": "stackops.cli.registered:deregister_instance",
    "attach-elastic-load-balancer": "stackops.cli.elb:attach_elastic_load_balancer",
    "detach-elastic-load-balancer": "stackops.cli.elb:detach_elastic_load_balancer",
    "describe-elastic-load-balancers": "stackops.cli.elb:describe_elastic_load_balancers",
    "register-elastic-ip": "stackops.cli.eips:register_elastic_ip",
    "deregister-elastic-ip": "stackops.cli.eips:deregister_elastic_ip",
    "associate-elastic-ip": "stackops.cli.eips:associate_elastic_ip",
    "disassociate-elastic-ip": "stackops.cli.eips:disassociate_elastic_ip",
    "update-elastic-ip": "stackops.cli.eips:update_elastic_ip",
    "describe-elastic-ips": "stackops.cli.eips:describe_elastic_ips",
    "tag-resource": "stackops.cli.tags:tag_resource",
    "untag-resource": "stackops.cli.tags:untag_resource",
    "list-tags": "stackops.cli.tags:list_tags",
    "import-opsworks": "stackops.cli.import_cmd:import_opsworks",
    # lifecycle events
    "watch": "stackops.cli.watch_cmd:watch",
    "events": "stackops.cli.events_cmd:events",
    # deployments
    "create-deployment": "stackops.cli.deployments:create_deployment",
    "describe-deployments": "stackops.cli.deployments:describe_deployments",
    "continue-deployment": "stackops.cli.deployments:continue_deployment",
    "abort-deployment": "stackops.cli.deployments:abort_deployment",
    # time- and load-based instances
    "set-time-based-auto-scaling": "stackops.cli.autoscale_cmd:set_time_based_auto_scaling",
    "describe-time-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:describe_time_based_auto_scaling"
    ),
    "set-load-based-auto-scaling": "stackops.cli.autoscale_cmd:set_load_based_auto_scaling",
    "describe-load-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:describe_load_based_auto_scaling"
    ),
    "autoscale": "stackops.cli.autoscale_cmd:autoscale",
    # the lifecycle dispatcher
    "dispatch": "stackops.cli.dispatch_cmd:dispatch",
    "describe-commands": "stackops.cli.dispatch_cmd:describe_commands",
    "logs": "stackops.cli.dispatch_cmd:logs",
    # the recipe engine
    "solo": "stackops.cli.solo_cmd:solo",
    "recipes": "stackops.cli.solo_cmd:recipes",
    "agent": "stackops.cli.agent_cmd:agent",
}


class GlobalOptions(NamedTuple):
    """The options every command shares, parsed once at the edge."""

    endpoint_url: str | None
    region: str | None
    profile: str | None
    namespace: str
    output: str
    debug: bool


class LazyGroup(click.Group):
    """A group whose sub-commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        return getattr(importlib.import_module(module_name), attr)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, COMMANDS, n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            ctx.fail(f"no command {name!r}.{hint} 'stackops --help' lists them.")
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Accept global options after the command too (`describe-stacks --output table`),
        as the aws CLI does, unless the command has an option of that name itself."""
        return super().parse_args(ctx, _hoist_global_options(self, ctx, args))

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: object,
    ) -> click.Context:
        """Parse the global options; a bad one is one line too (see OneLineUsageError)."""
        try:
            return super().make_context(info_name, args, parent, **extra)  # type: ignore[arg-type]
        except click.UsageError as exc:
            raise OneLineUsageError.of(exc) from None

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; the one place errors become a message and an exit status."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a sub-command's option or argument
            raise OneLineUsageError.of(exc) from None
        except StackopsError as exc:
            if _debug(ctx):
                raise
            click.echo(f"stackops: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            # botocore errors that escaped an adapter: still one line, exit 1.
            if _debug(ctx) or not type(exc).__module__.startswith(("botocore", "boto3")):
                raise
            reason = " ".join(str(exc).split())[:300]
            click.echo(f"stackops: error: AWS call failed: {reason}", err=True)
            ctx.exit(1)
        return None


class OneLineUsageError(click.UsageError):
    """A usage error shown as one line, like every other error of stackops (click's own
    shows the usage and a blank line first)."""

    @classmethod
    def of(cls, exc: click.UsageError) -> OneLineUsageError:
        if isinstance(exc, OneLineUsageError):
            return exc
        made = cls(exc.format_message(), exc.ctx)
        made.exit_code = exc.exit_code
        return made

    def show(self, file: object = None) -> None:
        message = " ".join(self.format_message().split())
        where = f" (see '{self.ctx.command_path} -h')" if self.ctx is not None else ""
        if "--help" in message:
            where = ""
        click.echo(f"stackops: error: {message}{where}", err=True)


GLOBAL_VALUE_OPTIONS = frozenset(
    {"--endpoint-url", "--region", "--profile", "--namespace", "--output"}
)
GLOBAL_FLAGS = frozenset({"--debug"})


def _hoist_global_options(group: LazyGroup, ctx: click.Context, args: list[str]) -> list[str]:
    """Move global options found after the sub-command name in front of it."""
    position = 0
    while position < len(args) and args[position].startswith("-"):
        name = args[position].split("=", 1)[0]
        position += 1 if name in GLOBAL_FLAGS or "=" in args[position] else 2
    if position >= len(args) or args[position] not in COMMANDS:
        return args
    command = group.get_command(ctx, args[position])
    own = _own_options(command, ctx, args[position + 1 :])
    front, rest = list(args[: position + 1]), []
    tail = args[position + 1 :]
    i = 0
    while i < len(tail):
        name = tail[i].split("=", 1)[0]
        if name in own or name not in GLOBAL_VALUE_OPTIONS | GLOBAL_FLAGS:
            rest.append(tail[i])
            i += 1
        elif name in GLOBAL_FLAGS or "=" in tail[i]:
            front.insert(position, tail[i])
            position += 1
            i += 1
        else:
            front[position:position] = tail[i : i + 2]
            position += 2
            i += 2
    return front + rest


def _own_options(command: click.Command | None, ctx: click.Context, tail: list[str]) -> set[str]:
    """The options `command` defines, and for a group those of its sub-command in `tail`."""
    own = {opt for p in getattr(command, "params", []) for opt in getattr(p, "opts", [])}
    if isinstance(command, click.Group):
        name = next((t for t in tail if not t.startswith("-")), None)
        sub = command.get_command(ctx, name) if name else None
        own |= _own_options(sub, ctx, tail[tail.index(name) + 1 :] if name else [])
    return own


def _debug(ctx: click.Context) -> bool:
    opts = ctx.find_object(GlobalOptions)
    return bool(opts and opts.debug) or bool(os.environ.get("STACKOPS_DEBUG"))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--endpoint-url", envvar="AWS_ENDPOINT_URL", help="AWS endpoint (sandbox, LocalStack)."
)
@click.option("--region", envvar="AWS_REGION", help="AWS region (default: the profile's).")
@click.option("--profile", envvar="AWS_PROFILE", help="AWS named profile.")
@click.option(
    "--namespace",
    envvar="STACKOPS_NAMESPACE",
    default="stackops",
    show_default=True,
    help="Prefix of every AWS resource name, so installations can share an account.",
)
@click.option(
    "--output", type=click.Choice(["json", "table", "yaml"]), default="json", show_default=True
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="stackops")
@click.pass_context
def cli(
    ctx: click.Context,
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    namespace: str,
    output: str,
    debug: bool,
) -> None:
    """The OpsWorks Stacks model on plain AWS parts."""
    ctx.obj = GlobalOptions(endpoint_url, region, profile, namespace, output, debug)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    cli.main(args=argv, prog_name="stackops")


if __name__ == "__main__":
    # Run the importable module, not this __main__ copy: context.py looks up
    # stackops.cli.main.GlobalOptions, so the two must be one class.
    from stackops.cli.main import main as _main

    _main()
