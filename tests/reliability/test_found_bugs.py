"""The bugs the reliability suite found, each pinned by the small test that shows it."""

from __future__ import annotations

from typing import Any

from stackops.lifecycle.events import configure_request_message
from tests.lifecycle.conftest import make_dispatcher, queue_depth, send, small_stack
from tests.lifecycle.test_coalesce import FakeTable, configure


def test_a_configure_queued_for_an_instance_that_stopped_is_skipped_not_left_pending(
    stack_env, tmp_path
):
    """kill -9 trials: app7's configure stayed `pending` for ever once app7 had stopped,
    because a configure request only looked at the online instances' queued configures."""
    env = stack_env
    env.apply(small_stack("found", "app1", "app2"), tmp_path)
    env.start("app1", "app2")
    env.watch()
    worker = make_dispatcher()
    worker.drain()
    worker.sweeper.fan_out(env.stack_id)  # configures queued on both, one request sent
    svc = worker.services
    app2 = env.instances()["app2"]
    slot = svc.commands.slot(app2["InstanceId"])
    assert slot is not None
    env.stop("app2")  # app2 leaves before its configure ran
    worker.drain()
    send(configure_request_message(env.stack_id, slot.seq))  # the request, redelivered
    worker.drain()
    assert env.instances()["app2"]["Status"] == "stopped"
    left = [c for c in env.commands("app2") if c["Status"] in ("pending", "running")]
    assert left == []
    assert svc.commands.slot(app2["InstanceId"]) is None
    assert queue_depth() == (0, 0)


def test_node_json_holds_no_value_resolved_from_a_secret_ref():
    """Secrets suite: /etc/stackops/node.json held a protected environment value and the
    layer's MysqlRootPassword in clear, and kept the old value after it changed (only
    configure writes it): nothing told it which values were secrets."""
    from stackops.cookbooks.apps import node_summary
    from stackops.secrets import resolve_secret_refs

    node = {
        "stackops": {
            "layers": {"db": {"attributes": {"MysqlRootPassword": {"ssm": "/p/mysql"}}}},
        },
        "deploy": {"web": {"environment": {"API_TOKEN": {"ssm": "/p/token"}, "GREETING": "hello"}}},
    }
    values = {"/p/mysql": "root-pw", "/p/token": "tok-123"}
    resolved, _ = resolve_secret_refs(node, lambda names: values)
    assert resolved["deploy"]["web"]["environment"]["API_TOKEN"] == "tok-123"  # recipes see it
    summary = str(node_summary(resolved))
    assert "root-pw" not in summary and "tok-123" not in summary
    assert "hello" in summary and "(secret)" in summary


class _Table(FakeTable):
    """The coalescing tests' in-memory table, with the query the cleanup makes."""

    def for_instance(self, instance_id: str) -> list[Any]:
        return [c for c in self.commands.values() if c.instance_id == instance_id]


def test_a_configure_orphaned_by_a_kill_inside_queue_is_superseded_by_the_next_run():
    """kill -9 trials (default visibility, about one trial in twenty): a dispatcher killed
    inside `coalesce.queue`, between writing a configure and taking the slot (or between
    taking the slot and marking the one it replaced), left a configure `pending` that no
    slot named: nothing ever ran or settled it."""
    from datetime import UTC, datetime, timedelta

    from stackops.lifecycle import coalesce
    from stackops.model.commands import CommandStatus

    table = _Table()
    at = datetime(2026, 11, 28, 17, tzinfo=UTC)

    def made(seq: int) -> Any:
        return configure("i1", seq).model_copy(
            update={"created_at": (at + timedelta(seconds=seq)).isoformat()}
        )

    queued = made(1)
    coalesce.queue(table, queued)
    orphan = made(2)
    table.put(orphan)  # written, then killed before taking the slot
    newest = made(3)
    coalesce.queue(table, newest)  # the sweeper's fan-out after the lease ran out
    assert table.commands[orphan.command_id].status is CommandStatus.pending
    later = made(4)
    table.put(later)  # another dispatcher's newer one, between its put and its swap
    table.put(newest.model_copy(update={"status": CommandStatus.successful}))  # it ran
    coalesce.dequeue(table, "i1", newest.command_id)
    assert coalesce.supersede_orphans(table, newest) == [orphan.command_id]
    assert table.commands[orphan.command_id].status is CommandStatus.superseded
    assert table.commands[later.command_id].status is CommandStatus.pending  # left alone


def test_a_run_is_in_the_in_flight_index_before_it_is_recorded_running(stack_env, tmp_path):
    """kill -9 trials (default visibility, one trial in twenty): killed between writing
    a deploy `running` and noting it in the in-flight index, a dispatcher left a command
    `running` for ever: the sweeper reads only that index."""
    env = stack_env
    env.apply(small_stack("found", "app1"), tmp_path)
    env.start("app1")
    env.watch()
    worker = make_dispatcher()
    svc = worker.services
    order: list[str] = []
    put, begin = svc.commands.put, svc.inflight.begin_command

    def noted_put(command: Any) -> None:
        order.append(f"put {command.status.value}")
        put(command)

    def noted_begin(command: Any, *args: Any) -> None:
        order.append("in flight")
        begin(command, *args)

    svc.commands.put = noted_put  # type: ignore[method-assign]
    svc.inflight.begin_command = noted_begin  # type: ignore[method-assign]
    worker.drain()
    assert env.instances()["app1"]["Status"] == "online"
    first_running = order.index("put running")
    assert "in flight" in order[:first_running], order
