"""The sandbox's node host: a node's processes end with its EC2 instance; ports per sandbox."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from stackops.converge import run_recipes
from stackops.converge.supervise import process_alive
from stackops.nodes import (
    end_down_nodes,
    end_node,
    end_nodes,
    port_block,
    port_offset,
)
from stackops.sandbox import stop_sandbox

SLEEPER = "import time\nwhile True: time.sleep(0.05)\n"


def start_services(nodes: Path, ec2_id: str, tmp_path: Path, *names: str) -> dict[str, int]:
    """Start `names` as services on node `ec2_id`; their pids, and the keeper's as 'keeper'."""
    books = tmp_path / "books" / "svc"
    books.mkdir(parents=True, exist_ok=True)
    lines = [
        f"    run.service({name!r}, command=[{sys.executable!r}, '-c', {SLEEPER!r}])"
        for name in names
    ]
    (books / "default.py").write_text("def recipe(run):\n" + "\n".join(lines) + "\n")
    root = nodes / ec2_id
    root.mkdir(parents=True, exist_ok=True)
    report = run_recipes(["svc"], {}, root, [books.parent])
    assert report.ok, report.results
    run = root / "var/run/stackops"
    pids = {name: json.loads((run / f"{name}.pid").read_text())["pid"] for name in names}
    pids["keeper"] = json.loads((run / "keeper/keeper.pid").read_text())["pid"]
    return pids


@pytest.fixture
def nodes(tmp_path: Path):
    folder = tmp_path / "nodes"
    folder.mkdir()
    yield folder
    end_nodes(folder, grace=0.5)


def test_end_node_ends_the_keeper_and_every_service_and_forgets_the_pid_files(nodes, tmp_path):
    pids = start_services(nodes, "i-0aaa", tmp_path, "web", "worker")
    other = start_services(nodes, "i-0bbb", tmp_path, "web")
    assert all(process_alive(pid, None) for pid in pids.values())

    assert end_node(nodes, "i-0aaa") == 3
    assert not any(process_alive(pid, None) for pid in pids.values())
    assert list((nodes / "i-0aaa/var/run/stackops").iterdir()) == []
    # The other node is another machine: untouched.
    assert all(process_alive(pid, None) for pid in other.values())
    assert end_node(nodes, "i-0aaa") == 0  # nothing left
    assert end_node(nodes, "i-0nothere") == 0
    assert end_node(None, "i-0bbb") == 0  # no nodes on this host (the ssm executor)


def test_only_stopped_or_terminated_instances_lose_their_processes(nodes, tmp_path):
    pids = {
        ec2: start_services(nodes, ec2, tmp_path, "web")
        for ec2 in ("i-0run", "i-0stop", "i-0term", "i-0going")
    }
    ended = end_down_nodes(
        nodes,
        [
            ("i-0run", "running"),
            ("i-0stop", "stopped"),
            ("i-0term", "terminated"),
            ("i-0going", "stopping"),
        ],
    )
    assert ended == ["i-0stop", "i-0term"]
    alive = {ec2: process_alive(p["web"], None) for ec2, p in pids.items()}
    assert alive == {"i-0run": True, "i-0stop": False, "i-0term": False, "i-0going": True}


def test_sandbox_down_ends_every_node(tmp_path):
    home = tmp_path / "home"
    pids = start_services(home / "nodes", "i-0aaa", tmp_path, "web")
    assert stop_sandbox(home) is False  # no server ran, its nodes still go
    assert not any(process_alive(pid, None) for pid in pids.values())


def test_a_keeper_that_died_leaves_no_service_behind(nodes, tmp_path):
    import os
    import signal

    pids = start_services(nodes, "i-0aaa", tmp_path, "web")
    os.kill(pids["keeper"], signal.SIGKILL)
    assert end_node(nodes, "i-0aaa") >= 1
    assert not process_alive(pids["web"], None)


def test_sandbox_ports_derive_from_the_sandbox_port():
    default, next_door = port_block("http://127.0.0.1:4566"), port_block("http://127.0.0.1:4567")
    assert default != next_door
    assert {port_offset(default, n) for n in range(1, 100)}.isdisjoint(
        port_offset(next_door, n) for n in range(1, 100)
    )
    assert port_block("http://localhost:4566") == default
    assert port_block(None) == 0  # an AWS account: nodes are machines of their own
    assert port_block("https://ec2.example.com:4566") == 0  # not on this host
    assert port_offset(0, 1) == 10 and port_offset(0, 2) == 20
    # A service declared on 8000 stays below Linux's ephemeral ports (32768) on any sandbox.
    highest = max(port_block(f"http://127.0.0.1:{p}") for p in range(1024, 65536))
    assert 8000 + port_offset(highest, 99) < 32768


def test_a_free_port_can_be_chosen_in_a_port_block():
    from stackops.nodes import PORT_BLOCKS
    from stackops.sandbox import find_free_port

    for block in (0, 13, 23):
        assert find_free_port(port_block=block) % PORT_BLOCKS == block
