"""An app's health check against one instance: HTTP from here, a command on the node."""

from __future__ import annotations

from typing import Any

from stackops.deploy.checks import check_app
from stackops.deploy.health import HttpReply
from stackops.executors import CheckReply, CheckRequest
from stackops.model.apps import App
from stackops.model.instances import Instance

WHEN = "2026-11-28T17:00:00+00:00"


def app(health_check: dict[str, Any]) -> App:
    return App.model_validate(
        {
            "app_id": "app-1",
            "stack_id": "st-1",
            "created_at": WHEN,
            "shortname": "web",
            "environment": [
                {"key": "GREETING", "value": "hello"},
                {"key": "TOKEN", "value": "x", "secure": True},
            ],
            "health_check": health_check,
        }
    )


INSTANCE = Instance.model_validate(
    {
        "instance_id": "in-1",
        "stack_id": "st-1",
        "hostname": "app1",
        "instance_type": "t3.micro",
        "created_at": WHEN,
        "ec2_instance_id": "i-0abc",
        "private_ip": "10.0.0.5",
        "port_offset": 30,
    }
)


class NodeExecutor:
    """An executor whose node answers the check's command with the replies given."""

    def __init__(self, *replies: CheckReply) -> None:
        self.replies = list(replies)
        self.requests: list[CheckRequest] = []

    def run(self, request: Any) -> Any:
        raise AssertionError("a check runs no recipes")

    def run_check(self, request: CheckRequest) -> CheckReply:
        self.requests.append(request)
        return self.replies.pop(0)


def test_a_command_check_runs_on_the_node_through_the_executor() -> None:
    node = NodeExecutor(CheckReply(1, "not yet"), CheckReply(0, "ok"))
    result = check_app(
        app({"command": ["test", "-f", "health"], "retries": 3, "interval": 0}),
        INSTANCE,
        executor=node,  # type: ignore[arg-type]
        sandbox=True,
        root="/nodes/i-0abc",
        secret_prefix="/stackops",
        check_id="c-1-health",
        sleep=lambda _: None,
    )
    assert result is not None and result.ok and result.attempts == 2
    first, second = node.requests
    assert (first.check_id, second.check_id) == ("c-1-health-1", "c-1-health-2")
    assert first.argv == ("test", "-f", "health")
    assert first.cwd == "/srv/www/web/current" and first.root == "/nodes/i-0abc"
    assert first.ec2_instance_id == "i-0abc"
    # The app's environment, the secure value a reference resolved on the node.
    assert first.env == {"GREETING": "hello", "TOKEN": {"ssm": "/stackops/apps/app-1/env/TOKEN"}}


def test_a_failed_command_check_says_why() -> None:
    node = NodeExecutor(CheckReply(None, error="no such folder on the node"))
    result = check_app(
        app({"command": ["true"], "retries": 1}),
        INSTANCE,
        executor=node,  # type: ignore[arg-type]
        sandbox=False,
        root=None,
        secret_prefix="/stackops",
        check_id="c-1-health",
    )
    assert result is not None and not result.ok
    assert result.detail == "true: no such folder on the node (after 1 attempt)"


def test_http_checks_go_to_the_node_loopback_port_in_the_sandbox_and_the_ip_on_aws() -> None:
    seen: list[str] = []

    def get(url: str, timeout: float) -> HttpReply:
        seen.append(url)
        return HttpReply(200, "ok")

    for sandbox in (True, False):
        result = check_app(
            app({"path": "/health", "port": 8000}),
            INSTANCE,
            executor=NodeExecutor(),  # type: ignore[arg-type]
            sandbox=sandbox,
            root=None,
            secret_prefix="/stackops",
            check_id="c-1-health",
            get=get,
        )
        assert result is not None and result.ok
    assert seen == ["http://127.0.0.1:8030/health", "http://10.0.0.5:8000/health"]
    none = check_app(
        app(None),  # type: ignore[arg-type]
        INSTANCE,
        executor=NodeExecutor(),  # type: ignore[arg-type]
        sandbox=True,
        root=None,
        secret_prefix="/stackops",
        check_id="c",
    )
    assert none is None
