"""`stackops agent apply` with a stack's custom cookbooks and git app sources."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

from tests.helpers import ok_json

RECIPE = """\
def recipe(run):
    run.file("/etc/site/flavour", content="{text}\\n", mode=0o644)
"""


def payload(tmp_path: Path, node: dict[str, Any], recipes: list[str], **extra: Any) -> Path:
    root = tmp_path / "node"
    root.mkdir(exist_ok=True)
    data = {
        "command_id": extra.pop("command_id", "c-1"),
        "recipes": recipes,
        "node": node,
        "timeout": 60,
        "root": str(root),
        **extra,
    }
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(data))
    return path


def cookbook_node(activity: str, source: dict[str, Any]) -> dict[str, Any]:
    return {"stackops": {"activity": activity, "custom_cookbooks": source}}


def run(invoke, path: Path) -> dict[str, Any]:
    return ok_json(invoke("agent", "apply", "--payload", str(path), "--output", "json"))


def test_git_cookbooks_are_fetched_on_setup_and_cached_by_commit(repo, tmp_path, invoke):
    first = repo.commit({"site/setup.py": RECIPE.format(text="one")}, "one")
    source = {"type": "git", "url": str(repo.bare), "revision": "main"}
    report = run(invoke, payload(tmp_path, cookbook_node("setup", source), ["site::setup"]))
    assert report["ok"] is True
    assert report["cookbooks"] == {
        "source": f"git {repo.bare} at main",
        "revision": first,
        "path": f"/var/lib/stackops/cookbooks/{first}",
        "fetched": True,
    }
    node_root = tmp_path / "node"
    assert (node_root / "etc/site/flavour").read_text() == "one\n"
    assert os.readlink(node_root / "var/lib/stackops/cookbooks/current") == first

    # Other runs use the cached revision: no network (the repository may even be gone).
    shutil.move(repo.bare, tmp_path / "away.git")
    again = run(invoke, payload(tmp_path, cookbook_node("configure", source), ["site::setup"]))
    assert again["cookbooks"]["revision"] == first and again["cookbooks"]["fetched"] is False
    shutil.move(tmp_path / "away.git", repo.bare)

    # Setup again (update_custom_cookbooks runs setup): the new commit is fetched.
    second = repo.commit({"site/setup.py": RECIPE.format(text="two")}, "two")
    report = run(invoke, payload(tmp_path, cookbook_node("setup", source), ["site::setup"]))
    assert report["cookbooks"]["revision"] == second and report["cookbooks"]["fetched"] is True
    assert (node_root / "etc/site/flavour").read_text() == "two\n"
    # Setup with nothing new asks the remote and reuses the folder of that commit.
    same = run(invoke, payload(tmp_path, cookbook_node("setup", source), ["site::setup"]))
    assert same["cookbooks"]["fetched"] is False
    cached = sorted(p.name for p in (node_root / "var/lib/stackops/cookbooks").iterdir())
    assert cached == sorted([first, second, "current"])


def test_fetched_cookbooks_shadow_the_payload_paths_and_fall_back_to_built_in(
    repo, tmp_path, invoke
):
    repo.commit({"site/setup.py": RECIPE.format(text="fetched")}, "one")
    local = tmp_path / "local-cookbooks" / "site"
    local.mkdir(parents=True)
    (local / "setup.py").write_text(RECIPE.format(text="local"))
    source = {"type": "git", "url": str(repo.bare)}
    path = payload(
        tmp_path,
        cookbook_node("setup", source),
        ["stackops::configure", "site::setup"],
        cookbook_paths=[str(local.parent)],
    )
    report = run(invoke, path)
    assert (tmp_path / "node/etc/site/flavour").read_text() == "fetched\n"
    assert (tmp_path / "node/etc/stackops/node.json").is_file()  # the built-in cookbook
    assert report["cookbooks"]["source"] == f"git {repo.bare}"  # no revision: HEAD


def test_archive_cookbooks_with_a_revision_are_downloaded_once(aws, tmp_path, invoke):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="cookbooks")

    def upload(text: str) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            body = RECIPE.format(text=text).encode()
            info = tarfile.TarInfo("repo-abc/site/setup.py")  # GitHub-style wrapping folder
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        s3.put_object(Bucket="cookbooks", Key="cb.tar.gz", Body=buffer.getvalue())

    upload("r1")
    source = {"type": "s3", "url": "s3://cookbooks/cb.tar.gz", "revision": "r1"}
    report = run(invoke, payload(tmp_path, cookbook_node("setup", source), ["site::setup"]))
    assert report["cookbooks"]["revision"] == "r1" and report["cookbooks"]["fetched"] is True
    assert (tmp_path / "node/etc/site/flavour").read_text() == "r1\n"
    s3.delete_object(Bucket="cookbooks", Key="cb.tar.gz")  # same revision: nothing to download
    report = run(invoke, payload(tmp_path, cookbook_node("setup", source), ["site::setup"]))
    assert report["cookbooks"]["fetched"] is False
    upload("r2")
    source["revision"] = "r2"
    report = run(invoke, payload(tmp_path, cookbook_node("setup", source), ["site::setup"]))
    assert report["cookbooks"]["revision"] == "r2"
    assert (tmp_path / "node/etc/site/flavour").read_text() == "r2\n"


def test_an_unreachable_cookbook_source_fails_the_run_clearly(tmp_path, invoke):
    source = {"type": "git", "url": str(tmp_path / "nothing.git"), "revision": "main"}
    path = payload(tmp_path, cookbook_node("setup", source), ["stackops::setup"])
    result = invoke("agent", "apply", "--payload", str(path))
    assert result.exit_code == 1
    assert "nothing.git" in result.stderr and "git ls-remote failed" in result.stderr
    assert "Traceback" not in result.output


def test_a_git_app_is_deployed_from_its_revision(repo, tmp_path, invoke):
    repo.commit({"index.html": "v1\n"}, "one", tag="v1")
    repo.commit({"index.html": "v2\n"}, "two")
    node = {
        "stackops": {"activity": "deploy"},
        "deploy": {
            "web": {
                "deploy_to": "/srv/www/web",
                "release": "r1",
                "scm": {"scm_type": "git", "repository": str(repo.bare), "revision": "v1"},
            }
        },
    }
    report = run(invoke, payload(tmp_path, node, ["stackops::deploy"]))
    assert report["ok"] is True
    current = tmp_path / "node/srv/www/web/current"
    assert (current / "index.html").read_text() == "v1\n"


FAKE_SSH = """#!/bin/sh
# Plays ssh for git: checks the key it is given, then runs the remote command locally.
key=""
while [ $# -gt 1 ]; do
  case "$1" in
    -i) key="$2"; shift 2;;
    -o|-p) shift 2;;
    *) last_host="$1"; shift;;
  esac
