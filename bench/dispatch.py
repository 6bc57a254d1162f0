"""Benchmark: the lifecycle dispatcher on moto in-process, with no-op recipes.

The stack has one custom layer, no custom recipes and no apps, so only the built-in
stackops::setup and stackops::configure run (the "no-op recipes"), each in a child
process of the local executor. Three sections:

1. boot: N instances started at once (`start-instance`, `watch --once`), then one
   `Dispatcher.drain()`: wall time, events/s, setup and configure runs, superseded
   configures, whether every node's last configure saw all N, recipe time vs the rest.
2. no-op events: E `running` events for instances already online, put on the queue in
   EventBridge's envelope, then `drain()`: every AWS API call the dispatcher makes,
   counted with botocore's `before-call` hook, per operation. Once with the dispatcher
   that booted the stack (its EC2 tag cache warm), once with a fresh one.
3. flips: the same number of events as `stopped` then `running` for online instances,
   which do cause work (configure on the rest, then setup and configure again).

    .venv/bin/python bench/dispatch.py [--instances 50] [--events 100] [--workers 8]
                                       [--no-flips] [--by-caller] [--keep]

Fake credentials and a scratch STACKOPS_HOME are set here; the scratch folder is
removed at the end. Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws  # imported before any session is made: sessions copy its hook
from offline import offline_environment, set_environment, stackops, stop_services

from stackops.aws.session import AwsSession
from stackops.config import Target, state_home
from stackops.lifecycle.activities import RunSettings
from stackops.lifecycle.dispatcher import BatchOutcome, Dispatcher, DispatchSettings
from stackops.lifecycle.runtime import make_executor
from stackops.naming import ResourceNames
from stackops.services import Services

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
LAYER = "app"
STACK = f"""\
stack:
  name: bench
layers:
  - shortname: {LAYER}
    type: custom
    enable_auto_healing: false
