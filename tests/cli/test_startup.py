"""The CLI answers at once: `--help`, `--version` and completion load no command.

The group lists commands from the COMMANDS table of stackops/cli/commands.py, which
carries each command's one-line help; these tests hold the table to the commands
and check, in a fresh process, which modules answering imported. How fast it is
is measured by bench/startup.py, not asserted here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from stackops.cli.main import COMMANDS, cli, load_command

HEAVY = ("boto3", "botocore", "pydantic", "jinja2")
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_says_what_the_command_says(name: str) -> None:
    """Each summary is the first sentence of the command's own help, as click shows it."""
    command = load_command(name)
    assert COMMANDS[name][1] == command.get_short_help_str(limit=10_000), (
        f"COMMANDS[{name!r}] in stackops/cli/commands.py: copy the first sentence of the "
        f"command's help: {command.get_short_help_str(limit=10_000)!r}"
    )


@pytest.mark.parametrize("width", [60, 80, 120])
def test_help_lists_commands_as_click_would_after_loading_them_all(width: int) -> None:
    ctx = click.Context(cli, info_name="stackops", terminal_width=width)
    ours, clicks = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
    cli.format_commands(ctx, ours)
    click.Group.format_commands(cli, ctx, clicks)
    assert ours.getvalue() == clicks.getvalue()
    assert "describe-stacks" in ours.getvalue()


def imported_by(*args: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """Top-level package names a fresh `python -m stackops ARGS` imported, and what it
    printed (stdout, then stderr without the import timings)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "stackops", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    lines = done.stderr.splitlines()
    timings = [line for line in lines if line.startswith("import time:") and "|" in line]
    names = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in timings}
    said = "\n".join(line for line in lines if not line.startswith("import time:"))
    return names, done.stdout + said


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--help",), "describe-stacks"),
        (("--version",), "stackops, version"),
        ((), "Usage: stackops [OPTIONS] COMMAND"),  # no command: the help, as click gives it
    ],
)
def test_help_and_version_import_no_heavy_package(args: tuple[str, ...], expected: str) -> None:
    names, out = imported_by(*args)
    assert "click" in names, "the import list is read (a check that sees nothing cannot fail)"
    assert expected in out
    assert names.isdisjoint(HEAVY), sorted(names & set(HEAVY))


def test_completing_a_command_name_loads_no_command() -> None:
    env = {"_STACKOPS_COMPLETE": "bash_complete", "COMP_WORDS": "stackops describe-st"}
    names, out = imported_by(env={**env, "COMP_CWORD": "1"})
    assert out.split() == ["plain,describe-stack-summary", "plain,describe-stacks"]
    assert names.isdisjoint(HEAVY), sorted(names & set(HEAVY))


def test_running_a_command_does_load_it() -> None:
    """The other side of the lazy table: a verb's own --help loads its command and what it
    needs, so the checks above would see a heavy import if one happened."""
    names, out = imported_by("describe-stacks", "--help")
    assert "--stack-ids" in out
    assert {"boto3", "pydantic"} <= names


def test_solo_imports_neither_boto3_nor_pydantic(tmp_path: Path) -> None:
    """`stackops solo` is the recipe engine alone: no AWS or model code at start-up."""
    cookbook = tmp_path / "cookbooks" / "site"
    cookbook.mkdir(parents=True)
    (cookbook / "default.py").write_text('def recipe(run):\n    run.directory("/srv/x")\n')
    args = ("solo", "--root", str(tmp_path / "root"), "--cookbooks", str(tmp_path / "cookbooks"))
    names, out = imported_by(*args, "site")
    assert "1 resource: 1 changed" in out
    assert names.isdisjoint({"boto3", "botocore", "pydantic"}), names
