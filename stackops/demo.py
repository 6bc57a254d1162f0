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
from pathlib import Path
from typing import Any

from stackops.config import SANDBOX_HOST, SANDBOX_PORT
from stackops.sandbox import find_free_port, port_is_free

ROOT = Path(__file__).resolve().parent.parent


class Story:
    """Runs commands in one environment and prints what happens."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def say(self, text: str) -> None:
        print("\n" + textwrap.fill(textwrap.dedent(text).strip(), width=88), flush=True)

    def run(self, command: str, *, show: bool = True, check: bool = True) -> Any:
        """Run `stackops COMMAND` (shell words); print it and its output; return its JSON."""
        args = shlex.split(command)
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
    finally:
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
    story.run(f"stop-instance --instance-id {instance}")

    story.say("Now a whole stack from one file: first the plan, then apply, then apply again.")
    story.run("apply -f stacks/demo.yaml --dry-run --output table")
    story.run("apply -f stacks/demo.yaml --output table")
    story.run("apply -f stacks/demo.yaml --output table")
    story.say("A mistake in the file names its line and column, and nothing is created:")
    broken = home / "broken.yaml"
    text = (ROOT / "stacks" / "demo.yaml").read_text()
    broken.write_text(text.replace("type: lb", "type: load-balancer"))
    story.run(f"apply -f {os.path.relpath(broken, ROOT)}", check=False)


if __name__ == "__main__":
    main()
