"""The local executor: a real child process per run, killed at its timeout."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from stackops.executors import MASK, LocalExecutor, RunRequest, parameter_store_resolver
from stackops.processes import live_group_members, process_table


def write_recipe(cookbooks: Path, name: str, body: str) -> None:
    cookbook, _, recipe = name.partition("::")
    folder = cookbooks / cookbook
    folder.mkdir(parents=True, exist_ok=True)
    code = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    (folder / f"{recipe or 'default'}.py").write_text(f"def recipe(run):\n{code}\n")


def request(
    tmp_path: Path, recipes: tuple[str, ...], timeout: float = 30.0, node: dict | None = None
) -> RunRequest:
    root = tmp_path / "node"
    root.mkdir(exist_ok=True)
    return RunRequest(
        command_id="c-1",
        ec2_instance_id="i-0abc",
        recipes=recipes,
        node=node or {},
        cookbook_paths=(str(tmp_path / "cookbooks"),),
        timeout=timeout,
        root=str(root),
    )


def alive(pid: int) -> bool:
    info = (process_table() or {}).get(pid)
    return info is not None and info.state not in "ZX"


def test_a_recipe_writes_a_file_under_the_root(tmp_path: Path) -> None:
    write_recipe(tmp_path / "cookbooks", "web::configure", 'run.file("/etc/web.conf", content="a")')
    result = LocalExecutor().run(request(tmp_path, ("web::configure",)))
    assert result.ok and result.exit_code == 0 and not result.timed_out, result.log
    assert result.report is not None
    [resource] = result.report["resources"]
    assert (resource["resource"], resource["status"]) == ("file[/etc/web.conf]", "changed")
    assert (tmp_path / "node/etc/web.conf").read_text() == "a"
    assert "1 changed" in result.log
    assert 0 < result.seconds <= 30  # a figure within the run's budget, not a speed


def test_a_failing_command_is_exit_1_with_the_report(tmp_path: Path) -> None:
    write_recipe(tmp_path / "cookbooks", "web::broken", 'run.execute(["false"])')
    result = LocalExecutor().run(request(tmp_path, ("web::broken",)))
    assert not result.ok and result.exit_code == 1 and not result.timed_out
    assert result.report is not None and result.report["failed"] == "execute[false]"
    assert "execute[false]" in result.log and "exited with status 1" in result.log


def test_a_hung_command_is_stopped_by_the_run_budget_and_reported(tmp_path: Path) -> None:
    # Only the budget ends `sleep 3600`; 8 s leaves the run time to start on a busy machine.
    write_recipe(tmp_path / "cookbooks", "web::hang", 'run.execute(["sleep", "3600"])')
    result = LocalExecutor().run(request(tmp_path, ("web::hang",), timeout=8))
    assert result.timed_out and result.exit_code == 124 and not result.ok
    assert result.report is not None and result.report["failed"] == "execute[sleep 3600]"
    assert "timed out" in result.log


def test_a_run_hung_in_python_is_killed_with_its_processes_but_not_its_services(
    tmp_path: Path,
) -> None:
    """The engine cannot stop Python code that hangs: the executor kills the run's
    process group and every descendant (even one in a session of its own), while
    the service the run started, which belongs to no run, keeps running."""
    pids = tmp_path / "pids"
    write_recipe(
        tmp_path / "cookbooks",
        "web::stuck",
        f"""
        import os, subprocess, time
        def hang():
            fg = subprocess.Popen(["sleep", "3600"])
            own = subprocess.Popen(["sleep", "3600"], start_new_session=True)
            open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{fg.pid}} {{own.pid}}")
            time.sleep(3600)
        run.service("bg", command=["sleep", "60"])
        run.execute(["true"], only_if=hang)
        """,
    )
    # Only the budget ends the hang; 8 s leaves the recipe time to start its children.
    result = LocalExecutor(grace=1.0).run(request(tmp_path, ("web::stuck",), timeout=8))
    assert result.timed_out and result.exit_code == 124 and not result.ok
    assert result.report is None
    assert "timed out after 8 s" in result.log
    agent, fg, own = (int(p) for p in pids.read_text().split())
    service = json.loads((tmp_path / "node/var/run/stackops/bg.pid").read_text())["pid"]
    try:
        assert live_group_members(agent) == []  # the agent leads its group: all of it is gone
        assert not alive(fg) and not alive(own)
        assert alive(service)
    finally:
        from stackops.nodes import end_nodes

        end_nodes(tmp_path, grace=0.5)  # the node "node": its keeper and the service
    assert not alive(service)


def test_secrets_are_masked_in_report_and_log(tmp_path: Path) -> None:
    secret = "hunter2-s3cr3t"
    write_recipe(
        tmp_path / "cookbooks",
        "db::configure",
        """
        password = run.node["db"]["password"]
        run.file("/etc/db.conf", content=f"password={password}\\n")
        run.execute(["sh", "-c", f"echo {password} >&2; exit 3"])
        """,
    )
    node = {"db": {"password": {"ssm": "/shop/db/password"}}}
    resolve = parameter_store_resolver(lambda names: {n: secret for n in names})
    result = LocalExecutor(resolve=resolve).run(request(tmp_path, ("db::configure",), node=node))
    assert result.exit_code == 1
    assert (tmp_path / "node/etc/db.conf").read_text() == f"password={secret}\n"
    dumped = json.dumps(result.report)
    assert secret not in dumped and secret not in result.log
    assert MASK in dumped and MASK in result.log
    assert f"+password={MASK}" in result.report["resources"][0]["diff"]


def test_a_missing_secret_is_a_result_not_an_exception(tmp_path: Path) -> None:
    node = {"db": {"password": {"ssm": "/shop/missing"}}}
    resolve = parameter_store_resolver(lambda names: {})
    result = LocalExecutor(resolve=resolve).run(request(tmp_path, ("db::x",), node=node))
    assert not result.ok and result.exit_code == 2 and result.report is None
    assert "db.password (/shop/missing)" in result.log


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"recipes": ()}, "field 'recipes'"),  # invalid payload: the agent exits 2
        ({"recipes": ("nosuch::recipe",)}, "nosuch::recipe"),  # unknown recipe: exit 2
    ],
)
def test_a_bad_request_is_a_result_not_an_exception(
    tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    base = request(tmp_path, ("web::x",))
    result = LocalExecutor().run(RunRequest(**{**base.__dict__, **change}))
    assert not result.ok and result.exit_code == 2 and result.report is None
    assert expected in result.log


def test_a_crashing_agent_is_a_result(tmp_path: Path) -> None:
    """An interpreter that dies at once (as a broken install would) is a crash, not an error."""
    crash = tmp_path / "crash.py"
    crash.write_text("import sys\nsys.stderr.write('Traceback: boom\\n')\nsys.exit(70)\n")
    executor = LocalExecutor(python=sys.executable)
    executor.command = lambda: [sys.executable, str(crash)]  # type: ignore[method-assign]
    result = executor.run(request(tmp_path, ("web::x",)))
    assert (result.ok, result.exit_code, result.report) == (False, 70, None)
    assert "boom" in result.log
    crash.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    killed = executor.run(request(tmp_path, ("web::x",)))
    assert (killed.ok, killed.exit_code) == (False, 137)
    assert "killed by signal 9" in killed.log
    missing = LocalExecutor(python=str(tmp_path / "no-python")).run(request(tmp_path, ("w::x",)))
    assert (missing.ok, missing.exit_code) == (False, 125)
    assert "cannot start the agent" in missing.log


# -- health-check commands on the node -----------------------------------------------------
def test_a_check_runs_in_the_nodes_release_with_the_apps_env_never_the_callers(
    tmp_path: Path,
) -> None:
    from stackops.executors import CheckRequest, LocalExecutor

    node = tmp_path / "node"
    current = node / "srv/www/web/current"
    current.mkdir(parents=True)
    (current / "health").write_text("ok")
    caller = {"PATH": os.environ["PATH"], "AWS_SECRET_ACCESS_KEY": "dispatcher-secret"}
    executor = LocalExecutor(
        env=caller,
        aws_env={"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"},
        resolve=lambda env: ({**env, "TOKEN": "s3cret"}, ("s3cret",)),
    )
    script = (
        'test -f health && test -z "$AWS_SECRET_ACCESS_KEY" && '
        'echo "$GREETING $TOKEN $AWS_ENDPOINT_URL $STACKOPS_ROOT $PWD"'
    )
    reply = executor.run_check(
        CheckRequest(
            "c-1-h",
            "i-0abc",
            ("sh", "-c", script),
            "/srv/www/web/current",
            {"GREETING": "hello", "TOKEN": {"ssm": "/p"}},
            5,
            root=str(node),
        )
    )
    assert reply.exit_code == 0, reply
    assert reply.output.split() == [
        "hello",
        MASK,
        "http://127.0.0.1:4566",
        str(node),
        str(current.resolve()),
    ]


def test_a_check_in_a_missing_release_or_past_its_timeout_is_a_failed_reply(
    tmp_path: Path,
) -> None:
    from stackops.executors import CheckRequest, LocalExecutor

    executor = LocalExecutor()
    missing = executor.run_check(
        CheckRequest("c-1-h", "i-0", ("true",), "/srv/www/web/current", {}, 5, str(tmp_path))
    )
    assert missing.exit_code is None and "no such folder on the node" in (missing.error or "")
    slow = executor.run_check(
        CheckRequest("c-1-h", "i-0", ("sleep", "5"), None, {}, 0.2, str(tmp_path))
    )
    assert slow.exit_code is None and "timed out after 0.2s" in (slow.error or "")
