"""git sources: a revision of a repository exported as a tar, with the system `git`.

A source string is `git+<repository>#<revision>` (npm's spelling): the repository
is any URL or path git understands (https://, ssh://, git@host:org/repo.git, a
local path), the revision a branch, a tag or a commit (HEAD when left out).
An SSH key (OpsWorks's `SshKey`) is written to a 0600 file in a private folder,
used through GIT_SSH_COMMAND, and removed when git is done; it never reaches an
argument list, a log or an error message.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from stackops.errors import StackopsError

PREFIX = "git+"
DEFAULT_REVISION = "HEAD"
TIMEOUT = 600.0  # seconds for one git command
_SHA = re.compile(r"^[0-9a-f]{40}$")


class GitFailed(StackopsError):
    """git could not fetch or export the revision."""


class GitSource(NamedTuple):
    repository: str
    revision: str


def is_git_source(source: object) -> bool:
    return isinstance(source, str) and source.startswith(PREFIX)


def git_source(repository: str, revision: str | None) -> str:
    """The source string of a repository at a revision."""
    return f"{PREFIX}{repository}#{revision or DEFAULT_REVISION}"


def parse_git_source(source: str) -> GitSource:
    """('https://host/repo.git', 'main') from 'git+https://host/repo.git#main'."""
    rest = source.removeprefix(PREFIX)
    repository, sep, revision = rest.rpartition("#")
    if not sep:
        repository, revision = rest, DEFAULT_REVISION
    if not repository or not revision:
        raise GitFailed(f"{source!r} is not a git source; write git+<repository>#<revision>")
    return GitSource(repository, revision)


def display(repository: str) -> str:
    """The repository without any user:password in it, for messages."""
    return re.sub(r"//[^/@\s]*@", "//", repository)


@contextlib.contextmanager
def git_env(ssh_key: str | None) -> Iterator[dict[str, str]]:
    """The environment git runs with: no prompts, and the SSH key in a 0600 file if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"})
    if not ssh_key:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
        yield env
        return
    folder = tempfile.mkdtemp(prefix="stackops-git-")  # 0700
    key = Path(folder) / "key"
    try:
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(ssh_key if ssh_key.endswith("\n") else ssh_key + "\n")
        env["GIT_SSH_COMMAND"] = shlex.join(
            [
                "ssh",
                "-i",
                str(key),
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=accept-new",
            ]
        )
        yield env
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_git(
    args: list[str], env: Mapping[str, str], *, cwd: Path | None = None, timeout: float = TIMEOUT
) -> str:
    """Run `git ARGS`; its stdout, or GitFailed with the first lines of what git said."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise GitFailed("git is not installed on this host (install the git package)") from None
    except subprocess.TimeoutExpired:
        raise GitFailed(f"git {args[0]} did not finish in {timeout:g} s") from None
    if done.returncode != 0:
        said = " ".join(done.stderr.strip().splitlines()[-3:]) or f"exit {done.returncode}"
        raise GitFailed(f"git {args[0]} failed: {display(said)}")
    return done.stdout


def resolve(repository: str, revision: str, *, ssh_key: str | None = None) -> str | None:
    """The commit `revision` names in the repository, asked without downloading it; None
    when the remote does not list it (an abbreviated commit, say)."""
    if _SHA.match(revision):
        return revision
    with git_env(ssh_key) as env:
        try:
            listed = run_git(["ls-remote", repository, revision], env)
        except GitFailed as exc:
            raise GitFailed(f"{display(repository)}: {exc}") from None
    refs = dict(reversed(line.split("\t", 1)) for line in listed.splitlines() if "\t" in line)
    for name in (f"refs/tags/{revision}^{{}}", f"refs/heads/{revision}", f"refs/tags/{revision}"):
        if name in refs:
            return refs[name]
    return refs.get(revision) or (next(iter(refs.values())) if len(refs) == 1 else None)


def export(repository: str, revision: str, dest: Path, *, ssh_key: str | None = None) -> str:
    """Write the tree of `revision` to `dest` as a tar; return the commit it is."""
    where = display(repository)
    with git_env(ssh_key) as env, tempfile.TemporaryDirectory(prefix="stackops-git-") as work:
        clone = Path(work)
        try:
            run_git(["init", "--quiet", "--bare", str(clone)], env)
            try:  # one commit, as little as the server sends
                run_git(["fetch", "--quiet", "--depth", "1", repository, revision], env, cwd=clone)
                commit = run_git(["rev-parse", "FETCH_HEAD^{commit}"], env, cwd=clone).strip()
            except GitFailed:  # an abbreviated commit, or a server refusing to send a commit
                run_git(
                    ["fetch", "--quiet", repository, "+refs/*:refs/remotes/source/*"],
                    env,
                    cwd=clone,
                )
                commit = run_git(
                    ["rev-parse", "--verify", f"{revision}^{{commit}}"], env, cwd=clone
                ).strip()
            run_git(["archive", "--format=tar", "-o", str(dest), commit], env, cwd=clone)
        except GitFailed as exc:
            raise GitFailed(f"{where} at {revision}: {exc}") from None
    return commit


def fetch_git(source: str, dest: Path, *, ssh_key: str | None = None) -> None:
    """A fetcher (`Fetcher`): the git source's revision as a tar at `dest`."""
    repository, revision = parse_git_source(source)
    export(repository, revision, dest, ssh_key=ssh_key)


class GitFetcher:
    """A fetcher that knows the SSH keys of repositories (from resolved node attributes)."""

    def __init__(self, ssh_keys: Mapping[str, str]) -> None:
        self._keys = dict(ssh_keys)

    def __call__(self, source: str, dest: Path) -> None:
        repository = parse_git_source(source).repository
        fetch_git(source, dest, ssh_key=self._keys.get(repository))
