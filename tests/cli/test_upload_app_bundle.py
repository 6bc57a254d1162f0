"""upload-app-bundle: an app's archive into the artifacts bucket, for an s3 app source."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.helpers import ok_json

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "recipes/web/files/web-v1.tar.gz"
BUCKET = "stackops-artifacts-123456789012-us-east-1"


def test_the_bundle_lands_in_the_artifacts_bucket_and_its_url_is_printed(aws, invoke):
    ok_json(invoke("bootstrap"))
    answer = ok_json(invoke("upload-app-bundle", str(BUNDLE)))
    assert answer["Url"] == f"s3://{BUCKET}/apps/web-v1.tar.gz"
    data = BUNDLE.read_bytes()
    assert answer["Size"] == len(data)
    assert answer["Checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
    stored = aws.client("s3").get_object(Bucket=BUCKET, Key="apps/web-v1.tar.gz")
    assert stored["Body"].read() == data
    named = ok_json(invoke("upload-app-bundle", str(BUNDLE), "--key", "apps/web/v1.tgz"))
    assert named["Url"] == f"s3://{BUCKET}/apps/web/v1.tgz"


def test_what_is_not_a_bundle_is_refused_before_anything_is_sent(aws, invoke, tmp_path):
    ok_json(invoke("bootstrap"))
    text = tmp_path / "notes.txt"
    text.write_text("not an archive")
    cases = [
        ((str(tmp_path / "missing.tgz"),), "missing.tgz: no such file"),
        ((str(text),), "not a tar (plain, gz, bz2, xz) or zip archive"),
        ((str(BUNDLE), "--key", "../etc/passwd"), "write a relative key"),
        ((str(BUNDLE), "--key", "payloads/x.json"), "hold stackops's own objects"),
        ((str(BUNDLE), "--key", "apps/a\nb"), "control characters"),
    ]
    for args, expected in cases:
        result = invoke("upload-app-bundle", *args)
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
    listed = aws.client("s3").list_objects_v2(Bucket=BUCKET)
    assert listed.get("KeyCount", 0) == 0
