"""kill -9 of the dispatcher at seeded points of a rolling deployment, then restart and drain.

Seven sandbox instances (six in the deployment, a seventh started or stopped in each
trial so that configures run beside it) on a moto server shared over HTTP. Each trial
makes a new app version, asks for a rolling deployment of it (one instance a batch)
and the membership change, starts a dispatcher process, and kills its process group
with SIGKILL once a seeded number of command records have been taken up (observed by
polling, never by sleeping). Then time passes (the visibility timeout in use: see
`movable_sandbox`), a dispatcher is restarted and drains, and the trial counts what a
crash must never leave: instances half-switched, without a `current` or whose node
release disagrees with their record; commands pending or running; deployments
unfinished; nodes whose host list is not the stack's online set; events lost.

`make test` runs 2 trials (visibility 5 s); `make reliability` 20 with the default
visibility timeout (300 s) and 20 with 5 s.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stackops.lifecycle.sweeper import STAGING
from stackops.sandbox import _answers
from tests.helpers import ok_json, sandbox_port
from tests.lifecycle.conftest import ROOT, stop_services
from tests.reliability.figures import full_run, record
from tests.reliability.movable_sandbox import Shift, moved_datetime

HOSTS = [f"app{n}" for n in range(1, 7)]
SPARE = "app7"
STACK = """\
stack:
  name: trials
  custom_json: {web: {port_base: PORT_BASE}}
layers:
  - shortname: app
    type: custom
    custom_recipes: {setup: [web::setup], configure: [web::configure], deploy: [web::deploy]}
apps:
  - shortname: web
    app_source: {type: archive, url: ARCHIVE}
    layers: [app]
    health_check: {path: /health, port: PORT_BASE, retries: 5, interval: 0.2, timeout: 2}
instances:
"""
CHECK = "kill -9 trials"
SERVER = (sys.executable, "-m", "tests.reliability.movable_sandbox")
TARGETS = (
    "half-switched",
    "without current",
    "disagreeing",
    "unfinished",
    "left pending/running",
    "stale host lists",
    "lost",
)


def tarball(path: Path, version: int) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in {"index.html": f"web v{version}\n", "health": "ok\n"}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def wait_for(what: str, ready: Callable[[], Any], limit: float = 90.0) -> Any:
    """Poll `ready` until it answers truthy; a generous bound, never a timing assert."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if found := ready():
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what} after {limit:g} s")


