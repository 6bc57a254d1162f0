"""What both benchmarks share: an offline AWS environment and the CLI run in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from stackops.cli.main import cli

REGION = "us-east-1"


def offline_environment(home: Path) -> dict[str, str | None]:
    """Fake credentials, no profile or endpoint, state in `home`; returns what to restore."""
    wanted: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
        "AWS_ENDPOINT_URL": None,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "STACKOPS_HOME": str(home),
    }
    saved = {name: os.environ.get(name) for name in wanted}
    set_environment(wanted)
    return saved


def set_environment(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def stackops(*args: str) -> Any:
    """Run `stackops ARGS...` in-process, as the tests do; the JSON it printed."""
    result = CliRunner().invoke(cli, list(args))
    if result.exit_code != 0:
        raise SystemExit(f"stackops {' '.join(args)} failed: {result.stderr}{result.exception!r}")
    return json.loads(result.stdout) if result.stdout.strip() else None


def stop_services(nodes: Path) -> None:
    """End every process a recipe started under the node roots (the no-op recipes start none)."""
    from stackops.nodes import end_nodes

    end_nodes(nodes, grace=1.0)
