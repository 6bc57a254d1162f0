"""Fixtures for the AWS side: moto in-process, and the CLI run through click's runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import boto3
import pytest
from click.testing import CliRunner, Result
from moto import mock_aws

from stackops.cli.main import cli

Invoke = Callable[..., Result]


@pytest.fixture
def aws() -> Iterator[boto3.session.Session]:
    """moto in-process for the test; a boto3 session for looking at what exists."""
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def invoke() -> Invoke:
    """Run `stackops ARGS...` in-process; stdout and stderr stay apart."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args))

    return run
