"""Pure validators for user input, shared by the model and the CLI.

Each raises `InvalidInput` whose message says what is wrong and what would be
valid. Inside pydantic validators, wrap them with `as_value_error`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from stackops.errors import InvalidInput
from stackops.model.deploysettings import validate_argv, validate_deploy_to
from stackops.model.jsontext import (
    JsonProblem,
    check_tree,
    format_subpath,
    json_kind,
    load_json,
    path_to,
)

CUSTOM_JSON_MAX_BYTES = 81920
ENVIRONMENT_KEY_MAX = 64
ENVIRONMENT_VALUE_MAX = 256
ENVIRONMENT_MAX_BYTES = 10240
SHORTNAME_MAX = 200
RECIPE_MAX = 255
HOSTNAME_MAX = 63
EC2_TAGS_MAX = 50
EC2_TAG_KEY_MAX = 128
EC2_TAG_VALUE_MAX = 256
SSM_PARAMETER_NAME_MAX = 2048

_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHORTNAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_RECIPE_PART = r"[A-Za-z0-9_-]+"
_RECIPE = re.compile(rf"{_RECIPE_PART}(::{_RECIPE_PART})?")
_SSM_NAME = re.compile(r"[A-Za-z0-9_.\-/]+")

T = TypeVar("T")


class LocatedValueError(ValueError):
    """A ValueError for pydantic that knows where, below the value checked, it lies.

    `path` is relative to the field being validated (`('port',)` inside a health
    check); `stackops.model.yamlsource` adds it to the field's own location so a
    stack file error points at the very line.
    """

    def __init__(self, path: tuple[Any, ...], reason: str, *, at_key: bool = False) -> None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        super().__init__(f"{where}: {reason}" if where else reason)
        self.path = path
        self.reason = reason
        self.at_key = at_key


def located(path: tuple[Any, ...], reason: str, *, at_key: bool = False) -> LocatedValueError:
    """The error to raise in a validator for a problem at `path` inside the value."""
    return LocatedValueError(path, reason, at_key=at_key)


def as_value_error(check: Callable[..., T], *args: Any) -> T:
    """Call `check(*args)`, turning its `InvalidInput` into the `ValueError` pydantic expects
    (a `LocatedValueError` when the problem lies inside the value)."""
    try:
        return check(*args)
    except JsonProblem as exc:
        if exc.path:
            raise LocatedValueError(exc.path, exc.reason) from None
        raise ValueError(exc.reason) from None
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


def parse_custom_json(text: str, field: str = "custom_json") -> dict[str, Any]:
    """Parse custom JSON text: a JSON object of at most 80 KB (81920 bytes) serialized,
    nested at most 32 levels (refused before decoding, so no depth can crash the parser)."""
    return validate_custom_json(load_json(text, field), field)


def validate_custom_json(value: object, field: str = "custom_json") -> dict[str, Any]:
    """Check parsed custom JSON: an object, at most 80 KB serialized, well-formed secret refs.

    A value written `{"ssm": "/param/name"}` is a secret reference, resolved from
    SSM Parameter Store at run time; it is kept as is.
    """
    if not isinstance(value, dict):
        raise InvalidInput(
            f"{field} must be a JSON object (a mapping of keys to values), "
            f'not {json_kind(value)}; for example {{"key": "value"}}'
        )
    refs = check_tree(value, field)  # depth first: json.dumps below recurses
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{field} holds a value JSON cannot represent ({exc}); "
            "use strings, numbers, booleans, null, arrays and objects (quote dates in YAML)"
        ) from None
    size = len(text.encode())
    if size > CUSTOM_JSON_MAX_BYTES:
        raise InvalidInput(
            f"{field} is {size} bytes serialized; at most {CUSTOM_JSON_MAX_BYTES} bytes (80 KB) "
            "are allowed; move bulky data to S3 or SSM and reference it"
        )
    _check_secret_refs(value, refs, field)
    check_deploy_overrides(value, field)
    return value


def is_secret_ref(value: object) -> bool:
    """True when `value` is a secret reference `{"ssm": "<parameter name>"}`."""
    return isinstance(value, dict) and len(value) == 1 and "ssm" in value


def find_secret_refs(value: object, path: str = "") -> dict[str, str]:
    """Map each secret reference inside `value` to its SSM parameter name, keyed by dotted path."""
    found: dict[str, str] = {}
    if is_secret_ref(value):
        found[path] = value["ssm"]  # type: ignore[index]
    elif isinstance(value, dict):
        for key, item in value.items():
            found.update(find_secret_refs(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(find_secret_refs(item, f"{path}[{index}]"))
    return found


def _check_secret_refs(value: dict[str, Any], refs: list[dict[str, Any]], field: str) -> None:
    for ref in refs:
        name = ref["ssm"]
        if (
            not isinstance(name, str)
            or not _SSM_NAME.fullmatch(name)
            or len(name) > SSM_PARAMETER_NAME_MAX
        ):
            path = format_subpath(path_to(value, ref)).lstrip(".")
            where = f"{field}.{path}" if path else field
            raise InvalidInput(
                f"{where} is a secret reference with parameter name {name!r}; "
                'write {"ssm": "/path/to/param"} with letters, digits and _ . - /'
            )


def validate_environment_key(key: str) -> str:
    """An app environment variable name: 1..64 of [A-Za-z0-9_], not starting with a digit."""
    if not 1 <= len(key) <= ENVIRONMENT_KEY_MAX:
        raise InvalidInput(
            f"environment key {_short(key)} is {len(key)} characters; "
            f"use 1 to {ENVIRONMENT_KEY_MAX}"
        )
    if not _ENV_KEY.fullmatch(key):
        raise InvalidInput(
            f"environment key {key!r} is not valid; use letters, digits and '_', "
            "starting with a letter or '_' (like DATABASE_URL)"
        )
    return key


def validate_environment_value(key: str, value: str) -> str:
    """An app environment value: at most 256 printable characters (may be empty)."""
    if len(value) > ENVIRONMENT_VALUE_MAX:
        raise InvalidInput(
            f"environment value of {key} is {len(value)} characters; "
            f"at most {ENVIRONMENT_VALUE_MAX} are allowed"
        )
    if not value.isprintable():
        raise InvalidInput(
            f"environment value of {key} holds a control character (newline, tab...); "
            "only printable characters are allowed"
        )
    return value


def validate_environment(variables: Iterable[tuple[str, str]]) -> None:
    """Check an app environment given as (key, value) pairs: each pair, no repeats, <= 10 KB."""
    seen: dict[str, int] = {}
    total = 0
    for index, (key, value) in enumerate(variables):
        validate_environment_key(key)
        validate_environment_value(key, value)
        if key in seen:
            raise InvalidInput(
                f"environment key {key!r} appears twice (entries {seen[key]} and {index}); "
                "each key may appear once"
            )
        seen[key] = index
        total += len(key.encode()) + len(value.encode())
    if total > ENVIRONMENT_MAX_BYTES:
        raise InvalidInput(
            f"environment keys and values total {total} bytes; at most {ENVIRONMENT_MAX_BYTES} "
            "bytes (10 KB) are allowed; keep large values in SSM or S3"
        )


def validate_shortname(name: str, what: str = "shortname") -> str:
    """A layer or app short name: lower-case letters, digits, '-', '_', '.'.

    It starts with a letter or digit and has at most 200 characters (OpsWorks's limit).
    """
    if not 1 <= len(name) <= SHORTNAME_MAX:
        raise InvalidInput(f"{what} is {len(name)} characters; use 1 to {SHORTNAME_MAX}")
    if not _SHORTNAME.fullmatch(name):
        raise InvalidInput(
            f"{what} {name!r} is not valid; use lower-case letters, digits, '-', '_' and '.', "
            "starting with a letter or digit (like 'app' or 'php-app')"
        )
    return name


def validate_hostname(name: str) -> str:
    """A host name label: 1..63 letters, digits and '-', not starting or ending with '-'."""
    if not 1 <= len(name) <= HOSTNAME_MAX:
        raise InvalidInput(f"hostname is {len(name)} characters; use 1 to {HOSTNAME_MAX}")
    if not _HOSTNAME.fullmatch(name):
        raise InvalidInput(
            f"hostname {name!r} is not valid; use letters, digits and '-', "
            "not starting or ending with '-' (like 'app1')"
        )
    return name


def validate_region(region: str) -> str:
    """An AWS region name such as us-east-1 or ap-southeast-2."""
    if not _REGION.fullmatch(region):
        raise InvalidInput(
            f"region {region!r} is not an AWS region name; write one like 'us-east-1'"
        )
    return region


def validate_recipe_name(name: str) -> str:
    """A recipe reference: `cookbook` or `cookbook::recipe` (letters, digits, '_' and '-')."""
    if len(name) > RECIPE_MAX:
        raise InvalidInput(f"recipe name is {len(name)} characters; at most {RECIPE_MAX}")
    if not _RECIPE.fullmatch(name):
        raise InvalidInput(
            f"recipe {name!r} is not valid; write 'cookbook::recipe' or 'cookbook' "
            "with letters, digits, '_' and '-' (like 'web::deploy')"
        )
    return name


def validate_ec2_tags(tags: dict[str, str]) -> None:
    """EC2 tags: at most 50, keys 1..128 characters not starting with 'aws:', values <= 256."""
    if len(tags) > EC2_TAGS_MAX:
        raise InvalidInput(
            f"{len(tags)} tags given; EC2 allows at most {EC2_TAGS_MAX} per resource"
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= EC2_TAG_KEY_MAX:
            raise InvalidInput(
                f"tag key {_short(key)} is {len(key)} characters; use 1 to {EC2_TAG_KEY_MAX}"
            )
        if key.lower().startswith("aws:"):
            raise InvalidInput(
                f"tag key {key!r} starts with 'aws:', which AWS reserves; choose another prefix"
            )
        if len(value) > EC2_TAG_VALUE_MAX:
            raise InvalidInput(
                f"value of tag {key!r} is {len(value)} characters; "
                f"at most {EC2_TAG_VALUE_MAX} are allowed"
            )


def _short(text: str, limit: int = 24) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def check_deploy_overrides(custom_json: dict[str, Any], field: str) -> None:
    """Custom JSON is merged over the node attributes recipes read, so the `deploy.<app>`
    values it sets are held to the rules of the app's own fields: deploy_to, environment
    (names of variables, values without NUL) and migrate_command."""
    deploy = custom_json.get("deploy")
    if not isinstance(deploy, dict):
        return
    for app, attrs in deploy.items():
        if not isinstance(attrs, dict):
            continue
        base = ("deploy", app)
        checks: list[tuple[str, Callable[[Any, str], Any]]] = [
            ("deploy_to", validate_deploy_to),
            ("migrate_command", validate_argv),
        ]
        for key, check in checks:
            if key in attrs and attrs[key] is not None:
                try:
                    check(attrs[key], key)
                except InvalidInput as exc:
                    raise JsonProblem((*base, key), exc.message, field) from None
        environment = attrs.get("environment")
        if isinstance(environment, dict):
            for name, value in environment.items():
                where = (*base, "environment", name)
                try:
                    validate_environment_key(name)
                    if isinstance(value, str):
                        validate_environment_value(name, value)
                    elif not is_secret_ref(value):
                        raise InvalidInput(
                            f"environment value of {name} must be a string or "
                            f'{{"ssm": "/parameter"}}, not {json_kind(value)}'
                        )
                except InvalidInput as exc:
                    raise JsonProblem(where, exc.message, field) from None
