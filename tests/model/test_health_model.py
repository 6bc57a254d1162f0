"""The health_check model: both key spellings, the runtime's rules, storage as written."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from stackops.deploy.health import HealthCheck, parse_health_check
from stackops.errors import InvalidInput
from stackops.model.apps import App, AppSpec
from stackops.model.health import HealthCheckSpec, build_health_check
from stackops.model.stackfile import load_stack_file


def test_http_and_command_checks() -> None:
    http = build_health_check({"path": "/health", "port": 8080, "interval": 0.5})
    assert http.kind == "http" and http.port == 8080 and http.interval == 0.5
    command = build_health_check({"command": ["curl", "-f", "http://localhost/"]})
    assert command.kind == "command" and command.command == ["curl", "-f", "http://localhost/"]


def test_opsworks_pascal_case_keys_are_accepted() -> None:
    check = build_health_check(
        {"Path": "/h", "Port": 80, "ExpectStatus": 204, "ExpectText": "ok", "Retries": 2}
    )
    assert (check.path, check.port, check.expect_status, check.expect_text, check.retries) == (
        "/h",
        80,
        204,
        "ok",
        2,
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"path": "/h", "interval": "fast"}, "health_check.interval must be a number of seconds"),
        ({"port": -1}, "health_check.port -1 must be from 1 to 65535"),
        ({"Port": 70000}, "health_check.Port 70000 must be from 1 to 65535"),
        ({"port": "text"}, "health_check.port must be a whole number, not 'text'"),
        ({"path": "/h", "colour": "red"}, "unknown field(s) 'colour'; valid fields: path, port"),
        ({"path": "/h", "Path": "/i"}, "'Path' repeats 'path'"),
        ({"kind": "ping", "port": 80}, "kind 'ping' is not 'http' or 'command'"),
        ({"kind": "command", "port": 80}, "a command check needs a command"),
        ({"command": "curl -f http://x"}, '["curl", "-f", "http://x"]'),
        ({"command": ["curl", "a\x00b"]}, "NUL"),
        ({"path": "/a b"}, "must start with '/' and hold no spaces"),
        ({"path": "/h\u200b"}, "invisible character"),
        ("/health", "health_check must be a mapping"),
    ],
)
def test_refused_with_the_key_named(config: Any, expected: str) -> None:
    with pytest.raises(InvalidInput) as info:
        build_health_check(config)
    assert expected in info.value.message
    assert "\n" not in info.value.message


# What the runtime's own HealthCheck (deploy/health.py) takes, field by field: the model
# must accept exactly these and refuse the rest.
RUNTIME_CASES: list[dict[str, Any]] = [
    {"path": "/health"},
    {"port": 8080},
    {"path": "/", "port": 1},
    {"port": 65535, "expect_status": 599, "retries": 100, "interval": 600, "timeout": 600},
    {"port": 80, "expect_status": 100, "retries": 1, "interval": 0, "timeout": 0.001},
    {"command": ["true"]},
    {"command": ["sh", "-c", "exit 0"], "expect_text": "ok", "timeout": 2},
    {},
    {"port": 0},
    {"port": 65536},
    {"path": "health"},
    {"command": []},
    {"command": ["true", ""]},
    {"command": ["true"], "port": 80},
    {"port": 80, "expect_status": 99},
    {"port": 80, "expect_status": 600},
    {"port": 80, "retries": 0},
    {"port": 80, "retries": 101},
    {"port": 80, "interval": -0.1},
    {"port": 80, "interval": 600.5},
    {"port": 80, "timeout": 0},
    {"port": 80, "timeout": 601},
    {"port": 80, "expect_text": ""},
]


def _runtime_takes(config: dict[str, Any]) -> bool:
    try:
        HealthCheck(**config)
    except InvalidInput:
        return False
    return True


@pytest.mark.parametrize("config", RUNTIME_CASES)
def test_the_model_accepts_exactly_what_the_runtime_runs(config: dict[str, Any]) -> None:
    runtime = _runtime_takes(config)
    try:
        spec = build_health_check(config)
    except InvalidInput:
        assert not runtime, f"the runtime runs {config} but the model refuses it"
        return
    assert runtime, f"the model accepts {config} but the runtime cannot run it"
    assert parse_health_check(spec) == HealthCheck(**{"expect_status": 200, **config})


def test_stored_as_written_and_read_back_the_same() -> None:
    app = App(
        name="web",
        app_id="a-1",
        stack_id="s-1",
        created_at="2026-11-28T17:00:00+00:00",
        health_check={"Path": "/health", "Port": 8080},
    )
    record = app.to_record()
    assert record["health_check"] == {"path": "/health", "port": 8080}
    again = App.from_record(record)
    assert again.health_check == app.health_check
    assert app.to_api()["HealthCheck"] == {"Path": "/health", "Port": 8080}
    assert parse_health_check(again.health_check) == HealthCheck(path="/health", port=8080)


def test_app_spec_refuses_a_bad_check_with_its_path() -> None:
    with pytest.raises(ValidationError) as info:
        AppSpec(name="web", health_check={"path": "/h", "interval": "fast"})
    (error,) = info.value.errors()
    assert error["loc"] == ("health_check", "interval")
    assert isinstance(AppSpec(name="web", health_check={"port": 80}).health_check, HealthCheckSpec)


def test_stack_file_error_points_at_the_line_of_the_key(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            stack: {name: shop}
            apps:
              - name: web
                health_check:
                  Path: /health
                  Port: 70000
                  Colour: red
            """
        )
    )
    with pytest.raises(InvalidInput) as info:
        load_stack_file(path)
    message = info.value.message.replace(str(path), "FILE")
    assert message == (
        "FILE:7:7: apps[0].health_check.Colour: unknown field(s) 'Colour'; valid fields: "
        "path, port, command, expect_status, expect_text, retries, interval, timeout, kind"
    )
    path.write_text(path.read_text().replace("      Colour: red\n", ""))
    with pytest.raises(InvalidInput) as info:
        load_stack_file(path)
    assert info.value.message.replace(str(path), "FILE") == (
        "FILE:6:13: apps[0].health_check.Port: 70000 must be from 1 to 65535"
    )
