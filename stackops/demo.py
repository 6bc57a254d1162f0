"""`make demo`: the story so far on the embedded sandbox, narrated.

Runs the real `stackops` command as a user would, in its own state folder
(`.stackops/demo`), on a sandbox it starts and stops itself.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stackops.config import SANDBOX_HOST, SANDBOX_PORT
from stackops.sandbox import find_free_port, port_is_free

ROOT = Path(__file__).resolve().parent.parent


class Story:
    """Runs commands in one environment and prints what happens."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.background: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start_background(self, command: str) -> None:
        """Start `stackops COMMAND &`, its output in a log file of the state folder."""
        name = command.split()[0]
        log_file = Path(self.env["STACKOPS_HOME"]) / f"{name}.log"
        print(f"\n$ stackops {command} &     # output in {log_file.name}", flush=True)
        with log_file.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "stackops", *shlex.split(command)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.background.append((name, process))

    def stop_background(self) -> None:
        """Stop the background commands (SIGTERM: they finish their batch and exit)."""
        for _name, process in self.background:
            process.terminate()
        for _name, process in self.background:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.background.clear()

    def commands(self, instance_id: str) -> list[dict[str, Any]]:
        """Show an instance's commands one line each (the full table is wide)."""
        found = self.run(f"describe-commands --instance-id {instance_id}", show=False)["Commands"]
        print(f"\n$ stackops describe-commands --instance-id {instance_id}", flush=True)
        for c in found:
            print(f"  {c['Type']:<10} {c['Status']:<11} {c.get('Summary', '')}")
        return found

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 120) -> None:
        """Poll `check` until it holds; fail the demo after `timeout` seconds."""
        print(f"  ... waiting until {what}", flush=True)
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise SystemExit(f"demo: gave up waiting until {what}")
            time.sleep(0.5)

    def say(self, text: str) -> None:
        print("\n" + textwrap.fill(textwrap.dedent(text).strip(), width=88), flush=True)

    def run(self, command: str, *, show: bool = True, check: bool = True) -> Any:
        """Run `stackops COMMAND` (shell words); print it and its output; return its JSON."""
        args = shlex.split(command)
        if show:
            print(f"\n$ stackops {' '.join(command.split())}", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "stackops", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if show:
            for line in done.stderr.splitlines():
                print(f"  {line}")
            if done.stdout.strip():
                print(textwrap.indent(done.stdout.rstrip(), "  "))
        if check and done.returncode != 0:
            raise SystemExit(f"demo: 'stackops {command}' failed:\n{done.stderr}")
        try:
            return json.loads(done.stdout)
        except ValueError:
            return done.stdout


def main() -> None:
    """Tell the story; exit non-zero if any step fails."""
    home = Path(os.environ.get("STACKOPS_HOME") or ROOT / ".stackops" / "demo")
    port = int(os.environ.get("STACKOPS_SANDBOX_PORT") or SANDBOX_PORT)
    if not port_is_free(SANDBOX_HOST, port):
        port = find_free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(STACKOPS_HOME=str(home), STACKOPS_SANDBOX_PORT=str(port))
    story = Story(env)
    story.say(
        """stackops demo. Everything below runs on the embedded sandbox, a moto server on
        loopback: no AWS account, no credentials. Each command states its target on
        stderr."""
    )
    story.run("sandbox up")
    try:
        tell(story)
        tell_lifecycle(story)
    finally:
        story.stop_background()
        story.run("sandbox down")
    story.say("The end. The README's quickstart shows the same steps by hand.")


def tell(story: Story) -> None:
    """The story so far: the AWS side, a stack by verbs and by file, instances."""
    home = Path(story.env["STACKOPS_HOME"])
    story.say("Create the AWS side: state table, lifecycle queue and DLQ, event rule, bucket.")
    story.run("bootstrap --output table")
    story.say("Run bootstrap again: it is idempotent.")
    story.run("bootstrap --output table")

    story.say("Build a stack with the OpsWorks verbs, as `aws opsworks` would.")
    stack = story.run(
        """create-stack --name shop --region us-east-1 --custom-json '{"env": "staging"}'"""
    )["StackId"]
    layer = story.run(
        f"""create-layer --stack-id {stack} --type custom --name 'App server' --shortname app
        --custom-recipes '{{"Setup": ["web::setup"], "Deploy": ["web::deploy"]}}'"""
    )["LayerId"]
    env_file = home / "web-env.json"
    env_file.write_text('[{"Key": "API_TOKEN", "Value": "not-for-your-eyes", "Secure": true}]')
    story.say(f"The app's environment comes from {env_file.name}; it holds a protected token.")
    story.run(
        f"""create-app --stack-id {stack} --name web --type other
        --app-source '{{"Type": "s3", "Url": "s3://my-bucket/web.tar.gz"}}'
        --environment file://{env_file}"""
    )
    story.say("The token went to Parameter Store; every answer shows it filtered:")
    story.run(f"describe-apps --stack-id {stack} --output yaml")
    story.run(f"get-hostname-suggestion --layer-id {layer}")
    instance = story.run(
        f"create-instance --stack-id {stack} --layer-ids {layer} --instance-type t3.micro"
    )["InstanceId"]
    story.say("Start it: the EC2 instance is launched with its stackops tags.")
    story.run(f"start-instance --instance-id {instance}")
    story.say("Start it again: refused. One EC2 instance per start, whatever the retries.")
    story.run(f"start-instance --instance-id {instance}", check=False)
    story.run(f"describe-instances --stack-id {stack} --output table")
    story.run(f"describe-stack-summary --stack-id {stack} --output table")
    story.say("Stop it with --force: no shutdown recipes (no dispatcher runs yet), EC2 stops now.")
    story.run(f"stop-instance --instance-id {instance} --force")

    story.say("Now a whole stack from one file: first the plan, then apply, then apply again.")
    story.run("apply -f stacks/demo.yaml --dry-run --output table")
    story.run("apply -f stacks/demo.yaml --output table")
    story.run("apply -f stacks/demo.yaml --output table")
    story.say("A mistake in the file names its line and column, and nothing is created:")
    broken = home / "broken.yaml"
    text = (ROOT / "stacks" / "demo.yaml").read_text()
    broken.write_text(text.replace("type: lb", "type: load-balancer"))
    story.run(f"apply -f {os.path.relpath(broken, ROOT)}", check=False)


def tell_lifecycle(story: Story) -> None:
    """Instance events drive recipes: setup, deploy, configure everywhere; shutdown."""
    home = Path(story.env["STACKOPS_HOME"])
    story.say(
        """Now the lifecycle. The dispatcher consumes instance events from the queue and runs
        the right recipes on the right instances. moto emits no EC2 events, so the watcher
        polls EC2 and publishes them, as real EC2 would. Both run in the background."""
    )
    story.start_background("dispatch --poll-wait 1")
    story.start_background("watch --interval 1")
    stack = next(
        s for s in story.run("describe-stacks", show=False)["Stacks"] if s["Name"] == "demo"
    )

    def instances() -> dict[str, dict[str, Any]]:
        found = story.run(f"describe-instances --stack-id {stack['StackId']}", show=False)
        return {i["Hostname"]: i for i in found["Instances"]}

    def statuses(*hosts: str) -> set[str]:
        current = instances()
        return {current[h]["Status"] for h in hosts}

    ids = instances()
    story.say(
        """Start the load balancer and three app servers; follow the last one with --wait
        (progress on stderr, exit 0 once it is online)."""
    )
    for host in ("lb1", "app1", "app2"):
        story.run(f"start-instance --instance-id {ids[host]['InstanceId']}")
    story.run(f"start-instance --instance-id {ids['app3']['InstanceId']} --wait")
    story.wait_for(
        "all four are online", lambda: statuses("lb1", "app1", "app2", "app3") == {"online"}
    )
    story.run(f"describe-instances --stack-id {stack['StackId']} --output table")
    story.say(
        """Each app server ran setup, then deployed the web app, went online, and then every
        online instance ran configure. Online means verified: the web service was checked
        listening on its port, and the app's health check passed. app1's commands:"""
    )
    booted = story.commands(ids["app1"]["InstanceId"])
    deploy = next(c for c in booted if c["Type"] == "deploy")
    story.say("The converge report of app1's deploy: the service is started, then checked.")
    story.run(f"logs {deploy['CommandId']}")
    lb_conf = home / "nodes" / instances()["lb1"]["Ec2InstanceId"] / "etc/lb/backends.conf"
    story.say(f"The load balancer's configuration, rendered by lb::configure ({lb_conf.name}):")
    print(textwrap.indent(lb_conf.read_text().rstrip(), "  "))
    port = 8000 + instances()["app1"]["PortOffset"]
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
    story.say(f"app1 serves its release on loopback, port {port}: {page.strip()}")

    tell_deployments(story, stack["StackId"], instances)

    story.say("Stop app2: its shutdown recipes run, EC2 stops it, the rest configure again.")
    story.run(f"stop-instance --instance-id {ids['app2']['InstanceId']}")
    story.wait_for("app2 is stopped", lambda: statuses("app2") == {"stopped"})
    story.wait_for(
        "the load balancer has dropped app2",
        lambda: "app2" not in lb_conf.read_text(),
        timeout=60,
    )
    print(textwrap.indent(lb_conf.read_text().rstrip(), "  "))
    story.say("app2's commands, and the converge report of its shutdown:")
    shutdown = story.commands(ids["app2"]["InstanceId"])[-1]
    story.run(f"logs {shutdown['CommandId']}")

    tell_autoscaling(story, stack["StackId"], instances)

    story.say("Stop the whole stack, so no service keeps running after the demo.")
    story.run(f"stop-stack --stack-id {stack['StackId']}")
    story.wait_for(
        "every instance is stopped",
        lambda: statuses("lb1", "app1", "app2", "app3") <= {"stopped"},
    )


def tell_deployments(
    story: Story, stack_id: str, instances: Callable[[], dict[str, dict[str, Any]]]
) -> None:
    """Releases by strategy, a broken one rolled back by its health check, a rollback."""
    home = Path(story.env["STACKOPS_HOME"])
    app_id = story.run(f"describe-apps --stack-id {stack_id}", show=False)["Apps"][0]["AppId"]

    def served() -> str:
        pages = {}
        for host, inst in sorted(instances().items()):
            if host.startswith("app"):
                url = f"http://127.0.0.1:{8000 + inst['PortOffset']}/"
                pages[host] = urllib.request.urlopen(url, timeout=5).read().decode().strip()
        return ", ".join(f"{host}: {page}" for host, page in pages.items())

    def deploy(extra: str, command: str = '{"Name": "deploy"}') -> None:
        story.run(
            f"create-deployment --stack-id {stack_id} --app-id {app_id} "
            f"--command '{command}' {extra} --wait",
            check=False,
        )
        story.say(f"Serving now: {served()}")

    story.say(
        """Deployments. Each one runs the app's release on its instances by a strategy,
        checks each instance's health over HTTP (loopback in the sandbox), and rolls back
        on failure. First v1 again, rolling, one instance at a time:"""
    )
    deploy("--strategy rolling --batch-size 1 --comment 'v1, one at a time'")
    broken = home / "web-v2-broken.tar.gz"
    fixed = home / "web-v2.tar.gz"
    _tarball(broken, {"index.html": "<h1>web v2</h1>"})  # no /health: it fails its check
    _tarball(fixed, {"index.html": "<h1>web v2</h1>", "health": "ok"})
    story.say("Now a broken v2, all at once: its health check fails, so it is rolled back.")
    story.run(
        f"""update-app --app-id {app_id} --app-source '{{"Type": "archive", "Url": "{broken}"}}'"""
    )
    deploy("--comment 'v2 (broken)'")
    last = story.run(f"describe-deployments --app-id {app_id}", show=False)["Deployments"][0]
    story.say("Its record says what happened and why: each command, failed or rolled back.")
    found = story.run(f"describe-commands --deployment-id {last['DeploymentId']}", show=False)
    print(f"\n$ stackops describe-commands --deployment-id {last['DeploymentId']}", flush=True)
    for c in found["Commands"]:
        print(f"  {c['Type']:<10} {c['Status']:<11} {c.get('Summary', '')}")
    story.say("The fixed v2, pilot first: one instance, its health check, then the rest.")
    story.run(
        f"""update-app --app-id {app_id} --app-source '{{"Type": "archive", "Url": "{fixed}"}}'"""
    )
    deploy("--strategy pilot --comment 'v2'")
    story.say("And back to v1 by command: a rollback redeploys an earlier deployment.")
    deploy("", command='{"Name": "rollback"}')
    story.run(f"describe-deployments --stack-id {stack_id} --output table")


def tell_autoscaling(
    story: Story, stack_id: str, instances: Callable[[], dict[str, dict[str, Any]]]
) -> None:
    """A time-based and a load-based instance come and go as the clock and the load move."""
    began = time.monotonic()
    app_layer = instances()["app1"]["LayerIds"][0]
    story.say(
        """Three kinds of instances, as in OpsWorks: 24/7 ones you start and stop yourself,
        time-based ones that follow a weekly schedule (UTC hours), and load-based ones that
        start and stop with their layer's load. The scaler (`stackops autoscale`) decides;
        here it runs one round at a time with --now, so the clock is ours to move."""
    )
    create = (
        f"create-instance --stack-id {stack_id} --layer-ids {app_layer} --instance-type t3.micro"
    )
    timer = story.run(f"{create} --hostname timer1 --auto-scaling-type timer")["InstanceId"]
    story.run(
        f"""set-time-based-auto-scaling --instance-id {timer}
        --auto-scaling-schedule '{{"Monday": {{"9": "on"}}}}'"""
    )
    burst = story.run(f"{create} --hostname burst1 --auto-scaling-type load")["InstanceId"]
    story.run(
        f"""set-load-based-auto-scaling --layer-id {app_layer} --enable
        --up-scaling '{{"InstanceCount": 1, "ThresholdsWaitTime": 1, "IgnoreMetricsTime": 1,
        "CpuThreshold": 80}}'
        --down-scaling '{{"InstanceCount": 1, "ThresholdsWaitTime": 1, "IgnoreMetricsTime": 1,
        "CpuThreshold": 20}}'"""
    )

    def status(instance_id: str) -> str:
        return next(i["Status"] for i in instances().values() if i["InstanceId"] == instance_id)

    def load(cpu: int, at: str) -> None:
        online = [i for i in instances().values() if i["Status"] == "online"]
        for node in online:
            if app_layer in node["LayerIds"]:
                story.run(
                    f"agent metrics --instance-id {node['InstanceId']} --cpu {cpu} --at {at}",
                    show=node["Hostname"] == "app1",
                )

    def scale(now: str) -> None:
        report = story.run(f"autoscale --once --now {now}", show=False)
        print(f"\n$ stackops autoscale --once --now {now}", flush=True)
        for action in report["Actions"]:
            print(f"  {action['Action']} {action['Hostname']}: {action['Reason']}")

    story.say("Monday 9:05 UTC: timer1's hour has begun. It boots like any instance.")
    scale("2026-12-07T09:05:00Z")
    story.wait_for("timer1 is online", lambda: status(timer) == "online")
    story.say(
        """The app layer runs hot: its online instances report 92% CPU (in the sandbox,
        `stackops agent metrics` takes the figures we give it; on AWS it measures)."""
    )
    load(92, "2026-12-07T09:05:30Z")
    scale("2026-12-07T09:06:00Z")
    story.wait_for("burst1 is online", lambda: status(burst) == "online")
    story.say("10:00: timer1's hour is over, and the layer has cooled down to 8%.")
    load(8, "2026-12-07T09:59:30Z")
    scale("2026-12-07T10:00:00Z")
    story.wait_for(
        "timer1 and burst1 are stopped", lambda: {status(timer), status(burst)} == {"stopped"}
    )
    history = story.run("autoscale --history --limit 4", show=False)["ScalingActions"]
    print("\n$ stackops autoscale --history --limit 4", flush=True)
    for entry in history:
        print(
            f"  {entry['DecidedAt']}  {entry['Action']:<5} {entry['Hostname']:<7} "
            f"{entry['Cause']:<8} {entry['Outcome']}"
        )
    story.say(f"Both came online and went away again in {time.monotonic() - began:.0f} s.")


def _tarball(path: Path, files: dict[str, str]) -> None:
    """A release archive for the demo."""
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main()
