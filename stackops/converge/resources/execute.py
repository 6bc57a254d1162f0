"""The execute resource: run a command, guarded so that a second run does nothing."""

import contextlib
import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from stackops.converge.context import ConvergeContext
from stackops.converge.paths import node_path
from stackops.converge.resource import DeclarationError, NoChange, Resource, resource_type
from stackops.errors import StackopsError

Command = Sequence[str] | str
Guard = Command | Callable[[], object]
OUTPUT_TAIL = 4000


class CommandFailed(StackopsError):
    """A command exited with a status it was not allowed to, or ran out of time."""


class CommandResult(NamedTuple):
    status: int
    output: str


def run_command(
    command: Command,
    *,
    shell: bool,
    cwd: Path | None,
    env: Mapping[str, str],
    timeout: float | None,
) -> CommandResult:
    """Run `command` (argv, or a shell line when `shell`), output captured, bounded by `timeout`."""
    import signal
    import subprocess

    argv: Any = command if shell else list(command)
    try:
        proc = subprocess.Popen(
            argv,
            shell=shell,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise CommandFailed(f"cannot run {_show(command)}: {exc.strerror or exc}") from None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        tail = out.decode("utf-8", "replace")[-OUTPUT_TAIL:]
        raise CommandFailed(
            f"{_show(command)} timed out after {timeout:g} s"
            + (f"; output:\n{tail}" if tail else "")
        ) from None
    return CommandResult(proc.returncode, out.decode("utf-8", "replace"))


def _show(command: Command) -> str:
    return command if isinstance(command, str) else shlex.join(command)


class ExecuteDesired(NamedTuple):
    command: Command
    shell: bool
    action: str
    cwd: Path | None
    env: Mapping[str, str]
    timeout: float | None
    returns: tuple[int, ...]
    creates: str | None
    creates_host: Path | None


class GuardState(NamedTuple):
    """What the guards found: `blocked` names the guard that says not to run, if any."""

    blocked: str | None


class ExecuteChange(NamedTuple):
    command: Command
    shell: bool
    cwd: Path | None
    env: Mapping[str, str]
    timeout: float | None
    returns: tuple[int, ...]

    @property
    def summary(self) -> str:
        return f"run {_show(self.command)}"

    @property
    def diff(self) -> str | None:
        return None


@resource_type("execute")
class Execute(Resource):
    """A command: an argv list (a shell line only with `shell=True`).

    Guards: `creates=` (a node path; skip when it exists), `only_if=` / `not_if=`
    (a command whose exit 0 means true, or a Python callable). A status outside
    `returns=` (default 0) fails the resource with the command's output. On a
    notification target, `run` happens only when notified.
    """

    actions: ClassVar[tuple[str, ...]] = ("run", "nothing")
    triggered_actions: ClassVar[frozenset[str]] = frozenset({"run"})
    example: ClassVar[dict[str, Any]] = {
        "name": "mark done",
        "command": ["/usr/bin/env", "true"],
        "creates": "/srv/web/.done",
    }

    command: Command = ()
    shell: bool = False
    cwd: str | None = None
    env: Mapping[str, str] | None = None
    timeout: float | None = None
    returns: int | Sequence[int] = 0
    creates: str | None = None
    only_if: Guard | None = None
    not_if: Guard | None = None

    def validate(self) -> None:
        self._check_command(self.command, "command")
        for guard, keyword in ((self.only_if, "only_if"), (self.not_if, "not_if")):
            if guard is not None and not callable(guard):
                self._check_command(guard, keyword)
        for path in (self.cwd, self.creates):
            if path is not None:
                node_path(path)
        if self.env is not None and not isinstance(self.env, Mapping):
            raise DeclarationError("env= takes a dict of names to values")
        if self.timeout is not None and (
            not isinstance(self.timeout, int | float) or self.timeout <= 0
        ):
            raise DeclarationError(f"timeout= takes a number of seconds > 0, not {self.timeout!r}")
        codes = (self.returns,) if isinstance(self.returns, int) else tuple(self.returns)
        if not codes or not all(isinstance(c, int) for c in codes):
            raise DeclarationError("returns= takes an exit status or a list of them")
        self.returns = codes

    def _check_command(self, command: object, keyword: str) -> None:
        if isinstance(command, str):
            if not self.shell:
                raise DeclarationError(
                    f"{keyword}= is a string; give an argv list like ['ls', '-l'], "
                    "or shell=True to run it through /bin/sh"
                )
            return
        if (
            not isinstance(command, list | tuple)
            or not command
            or not all(isinstance(a, str) for a in command)
        ):
            raise DeclarationError(f"{keyword}= takes a non-empty argv list of strings")

    def scheduled_action(self, is_notification_target: bool) -> str:
        return "nothing" if is_notification_target and self.action == "run" else self.action

    def notify_action(self) -> str:
        return self.on_notify or "run"

    def desired(self, ctx: ConvergeContext, action: str) -> ExecuteDesired:
        assert isinstance(self.returns, tuple)
        return ExecuteDesired(
            command=self.command,
            shell=self.shell,
            action=action,
            cwd=ctx.root.host_path(self.cwd) if self.cwd else None,
            env=ctx.command_env(self.env),
            timeout=self.timeout,
            returns=self.returns,
            creates=self.creates,
            creates_host=ctx.root.host_path(self.creates) if self.creates else None,
        )

    def current(self, ctx: ConvergeContext, desired: ExecuteDesired) -> GuardState:
        if desired.action == "nothing":
            return GuardState(None)
        if desired.creates_host is not None and os.path.lexists(desired.creates_host):
            return GuardState(f"{desired.creates} exists")
        if self.only_if is not None and not self._guard(ctx, desired, self.only_if):
            return GuardState("only_if is false")
        if self.not_if is not None and self._guard(ctx, desired, self.not_if):
            return GuardState("not_if is true")
        return GuardState(None)

    def _guard(self, ctx: ConvergeContext, desired: ExecuteDesired, guard: Guard) -> bool:
        if callable(guard):
            return bool(guard())
        cwd = desired.cwd if desired.cwd is not None and desired.cwd.is_dir() else None
        result = run_command(
            guard, shell=self.shell, cwd=cwd, env=desired.env, timeout=_least(ctx, self.timeout)
        )
        return result.status == 0

    @staticmethod
    def change(current: GuardState, desired: ExecuteDesired) -> ExecuteChange | NoChange:
        if desired.action == "nothing":
            return NoChange("action nothing (runs when notified)")
        if current.blocked:
            return NoChange(f"not run: {current.blocked}")
        return ExecuteChange(
            desired.command,
            desired.shell,
            desired.cwd,
            desired.env,
            desired.timeout,
            desired.returns,
        )

    def apply(self, ctx: ConvergeContext, change: ExecuteChange) -> None:
        if change.cwd is not None and not change.cwd.is_dir():
            raise CommandFailed(f"cwd {self.cwd} is not a folder; create it first (requires=)")
        result = run_command(
            change.command,
            shell=change.shell,
            cwd=change.cwd,
            env=change.env,
            timeout=_least(ctx, change.timeout),
        )
        if result.status not in change.returns:
            tail = result.output[-OUTPUT_TAIL:].rstrip("\n")
            raise CommandFailed(
                f"{_show(change.command)} exited with status {result.status}"
                + (f"; output:\n{tail}" if tail else " and no output")
            )


def _least(ctx: ConvergeContext, timeout: float | None) -> float | None:
    """The resource's own timeout, bounded by what is left of the run's."""
    left = ctx.remaining()
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)
