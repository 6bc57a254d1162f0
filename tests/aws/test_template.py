"""`stackops template`: CloudFormation of what bootstrap makes, checked by cfn-lint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stackops.aws.iam_policy import ArnScope, build_policy
from stackops.naming import ResourceNames
from tests.helpers import ok_json

CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CFN_LINT, "--format", "parseable", str(path)], capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("dispatcher", ["process", "lambda"])
def test_the_template_passes_cfn_lint(invoke, tmp_path, dispatcher):
    result = invoke("--output", "yaml", "template", "--dispatcher", dispatcher)
    assert result.exit_code == 0, result.output
    assert "target:" not in result.stderr  # no AWS call, no target needed
    path = tmp_path / "stackops.yaml"
    path.write_text(result.stdout)
    linted = lint(path)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    body = yaml.safe_load(result.stdout)
    kinds = {r["Type"] for r in body["Resources"].values()}
    assert {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::IAM::InstanceProfile"} <= kinds
    assert ("AWS::Lambda::EventSourceMapping" in kinds) is (dispatcher == "lambda")


def test_cfn_lint_catches_a_broken_template(invoke, tmp_path):
    body = ok_json(invoke("template", "--dispatcher", "lambda"))
    body["Resources"]["DispatcherFunction"]["Properties"]["Runtime"] = "python2.0"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(body))
    linted = lint(path)
    assert linted.returncode != 0 and "E3030:'python2.0' is not one" in linted.stdout


def test_the_template_says_what_bootstrap_makes(invoke):
    body = ok_json(invoke("--namespace", "shop", "template", "--dispatcher", "lambda"))
    res = body["Resources"]
    assert res["LifecycleQueue"]["Properties"]["VisibilityTimeout"] == 900
    assert res["QueueMapping"]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert res["AutoscaleFunction"]["Properties"]["Handler"] == (
        "stackops.autoscale.lambda_entry.handler"
    )
    assert res["ArtifactsBucket"]["Properties"]["BucketName"] == {
        "Fn::Sub": "shop-artifacts-${AWS::AccountId}-${AWS::Region}"
    }
    # The roles' policies are the ones --print-iam-policy prints, account left to CloudFormation.
    policy = res["InstanceRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    scope = ArnScope("${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}")
    expected = build_policy(ResourceNames("shop"), role="instance", scope=scope)
    assert [s["Action"] for s in policy["Statement"]] == [
        s["Action"] for s in expected["Statement"]
    ]
    text = json.dumps(body)
    assert "arn:aws:" not in text  # the partition too is CloudFormation's
    assert "123456789012" not in text
