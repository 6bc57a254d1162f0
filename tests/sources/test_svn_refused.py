"""svn sources are refused when they come in (verb or stack file), never at setup."""

from __future__ import annotations

import json

from tests.helpers import ok_json

SVN = json.dumps({"Type": "svn", "Url": "https://svn.example.com/repo/trunk"})


def test_create_app_and_create_stack_refuse_svn(aws, invoke):
    ok_json(invoke("bootstrap"))
    stack_id = ok_json(invoke("create-stack", "--name", "s", "--region", "us-east-1"))["StackId"]
    app = invoke(
        "create-app", "--stack-id", stack_id, "--name", "web", "--type", "other",
        "--app-source", SVN,
    )  # fmt: skip
    assert app.exit_code == 2, app.output
    assert "svn sources are not supported" in app.stderr
    assert "git" in app.stderr and "Traceback" not in app.output
    stack = invoke("create-stack", "--name", "t", "--custom-cookbooks-source", SVN)
    assert stack.exit_code == 2
    assert "svn sources are not supported" in stack.stderr
    assert ok_json(invoke("describe-apps", "--stack-id", stack_id))["Apps"] == []
    assert [s["Name"] for s in ok_json(invoke("describe-stacks"))["Stacks"]] == ["s"]


def test_a_stack_file_with_svn_names_the_line(aws, invoke, tmp_path):
    ok_json(invoke("bootstrap"))
    path = tmp_path / "stack.yaml"
    path.write_text(
        "stack:\n  name: shop\napps:\n  - shortname: web\n"
        "    app_source: {type: svn, url: 'https://svn.example.com/r'}\n"
    )
    result = invoke("apply", "-f", str(path))
    assert result.exit_code == 2
    assert f"{path}:5" in result.stderr and "svn sources are not supported" in result.stderr
