"""Benchmark: deployments to N sandbox nodes with each strategy, on moto in-process.

One custom layer, one app whose source is a small local tar.gz, no custom recipes,
no service and no health check: each node runs only the built-in stackops::deploy
(which includes stackops::setup), in a child process of the local executor, so the
figures are orchestration plus the built-in release deploy (unpack, link, switch).

N instances are started and brought online (`watch --once`, then `Dispatcher.drain()`,
which also runs the boot deploy), then one deployment per strategy is created with
`stackops.api.deployments.create_deployment` and the `drain()` that runs it is timed:
all_at_once; rolling with --batch-size 25%; pilot; half; and, for the rolling target,
all_at_once to the first batch's instances only (one rolling batch on its own).

Per deployment it prints the wall time, the batches, the recipes' own time (each
executor run timed by a wrapper around the local executor, and the converge seconds of
its report), the critical path those runs make batch after batch on the workers, and
the orchestration overhead per node = (wall - critical path) / nodes, defined in the
printed legend; then the CPU of this process (stackops and moto) and of the agents,
and the AWS calls per node by operation with the CPU moto spent on each. moto's
in-process backend is serialized by one lock (see FakeAws: it is not thread-safe).

    .venv/bin/python bench/deploy.py [--instances 100] [--workers 8] [--batch-size 25%]
                                     [--keep]

Fake credentials and a scratch STACKOPS_HOME are set here; the scratch folder is
removed at the end. Figures print (progress goes to stderr); nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import sys
import tarfile
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from moto import mock_aws  # imported before any session is made: sessions copy its hook
from offline import offline_environment, set_environment, stackops, stop_services

from stackops.api.deployments import create_deployment, deployment_commands
from stackops.api.instances import start_instance
from stackops.aws.session import AwsSession
from stackops.config import Target, state_home
from stackops.executors.base import Executor, RunRequest, RunResult
from stackops.lifecycle.activities import RunSettings
from stackops.lifecycle.dispatcher import BatchOutcome, Dispatcher, DispatchSettings
from stackops.lifecycle.runtime import make_executor
from stackops.model.commands import Command
from stackops.model.deployments import Deployment, DeploymentCommand
from stackops.naming import ResourceNames
from stackops.services import Services

REGION = "us-east-1"
LAYER = "app"
APP = "web"
STACK = """\
stack:
  name: bench-deploy
layers:
  - shortname: {layer}
    type: custom
    enable_auto_healing: false
apps:
  - shortname: {app}
    app_source: {{type: archive, url: {archive}}}
    layers: [{layer}]
