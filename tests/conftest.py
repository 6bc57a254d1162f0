"""Test environment: fake credentials, no profile, no network beyond loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import boto3
import pytest
from click.testing import CliRunner, Result
from moto import mock_aws

from stackops.cli.main import cli

Invoke = Callable[..., Result]

# The leak check (every process a test starts is gone when it ends) and pytester,
# with which tests/test_leaks.py proves the check fails a run that leaks.
pytest_plugins = ("tests.leaks", "pytester")


# Fixtures of the end-to-end flows: a bootstrapped stack whose instances boot through
# the dispatcher and run real recipes and services. A test using one is `slow`.
END_TO_END_FIXTURES = frozenset({"stack_env", "scaling"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the end-to-end tests `slow` (left out of `make test-fast`), then put the slow
    tests first (otherwise in their order): xdist hands them out while the short ones are
    still there to fill the other worker, instead of one worker ending the run alone on a
    long test."""
    for item in items:
        if END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class _UniquePaths(list):
    """A loader's search paths: boto3 appends its own folder once per session it makes."""

    def append(self, path: object) -> None:
        if path not in self:
            super().append(path)


@pytest.fixture(autouse=True, scope="session")
def _one_botocore_loader() -> Iterator[None]:
    """One botocore data loader for every boto3 session of this test process.

    botocore reads and parses each service's JSON model (EC2's is megabytes) once per
    session, and every in-process `stackops` command makes its own session: a quarter
    of the CPU of a lifecycle test went to parsing the same JSON again. The models are
    read-only data, so one loader (with its cache) serves them all; what the tests check
    is unchanged. Processes the tests start still load their own.
    """
    import botocore.loaders
    import botocore.session

    original = botocore.session.create_loader
    shared = botocore.loaders.create_loader()
    shared._search_paths = _UniquePaths(shared.search_paths)

    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        return shared if not search_path_string else original(search_path_string)

    botocore.session.create_loader = create_loader
    try:
        yield
    finally:
        botocore.session.create_loader = original


@pytest.fixture(autouse=True)
def _offline_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Every test runs with fake credentials, no profile and its own state folder."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("STACKOPS_HOME", str(tmp_path_factory.mktemp("stackops-home")))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """moto in-process for the test; a boto3 session for looking at what exists.

    moto's in-process backends are not thread-safe (a DynamoDB query walking a table
    while another thread writes it fails), and the dispatcher calls AWS from several
    threads: every request moto handles here takes one lock, as a real service would
    serialise its own state.
    """
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def serialized(self: BotocoreStubber, *args: object, **kwargs: object) -> object:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", serialized)
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def invoke() -> Invoke:
    """Run `stackops ARGS...` in-process as a user would; stdout and stderr stay apart."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args))

    return run
