"""What `start-instance` hands EC2 so the instance gets its agent: UserData and a profile.

UserData is a cloud-init shell script: it installs a Python the agent runs on,
downloads the agent's wheels from the artifacts bucket with `stackops.s3get`
(stdlib only, the instance role's credentials), creates a venv and installs
stackops with `pip install --no-index`, and puts `stackops` on PATH for the SSM
agent, which the AMI brings (Amazon Linux 2023, Ubuntu 22.04 and 24.04).
The stack's AgentVersion pins the version; LATEST (or none) takes the newest
one `stackops bootstrap` uploaded.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stackops.agent_bundle import LATEST_KEY, manifest_key, version_prefix
from stackops.aws.iam_policy import INSTANCE_ROLE, resource_name
from stackops.aws.session import error_code
from stackops.errors import AwsFailure, InvalidInput, NotFound

if TYPE_CHECKING:
    from stackops.model.instances import Instance
    from stackops.model.layers import Layer
    from stackops.model.stacks import Stack
    from stackops.services import Services

LATEST = "LATEST"


@dataclass(frozen=True)
class InstallLayout:
    """Where the agent goes on the instance."""

    home: str = "/opt/stackops"
    bin_dir: str = "/usr/local/bin"
    log: str = "/var/log/stackops-install.log"

    @property
    def venv(self) -> str:
        return f"{self.home}/venv"

    @property
    def wheels(self) -> str:
        return f"{self.home}/wheels"


# OS name (as stacks and instances say it) -> shell lines that set PY to a Python >= 3.11
PYTHON_SETUP = {
    "Amazon Linux 2023": [
        "dnf install -y -q python3.11 python3.11-pip",
        "PY=python3.11",
    ],
    "Ubuntu 22.04 LTS": [
        "export DEBIAN_FRONTEND=noninteractive",
        "apt-get update -q",
        "apt-get install -y -q python3.11 python3.11-venv",
        "PY=python3.11",
    ],
    "Ubuntu 24.04 LTS": [
        "export DEBIAN_FRONTEND=noninteractive",
        "apt-get update -q",
        "apt-get install -y -q python3-venv",
        "PY=python3",
    ],
}
UNSUPPORTED_OS = {"Amazon Linux 2": "it has no Python 3.11; use Amazon Linux 2023"}


def python_setup(os_name: str | None) -> list[str]:
    """The lines for `os_name`; for a custom AMI, lines that look at /etc/os-release."""
    if os_name in PYTHON_SETUP:
        return PYTHON_SETUP[os_name]
    if os_name in UNSUPPORTED_OS:
        raise InvalidInput(
            f"operating system {os_name!r} cannot run the stackops agent: {UNSUPPORTED_OS[os_name]}"
        )
    cases = []
    for name, key in (
        ("Amazon Linux 2023", "amzn:2023"),
        ("Ubuntu 22.04 LTS", "ubuntu:22.04"),
        ("Ubuntu 24.04 LTS", "ubuntu:24.04"),
    ):
        body = "; ".join(PYTHON_SETUP[name])
        cases.append(f"  {key}) {body} ;;")
    return [
        ". /etc/os-release",
        'case "$ID:$VERSION_ID" in',
        *cases,
        '  *) echo "stackops: $PRETTY_NAME is not a documented AMI" >&2; exit 1 ;;',
        "esac",
    ]


def render_user_data(
    *,
    os_name: str | None,
    bucket: str,
    region: str,
    version: str,
    endpoint_url: str | None = None,
    layout: InstallLayout | None = None,
) -> str:
    """The cloud-init script that installs stackops `version` on a fresh instance."""
    layout = layout or InstallLayout()
    q = shlex.quote
    fetch = [
        '"$PY"',
        q(f"{layout.home}/s3get.py"),
        "--bucket",
        q(bucket),
        "--region",
        q(region),
        "--prefix",
        q(version_prefix(version)),
        "--dest",
        q(layout.wheels),
    ]
    if endpoint_url:
        fetch += ["--endpoint-url", q(endpoint_url)]
    downloader = (Path(__file__).with_name("s3get.py")).read_text()
    wrapper = (
        f"#!/bin/sh\nexport AWS_DEFAULT_REGION=${{AWS_DEFAULT_REGION:-{region}}}\n"
        f'exec {layout.venv}/bin/stackops "$@"\n'
    )
    lines = [
        "#!/bin/bash",
        f"# stackops agent {version}: rendered by stackops start-instance; log in {layout.log}",
        "set -euo pipefail",
        f"exec >>{q(layout.log)} 2>&1",
        f'echo "stackops: installing the agent {version} $(date -u +%FT%TZ)"',
        "# -- python",
        *python_setup(os_name),
        "# -- agent",
        f"install -d -m 0755 {q(layout.home)} {q(layout.wheels)} {q(layout.bin_dir)}",
        f"cat >{q(layout.home)}/s3get.py <<'STACKOPS_S3GET'",
        downloader.rstrip("\n"),
        "STACKOPS_S3GET",
        " ".join(fetch),
        f'"$PY" -m venv {q(layout.venv)}',
        f"{q(layout.venv)}/bin/pip install --quiet --no-index --find-links "
        f"{q(layout.wheels)} {q(f'stackops=={version}')}",
        f"cat >{q(layout.bin_dir)}/stackops <<'STACKOPS_BIN'",
        wrapper.rstrip("\n"),
        "STACKOPS_BIN",
        f"chmod 0755 {q(layout.bin_dir)}/stackops",
        f'echo "stackops: agent {version} installed: $({q(layout.bin_dir)}/stackops --version)"',
    ]
    return "\n".join(lines) + "\n"


def agent_version(services: Services, stack: Stack) -> str | None:
    """The agent version to install: the stack's pin, or the newest uploaded; None when
    none was uploaded (an AMI with stackops baked in, or a sandbox, whose nodes need none)."""
    bucket = services.artifacts
    pinned = stack.agent_version if stack.agent_version not in (None, "", LATEST) else None
    if pinned:
        try:
            bucket.get_object(manifest_key(pinned))
        except NotFound:
            raise InvalidInput(
                f"stack {stack.name}: AgentVersion {pinned} is not in s3://{bucket.name}/"
                f"{version_prefix(pinned)}",
                hint="upload it with 'stackops bootstrap --agent-wheels DIR', or set "
                "AgentVersion to LATEST",
            ) from None
        return pinned
    try:
        latest = json.loads(bucket.get_object(LATEST_KEY))
    except NotFound:
        return None  # nothing uploaded: the AMI brings the agent, or a sandbox needs none
    except AwsFailure as exc:
        if error_code(exc) == "NoSuchBucket":
            return None  # not bootstrapped: the dispatcher will say so
        raise
    return str(latest["version"])


def instance_profile_arn(services: Services, stack: Stack, layers: list[Layer]) -> str:
    """A layer's custom profile, else the stack's default, else the namespace's instance
    profile that `stackops bootstrap` created."""
    custom = next(
        (la.custom_instance_profile_arn for la in layers if la.custom_instance_profile_arn), None
    )
    if custom or stack.default_instance_profile_arn:
        return custom or stack.default_instance_profile_arn  # type: ignore[return-value]
    from stackops.arns import partition

    name = resource_name(services.names, INSTANCE_ROLE)
    account = services.session.account_id()
    return f"arn:{partition(services.region)}:iam::{account}:instance-profile/{name}"


def agent_launch(
    services: Services, stack: Stack, layers: list[Layer], instance: Instance
) -> tuple[str | None, str]:
    """(UserData or None, instance profile ARN) for launching `instance`."""
    profile = instance_profile_arn(services, stack, layers)
    version = agent_version(services, stack)
    if version is None:
        return None, profile
    user_data = render_user_data(
        os_name=instance.os or stack.default_os,
        bucket=services.artifacts.name,
        region=services.region,
        version=version,
        endpoint_url=services.session.target.endpoint_url,
    )
    return user_data, profile
