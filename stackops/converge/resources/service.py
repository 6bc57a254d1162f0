"""The service resource: a supervised background process (or a systemd unit when asked)."""

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from stackops.converge import supervise
from stackops.converge.context import ConvergeContext
from stackops.converge.keeper import keeper_folder
from stackops.converge.paths import node_path
from stackops.converge.resource import DeclarationError, NoChange, Resource, resource_type
from stackops.converge.resources.execute import CommandFailed, run_command
from stackops.errors import StackopsError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
PROVIDERS = ("supervised", "systemd")


class ServiceDesired(NamedTuple):
    name: str
    provider: str
    action: str
    argv: tuple[str, ...] | None
    cwd: Path | None
    env: Mapping[str, str]
    spec: str  # hash of what the process is started with
    pid_file: Path
    log_file: Path
    reload_signal: int | None
    stop_signal: int
    stop_timeout: float
    grace: float
    port: int | None
    port_wait: float
    keeper: Path


class ServiceState(NamedTuple):
    running: bool
    record: supervise.PidRecord | None = None


class ServiceChange(NamedTuple):
    """`steps` are done in order: any of 'stop', 'start', 'reload'."""

    desired: ServiceDesired
    steps: tuple[str, ...]
    record: supervise.PidRecord | None
    why: str

    @property
    def summary(self) -> str:
        verb = {
            ("start",): "start",
            ("stop",): "stop",
            ("stop", "start"): "restart",
            ("reload",): "reload",
        }.get(self.steps, " then ".join(self.steps))
        line = f"{verb} service {self.desired.name} ({self.why})"
        if "start" in self.steps:
            port = self.desired.port
            line += (
                f", then check it listens on port {port}"
                if port is not None
                else f", then check it still runs after {self.desired.grace:g} s"
            )
        return line

    @property
    def diff(self) -> str | None:
        return None


