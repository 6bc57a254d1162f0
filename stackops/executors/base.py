"""What an executor is: a run request in, a run result out, and the registry of executors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from stackops.errors import InvalidInput
from stackops.secrets import Resolver  # noqa: F401  (re-exported)

# Exit codes of a run (the agent's, and what every executor reports).
EXIT_OK = 0
EXIT_FAILED = 1  # a resource (or a notification) failed
EXIT_INVALID = 2  # the payload or a recipe declaration is not valid
EXIT_NO_REPORT = 70  # the agent ended without the report it owed (a crash)
EXIT_TIMED_OUT = 124  # the run's time budget ran out (as timeout(1) says)
EXIT_NOT_STARTED = 125  # the run could not be started (secrets, spawn, SendCommand, delivery)
# 128 + n: the agent was killed by signal n


@dataclass(frozen=True)
class RunRequest:
    """One run of recipes on one instance, as the dispatcher asks for it."""

    command_id: str
    ec2_instance_id: str
    recipes: tuple[str, ...]
    node: dict[str, Any]  # node attributes; secret refs {"ssm": "/path"} unresolved
    cookbook_paths: tuple[str, ...]  # folders, as strings (JSON-able)
    timeout: float  # seconds for the whole run
    root: str | None = None  # node root; None means "/" (the instance itself)
    dry_run: bool = False


@dataclass(frozen=True)
class RunResult:
    """How a run went. `report` and `log` never hold a secret value."""

    ok: bool
    exit_code: int  # EXIT_OK, EXIT_FAILED, EXIT_TIMED_OUT; anything else: it crashed
    report: dict[str, Any] | None  # converge Report.to_dict(), secrets redacted
    log: str  # human text log, secrets redacted
    timed_out: bool
    seconds: float


@dataclass(frozen=True)
class CheckRequest:
    """One command run on a node for an app's health check, as the node would run it:
    `argv` (no shell) in `cwd` (a node path) with the app's environment `env` (secret
    refs unresolved: they are resolved where the check runs, as for a run)."""

    check_id: str
    ec2_instance_id: str
    argv: tuple[str, ...]
    cwd: str | None
    env: dict[str, Any]
    timeout: float  # seconds for the command
    root: str | None = None  # node root; None means "/" (the instance itself)


@dataclass(frozen=True)
class CheckReply:
    """How a check's command went on the node: its exit code and output (secrets masked),
    or `error` when it did not finish (not started, timed out, not delivered)."""

    exit_code: int | None
    output: str = ""
    error: str | None = None


class Executor(Protocol):
    """Where a run happens (this host, an instance through SSM...)."""

    name: str

    def run(self, request: RunRequest) -> RunResult: ...

    def run_check(self, request: CheckRequest) -> CheckReply:
        """Run a health check's command on the node (never on the caller's host with
        the caller's environment); a failure to run it is a reply, never an exception."""
        ...


E = TypeVar("E")


@dataclass(frozen=True)
class ExecutorEntry:
    """One registered executor: its name, its class, and the IAM actions its caller needs."""

    name: str
    factory: type
    actions: tuple[str, ...]

    @property
    def summary(self) -> str:
        """The first line of the class docstring."""
        lines = (self.factory.__doc__ or "").strip().splitlines()
        return lines[0] if lines else ""


# The modules whose classes register themselves; imported on the first look-up, so
# that `stackops agent` (which needs only the request types) does not pay for them.
EXECUTOR_MODULES = ("stackops.executors.local", "stackops.executors.ssm")


class ExecutorRegistry:
    """Executors by name, filled by the `executor` decorator when their modules load."""

    def __init__(self, modules: tuple[str, ...] = ()) -> None:
        self._entries: dict[str, ExecutorEntry] = {}
        self._modules = modules

    def _load(self) -> None:
        import importlib

        for module in self._modules:
            importlib.import_module(module)

    def register(self, name: str, *, actions: tuple[str, ...] = ()) -> Callable[[type[E]], type[E]]:
        """Register a class under `name`; `actions` are the IAM actions its caller needs."""

        def decorate(cls: type[E]) -> type[E]:
            if name in self._entries:
                raise ValueError(f"executor {name!r} is registered twice")
            cls.name = name  # type: ignore[attr-defined]
            self._entries[name] = ExecutorEntry(name, cls, tuple(actions))
            return cls

        return decorate

    def entry(self, name: str) -> ExecutorEntry:
        """The entry called `name`; InvalidInput listing the valid names otherwise."""
        self._load()
        found = self._entries.get(name)
        if found is None:
            import difflib

            close = difflib.get_close_matches(name, self._entries, n=2)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise InvalidInput(f"no executor {name!r}.{hint} Valid: {', '.join(self.names())}")
        return found

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def __iter__(self) -> Iterator[ExecutorEntry]:
        return iter(self._entries[name] for name in self.names())


EXECUTORS = ExecutorRegistry(EXECUTOR_MODULES)
executor = EXECUTORS.register


def get_executor(name: str) -> type:
    """The executor class called `name` (build it with its own arguments)."""
    return EXECUTORS.entry(name).factory
