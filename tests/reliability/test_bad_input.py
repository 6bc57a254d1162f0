"""The bad-input corpus: hostile input at every door, each refused the same way.

Every row is one input: a stack file given to `apply`, a verb's option, a node JSON
file or recipe name given to `solo`, or a global option. Each must end with

- exit status 2, and no exception but that exit (no traceback),
- nothing on stdout, and on stderr one line `stackops: error: ...` (besides the
  `target: ...` line a verb prints) holding every string of the row's `names`:
  the field, the option or `FILE:LINE:` that is wrong,
- nothing created or changed: the state table, the parameters, the queue, the
  EC2 instances and the artifacts bucket read the same before and after (and a
  solo run's root stays empty).

To extend the corpus, add a row to the table of its door (`STACK_FILES`, `VERBS`,
`SOLO`, `GLOBAL`); `{stack}`, `{layer}`, `{app}` and `{instance}` are the ids of a
seeded stack, `{file}` is the row's `file` written to disk, `{root}` a fresh solo
root. Queue messages have their own table below (`QUEUE_MESSAGES`), for the
dispatcher's side.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result
from moto import mock_aws

from stackops.cli.main import cli


@dataclass(frozen=True)
class Case:
    """One hostile input and what its one-line refusal must name."""

    id: str
    argv: tuple[str, ...]
    names: tuple[str, ...]
    file: str | bytes | None = None
    suffix: str = ".json"


def stack_file(id: str, text: str, *names: str) -> Case:
    """`stackops apply -f FILE` on `text`; `names` usually hold `{file}:LINE:` and a path."""
    return Case(id, ("apply", "-f", "{file}"), names, text, ".yaml")


def verb(id: str, *argv: str, names: tuple[str, ...], file: str | bytes | None = None) -> Case:
    """A verb's command line (after `stackops`)."""
    return Case(id, argv, names, file)


def solo(id: str, *argv: str, names: tuple[str, ...], node: str | bytes | None = None) -> Case:
    """`stackops solo --root {root} ...`; `node` is written to {file} for `-j {file}`."""
    return Case(id, ("solo", "--root", "{root}", *argv), names, node)


STACK = "stack: {name: corpus}\n"
LAYER = STACK + "layers:\n  - shortname: app\n    type: custom\n"  # layer fields from line 5
APP = STACK + "apps:\n  - name: web\n"  # app fields from line 4


