"""The values a deployment acts on, checked when they come in.

- a command run without a shell (`migrate_command`, a health check's `command`):
  an argv list, the program first; a string is refused with the list it would be;
- the folder an app owns (`deploy_to`): normalised, never a system directory or
  inside one, never climbing out with `..` (undeploy deletes it);
- where an app's source is fetched from: a URL that fits the source's type.

Pure: raises `InvalidInput`; importable without pydantic.
"""

from __future__ import annotations

import json
import re
import shlex

from stackops.errors import InvalidInput
from stackops.model.jsontext import json_kind
from stackops.model.text import check_line

ARGV_MAX = 100
ARG_MAX_CHARS = 4096
_NOT_A_PROGRAM_START = ("-", "{", "[")


def _words(text: str) -> list[str]:
    """`text` split as a shell would (plain whitespace when its quotes do not balance)."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def validate_argv(value: object, field: str = "command", *, allow_empty: bool = True) -> list[str]:
    """A command as an argv list, run without a shell: 1..100 strings, each without NUL
    (and, unless `allow_empty`, none empty), the program first (no spaces in it). A string
    is refused with the list it would be."""
    if isinstance(value, str):
        example = json.dumps(_words(value) or ["./bin/migrate"])
        raise InvalidInput(
            f"{field} must be a list of strings (an argv, run without a shell), not a string; "
            f'write {example} (or ["sh", "-c", {json.dumps(value)}] for shell syntax)'
        )
    if not isinstance(value, list) or not value:
        raise InvalidInput(
            f'{field} must be a non-empty list of arguments, like ["./manage.py", "migrate"]; '
            f"got {json_kind(value)}"
        )
    if len(value) > ARGV_MAX:
        raise InvalidInput(f"{field} has {len(value)} arguments; at most {ARGV_MAX} are allowed")
    for index, arg in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(arg, str):
            raise InvalidInput(f"{where} is {json_kind(arg)}; arguments are strings: quote it")
        if not arg and not allow_empty:
            raise InvalidInput(
                f"{field} must be a non-empty list of non-empty arguments; argument {index} is ''"
            )
        if "\x00" in arg:
            raise InvalidInput(f"{where} holds a NUL character (U+0000), which no argv can carry")
        if len(arg) > ARG_MAX_CHARS:
            raise InvalidInput(f"{where} is {len(arg)} characters; at most {ARG_MAX_CHARS}")
    program = value[0]
    check_line(program, f"{field}[0]")
    if not program or any(c.isspace() for c in program) or program.startswith(_NOT_A_PROGRAM_START):
        words = _words(program)
        hint = f"; did you mean {json.dumps(words + value[1:])}?" if len(words) > 1 else ""
        raise InvalidInput(
            f"{field}[0] {program!r} is not a program (a path or name without spaces, "
            f"not starting with '-', '{{' or '['; like './manage.py'){hint}"
        )
    return list(value)


DEPLOY_TO_MAX = 1024
SYSTEM_TREES = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/lost+found",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var/lock",
    "/var/run",
)
"""Nothing under these belongs to an app."""
OWNABLE_IN_SYSTEM_TREES = ("/usr/local",)
"""...except below these (an app may live in /usr/local/<app>)."""
SYSTEM_DIRS = frozenset(
    {
        "/",
        "/home",
        "/media",
        "/mnt",
        "/opt",
        "/root",
        "/snap",
        "/srv",
        "/srv/www",
        "/tmp",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/etc",
        "/usr/local/include",
        "/usr/local/lib",
        "/usr/local/sbin",
        "/usr/local/share",
        "/usr/local/src",
        "/var",
        "/var/cache",
        "/var/lib",
        "/var/log",
        "/var/mail",
        "/var/opt",
        "/var/spool",
        "/var/tmp",
        "/var/www",
    }
)
"""Folders an app may live below but never be: undeploy deletes deploy_to."""


def validate_deploy_to(path: object, field: str = "deploy_to") -> str:
    """Where an app's releases go: an absolute path, normalised (`//`, `/./` and a trailing
    '/' removed), without '..', and never a system directory or inside one (undeploy
    deletes it: `/`, `/etc`, `/usr`, `/var`, `/root`, `/proc`...)."""
    if not isinstance(path, str):
        raise InvalidInput(f"{field} must be a path like '/srv/www/web', not {json_kind(path)}")
    check_line(path, field)
    if len(path) > DEPLOY_TO_MAX:
        raise InvalidInput(f"{field} is {len(path)} characters; at most {DEPLOY_TO_MAX}")
    if not path.startswith("/") or any(c.isspace() for c in path):
        raise InvalidInput(
            f"{field} {path!r} must be an absolute path without spaces, like '/srv/www/web'"
        )
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidInput(
            f"{field} {path!r} climbs out with '..'; write the folder it means, like '/srv/www/web'"
        )
    normal = "/" + "/".join(parts)
    inside = [tree for tree in SYSTEM_TREES if normal == tree or normal.startswith(tree + "/")]
    ownable = any(normal.startswith(top + "/") for top in OWNABLE_IN_SYSTEM_TREES)
    home = len(parts) == 2 and parts[0] == "home"
    if normal in SYSTEM_DIRS or (inside and not ownable) or home:
        what = "a home directory" if home else "a system directory"
        if inside and not ownable and normal != inside[0]:
            what = f"inside the system directory {inside[0]}"
        raise InvalidInput(
            f"{field} {normal!r} is {what}; an app owns its deploy_to (undeploy deletes it): "
            "choose a folder of its own, like '/srv/www/<app>'"
        )
    return normal


_S3_URL = re.compile(r"s3://[a-z0-9][a-z0-9.-]{0,62}/\S+")
_ARCHIVE_SCHEMES = ("s3", "http", "https", "file")
_URL_SCHEMES = {"s3", "http", "https", "file", "git", "ssh", "svn", "svn+ssh"}


def validate_source_url(kind: str, url: str) -> str:
    """A source's url fits its type: s3 -> `s3://bucket/key`; archive -> an s3://, http(s)://
    or file:// URL or a path; git/svn -> a URL or an scp-like `user@host:path`."""
    check_line(url, "url")
    scheme, sep, rest = url.partition("://")
    if kind == "s3" and not _S3_URL.fullmatch(url):
        raise InvalidInput(
            f"url {url!r} is not an S3 object address; write one like 's3://bucket/app.tar.gz'"
        )
    if not sep:
        return url
    if scheme not in _URL_SCHEMES or (kind == "archive" and scheme not in _ARCHIVE_SCHEMES):
        schemes = ", ".join(f"{s}://" for s in _ARCHIVE_SCHEMES) if kind == "archive" else ""
        valid = f"use {schemes} or a path" if schemes else "check the scheme"
        raise InvalidInput(f"url {url!r}: scheme {scheme!r} is not supported; {valid}")
    if scheme in ("http", "https", "s3") and not rest.split("/", 1)[0]:
        raise InvalidInput(
            f"url {url!r} names no host; write one like '{scheme}://host/app.tar.gz'"
        )
    if any(c.isspace() for c in url):
        raise InvalidInput(f"url {url!r} holds a space; encode it as %20")
    return url