instances:
"""
TARGET = "<= 1 AWS call per event beyond the recipes' own work (issue)"


# -- the environment ---------------------------------------------------------------------


# -- counting AWS calls -----------------------------------------------------------------
@dataclass
class ApiCalls:
    """AWS API calls made through one boto3 session, by `service:Operation` (before-call)."""

    calls: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    callers: Counter[str] = field(default_factory=Counter)
    counting: bool = False
    by_caller: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _id: str = field(default_factory=lambda: f"bench-calls-{uuid.uuid4().hex[:8]}")

    def attach(self, session: AwsSession) -> None:
        """Hook the session (clients made later copy its handlers) and the clients it has."""
        session._session.events.register("before-call", self._before, f"{self._id}-before")
        session._session.events.register("after-call", self._after, f"{self._id}-after")
        for client in session._clients.values():
            client.meta.events.register("before-call", self._before, f"{self._id}-before")
            client.meta.events.register("after-call", self._after, f"{self._id}-after")

    def start(self) -> None:
        with self._lock:
            self.calls.clear()
            self.errors.clear()
            self.callers.clear()
            self.counting = True

    def stop(self) -> None:
        self.counting = False

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @staticmethod
    def _name(model: Any) -> str:
        return f"{model.service_model.service_name}:{model.name}"

    def _before(self, model: Any, **_: Any) -> None:
        if self.counting:
            caller = _caller() if self.by_caller else ""
            with self._lock:
                self.calls[self._name(model)] += 1
                if caller:
                    self.callers[f"{self._name(model)}  {caller}"] += 1

    def _after(self, model: Any, http_response: Any = None, **_: Any) -> None:
        if self.counting and http_response is not None and http_response.status_code >= 300:
            with self._lock:
                self.errors[self._name(model)] += 1


def _caller() -> str:
    """Where in stackops a call is made: `first stackops frame < next lifecycle frame`."""
    package, aws = f"{os.sep}stackops{os.sep}", f"{os.sep}stackops{os.sep}aws{os.sep}"
    inner = ""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if package in path and aws not in path:
            where = f"{path.rsplit(package, 1)[1]}:{frame.f_code.co_name}"
            if not inner:
                inner = where
            elif where.startswith("lifecycle"):
                return f"{inner} < {where}"
        frame = frame.f_back
    return inner


# -- the stack ------------------------------------------------------------------------------
def services() -> Services:
    return Services(AwsSession(Target("account", REGION)), ResourceNames("stackops"))


def make_dispatcher(workers: int, by_caller: bool) -> tuple[Dispatcher, ApiCalls]:
    """A dispatcher as tests/lifecycle/test_dispatch_guarantees.py builds one, counted.

    Like the tests, a message whose work failed or was busy comes back at once
    (`retry_busy_seconds=0`), so `drain()` finishes it instead of leaving it in flight.
    """
    svc = services()
    counter = ApiCalls(by_caller=by_caller)
    counter.attach(svc.session)  # before the dispatcher makes its clients
    run = RunSettings(nodes_root=state_home() / "nodes", sandbox=True)
    settings = DispatchSettings(run=run, workers=workers, retry_busy_seconds=0)
    worker = Dispatcher(svc, settings, make_executor(svc, "local"))
    counter.attach(svc.session)  # and any client made before the hook (idempotent)
    return worker, counter


def hostnames(count: int) -> list[str]:
    return [f"{LAYER}{n}" for n in range(1, count + 1)]


def create_stack(scratch: Path, hosts: list[str]) -> str:
    path = scratch / "stack.yaml"
    path.write_text(
        STACK
        + "".join(
            f"  - {{hostname: {h}, layers: [{LAYER}], instance_type: t3.micro}}\n" for h in hosts
        )
    )
    stackops("bootstrap")
    return stackops("apply", "-f", str(path))["StackId"]


def instances(stack_id: str) -> dict[str, dict[str, Any]]:
    found = stackops("describe-instances", "--stack-id", stack_id)["Instances"]
    return {i["Hostname"]: i for i in found}


def commands(found: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    every: list[dict[str, Any]] = []
    for instance in found.values():
        every += stackops("describe-commands", "--instance-id", instance["InstanceId"])["Commands"]
    return every


# -- events on the queue -------------------------------------------------------------------
def state_change(ec2_id: str, state: str) -> str:
    """An `EC2 Instance State-change Notification` as EventBridge delivers it to SQS."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "account": ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{ec2_id}"],
            "detail": {"instance-id": ec2_id, "state": state},
        }
    )


def send(bodies: list[str]) -> None:
    """Put bodies on the lifecycle queue with the bench's own client (not counted)."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName="stackops-lifecycle")["QueueUrl"]
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def cycle(items: list[str], count: int) -> Iterator[str]:
    for n in range(count):
        yield items[n % len(items)]


# -- reading what happened ---------------------------------------------------------------------
def seconds(start: str | None, end: str | None) -> tuple[float, float] | None:
    if not start or not end:
        return None
    return datetime.fromisoformat(start).timestamp(), datetime.fromisoformat(end).timestamp()


def busy_time(spans: list[tuple[float, float]]) -> float:
    """Wall time during which at least one span was running (their union)."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


@dataclass
class RunCounts:
    setups: int = 0
    configures: int = 0
    superseded: int = 0
    failed: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)


def run_counts(records: list[dict[str, Any]], skip: set[str]) -> RunCounts:
    """Setup and configure runs among `records`, leaving out the command ids in `skip`."""
    counts = RunCounts()
    for c in records:
        if c["CommandId"] in skip:
            continue
        kind, status = c["Type"], c["Status"]
        if kind == "configure" and status == "superseded":
            counts.superseded += 1
        if status == "failed":
            counts.failed += 1
        if status != "successful":
            continue
        counts.setups += kind == "setup"
        counts.configures += kind == "configure"
        span = seconds(c.get("AcknowledgedAt"), c.get("CompletedAt"))
        if span:
            counts.spans.append(span)
    return counts