instances:
"""
TARGET = "<= 20 ms orchestration overhead per node; rolling 25% <= 4 batches' time + 10%"
# The services whose clients the bench counts calls of (every one the dispatcher uses).
AWS_SERVICES = ("dynamodb", "s3", "sqs", "ec2", "events", "ssm", "elbv2", "sts")


# -- the environment ---------------------------------------------------------------------------


def make_archive(path: Path) -> Path:
    """The app's release: a few small files in a tar.gz."""
    files = {
        "index.html": b"<h1>bench</h1>\n",
        "health": b"ok\n",
        "app/main.py": b"print('hello')\n" * 20,
        "app/settings.ini": b"[app]\nname = bench\n",
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_800_000_000
            archive.addfile(info, io.BytesIO(data))
    return path


# -- measuring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AgentRun:
    """One executor run: the child process's wall time and its converge's own time."""

    command_id: str
    started: float  # time.time(), to line up with the command records
    ended: float
    converge: float  # the converge report's seconds (0 when the run printed none)
    ok: bool

    @property
    def seconds(self) -> float:
        return self.ended - self.started


class TimedExecutor:
    """The local executor, with the time of each run noted (an `Executor` wrapper)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.name = inner.name
        self.runs: dict[str, AgentRun] = {}
        self._lock = threading.Lock()

    def run(self, request: RunRequest) -> RunResult:
        started = time.time()
        result = self.inner.run(request)
        ended = time.time()
        converge = float((result.report or {}).get("seconds") or 0.0)
        with self._lock:
            self.runs[request.command_id] = AgentRun(
                request.command_id, started, ended, converge, result.ok
            )
        return result

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.runs)

    def reset(self) -> None:
        with self._lock:
            self.runs = {}


class FakeAws:
    """moto in-process, serialized and measured.

    moto's in-process backend is not thread-safe: a DynamoDB Query iterates the table's
    items while another worker thread puts one ("RuntimeError: dictionary changed size
    during iteration"), which fails a command at random once 8 workers run. So every
    request moto handles takes one lock; moto is pure Python and holds the GIL while it
    works, so there was little concurrency to lose. The CPU moto spends per request
    (time.thread_time inside the lock) is what the fake AWS itself costs here; real AWS
    would answer in its own time, over the network. Calls are counted by `service:Operation` with
    botocore's `before-call` event on the dispatcher's clients.
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.cpu: Counter[str] = Counter()
        self.counting = False
        self._lock = threading.RLock()  # moto's
        self._count = threading.Lock()  # the counters'
        self._local = threading.local()
        self._original: Any = None

    def install(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        original = self._original = BotocoreStubber.__call__
        fake = self

        def serialized(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            with fake._lock:
                began = time.thread_time()
                try:
                    return original(stubber, event_name, request, **kwargs)
                finally:
                    if fake.counting:
                        name = getattr(fake._local, "operation", "other")
                        with fake._count:
                            fake.cpu[name] += time.thread_time() - began

        BotocoreStubber.__call__ = serialized  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            from moto.core.botocore_stubber import BotocoreStubber

            BotocoreStubber.__call__ = self._original  # type: ignore[method-assign]

    def attach(self, session: AwsSession) -> None:
        for service in AWS_SERVICES:
            client = session.client(service)
            client.meta.events.register("before-call", self._before, "bench-deploy-calls")

    def start(self) -> None:
        with self._count:
            self.calls.clear()
            self.cpu.clear()
        self.counting = True

    def stop(self) -> None:
        self.counting = False

    def _before(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}:{model.name}"
        self._local.operation = name
        if self.counting:
            with self._count:
                self.calls[name] += 1


class Progress:
    """A line on stderr every few seconds while a drain runs: agent runs done so far."""

    def __init__(self, label: str, executor: TimedExecutor, expected: int) -> None:
        self.label, self.executor, self.expected = label, executor, expected
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._report, daemon=True)
        self._began = time.perf_counter()

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _report(self) -> None:
        while not self._stop.wait(5.0):
            took = time.perf_counter() - self._began
            print(
                f"  [{self.label}] {self.executor.count} of ~{self.expected} runs, {took:.0f} s",
                file=sys.stderr,
                flush=True,
            )


def stamp(text: str | None) -> float:
    return datetime.fromisoformat(text).timestamp() if text else float("nan")


def makespan(durations: list[float], workers: int) -> float:
    """When the last of `durations` ends if each, in order, goes to the first free worker
    (what the runner's ThreadPoolExecutor does with a batch)."""
    free = [0.0] * max(1, min(workers, len(durations)))
    for seconds in durations:
        slot = free.index(min(free))
        free[slot] += seconds
    return max(free, default=0.0)


# -- the stack ---------------------------------------------------------------------------------
def services() -> Services:
    return Services(AwsSession(Target("account", REGION)), ResourceNames("stackops"))


def create_stack(scratch: Path, hosts: list[str]) -> str:
    archive = make_archive(scratch / "web-v1.tar.gz")
    path = scratch / "stack.yaml"
    path.write_text(
        STACK.format(layer=LAYER, app=APP, archive=archive)
        + "".join(
            f"  - {{hostname: {h}, layers: [{LAYER}], instance_type: t3.micro}}\n" for h in hosts
        )
    )
    stackops("bootstrap")
    return stackops("apply", "-f", str(path))["StackId"]


def make_dispatcher(workers: int, fake: FakeAws) -> tuple[Dispatcher, TimedExecutor]:
    """A dispatcher as tests/lifecycle/test_dispatch_guarantees.py builds one, timed.

    Like the tests, a message whose work failed or was busy comes back at once
    (`retry_busy_seconds=0`), so `drain()` finishes it instead of leaving it in flight.
    """
    svc = services()
    executor = TimedExecutor(make_executor(svc, "local"))
    run = RunSettings(nodes_root=state_home() / "nodes", sandbox=True)
    settings = DispatchSettings(run=run, workers=workers, retry_busy_seconds=0)
    worker = Dispatcher(svc, settings, executor)
    fake.attach(svc.session)
    return worker, executor


def bring_online(
    worker: Dispatcher, executor: TimedExecutor, stack_id: str, hosts: list[str]
) -> dict[str, dict[str, Any]]:
    found = {
        i["Hostname"]: i
        for i in stackops("describe-instances", "--stack-id", stack_id)["Instances"]
    }
    began = time.perf_counter()
    for n, host in enumerate(hosts, 1):  # the API: the CLI would make new clients each time
        start_instance(worker.services, found[host]["InstanceId"])
        if n % 25 == 0 and n < len(hosts):
            print(f"  [start] {n} of {len(hosts)} started", file=sys.stderr, flush=True)
    started = time.perf_counter() - began
    published = stackops("watch", "--once")["Published"]
    began = time.perf_counter()
    # setup + boot deploy on each, then about one configure each (coalesced)
    with Progress("boot", executor, 3 * len(hosts)):
        outcome = worker.drain()
    wall = time.perf_counter() - began
    after = {
        i["Hostname"]: i
        for i in stackops("describe-instances", "--stack-id", stack_id)["Instances"]
    }
    statuses = Counter(i["Status"] for i in after.values())
    print(
        f"boot: start_instance x{len(hosts)} {started:.1f} s; watch --once published "
        f"{published}; drain {wall:.1f} s, {executor.count} agent runs (setup, boot deploy, "
        f"configure); statuses {dict(statuses)}; work that raised: {len(outcome.failed)}"
    )
    return after


# -- one deployment ----------------------------------------------------------------------------
@dataclass
class Result:
    """One deployment's drain, and what it left in the records."""

    label: str
    deployment: Deployment
    wall: float
    outcome: BatchOutcome
    commands: list[Command]
    runs: dict[str, AgentRun]
    calls: Counter[str]
    moto_cpu: Counter[str]
    parent_cpu: float  # this process, every thread: stackops and moto
    children_cpu: float  # the agents (children waited for)
    drain_start: float
    drain_end: float
    batch_runs: list[list[AgentRun]] = field(default_factory=list)
    batch_commands: list[list[Command]] = field(default_factory=list)

    @property
    def nodes(self) -> int:
        return len(self.deployment.instance_ids)

    @property
    def agent_total(self) -> float:
        return sum(r.seconds for r in self.runs.values())

    @property
    def converge_total(self) -> float:
        return sum(r.converge for r in self.runs.values())

    def critical_path(self, workers: int) -> float:
        """The recipes' own time on the critical path: batches run one after another, and
        within a batch the agent runs are laid out on `workers` slots as the pool does."""
        return sum(makespan([r.seconds for r in b], workers) for b in self.batch_runs)

    def in_thread(self) -> list[float]:
        """Per node: the worker thread's time around its agent run (created_at of the
        command to its completed_at, less the run): lease, records, node attributes, log."""
        spans = []
        for c in self.commands:
            run = self.runs.get(c.command_id)
            if run is not None and c.completed_at:
                spans.append(stamp(c.completed_at) - stamp(c.created_at) - run.seconds)
        return spans


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def deploy(
    svc: Services,
    worker: Dispatcher,
    executor: TimedExecutor,
    fake: FakeAws,
    stack_id: str,
    app_id: str,
    label: str,
    strategy: str,
    *,
    batch_size: str | None = None,
    instance_ids: list[str] | None = None,
) -> Result:
    created = create_deployment(
        svc,
        stack_id=stack_id,
        app_id=app_id,
        command=DeploymentCommand.model_validate({"Name": "deploy"}),
        instance_ids=instance_ids or [],
        layer_ids=[],
        custom_json={},
        comment=f"bench {label}",
        strategy=strategy,
        batch_size=batch_size,
        on_failure=None,
        max_failures=None,
        pause=False,
    )
    deployment_id = created["DeploymentId"]
    nodes = len(svc.deployments.get(deployment_id).instance_ids)
    executor.reset()
    fake.start()
    cpu, kids = time.process_time(), children_cpu()
    drain_start = time.time()
    began = time.perf_counter()
    with Progress(label, executor, nodes):
        outcome = worker.drain()
    wall = time.perf_counter() - began
    drain_end = time.time()
    cpu, kids = time.process_time() - cpu, children_cpu() - kids
    fake.stop()
    deployment = svc.deployments.get(deployment_id)
    commands = deployment_commands(svc, deployment_id)
    runs = dict(executor.runs)
    result = Result(
        label,
        deployment,
        wall,
        outcome,
        commands,
        runs,
        Counter(fake.calls),
        Counter(fake.cpu),
        cpu,
        kids,
        drain_start,
        drain_end,
    )
    by_instance = {c.instance_id: c for c in commands}
    for batch in deployment.batches:
        cmds = [by_instance[i] for i in batch.instance_ids if i in by_instance]
        result.batch_commands.append(cmds)
        result.batch_runs.append([runs[c.command_id] for c in cmds if c.command_id in runs])
    return result


# -- printing ----------------------------------------------------------------------------------
LEGEND = """\
legend (wall-clock seconds on this host unless "CPU"; agents and this process share the CPUs)
  wall        drain() that received the Deployment Request and ran the deployment to its end
  agent       one executor run: the child `stackops agent` (interpreter start-up, imports and
              the converge of stackops::deploy); the "recipes' own time" (mean per node)
  converge    the converge inside that child (its report's seconds; mean per node)
  crit.path   the agent runs laid out as the runner does them: batch after batch, each batch
              on {workers} worker slots in order; what the deployment would take if the
              orchestration cost nothing (agents as slow as they were here)
  overhead    wall - crit.path, and per node: (wall - crit.path) / nodes, the wall time the
              orchestration adds spread over the nodes (the issue's "total minus the
              recipes' own time"; the target is <= 20 ms per node)
  thread      mean per node of completed_at - created_at - agent: the worker thread's own
              time around the run (instance lease, command and deployment records, the stack
              view, node attributes, the log to S3), waits for the GIL and moto's lock
              included; {workers} threads overlap, so it adds about thread / {workers} per node
  CPU/node    this process's CPU (every thread: stackops, botocore and moto) per node, and
              the part of it moto spent answering (the fake AWS)
  calls/node  AWS API calls the dispatcher made during the drain, per node"""


def print_table(results: list[Result], workers: int) -> None:
    print(
        f"{'':<24}{'':>11}{'':>14}{'wall':>7}{'crit.':>7}{'over-':>7}{'overhead':>9}"
        f"{'agent':>7}{'conv.':>6}{'thread':>7}{'CPU':>6}{'moto':>6}{'calls':>7}"
    )
    print(
        f"{'deployment':<24}{'status':>11}{'batches':>14}{'s':>7}{'path s':>7}{'head s':>7}"
        f"{'ms/node':>9}{'ms':>7}{'ms':>6}{'ms':>7}{'ms/n':>6}{'ms/n':>6}{'/node':>7}"
    )
    for r in results:
        crit = r.critical_path(workers)
        sizes = "+".join(str(len(b.instance_ids)) for b in r.deployment.batches)
        batches = f"{len(r.deployment.batches)} [{sizes}]"
        if len(batches) > 13:
            batches = (
                f"{len(r.deployment.batches)} [{len(r.deployment.batches[0].instance_ids)}+..]"
            )
        thread = r.in_thread()
        runs = max(len(r.runs), 1)
        print(
            f"{r.label:<24}{r.deployment.status.value:>11}{batches:>14}"
            f"{r.wall:>7.2f}{crit:>7.2f}{r.wall - crit:>7.2f}"
            f"{1000 * (r.wall - crit) / r.nodes:>9.1f}"
            f"{1000 * r.agent_total / runs:>7.0f}"
            f"{1000 * r.converge_total / runs:>6.0f}"
            f"{1000 * statistics.mean(thread) if thread else float('nan'):>7.0f}"
            f"{1000 * r.parent_cpu / r.nodes:>6.1f}"
            f"{1000 * sum(r.moto_cpu.values()) / r.nodes:>6.1f}"
            f"{sum(r.calls.values()) / r.nodes:>7.1f}"
        )
    pilot = next((r for r in results if r.deployment.strategy == "pilot"), None)
    if pilot and pilot.batch_runs and len(pilot.batch_runs[0]) == 1:
        alone = pilot.batch_runs[0][0]
        print(
            f"one agent run with no other running (pilot's first batch): "
            f"{1000 * alone.seconds:.0f} ms, of which converge {1000 * alone.converge:.0f} ms"
        )


def print_details(r: Result) -> None:
    """AWS calls by operation with moto's CPU for them, and any failed command."""
    ops = sorted(r.calls, key=lambda name: (-r.moto_cpu.get(name, 0.0), name))
    parts = [
        f"{name} {r.calls[name] / r.nodes:.2f} "
        f"({1000 * r.moto_cpu.get(name, 0.0) / r.nodes:.1f} ms)"
        for name in ops
    ]
    print(
        f"  {r.label}: moto CPU {sum(r.moto_cpu.values()):.2f} s of {r.parent_cpu:.2f} s "
        f"this process's CPU; agents' CPU {r.children_cpu:.2f} s"
    )
    line = "    per node:"
    for part in parts:
        if len(line) + len(part) + 2 > 100:
            print(line.rstrip(","))
            line = "     "
        line += f" {part},"
    print(line.rstrip(","))
    failed = [c for c in r.commands if c.status.value != "successful"]
    for c in failed[:3]:
        print(f"    failed command {c.command_id}: {c.summary}")
    if r.outcome.failed:
        print(f"    {len(r.outcome.failed)} work item(s) raised: see the tracebacks on stderr")


def batch_spans(r: Result) -> list[tuple[float, float]]:
    """Each batch's own span: its first command made to its last command recorded."""
    spans = []
    for cmds in r.batch_commands:
        if cmds:
            start = min(stamp(c.created_at) for c in cmds)
            end = max(stamp(c.completed_at) for c in cmds)
            spans.append((start, end))
    return spans


def print_rolling(r: Result, alone: Result | None, workers: int) -> None:
    spans = batch_spans(r)
    if not spans:
        return
    print(f"{r.label}, batch by batch (span: its first command made .. its last recorded):")
    for n, ((start, end), runs) in enumerate(zip(spans, r.batch_runs, strict=False), 1):
        gap = start - (spans[n - 2][1] if n > 1 else r.drain_start)
        crit = makespan([x.seconds for x in runs], workers)
        print(
            f"  batch {n}: {len(runs):3d} nodes, span {end - start:6.2f} s "
            f"(crit.path {crit:5.2f} s), {gap:5.2f} s before it"
        )
    tail = r.drain_end - spans[-1][1]
    durations = [end - start for start, end in spans]
    mean = statistics.mean(durations)
    between = r.wall - sum(durations)
    print(
        f"  after the last batch {tail:.2f} s; outside the batches {between:.2f} s "
        f"of {r.wall:.2f} s ({between / r.wall:.0%})"
    )
    bound = len(spans) * mean * 1.10
    verdict = "meets" if r.wall <= bound else "MISSES"
    print(
        f"  total {r.wall:.2f} s vs {len(spans)} x mean batch span {mean:.2f} s + 10% "
        f"= {bound:.2f} s: {verdict}"
    )
    if alone is not None:
        bound = len(spans) * alone.wall * 1.10
        verdict = "meets" if r.wall <= bound else "MISSES"
        print(
            f"  total {r.wall:.2f} s vs {len(spans)} x one batch deployed alone "
            f"({alone.nodes} nodes, all_at_once: {alone.wall:.2f} s) + 10% = {bound:.2f} s: "
            f"{verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100, help="nodes to deploy to")
    parser.add_argument("--workers", type=int, default=8, help="the dispatcher's workers")
    parser.add_argument("--batch-size", default="25%", help="rolling's --batch-size")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="stackops-bench-deploy-"))
    saved = offline_environment(scratch / "home")
    hosts = [f"{LAYER}{n}" for n in range(1, max(args.instances, 1) + 1)]
    fake = FakeAws()
    fake.install()
    began = time.perf_counter()
    try:
        with mock_aws():
            stack_id = create_stack(scratch, hosts)
            worker, executor = make_dispatcher(args.workers, fake)
            svc = worker.services
            print(
                f"deployments on moto in-process (serialized); python "
                f"{sys.version.split()[0]}, {os.cpu_count()} CPUs; local executor (a child "
                f"process per node run); {args.workers} workers; {len(hosts)} nodes"
            )
            bring_online(worker, executor, stack_id, hosts)
            app_id = stackops("describe-apps", "--stack-id", stack_id)["Apps"][0]["AppId"]
            common = (svc, worker, executor, fake, stack_id, app_id)
            results: list[Result] = []
            for label, strategy, size in (
                ("all_at_once", "all_at_once", None),
                (f"rolling {args.batch_size}", "rolling", args.batch_size),
                ("pilot", "pilot", None),
                ("half", "half", None),
            ):
                results.append(deploy(*common, label, strategy, batch_size=size))
            rolling = results[1]
            first = rolling.deployment.batches[0].instance_ids if rolling.deployment.batches else []
            alone = None
            if first and len(rolling.deployment.batches) > 1:
                alone = deploy(
                    *common, "one rolling batch alone", "all_at_once", instance_ids=list(first)
                )
                results.append(alone)
            print(LEGEND.format(workers=args.workers))
            print_table(results, args.workers)
            print("AWS calls per node by operation, and moto's CPU for them per node:")
            for r in results:
                print_details(r)
            print_rolling(rolling, alone, args.workers)
            print(f"target: {TARGET}")
    finally:
        stop_services(scratch / "home" / "nodes")
        set_environment(saved)
        fake.uninstall()
        if args.keep:
            print(f"scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"whole bench: {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
