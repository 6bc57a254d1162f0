"""Deployments (DESIGN §8): strategies that batch instances and judge the outcome, and
health checks of a deployed app.

Pure parts only: no AWS here. This package imports no `stackops.model`, so the model
may validate strategy names against `STRATEGIES` without an import cycle; the
deployment record itself is `stackops.model.deployments.Deployment`.
"""

from stackops.deploy.health import (
    CommandReply,
    HealthCheck,
    HealthResult,
    HttpReply,
    check_command,
    check_http,
    parse_health_check,
    run_health_check,
)
from stackops.model.strategies import (
    ON_FAILURE_CHOICES,
    STRATEGIES,
    OnFailure,
    Strategy,
    failure_tolerance,
    get_strategy,
    parse_batch_size,
    parse_max_failures,
    strategy,
)

__all__ = [
    "ON_FAILURE_CHOICES",
    "STRATEGIES",
    "CommandReply",
    "HealthCheck",
    "HealthResult",
    "HttpReply",
    "OnFailure",
    "Strategy",
    "check_command",
    "check_http",
    "failure_tolerance",
    "get_strategy",
    "parse_batch_size",
    "parse_health_check",
    "parse_max_failures",
    "run_health_check",
    "strategy",
]
