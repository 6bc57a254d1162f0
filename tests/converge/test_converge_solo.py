"""`stackops solo` and `stackops recipes list` end to end, in-process and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from stackops.cli.main import cli

WEB = """
conf_dir = run.directory("/etc/web", mode=0o755)
conf = run.template("/etc/web/web.conf", source="web.conf.j2",
                    variables={"port": run.node["web"]["port"], "name": "web"},
                    requires=[conf_dir])
run.file("/etc/web/motd", content="hello\\n", mode=0o644)
run.link("/srv/web/current", to="/srv/web/releases/1")
run.execute(["/bin/sh", "-c", "echo done > .done"], creates="/srv/web/.done", cwd="/srv/web",
            requires=["link[/srv/web/current]"])
run.execute(["/bin/sh", "-c", "echo x >> reloads"], name="reload web", cwd="/srv/web",
            subscribes=[conf])
"""
TEMPLATE = "# {{ name }}\nport = {{ port }}\n"
NODE = {"web": {"port": 8001}}


def web_cookbook(cookbooks: Any) -> None:
    cookbooks.recipe("web::configure", WEB)
    cookbooks.template("web", "web.conf.j2", TEMPLATE)


def test_converge_then_a_second_run_changes_nothing(
    solo: Any, cookbooks: Any, root: Path, tree: Any
) -> None:
    web_cookbook(cookbooks)
    first = solo("web::configure", node=NODE)
    assert first.exit_code == 0, first.output
    assert "6 resources: 5 changed, 1 unchanged" in first.output
    assert "notifications: 1 ran" in first.output
    assert (root / "etc/web/web.conf").read_text() == "# web\nport = 8001\n"
    assert os.readlink(root / "srv/web/current") == "releases/1"
    assert (root / "srv/web/reloads").read_text() == "x\n"
    before = tree(root)

    second = solo("web::configure", "--output", "json", node=NODE)
    assert second.exit_code == 0, second.output
    report = json.loads(second.output)
    assert [r["status"] for r in report["resources"]] == ["unchanged"] * 6
    assert report["notifications"] == []
    assert report["summary_line"].startswith("6 resources: 0 changed, 6 unchanged in ")
    assert tree(root) == before


def test_a_changed_attribute_shows_a_diff_and_fires_the_subscriber(
    solo: Any, cookbooks: Any, root: Path
) -> None:
    web_cookbook(cookbooks)
    solo("web::configure", node=NODE)
    result = solo("web::configure", node={"web": {"port": 9000}})
    assert result.exit_code == 0, result.output
    assert "-port = 8001" in result.output and "+port = 9000" in result.output
    assert "reload web" in result.output
    assert (root / "srv/web/reloads").read_text() == "x\nx\n"


def test_dry_run_changes_nothing_and_reports_what_would(
    solo: Any, cookbooks: Any, root: Path, tree: Any
) -> None:
    web_cookbook(cookbooks)
    solo("web::configure", node=NODE)
    (root / "etc/web/web.conf").write_text("# edited by hand\n")
    (root / "etc/web/motd").unlink()
    before = tree(root)
    result = solo("web::configure", "--dry-run", "--output", "json", node={"web": {"port": 1}})
    assert result.exit_code == 0, result.output
    assert tree(root) == before
    report = json.loads(result.output)
    assert report["dry_run"] is True
    by_id = {r["resource"]: r for r in report["resources"]}
    assert by_id["template[/etc/web/web.conf]"]["status"] == "changed"
    assert "+port = 1" in by_id["template[/etc/web/web.conf]"]["diff"]
    assert by_id["file[/etc/web/motd]"]["summary"].startswith("create file /etc/web/motd")
    (note,) = report["notifications"]
    assert note["resource"] == "execute[reload web]"
    assert note["notified_by"] == ["template[/etc/web/web.conf]"]
    assert "would change" in report["summary_line"] and "dry run" in report["summary_line"]


def test_dry_run_on_an_empty_root_creates_nothing(solo: Any, cookbooks: Any, root: Path) -> None:
    web_cookbook(cookbooks)
    result = solo("web::configure", "--dry-run", node=NODE)
    assert result.exit_code == 0, result.output
    assert list(root.iterdir()) == []
    assert "~ template[/etc/web/web.conf]" in result.output


def test_failure_skips_dependents_and_still_runs_delayed_notifications(
    solo: Any, cookbooks: Any, root: Path
) -> None:
    cookbooks.recipe(
        "app::default",
        """
        conf = run.file("/etc/app.conf", content="v2\\n")
        run.execute(["touch", "restarted"], name="restart app", cwd="/", subscribes=[conf])
        broken = run.execute(["/bin/sh", "-c", "echo boom; exit 3"], name="broken step")
        run.file("/etc/after-broken", content="x", requires=[broken])
        run.file("/etc/unrelated", content="y")
        """,
    )
    result = solo("app", "--output", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    statuses = {r["resource"]: r["status"] for r in report["resources"]}
    assert statuses == {
        "file[/etc/app.conf]": "changed",
        "execute[restart app]": "unchanged",  # a notification target: it acts when notified
        "execute[broken step]": "failed",
        "file[/etc/after-broken]": "skipped",
        "file[/etc/unrelated]": "skipped",
    }
    by_id = {r["resource"]: r for r in report["resources"]}
    assert "status 3" in by_id["execute[broken step]"]["error"]
    assert "boom" in by_id["execute[broken step]"]["error"]
    assert "depends on execute[broken step]" in by_id["file[/etc/after-broken]"]["summary"]
    assert "the run stopped" in by_id["file[/etc/unrelated]"]["summary"]
    (note,) = report["notifications"]
    assert note["resource"] == "execute[restart app]"
    assert note["status"] == "changed" and note["after_failure"] is True
    assert (root / "restarted").exists()
    assert report["ok"] is False and report["failed"] == "execute[broken step]"
    assert "1 after the failure" in report["summary_line"]
    assert "converge failed: execute[broken step] failed" in result.stderr


def test_failure_in_text_output_prints_the_report_then_the_error(solo: Any, cookbooks: Any) -> None:
    cookbooks.recipe("app::default", 'run.execute(["false"])')
    result = solo("app")
    assert result.exit_code == 1
    assert "! execute[false]" in result.stdout
    assert "1 resource: 0 changed, 0 unchanged, 1 failed" in result.stdout
    assert result.stderr.startswith("stackops: error: converge failed: execute[false] failed")


def test_undefined_template_variable_names_the_file_and_line(solo: Any, cookbooks: Any) -> None:
    cookbooks.recipe(
        "web::default", 'run.template("/etc/x.conf", source="x.j2", variables={"a": 1})'
    )
    path = cookbooks.template("web", "x.j2", "a = {{ a }}\n{% if a %}\nb = {{ b }}\n{% endif %}\n")
    result = solo("web")
    assert result.exit_code == 1
    assert f"{path}:3: 'b' is undefined" in result.stdout


def test_cycle_is_refused_naming_its_members(solo: Any, cookbooks: Any, root: Path) -> None:
    cookbooks.recipe(
        "loop::default",
        """
        a = run.file("/a", content="a", requires=["file[/c]"])
        b = run.file("/b", content="b", requires=[a])
        run.file("/c", content="c", requires=[b])
        """,
    )
    result = solo("loop")
    assert result.exit_code == 2
    assert "dependency cycle: file[/a] -> file[/b] -> file[/c] -> file[/a]" in result.stderr
    assert list(root.iterdir()) == []


def test_unknown_recipe_lists_close_matches(solo: Any, cookbooks: Any) -> None:
    web_cookbook(cookbooks)
    cookbooks.recipe("web::deploy", 'run.file("/x", content="")')
    result = solo("web::confgure")
    assert result.exit_code == 2
    assert "has no recipe 'confgure'" in result.stderr
    assert "Did you mean: web::configure" in result.stderr
    result = solo("wbe::configure")
    assert result.exit_code == 2
    assert "no cookbook 'wbe'" in result.stderr and "web::configure" in result.stderr
    assert solo("not a name").exit_code == 2


def test_bad_node_json_names_file_line_and_column(solo: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "web": {"port": 8001,}\n}\n')
    result = solo("stackops::setup", "-j", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2:" in result.stderr and "not valid JSON" in result.stderr
    bad.write_text("[1, 2]")
    assert "must be a JSON object" in solo("stackops::setup", "-j", str(bad)).stderr


def test_recipe_errors_name_the_recipe_file_and_line(solo: Any, cookbooks: Any) -> None:
    path = cookbooks.recipe("web::default", 'port = run.node["web"]["port"]')
    result = solo("web")
    assert result.exit_code == 1
    assert f"{path}:2: recipe web::default failed: KeyError: 'web'" in result.stderr
    assert "Traceback" not in result.output


def test_json_report_shape(solo: Any, cookbooks: Any) -> None:
    web_cookbook(cookbooks)
    report = json.loads(solo("web::configure", "--output", "json", node=NODE).stdout)
    assert set(report) == {
        "ok",
        "dry_run",
        "root",
        "recipes",
        "seconds",
        "summary",
        "summary_line",
        "failed",
        "resources",
        "notifications",
    }
    assert report["recipes"] == ["web::configure"]
    assert report["summary"] == {
        "resources": 6,
        "changed": 5,
        "unchanged": 1,
        "failed": 0,
        "skipped": 0,
    }
    entry = report["resources"][0]
    assert set(entry) >= {"resource", "type", "action", "status", "summary", "seconds", "diff"}
    assert entry["declared_at"].endswith("configure.py:2")


def test_group_output_option_is_honoured(solo: Any, cookbooks: Any, root: Path) -> None:
    cookbooks.recipe("a::default", 'run.file("/x", content="x")')
    args = ["--output", "yaml", "solo", "--root", str(root), "--cookbooks", str(cookbooks.path)]
    result = CliRunner().invoke(cli, [*args, "a"])
    assert result.exit_code == 0, result.output
    import yaml

    report = yaml.safe_load(result.output)
    assert report["summary_line"].startswith("1 resource: 1 changed, 0 unchanged")


def test_recipes_list(cookbooks: Any, tmp_path: Path) -> None:
    web_cookbook(cookbooks)
    cookbooks.recipe("stackops::setup", 'run.file("/shadow", content="")')
    runner = CliRunner()
    result = runner.invoke(
        cli, ["recipes", "list", "--cookbooks", str(cookbooks.path), "--output", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = {
        (r["recipe"], r["shadowed_by"] is not None) for r in json.loads(result.output)["recipes"]
    }
    assert ("web::configure", False) in rows
    assert ("stackops::setup", False) in rows  # the test's cookbook shadows the built-in one
    assert ("stackops::setup", True) in rows
    assert ("stackops::deploy", True) in rows
    table = runner.invoke(cli, ["recipes", "list", "--cookbooks", str(cookbooks.path)])
    assert "web::configure" in table.output and "+---" in table.output


def test_solo_as_a_real_process_imports_nothing_heavy(
    cookbooks: Any, root: Path, tmp_path: Path
) -> None:
    cookbooks.recipe(
        "plain::default",
        """
        run.directory("/d")
        run.file("/d/f", content="x\\n")
        run.link("/d/l", to="/d/f")
        """,
    )
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['stackops'] + sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_module('stackops.cli.main', run_name='__main__')\n"
        "finally:\n"
        "    heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'boto3', 'botocore', 'pydantic', 'yaml', 'jinja2'})\n"
        "    sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n"
    )
    argv = [sys.executable, "-c", probe, "solo", "--root", str(root)]
    argv += ["--cookbooks", str(cookbooks.path), "plain", "--output", "json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["changed"] == 3
    assert "HEAVY=\n" in done.stderr
    again = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert json.loads(again.stdout)["summary"]["unchanged"] == 3


def test_console_script_runs_solo(cookbooks: Any, root: Path) -> None:
    script = Path(sys.executable).with_name("stackops")
    cookbooks.recipe("plain::default", 'run.file("/f", content="x\\n")')
    args = ["solo", "--root", str(root), "--cookbooks", str(cookbooks.path), "plain"]
    command = [str(script)] if script.exists() else [sys.executable, "-m", "stackops.cli.main"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip().endswith(done.stdout.strip().splitlines()[-1])
        and "1 resource: 1 changed" in done.stdout
    )


def test_the_example_cookbook_plans_cleanly(root: Path) -> None:
    project = Path(__file__).resolve().parents[2]
    args = ["solo", "-j", str(project / "recipes/web/node.example.json"), "--root", str(root)]
    args += [
        "--cookbooks",
        str(project / "recipes"),
        "web::deploy",
        "--dry-run",
        "--output",
        "json",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 0
    assert "service[web]" in [r["resource"] for r in report["resources"]]
    assert list(root.iterdir()) == []
