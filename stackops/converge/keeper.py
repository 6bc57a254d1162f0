"""The node keeper: one small process per node whose process group holds the node's services.

A sandbox runs many nodes on one host, each a folder. A node's services are
started by its keeper, a process that leads a session and a process group of
its own: the services it starts stay in that group, so the node's processes
are one group, ended together when the node's EC2 instance stops or terminates
(`stackops.nodes.end_node`), as a stopped machine has no processes. The keeper
reaps the services that end and remembers how each ended, so a service that
dies at start is reported with its exit status.

The keeper is started on the first service start of a node, through a launcher
that exits at once (so it is no run's child and leaves no zombie). It listens
on a Unix socket; one request per connection, one JSON line each way:

    {"op": "spawn", "argv": [...], "cwd": "...", "env": {...}, "log": "..."} -> {"pid": 123}
    {"op": "exit", "pid": 123}  -> {"exit": "exited with status 1"} (null: running or unknown)
    {"op": "ping"}              -> {"pid": <the keeper's pid>}

Its files, under the node's /var/run/stackops/keeper/: keeper.pid (JSON pid and
start time), keeper.sock, keeper.log, keeper.lock. On a real instance (root /)
the same keeper holds the instance's services.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from stackops.errors import StackopsError

KEEPER_FOLDER = "/var/run/stackops/keeper"  # node path
PID_FILE = "keeper.pid"
SOCKET = "keeper.sock"
LOG = "keeper.log"
START_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0
MAX_SOCKET_PATH = 100  # sun_path is 104-108 bytes; longer paths go through /proc/self/fd

# The keeper itself: run with `python -I -S -c KEEPER <folder>`, standard library only.
KEEPER = r"""
import json, os, signal, socket, subprocess, sys
os.chdir(sys.argv[1])
exits = {}

def describe(status):
    if os.WIFSIGNALED(status):
        return "killed by signal %d" % os.WTERMSIG(status)
    return "exited with status %d" % os.WEXITSTATUS(status)

def reap(*_):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        exits[pid] = describe(status)
        while len(exits) > 512:
            exits.pop(next(iter(exits)))

def spawn(request):
    with open(request["log"], "ab") as log:
        proc = subprocess.Popen(
            request["argv"], cwd=request.get("cwd"), env=request["env"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, close_fds=True,
        )
    proc.returncode = 0  # reaped by `reap`, never by Popen
    return {"pid": proc.pid}

def handle(request):
    op = request.get("op")
    if op == "spawn":
        try:
            return spawn(request)
        except OSError as exc:
            return {"error": str(exc)}
    if op == "exit":
        reap()
        return {"exit": exits.get(request.get("pid"))}
    if op == "ping":
        return {"pid": os.getpid()}
    return {"error": "unknown request %r" % (op,)}

signal.signal(signal.SIGCHLD, reap)
try:
    os.unlink("keeper.sock")
except FileNotFoundError:
    pass
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind("keeper.sock")
os.chmod("keeper.sock", 0o600)
server.listen(64)
sys.stdout.write("ready\n")
sys.stdout.flush()
os.dup2(2, 1)
while True:
    conn, _ = server.accept()
    with conn:
        try:
            conn.settimeout(30)
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            reply = handle(json.loads(data))
        except Exception as exc:
            reply = {"error": "%s: %s" % (type(exc).__name__, exc)}
        try:
            conn.sendall(json.dumps(reply).encode() + b"\n")
        except OSError:
            pass
"""

# Starts the keeper in a session of its own, waits for it to listen, prints its pid, exits.
LAUNCHER = r"""
import json, os, subprocess, sys
folder, code, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(os.path.join(folder, "keeper.log"), "ab") as log:
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", code, folder], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=log, start_new_session=True, close_fds=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
import select
ready, _, _ = select.select([proc.stdout], [], [], timeout)
line = proc.stdout.readline() if ready else b""
if line.strip() != b"ready":
    proc.kill()
    sys.stdout.write(json.dumps({"error": "the keeper did not start (see keeper.log)"}))
    sys.exit(1)
sys.stdout.write(json.dumps({"pid": proc.pid}))
"""


class KeeperFailed(StackopsError):
    """The node keeper could not be started or asked."""


def keeper_folder(root_host_path: Path) -> Path:
    """The host folder of a node's keeper files, under the node root."""
    return Path(root_host_path) / KEEPER_FOLDER.lstrip("/")


def read_keeper(folder: Path) -> tuple[int, int | None] | None:
    """(pid, start time) of the keeper recorded in `folder`, None when none is."""
    try:
        data = json.loads((folder / PID_FILE).read_bytes())
        return int(data["pid"]), data.get("start")
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_keeper(folder: Path) -> int | None:
    """The pid of the live keeper recorded in `folder`, None when it does not run."""
    from stackops.converge.supervise import process_alive

    record = read_keeper(folder)
    if record is None or not process_alive(*record):
        return None
    return record[0]


def ensure_keeper(folder: Path) -> int:
    """The pid of the node's keeper, started if it does not run (one start at a time)."""
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / "keeper.lock"):
        pid = running_keeper(folder)
        if pid is not None:
            with contextlib.suppress(KeeperFailed):
                if ask(folder, {"op": "ping"}, timeout=5).get("pid") == pid:
                    return pid
            _kill(pid)  # alive but deaf: replace it (end_node still finds its services)
        return _start(folder)


