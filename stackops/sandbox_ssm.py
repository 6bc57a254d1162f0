"""The sandbox plays the instance side of SSM Run Command (DESIGN §12).

moto records `send_command` and answers Success at once, running nothing. In the
sandbox server's process this agent takes over from there, as the SSM agent on
an instance would: each new invocation starts Pending, is picked up (InProgress),
its AWS-RunShellScript `commands` run with /bin/sh on the node folder of its EC2
instance (`<state home>/nodes/<instance id>`, the agent's root), killed at its
executionTimeout,
and its status, response code and output (24,000 / 8,000 characters, as SSM
keeps) are what `get_command_invocation` then answers. `cancel_command` (which
moto lacks) stops a run. Where an instance keeps `stackops` on PATH, the node
has a shim running this stackops, with the node folder as the agent's root and
the sandbox as its endpoint; the agent itself uploads its report to S3, as on
an instance.

Differences from the real thing: an instance that is not running gets its
invocation timed out (DeliveryTimedOut) at once rather than after the delivery
timeout; only AWS-RunShellScript runs; the shell starts in the folder the
sandbox was started from (as the local executor's agent starts in the
dispatcher's), so a stack's relative paths mean the same with either executor.
"""

from __future__ import annotations

import datetime
import os
import queue
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from stackops.processes import end_process_tree

STDOUT_LIMIT = 24_000
STDERR_LIMIT = 8_000
SHELL_DOCUMENT = "AWS-RunShellScript"
DEFAULT_TIMEOUT = 3600
PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


