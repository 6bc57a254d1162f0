"""Executors: where a run of recipes happens (DESIGN §7).

    from stackops.executors import RunRequest, get_executor

    executor = get_executor("local")(resolve=resolver)     # LocalExecutor(resolve=...)
    executor = get_executor("ssm")(session, bucket_name)     # SsmExecutor(session, bucket)
    result = executor.run(RunRequest("c-1", "i-0abc", ("web::deploy",), node, ("recipes",), 600))
    result.ok, result.exit_code, result.report, result.log, result.timed_out
    check = CheckRequest("c-1-h", "i-0abc", ("test", "-f", "health"), "/srv/www/web/current", {}, 5)
    reply = executor.run_check(check)       # a health check's command, on the node

- local: this host, under a node root, in a child process killed at the timeout;
- ssm: the instance, by SSM Run Command running `stackops agent apply` (payload in S3).

No executor raises for a failed run: a crash, a timeout or an AWS failure is a
RunResult with ok False. This package imports neither boto3 nor pydantic; the
executor modules load on first use (`get_executor`, or the names below).
"""

from typing import TYPE_CHECKING, Any

from stackops.executors.base import (
    EXECUTORS,
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_NO_REPORT,
    EXIT_NOT_STARTED,
    EXIT_OK,
    EXIT_TIMED_OUT,
    CheckReply,
    CheckRequest,
    Executor,
    ExecutorEntry,
    Resolver,
    RunRequest,
    RunResult,
    executor,
    get_executor,
)
from stackops.secrets import (
    MASK,
    parameter_store_resolver,
    redact,
    redact_data,
    resolve_secret_refs,
)

if TYPE_CHECKING:
    from stackops.executors.local import LocalExecutor
    from stackops.executors.ssm import SsmExecutor

LAZY = {"LocalExecutor": "stackops.executors.local", "SsmExecutor": "stackops.executors.ssm"}


def __getattr__(name: str) -> Any:
    """LocalExecutor and SsmExecutor load on first use (the agent needs neither)."""
    module = LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "EXECUTORS",
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_NOT_STARTED",
    "EXIT_NO_REPORT",
    "EXIT_OK",
    "EXIT_TIMED_OUT",
    "MASK",
    "CheckReply",
    "CheckRequest",
    "Executor",
    "ExecutorEntry",
    "LocalExecutor",
    "Resolver",
    "RunRequest",
    "RunResult",
    "SsmExecutor",
    "executor",
    "get_executor",
    "parameter_store_resolver",
    "redact",
    "redact_data",
    "resolve_secret_refs",
]
