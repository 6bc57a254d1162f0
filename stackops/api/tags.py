"""Tag verbs on stack and layer ARNs, and the tags every EC2 instance of a layer carries.

As in OpsWorks, a layer inherits its stack's tags and may override their
values or add its own; an instance carries the result of its layers (in its
layer order) on its EC2 instance and volumes, set at launch and updated on
running instances whenever a stack's or layer's tags change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from stackops.errors import InvalidInput
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.model.stacks import Stack
from stackops.model.validation import EC2_TAGS_MAX

if TYPE_CHECKING:
    from stackops.services import Services

MAX_TAGS = 40
KEY_MAX = 127
VALUE_MAX = 255
RESERVED_PREFIXES = ("aws:", "stackops:", "opsworks:")
_ARN = re.compile(r"arn:aws[a-z-]*:opsworks:[a-z0-9-]+:\d{12}:(stack|layer)/([^/\s]+)/?")
_ALLOWED = re.compile(r"[\w\s+\-=.:/@]*")
STACKOPS_TAGS = 4  # stack id, instance id, layer ids, Name


def inherited_tags(stack: Stack, layers: Sequence[Layer]) -> dict[str, str]:
    """The user tags of an instance in `layers`: the stack's, then each layer's over them."""
    tags = dict(stack.tags)
    for layer in layers:
        tags.update(layer.tags)
    return tags


def _resource(services: Services, arn: str) -> Stack | Layer:
    match = _ARN.fullmatch(arn.strip())
    if not match:
        raise InvalidInput(
            f"--resource-arn: {arn[:80]!r} is not a stack or layer ARN; tags apply to stacks and "
            "layers (the Arn that describe-stacks and describe-layers answer), as in OpsWorks"
        )
    kind, record_id = match.groups()
    return services.store.get(Stack if kind == "stack" else Layer, record_id)


def _clean_tags(tags: dict[str, Any]) -> dict[str, str]:
    if not isinstance(tags, dict) or not tags:
        raise InvalidInput('--tags: give one or more tags, e.g. Team=web or \'{"Team": "web"}\'')
    cleaned: dict[str, str] = {}
    for raw_key, raw_value in tags.items():
        key = str(raw_key).strip()
        value = "" if raw_value is None else str(raw_value).strip()
        if not key:
            raise InvalidInput("--tags: a tag key cannot be empty")
        if len(key) > KEY_MAX or len(value) > VALUE_MAX:
            raise InvalidInput(
                f"--tags: tag {key[:40]!r}: keys are at most {KEY_MAX} characters and values at "
                f"most {VALUE_MAX}"
            )
        for what, text in (("key", key), ("value", value)):
            if not _ALLOWED.fullmatch(text):
                raise InvalidInput(
                    f"--tags: tag {what} {text!r} may hold letters, numbers, spaces and "
                    "+ - = . _ : / @ only"
                )
        if key.lower().startswith(RESERVED_PREFIXES):
            raise InvalidInput(
                f"--tags: tag key {key!r}: keys starting with {', '.join(RESERVED_PREFIXES)} "
                "are reserved"
            )
        cleaned[key] = value
    return cleaned


def tag_resource(services: Services, arn: str, tags: dict[str, Any]) -> None:
    """Add or change tags on a stack or layer, and on the EC2 instances under it."""
    record = _resource(services, arn)
    merged = {**record.tags, **_clean_tags(tags)}
    if len(merged) > MAX_TAGS:
        raise InvalidInput(f"--tags: a stack or layer holds at most {MAX_TAGS} tags")
    _save_and_propagate(services, record.model_copy(update={"tags": merged}))


def untag_resource(services: Services, arn: str, keys: Iterable[str]) -> None:
    """Remove tags from a stack or layer, and from the EC2 instances under it."""
    record = _resource(services, arn)
    wanted = [k.strip() for k in keys]
    if not wanted:
        raise InvalidInput("--tag-keys: give the keys of the tags to remove")
    kept = {k: v for k, v in record.tags.items() if k not in wanted}
    _save_and_propagate(services, record.model_copy(update={"tags": kept}))


def list_tags(
    services: Services, arn: str, max_results: int | None = None, next_token: str | None = None
) -> dict[str, Any]:
    """A stack's or layer's tags, by key, in pages of `max_results`."""
    record = _resource(services, arn)
    keys = sorted(record.tags)
    start = 0
    if next_token:
        if not next_token.isdigit() or int(next_token) > len(keys):
            raise InvalidInput(f"--next-token: {next_token!r} is not a token list-tags gave")
        start = int(next_token)
    if max_results is not None and max_results < 1:
        raise InvalidInput("--max-results: give a number of tags of at least 1")
    end = len(keys) if max_results is None else min(len(keys), start + max_results)
    answer: dict[str, Any] = {"Tags": {k: record.tags[k] for k in keys[start:end]}}
    if end < len(keys):
        answer["NextToken"] = str(end)
    return answer


def _save_and_propagate(services: Services, record: Stack | Layer) -> None:
    """Store the new tags; bring every EC2 instance under the record (not terminated) in line."""
    old_stack = services.store.get(Stack, record.stack_id)
    new_stack = record if isinstance(record, Stack) else old_stack
    contents = services.store.contents(record.stack_id)
    old_layers = {layer.layer_id: layer for layer in contents.layers}
    new_layers = dict(old_layers)
    if isinstance(record, Layer):
        new_layers[record.layer_id] = record
    changes: list[tuple[str, dict[str, str], list[str]]] = []
    for instance in contents.instances:
        if not _affected(record, instance):
            continue
        ids = [i for i in instance.layer_ids if i in old_layers]
        old = inherited_tags(old_stack, [old_layers[i] for i in ids])
        new = inherited_tags(new_stack, [new_layers[i] for i in ids])
        if len(new) + STACKOPS_TAGS > EC2_TAGS_MAX:
            raise InvalidInput(
                f"instance {instance.hostname} would carry {len(new) + STACKOPS_TAGS} EC2 tags; "
                f"EC2 allows {EC2_TAGS_MAX} and stackops uses {STACKOPS_TAGS}"
            )
        if instance.ec2_instance_id and instance.status != "terminated":
            changes.append((instance.ec2_instance_id, new, [k for k in old if k not in new]))
    services.store.put(record)
    for ec2_instance_id, tags, removed in changes:
        if tags:
            services.ec2.tag(ec2_instance_id, tags)
        if removed:
            services.ec2.untag(ec2_instance_id, removed)


def _affected(record: Stack | Layer, instance: Instance) -> bool:
    return isinstance(record, Stack) or record.layer_id in instance.layer_ids