class SandboxSsmAgent:
    """Runs the commands moto records, on the sandbox's node folders."""

    def __init__(
        self, home: Path, endpoint_url: str, *, python: str = sys.executable, workers: int = 8
    ) -> None:
        self.home = home
        self.endpoint_url = endpoint_url
        self.python = python
        self._queue: queue.Queue[tuple[Any, Any, str] | None] = queue.Queue()
        self._running: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
        self._cancelled: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"sandbox-ssm-{n}", daemon=True)
            for n in range(workers)
        ]
        self._stopping = False

    # -- wiring into moto --------------------------------------------------------------
    def install(self) -> None:
        """Hook moto's SSM: new commands go Pending and to this agent; cancel_command works."""
        from moto.ssm.models import SimpleSystemManagerBackend
        from moto.ssm.responses import SimpleSystemManagerResponse

        agent = self
        original = SimpleSystemManagerBackend.send_command

        def send_command(backend: Any, *args: Any, **kwargs: Any) -> Any:
            wanted = list(dict.fromkeys(kwargs.get("instance_ids") or []))  # moto extends it
            command = original(backend, *args, **kwargs)
            if wanted and not kwargs.get("targets"):
                # moto adds every instance of the region when no Targets are given
                command.instance_ids = wanted
                command.invocations = [i for i in command.invocations if i["InstanceId"] in wanted]
                command.target_count = len(wanted)
            agent.accept(backend, command)
            return command

        def cancel_command(response: Any) -> str:
            command_id = response._get_param("CommandId")
            instance_ids = response._get_param("InstanceIds") or []
            agent.cancel(command_id, instance_ids)
            return "{}"

        SimpleSystemManagerBackend.send_command = send_command  # type: ignore[method-assign]
        SimpleSystemManagerResponse.cancel_command = cancel_command  # type: ignore[attr-defined]
        self._write_shim()
        for thread in self._threads:
            thread.start()

    def accept(self, backend: Any, command: Any) -> None:
        """Mark a new command's invocations Pending and queue them."""
        command.status, command.status_details = "Pending", "Pending"
        command.completed_count = 0
        for invocation in command.invocations:
            invocation.update(
                Status="Pending",
                StatusDetails="Pending",
                ResponseCode=-1,
                ExecutionStartDateTime="",
                ExecutionEndDateTime="",
                ExecutionElapsedTime="",
            )
            self._queue.put((backend, command, invocation["InstanceId"]))

    def cancel(self, command_id: str, instance_ids: list[str]) -> None:
        """Stop the command's runs (all its instances when none are named)."""
        with self._lock:
            for (cid, instance), proc in list(self._running.items()):
                if cid == command_id and (not instance_ids or instance in instance_ids):
                    self._cancelled.add((cid, instance))
                    end_process_tree(proc, grace=2.0)

    def stop(self) -> None:
        """End every run in progress and the workers (the sandbox is going down)."""
        self._stopping = True
        for _ in self._threads:
            self._queue.put(None)
        with self._lock:
            for proc in self._running.values():
                end_process_tree(proc, grace=2.0)

    # -- running -----------------------------------------------------------------------
    def shim_dir(self) -> Path:
        return self.home / "ssm-agent" / "bin"

    def _write_shim(self) -> None:
        folder = self.shim_dir()
        folder.mkdir(parents=True, exist_ok=True)
        shim = folder / "stackops"
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(self.python)} -m stackops "$@"\n')
        shim.chmod(0o755)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            backend, command, instance = item
            try:
                self._run(backend, command, instance)
            except Exception as exc:  # the sandbox keeps serving whatever one run does
                self._finish(command, instance, "Failed", "Failed", -1, "", f"sandbox: {exc!r}")

    def _run(self, backend: Any, command: Any, instance: str) -> None:
        if self._stopping:
            return
        state = _instance_state(backend, instance)
        if state != "running":
            detail = f"instance {instance} is {state or 'unknown'}"
            self._finish(command, instance, "TimedOut", "DeliveryTimedOut", -1, "", detail)
            return
        if command.document_name != SHELL_DOCUMENT:
            why = f"the sandbox SSM agent runs {SHELL_DOCUMENT} only"
            self._finish(command, instance, "Failed", "Failed", -1, "", why)
            return
        script = "\n".join(command.parameters.get("commands", []))
        timeout = int((command.parameters.get("executionTimeout") or [DEFAULT_TIMEOUT])[0])
        node = self.home / "nodes" / instance
        node.mkdir(parents=True, exist_ok=True)
        started = _now()
        self._update(command, instance, Status="InProgress", StatusDetails="InProgress")
        self._update(command, instance, ExecutionStartDateTime=started.isoformat())
        proc = subprocess.Popen(
            ["/bin/sh", "-c", script],
            env=self._env(node, backend.region_name),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        key = (command.command_id, instance)
        with self._lock:
            self._running[key] = proc
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            end_process_tree(proc, grace=2.0)
            out, err = proc.communicate()
            timed_out = True
        finally:
            with self._lock:
                self._running.pop(key, None)
        stdout = out.decode("utf-8", "replace")[:STDOUT_LIMIT]
        stderr = err.decode("utf-8", "replace")[:STDERR_LIMIT]
        if key in self._cancelled:
            self._finish(command, instance, "Cancelled", "Cancelled", -1, stdout, stderr)
        elif timed_out:
            self._finish(command, instance, "TimedOut", "ExecutionTimedOut", -1, stdout, stderr)
        else:
            status = "Success" if proc.returncode == 0 else "Failed"
            self._finish(command, instance, status, status, proc.returncode, stdout, stderr)

    def _env(self, node: Path, region: str) -> dict[str, str]:
        """What the SSM agent's shell sees on this node: stackops on PATH, the node as the
        agent's root, the sandbox as AWS (the instance role's place)."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "STACKOPS_")) and k != "PYTHONPATH"
        }
        env.update(
            PATH=f"{self.shim_dir()}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            PYTHONPATH=PACKAGE_PARENT,
            AWS_ENDPOINT_URL=self.endpoint_url,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION=region,
            STACKOPS_HOME=str(self.home),
            STACKOPS_AGENT_ROOT=str(node),
        )
        return env

    def _update(self, command: Any, instance: str, **fields: Any) -> None:
        for invocation in command.invocations:
            if invocation["InstanceId"] == instance:
                invocation.update(fields)

    def _finish(
        self,
        command: Any,
        instance: str,
        status: str,
        details: str,
        code: int,
        stdout: str,
        stderr: str,
    ) -> None:
        self._update(
            command,
            instance,
            Status=status,
            StatusDetails=details,
            ResponseCode=code,
            StandardOutputContent=stdout,
            StandardErrorContent=stderr,
            ExecutionEndDateTime=_now().isoformat(),
        )
        finished = [i for i in command.invocations if i["Status"] not in ("Pending", "InProgress")]
        command.completed_count = len(finished)
        if len(finished) == len(command.invocations):
            failed = [i for i in finished if i["Status"] != "Success"]
            command.status = "Failed" if failed else "Success"
            command.status_details = command.status
            command.error_count = len(failed)


def _instance_state(backend: Any, instance_id: str) -> str | None:
    from moto.ec2.models import ec2_backends

    try:
        found = ec2_backends[backend.account_id][backend.region_name].get_instance(instance_id)
    except Exception:
        return None
    return found.state


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