done
stat -c '%a' "$key" > "{log}.mode"
cat "$key" > "{log}.key"
dirname "$key" > "{log}.dir"
exec sh -c "$1"
"""


def test_an_ssh_key_from_parameter_store_is_used_from_a_0600_file_and_never_shown(
    aws, repo, tmp_path, invoke, monkeypatch
):
    repo.commit({"index.html": "private\n"}, "one")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    log = tmp_path / "ssh"
    (fake_bin / "ssh").write_text(FAKE_SSH.replace("{log}", str(log)))
    (fake_bin / "ssh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecretkeymaterial0123456789\n-----END-----"
    aws.client("ssm").put_parameter(
        Name="/stackops/secrets/apps/a1/source/ssh_key", Value=key, Type="SecureString"
    )
    url = f"ssh://git@git.example.invalid{repo.bare}"
    scm = {
        "scm_type": "git",
        "repository": url,
        "revision": "main",
        "ssh_key": {"ssm": "/stackops/secrets/apps/a1/source/ssh_key"},
    }
    node = {
        "stackops": {"activity": "deploy", "stack": {"region": "us-east-1"}},
        "deploy": {"web": {"deploy_to": "/srv/www/web", "release": "r1", "scm": scm}},
    }
    result = invoke(
        "agent", "apply", "--payload", str(payload(tmp_path, node, ["stackops::deploy"])),
        "--output", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "node/srv/www/web/current/index.html").read_text() == "private\n"
    assert log.with_suffix(".mode").read_text().strip() == "600"
    assert log.with_suffix(".key").read_text().strip() == key
    assert not Path(log.with_suffix(".dir").read_text().strip()).exists()  # removed after use
    assert "secretkeymaterial" not in result.output
