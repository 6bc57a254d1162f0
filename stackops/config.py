"""Where stackops acts: the state folder and the AWS target, chosen once at the edge.

Rules, in order (README "Targets"):
1. `--endpoint-url` or `AWS_ENDPOINT_URL`: that endpoint (a sandbox, LocalStack).
2. `--profile`: that named profile on real AWS.
3. a sandbox started from this state folder and still running: the sandbox.
4. `AWS_PROFILE` or `AWS_ACCESS_KEY_ID` in the environment: real AWS with them.
5. nothing: an error saying how to choose.
So a laptop with a sandbox up never reaches a real account by accident.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from stackops.errors import InvalidInput, TargetNotConfigured
from stackops.model.validation import validate_region

DEFAULT_REGION = "us-east-1"
SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORT = 4566
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def state_home(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    """The state folder: `STACKOPS_HOME`, else `.stackops` in the current directory."""
    env = os.environ if environ is None else environ
    return Path(env.get("STACKOPS_HOME") or Path.cwd() / ".stackops")


@dataclass(frozen=True)
class SandboxInfo:
    """What `stackops sandbox up` recorded about the server it started."""

    pid: int
    endpoint_url: str
    region: str

    @staticmethod
    def path(home: Path) -> Path:
        return home / "sandbox.json"

    @classmethod
    def read(cls, home: Path) -> SandboxInfo | None:
        """The running sandbox of this state folder, or None if none is alive."""
        try:
            raw = json.loads(cls.path(home).read_text())
            info = cls(int(raw["pid"]), str(raw["endpoint_url"]), str(raw["region"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return info if _alive(info.pid) else None

    def write(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        tmp = self.path(home).with_suffix(".tmp")
        tmp.write_text(json.dumps(self.__dict__))
        tmp.replace(self.path(home))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Target:
    """One AWS target: a sandbox or other endpoint, or a real account."""

    kind: Literal["sandbox", "endpoint", "account"]
    region: str
    endpoint_url: str | None = None
    profile: str | None = None

    @property
    def is_local(self) -> bool:
        """True when the endpoint is on loopback (fake credentials are fine there)."""
        return bool(self.endpoint_url) and urlparse(self.endpoint_url).hostname in LOOPBACK_HOSTS

    def describe(self, account: str | None = None) -> str:
        """One line for stderr naming where commands act."""
        match self.kind:
            case "sandbox":
                return f"target: sandbox {self.endpoint_url} (region {self.region})"
            case "endpoint":
                return f"target: endpoint {self.endpoint_url} (region {self.region})"
        who = f"account {account}" if account else "AWS account"
        via = f", profile {self.profile}" if self.profile else ""
        return f"target: {who}, region {self.region}{via}"


def choose_target(
    *,
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    home: Path,
    environ: dict[str, str] | os._Environ[str] | None = None,
) -> Target:
    """Apply the rules of this module's docstring."""
    env = os.environ if environ is None else environ
    target = _choose(endpoint_url, region, profile, home, env)
    check_region_name(target.region)
    if target.endpoint_url:
        check_endpoint_url(target.endpoint_url)
    return target


def _choose(
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    home: Path,
    env: dict[str, str] | os._Environ[str],
) -> Target:
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    endpoint_url = endpoint_url or env.get("AWS_ENDPOINT_URL") or None
    if endpoint_url:
        sandbox = SandboxInfo.read(home)
        kind = "sandbox" if sandbox and sandbox.endpoint_url == endpoint_url else "endpoint"
        return Target(kind, region or DEFAULT_REGION, endpoint_url=endpoint_url, profile=profile)
    if profile:
        return Target(
            "account", region or _profile_region(profile) or DEFAULT_REGION, None, profile
        )
    sandbox = SandboxInfo.read(home)
    if sandbox:
        return Target("sandbox", region or sandbox.region, endpoint_url=sandbox.endpoint_url)
    env_profile = env.get("AWS_PROFILE")
    if env_profile or env.get("AWS_ACCESS_KEY_ID"):
        profile_region = _profile_region(env_profile) if env_profile else None
        return Target("account", region or profile_region or DEFAULT_REGION, None, env_profile)
    raise TargetNotConfigured(
        "no AWS target is configured and no sandbox is running here",
        hint="run 'stackops sandbox up' for the embedded sandbox, or give --endpoint-url, "
        "--profile, AWS_PROFILE or AWS_ACCESS_KEY_ID for a real account",
    )


def _profile_region(profile: str | None) -> str | None:
    """The region a named profile sets in ~/.aws/config, read without boto3."""
    import configparser

    path = Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config")
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return None
    section = "default" if profile in (None, "default") else f"profile {profile}"
    return parser.get(section, "region", fallback=None)


def check_region_name(region: str) -> str:
    """A region name of AWS's form (`us-east-1`), checked before any call is made with it."""
    try:
        return validate_region(region)
    except InvalidInput as exc:
        raise InvalidInput(
            f"--region (or AWS_REGION, AWS_DEFAULT_REGION, the profile): {exc.message}"
        ) from None


def check_endpoint_url(url: str) -> str:
    """An endpoint URL: http or https, a host, a valid port; nothing else reaches botocore."""
    origin = "--endpoint-url (or AWS_ENDPOINT_URL)"
    example = "write one like http://127.0.0.1:4566"
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError as exc:
        raise InvalidInput(f"{origin} {url!r} is not a URL ({exc}); {example}") from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidInput(f"{origin} {url!r} is not an http:// or https:// URL; {example}")
    if not parsed.hostname or any(c.isspace() or not c.isprintable() for c in url):
        raise InvalidInput(f"{origin} {url!r} names no host; {example}")
    if port == 0:
        raise InvalidInput(f"{origin} {url!r}: port 0 is not a port; {example}")
    return url
