"""Small helpers shared by the tests."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result


def ok_json(result: Result) -> Any:
    """The JSON a successful command printed (fails the test with its stderr otherwise)."""
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}{result.exception!r}"
    return json.loads(result.stdout) if result.stdout.strip() else None
