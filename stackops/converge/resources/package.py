"""The package resource: OS packages by the host's package manager (dnf, yum or apt-get).

`action="install"` (the default) installs the packages named that are missing;
`action="upgrade"` installs every pending update (a layer's InstallUpdatesOnBoot).
A package database belongs to a host: under a folder root (a sandbox node,
`solo --root DIR`) nothing can be installed for the node, so the resource
changes nothing and its report says why.
"""

import shutil
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple

from stackops.converge.context import ConvergeContext
from stackops.converge.resource import DeclarationError, NoChange, Resource, resource_type
from stackops.converge.resources.execute import CommandFailed, run_command

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
INSTALL_TIMEOUT = 1800.0


class Manager(NamedTuple):
    """How one package manager is asked what is installed, installs, and upgrades."""

    name: str
    query: Callable[[str], list[str]]  # argv asking whether one package is installed
    is_installed: Callable[[int, str], bool]  # (exit status, output) of the query
    install: Callable[[Sequence[str]], list[list[str]]]
    pending: list[str]  # argv listing pending updates
    has_pending: Callable[[int, str], bool]  # (exit status, output) -> updates pending?
    upgrade: list[list[str]]
    env: dict[str, str]


def _rpm_manager(tool: str) -> Manager:
    return Manager(
        name=tool,
        query=lambda name: ["rpm", "-q", "--quiet", name],
        is_installed=lambda status, _out: status == 0,
        install=lambda names: [[tool, "install", "-y", *names]],
        pending=[tool, "check-update", "-q"],
        has_pending=lambda status, _out: status == 100,  # dnf/yum: 100 means updates exist
        upgrade=[[tool, "upgrade", "-y"]],
        env={},
    )


MANAGERS: dict[str, Manager] = {
    "dnf": _rpm_manager("dnf"),
    "yum": _rpm_manager("yum"),
    "apt-get": Manager(
        name="apt-get",
        query=lambda name: ["dpkg-query", "-W", "-f=${db:Status-Status}", name],
        is_installed=lambda status, out: status == 0 and out.strip() == "installed",
        install=lambda names: [["apt-get", "update", "-q"], ["apt-get", "install", "-y", *names]],
        pending=["apt-get", "-s", "upgrade"],
        has_pending=lambda _status, out: any(line.startswith("Inst ") for line in out.splitlines()),
        upgrade=[["apt-get", "update", "-q"], ["apt-get", "upgrade", "-y"]],
        env=APT_ENV,
    ),
}


def host_manager(which: Callable[[str], str | None] = shutil.which) -> Manager | None:
    """The first package manager found on this host (dnf, yum, apt-get), if any."""
    return next((m for name, m in MANAGERS.items() if which(name)), None)


class PackageDesired(NamedTuple):
    action: str
    packages: tuple[str, ...]
    on_host: bool
    manager: Manager | None


class PackageState(NamedTuple):
    """What is missing (install) or whether updates are pending (upgrade)."""

    missing: tuple[str, ...] = ()
    pending: bool = False


class PackageChange(NamedTuple):
    commands: tuple[tuple[str, ...], ...]
    env: dict[str, str]
    what: str

    @property
    def summary(self) -> str:
        return self.what

    @property
    def diff(self) -> str | None:
        return None


@resource_type("package")
class Package(Resource):
    """OS packages: `packages=[...]` installed when missing, or `action="upgrade"` for updates.

    `manager=` picks dnf, yum or apt-get (default: the first the host has).
    """

    actions: ClassVar[tuple[str, ...]] = ("install", "upgrade")
    example: ClassVar[dict[str, Any]] = {"name": "web packages", "packages": ["nginx"]}

    packages: Sequence[str] = ()
    manager: str | None = None

    def validate(self) -> None:
        if isinstance(self.packages, str) or not all(
            isinstance(p, str) and p and not p.startswith("-") for p in self.packages
        ):
            raise DeclarationError("packages= takes a list of package names")
        if self.action == "install" and not self.packages:
            raise DeclarationError("packages= names at least one package to install")
        if self.manager is not None and self.manager not in MANAGERS:
            raise DeclarationError(f"manager= is one of {', '.join(MANAGERS)}")
        self.packages = tuple(dict.fromkeys(self.packages))

    def desired(self, ctx: ConvergeContext, action: str) -> PackageDesired:
        manager = MANAGERS[self.manager] if self.manager else host_manager()
        return PackageDesired(action, tuple(self.packages), ctx.root.is_host, manager)

    def current(self, ctx: ConvergeContext, desired: PackageDesired) -> PackageState | None:
        if not desired.on_host or desired.manager is None:
            return None
        manager = desired.manager
        env = ctx.command_env(manager.env)
        if desired.action == "upgrade":
            result = run_command(manager.pending, shell=False, cwd=None, env=env, timeout=600)
            return PackageState(pending=manager.has_pending(result.status, result.output))
        missing = []
        for name in desired.packages:
            found = run_command(manager.query(name), shell=False, cwd=None, env=env, timeout=60)
            if not manager.is_installed(found.status, found.output):
                missing.append(name)
        return PackageState(missing=tuple(missing))

    @staticmethod
    def change(current: PackageState | None, desired: PackageDesired) -> PackageChange | NoChange:
        listed = ", ".join(desired.packages) or "updates"
        if not desired.on_host:
            return NoChange(
                f"not installed ({listed}): the run's root is a folder (a sandbox node or "
                "solo --root), and packages install only on a host (root /)"
            )
        if desired.manager is None or current is None:
            return NoChange(f"not installed ({listed}): no dnf, yum or apt-get on this host")
        manager = desired.manager
        if desired.action == "upgrade":
            if not current.pending:
                return NoChange("no updates pending")
            return PackageChange(
                tuple(tuple(c) for c in manager.upgrade), manager.env, "install pending updates"
            )
        if not current.missing:
            return NoChange(f"installed: {listed}")
        return PackageChange(
            tuple(tuple(c) for c in manager.install(current.missing)),
            manager.env,
            f"install {', '.join(current.missing)}",
        )

    def apply(self, ctx: ConvergeContext, change: PackageChange) -> None:
        env = ctx.command_env(change.env)
        for command in change.commands:
            left = ctx.remaining()
            timeout = INSTALL_TIMEOUT if left is None else min(INSTALL_TIMEOUT, left)
            result = run_command(list(command), shell=False, cwd=None, env=env, timeout=timeout)
            if result.status != 0:
                raise CommandFailed(
                    f"{' '.join(command)} exited {result.status}:\n{result.output[-2000:]}"
                )
