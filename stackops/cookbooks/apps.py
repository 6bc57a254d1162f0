"""The apps of a node (its `deploy` attributes, DESIGN §5), read once into plain values."""

import re
import shlex
from collections.abc import Mapping
from typing import Any, NamedTuple

from stackops.converge.git import git_source
from stackops.errors import InvalidInput

SUPPORTED_SCM = ("s3", "archive", "local", "git")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AppService(NamedTuple):
    """A process that serves the app, kept running from `<deploy_to>/current`; up only
    once it listens on `port` when one is given."""

    command: tuple[str, ...]
    env: dict[str, str]
    reload_signal: str | None
    port: int | None = None


class App(NamedTuple):
    """One app to deploy on this node."""

    name: str
    deploy_to: str
    release: str | None  # None when this run does not deploy the app: it is left as it is
    source: str
    checksum: str | None
    strip_components: int
    environment: dict[str, str]
    keep: int
    shared: tuple[str, ...]
    migrate: tuple[str, ...] | None
    service: AppService | None
    owner: str | None
    group: str | None
    switch_back: bool = False  # `deploy.<app>.switch_back`: switch to an existing release only
    undeploy: bool = False  # `deploy.<app>.undeploy`: the app an undeploy command removes

    @property
    def env_file(self) -> str:
        """The shell-style environment file written for the app (secrets inside: 0600)."""
        return f"{self.deploy_to}/shared/app.env"

    def env_text(self) -> str:
        """`KEY='value'` lines for a shell to source: keys checked, values quoted."""
        for key in self.environment:
            if not _VARIABLE.match(key):  # app_of refused it already: a safety net
                raise InvalidInput(f"app {self.name}: {key!r} is not a variable name")
        return "".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(self.environment.items()))


def _field(where: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind):
        raise InvalidInput(f"node attribute {where}: expected {what}, got {value!r}")
    return value


