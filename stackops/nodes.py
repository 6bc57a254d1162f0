"""The sandbox's node host: EC2 instances as folders on this host, and what AWS does to them.

With the local executor every EC2 instance is a node folder
`<state folder>/nodes/<ec2 instance id>/`, its services in one process group
held by the node's keeper (`stackops.converge.keeper`). The sandbox plays AWS:
a stopped or terminated machine has no processes, so every place that stops
or terminates an EC2 instance in the sandbox calls `end_node` (stop-instance
--force, delete-instance, the dispatcher's stop and its handling of an
instance found stopped, auto-healing replacing one, and the watcher when it
sees one stopped or terminated). On a real account there is no such folder
on this host and `end_node` does nothing.

Ports: nodes share the host, so each instance has a port offset of its own,
added to the ports its services declare. Offsets are unique across all the
stacks of one sandbox (an atomic counter in the state table), and start at a
block derived from the sandbox's own port, so two sandboxes on one machine
hand out different ports: a sandbox on port P uses offsets
`(P mod 24) * 1000 + 10 * n`, n = 1, 2, ... (99 instances per sandbox before
its block runs into the next one; ports stay below 32768, out of Linux's
ephemeral range, for services declared below 8000). A running sandbox holds
its block (`hold_port_block`, a lock the kernel releases when the server
process ends however it ends), so a second sandbox whose port falls in the
same block is refused instead of handing out the same ports.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

from stackops import processes
from stackops.config import LOOPBACK_HOSTS, Target, state_home
from stackops.converge.keeper import keeper_folder, read_keeper
from stackops.converge.supervise import process_alive, read_pid_file

PORT_STEP = 10  # between two nodes of one sandbox: room for a few ports per node
PORT_BLOCKS = 24  # sandboxes on ports that differ modulo this never share offsets
PORT_BLOCK_SIZE = 1000
RUN_FOLDER = "/var/run/stackops"  # node path of pid files: a stopped machine loses them
DOWN_STATES = frozenset({"stopped", "terminated"})


def local_nodes_root() -> Path:
    """Where this host keeps sandbox nodes: `<state folder>/nodes`."""
    return state_home() / "nodes"


def node_root(nodes_root: Path, ec2_instance_id: str) -> Path:
    """The folder of one node (the EC2 instance's root `/`)."""
    if not ec2_instance_id or "/" in ec2_instance_id or ec2_instance_id in (".", ".."):
        raise ValueError(f"not an EC2 instance id: {ec2_instance_id!r}")
    return nodes_root / ec2_instance_id


def end_node(nodes_root: Path | None, ec2_instance_id: str | None, *, grace: float = 5.0) -> int:
    """End every process of a node, as a stopped machine has none; returns how many.

    The keeper's group and each service its pid files name (and what they started)
    get SIGTERM, then SIGKILL after `grace` seconds; the node's pid files go, as a
    machine's /var/run does. Nothing happens when this host has no such node.
    """
    if nodes_root is None or not ec2_instance_id:
        return 0
    root = node_root(nodes_root, ec2_instance_id)
    run = root / RUN_FOLDER.lstrip("/")
    if not run.is_dir():
        return 0
    group, known = _node_processes(root, run)
    ended = processes.end_processes(group, known, grace=grace) if group or known else 0
    _forget(run)
    return ended


def end_nodes(nodes_root: Path, *, grace: float = 5.0) -> int:
    """End the processes of every node under `nodes_root` (the sandbox goes down)."""
    if not nodes_root.is_dir():
        return 0
    return sum(end_node(nodes_root, child.name, grace=grace) for child in nodes_root.iterdir())


def end_down_nodes(nodes_root: Path, states: Iterable[tuple[str, str]]) -> list[str]:
    """End the nodes of the EC2 instances seen stopped or terminated; returns their ids.

    `states` are (ec2 instance id, state) pairs, as the watcher sees them.
    """
    ended = []
    for ec2_instance_id, state in states:
        if state in DOWN_STATES and end_node(nodes_root, ec2_instance_id):
            ended.append(ec2_instance_id)
    return ended


def _node_processes(root: Path, run: Path) -> tuple[int | None, dict[int, int]]:
    """The keeper's group (None when it is gone) and the live processes the pid files name."""
    group: int | None = None
    known: dict[int, int] = {}
    keeper = read_keeper(keeper_folder(root))
    if keeper is not None:
        pid, start = keeper
        if process_alive(pid, start):
            group = pid
            known[pid] = start or 0
        elif not process_alive(pid, None):
            group = pid  # the keeper died; its group lives on while a service does
    for pid_file in run.glob("*.pid"):
        record = read_pid_file(pid_file)
        if record is not None and record.start is not None and process_alive(*record[:2]):
            known[record.pid] = record.start
    return group, known


def _forget(run: Path) -> None:
    """Remove the node's pid files and keeper files, keeping the folder itself."""
    for entry in run.iterdir():
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


# -- ports --------------------------------------------------------------------------
def port_block(endpoint_url: str | None) -> int:
    """The first port offset of a sandbox (or another loopback endpoint) on its port;
    0 for a remote endpoint or an AWS account, where nodes do not share a host."""
    if not endpoint_url:
        return 0
    parsed = urlparse(endpoint_url)
    if parsed.hostname not in LOOPBACK_HOSTS:
        return 0
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return (port % PORT_BLOCKS) * PORT_BLOCK_SIZE


def _block_lock_path(port: int) -> Path:
    return Path(tempfile.gettempdir()) / f"stackops-port-block-{port % PORT_BLOCKS}.lock"


def hold_port_block(port: int) -> int | None:
    """Take the node port block of a sandbox on `port` for as long as this process lives:
    the lock's file descriptor, or None when another running sandbox holds the block."""
    fd = os.open(_block_lock_path(port), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()} {port}\n".encode())
    return fd


def port_block_free(port: int) -> bool:
    """True when no running sandbox holds the node port block of `port`."""
    fd = hold_port_block(port)
    if fd is None:
        return False
    os.close(fd)
    return True


def port_block_holder(port: int) -> str:
    """Who holds `port`'s block, as its lock file says ("pid P, port N"), for messages."""
    try:
        pid, held = _block_lock_path(port).read_text().split()
    except (OSError, ValueError):
        return "another sandbox"
    return f"the sandbox on port {held} (pid {pid})"


def port_offset(block: int, number: int) -> int:
    """The port offset of the `number`th instance (1, 2, ...) of a sandbox."""
    return block + PORT_STEP * number


# -- what a node's processes see ---------------------------------------------------------
def node_aws_environment(target: Target) -> dict[str, str]:
    """The AWS access of a node's processes (the agent and what it starts) on this host:
    the target's endpoint and region, with the sandbox's fake credentials on a loopback
    endpoint, as an instance role would give on AWS; never the dispatcher's credentials.
    So an s3:// app source is fetched from the sandbox, not from the public S3."""
    env = {"AWS_REGION": target.region, "AWS_DEFAULT_REGION": target.region}
    if target.endpoint_url:
        env["AWS_ENDPOINT_URL"] = target.endpoint_url
        if target.is_local:
            from stackops.aws.session import FAKE_CREDENTIALS

            env["AWS_ACCESS_KEY_ID"] = FAKE_CREDENTIALS["aws_access_key_id"]
            env["AWS_SECRET_ACCESS_KEY"] = FAKE_CREDENTIALS["aws_secret_access_key"]
    return env
