"""The argv rewriting (stackops.cli.argv) as tables: words in, words out, plain data."""

from __future__ import annotations

import click
import pytest

from stackops.cli.argv import (
    OptionNames,
    command_position,
    hoist_options,
    options_in_use,
    options_of,
    split_list_values,
)
from stackops.cli.main import cli

CREATE_STACK = OptionNames(
    values=frozenset({"--name", "--region", "--custom-json", "--stack-ids"}),
    flags=frozenset({"--use-custom-cookbooks", "--no-use-custom-cookbooks"}),
    lists=frozenset({"--stack-ids"}),
)
DESCRIBE_LAYERS = OptionNames(
    values=frozenset({"--stack-id", "--layer-ids"}), lists=frozenset({"--layer-ids"})
)
DLQ = OptionNames(values=frozenset({"--max"}), flags=frozenset({"--redrive"}))
EVENTS = OptionNames(values=frozenset({"--queue"}), commands={"dlq": DLQ})
GLOBAL = OptionNames(
    values=frozenset({"--endpoint-url", "--region", "--profile", "--namespace", "--output"}),
    flags=frozenset({"--debug"}),
    commands={"create-stack": CREATE_STACK, "describe-layers": DESCRIBE_LAYERS, "events": EVENTS},
)

HOIST_ROWS = [
    # nothing to move
    ([], []),
    (["--help"], ["--help"]),
    (["describe-layers"], ["describe-layers"]),
    (["--output", "table", "describe-layers"], ["--output", "table", "describe-layers"]),
    # a global option after the command moves in front of it
    (["describe-layers", "--output", "table"], ["--output", "table", "describe-layers"]),
    (["describe-layers", "--output=table"], ["--output=table", "describe-layers"]),
    (["describe-layers", "--debug"], ["--debug", "describe-layers"]),
    # ... after what was in front already, in the order given
    (
        ["--debug", "describe-layers", "--output", "yaml", "--namespace", "n"],
        ["--debug", "--output", "yaml", "--namespace", "n", "describe-layers"],
    ),
    (
        ["--endpoint-url=http://x", "describe-layers", "--debug", "--stack-id", "S"],
        ["--endpoint-url=http://x", "--debug", "describe-layers", "--stack-id", "S"],
    ),
    # the command's own option of the same name stays (create-stack --region is the stack's)
    (
        ["create-stack", "--name", "shop", "--region", "eu-west-1", "--output", "table"],
        ["--output", "table", "create-stack", "--name", "shop", "--region", "eu-west-1"],
    ),
    (
        ["create-stack", "--region=eu-west-1", "--profile", "p"],
        ["--profile", "p", "create-stack", "--region=eu-west-1"],
    ),
    # a list option followed by other options
    (
        ["describe-layers", "--layer-ids", "L1", "L2", "--output", "table", "--stack-id", "S"],
        ["--output", "table", "describe-layers", "--layer-ids", "L1", "L2", "--stack-id", "S"],
    ),
    # flags of the command stay where they are
    (
        ["create-stack", "--use-custom-cookbooks", "--debug", "--no-use-custom-cookbooks"],
        ["--debug", "create-stack", "--use-custom-cookbooks", "--no-use-custom-cookbooks"],
    ),
    # a value starting with '-' is the option's value, never an option itself
    (
        ["create-stack", "--name", "-web", "--output", "json"],
        ["--output", "json", "create-stack", "--name", "-web"],
    ),
    (
        ["create-stack", "--name", "--output", "--debug"],
        ["--debug", "create-stack", "--name", "--output"],
    ),
    (["create-stack", "--custom-json", "-1"], ["create-stack", "--custom-json", "-1"]),
    # options the command does not know stay for click to refuse
    (["describe-layers", "--colour", "red"], ["describe-layers", "--colour", "red"]),
    # a leading option the group does not know is taken to have a value
    (["--colour", "describe-layers", "--debug"], ["--colour", "describe-layers", "--debug"]),
    # a name not in the table is left for click to refuse
    (["describe-stacks", "--output", "table"], ["describe-stacks", "--output", "table"]),
    # `--` ends the options: what follows stays
    (
        ["describe-layers", "--", "--output", "table"],
        ["describe-layers", "--", "--output", "table"],
    ),
    (["--", "describe-layers", "--debug"], ["--", "describe-layers", "--debug"]),
    # a global option with its value missing moves as it is (click then says what is missing)
    (["describe-layers", "--output"], ["--output", "describe-layers"]),
    # nested groups: the group's and the sub-command's options stay, the global ones move
    (
        ["events", "dlq", "--redrive", "--output", "table", "--max", "3"],
        ["--output", "table", "events", "dlq", "--redrive", "--max", "3"],
    ),
    (
        ["events", "--queue", "q", "dlq", "--debug"],
        ["--debug", "events", "--queue", "q", "dlq"],
    ),
    (["events", "--output", "yaml", "dlq"], ["--output", "yaml", "events", "dlq"]),
    # under a nested group that has no option of that name, a global option moves
    (
        ["events", "dlq", "--region", "r"],
        ["--region", "r", "events", "dlq"],
    ),
]