def _argv(where: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(shlex.split(value))
    if isinstance(value, list) and value and all(isinstance(a, str) for a in value):
        return tuple(value)
    raise InvalidInput(f"node attribute {where}: expected a command (argv list), got {value!r}")


def app_of(name: str, attrs: Mapping[str, Any]) -> App:
    """The App of `deploy.<name>`; InvalidInput naming the attribute that is not valid."""
    base = f"deploy.{name}"
    if not _SLUG.match(name):
        raise InvalidInput(f"node attribute {base}: app names are letters, digits, '_', '.', '-'")
    _field(base, attrs, Mapping, "an object")
    scm = _field(f"{base}.scm", attrs.get("scm", {}), Mapping, "an object")
    scm_type = scm.get("scm_type", "archive")
    if scm_type not in SUPPORTED_SCM:
        raise InvalidInput(
            f"node attribute {base}.scm.scm_type: {scm_type!r} is not supported yet; "
            f"use one of {', '.join(SUPPORTED_SCM)} (an artifact: s3:// URL, http(s) URL or path; "
            "or a git repository and revision)"
        )
    source = _field(f"{base}.scm.repository", scm.get("repository"), str, "the artifact's URL")
    if scm_type == "s3" and not source.startswith("s3://"):
        raise InvalidInput(f"node attribute {base}.scm.repository: scm_type s3 needs an s3:// URL")
    if scm_type == "git":  # the release is the revision's tree, fetched by git
        revision = scm.get("revision")
        if revision is not None:
            _field(f"{base}.scm.revision", revision, str, "a branch, tag or commit")
        source = git_source(source, revision)
    release = attrs.get("release")
    if release is not None:
        _field(f"{base}.release", release, str, "a release id")
    env = _field(f"{base}.environment", attrs.get("environment") or {}, Mapping, "an object")
    environment = _variables(f"{base}.environment", env)
    service = None
    if attrs.get("service"):
        svc = _field(f"{base}.service", attrs["service"], Mapping, "an object")
        port = svc.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
            raise InvalidInput(f"node attribute {base}.service.port: expected a TCP port number")
        service = AppService(
            command=_argv(f"{base}.service.command", svc.get("command")),
            env=_variables(f"{base}.service.env", svc.get("env") or {}),
            reload_signal=svc.get("reload_signal"),
            port=port,
        )
    migrate = None
    if attrs.get("migrate") and attrs.get("migrate_command"):
        migrate = _argv(f"{base}.migrate_command", attrs["migrate_command"])
    keep = _field(f"{base}.keep_releases", attrs.get("keep_releases", 5), int, "a count")
    shared = _field(f"{base}.shared_dirs", attrs.get("shared_dirs", ["log", "tmp"]), list, "a list")
    return App(
        name=name,
        deploy_to=_field(
            f"{base}.deploy_to", attrs.get("deploy_to", f"/srv/www/{name}"), str, "a path"
        ),
        release=release,
        source=source,
        checksum=scm.get("checksum"),
        strip_components=int(scm.get("strip_components", 0)),
        environment=environment,
        keep=keep,
        shared=tuple(shared),
        migrate=migrate,
        service=service,
        owner=attrs.get("user"),
        group=attrs.get("group"),
        switch_back=bool(attrs.get("switch_back", False)),
        undeploy=bool(attrs.get("undeploy", False)),
    )


def _variables(where: str, env: Mapping[str, Any]) -> dict[str, str]:
    """An environment: names that a shell takes as variables, values without NUL."""
    found: dict[str, str] = {}
    for key, value in env.items():
        name = str(key)
        if not _VARIABLE.match(name):
            raise InvalidInput(
                f"node attribute {where}: {name!r} is not a variable name "
                "(letters, digits and '_', not starting with a digit)"
            )
        text = str(value)
        if "\0" in text:
            raise InvalidInput(f"node attribute {where}.{name}: a value cannot hold a NUL byte")
        found[name] = text
    return found


def apps_of(node: Mapping[str, Any]) -> list[App]:
    """Every app of `node["deploy"]`, in name order."""
    deploy = _field("deploy", node.get("deploy") or {}, Mapping, "an object of apps")
    return [app_of(name, deploy[name]) for name in sorted(deploy)]


def node_summary(node: Mapping[str, Any]) -> dict[str, Any]:
    """What configure writes to /etc/stackops/node.json: membership and apps, no secrets.

    Per-run ids (activity, command, deployment) are left out so that the file only
    changes when the node's world does; values of environment keys named in
    `stackops.secret_keys`, and every value resolved from a secret ref (the paths in
    `stackops.secret_paths`: a protected environment value, a layer's MysqlRootPassword),
    are replaced by "(secret)": the file never holds a secret, so it never holds a stale one.
    """
    ops = node.get("stackops") or {}
    secret = set(ops.get("secret_keys") or [])
    resolved = set(ops.get("secret_paths") or [])
    apps = {}
    for name, attrs in sorted((node.get("deploy") or {}).items()):
        env = attrs.get("environment") or {}
        hidden = secret | {k for k in env if f"deploy.{name}.environment.{k}" in resolved}
        apps[name] = {
            "deploy_to": attrs.get("deploy_to", f"/srv/www/{name}"),
            "release": attrs.get("release"),
            "environment": {k: ("(secret)" if k in hidden else v) for k, v in sorted(env.items())},
        }
    return {
        "stack": ops.get("stack", {}),
        "instance": ops.get("instance", {}),
        "layers": _masked(ops.get("layers", {}), "stackops.layers", resolved),
        "applications": ops.get("applications", []),
        "apps": apps,
    }


def _masked(data: Any, where: str, paths: set[str]) -> Any:
    """`data` (found at attribute path `where`) with the values at `paths` as "(secret)"."""
    if where in paths:
        return "(secret)"
    if isinstance(data, Mapping) and any(p.startswith(where + ".") for p in paths):
        return {k: _masked(v, f"{where}.{k}", paths) for k, v in data.items()}
    return data