@resource_type("service")
class Service(Resource):
    """A long-running process kept under <root>/var/run/stackops/<name>.pid.

    `command=` (argv) is what runs, in `cwd=` with `env=`; output goes to
    <root>/var/log/stackops/<name>.log. Actions: start and stop are states
    (a running service is not started again); restart and reload act every run,
    except on a notification target where they happen only when notified (and
    the service is otherwise kept running). Reload sends `reload_signal=`
    (e.g. 'HUP'); without one, reload restarts. A running service whose command,
    cwd or env changed is restarted. `provider="systemd"` drives `systemctl`
    instead (root `/` only).

    Every start is verified: the process must still run `start_grace=` seconds
    (0.5 by default) after it started or, when the service declares `port=`, it
    (or a process it started) must listen on that TCP port within `port_wait=`
    seconds (30 by default); otherwise the resource fails with the exit status
    and the last lines of its log. A port held by another process is named. The
    node's services share one process group, held by the node's keeper, which
    ends them all when the node stops (see `stackops.converge.keeper`). A
    supervised command must stay in the foreground (not daemonize itself).
    """

    actions: ClassVar[tuple[str, ...]] = ("start", "stop", "restart", "reload", "nothing")
    triggered_actions: ClassVar[frozenset[str]] = frozenset({"restart", "reload"})
    example: ClassVar[dict[str, Any]] = {
        "name": "web",
        "command": ["python3", "-m", "http.server", "8001"],
        "cwd": "/srv/web/current",
    }

    command: Sequence[str] | None = None
    cwd: str | None = None
    env: Mapping[str, str] | None = None
    provider: str = "supervised"
    reload_signal: str | int | None = None
    stop_signal: str | int = "TERM"
    stop_timeout: float = 10.0
    start_grace: float = 0.5
    port: int | None = None
    port_wait: float = 30.0
    pid_file: str | None = None
    log_file: str | None = None

    def validate(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise DeclarationError(
                f"service name {self.name!r} is not valid: letters, digits, '_', '.', '@', '-'"
            )
        if self.command is not None and (
            not isinstance(self.command, list | tuple)
            or not self.command
            or not all(isinstance(a, str) for a in self.command)
        ):
            raise DeclarationError("command= takes a non-empty argv list of strings")
        if self.provider not in PROVIDERS:
            raise DeclarationError(
                f"provider {self.provider!r} is not valid; valid: {', '.join(PROVIDERS)}"
            )
        for path in (self.cwd, self.pid_file, self.log_file):
            if path is not None:
                node_path(path)
        if self.env is not None and not isinstance(self.env, Mapping):
            raise DeclarationError("env= takes a dict of names to values")
        if self.port is not None and (
            isinstance(self.port, bool)
            or not isinstance(self.port, int)
            or not 1 <= self.port <= 65535
        ):
            raise DeclarationError(f"port= takes a TCP port from 1 to 65535, not {self.port!r}")
        for key in ("start_grace", "port_wait", "stop_timeout"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise DeclarationError(f"{key}= takes a number of seconds >= 0, not {value!r}")
        for sig in (self.reload_signal, self.stop_signal):
            if sig is not None:
                try:
                    supervise.signal_number(sig)
                except StackopsError as exc:
                    raise DeclarationError(str(exc)) from None

    def scheduled_action(self, is_notification_target: bool) -> str:
        if is_notification_target and self.action in self.triggered_actions:
            return "start"
        return self.action

    def notify_action(self) -> str:
        if self.on_notify:
            return self.on_notify
        return {"reload": "reload", "stop": "stop", "nothing": "restart"}.get(
            self.action, "restart"
        )

    def desired(self, ctx: ConvergeContext, action: str) -> ServiceDesired:
        env = {str(k): str(v) for k, v in (self.env or {}).items()}
        spec_text = json.dumps([list(self.command or ()), self.cwd, sorted(env.items())])
        import hashlib

        spec = hashlib.sha256(spec_text.encode()).hexdigest()[:16]
        root = ctx.root
        return ServiceDesired(
            name=self.name,
            provider=self.provider,
            action=action,
            argv=tuple(self.command) if self.command else None,
            cwd=root.host_path(self.cwd) if self.cwd else None,
            env=ctx.command_env(env),
            spec=spec,
            pid_file=root.host_path(self.pid_file or f"/var/run/stackops/{self.name}.pid"),
            log_file=root.host_path(self.log_file or f"/var/log/stackops/{self.name}.log"),
            reload_signal=(
                supervise.signal_number(self.reload_signal) if self.reload_signal else None
            ),
            stop_signal=supervise.signal_number(self.stop_signal),
            stop_timeout=float(self.stop_timeout),
            grace=float(self.start_grace),
            port=self.port,
            port_wait=float(self.port_wait),
            keeper=keeper_folder(root.path),
        )

    def current(self, ctx: ConvergeContext, desired: ServiceDesired) -> ServiceState:
        if desired.provider == "systemd":
            _require_systemd(ctx)
            result = run_command(
                ["systemctl", "is-active", "--quiet", desired.name],
                shell=False,
                cwd=None,
                env=desired.env,
                timeout=30,
            )
            return ServiceState(result.status == 0)
        record = supervise.running(desired.pid_file)
        return ServiceState(record is not None, record)

    @staticmethod
    def change(current: ServiceState, desired: ServiceDesired) -> ServiceChange | NoChange:
        action = desired.action
        recorded = current.record.spec if current.record else None
        stale = (
            desired.provider == "supervised"
            and current.running
            and desired.argv is not None
            and recorded is not None
            and recorded != desired.spec
        )
        pid = f"pid {current.record.pid}" if current.record else "active"

        def make(steps: tuple[str, ...], why: str) -> ServiceChange:
            return ServiceChange(desired, steps, current.record, why)

        match action:
            case "nothing":
                return NoChange("action nothing (acts when notified)")
            case "stop":
                if not current.running:
                    return NoChange("not running")
                return make(("stop",), f"running, {pid}")
            case _ if not current.running:
                return make(("start",), "not running")
            case "start":
                if stale:
                    return make(("stop", "start"), "its command, cwd or env changed")
                return NoChange(f"running, {pid}")
            case "restart":
                return make(("stop", "start"), f"running, {pid}")
            case "reload":
                if stale:
                    return make(("stop", "start"), "its command, cwd or env changed")
                if desired.reload_signal is None and desired.provider == "supervised":
                    return make(("stop", "start"), "no reload_signal: reload restarts")
                return make(("reload",), f"running, {pid}")
        raise ValueError(f"unknown service action {action!r}")

    def apply(self, ctx: ConvergeContext, change: ServiceChange) -> None:
        desired = change.desired
        if desired.provider == "systemd":
            verbs = {("stop", "start"): "restart"}
            for verb in (verbs[change.steps],) if change.steps in verbs else change.steps:
                _systemctl(verb, desired)
            if "start" in change.steps:
                _verify_unit(desired)
            return
        record = change.record
        for step in change.steps:
            match step:
                case "stop":
                    if record is not None:
                        supervise.stop(
                            record,
                            desired.pid_file,
                            signum=desired.stop_signal,
                            timeout=desired.stop_timeout,
                        )
                    record = None
                case "start":
                    if desired.argv is None:
                        raise supervise.ServiceFailed(
                            f"service {desired.name} has no command= to start it with"
                        )
                    record = supervise.launch(
                        desired.argv,
                        cwd=desired.cwd,
                        env=desired.env,
                        log=desired.log_file,
                        pid_file=desired.pid_file,
                        spec=desired.spec,
                        keeper=desired.keeper,
                    )
                    supervise.verify_started(
                        desired.name,
                        record,
                        log=desired.log_file,
                        pid_file=desired.pid_file,
                        keeper=desired.keeper,
                        settle=desired.grace,
                        port=desired.port,
                        port_wait=desired.port_wait,
                    )
                case "reload":
                    assert record is not None and desired.reload_signal is not None
                    supervise.send_signal(record, desired.reload_signal)


def _require_systemd(ctx: ConvergeContext) -> None:
    import shutil

    if not ctx.root.is_host:
        raise StackopsError("provider='systemd' manages this host; it needs the run's root to be /")
    if shutil.which("systemctl") is None:
        raise StackopsError("provider='systemd' was asked for but systemctl is not on this host")


def _verify_unit(desired: ServiceDesired) -> None:
    """After systemctl started a unit: still active after the settle, and listening on
    its port (a connection to 127.0.0.1) within the wait when it declares one."""
    import socket
    import time

    deadline = time.monotonic() + (desired.grace if desired.port is None else desired.port_wait)
    while True:
        active = run_command(
            ["systemctl", "is-active", "--quiet", desired.name],
            shell=False,
            cwd=None,
            env=desired.env,
            timeout=30,
        )
        if active.status != 0:
            journal = run_command(
                ["journalctl", "-u", desired.name, "-n", str(supervise.TAIL_LINES), "--no-pager"],
                shell=False,
                cwd=None,
                env=desired.env,
                timeout=30,
            )
            raise supervise.ServiceFailed(
                f"unit {desired.name} is not active after its start; last lines:\n"
                f"{journal.output.strip()[-4000:]}"
            )
        if desired.port is not None:
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", desired.port)) == 0:
                    return
        if time.monotonic() >= deadline:
            if desired.port is None:
                return
            raise supervise.ServiceFailed(
                f"unit {desired.name} does not listen on port {desired.port} "
                f"{desired.port_wait:g} s after its start"
            )
        time.sleep(0.1)


def _systemctl(verb: str, desired: ServiceDesired) -> None:
    result = run_command(
        ["systemctl", verb, desired.name], shell=False, cwd=None, env=desired.env, timeout=120
    )
    if result.status != 0:
        raise CommandFailed(
            f"systemctl {verb} {desired.name} exited with status {result.status}: "
            f"{result.output.strip()[-2000:]}"
        )
