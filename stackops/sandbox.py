"""The embedded AWS: a moto server run as a detached background process on loopback.

`start_sandbox` spawns `python -m stackops.sandbox serve HOST PORT HOME` in its own session,
records it with `config.SandboxInfo` in the state folder and waits until it answers;
`stop_sandbox` ends it. moto is imported only in that child process, never here.
The server plays the instance side of SSM too (stackops.sandbox_ssm), on the node
folders under HOME.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackops.config import DEFAULT_REGION, SANDBOX_HOST, SANDBOX_PORT, SandboxInfo
from stackops.errors import Conflict, StackopsError
from stackops.nodes import PORT_BLOCKS, port_block_free, port_block_holder

LOG_NAME = "sandbox.log"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
_RUNNER = "stackops.sandbox"


@dataclass(frozen=True)
class SandboxStatus:
    """Whether this state folder's sandbox runs, and where."""

    running: bool
    endpoint_url: str | None
    pid: int | None
    log: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "Status": "running" if self.running else "stopped",
            "Endpoint": self.endpoint_url,
            "Pid": self.pid,
            "Log": str(self.log),
        }


def log_path(home: Path) -> Path:
    """Where the sandbox server writes its output."""
    return home / LOG_NAME


def sandbox_status(home: Path) -> SandboxStatus:
    """The sandbox recorded in `home`, running only if its process is alive and ours."""
    info = SandboxInfo.read(home)
    if info is None or not _is_runner(info.pid):
        return SandboxStatus(False, None, None, log_path(home))
    return SandboxStatus(True, info.endpoint_url, info.pid, log_path(home))


def start_sandbox(
    home: Path,
    port: int = SANDBOX_PORT,
    *,
    region: str = DEFAULT_REGION,
    host: str = SANDBOX_HOST,
    timeout: float = START_TIMEOUT,
) -> SandboxInfo:
    """Start the sandbox of `home` unless it already runs; return what was recorded.

    Raises Conflict when the port is taken by another process, StackopsError when the
    server does not answer within `timeout` seconds (the log's tail is in the message).
    """
    running = SandboxInfo.read(home)
    if running is not None and _is_runner(running.pid):
        return running
    if not port_is_free(host, port):
        raise Conflict(
            f"cannot start the sandbox: port {port} on {host} is already in use by another process",
            hint="stop that process (LocalStack?) or choose another port: "
            "'stackops sandbox up --port N'",
        )
    if not port_block_free(port):
        raise Conflict(
            f"cannot start the sandbox on port {port}: its nodes would share service ports "
            f"with {port_block_holder(port)} (ports {PORT_BLOCKS} apart share a block)",
            hint=f"choose a port in another block, like 'stackops sandbox up --port {port + 1}'",
        )
    home.mkdir(parents=True, exist_ok=True)
    SandboxInfo.path(home).unlink(missing_ok=True)
    log = log_path(home)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", _RUNNER, "serve", host, str(port), str(home)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    endpoint = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout
    while not _answers(endpoint):
        if proc.poll() is not None or time.monotonic() > deadline:
            _terminate(proc.pid)
            why = "exited" if proc.returncode is not None else f"did not answer in {timeout:g} s"
            raise StackopsError(
                f"the sandbox server {why} on {endpoint}; end of {log}:\n{_tail(log)}"
            )
        time.sleep(0.05)
    info = SandboxInfo(proc.pid, endpoint, region)
    info.write(home)
    # The server outlives this process; forget the handle without a "still running" warning.
    proc.returncode = 0
    return info


def stop_sandbox(home: Path, *, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the sandbox of `home` (SIGTERM, then SIGKILL); True if one was running.

    Its EC2 instances go with it, so their nodes' processes end too."""
    from stackops.nodes import end_nodes

    status = sandbox_status(home)
    if status.pid is not None:
        _terminate(status.pid, timeout)
    SandboxInfo.path(home).unlink(missing_ok=True)
    end_nodes(home / "nodes")
    return status.running


def reset_sandbox(endpoint_url: str) -> None:
    """Clear every resource of a running moto server (POST /moto-api/reset)."""
    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=5):
        pass


def find_free_port(host: str = SANDBOX_HOST, *, port_block: int | None = None) -> int:
    """A port nobody listens on now (tests use one each, never 4566).

    It is in a node port block no running sandbox holds (`stackops.nodes`), the block
    `port_block` when that one is free.
    """
    import random

    blocks = [port_block % PORT_BLOCKS] if port_block is not None else []
    blocks += random.sample(range(PORT_BLOCKS), PORT_BLOCKS)  # then any block no sandbox holds
    for block in blocks:
        first = 33000 + random.randrange(1000) * PORT_BLOCKS + block
        for port in range(first, min(first + 20 * PORT_BLOCKS, 65000), PORT_BLOCKS):
            if not port_block_free(port):
                break
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind((host, port))
                except OSError:
                    continue
            return port
    raise StackopsError("found no free port in a node port block no sandbox holds")


def port_is_free(host: str, port: int) -> bool:
    """True when `host:port` can be bound (as the server will, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


# -- helpers -------------------------------------------------------------------
def _answers(endpoint: str) -> bool:
    """True when an HTTP server answers on `endpoint` (any status counts)."""
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _is_runner(pid: int) -> bool:
    """False when `pid` is known to be some other program (a reused pid); True if unsure."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return _RUNNER.encode() in cmdline


def _gone(pid: int) -> bool:
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)  # our own child: reap it, or it stays a zombie
        if reaped == pid:
            return True
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM `pid`, wait up to `timeout`, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _gone(pid):
                return
            time.sleep(0.05)
    raise StackopsError(f"the sandbox server (pid {pid}) did not stop")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- the child process -----------------------------------------------------------
def _serve(host: str, port: int, home: Path | None = None) -> None:
    """Run a moto server on host:port until SIGTERM/SIGINT; requests are not logged.

    With `home`, the sandbox SSM agent runs the commands sent to its nodes."""
    import logging

    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from stackops.nodes import hold_port_block
    from stackops.sandbox_ssm import SandboxSsmAgent

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    block = hold_port_block(port)  # held until this process ends, however it ends
    if block is None:
        sys.exit(
            f"stackops sandbox: port {port}'s node port block is held by {port_block_holder(port)}"
        )
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)

    def _stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    agent = None
    if home is not None:
        agent = SandboxSsmAgent(home, f"http://{host}:{port}")
        agent.install()
    print(f"stackops sandbox: moto server on http://{host}:{port} (pid {os.getpid()})", flush=True)
    if agent is not None:
        print(f"stackops sandbox: SSM agent on the nodes in {home / 'nodes'}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if agent is not None:
            agent.stop()
        print("stackops sandbox: stopped", flush=True)


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or sys.argv[1] != "serve":
        sys.exit("usage: python -m stackops.sandbox serve HOST PORT [HOME]")
    _serve(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]) if len(sys.argv) == 5 else None)