def membership_check(found: dict[str, dict[str, Any]]) -> str:
    """Whether every online node's /etc/stackops/node.json lists every online host."""
    online = sorted(h for h, i in found.items() if i["Status"] == "online")
    short: list[int] = []
    for host in online:
        path = state_home() / "nodes" / found[host]["Ec2InstanceId"] / "etc/stackops/node.json"
        try:
            seen = json.loads(path.read_text())["layers"][LAYER]["instances"]
        except (OSError, ValueError, KeyError):
            seen = {}
        if sorted(seen) != online:
            short.append(len(seen))
    if not short:
        return f"yes ({len(online)} of {len(online)} online nodes list all {len(online)})"
    return (
        f"NO: {len(short)} of {len(online)} nodes list fewer "
        f"(as few as {min(short)} of {len(online)})"
    )


# -- printing -----------------------------------------------------------------------------------
def print_calls(counter: ApiCalls, events: int, wall: float, outcome: BatchOutcome) -> None:
    width = max((len(name) for name in counter.calls), default=10) + 2
    print(f"  {'AWS operation':<{width}}{'calls':>7}{'per event':>11}")
    for name, calls in sorted(counter.calls.items(), key=lambda kv: (-kv[1], kv[0])):
        errors = counter.errors.get(name, 0)
        note = f"  ({errors} answered with an error)" if errors else ""
        print(f"  {name:<{width}}{calls:>7}{calls / events:>11.2f}{note}")
    print(f"  {'total':<{width}}{counter.total:>7}{counter.total / events:>11.2f}")
    print(
        f"  {events} events in {wall:.3f} s: {events / wall:.1f} events/s; "
        f"{counter.total / events:.2f} AWS calls per event (target {TARGET})"
    )
    print(f"  outcome: {outcome.to_dict()}")
    if outcome.failed:
        print(f"  {len(outcome.failed)} work item(s) raised: see the tracebacks on stderr")
    if counter.callers:
        print("  by caller (service:Operation  stackops frame < lifecycle frame), top 20:")
        for name, calls in counter.callers.most_common(20):
            print(f"  {calls:>7}  {name}")


def section_boot(
    worker: Dispatcher, counter: ApiCalls, stack_id: str, hosts: list[str], workers: int
) -> tuple[float, RunCounts]:
    before = instances(stack_id)
    for host in hosts:
        stackops("start-instance", "--instance-id", before[host]["InstanceId"])
    published = stackops("watch", "--once")["Published"]
    counter.start()
    started = time.perf_counter()
    outcome = worker.drain()
    wall = time.perf_counter() - started
    counter.stop()
    after = instances(stack_id)
    counts = run_counts(commands(after), set())
    statuses = Counter(i["Status"] for i in after.values())
    recipe = sum(end - start for start, end in counts.spans)
    runs = len(counts.spans)
    busy = busy_time(counts.spans)
    n = len(hosts)

    print(f"1. boot: {n} instances booting at once, no-op recipes, {workers} workers")
    print(
        f"  drain: {wall:.2f} s wall; {outcome.received} messages "
        f"({published} EC2 state-change events from watch + "
        f"{outcome.received - published} configure requests and repeats): "
        f"{published / wall:.1f} instance events/s, {outcome.received / wall:.1f} messages/s"
    )
    print(f"  statuses: {dict(statuses)}")
    print(f"  setup runs (successful): {counts.setups}")
    print(
        f"  configure runs (successful): {counts.configures} "
        f"({counts.configures / n:.2f} per instance); superseded: {counts.superseded}; "
        f"failed runs: {counts.failed}"
    )
    print(f"  every online instance's last configure saw all {n}: {membership_check(after)}")
    print(
        f"  recipe time: {recipe:.2f} s summed over {runs} runs "
        f"({recipe / max(runs, 1):.3f} s per run: AcknowledgedAt..CompletedAt, which "
        f"includes the child's start-up and the run's own reads)"
    )
    print(
        f"  orchestration: {workers} workers x {wall:.2f} s = {workers * wall:.1f} worker-s, "
        f"recipes used {recipe:.1f} ({recipe / (workers * wall):.0%}); "
        f"wall time with no recipe running: {wall - busy:.2f} s of {wall:.2f} s "
        f"({(wall - busy) / wall:.0%})"
    )
    print(
        f"  AWS calls during the boot drain, per instance event ({published}), "
        "recipe work included:"
    )
    print_calls(counter, published, wall, outcome)
    return wall, counts


