"""`--wait` on start-instance, stop-instance and create-deployment: progress, exit status."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from stackops.api.waiting import WaitTimedOut, follow

STACK = """\
stack:
  name: shop
  custom_json: {web: {port_base: PORT_BASE}}
layers:
  - shortname: app
    type: custom
    custom_recipes: {setup: [web::setup], configure: [web::configure], deploy: [web::deploy]}
apps:
  - shortname: web
    app_source: {type: archive, url: recipes/web/files/web-v1.tar.gz}
    layers: [app]
    health_check: {path: HEALTH, port: PORT_BASE, retries: 2, interval: 0.2, timeout: 30}
instances:
  - {hostname: app1, layers: [app], instance_type: t3.micro}
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_follow_reports_changes_a_stall_once_and_ends_by_the_verdict() -> None:
    states = iter(["pending", "pending", "pending", "booting", "online"])
    clock = FakeClock()
    seen: list[tuple[str, float]] = []
    ended = follow(
        lambda: next(states),
        lambda s: s,
        lambda s: True if s == "online" else None,
        what="instance i",
        on_progress=lambda s, stalled: seen.append((s, stalled)),
        interval=10,
        timeout=100,
        stall_after=15,
        clock=clock,
        sleep=clock.sleep,
    )
    assert ended.ok and ended.record == "online"
    assert seen == [("pending", 0.0), ("pending", 20.0), ("booting", 0.0), ("online", 0.0)]


def test_follow_gives_up_at_its_timeout() -> None:
    clock = FakeClock()
    with pytest.raises(WaitTimedOut, match="instance i has not ended after 5 s") as caught:
        follow(
            lambda: "pending",
            lambda s: s,
            lambda s: None,
            what="instance i",
            on_progress=lambda s, stalled: None,
            interval=1,
            timeout=5,
            clock=clock,
            sleep=clock.sleep,
        )
    assert caught.value.exit_code == 1


@contextmanager
def dispatching(env) -> Iterator[None]:
    """What runs beside the user in the sandbox: the watcher and the dispatcher."""
    from stackops.config import state_home
    from stackops.lifecycle.runtime import build_dispatcher
    from stackops.lifecycle.watcher import watcher_for
    from tests.lifecycle.conftest import moto_services

    services = moto_services()
    watcher = watcher_for(services.session)
    worker = build_dispatcher(services, nodes_root=state_home() / "nodes", with_autoscaling=False)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            watcher.poll()
            worker.poll()
            stop.wait(0.2)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_start_and_stop_instance_wait_for_online_and_stopped(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK.replace("HEALTH", "/health"), tmp_path)
    instance_id = env.instances()["app1"]["InstanceId"]
    with dispatching(env):
        started = env.invoke("start-instance", "--instance-id", instance_id, "--wait")
        assert started.exit_code == 0, started.stderr
        assert json.loads(started.stdout) == {"InstanceId": instance_id, "Status": "online"}
        # Each status is printed as the wait sees it: in lifecycle order, ending online (a
        # poll may miss a short one, so none in between is required).
        assert _statuses(started.stderr, BOOT)[-1] == "online"
        stopped = env.invoke("stop-instance", "--instance-id", instance_id, "--wait")
        assert stopped.exit_code == 0, stopped.stderr
        assert json.loads(stopped.stdout)["Status"] == "stopped"
        assert _statuses(stopped.stderr, STOP)[-1] == "stopped"


BOOT = ["requested", "pending", "booting", "running_setup", "online"]
STOP = ["online", "stopping", "shutting_down", "stopped"]


def _statuses(stderr: str, order: list[str]) -> list[str]:
    """The `app1: <status>` lines a wait printed: in lifecycle order (a poll may miss a short
    status, so none in between is required)."""
    seen = [line.partition("app1: ")[2] for line in stderr.splitlines()]
    seen = [status for status in seen if status]
    assert seen and seen == sorted(seen, key=order.index), stderr
    return seen


def test_a_boot_that_fails_exits_1_with_its_reason(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK.replace("HEALTH", "/missing"), tmp_path)
    instance_id = env.instances()["app1"]["InstanceId"]
    with dispatching(env):
        started = env.invoke("start-instance", "--instance-id", instance_id, "--wait")
    assert started.exit_code == 1
    answer = json.loads(started.stdout)
    assert answer["Status"] == "setup_failed"
    assert answer["StatusReason"].startswith("health check of web failed: HTTP 404")
    assert "app1: setup_failed (health check of web failed" in started.stderr


def test_waiting_with_no_dispatcher_ends_at_the_timeout(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK.replace("HEALTH", "/health"), tmp_path)
    instance_id = env.instances()["app1"]["InstanceId"]
    waited = env.invoke(
        "start-instance", "--instance-id", instance_id, "--wait", "--wait-timeout", "1"
    )
    assert waited.exit_code == 1
    assert f"instance {instance_id} has not ended after 1 s" in waited.stderr
    assert "Traceback" not in waited.output
