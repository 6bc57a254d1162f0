"""The render memo: a no-op run skips Jinja2, and anything that could change a render renders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from stackops.converge import run_recipes
from stackops.converge.render_memo import MEMO_PATH, RenderMemo

BODY = """
run.template("/etc/app.conf", source="app.j2", variables={"port": run.node["port"]})
run.template("/etc/secret.conf", source="app.j2", variables={"port": 1}, sensitive=True)
"""


def setup(cookbooks: Any) -> None:
    cookbooks.recipe("app::default", BODY)
    cookbooks.template("app", "app.j2", "port = {{ port }}\n{% include 'part.j2' %}\n")
    cookbooks.template("app", "part.j2", "part = 1")


def converge(cookbooks: Any, root: Path, port: int = 80, **kw: Any) -> Any:
    return run_recipes(["app"], {"port": port}, root, [cookbooks.path], **kw)


def memo(root: Path) -> dict[str, list[str]]:
    return json.loads((root / MEMO_PATH.lstrip("/")).read_text())["entries"]


def test_memo_records_digests_only_and_never_sensitive_ones(cookbooks: Any, root: Path) -> None:
    setup(cookbooks)
    assert converge(cookbooks, root).ok
    entries = memo(root)
    assert list(entries) == ["/etc/app.conf"]
    assert "port" not in json.dumps(entries)


def test_anything_that_could_change_the_render_renders(cookbooks: Any, root: Path) -> None:
    setup(cookbooks)
    converge(cookbooks, root)
    assert converge(cookbooks, root).counts["changed"] == 0
    # an attribute
    report = converge(cookbooks, root, port=81)
    assert [r.resource for r in report.results if r.status == "changed"] == [
        "template[/etc/app.conf]"
    ]
    # an included template
    cookbooks.template("app", "part.j2", "part = 2")
    report = converge(cookbooks, root, port=81)
    assert (root / "etc/app.conf").read_text() == "port = 81\npart = 2"
    # a hand edit of the file
    (root / "etc/app.conf").write_text("port = 1\n")
    report = converge(cookbooks, root, port=81)
    assert "-port = 1" in (report.results[0].diff or "")
    assert (root / "etc/app.conf").read_text() == "port = 81\npart = 2"


def test_a_broken_memo_costs_only_a_render(cookbooks: Any, root: Path) -> None:
    setup(cookbooks)
    converge(cookbooks, root)
    (root / MEMO_PATH.lstrip("/")).write_text("{not json")
    report = converge(cookbooks, root)
    assert report.ok and report.counts["changed"] == 0
    assert "/etc/app.conf" in memo(root)


def test_dry_run_writes_no_memo(cookbooks: Any, root: Path) -> None:
    setup(cookbooks)
    converge(cookbooks, root, dry_run=True)
    assert not (root / "var").exists()


def test_inputs_that_are_not_json_are_not_memoised(tmp_path: Path) -> None:
    memo_ = RenderMemo(None, {"a": 1})
    assert memo_.inputs(tmp_path, "x.j2", {"path": Path("/x")}) is None
    assert memo_.inputs(tmp_path, "x.j2", {"port": 1}) is not None
    assert RenderMemo(None, {"p": Path("/")}).inputs(tmp_path, "x.j2", {}) is None


def test_a_no_op_run_with_templates_does_not_load_jinja2(cookbooks: Any, root: Path) -> None:
    setup(cookbooks)
    converge(cookbooks, root)
    probe = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from stackops.converge import run_recipes\n"
        "r = run_recipes(['app'], {'port': 80}, Path(sys.argv[1]), [Path(sys.argv[2])])\n"
        "print(json.dumps([r.counts['changed'], 'jinja2' in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(root), str(cookbooks.path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # The sensitive template is never memoised, so it renders: only it needs Jinja2.
    changed, loaded = json.loads(done.stdout)
    assert changed == 0 and loaded is True


def test_a_no_op_run_of_memoised_templates_only_does_not_load_jinja2(
    cookbooks: Any, root: Path
) -> None:
    cookbooks.recipe(
        "app::default", 'run.template("/etc/app.conf", source="app.j2", variables={"port": 1})'
    )
    cookbooks.template("app", "app.j2", "port = {{ port }}\n")
    run_recipes(["app"], {}, root, [cookbooks.path])
    probe = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from stackops.converge import run_recipes\n"
        "r = run_recipes(['app'], {}, Path(sys.argv[1]), [Path(sys.argv[2])])\n"
        "print(json.dumps([r.counts['changed'], 'jinja2' in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(root), str(cookbooks.path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [0, False]
