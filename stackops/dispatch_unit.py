"""`stackops dispatch --print-systemd-unit`: the dispatcher as a systemd service.

The unit runs this very stackops (`<python> -m stackops`) with the global options
it was given, as a transient user with its state in /var/lib/stackops, restarts
it when it dies, and gives in-flight runs time to end on stop (the dispatcher
stops polling at SIGTERM and finishes what it holds; what it cannot finish comes
back through the queue).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

STATE = "/var/lib/stackops"
STOP_SECONDS = 660  # a run's default budget (600 s) and a margin


def systemd_unit(
    *,
    namespace: str,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    executor: str,
    workers: int,
    visibility_timeout: int,
    cookbooks: Sequence[str] = (),
    python: str = sys.executable,
) -> str:
    """The unit file's text."""
    argv = [python, "-m", "stackops", "--namespace", namespace]
    for option, value in (
        ("--region", region),
        ("--profile", profile),
        ("--endpoint-url", endpoint_url),
    ):
        if value:
            argv += [option, value]
    argv += ["dispatch", "--executor", executor, "--workers", str(workers)]
    argv += ["--visibility-timeout", str(visibility_timeout)]
    for folder in cookbooks:
        argv += ["--cookbooks", folder]
    lines = [
        "# stackops dispatch --print-systemd-unit > /etc/systemd/system/stackops-dispatch.service",
        "# systemctl daemon-reload && systemctl enable --now stackops-dispatch",
        "# Credentials: the host's instance profile (<namespace>-dispatcher, made by",
        "# 'stackops bootstrap'), or AWS_PROFILE with AWS_CONFIG_FILE in an Environment= line.",
        "[Unit]",
        f"Description=stackops lifecycle dispatcher (namespace {namespace})",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={shlex.join(argv)}",
        f"Environment=STACKOPS_HOME={STATE}",
        "Environment=PYTHONUNBUFFERED=1",
        f"WorkingDirectory={STATE}",
        "StateDirectory=stackops",
        "DynamicUser=yes",
        "Restart=always",
        "RestartSec=5",
        "KillSignal=SIGTERM",
        "KillMode=mixed",
        f"TimeoutStopSec={STOP_SECONDS}",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=read-only",
        "PrivateTmp=yes",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"
