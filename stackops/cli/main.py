"""The `stackops` command: global options, lazy sub-commands, the one error path."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, NamedTuple

import click

from stackops import __version__
from stackops.errors import StackopsError

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

# name -> ("module:attribute", the first sentence of its help). Commands load only
# when run, so `stackops --help`, `--version` and shell completion list them from
# here without importing boto3, pydantic or Jinja2; tests/cli/test_startup.py holds
# each summary to the command's own help. Keep the list sorted by module.
COMMANDS: dict[str, tuple[str, str]] = {
    # the AWS side and the sandbox
    "bootstrap": (
        "stackops.cli.bootstrap_cmd:bootstrap",
        "Create the state table, queues, event rule, artifacts bucket and IAM roles.",
    ),
    "sandbox": (
        "stackops.cli.sandbox_cmd:sandbox",
        "Run the embedded AWS sandbox (moto) in the background.",
    ),
    "template": (
        "stackops.cli.template_cmd:template",
        "Print what `stackops bootstrap` creates as a CloudFormation template (no AWS call).",
    ),
    # stack file
    "apply": (
        "stackops.cli.apply_cmd:apply",
        "Make a stack match its file: create, update (and with --prune delete) records.",
    ),
    "schema": (
        "stackops.cli.apply_cmd:schema",
        "Print the stack file's JSON Schema (for editors).",
    ),
    # OpsWorks verbs
    "create-stack": (
        "stackops.cli.stacks:create_stack",
        "Create a stack (layers, apps and instances are added to it).",
    ),
    "describe-stacks": ("stackops.cli.stacks:describe_stacks", "Describe stacks."),
    "update-stack": ("stackops.cli.stacks:update_stack", "Change a stack's settings."),
    "delete-stack": (
        "stackops.cli.stacks:delete_stack",
        "Delete a stack that has no instances, apps or layers left.",
    ),
    "clone-stack": (
        "stackops.cli.stacks:clone_stack",
        "Copy a stack's settings and layers (and the apps named) into a new stack.",
    ),
    "describe-stack-summary": (
        "stackops.cli.stacks:describe_stack_summary",
        "Counts of a stack's layers, apps and instances by status.",
    ),
    "start-stack": (
        "stackops.cli.stacks:start_stack",
        (
            "Start every stopped 24/7 instance of a stack (OpsWorks answers nothing; stderr lists "
            "them; the scaler starts time- and load-based ones)."
        ),
    ),
    "stop-stack": (
        "stackops.cli.stacks:stop_stack",
        "Stop every running instance of a stack (OpsWorks answers nothing; stderr lists them).",
    ),
    "create-layer": (
        "stackops.cli.layers:create_layer",
        "Create a layer (a role: lb, app, db, custom) in a stack.",
    ),
    "describe-layers": (
        "stackops.cli.layers:describe_layers",
        "Describe the layers of a stack, or the layers named.",
    ),
    "update-layer": ("stackops.cli.layers:update_layer", "Change a layer's settings."),
    "delete-layer": ("stackops.cli.layers:delete_layer", "Delete a layer that has no instances."),
    "create-app": ("stackops.cli.apps:create_app", "Create an app (deployable code) in a stack."),
    "describe-apps": (
        "stackops.cli.apps:describe_apps",
        "Describe the apps of a stack, or the apps named (protected values filtered).",
    ),
    "update-app": (
        "stackops.cli.apps:update_app",
        "Change an app's settings; --environment replaces the whole environment.",
    ),
    "delete-app": (
        "stackops.cli.apps:delete_app",
        "Undeploy an app from its instances, then delete it and its protected values.",
    ),
    "upload-app-bundle": (
        "stackops.cli.bundles:upload_app_bundle",
        "Upload an app's tar or zip archive to the artifacts bucket; print its s3:// URL.",
    ),
    "create-instance": (
        "stackops.cli.instances:create_instance",
        "Create an instance (stopped) in one or more layers of a stack.",
    ),
    "describe-instances": (
        "stackops.cli.instances:describe_instances",
        "Describe instances by stack, by layer or by id.",
    ),
    "update-instance": (
        "stackops.cli.instances:update_instance",
        "Change an instance's settings or layers (launch settings only while stopped).",
    ),
    "delete-instance": (
        "stackops.cli.instances:delete_instance",
        "Delete a stopped instance (its EC2 instance is terminated).",
    ),
    "start-instance": (
        "stackops.cli.instances:start_instance",
        "Launch an instance's EC2 instance (setup runs when the dispatcher sees it boot).",
    ),
    "stop-instance": (
        "stackops.cli.instances:stop_instance",
        "Stop an instance: shutdown recipes, then EC2 stops it (instance store: terminated).",
    ),
    "reboot-instance": ("stackops.cli.instances:reboot_instance", "Reboot an online instance."),
    "register-instance": (
        "stackops.cli.registered:register_instance",
        "Register an existing EC2 instance with a stack (status registered, in no layer).",
    ),
    "get-hostname-suggestion": (
        "stackops.cli.instances:get_hostname_suggestion",
        "The next hostname for a layer, by the stack's hostname theme.",
    ),
    "describe-operating-systems": (
        "stackops.cli.instances:describe_operating_systems",
        "The operating system names instances may use (each maps to a current public AMI).",
    ),
    "assign-instance": (
        "stackops.cli.registered:assign_instance",
        "Put a registered instance in layers: the dispatcher sets it up, then configures.",
    ),
    "unassign-instance": (
        "stackops.cli.registered:unassign_instance",
        "Take a registered instance out of all its layers (it stays registered).",
    ),
    "deregister-instance": (
        "stackops.cli.registered:deregister_instance",
        "Forget a registered instance; its EC2 instance keeps running, untagged.",
    ),
    "attach-elastic-load-balancer": (
        "stackops.cli.elb:attach_elastic_load_balancer",
        "Attach a Classic ELB to a layer; its online instances are registered with it.",
    ),
    "detach-elastic-load-balancer": (
        "stackops.cli.elb:detach_elastic_load_balancer",
        "Detach a layer's Classic ELB; the layer's instances are deregistered from it.",
    ),
    "describe-elastic-load-balancers": (
        "stackops.cli.elb:describe_elastic_load_balancers",
        "The load balancers of a stack's layers, or of the layers named.",
    ),
    "register-elastic-ip": (
        "stackops.cli.eips:register_elastic_ip",
        "Register an Elastic IP with a stack (one stack at a time).",
    ),
    "deregister-elastic-ip": (
        "stackops.cli.eips:deregister_elastic_ip",
        "Deregister an Elastic IP (it stays allocated).",
    ),
    "associate-elastic-ip": (
        "stackops.cli.eips:associate_elastic_ip",
        "Associate a registered Elastic IP with an instance (again at every boot).",
    ),
    "disassociate-elastic-ip": (
        "stackops.cli.eips:disassociate_elastic_ip",
        "Detach a registered Elastic IP from its instance.",
    ),
    "update-elastic-ip": ("stackops.cli.eips:update_elastic_ip", "Name a registered Elastic IP."),
    "describe-elastic-ips": (
        "stackops.cli.eips:describe_elastic_ips",
        "Registered Elastic IPs of an instance, of a stack, or by address.",
    ),
    "tag-resource": (
        "stackops.cli.tags:tag_resource",
        "Tag a stack or layer; its EC2 instances carry the tags too.",
    ),
    "untag-resource": (
        "stackops.cli.tags:untag_resource",
        "Remove tags from a stack or layer and from its EC2 instances.",
    ),
    "list-tags": ("stackops.cli.tags:list_tags", "A stack's or layer's tags."),
    "import-opsworks": (
        "stackops.cli.import_cmd:import_opsworks",
        (
            "Write a stack file from the saved answers of aws opsworks describe-stacks, "
            "describe-layers, describe-apps and describe-instances (and, if saved, "
            "describe-elastic-load-balancers, describe-elastic-ips and the auto scaling ones)."
        ),
    ),
    # lifecycle events
    "watch": (
        "stackops.cli.watch_cmd:watch",
        "Poll the tagged EC2 instances and put a state-change event on the bus for each change.",
    ),
    "events": ("stackops.cli.events_cmd:events", "Look at the lifecycle event queues."),
    # deployments
    "create-deployment": (
        "stackops.cli.deployments:create_deployment",
        "Run a command (deploy, rollback, setup, configure, ...) on a stack's instances.",
    ),
    "describe-deployments": (
        "stackops.cli.deployments:describe_deployments",
        "Deployments of a stack or an app, or those named, newest first.",
    ),
    "continue-deployment": (
        "stackops.cli.deployments:continue_deployment",
        "Let a paused (half) deployment deploy the rest.",
    ),
    "abort-deployment": (
        "stackops.cli.deployments:abort_deployment",
        "Stop a deployment and switch the instances it switched back.",
    ),
    # time- and load-based instances
    "set-time-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:set_time_based_auto_scaling",
        "Set a time-based instance's weekly schedule (UTC hours).",
    ),
    "describe-time-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:describe_time_based_auto_scaling",
        "The schedules of time-based instances.",
    ),
    "set-load-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:set_load_based_auto_scaling",
        "Set a layer's load-based scaling: thresholds, wait and ignore times, counts.",
    ),
    "describe-load-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:describe_load_based_auto_scaling",
        "The load-based scaling of layers.",
    ),
    "autoscale": (
        "stackops.cli.autoscale_cmd:autoscale",
        "The scaler: start and stop time-based and load-based instances.",
    ),
    # the lifecycle dispatcher
    "dispatch": (
        "stackops.cli.dispatch_cmd:dispatch",
        "Run the lifecycle dispatcher on the queue: setup, configure, deploy, shutdown.",
    ),
    "describe-commands": (
        "stackops.cli.dispatch_cmd:describe_commands",
        "Commands (one run of recipes on one instance) by instance, deployment or id.",
    ),
    "logs": (
        "stackops.cli.dispatch_cmd:logs",
        "The converge report of one command (text; --output json for the whole record).",
    ),
    # the recipe engine
    "solo": (
        "stackops.cli.solo_cmd:solo",
        "Converge RECIPES (cookbook::recipe ...) on this host, under --root.",
    ),
    "recipes": ("stackops.cli.solo_cmd:recipes", "Cookbooks and their recipes."),
    "agent": (
        "stackops.cli.agent_cmd:agent",
        "The stackops agent: run recipes on this instance for the dispatcher.",
    ),
}


class GlobalOptions(NamedTuple):
    """The options every command shares, parsed once at the edge."""

    endpoint_url: str | None
    region: str | None
    profile: str | None
    namespace: str
    output: str
    debug: bool


def load_command(name: str) -> click.Command:
    """Import the command `name` of the COMMANDS table (KeyError when there is none)."""
    module_name, _, attr = COMMANDS[name][0].partition(":")
    command: click.Command = getattr(importlib.import_module(module_name), attr)
    return command


class LazyGroup(click.Group):
    """A group whose sub-commands are imported only when run; listed from the table."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `--help`, as click writes it, from the table's summaries."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, _shorten(COMMANDS[name][1], limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Complete command names from the table (and options as click does)."""
        from click.shell_completion import CompletionItem

        found = [
            CompletionItem(name, help=COMMANDS[name][1])
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
        ]
        return found + click.Command.shell_complete(self, ctx, incomplete)

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
    def of(cls, exc: click.UsageError) -> click.UsageError:
        """`exc` as one line; `stackops` (or a group) alone shows its help, as click does."""
        if isinstance(exc, OneLineUsageError | _NO_ARGS_IS_HELP):
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


# click >= 8.2 raises this for a group given no command; older clicks print the help.
_NO_ARGS_IS_HELP: type[click.UsageError] = getattr(
    click.exceptions, "NoArgsIsHelpError", OneLineUsageError
)

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


def _shorten(summary: str, limit: int) -> str:
    """`summary` cut at a word to `limit` characters with "...", as click cuts short help."""
    if len(summary) <= limit:
        return summary
    import textwrap

    return textwrap.shorten(summary, max(limit, 3), placeholder="...", break_on_hyphens=False)


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
@click.version_option(__version__, prog_name="stackops")
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
