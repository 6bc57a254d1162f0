"""git sources with the system git against a local bare repository."""

from __future__ import annotations

import tarfile

import pytest

from stackops.converge.git import (
    GitFailed,
    export,
    git_source,
    parse_git_source,
    resolve,
)


def names_in(tar_path) -> dict[str, str]:
    with tarfile.open(tar_path) as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}


def test_source_strings_round_trip():
    source = git_source("git@github.com:org/repo.git", "v1.2")
    assert source == "git+git@github.com:org/repo.git#v1.2"
    assert parse_git_source(source) == ("git@github.com:org/repo.git", "v1.2")
    assert parse_git_source("git+https://h/r.git") == ("https://h/r.git", "HEAD")
    assert git_source("https://h/r.git", None).endswith("#HEAD")
    with pytest.raises(GitFailed, match="not a git source"):
        parse_git_source("git+#main")


def test_branch_tag_and_commits_export_their_own_tree(repo, tmp_path):
    first = repo.commit({"web/setup.py": "v1\n"}, "one", tag="v1")
    second = repo.commit({"web/setup.py": "v2\n", "db/setup.py": "db\n"}, "two")
    url = str(repo.bare)
    cases = {"main": second, "v1": first, first: first, first[:10]: first, "HEAD": second}
    for revision, commit in cases.items():
        dest = tmp_path / f"{revision}.tar"
        assert export(url, revision, dest) == commit
        expected = (
            {"web/setup.py": "v1\n"}
            if commit == first
            else {
                "web/setup.py": "v2\n",
                "db/setup.py": "db\n",
            }
        )
        assert names_in(dest) == expected, revision


def test_resolve_asks_the_remote_without_downloading(repo):
    first = repo.commit({"a.py": "1"}, "one", tag="v1")
    second = repo.commit({"a.py": "2"}, "two")
    url = f"file://{repo.bare}"
    assert resolve(url, "main") == second
    assert resolve(url, "v1") == first
    assert resolve(url, first) == first
    assert resolve(url, "no-such-branch") is None


def test_a_missing_revision_or_repository_is_one_clear_error(repo, tmp_path):
    repo.commit({"a.py": "1"}, "one")
    with pytest.raises(GitFailed, match=r"cookbooks\.git at nope: git rev-parse failed"):
        export(str(repo.bare), "nope", tmp_path / "x.tar")
    with pytest.raises(GitFailed, match=r"missing\.git at main: git fetch failed"):
        export(str(tmp_path / "missing.git"), "main", tmp_path / "x.tar")
    assert not (tmp_path / "x.tar").exists()


def test_credentials_in_a_url_never_reach_a_message(tmp_path):
    with pytest.raises(GitFailed) as caught:
        export("https://user:hunter2@127.0.0.1:9/repo.git", "main", tmp_path / "x.tar")
    assert "hunter2" not in str(caught.value)
    assert "https://127.0.0.1:9/repo.git" in str(caught.value)
