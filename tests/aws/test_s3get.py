"""The stdlib downloader of UserData: its signatures are botocore's, and it installs the agent."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import pytest

from stackops import s3get
from stackops.agent_bundle import read_bundle
from stackops.agent_install import InstallLayout, render_user_data
from stackops.sandbox import find_free_port, start_sandbox, stop_sandbox
from tests.aws.wheels import agent_wheels
from tests.helpers import ok_json


@pytest.mark.parametrize("token", ["", "session-token"])
def test_signatures_are_the_ones_botocore_computes(monkeypatch, token):
    now = datetime.datetime(2026, 11, 30, 12, 34, 56, tzinfo=datetime.UTC)
    creds = {"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "wJalr/K7MDENG", "Token": token}
    url = s3get.object_url("my-bucket", "agent/0.1.0/some wheel+1.whl", "eu-west-1", None)
    assert url == ("https://my-bucket.s3.eu-west-1.amazonaws.com/agent/0.1.0/some%20wheel%2B1.whl")
    ours = s3get.signed_headers(url, "eu-west-1", creds, now)

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: now)
    request = botocore.awsrequest.AWSRequest(method="GET", url=url)
    config = botocore.config.Config(s3={"payload_signing_enabled": False})
    request.context["client_config"] = config  # S3 over https: an unsigned payload
    credentials = botocore.credentials.Credentials(
        creds["AccessKeyId"], creds["SecretAccessKey"], token or None
    )
    botocore.auth.S3SigV4Auth(credentials, "s3", "eu-west-1").add_auth(request)
    assert request.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["x-amz-date"] == request.headers["X-Amz-Date"]


def test_china_and_other_endpoints_are_addressed_right():
    assert s3get.object_url("b", "k", "cn-north-1", None) == (
        "https://b.s3.cn-north-1.amazonaws.com.cn/k"
    )
    assert s3get.object_url("b", "a/k", "r", "http://127.0.0.1:4566/") == (
        "http://127.0.0.1:4566/b/a/k"
    )


@pytest.mark.server
def test_the_user_data_installs_the_agent_from_the_bucket(tmp_path, invoke, monkeypatch):
    """Everything UserData does after installing Python, run for real against a sandbox."""
    home = tmp_path / "home"
    info = start_sandbox(home, find_free_port())
    try:
        monkeypatch.setenv("STACKOPS_HOME", str(home))
        wheels = agent_wheels(tmp_path / "wheels", "0.3.0")
        ok_json(invoke("bootstrap", "--agent-wheels", str(wheels)))
        bucket = "stackops-artifacts-123456789012-us-east-1"
        layout = InstallLayout(
            home=str(tmp_path / "opt"), bin_dir=str(tmp_path / "bin"), log=str(tmp_path / "log")
        )
        script = render_user_data(
            os_name="Amazon Linux 2023",
            bucket=bucket,
            region="us-east-1",
            version="0.3.0",
            endpoint_url=info.endpoint_url,
            layout=layout,
        )
        # No dnf here: the Python the script would install is this one.
        head, _, rest = script.partition("# -- python\n")
        _, _, agent = rest.partition("# -- agent\n")
        path = tmp_path / "user-data.sh"
        path.write_text(f"{head}PY={sys.executable}\n{agent}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        subprocess.run(["bash", str(path)], env=env, check=True, timeout=300)
        log = Path(layout.log).read_text()
        assert "agent 0.3.0 installed: stackops, version 0.3.0" in log, log
        assert "s3get: 8 file(s) from s3://" in log
        installed = sorted(p.name for p in Path(layout.wheels).iterdir())
        assert installed == sorted(p.name for p in read_bundle(wheels).folder.glob("*.whl"))
        done = subprocess.run(
            [str(tmp_path / "bin/stackops")], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == "stackops, version 0.3.0"

        # A wheel that is not the manifest's is refused, and nothing is installed.
        s3 = boto3.client("s3", endpoint_url=info.endpoint_url, region_name="us-east-1")
        s3.put_object(Bucket=bucket, Key="agent/0.3.0/click-1.0-py3-none-any.whl", Body=b"x")
        bad = subprocess.run(
            [sys.executable, "-m", "stackops.s3get", "--bucket", bucket, "--region", "us-east-1",
             "--prefix", "agent/0.3.0/", "--dest", str(tmp_path / "again"),
             "--endpoint-url", info.endpoint_url],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        assert bad.returncode != 0
        assert "click-1.0-py3-none-any.whl: sha256 is not the manifest's" in bad.stderr
    finally:
        stop_sandbox(home)
