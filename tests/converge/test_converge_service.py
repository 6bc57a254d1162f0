"""The service resource with real (tiny) processes; every test stops what it started."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from stackops.converge import run_recipes
from stackops.converge.supervise import listens, process_alive

pytestmark = pytest.mark.usefixtures("stop_services")

# A service that says hello on SIGHUP and writes its pid where asked.
SLEEPER = (
    "import os, signal, sys, time\n"
    "def hup(*_):\n"
    "    open('hups', 'a').write('hup\\n')\n"
    "signal.signal(signal.SIGHUP, hup)\n"
    "print('started', os.getpid(), flush=True)\n"
    "while True: time.sleep(0.05)\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_of(root: Path, name: str) -> int:
    return json.loads((root / f"var/run/stackops/{name}.pid").read_text())["pid"]


def converge(cookbooks: Any, root: Path, body: str, node: dict | None = None, **kw: Any) -> Any:
    cookbooks.recipe("svc::default", body)
    report = run_recipes(["svc"], node or {}, root, [cookbooks.path], **kw)
    return report


def sleeper(**extra: str) -> str:
    options = ", ".join(f"{k}={v}" for k, v in extra.items())
    return (
        f'run.directory("/srv/app")\n'
        f'run.service("app", command=[{sys.executable!r}, "-c", {SLEEPER!r}], cwd="/srv/app"'
        + (f", {options}" if options else "")
        + ")"
    )


def test_start_is_idempotent_and_stop_stops(cookbooks: Any, root: Path) -> None:
    first = converge(cookbooks, root, sleeper())
    assert first.ok, first.results
    assert first.results[1].summary == (
        "start service app (not running), then check it still runs after 0.5 s"
    )
    pid = pid_of(root, "app")
    assert process_alive(pid, None)
    assert "started" in (root / "var/log/stackops/app.log").read_text()

    again = converge(cookbooks, root, sleeper())
    assert [r.status for r in again.results] == ["unchanged", "unchanged"]
    assert pid_of(root, "app") == pid

    stop = converge(cookbooks, root, sleeper(action='"stop"'))
    assert stop.results[1].status == "changed"
    assert not process_alive(pid, None)
    assert not (root / "var/run/stackops/app.pid").exists()
    assert converge(cookbooks, root, sleeper(action='"stop"')).results[1].status == "unchanged"


def test_reload_sends_the_signal_and_restart_replaces_the_process(
    cookbooks: Any, root: Path
) -> None:
    converge(cookbooks, root, sleeper(reload_signal='"HUP"'))
    pid = pid_of(root, "app")
    report = converge(cookbooks, root, sleeper(reload_signal='"HUP"', action='"reload"'))
    assert report.results[1].summary.startswith("reload service app")
    deadline = time.monotonic() + 5
    while not (root / "srv/app/hups").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (root / "srv/app/hups").read_text() == "hup\n"
    assert pid_of(root, "app") == pid

    restarted = converge(cookbooks, root, sleeper(action='"restart"'))
    assert restarted.results[1].summary.startswith("restart service app")
    assert pid_of(root, "app") != pid
    assert not process_alive(pid, None)


def test_subscribed_service_restarts_once_when_its_config_changes(
    cookbooks: Any, root: Path
) -> None:
    body = (
        'conf = run.file("/srv/app/app.conf", content=run.node["v"])\n'
        f'run.service("app", command=[{sys.executable!r}, "-c", {SLEEPER!r}], '
        'cwd="/srv/app", action="restart", subscribes=[conf])'
    )
    first = converge(cookbooks, root, body, {"v": "1"})
    assert first.ok, first.results
    # Started in its own turn after the change: the delayed restart is not needed.
    assert [n.summary.startswith("not needed") for n in first.notifications] == [True]
    pid = pid_of(root, "app")

    unchanged = converge(cookbooks, root, body, {"v": "1"})
    assert [r.status for r in unchanged.results] == ["unchanged", "unchanged"]
    assert unchanged.notifications == ()
    assert pid_of(root, "app") == pid

    changed = converge(cookbooks, root, body, {"v": "2"})
    (note,) = changed.notifications
    assert (note.resource, note.action, note.status) == ("service[app]", "restart", "changed")
    assert pid_of(root, "app") != pid


def test_a_changed_command_restarts_a_running_service(cookbooks: Any, root: Path) -> None:
    converge(cookbooks, root, sleeper())
    pid = pid_of(root, "app")
    report = converge(cookbooks, root, sleeper(env='{"MODE": "b"}'))
    assert "its command, cwd or env changed" in report.results[1].summary
    assert pid_of(root, "app") != pid


def test_a_command_that_exits_at_once_fails_with_its_log(cookbooks: Any, root: Path) -> None:
    body = (
        f'run.service("bad", command=[{sys.executable!r}, "-c", '
        "\"import sys; print('bad config'); sys.exit(3)\"], start_grace=2)"
    )
    report = converge(cookbooks, root, body)
    assert not report.ok
    error = report.results[0].error or ""
    assert "service bad exited with status 3" in error and "bad config" in error
    assert not (root / "var/run/stackops/bad.pid").exists()


def test_missing_program_fails_clearly(cookbooks: Any, root: Path) -> None:
    report = converge(cookbooks, root, 'run.service("x", command=["/nonexistent/prog"])')
    assert "cannot start /nonexistent/prog" in (report.results[0].error or "")


def test_http_server_service_and_shutdown_recipe(cookbooks: Any, root: Path) -> None:
    port = free_port()
    body = (
        'site = run.file("/srv/site/index.html", content="hello")\n'
        f'run.service("site", command=[{sys.executable!r}, "-m", "http.server", "{port}", '
        '"--bind", "127.0.0.1"], cwd="/srv/site", requires=[site], start_grace=0.2)'
    )
    assert converge(cookbooks, root, body).ok
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                assert response.read() == b"hello"
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    pid = pid_of(root, "site")
    report = run_recipes(["stackops::shutdown"], {}, root, [cookbooks.path])
    assert [(r.resource, r.status) for r in report.results] == [("service[site]", "changed")]
    assert not process_alive(pid, None)


def test_dry_run_starts_nothing(cookbooks: Any, root: Path, tree: Any) -> None:
    report = converge(cookbooks, root, sleeper(), dry_run=True)
    assert report.results[1].summary.startswith("start service app (not running)")
    assert tree(root) == {}


def test_systemd_provider_needs_the_host_root(cookbooks: Any, root: Path) -> None:
    report = converge(cookbooks, root, 'run.service("nginx", provider="systemd")')
    assert "needs the run's root to be /" in (report.results[0].error or "")
    assert os.listdir(root) == []


# -- verified starts, and the node's one process group ---------------------------------
def http_server(name: str, port: int, **extra: str) -> str:
    options = "".join(f", {k}={v}" for k, v in extra.items())
    return (
        f'run.directory("/srv/{name}")\n'
        f'run.service("{name}", command=[{sys.executable!r}, "-m", "http.server", "{port}", '
        f'"--bind", "127.0.0.1"], cwd="/srv/{name}", port={port}{options})'
    )


def test_a_service_with_a_port_is_up_only_once_it_listens_there(cookbooks: Any, root: Path) -> None:
    port = free_port()
    report = converge(cookbooks, root, http_server("site", port))
    assert report.ok, report.results
    assert report.results[1].summary.endswith(f"then check it listens on port {port}")
    # Checked up, so it answers at once: no retry loop needed here.
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        assert response.status == 200


def test_a_port_held_by_a_stale_process_fails_the_start_and_names_the_holder(
    cookbooks: Any, root: Path, tmp_path: Path
) -> None:
    port = free_port()
    stale = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not listens(stale.pid, port):
            assert time.monotonic() < deadline, "the stale server did not start"
            time.sleep(0.02)
        report = converge(cookbooks, root, http_server("site", port))
        assert not report.ok
        error = report.results[1].error or ""
        assert "service site exited with status 1" in error
        assert f"port {port} is held by pid {stale.pid}" in error
        assert "Address already in use" in error  # the service's own last lines
        assert not (root / "var/run/stackops/site.pid").exists()
    finally:
        stale.kill()
        stale.wait()


def test_a_service_that_never_listens_on_its_port_fails_and_is_stopped(
    cookbooks: Any, root: Path
) -> None:
    port = free_port()
    body = (
        'run.directory("/srv/app")\n'
        f'run.service("app", command=[{sys.executable!r}, "-c", {SLEEPER!r}], cwd="/srv/app", '
        f"port={port}, port_wait=0.5)"
    )
    report = converge(cookbooks, root, body)
    assert not report.ok
    error = report.results[1].error or ""
    assert f"does not listen on port {port} 0.5 s after it started" in error
    assert "stopped it" in error and "started" in error  # the sleeper's first line
    assert not (root / "var/run/stackops/app.pid").exists()


def test_a_service_that_dies_within_the_settle_fails(cookbooks: Any, root: Path) -> None:
    body = (
        f'run.service("flaky", command=[{sys.executable!r}, "-c", '
        "\"import time; print('warming up', flush=True); time.sleep(0.3); raise SystemExit(4)\"], "
        "start_grace=3)"
    )
    report = converge(cookbooks, root, body)
    assert not report.ok
    error = report.results[0].error or ""
    assert "service flaky exited with status 4" in error and "warming up" in error


def test_a_nodes_services_share_the_keepers_process_group(cookbooks: Any, root: Path) -> None:
    body = (
        'run.directory("/srv/app")\n'
        f'run.service("one", command=[{sys.executable!r}, "-c", {SLEEPER!r}], cwd="/srv/app")\n'
        f'run.service("two", command=[{sys.executable!r}, "-c", {SLEEPER!r}], cwd="/srv/app")'
    )
    assert converge(cookbooks, root, body).ok
    keeper = json.loads((root / "var/run/stackops/keeper/keeper.pid").read_text())["pid"]
    one, two = pid_of(root, "one"), pid_of(root, "two")
    assert os.getpgid(one) == os.getpgid(two) == keeper
    # Stopping one service leaves the other and the keeper running.
    stop_one = body.replace(
        'run.service("one", command', 'run.service("one", action="stop", command'
    )
    assert converge(cookbooks, root, stop_one).ok
    assert not process_alive(one, None)
    assert process_alive(two, None) and process_alive(keeper, None)


def test_a_node_root_with_a_long_path_still_reaches_its_keeper(
    cookbooks: Any, tmp_path: Path
) -> None:
    deep = tmp_path / ("n" * 60) / ("o" * 60) / "node"
    deep.mkdir(parents=True)
    assert len(str(deep / "var/run/stackops/keeper/keeper.sock")) > 108
    report = converge(cookbooks, deep, sleeper())
    assert report.ok, report.results
    assert process_alive(pid_of(deep, "app"), None)
