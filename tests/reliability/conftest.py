"""The reliability suite reuses the lifecycle tests' stack fixture (moto in-process)."""

from tests.lifecycle.conftest import stack_env

__all__ = ["stack_env"]
