"""Walk the registry of resource types: every entry is documented, declarable and dispatchable."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackops.converge.cookbooks import Cookbooks
from stackops.converge.declare import Run
from stackops.converge.paths import NodeRoot
from stackops.converge.resource import Resource
from stackops.converge.resources import RESOURCE_TYPES
from stackops.errors import InvalidInput

EXPECTED = {
    "archive",
    "directory",
    "execute",
    "file",
    "link",
    "package",
    "release",
    "service",
    "template",
}


def make_run(tmp_path: Path) -> Run:
    return Run({}, NodeRoot(tmp_path), Cookbooks([]), dry_run=True)


def test_the_registry_holds_every_type_of_the_issue() -> None:
    assert set(RESOURCE_TYPES.names()) == EXPECTED


@pytest.mark.parametrize("cls", list(RESOURCE_TYPES), ids=lambda c: c.type_name)
def test_every_type_is_complete(cls: type[Resource], tmp_path: Path) -> None:
    assert cls.__doc__ and cls.__doc__.strip(), "a type says what it is"
    assert cls.actions and all(isinstance(a, str) for a in cls.actions)
    assert cls.triggered_actions <= set(cls.actions)
    for step in ("desired", "current", "change", "apply"):
        assert getattr(cls, step) is not getattr(Resource, step), f"{cls.type_name}.{step}"
    assert isinstance(cls.__dict__.get("change") or _inherited_change(cls), staticmethod)
    # The documented example declares, through the typed method of Run.
    run = make_run(tmp_path)
    example = dict(cls.example)
    name = example.pop("name")
    method = getattr(run, cls.type_name)
    if cls.type_name == "execute":
        resource = method(example.pop("command"), name=name, **example)
    else:
        resource = method(name, **example)
    assert isinstance(resource, cls)
    assert resource.id == f"{cls.type_name}[{name}]"
    assert resource.action == cls.actions[0]
    assert set(cls.example) - {"name"} <= set(cls.keywords)


def _inherited_change(cls: type[Resource]) -> object:
    for klass in cls.__mro__:
        if "change" in klass.__dict__:
            return klass.__dict__["change"]
    return None


def test_unknown_type_lists_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no resource type 'fiel'.*Did you mean: file"):
        make_run(tmp_path).declare("fiel", "/x")


def test_unknown_keyword_lists_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        make_run(tmp_path).file("/x", contents="typo")
    message = str(info.value)
    assert "file[/x]: unknown keyword contents" in message
    assert "content" in message and "mode" in message


@pytest.mark.parametrize(
    ("type_name", "name", "options", "expected"),
    [
        ("file", "/x", {"mode": "rw"}, "mode= must be an octal number"),
        ("file", "relative/x", {}, "must be absolute"),
        ("file", "/../etc/passwd", {}, "climbs above the root"),
        ("directory", "/d", {"action": "remove"}, "valid: create, delete"),
        ("link", "/l", {"to": "../../../../outside"}, "climbs above the root"),
        ("execute", "x", {"command": "ls -l"}, "shell=True"),
        ("archive", "/a", {"source": "ftp://x/a.tgz"}, "scheme 'ftp'"),
        ("archive", "/a", {"source": "/a.tgz", "checksum": "sha256:12"}, "64 hex digits"),
        ("release", "/srv/a", {"release": "../x"}, "not a valid id"),
        ("release", "/srv/a", {"release": "v1", "keep": 0}, "keep= takes a count >= 1"),
        ("service", "web", {"provider": "upstart"}, "valid: supervised, systemd"),
        ("service", "web", {"reload_signal": "SIGNOPE"}, "no signal"),
        ("file", "/x", {"requires": "directory[/]", "notifies": 3}, "notifies= takes a list"),
    ],
)
def test_bad_declarations_say_what_is_valid(
    tmp_path: Path, type_name: str, name: str, options: dict, expected: str
) -> None:
    run = make_run(tmp_path)
    with pytest.raises(InvalidInput, match=expected):
        if type_name == "execute":
            run.execute(options.pop("command"), name=name, **options)
        else:
            run.declare(type_name, name, **options)


def test_each_type_is_registered_by_the_module_the_registry_names() -> None:
    """Types load on first use from the module `locate` names: the table must be true."""
    for cls in RESOURCE_TYPES:
        assert RESOURCE_TYPES.module_of(cls.type_name) == cls.__module__, cls.type_name
