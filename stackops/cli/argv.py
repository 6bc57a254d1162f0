"""The command line's words rewritten before click reads them, as the aws CLI takes them.

Two rewritings, each a pure function of the words and the option names involved:

- `hoist_options`: global options given after the command (`describe-stacks --output
  table`) move in front of it, unless the command has an option of that name itself
  (`create-stack --region` is the stack's region, not the endpoint's);
- `split_list_values`: a list option's several values (`--layer-ids L1 L2`) become one
  option per value (`--layer-ids L1 --layer-ids L2`), which is what click reads.

`--` ends the options in both: the words after it stay as they are. `options_of` reads
the option names of a click command into the plain `OptionNames` these functions take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

END_OF_OPTIONS = "--"


@dataclass(frozen=True)
class OptionNames:
    """The options of one command: those taking a value, the flags, which of the value
    options take a list, and for a group its sub-commands' options by name."""

    values: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()
    commands: Mapping[str, OptionNames] = field(default_factory=dict, compare=False)

    @property
    def names(self) -> frozenset[str]:
        """Every option name, value-taking or flag."""
        return self.values | self.flags

    def joined(self, other: OptionNames) -> OptionNames:
        """The options of both (a group's and its sub-command's)."""
        return OptionNames(
            self.values | other.values, self.flags | other.flags, self.lists | other.lists
        )


def option_name(word: str) -> str:
    """`--output=table` -> `--output`; any other word is its own name."""
    return word.split("=", 1)[0]


def _is_option(word: str) -> bool:
    return word.startswith("-") and word != "-"


def _takes_next(word: str, options: OptionNames) -> bool:
    """Whether the option `word` takes the next word as its value: not a flag, no `=`.
    An option `options` does not know is taken to have a value."""
    return "=" not in word and option_name(word) not in options.flags


def command_position(argv: Sequence[str], options: OptionNames) -> int | None:
    """The index of the first word that is neither one of the leading options nor one's
    value: the command's name. None when there is none (or `--` comes first)."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == END_OF_OPTIONS:
            return None
        if not _is_option(word):
            return i
        i += 2 if _takes_next(word, options) else 1
    return None


def options_in_use(command: OptionNames, tail: Sequence[str]) -> OptionNames:
    """The options of `command` and, for a group, of the sub-command named in `tail`
    (and so on down nested groups)."""
    position = command_position(tail, command)
    sub = command.commands.get(tail[position]) if position is not None else None
    if position is None or sub is None:
        return command
    return command.joined(options_in_use(sub, tail[position + 1 :]))


def hoist_options(argv: Sequence[str], group: OptionNames) -> list[str]:
    """`argv` with the options of `group` given after its command moved in front of the
    command, in their order, unless the command (or its sub-command) has an option of that
    name. The values of the command's own options are never taken for options."""
    position = command_position(argv, group)
    if position is None or argv[position] not in group.commands:
        return list(argv)
    tail = argv[position + 1 :]
    own = options_in_use(group.commands[argv[position]], tail)
    moved: list[str] = []
    kept: list[str] = []
    i = 0
    while i < len(tail):
        word = tail[i]
        if word == END_OF_OPTIONS:
            kept += tail[i:]
            break
        name = option_name(word)
        if _is_option(word) and name in group.names and name not in own.names:
            span = 2 if _takes_next(word, group) else 1
            moved += tail[i : i + span]
        else:
            span = 2 if _is_option(word) and name in own.values and "=" not in word else 1
            kept += tail[i : i + span]
        i += span
    return [*argv[:position], *moved, argv[position], *kept]


def split_list_values(argv: Sequence[str], lists: frozenset[str]) -> list[str]:
    """`--layer-ids L1 L2` -> `--layer-ids L1 --layer-ids L2` for the options in `lists`:
    every further word up to the next option gets the option's name again. `--layer-ids=L1`
    is one value (the words after it are not the list's)."""
    rewritten: list[str] = []
    current: str | None = None  # the list option whose values these words are
    has_value = False
    for i, word in enumerate(argv):
        if word == END_OF_OPTIONS:
            rewritten += argv[i:]
            break
        if _is_option(word):
            current, has_value = (word if word in lists else None), False
            rewritten.append(word)
        elif current is not None and has_value:
            rewritten += [current, word]
        else:
            rewritten.append(word)
            has_value = True
    return rewritten


def options_of(
    command: click.Command, commands: Mapping[str, OptionNames] | None = None
) -> OptionNames:
    """The option names of a click command (eager ones such as --version left out: they are
    not for moving). A group's sub-commands are read too unless `commands` is given."""
    import click

    values: set[str] = set()
    flags: set[str] = set()
    lists: set[str] = set()
    for param in command.params:
        if not isinstance(param, click.Option) or param.is_eager:
            continue
        names = [*param.opts, *param.secondary_opts]
        (flags if param.is_flag or param.count else values).update(names)
        if getattr(param, "aws_list", False):
            lists.update(names)
    if commands is None and isinstance(command, click.Group):
        commands = {name: options_of(sub) for name, sub in command.commands.items()}
    return OptionNames(frozenset(values), frozenset(flags), frozenset(lists), commands or {})