def _laughs() -> str:
    lines = ["x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for up, down in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"x-{up}: &{up} [{', '.join([f'*{down}'] * 9)}]")
    return "\n".join(lines) + "\nstack: {name: lol, custom_json: {lol: *i}}\n"


def _deep_yaml(depth: int) -> str:
    return "stack: {name: x, custom_json: {a: " + "[" * depth + "]" * depth + "}}\n"


DEEP_40 = "stack:\n  name: x\n  custom_json:\n    a: " + "[" * 40 + "]" * 40 + "\n"
BIG = "stack: {name: x, custom_json: {blob: " + "x" * 90000 + "}}\n"
INSTANCE = LAYER + "instances:\n  - {hostname: app_1, layers: [app], instance_type: t3.micro}\n"

# fmt: off
STACK_FILES: list[Case] = [
    stack_file("billion-laughs", _laughs(), "{file}:", "YAML aliases expand"),
    stack_file("alias-loop", "x-a: &a [1, *a]\n" + STACK, "{file}:1:", "YAML alias"),
    stack_file("yaml-3000-deep", _deep_yaml(3000), "{file}:1:", "nested more than 64 levels"),
    stack_file("custom-json-40-deep", DEEP_40, "{file}:4:", "stack.custom_json.a", "nested more than 32 levels"),
    stack_file("nul-in-name", 'stack: {name: "sh\\0op"}\n', "{file}:1:", "stack.name", "NUL"),
    stack_file("nul-in-custom-json", 'stack: {name: x, custom_json: {db: {host: "a\\0b"}}}\n', "{file}:1:", "stack.custom_json.db.host", "NUL"),
    stack_file("emoji-stack-name", "stack: {name: shop🛒}\n", "{file}:1:", "stack.name", "emoji"),
    stack_file("zero-width-stack-name", 'stack: {name: "shop\\u200b"}\n', "{file}:1:", "stack.name", "ZERO WIDTH SPACE"),
    stack_file("zero-width-layer-name", LAYER + '    name: "App\\u200dserver"\n', "{file}:5:", "layers[0].name", "ZERO WIDTH JOINER"),
    stack_file("bidi-override-app-name", STACK + 'apps:\n  - shortname: web\n    name: "web\\u202e"\n', "{file}:4:", "apps[0].name", "RIGHT-TO-LEFT OVERRIDE"),
    stack_file("blank-name", "stack: {name: '   '}\n", "{file}:1:", "stack.name", "blank"),
    stack_file("deploy-to-escapes", APP + "    deploy_to: /../../etc\n", "{file}:4:", "apps[0].deploy_to", "'..'"),
    stack_file("deploy-to-etc", APP + "    deploy_to: /etc/\n", "{file}:4:", "apps[0].deploy_to", "/etc"),
    stack_file("deploy-to-root", APP + "    deploy_to: //\n", "{file}:4:", "apps[0].deploy_to", "'/'"),
    stack_file("deploy-to-in-usr", APP + "    deploy_to: /usr/lib/web\n", "{file}:4:", "apps[0].deploy_to", "inside the system directory /usr"),
    stack_file("deploy-to-relative", APP + "    deploy_to: srv/www/web\n", "{file}:4:", "apps[0].deploy_to", "absolute"),
    stack_file("health-port-negative", APP + "    health_check: {path: /h, port: -1}\n", "{file}:4:", "apps[0].health_check.port", "from 1 to 65535"),
    stack_file("health-port-70000", APP + "    health_check:\n      Path: /h\n      Port: 70000\n", "{file}:6:", "apps[0].health_check.Port", "70000"),
    stack_file("health-port-text", APP + "    health_check: {path: /h, port: eighty}\n", "{file}:4:", "apps[0].health_check.port", "whole number"),
    stack_file("health-unknown-field", APP + "    health_check:\n      path: /h\n      colour: red\n", "{file}:6:", "apps[0].health_check.colour", "valid fields: path, port"),
    stack_file("health-interval-fast", APP + "    health_check: {path: /h, interval: fast}\n", "{file}:4:", "apps[0].health_check.interval", "number of seconds"),
    stack_file("health-both-kinds", APP + "    health_check: {path: /h, command: [/bin/true]}\n", "{file}:4:", "apps[0].health_check", "both command and path/port"),
    stack_file("health-both-spellings", APP + "    health_check: {path: /h, Path: /i}\n", "{file}:4:", "apps[0].health_check.Path", "repeats"),
    stack_file("health-command-string", APP + "    health_check: {command: curl -f http://localhost/}\n", "{file}:4:", "apps[0].health_check.command", '["curl", "-f", "http://localhost/"]'),
    stack_file("migrate-command-string", APP + "    migrate_command: ./manage.py migrate\n", "{file}:4:", "apps[0].migrate_command", '["./manage.py", "migrate"]'),
    stack_file("migrate-command-empty", APP + "    migrate_command: []\n", "{file}:4:", "apps[0].migrate_command", "non-empty"),
    stack_file("migrate-command-nul", APP + '    migrate_command: [./x, "a\\0"]\n', "{file}:4:", "apps[0].migrate_command", "NUL"),
    stack_file("env-key-not-a-variable", APP + "    environment:\n      - {key: 'A B', value: x}\n", "{file}:5:", "apps[0].environment[0].key", "'A B'"),
    stack_file("env-key-command", APP + "    environment:\n      - {Key: 'X;reboot', Value: x}\n", "{file}:5:", "apps[0].environment[0].Key", "X;reboot"),
    stack_file("env-value-nul", APP + '    environment:\n      - {key: A, value: "x\\0y"}\n', "{file}:5:", "apps[0].environment[0].value", "control character"),
    stack_file("env-as-mapping", APP + "    environment: {A: x}\n", "{file}:4:", "apps[0].environment", "expected a list"),
    stack_file("recipes-unknown-event", LAYER + "    custom_recipes: {Setpu: [web::setup]}\n", "{file}:5:", "layers[0].custom_recipes.Setpu", "unknown field"),
    stack_file("recipes-bad-name", LAYER + "    custom_recipes: {setup: ['../../etc']}\n", "{file}:5:", "layers[0].custom_recipes.setup[0]", "'../../etc'"),
    stack_file("recipes-string", LAYER + "    custom_recipes: {setup: web::setup}\n", "{file}:5:", "layers[0].custom_recipes.setup", "expected a list"),
    stack_file("recipes-both-spellings", LAYER + "    custom_recipes: {Setup: [a::b], setup: [c::d]}\n", "{file}:5:", "layers[0].custom_recipes.setup", "repeats 'Setup'"),
    stack_file("shutdown-timeout-too-long", LAYER + "    lifecycle_event_configuration: {Shutdown: {ExecutionTimeout: 99999}}\n", "{file}:5:", "layers[0].lifecycle_event_configuration.Shutdown.ExecutionTimeout", "900"),
    stack_file("shutdown-unknown-field", LAYER + "    lifecycle_event_configuration: {shutdown: {drain: true}}\n", "{file}:5:", "layers[0].lifecycle_event_configuration.shutdown.drain", "unknown field"),
    stack_file("source-svn-refused", APP + "    app_source: {type: svn, url: 'https://x/y'}\n", "{file}:4:", "apps[0].app_source", "svn sources are not supported"),
    stack_file("source-s3-not-s3", APP + "    app_source: {type: s3, url: 'https://x/y.tgz'}\n", "{file}:4:", "apps[0].app_source", "not an S3 object address"),
    stack_file("source-ftp", APP + "    app_source: {type: archive, url: 'ftp://x/y.tgz'}\n", "{file}:4:", "apps[0].app_source", "scheme 'ftp'"),
    stack_file("override-deploy-to", "stack:\n  name: x\n  custom_json:\n    deploy: {web: {deploy_to: /}}\n", "{file}:4:", "stack.custom_json.deploy.web.deploy_to", "system directory"),
    stack_file("override-env-key", LAYER + "    custom_json: {deploy: {web: {environment: {'$(reboot)': x}}}}\n", "{file}:5:", "layers[0].custom_json.deploy.web.environment.$(reboot)", "not valid"),
    stack_file("custom-json-invisible-key", 'stack: {name: x, custom_json: {"db\\u200bhost": 1}}\n', "{file}:1:", "stack.custom_json", "invisible character"),
    stack_file("custom-json-over-80kb", BIG, "{file}:1:", "stack.custom_json", "81920 bytes"),
    stack_file("custom-json-string-not-json", "stack: {name: x, custom_json: '{nope'}\n", "{file}:1:", "stack.custom_json", "not valid JSON"),
    stack_file("custom-json-nan", "stack: {name: x, custom_json: {a: .nan}}\n", "{file}:1:", "stack.custom_json", "JSON cannot represent"),
    stack_file("custom-json-date", "stack: {name: x, custom_json: {since: 2024-01-01}}\n", "{file}:1:", "stack.custom_json", "quote dates"),
    stack_file("custom-json-binary", "stack: {name: x, custom_json: {blob: !!binary aGVsbG8=}}\n", "{file}:1:", "stack.custom_json", "JSON cannot represent"),
    stack_file("hostname-underscore", INSTANCE, "{file}:6:", "instances[0].hostname", "'app_1'"),
    stack_file("shortname-upper", "stack: {name: x}\nlayers:\n  - {shortname: App, type: custom}\n", "{file}:3:", "layers[0].shortname", "'App'"),
    stack_file("region-bogus", "stack: {name: x, region: bogus}\n", "{file}:1:", "stack.region", "bogus"),
    stack_file("attribute-escape", 'stack: {name: x, attributes: {Color: "\\e[31m"}}\n', "{file}:1:", "stack.attributes.Color", "ESCAPE"),
    stack_file("description-nul", APP + '    description: "a\\0"\n', "{file}:4:", "apps[0].description", "NUL"),
    stack_file("yaml-syntax", "stack: {name: x\n", "{file}:", "YAML syntax error"),
    stack_file("repeated-key", "stack: {name: x}\nstack: {name: y}\n", "{file}:2:", "repeats"),
    Case("not-utf8", ("apply", "-f", "{file}"), ("{file}", "not UTF-8"), b"stack: {name: \xff}\n"),
    verb("stack-file-missing", "apply", "-f", "/no/such/stack.yaml", names=("/no/such",)),
    verb("stack-file-device", "apply", "-f", "/dev/zero", names=("/dev/zero", "larger than")),
]
# fmt: on


DEEP_3000 = "[" * 3000 + "]" * 3000
DEEP_30000 = '{"a": ' * 30000 + "1" + "}" * 30000
NEW_STACK = ("create-stack", "--name", "x")
UPDATE_STACK = ("update-stack", "--stack-id", "{stack}")
NEW_LAYER = ("create-layer", "--stack-id", "{stack}", "--type", "custom", "--name", "db")
UPDATE_LAYER = ("update-layer", "--layer-id", "{layer}")
NEW_APP = ("create-app", "--stack-id", "{stack}", "--name", "api")
UPDATE_APP = ("update-app", "--app-id", "{app}")
NEW_INSTANCE = ("create-instance", "--stack-id", "{stack}", "--instance-type", "t3.micro")
DEPLOY = ("create-deployment", "--stack-id", "{stack}", "--app-id", "{app}")
DEPLOY_CMD = (*DEPLOY, "--command", '{"Name": "deploy"}')
CONFIGURE = ("create-deployment", "--stack-id", "{stack}", "--command", '{"Name": "configure"}')
NOT_UTF8_ENV = b'[{"Key": "A", "Value": "\xff"}]'

# fmt: off
VERBS: list[Case] = [
    verb("create-stack-nul", "create-stack", "--name", "sh\x00op", names=("--name", "NUL")),
    verb("create-stack-emoji", "create-stack", "--name", "shop🔥", names=("--name", "emoji")),
    verb("create-stack-zero-width", "create-stack", "--name", "shop\u200b", names=("--name", "ZERO WIDTH SPACE")),
    verb("create-stack-json-3000", *NEW_STACK, "--custom-json", DEEP_3000, names=("--custom-json", "nested more than 32")),
    verb("create-stack-json-30000", *NEW_STACK, "--custom-json", DEEP_30000, names=("--custom-json", "nested more than 32")),
    verb("create-stack-json-nan", *NEW_STACK, "--custom-json", '{"a": NaN}', names=("--custom-json", "NaN")),
    verb("create-stack-json-huge-number", *NEW_STACK, "--custom-json", '{"a": ' + "9" * 5000 + "}", names=("--custom-json", "not a usable JSON value")),
    verb("create-stack-json-file-not-utf8", *NEW_STACK, "--custom-json", "file://{file}", names=("--custom-json", "not UTF-8"), file=b'{"a": "\xc3\x28"}'),
    verb("create-stack-json-file-missing", *NEW_STACK, "--custom-json", "file:///no/such.json", names=("--custom-json", "cannot read")),
    verb("create-stack-json-array", *NEW_STACK, "--custom-json", "[1, 2]", names=("--custom-json", "must be a JSON object")),
    verb("create-stack-region", *NEW_STACK, "--region", "moon-base-1x", names=("--region", "moon-base-1x")),
    verb("create-stack-os-newline", *NEW_STACK, "--default-os", "Amazon\nLinux", names=("--default-os", "NEWLINE")),
    verb("create-stack-attributes-not-json", *NEW_STACK, "--attributes", "{Color: red}", names=("--attributes", "not valid JSON")),
    verb("create-stack-source-deep", *NEW_STACK, "--custom-cookbooks-source", DEEP_3000, names=("--custom-cookbooks-source", "nested")),
    verb("update-stack-json-deep", *UPDATE_STACK, "--custom-json", DEEP_30000, names=("--custom-json", "nested more than 32")),
    verb("update-stack-override", *UPDATE_STACK, "--custom-json", '{"deploy": {"web": {"deploy_to": "/../../etc"}}}', names=("--custom-json", "deploy.web.deploy_to", "'..'")),
    verb("update-stack-name-nul", *UPDATE_STACK, "--name", "a\x00", names=("--name", "NUL")),
    verb("update-stack-bad-id", "update-stack", "--stack-id", "../../etc", "--name", "x", names=("--stack-id", "is not an id")),
    verb("clone-stack-json-deep", "clone-stack", "--source-stack-id", "{stack}", "--custom-json", DEEP_3000, names=("--custom-json", "nested")),
    verb("create-layer-recipes-string", *NEW_LAYER, "--shortname", "db", "--custom-recipes", '{"Setup": "db::setup"}', names=("--custom-recipes.Setup", "expected a JSON list")),
    verb("create-layer-recipes-unknown-event", *NEW_LAYER, "--shortname", "db", "--custom-recipes", '{"Setpu": []}', names=("--custom-recipes.Setpu", "unknown field")),
    verb("create-layer-recipe-name", *NEW_LAYER, "--shortname", "db", "--custom-recipes", '{"Deploy": ["db::deploy; reboot"]}', names=("--custom-recipes.Deploy[0]", "is not valid")),
    verb("create-layer-shutdown-negative", *NEW_LAYER, "--shortname", "db", "--lifecycle-event-configuration", '{"Shutdown": {"ExecutionTimeout": -1}}', names=("--lifecycle-event-configuration.Shutdown.ExecutionTimeout",)),
    verb("create-layer-shortname", *NEW_LAYER, "--shortname", "D B", names=("--shortname", "'D B'")),
    verb("create-layer-type", "create-layer", "--stack-id", "{stack}", "--type", "mainframe", "--name", "db", "--shortname", "db", names=("--type", "mainframe")),
    verb("create-layer-bad-stack-id", "create-layer", "--stack-id", "stack id", "--type", "custom", "--name", "db", "--shortname", "db", names=("--stack-id", "is not an id")),
    verb("create-layer-packages-json", *NEW_LAYER, "--shortname", "db", "--packages", '["nginx", 1]', names=("--packages", "is not a string")),
    verb("update-layer-recipes-deep", *UPDATE_LAYER, "--custom-recipes", DEEP_3000, names=("--custom-recipes", "nested")),
    verb("update-layer-json-nul-key", *UPDATE_LAYER, "--custom-json", '{"a\\u0000": 1}', names=("--custom-json", "NUL")),
    verb("update-layer-target-group", *UPDATE_LAYER, "--target-group-arn", "arn:aws:s3:::bucket", names=("--target-group-arn", "target group ARN")),
    verb("create-app-deploy-to-escape", *NEW_APP, "--deploy-to", "/../../etc", names=("--deploy-to", "'..'")),
    verb("create-app-deploy-to-root", *NEW_APP, "--deploy-to", "/", names=("--deploy-to", "system directory")),
    verb("create-app-deploy-to-proc", *NEW_APP, "--deploy-to", "/proc/1", names=("--deploy-to", "/proc")),
    verb("create-app-port-negative", *NEW_APP, "--health-check", '{"path": "/h", "port": -1}', names=("--health-check.port", "-1")),
    verb("create-app-port-70000", *NEW_APP, "--health-check", '{"Path": "/h", "Port": 70000}', names=("--health-check.Port", "70000")),
    verb("create-app-port-text", *NEW_APP, "--health-check", '{"port": "http"}', names=("--health-check.port", "whole number")),
    verb("create-app-health-unknown", *NEW_APP, "--health-check", '{"path": "/h", "Verb": "HEAD"}', names=("--health-check", "'Verb'", "valid fields")),
    verb("create-app-health-fast", *NEW_APP, "--health-check", '{"path": "/h", "interval": "fast"}', names=("--health-check.interval", "number of seconds")),
    verb("create-app-health-list", *NEW_APP, "--health-check", '["/health"]', names=("--health-check", "must be a mapping")),
    verb("create-app-migrate-one-string", *NEW_APP, "--migrate-command", "./manage.py migrate", names=("--migrate-command[0]", '["./manage.py", "migrate"]')),
    verb("create-app-migrate-garbage", *NEW_APP, "--migrate-command", '{"run": "x"}', names=("--migrate-command[0]", "is not a program")),
    verb("create-app-migrate-empty", *NEW_APP, "--migrate-command", "", names=("--migrate-command[0]", "is not a program")),
    verb("create-app-migrate-nul", *NEW_APP, "--migrate-command", "./x", "a\x00b", names=("--migrate-command[1]", "NUL")),
    verb("create-app-migrate-bad-json", *NEW_APP, "--migrate-command", '["./x",', names=("--migrate-command", "not valid JSON")),
    verb("create-app-env-not-utf8", *NEW_APP, "--environment", "file://{file}", names=("--environment", "not UTF-8"), file=NOT_UTF8_ENV),
    verb("create-app-env-key", *NEW_APP, "--environment", '[{"Key": "A;reboot", "Value": "x"}]', names=("--environment[0].Key", "A;reboot")),
    verb("create-app-env-value-nul", *NEW_APP, "--environment", '[{"Key": "A", "Value": "x\\u0000"}]', names=("--environment[0].Value", "control character")),
    verb("create-app-env-mapping", *NEW_APP, "--environment", '{"A": "x"}', names=("--environment", "expected a JSON list")),
    verb("create-app-env-repeated", *NEW_APP, "--environment", '[{"Key": "A", "Value": "1"}, {"Key": "A", "Value": "2"}]', names=("--environment", "appears twice")),
    verb("create-app-source-svn", *NEW_APP, "--app-source", '{"Type": "svn", "Url": "https://x/y"}', names=("--app-source", "svn sources are not supported")),
    verb("create-app-source-s3-url", *NEW_APP, "--app-source", '{"Type": "s3", "Url": "http://bucket/app.tgz"}', names=("--app-source", "not an S3 object address")),
    verb("create-app-source-type", *NEW_APP, "--app-source", '{"Type": "ftp", "Url": "ftp://x"}', names=("--app-source.Type",)),
    verb("create-app-domain", *NEW_APP, "--domains", "shop..example.com", names=("--domains[0]", "domain name")),
    verb("create-app-emoji-name", "create-app", "--stack-id", "{stack}", "--name", "api 🚀", "--shortname", "api", names=("--name", "emoji")),
    verb("update-app-health-unknown", *UPDATE_APP, "--health-check", '{"bogus": 1}', names=("--health-check", "'bogus'")),
    verb("update-app-deploy-to-etc", *UPDATE_APP, "--deploy-to", "/etc", names=("--deploy-to", "system directory")),
    verb("update-app-migrate-string-json", *UPDATE_APP, "--migrate-command", '["rake db:migrate"]', names=("--migrate-command[0]", '["rake", "db:migrate"]')),
    verb("update-app-env-deep", *UPDATE_APP, "--environment", DEEP_30000, names=("--environment", "nested")),
    verb("update-app-bad-id", "update-app", "--app-id", "'; DROP TABLE", "--name", "x", names=("--app-id", "is not an id")),
    verb("create-instance-hostname", *NEW_INSTANCE, "--layer-ids", "{layer}", "--hostname", "app_1", names=("--hostname", "'app_1'")),
    verb("create-instance-type", "create-instance", "--stack-id", "{stack}", "--layer-ids", "{layer}", "--instance-type", "huge", names=("--instance-type", "EC2 instance type")),
    verb("create-instance-layer-id", *NEW_INSTANCE, "--layer-ids", "layer\x00", names=("--layer-ids", "is not an id")),
    verb("create-instance-ami", *NEW_INSTANCE, "--layer-ids", "{layer}", "--ami-id", "ubuntu", names=("--ami-id", "AMI id")),
    verb("update-instance-zone", "update-instance", "--instance-id", "{instance}", "--availability-zone", "mars", names=("--availability-zone", "availability zone")),
    verb("register-instance-ec2-id", "register-instance", "--stack-id", "{stack}", "--ec2-instance-id", "i-nothex", names=("--ec2-instance-id", "EC2 instance id")),
    verb("create-deployment-command-name", "create-deployment", "--stack-id", "{stack}", "--command", '{"Name": "format_disk"}', names=("--command.Name",)),
    verb("create-deployment-command-deep", "create-deployment", "--stack-id", "{stack}", "--command", DEEP_30000, names=("--command", "nested")),
    verb("create-deployment-command-args", "create-deployment", "--stack-id", "{stack}", "--command", '{"Name": "execute_recipes", "Args": {"recipes": ["../../x"]}}', names=("--command", "'../../x'")),
    verb("create-deployment-json-deep", *DEPLOY_CMD, "--custom-json", DEEP_30000, names=("--custom-json", "nested more than 32")),
    verb("create-deployment-json-file-not-utf8", *DEPLOY_CMD, "--custom-json", "file://{file}", names=("--custom-json", "not UTF-8"), file=b'{"a": "\xff"}'),
    verb("create-deployment-override", *DEPLOY_CMD, "--custom-json", '{"deploy": {"web": {"migrate_command": "rake db:migrate"}}}', names=("--custom-json", "deploy.web.migrate_command")),
    verb("create-deployment-comment-nul", *DEPLOY_CMD, "--comment", "a\x00b", names=("--comment", "NUL")),
    verb("create-deployment-strategy", *DEPLOY_CMD, "--strategy", "yolo", names=("--strategy", "'yolo'")),
    verb("create-deployment-batch-size", *DEPLOY_CMD, "--strategy", "rolling", "--batch-size", "nan%", names=("--batch-size", "'nan%'")),
    verb("create-deployment-max-failures", *DEPLOY_CMD, "--max-failures", "200%", names=("--max-failures", "'200%'")),
    verb("create-deployment-instance-ids", *CONFIGURE, "--instance-ids", "x" * 500, names=("--instance-ids", "is not an id")),
    verb("describe-stacks-ids", "describe-stacks", "--stack-ids", "a b", names=("--stack-ids",)),
    verb("logs-id", "logs", "../../etc/passwd", names=("COMMAND_ID", "is not an id")),
    verb("describe-commands-id", "describe-commands", "--deployment-id", "\u200b", names=("--deployment-id", "is not an id")),
    verb("watch-interval-nan", "watch", "--interval", "nan", names=("--interval", "finite")),
    verb("dispatch-workers", "dispatch", "--workers", "0", names=("--workers",)),
    verb("dispatch-cookbooks", "dispatch", "--once", "--cookbooks", "/no/such/cookbooks", names=("--cookbooks", "/no/such/cookbooks")),
    verb("unknown-option", "create-stack", "--nmae", "x", names=("--nmae",)),
    verb("unknown-command", "create-stak", names=("create-stak", "create-stack")),
]

GLOBAL: list[Case] = [
    verb("global-endpoint-notaurl", "--endpoint-url", "notaurl", "describe-stacks", names=("notaurl",)),
    verb("global-endpoint-ftp", "--endpoint-url", "ftp://127.0.0.1", "describe-stacks", names=("--endpoint-url", "http://")),
    verb("global-endpoint-port", "--endpoint-url", "http://127.0.0.1:99999", "describe-stacks", names=("--endpoint-url", "is not a URL")),
    verb("global-region-bogus", "--region", "bogus", "describe-stacks", names=("--region", "'bogus'")),
    verb("global-region-unknown", "--region", "us-east-9", "describe-stacks", names=("--region", "'us-east-9'", "did you mean")),
    verb("global-namespace", "--namespace", "Shop NS", "describe-stacks", names=("--namespace",)),
    verb("global-output", "--output", "xml", "describe-stacks", names=("--output", "'xml'")),
    verb("global-profile", "--profile", "nobody", "describe-stacks", names=("--profile", "nobody")),
]

SOLO: list[Case] = [
    solo("node-100000-deep", "-j", "{file}", "stackops::setup", names=("{file}:1:33:", "nested more than 32"), node="[" * 100000),
    solo("node-nan", "-j", "{file}", "stackops::setup", names=("{file}", "NaN"), node='{"a": NaN}'),
    solo("node-huge-number", "-j", "{file}", "stackops::setup", names=("{file}", "not a usable JSON value"), node='{"a": ' + "1" * 5000 + "}"),
    solo("node-not-utf8", "-j", "{file}", "stackops::setup", names=("{file}", "not UTF-8"), node=b'{"a": "\xfe"}'),
    solo("node-array", "-j", "{file}", "stackops::setup", names=("{file}", "must be a JSON object"), node="[1]"),
    solo("node-nul", "-j", "{file}", "stackops::setup", names=("{file}: node.deploy.web.deploy_to", "NUL"), node='{"deploy": {"web": {"deploy_to": "/srv/\\u0000"}}}'),
    solo("node-syntax", "-j", "{file}", "stackops::setup", names=("{file}:3:", "not valid JSON"), node='{\n  "a": 1,\n}'),
    solo("node-missing", "-j", "/no/such/node.json", "stackops::setup", names=("/no/such",)),
    solo("recipe-path", "../../etc/passwd", names=("'../../etc/passwd'", "recipe name")),
    solo("recipe-three-parts", "a::b::c", names=("'a::b::c'", "recipe name")),
    solo("recipe-control", "we\x01b", names=("'we\\x01b'", "recipe name")),
    solo("recipe-empty", "", names=("''", "recipe name")),
    solo("recipe-unknown", "nope::setup", names=("no cookbook 'nope'",)),
    solo("timeout-nan", "--timeout", "nan", "stackops::setup", names=("--timeout", "finite")),
    solo("timeout-zero", "--timeout", "0", "stackops::setup", names=("--timeout",)),
]
# fmt: on


# -- queue messages --------------------------------------------------------------------------
# A hostile lifecycle queue body (size, depth, encoding, huge ids, unknown stack, unknown
# kinds...): the dispatcher drops it with a one-line reason, creates nothing, and handles
# its batch-mate on that one's own merits. Bodies moto's SQS itself would corrupt (a lone
# surrogate) are left out: real SQS refuses them at the door.


def _event(detail_type: str, detail: Any, source: str = "stackops", **envelope: Any) -> str:
    body = {"version": "0", "id": "ev-1", "source": source, "detail-type": detail_type}
    body |= {"time": "2026-11-28T17:00:00Z", "region": "us-east-1", "resources": []}
    body |= {"detail": detail, **envelope}
    return json.dumps(body)


def _ec2(detail: Any, **envelope: Any) -> str:
    return _event("EC2 Instance State-change Notification", detail, "aws.ec2", **envelope)


RUNNING = {"instance-id": "i-0123456789abcdef0", "state": "running"}
LAUNCH = {
    "LifecycleActionToken": "tok-1",
    "AutoScalingGroupName": "shop-app",
    "LifecycleHookName": "stackops-launch",
    "EC2InstanceId": "i-0123456789abcdef0",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
}
# fmt: off
QUEUE_MESSAGES: list[tuple[str, str | bytes]] = [
    ("queue-over-256kb", '{"pad": "' + "x" * (256 * 1024) + '"}'),
    ("queue-deep-arrays", "[" * (256 * 1024 - 16)),
    ("queue-deep-objects", '{"a":' * 20_000 + "1" + "}" * 20_000),
    ("queue-40-deep-detail", _ec2({"x": json.loads("[" * 40 + "]" * 40)})),
    ("queue-not-json", "\u00ff\u00fe not json"),
    ("queue-empty-body", " "),
    ("queue-json-list", "[1, 2, 3]"),
    ("queue-json-null", "null"),
    ("queue-json-string", '"running"'),
    ("queue-empty-object", "{}"),
    ("queue-seq-5000-digits", _event("Configure Request", {"stack-id": "s-1", "seq": 0}).replace('"seq": 0', '"seq": ' + "9" * 5000)),
    ("queue-event-id-over-2kb", _ec2(RUNNING, id="e" * 2100)),
    ("queue-event-id-nul", _ec2(RUNNING, id="ev\u0000one")),
    ("queue-event-id-number", _ec2(RUNNING, id=12345)),
    ("queue-instance-id-huge", _ec2({"instance-id": "i-" + "f" * 3000, "state": "running"})),
    ("queue-instance-id-newline", _ec2({"instance-id": "i-1\nrm -rf /", "state": "running"})),
    ("queue-state-unknown", _ec2({"instance-id": "i-0123456789abcdef0", "state": "exploded"})),
    ("queue-detail-not-object", _ec2(["i-0123456789abcdef0", "running"])),
    ("queue-detail-missing", _ec2(None)),
    ("queue-time-bogus", _ec2(RUNNING, time="yesterday")),
    ("queue-unknown-kind", _event("Reboot Request", {"instance-id": "x"})),
    ("queue-foreign-source", _event("Object Created", {"bucket": "b"}, "aws.s3")),
    ("queue-unknown-command", _event("Instance Command", {"instance-id": "in-1", "command": "reboot"})),
    ("queue-force-not-bool", _event("Instance Command", {"instance-id": "in-1", "command": "stop", "force": "yes"})),
    ("queue-seq-negative", _event("Configure Request", {"stack-id": "s-1", "seq": -1})),
    ("queue-seq-text", _event("Configure Request", {"stack-id": "s-1", "seq": "1"})),
    ("queue-unknown-stack", _event("Configure Request", {"stack-id": "no-such-stack", "seq": 1})),
    ("queue-unknown-deployment", _event("Deployment Request", {"deployment-id": "no-such-deployment"})),
    ("queue-unknown-instance-command", _event("Instance Command", {"instance-id": "no-such-instance", "command": "stop"})),
    ("queue-hook-unknown-transition", json.dumps({**LAUNCH, "LifecycleTransition": "autoscaling:EC2_INSTANCE_EXPLODING"})),
    ("queue-hook-token-huge", json.dumps({**LAUNCH, "LifecycleActionToken": "t" * 5000})),
    ("queue-hook-group-control-chars", json.dumps({**LAUNCH, "AutoScalingGroupName": "shop\u0007app"})),
    ("queue-hook-bad-destination", json.dumps({**LAUNCH, "Destination": "Mars", "Time": "2026-11-28T17:00:00Z"})),
]
# fmt: on


CASES = STACK_FILES + VERBS + GLOBAL + SOLO


def test_the_corpus_has_at_least_80_cases_with_unique_ids() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 80
    assert len(set(ids)) == len(ids), "each case needs its own id"


@pytest.mark.parametrize("body", [b for _, b in QUEUE_MESSAGES], ids=[i for i, _ in QUEUE_MESSAGES])
def test_a_hostile_queue_message_is_dropped_with_a_reason(
    body: str | bytes, seed: Seed, counted: Callable[[], None]
) -> None:
    from tests.lifecycle.conftest import make_dispatcher, queue_depth, queue_url, state_event

    before = _without_claims(_everything(seed.aws))
    text = body if isinstance(body, str) else body.decode()
    hostile = seed.aws.sqs.send_message(QueueUrl=queue_url(), MessageBody=text)["MessageId"]
    # Its batch-mate: an event for an EC2 instance stackops does not manage, answered on
    # its own merits (a batch dragged down would fail it or send it back).
    mate_body = state_event("i-0fffffffffffffff0", "running", f"mate-{hostile}")
    mate = seed.aws.sqs.send_message(QueueUrl=queue_url(), MessageBody=mate_body)["MessageId"]
    outcome = make_dispatcher().drain()

    assert outcome.received == 2 and outcome.failed == [] and outcome.retried == []
    assert "is not a stackops instance" in outcome.reasons[mate], outcome.reasons
    reason = outcome.reasons[hostile]
    assert reason and "\n" not in reason and len(reason) < 400, reason
    assert queue_depth() == (0, 0) and queue_depth("stackops-lifecycle-dlq") == (0, 0)
    after = _without_claims(_everything(seed.aws))
    seed.state = _everything(seed.aws)
    assert after == before, "a dropped message changed what exists"
    counted()


def _without_claims(state: dict[str, Any]) -> dict[str, Any]:
    """What exists, less event claims and the sweeper's lease (the dispatcher's own)."""
    records = [r for r in state["records"] if '"event#' not in r and "sweeper" not in r]
    return {**state, "records": records, "queues": {}}


CORPUS = "bad-input corpus (stack files, verbs, solo, queue messages)"


@pytest.fixture
def counted(request: pytest.FixtureRequest) -> Callable[[], None]:
    """The case counts in the reliability table: as missed until its test calls the
    function this gives, on its last line (reached only when every check passed)."""
    from tests.reliability.figures import record

    case = request.node.callspec.id
    door = "queue messages" if "queue" in request.node.name else "refused at the door"
    record(CORPUS, case, {"cases": 1, door: 0, "missed": 1}, bad=["missed"], order=50)

    def passed() -> None:
        record(CORPUS, case, {"cases": 1, door: 1, "missed": 0}, bad=["missed"], order=50)

    return passed


# -- running a case --------------------------------------------------------------------------


@dataclass
class Seed:
    """A bootstrapped account with one stack, layer, app and instance, on moto in-process."""

    aws: Clients
    ids: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    """What exists, as last read (each case reads it once, after its command)."""


def _run(*argv: str) -> Result:
    return CliRunner().invoke(cli, list(argv))


def _ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    """moto for the whole module (a fresh account per case would cost seconds each)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_REGION", "us-east-1")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_CONFIG_FILE", "/dev/null")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        patch.setenv("STACKOPS_HOME", str(tmp_path_factory.mktemp("home")))
        with mock_aws():
            seeded = Seed(Clients(boto3.session.Session(region_name="us-east-1")))
            _ok(_run("bootstrap"))
            stack = _ok(_run("create-stack", "--name", "shop"))["StackId"]
            layer = _ok(
                _run(
                    "create-layer",
                    "--stack-id",
                    stack,
                    "--type",
                    "custom",
                    "--shortname",
                    "app",
                    "--name",
                    "App server",
                )
            )["LayerId"]
            app = _ok(
                _run(
                    "create-app",
                    "--stack-id",
                    stack,
                    "--name",
                    "web",
                    "--health-check",
                    '{"Path": "/health", "Port": 8080}',
                    "--environment",
                    '[{"Key": "TOKEN", "Value": "s3cret", "Secure": true}]',
                )
            )["AppId"]
            instance = _ok(
                _run(
                    "create-instance",
                    "--stack-id",
                    stack,
                    "--layer-ids",
                    layer,
                    "--instance-type",
                    "t3.micro",
                )
            )["InstanceId"]
            seeded.ids = {"stack": stack, "layer": layer, "app": app, "instance": instance}
            seeded.state = _everything(seeded.aws)
            yield seeded


class Clients:
    """The boto3 clients the checks read with, made once (a client costs ~0.1 s)."""

    def __init__(self, session: boto3.session.Session) -> None:
        self.ddb = session.client("dynamodb")
        self.ssm = session.client("ssm")
        self.sqs = session.client("sqs")
        self.ec2 = session.client("ec2")
        self.s3 = session.client("s3")


def _everything(aws: Clients) -> dict[str, Any]:
    """What a refused input must leave as it was: records, parameters, queue, EC2, S3."""
    items = [
        item
        for page in aws.ddb.get_paginator("scan").paginate(TableName="stackops-state")
        for item in page["Items"]
    ]
    parameters = aws.ssm.get_parameters_by_path(Path="/", Recursive=True, WithDecryption=True)
    queues = {
        url: aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        for url in aws.sqs.list_queues().get("QueueUrls", [])
    }
    reservations = aws.ec2.describe_instances()["Reservations"]
    objects = {
        bucket["Name"]: [
            o["Key"] for o in aws.s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
        ]
        for bucket in aws.s3.list_buckets()["Buckets"]
    }
    return {
        "records": sorted(json.dumps(item, sort_keys=True, default=str) for item in items),
        "parameters": sorted((p["Name"], p["Value"]) for p in parameters["Parameters"]),
        "queues": queues,
        "instances": sorted(i["InstanceId"] for r in reservations for i in r["Instances"]),
        "objects": objects,
    }


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_refused_in_one_line_with_exit_2_and_nothing_created(
    case: Case, seed: Seed, tmp_path: Path, counted: Callable[[], None]
) -> None:
    values = dict(seed.ids)
    path = tmp_path / f"input{case.suffix}"
    if case.file is not None:
        data = case.file if isinstance(case.file, bytes) else case.file.encode()
        path.write_bytes(data)
    values["file"] = str(path)
    root = tmp_path / "root"
    root.mkdir()
    values["root"] = str(root)
    argv = [_fill(arg, values) for arg in case.argv]

    result = _run(*argv)

    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if not line.startswith("target: ")]
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("stackops: error: ")
    for name in case.names:
        assert _fill(name, values) in line, f"{name!r} not named in: {line}"
    after = _everything(seed.aws)
    changed, seed.state = after != seed.state, after
    assert not changed, "a refused input changed what exists"
    assert list(root.iterdir()) == []
    counted()


def test_every_hostile_queue_message_at_once_beside_a_real_boot(stack_env, tmp_path) -> None:
    """The whole queue table in the batches of an instance's boot: it comes online."""
    from tests.lifecycle.conftest import make_dispatcher, queue_depth, send, small_stack

    env = stack_env
    env.apply(small_stack("corpus", "app1"), tmp_path)
    env.start("app1")
    env.watch()
    for _, body in QUEUE_MESSAGES:
        send(body if isinstance(body, str) else body.decode())
    outcome = make_dispatcher().drain()
    assert env.instances()["app1"]["Status"] == "online"
    assert outcome.failed == [] and queue_depth() == (0, 0)
    assert env.run("events", "dlq")["Messages"] == []
