"""`stackops dispatch --print-systemd-unit`: the dispatcher as a service."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys

import pytest


def test_the_unit_runs_this_stackops_with_the_options_given(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cookbooks").mkdir()
    result = invoke(
        "--namespace", "shop", "--region", "eu-west-1", "dispatch", "--print-systemd-unit",
        "--workers", "4", "--cookbooks", "cookbooks",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # no target: nothing was asked of AWS
    unit = result.stdout
    (exec_line,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    argv = shlex.split(exec_line.removeprefix("ExecStart="))
    assert argv == [
        sys.executable, "-m", "stackops", "--namespace", "shop", "--region", "eu-west-1",
        "dispatch", "--executor", "ssm", "--workers", "4", "--visibility-timeout", "300",
        "--cookbooks", str(tmp_path / "cookbooks"),
    ]  # fmt: skip
    for line in ("Restart=always", "KillSignal=SIGTERM", "StateDirectory=stackops"):
        assert line in unit.splitlines()
    # The command line it names is one stackops accepts.
    done = subprocess.run([*argv, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "--executor" in done.stdout

    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    path = tmp_path / "stackops-dispatch.service"
    path.write_text(unit)
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stderr
