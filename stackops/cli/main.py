"""The `stackops` command: global options, lazy sub-commands, the one error path."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple

import click

from stackops import __version__
from stackops.cli.argv import OptionNames, hoist_options, options_of
from stackops.cli.commands import COMMANDS
from stackops.errors import StackopsError

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


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
        global_options = options_of(self, _TableOptions(self, ctx))
        return super().parse_args(ctx, hoist_options(args, global_options))

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


class _TableOptions(Mapping[str, OptionNames]):
    """The options of the table's commands by name, each command imported only when its
    options are asked for."""

    def __init__(self, group: LazyGroup, ctx: click.Context) -> None:
        self.group, self.ctx = group, ctx

    def __getitem__(self, name: str) -> OptionNames:
        command = self.group.get_command(self.ctx, name)
        if command is None:
            raise KeyError(name)
        return options_of(command)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


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
