"""Fixtures of the AWS-side tests: the lifecycle tests' bootstrapped stack."""

from tests.lifecycle.conftest import stack_env  # noqa: F401  (a fixture)
