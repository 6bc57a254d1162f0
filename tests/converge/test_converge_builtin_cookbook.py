"""The built-in cookbook `stackops`: setup, configure, deploy, undeploy, shutdown."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from stackops.converge import format_text, run_recipes
from stackops.converge.supervise import process_alive
from stackops.cookbooks.apps import apps_of
from stackops.errors import InvalidInput

pytestmark = pytest.mark.usefixtures("stop_services")

SERVER = "import time\nprint('serving', flush=True)\nwhile True: time.sleep(0.05)\n"


def bundle(tmp_path: Path, version: str) -> Path:
    path = tmp_path / f"web-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        data = version.encode()
        info = tarfile.TarInfo("web/VERSION")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def node(tmp_path: Path, release: str, **app: Any) -> dict[str, Any]:
    web = {
        "application": "web",
        "deploy_to": "/srv/www/web",
        "release": release,
        "scm": {"scm_type": "archive", "repository": str(bundle(tmp_path, release))},
        "environment": {"DATABASE_URL": "postgres://u:hunter2@db/web", "MODE": "prod"},
        "keep_releases": 2,
        "service": {"command": [sys.executable, "-c", SERVER]},
    }
    web["scm"]["strip_components"] = 1
    web.update(app)
    return {
        "stackops": {
            "activity": "deploy",
            "command_id": f"cmd-{release}",
            "secret_keys": ["DATABASE_URL"],
            "stack": {"id": "s-1", "name": "shop", "region": "us-east-1"},
            "instance": {"hostname": "app1", "layers": ["app"]},
            "layers": {"app": {"instances": {"app1": {"private_ip": "10.0.0.5"}}}},
        },
        "deploy": {"web": web},
    }


def pid_of(root: Path, name: str) -> int:
    return json.loads((root / f"var/run/stackops/{name}.pid").read_text())["pid"]


def test_deploy_then_redeploy_then_rollback_then_undeploy(tmp_path: Path, root: Path) -> None:
    first = run_recipes(["stackops::deploy"], node(tmp_path, "r1"), root)
    assert first.ok, format_text(first)
    web = root / "srv/www/web"
    assert (web / "current/VERSION").read_text() == "r1"
    assert (web / "current/log").is_symlink()
    env_file = web / "shared/app.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert "DATABASE_URL=postgres://u:hunter2@db/web\n" in env_file.read_text()
    text = format_text(first, verbose=True)
    assert "hunter2" not in text and "hunter2" not in json.dumps(first.to_dict())
    pid = pid_of(root, "web")

    again = run_recipes(["stackops::deploy"], node(tmp_path, "r1"), root)
    assert again.counts["changed"] == 0, format_text(again)
    assert pid_of(root, "web") == pid

    second = run_recipes(["stackops::deploy"], node(tmp_path, "r2"), root)
    assert second.ok, format_text(second)
    assert (web / "current/VERSION").read_text() == "r2"
    restarted = [n for n in second.notifications if n.resource == "service[web]"]
    assert [n.status for n in restarted] == ["changed"]
    assert pid_of(root, "web") != pid

    back_node = node(tmp_path, "r1")
    back = run_recipes(["stackops::deploy"], back_node, root)
    assert back.ok and (web / "current/VERSION").read_text() == "r1"
    assert sorted(os.listdir(web / "releases")) == ["r1", "r2"]

    last_pid = pid_of(root, "web")
    gone = run_recipes(["stackops::undeploy"], node(tmp_path, "r1"), root)
    assert gone.ok, format_text(gone)
    assert not web.exists()
    assert not process_alive(last_pid, None)


def test_setup_and_configure_are_idempotent_and_hold_no_secret(tmp_path: Path, root: Path) -> None:
    attrs = node(tmp_path, "r1")
    report = run_recipes(["stackops::setup", "stackops::configure"], attrs, root)
    assert report.ok, format_text(report)
    for folder in ("etc/stackops", "var/run/stackops", "srv/www/web/releases"):
        assert (root / folder).is_dir()
    summary = json.loads((root / "etc/stackops/node.json").read_text())
    assert summary["apps"]["web"]["environment"] == {
        "DATABASE_URL": "(secret)",
        "MODE": "prod",
    }
    assert summary["layers"]["app"]["instances"]["app1"]["private_ip"] == "10.0.0.5"
    # Another command id, same world: nothing changes.
    attrs["stackops"]["command_id"] = "cmd-other"
    again = run_recipes(["stackops::setup", "stackops::configure"], attrs, root)
    assert again.counts["changed"] == 0


def test_svn_is_not_supported_and_says_so(tmp_path: Path, root: Path) -> None:
    attrs = node(tmp_path, "r1", scm={"scm_type": "svn", "repository": "https://x/y"})
    with pytest.raises(InvalidInput, match="'svn' is not supported yet"):
        run_recipes(["stackops::deploy"], attrs, root)


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ({"scm": {"scm_type": "s3", "repository": "https://x/y.tgz"}}, "needs an s3:// URL"),
        ({"keep_releases": "five"}, "deploy.web.keep_releases"),
        ({"service": {"command": 3}}, "deploy.web.service.command"),
    ],
)
def test_bad_app_attributes_name_the_attribute(app: dict, message: str) -> None:
    base = {"release": "r1", "scm": {"repository": "/a.tgz"}}
    base.update(app)
    with pytest.raises(InvalidInput, match=message.replace(".", r"\.")):
        apps_of({"deploy": {"web": base}})


def test_deploy_needs_a_release_but_setup_does_not(tmp_path: Path) -> None:
    node = {"deploy": {"web": {"release": None, "scm": {"repository": "/a.tgz"}}}}
    assert run_recipes(["stackops::setup"], node, tmp_path).ok
    with pytest.raises(InvalidInput, match=r"deploy\.web\.release: a deploy needs a release id"):
        run_recipes(["stackops::deploy"], node, tmp_path)


def test_a_deploy_deploys_only_the_apps_with_a_release_and_leaves_the_others(
    tmp_path: Path, root: Path
) -> None:
    attrs = node(tmp_path, "r1")
    api = dict(attrs["deploy"]["web"], application="api", deploy_to="/srv/www/api")
    api["scm"] = {**api["scm"], "repository": str(bundle(tmp_path, "a1"))}
    attrs["deploy"]["api"] = api
    attrs["deploy"]["api"]["release"] = "a1"
    assert run_recipes(["stackops::deploy"], attrs, root).ok  # the boot: both apps
    api_pid = pid_of(root, "api")

    # A deployment of web: api has no release in this run, and is left as it is.
    attrs = node(tmp_path, "r2")
    attrs["deploy"]["api"] = {**api, "release": None}
    report = run_recipes(["stackops::deploy"], attrs, root)
    assert report.ok, format_text(report)
    assert (root / "srv/www/web/current/VERSION").read_text() == "r2"
    assert (root / "srv/www/api/current/VERSION").read_text() == "a1"
    assert pid_of(root, "api") == api_pid
    assert not any("api" in r.resource for r in report.results if r.recipe == "stackops::deploy")

    # An undeploy of web (marked by the command) leaves api too.
    attrs["deploy"]["web"]["undeploy"] = True
    assert run_recipes(["stackops::undeploy"], attrs, root).ok
    assert not (root / "srv/www/web").exists()
    assert (root / "srv/www/api/current/VERSION").read_text() == "a1"


def test_environment_keys_must_be_variable_names_and_values_are_quoted(
    tmp_path: Path, root: Path
) -> None:
    hostile = node(tmp_path, "r1", environment={"X;touch /tmp/pwned;Y": "v"})
    with pytest.raises(InvalidInput, match=r"deploy\.web\.environment: 'X;touch"):
        run_recipes(["stackops::deploy"], hostile, root)
    assert not (root / "srv/www/web/shared/app.env").exists()

    quoted = node(tmp_path, "r1", environment={"GREETING": "it's $(touch pwned) `id`"})
    assert run_recipes(["stackops::deploy"], quoted, root).ok
    env_file = root / "srv/www/web/shared/app.env"
    sourced = subprocess.run(
        ["sh", "-c", f'. {env_file} && printf %s "$GREETING"'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert sourced.stdout == "it's $(touch pwned) `id`"
    assert not (tmp_path / "pwned").exists()


def test_node_json_is_readable_by_root_only_and_follows_a_changed_secret(
    tmp_path: Path, root: Path
) -> None:
    attrs = node(tmp_path, "r1", environment={"API_TOKEN": "first-token"})
    attrs["stackops"]["secret_keys"] = []  # a value resolved from Parameter Store, unmasked
    assert run_recipes(["stackops::configure"], attrs, root).ok
    path = root / "etc/stackops/node.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "first-token" in path.read_text()
    attrs["deploy"]["web"]["environment"] = {"API_TOKEN": "second-token"}
    assert run_recipes(["stackops::configure"], attrs, root).ok
    assert "first-token" not in path.read_text() and "second-token" in path.read_text()