@dataclass
class Fleet:
    """The sandbox, the stack and the processes a trial starts (all in groups we own)."""

    home: Path
    tmp: Path
    invoke: Any
    shift: Shift
    endpoint: str
    port_base: int
    stack_id: str = ""
    app_id: str = ""
    groups: list[int] = field(default_factory=list)

    def run(self, *args: str) -> Any:
        return ok_json(self.invoke(*args))

    def instances(self) -> dict[str, dict[str, Any]]:
        found = self.run("describe-instances", "--stack-id", self.stack_id)["Instances"]
        return {i["Hostname"]: i for i in found}

    def dispatcher(self, visibility: int) -> subprocess.Popen[bytes]:
        """A dispatcher process in its own process group."""
        proc = subprocess.Popen(
            [
                *(*SERVER, "stackops", str(self.shift.clock_file)),
                *("dispatch", "--executor", "local"),
                *("--visibility-timeout", str(visibility), "--sweep-every", "1"),
                *("--poll-wait", "1", "--workers", "4"),
            ],
            cwd=ROOT,
            env={**os.environ, "STACKOPS_HOME": str(self.home)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.tmp / "dispatcher.log").open("ab"),
            start_new_session=True,
        )
        self.groups.append(proc.pid)
        return proc

    def services(self) -> Any:
        from stackops.aws.session import AwsSession
        from stackops.config import Target
        from stackops.naming import ResourceNames
        from stackops.services import Services

        session = AwsSession(Target("sandbox", "us-east-1", endpoint_url=self.endpoint))
        names = ResourceNames("stackops")
        return Services(session, names)


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@pytest.fixture
def fleet(tmp_path: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    """Seven instances online on a movable sandbox; every process ended afterwards."""
    from stackops.config import SandboxInfo

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("STACKOPS_HOME", str(home))
    monkeypatch.chdir(ROOT)
    port = sandbox_port()  # its nodes serve on ports of this pytest worker's own
    clock_file = home / "clock-offset"
    server = subprocess.Popen(
        [*SERVER, "127.0.0.1", str(port), str(clock_file)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("ab"),
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    # Nodes serve on port_base + their offset: away from other sandboxes' 8000 + offset.
    port_base = random.Random().randrange(2000, 9000)
    # One clock for every party: this process's stackops, the dispatcher processes and
    # SQS all read the real time plus the seconds the trials moved it (never back).
    monkeypatch.setattr("stackops.services.datetime", moved_datetime(clock_file))
    fleet = Fleet(home, tmp_path, invoke, Shift(clock_file), endpoint, port_base)
    fleet.groups.append(server.pid)
    try:
        wait_for("the sandbox", lambda: server.poll() is not None or _answers(endpoint), 60)
        assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
        SandboxInfo(server.pid, endpoint, "us-east-1").write(home)
        fleet.run("bootstrap")
        stack = tmp_path / "trials.yaml"
        text = STACK.replace("PORT_BASE", str(fleet.port_base)).replace(
            "ARCHIVE", str(tarball(tmp_path / "v0.tgz", 0))
        )
        lines = "".join(
            f"  - {{hostname: {h}, layers: [app], instance_type: t3.micro}}\n"
            for h in [*HOSTS, SPARE]
        )
        stack.write_text(text + lines)
        fleet.stack_id = fleet.run("apply", "-f", str(stack))["StackId"]
        fleet.app_id = fleet.run("describe-apps", "--stack-id", fleet.stack_id)["Apps"][0]["AppId"]
        for inst in fleet.instances().values():
            fleet.run("start-instance", "--instance-id", inst["InstanceId"])
        fleet.run("watch", "--once")  # EC2 says `running` (the sandbox's watcher's part)
        booting = fleet.dispatcher(300)
        wait_for(
            "the fleet online",
            lambda: {i["Status"] for i in fleet.instances().values()} == {"online"},
        )
        kill_group(booting.pid)
        booting.wait()
        yield fleet
    finally:
        for pgid in fleet.groups:
            kill_group(pgid)
        server.wait(timeout=30)
        stop_services(home / "nodes")


# -- one trial -------------------------------------------------------------------------------
@dataclass
class Trial:
    seed: int
    visibility: int
    kill_after: int = 0
    figures: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def taken_up(svc: Any, instance_ids: list[str], since: str) -> int:
    """Commands created since `since` that a dispatcher has taken up (no longer pending)."""
    count = 0
    for instance_id in instance_ids:
        for command in svc.commands.for_instance(instance_id):
            if command.created_at >= since and command.status.value != "pending":
                count += 1
    return count


def run_trial(fleet: Fleet, trial: Trial) -> Trial:
    rng = random.Random(trial.seed)
    trial.kill_after = rng.randint(1, 9)
    svc = fleet.services()
    hosts = fleet.instances()
    ids = [h["InstanceId"] for h in hosts.values()]
    since = svc.now_precise()
    version = trial.seed + 1
    archive = tarball(fleet.tmp / f"v{version}.tgz", version)
    source = json.dumps({"Type": "archive", "Url": str(archive)})
    fleet.run("update-app", "--app-id", fleet.app_id, "--app-source", source)
    made = fleet.run(
        *("create-deployment", "--stack-id", fleet.stack_id, "--app-id", fleet.app_id),
        *("--command", '{"Name": "deploy"}', "--strategy", "rolling", "--batch-size", "1"),
        *("--instance-ids", *[hosts[h]["InstanceId"] for h in HOSTS]),
    )
    spare = hosts[SPARE]
    spare_goal = "stopped" if spare["Status"] == "online" else "online"
    verb = "stop-instance" if spare_goal == "stopped" else "start-instance"
    fleet.run(verb, "--instance-id", spare["InstanceId"])
    if verb == "start-instance":
        fleet.run("watch", "--once")

    worker = fleet.dispatcher(trial.visibility)
    wait_for(
        f"{trial.kill_after} commands taken up",
        lambda: worker.poll() is not None or taken_up(svc, ids, since) >= trial.kill_after,
    )
    kill_group(worker.pid)
    worker.wait()

    # Time passes: what the dead process held runs out; a new dispatcher drains.
    shift = fleet.shift
    shift.advance(trial.visibility + 2)
    restarted = restart(fleet, trial.visibility)
    drained = drain(fleet, restarted, made["DeploymentId"], ids, shift)
    trial.figures = count(fleet, restarted, made["DeploymentId"], spare_goal, trial, drained)
    return trial


def restart(fleet: Fleet, visibility: int) -> Any:
    from stackops.lifecycle.runtime import build_dispatcher

    return build_dispatcher(
        fleet.services(),
        executor="local",
        nodes_root=fleet.home / "nodes",
        workers=4,
        visibility_timeout=visibility,
        with_autoscaling=False,
        sweep_every_seconds=0.1,
    )


def drain(fleet: Fleet, dispatcher: Any, deployment_id: str, ids: list[str], shift: Shift) -> bool:
    """Rounds until nothing is left to do (bounded); time moves on while it waits."""
    svc = dispatcher.services
    quiet = 0
    for _ in range(60):
        outcome = dispatcher.poll()
        if outcome.received:
            quiet = 0
            continue
        visible, in_flight = depth(svc)
        busy = any(
            c.status.value in ("pending", "running")
            for i in ids
            for c in svc.commands.for_instance(i)
        )
        unfinished = svc.deployments.get(deployment_id).status.value == "running"
        if not (visible or in_flight or busy or unfinished or svc.inflight.all()):
            quiet += 1
            if quiet >= 2:
                return True
        shift.advance(6)  # a message sent back for later comes back (retry_busy_seconds 5)
        time.sleep(0.05)
    return False


def depth(svc: Any) -> tuple[int, int]:
    attributes = svc.queue.attributes()
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


UPSTREAM = re.compile(r"^upstream (\S+) ", re.MULTILINE)


def count(
    fleet: Fleet, dispatcher: Any, deployment_id: str, spare_goal: str, trial: Trial, drained: bool
) -> dict[str, int]:
    from stackops.deploy.releases import release_of

    svc = dispatcher.services
    hosts = fleet.instances()
    online = {h for h, i in hosts.items() if i["Status"] == "online"}
    figures = dict.fromkeys(TARGETS, 0)
    figures["trials"] = 1
    for host, inst in hosts.items():
        for command in svc.commands.for_instance(inst["InstanceId"]):
            if command.status.value in ("pending", "running"):
                figures["left pending/running"] += 1
                slot = svc.commands.slot(inst["InstanceId"])
                trial.notes.append(
                    f"{host}: {command.type.value} {command.status.value} "
                    f"(created {command.created_at}, slot {slot}, "
                    f"in flight {[(e.kind, e.since) for e in svc.inflight.all()]}, "
                    f"queue {depth(svc)}, clock {svc.epoch():.0f})"
                )
        if host not in online:
            continue
        root = fleet.home / "nodes" / inst["Ec2InstanceId"]
        link = root / "srv/www/web/current"
        if not link.is_symlink():
            figures["without current"] += 1
            trial.notes.append(f"{host}: no current")
            continue
        node_release = os.path.basename(os.readlink(link))
        recorded = release_of(svc.commands.for_instance(inst["InstanceId"]), "web")
        if node_release != recorded:
            figures["disagreeing"] += 1
            trial.notes.append(f"{host}: node on {node_release}, record says {recorded}")
        served = page(fleet.port_base + inst["PortOffset"])
        expected = (link / "index.html").read_text() if (link / "index.html").exists() else None
        staging = [p.name for p in link.parent.iterdir() if STAGING.match(p.name)]
        if served != expected or staging:
            figures["half-switched"] += 1
            trial.notes.append(f"{host}: serves {served!r}, current holds {expected!r} {staging}")
        conf = root / "etc/web/web.conf"
        members = set(UPSTREAM.findall(conf.read_text())) if conf.exists() else set()
        if members != online:
            figures["stale host lists"] += 1
            trial.notes.append(f"{host}: hosts {sorted(members)}, online {sorted(online)}")
    deployment = svc.deployments.get(deployment_id)
    if deployment.status.value not in ("successful", "failed"):
        figures["unfinished"] += 1
        trial.notes.append(f"deployment {deployment.status.value}")
    lost = len(fleet.run("events", "dlq")["Messages"]) + sum(depth(svc))
    if hosts[SPARE]["Status"] != spare_goal:
        lost += 1
        trial.notes.append(f"{SPARE}: {hosts[SPARE]['Status']}, asked for {spare_goal}")
    if not drained:
        lost += 1
        trial.notes.append("the restarted dispatcher never settled")
    figures["lost"] = lost
    return figures


def page(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            return answer.read().decode()
    except OSError:
        return None


# -- the trials --------------------------------------------------------------------------------
def trials(fleet: Fleet, label: str, visibility: int, n: int, order: int) -> None:
    n = int(os.environ.get("STACKOPS_RELIABILITY_TRIALS", n))
    problems = []
    for seed in range(n):
        trial = run_trial(fleet, Trial(seed, visibility))
        case = f"{label} seed {seed}"
        record(f"{CHECK} ({label})", case, trial.figures, bad=TARGETS, order=order)
        if any(trial.figures[t] for t in TARGETS):
            problems.append(f"{case} (killed after {trial.kill_after}): {'; '.join(trial.notes)}")
    assert not problems, "\n".join(problems)


FULL = pytest.mark.skipif(not full_run(), reason="make reliability runs the full trials")


@pytest.mark.slow
@pytest.mark.skipif(full_run(), reason="make reliability runs the full trials instead")
def test_two_kill_trials_short_visibility(fleet: Fleet) -> None:
    trials(fleet, "visibility 5 s, reduced", 5, 2, order=10)


@FULL
def test_twenty_kill_trials_default_visibility(fleet: Fleet) -> None:
    trials(fleet, "default visibility 300 s", 300, 20, order=11)


@FULL
def test_twenty_kill_trials_short_visibility(fleet: Fleet) -> None:
    trials(fleet, "visibility 5 s", 5, 20, order=12)