def section_noop(
    worker: Dispatcher, counter: ApiCalls, stack_id: str, events: int, label: str
) -> None:
    found = instances(stack_id)
    online = sorted(i["Ec2InstanceId"] for i in found.values() if i["Status"] == "online")
    if not online:
        print(f"  {label} skipped: no instance is online")
        return
    send([state_change(ec2_id, "running") for ec2_id in cycle(online, events)])
    counter.start()
    started = time.perf_counter()
    outcome = worker.drain()
    wall = time.perf_counter() - started
    counter.stop()
    print(f"  {label}")
    print_calls(counter, events, wall, outcome)


def section_flips(worker: Dispatcher, counter: ApiCalls, stack_id: str, events: int) -> None:
    found = instances(stack_id)
    skip = {c["CommandId"] for c in commands(found)}
    online = sorted(h for h, i in found.items() if i["Status"] == "online")
    if not online:
        print("3. skipped: no instance is online")
        return
    per_round = min(len(online), max(events // 2, 1))
    flips = [online[n % len(online)] for n in range(max(events // 2, 1))]
    total, errors, callers = Counter[str](), Counter[str](), Counter[str]()
    outcome = BatchOutcome()
    wall = 0.0
    for start in range(0, len(flips), per_round):
        ec2_ids = [found[h]["Ec2InstanceId"] for h in flips[start : start + per_round]]
        for state in ("stopped", "running"):
            send([state_change(ec2_id, state) for ec2_id in ec2_ids])
            counter.start()
            began = time.perf_counter()
            outcome.add(worker.drain())
            wall += time.perf_counter() - began
            counter.stop()
            total.update(counter.calls)
            errors.update(counter.errors)
            callers.update(counter.callers)
    counter.calls, counter.errors, counter.callers = total, errors, callers
    n = 2 * len(flips)
    after = instances(stack_id)
    counts = run_counts(commands(after), skip)
    print(
        f"3. {n} state-change events that DO cause work: `stopped` then `running` for "
        f"{len(flips)} online instances, {per_round} at a time (each drained in turn)"
    )
    print("  calls below INCLUDE the recipes' own work (setup and configure runs)")
    print_calls(counter, n, wall, outcome)
    print(
        f"  runs: {counts.setups} setup, {counts.configures} configure "
        f"(successful), {counts.superseded} configure superseded, {counts.failed} failed"
    )
    print(f"  statuses: {dict(Counter(i['Status'] for i in after.values()))}")
    print(f"  every online instance's last configure saw all: {membership_check(after)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50, help="instances booting at once")
    parser.add_argument("--events", type=int, default=100, help="events in sections 2 and 3")
    parser.add_argument("--workers", type=int, default=8, help="the dispatcher's workers")
    parser.add_argument("--no-flips", action="store_true", help="skip section 3")
    parser.add_argument(
        "--by-caller", action="store_true", help="also count calls by the stackops code making them"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="stackops-bench-dispatch-"))
    saved = offline_environment(scratch / "home")
    hosts = hostnames(max(args.instances, 1))
    began = time.perf_counter()
    try:
        with mock_aws():
            stack_id = create_stack(scratch, hosts)
            worker, counter = make_dispatcher(args.workers, args.by_caller)
            print(
                f"dispatcher on moto in-process; python {sys.version.split()[0]}, "
                f"{os.cpu_count()} CPUs; local executor (one child process per run)"
            )
            section_boot(worker, counter, stack_id, hosts, args.workers)
            print(
                f"2. {args.events} state-change events of known instances that need no "
                f"activity (`running` for instances already online)"
            )
            section_noop(worker, counter, stack_id, args.events, "the dispatcher that booted them:")
            fresh, fresh_counter = make_dispatcher(args.workers, args.by_caller)
            section_noop(
                fresh, fresh_counter, stack_id, args.events, "a fresh dispatcher (cold caches):"
            )
            if not args.no_flips:
                section_flips(worker, counter, stack_id, args.events)
    finally:
        stop_services(scratch / "home" / "nodes")
        set_environment(saved)
        if args.keep:
            print(f"scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"whole bench: {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