def spawn(
    folder: Path,
    argv: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str],
    log: Path,
) -> int:
    """Start `argv` in the node's process group (starting the keeper if needed); its pid."""
    ensure_keeper(folder)
    request = {
        "op": "spawn",
        "argv": list(argv),
        "cwd": str(cwd) if cwd else None,
        "env": dict(env),
        "log": str(log),
    }
    answer = ask(folder, request)
    if "pid" not in answer:
        raise KeeperFailed(f"cannot start {argv[0]}: {answer.get('error') or 'no answer'}")
    return int(answer["pid"])


def exit_status(folder: Path, pid: int) -> str | None:
    """How a service the keeper started ended ("exited with status 1"); None if unknown."""
    try:
        found = ask(folder, {"op": "exit", "pid": pid}, timeout=5).get("exit")
    except KeeperFailed:
        return None
    return str(found) if found else None


def ask(folder: Path, request: dict[str, Any], *, timeout: float = REQUEST_TIMEOUT) -> dict:
    """Send one request to the keeper of `folder` and return its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            _connect(sock, folder / SOCKET)
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError as exc:
            raise KeeperFailed(f"the node keeper in {folder} did not answer: {exc}") from None
    try:
        answer = json.loads(data)
    except ValueError:
        raise KeeperFailed(f"the node keeper in {folder} answered {data[:200]!r}") from None
    if not isinstance(answer, dict):
        raise KeeperFailed(f"the node keeper in {folder} answered {answer!r}")
    return answer


def _connect(sock: socket.socket, path: Path) -> None:
    """Connect to a Unix socket, through /proc/self/fd when its path is too long."""
    if len(os.fsencode(path)) < MAX_SOCKET_PATH or not os.path.isdir("/proc/self/fd"):
        sock.connect(str(path))
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        sock.connect(f"/proc/self/fd/{fd}/{path.name}")
    finally:
        os.close(fd)


def _start(folder: Path) -> int:
    from stackops.converge.filesystem import write_atomically
    from stackops.converge.supervise import process_start_time

    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", LAUNCHER, str(folder), KEEPER, str(START_TIMEOUT)],
        capture_output=True,
        timeout=START_TIMEOUT + 10,
        check=False,
    )
    try:
        answer = json.loads(done.stdout or b"{}")
    except ValueError:
        answer = {}
    if "pid" not in answer:
        why = answer.get("error") or done.stderr.decode("utf-8", "replace").strip()
        raise KeeperFailed(f"cannot start the node keeper in {folder}: {why or 'no answer'}")
    pid = int(answer["pid"])
    body = json.dumps({"pid": pid, "start": process_start_time(pid)}).encode() + b"\n"
    write_atomically(folder / PID_FILE, body, 0o644)
    return pid


def _kill(pid: int) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
