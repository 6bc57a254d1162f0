"""The archive resource: local, http and s3 sources; checksums; refusing unsafe entries."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stackops.converge import run_recipes
from stackops.converge.unpack import MARKER, UnsafeArchive, entry_path


def make_tar(path: Path, entries: dict[str, bytes | tuple[str, str]]) -> Path:
    """A tar.gz of files (bytes) and links (('sym'|'hard', target))."""
    with tarfile.open(path, "w:gz") as tar:
        for name, value in entries.items():
            info = tarfile.TarInfo(name)
            if isinstance(value, tuple):
                kind, target = value
                info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
                info.linkname = target
                tar.addfile(info)
            else:
                info.size = len(value)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(value))
    return path


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def converge(cookbooks: Any, root: Path, body: str, **kw: Any) -> Any:
    cookbooks.recipe("art::default", body)
    return run_recipes(["art"], {}, root, [cookbooks.path], **kw)


def test_local_tar_is_unpacked_once_and_verified(
    tmp_path: Path, cookbooks: Any, root: Path
) -> None:
    archive = make_tar(
        tmp_path / "app.tar.gz",
        {"app/main.py": b"print(1)\n", "app/lib/x.txt": b"x", "app/link": ("sym", "main.py")},
    )
    body = f'run.archive("/srv/app", source="{archive}", checksum="{sha256(archive)}")'
    first = converge(cookbooks, root, body)
    assert first.ok, first.results
    assert first.results[0].status == "changed"
    assert (root / "srv/app/app/main.py").read_text() == "print(1)\n"
    assert (root / "srv/app/app/link").is_symlink()
    assert (root / "srv/app" / MARKER).exists()
    again = converge(cookbooks, root, body)
    assert again.results[0].status == "unchanged"


def test_strip_components_and_zip(tmp_path: Path, cookbooks: Any, root: Path) -> None:
    zipped = tmp_path / "site.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("site-1.0/index.html", "<p>hi</p>")
        z.writestr("site-1.0/css/a.css", "a{}")
    body = f'run.archive("/srv/site", source="file://{zipped}", strip_components=1)'
    report = converge(cookbooks, root, body)
    assert report.ok, report.results
    assert (root / "srv/site/index.html").read_text() == "<p>hi</p>"
    assert (root / "srv/site/css/a.css").exists()


def test_a_new_artifact_replaces_the_folder_as_a_whole(
    tmp_path: Path, cookbooks: Any, root: Path
) -> None:
    one = make_tar(tmp_path / "v1.tar.gz", {"old.txt": b"1"})
    two = make_tar(tmp_path / "v2.tar.gz", {"new.txt": b"2"})
    converge(cookbooks, root, f'run.archive("/srv/app", source="{one}")')
    report = converge(cookbooks, root, f'run.archive("/srv/app", source="{two}")')
    assert report.results[0].status == "changed"
    assert sorted(p.name for p in (root / "srv/app").iterdir()) == [MARKER, "new.txt"]


def test_checksum_mismatch_is_refused_and_nothing_is_unpacked(
    tmp_path: Path, cookbooks: Any, root: Path
) -> None:
    archive = make_tar(tmp_path / "app.tar.gz", {"a.txt": b"a"})
    wrong = "sha256:" + "0" * 64
    report = converge(
        cookbooks, root, f'run.archive("/srv/app", source="{archive}", checksum="{wrong}")'
    )
    assert not report.ok
    assert "checksum mismatch" in (report.results[0].error or "")
    assert not (root / "srv/app").exists()
    assert [p.name for p in (root / "srv").iterdir()] == []  # no leftovers


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"../evil.txt": b"x"}, "escapes the folder"),
        ({"ok/../../evil.txt": b"x"}, "escapes the folder"),
        ({"/etc/evil": b"x"}, "absolute path"),
        ({"link": ("sym", "../../outside")}, "points outside the folder"),
        ({"link": ("sym", "/etc/passwd")}, "points to absolute"),
        ({"a.txt": b"a", "hard": ("hard", "../a.txt")}, "escapes the folder"),
    ],
)
def test_entries_escaping_the_folder_are_refused(
    tmp_path: Path, cookbooks: Any, root: Path, entries: dict, message: str
) -> None:
    archive = make_tar(tmp_path / "evil.tar.gz", entries)
    report = converge(cookbooks, root, f'run.archive("/srv/app", source="{archive}")')
    assert not report.ok
    assert message in (report.results[0].error or "")
    assert not (root / "srv/app").exists()
    assert not (tmp_path / "evil.txt").exists() and not (root / "srv/evil.txt").exists()


def test_zip_entry_escaping_is_refused(tmp_path: Path, cookbooks: Any, root: Path) -> None:
    zipped = tmp_path / "evil.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("../../evil.txt", "x")
    report = converge(cookbooks, root, f'run.archive("/srv/app", source="{zipped}")')
    assert "escapes the folder" in (report.results[0].error or "")
    assert not (tmp_path / "evil.txt").exists()


def test_entry_path_unit() -> None:
    assert entry_path("./a/b", 0) == "a/b"
    assert entry_path("top/a/b", 1) == "a/b"
    assert entry_path("top/", 1) is None
    with pytest.raises(UnsafeArchive):
        entry_path("a/../../b", 0)


def test_not_an_archive_fails_clearly(tmp_path: Path, cookbooks: Any, root: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive at all")
    report = converge(cookbooks, root, f'run.archive("/srv/app", source="{junk}")')
    assert "is not a tar or zip archive" in (report.results[0].error or "")


def test_dry_run_downloads_and_writes_nothing(
    tmp_path: Path, cookbooks: Any, root: Path, tree: Any
) -> None:
    archive = make_tar(tmp_path / "app.tar.gz", {"a.txt": b"a"})
    report = converge(cookbooks, root, f'run.archive("/srv/app", source="{archive}")', dry_run=True)
    assert report.results[0].status == "changed"
    assert "unpack" in report.results[0].summary
    assert tree(root) == {}


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    serve = tmp_path / "www"
    serve.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(serve), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_source(tmp_path: Path, cookbooks: Any, root: Path, http_server: str) -> None:
    archive = make_tar(tmp_path / "www/app.tar.gz", {"a.txt": b"from http"})
    body = (
        f'run.archive("/srv/app", source="{http_server}/app.tar.gz", checksum="{sha256(archive)}")'
    )
    report = converge(cookbooks, root, body)
    assert report.ok, report.results
    assert (root / "srv/app/a.txt").read_text() == "from http"
    missing = converge(cookbooks, root, f'run.archive("/srv/b", source="{http_server}/nope.tgz")')
    assert "HTTP 404" in (missing.results[0].error or "")


def test_s3_source_with_moto(tmp_path: Path, cookbooks: Any, root: Path) -> None:
    import boto3
    from moto import mock_aws

    archive = make_tar(tmp_path / "app.tar.gz", {"a.txt": b"from s3"})
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artifacts")
        s3.put_object(Bucket="artifacts", Key="web/app.tar.gz", Body=archive.read_bytes())
        url = "s3://artifacts/web/app.tar.gz"
        body = f'run.archive("/srv/app", source="{url}", checksum="{sha256(archive)}")'
        report = converge(cookbooks, root, body)
        assert report.ok, report.results
        assert (root / "srv/app/a.txt").read_text() == "from s3"
        missing = converge(
            cookbooks, root, 'run.archive("/srv/b", source="s3://artifacts/nope.tgz")'
        )
        assert "s3:GetObject s3://artifacts/nope.tgz failed" in (missing.results[0].error or "")


def test_an_injected_fetcher_is_used(tmp_path: Path, cookbooks: Any, root: Path) -> None:
    archive = make_tar(tmp_path / "app.tar.gz", {"a.txt": b"injected"})
    calls: list[str] = []

    def fetch(url: str, dest: Path) -> None:
        calls.append(url)
        dest.write_bytes(archive.read_bytes())

    body = 'run.archive("/srv/app", source="s3://b/app.tar.gz")'
    report = converge(cookbooks, root, body, fetchers={"s3": fetch})
    assert report.ok and calls == ["s3://b/app.tar.gz"]
    assert (root / "srv/app/a.txt").read_text() == "injected"