@pytest.mark.parametrize(("argv", "expected"), HOIST_ROWS)
def test_hoist_options(argv: list[str], expected: list[str]) -> None:
    assert hoist_options(argv, GLOBAL) == expected


def test_a_sub_commands_own_option_of_a_global_name_stays() -> None:
    dlq = OptionNames(values=frozenset({"--region"}))
    group = OptionNames(
        values=GLOBAL.values,
        flags=GLOBAL.flags,
        commands={"events": OptionNames(commands={"dlq": dlq})},
    )
    argv = ["events", "dlq", "--region", "r", "--output", "table"]
    assert hoist_options(argv, group) == ["--output", "table", "events", "dlq", "--region", "r"]


SPLIT_ROWS = [
    ([], []),
    (["--stack-id", "S"], ["--stack-id", "S"]),
    (["--layer-ids", "L1"], ["--layer-ids", "L1"]),
    (
        ["--layer-ids", "L1", "L2", "L3"],
        ["--layer-ids", "L1", "--layer-ids", "L2", "--layer-ids", "L3"],
    ),
    # list options followed by other options
    (
        ["--layer-ids", "L1", "L2", "--stack-id", "S", "--name", "n"],
        ["--layer-ids", "L1", "--layer-ids", "L2", "--stack-id", "S", "--name", "n"],
    ),
    (
        ["--layer-ids", "L1", "L2", "--instance-ids", "I1", "I2"],
        ["--layer-ids", "L1", "--layer-ids", "L2", "--instance-ids", "I1", "--instance-ids", "I2"],
    ),
    # a list option given twice, the old way, stays as it is
    (["--layer-ids", "L1", "--layer-ids", "L2"], ["--layer-ids", "L1", "--layer-ids", "L2"]),
    # `--opt=value` is one value: the words after it are not the list's
    (["--layer-ids=L1", "L2"], ["--layer-ids=L1", "L2"]),
    # a flag ends the list
    (["--layer-ids", "L1", "--debug", "L2"], ["--layer-ids", "L1", "--debug", "L2"]),
    # a word starting with '-' is an option, not a value of the list
    (["--layer-ids", "L1", "-x"], ["--layer-ids", "L1", "-x"]),
    # '-' alone is a value
    (["--layer-ids", "L1", "-"], ["--layer-ids", "L1", "--layer-ids", "-"]),
    # the values of other options are left alone
    (["--name", "a", "b"], ["--name", "a", "b"]),
    # `--` ends the options
    (["--layer-ids", "L1", "--", "L2"], ["--layer-ids", "L1", "--", "L2"]),
    # JSON list values, as the aws CLI allows, stay words of their own
    (["--layer-ids", '["L1", "L2"]', "L3"], ["--layer-ids", '["L1", "L2"]', "--layer-ids", "L3"]),
]


@pytest.mark.parametrize(("argv", "expected"), SPLIT_ROWS)
def test_split_list_values(argv: list[str], expected: list[str]) -> None:
    lists = frozenset({"--layer-ids", "--instance-ids"})
    assert split_list_values(argv, lists) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], None),
        (["cmd"], 0),
        (["--output", "table", "cmd"], 2),
        (["--output=table", "cmd"], 1),
        (["--debug", "cmd"], 1),
        (["--unknown", "value", "cmd"], 2),
        (["--output", "table"], None),
        (["--", "cmd"], None),
        (["-", "cmd"], 0),
    ],
)
def test_command_position(argv: list[str], expected: int | None) -> None:
    assert command_position(argv, GLOBAL) == expected


def test_options_in_use_walks_down_nested_groups() -> None:
    assert options_in_use(EVENTS, ["dlq", "--max", "2"]).names == EVENTS.names | DLQ.names
    assert options_in_use(EVENTS, ["--queue", "dlq"]) == EVENTS  # "dlq" is --queue's value
    assert options_in_use(EVENTS, ["nothing"]) == EVENTS


def test_options_of_reads_a_click_command() -> None:
    from stackops.cli.params import AwsStyleCommand, list_option

    @click.command("x", cls=AwsStyleCommand)
    @click.option("--name")
    @click.option("--heal/--no-heal", default=None)
    @click.option("--debug", is_flag=True)
    @list_option("--layer-ids")
    @click.version_option("1")
    def command(**_: object) -> None:
        """A command."""

    found = options_of(command)
    assert found.values == {"--name", "--layer-ids", "--cli-input-json"}
    assert found.flags == {"--heal", "--no-heal", "--debug"}
    assert found.lists == {"--layer-ids"}


def test_the_global_options_are_read_from_the_group() -> None:
    found = options_of(cli, {})
    assert found.values == GLOBAL.values
    assert found.flags == GLOBAL.flags  # --version and --help are not moved


def test_a_click_group_gives_its_sub_commands() -> None:
    @click.group()
    @click.option("--queue")
    def group(queue: str) -> None:
        """A group."""

    @group.command()
    @click.option("--redrive", is_flag=True)
    def dlq(redrive: bool) -> None:
        """A sub-command."""

    found = options_of(group)
    assert found.values == {"--queue"}
    assert found.commands["dlq"].flags == {"--redrive"}
