"""`stackops solo` and `stackops recipes`: converge recipes on this host, list cookbooks.

Start-up matters here: this module loads click, the converge engine and nothing
heavy (no boto3, pydantic or yaml unless asked for).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from stackops.cli.main import GlobalOptions
from stackops.cli.output import emit
from stackops.cli.params import LocalPath, Seconds
from stackops.errors import InvalidInput, StackopsError

OUTPUT_CHOICES = click.Choice(["json", "table", "yaml"])


NODE_FILE_MAX_BYTES = 16 * 1024 * 1024


def load_node(source: str | None) -> dict[str, Any]:
    """Node attributes from a JSON file ('-': stdin); InvalidInput naming file:line:column.

    Read as any user JSON is (`stackops.model.jsontext`): at most 16 MiB of UTF-8,
    nesting refused past 32 levels before decoding, no NUL in any key or value."""
    from stackops.model.jsontext import check_tree, decode_utf8, load_json

    if source is None:
        return {}
    name = "stdin" if source == "-" else source
    try:
        if source == "-":
            data = sys.stdin.buffer.read(NODE_FILE_MAX_BYTES + 1)
        else:
            with Path(source).open("rb") as handle:
                data = handle.read(NODE_FILE_MAX_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput(f"-j {source}: no such file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        reason = getattr(exc, "strerror", None) or exc
        raise InvalidInput(f"-j {source!r}: cannot read it: {reason}") from None
    if len(data) > NODE_FILE_MAX_BYTES:
        raise InvalidInput(f"{name}: larger than {NODE_FILE_MAX_BYTES} bytes")
    node = load_json(decode_utf8(data, name), name, is_file=True)
    if not isinstance(node, dict):
        raise InvalidInput(
            f"{name}: node attributes must be a JSON object ({{...}}), not {type(node).__name__}"
        )
    check_tree(node, f"{name}: node")
    return node


def output_format(ctx: click.Context, local: str | None) -> str:
    """The command's own --output, else the global one when given explicitly, else 'table'."""
    if local:
        return local
    top = ctx.find_root()
    opts = ctx.find_object(GlobalOptions)
    if opts is not None and top.get_parameter_source("output") not in (
        None,
        ParameterSource.DEFAULT,
    ):
        return opts.output
    return "table"


@click.command()
@click.argument("recipes", nargs=-1, required=True)
@click.option(
    "-j",
    "--json-attributes",
    "node_file",
    metavar="FILE",
    help="Node attributes: a JSON file ('-' reads stdin). Default: {}.",
)
@click.option(
    "--root",
    type=LocalPath(file_okay=False, path_type=Path),
    default=Path("/"),
    show_default=True,
    help="Folder every path of the recipes resolves under.",
)
@click.option(
    "--cookbooks",
    "cookbook_dirs",
    multiple=True,
    type=LocalPath(file_okay=False, exists=True, path_type=Path),
    help="A folder of cookbooks, searched before ./recipes and the built-in ones (repeatable).",
)
@click.option(
    "--dry-run", is_flag=True, help="Report what would change, with diffs; change nothing."
)
@click.option("--timeout", type=Seconds(min=0, min_open=True), help="Seconds for the run.")
@click.option("-v", "--verbose", is_flag=True, help="List unchanged resources too.")
@click.option("--output", type=OUTPUT_CHOICES, help="json or yaml: the run report as data.")
@click.pass_context
def solo(
    ctx: click.Context,
    recipes: tuple[str, ...],
    node_file: str | None,
    root: Path,
    cookbook_dirs: tuple[Path, ...],
    dry_run: bool,
    timeout: float | None,
    verbose: bool,
    output: str | None,
) -> None:
    """Converge RECIPES (cookbook::recipe ...) on this host, under --root.

    \b
    stackops solo -j node.json web::configure web::deploy
    stackops solo -j node.json --root /tmp/node1 web::configure --dry-run
    """
    from stackops.converge import format_text, run_recipes, search_path

    node = load_node(node_file)
    paths = search_path(cookbook_dirs, Path.cwd())
    report = run_recipes(list(recipes), node, root, paths, dry_run=dry_run, timeout=timeout)
    fmt = output_format(ctx, output)
    if fmt == "table":
        click.echo(format_text(report, verbose=verbose))
    else:
        emit(report.to_dict(), fmt)
    if not report.ok:
        raise StackopsError(f"converge failed: {report.failure_line()}")


@click.group()
def recipes() -> None:
    """Cookbooks and their recipes."""


@recipes.command("list")
@click.option(
    "--cookbooks",
    "cookbook_dirs",
    multiple=True,
    type=LocalPath(file_okay=False, exists=True, path_type=Path),
    help="A folder of cookbooks, searched before ./recipes and the built-in ones (repeatable).",
)
@click.option("--output", type=OUTPUT_CHOICES, help="json, table or yaml (default: table).")
@click.pass_context
def list_recipes(ctx: click.Context, cookbook_dirs: tuple[Path, ...], output: str | None) -> None:
    """List the recipes found on the cookbook search path, in search order."""
    from stackops.converge import Cookbooks, search_path
    from stackops.converge.cookbooks import display_path

    found = Cookbooks(search_path(cookbook_dirs, Path.cwd())).listings()
    rows = [
        {
            "recipe": listing.name,
            "cookbook": listing.cookbook,
            "path": display_path(listing.path),
            "shadowed_by": display_path(listing.shadowed_by) if listing.shadowed_by else None,
        }
        for listing in found
    ]
    emit({"recipes": rows}, output_format(ctx, output))
