"""From OpsWorks's answers to a stack file: pure mapping, with a report of what it did.

Output-only fields (ids, ARNs, times, statuses, addresses, DefaultRecipes...) are
dropped; layer ids become shortnames; `*****FILTERED*****` values become
`{ssm: ...}` references to parameters the user fills; OS names map to ones
with a current AMI; settings stackops refuses are left out with a note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from stackops.errors import InvalidInput
from stackops.importer.saved import SavedStack
from stackops.model.apps import derive_shortname
from stackops.model.operating_systems import BY_NAME, CUSTOM
from stackops.model.opsworks_values import FILTERED, PROTECTED_ATTRIBUTES
from stackops.model.unsupported import is_unset

DEFAULT_OS = "Amazon Linux 2023"
# OpsWorks deployed an app to the layers of its type (custom layers take any app).
APP_LAYER_TYPES = {
    "rails": "rails-app",
    "php": "php-app",
    "nodejs": "nodejs-app",
    "java": "java-app",
    "static": "web",
    "aws-flow-ruby": "aws-flow-ruby",
}


@dataclass
class Entry:
    """One section entry of the stack file and the notes written above it."""

    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class Imported:
    """The stack file's content and the import report."""

    stack: Entry
    layers: list[Entry] = field(default_factory=list)
    apps: list[Entry] = field(default_factory=list)
    instances: list[Entry] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    mapped: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    recipes: list[str] = field(default_factory=list)
    parameters: list[tuple[str, str]] = field(default_factory=list)
    after_apply: list[str] = field(default_factory=list)

    def secret(self, path: str, what: str) -> dict[str, str]:
        """A reference to a parameter the user must fill, remembered for the report."""
        self.parameters.append((path, what))
        return {"ssm": path}


def choose_stack(saved: SavedStack, stack_id: str | None) -> dict[str, Any]:
    """The one stack to import: the only one saved, or the one named."""
    stacks = saved.get("Stacks")
    if stack_id:
        found = [s for s in stacks if s.get("StackId") == stack_id]
        if not found:
            raise InvalidInput(f"--stack-id: no stack {stack_id} among the saved stacks")
        return found[0]
    if len(stacks) != 1:
        listed = ", ".join(f"{s.get('Name')} ({s.get('StackId')})" for s in stacks)
        raise InvalidInput(
            f"the saved answers hold {len(stacks)} stacks; give --stack-id, one of: {listed}"
        )
    return stacks[0]


def map_saved(saved: SavedStack, stack_id: str | None, *, adopt: bool) -> Imported:
    """The stack file and report for one saved stack."""
    raw = choose_stack(saved, stack_id)
    sid = raw.get("StackId")
    out = Imported(stack=Entry({}))
    out.stack = _stack(raw, out)
    prefix = f"/stackops/import/{derive_shortname(raw['Name']) or 'stack'}"
    layers = [la for la in saved.get("Layers") if la.get("StackId", sid) == sid]
    shortnames = {la["LayerId"]: la["Shortname"] for la in layers if "LayerId" in la}
    elbs = {
        lb["LayerId"]: lb["ElasticLoadBalancerName"]
        for lb in saved.get("ElasticLoadBalancers")
        if lb.get("LayerId") in shortnames
    }
    out.layers = [_layer(la, elbs.get(la.get("LayerId")), prefix, out) for la in layers]
    layer_types = {la["Shortname"]: la["Type"] for la in layers}
    apps = [a for a in saved.get("Apps") if a.get("StackId", sid) == sid]
    out.apps = [_app(a, layer_types, prefix, out) for a in apps]
    instances = [i for i in saved.get("Instances") if i.get("StackId", sid) == sid]
    for raw_instance in instances:
        entry = _instance(raw_instance, shortnames, adopt, out, region=raw.get("Region"))
        if entry is not None:
            out.instances.append(entry)
    _after_apply(saved, shortnames, instances, out)
    out.mapped.append("layer ids -> layer shortnames (instances' layers, load balancers)")
    out.mapped.append("output-only fields dropped: ids, ARNs, times, statuses, addresses")
    return out


# -- stack ----------------------------------------------------------------------------------
STACK_KEYS = {
    "Name": "name",
    "Region": "region",
    "VpcId": "vpc_id",
    "ServiceRoleArn": "service_role_arn",
    "DefaultInstanceProfileArn": "default_instance_profile_arn",
    "HostnameTheme": "hostname_theme",
    "DefaultAvailabilityZone": "default_availability_zone",
    "DefaultSubnetId": "default_subnet_id",
    "DefaultSshKeyName": "default_ssh_key_name",
    "DefaultRootDeviceType": "default_root_device_type",
}


def _stack(raw: dict[str, Any], out: Imported) -> Entry:
    entry = Entry({k: raw[key] for key, k in STACK_KEYS.items() if raw.get(key) is not None})
    out.imported.append(f"stack {raw['Name']} ({raw.get('StackId')})")
    if raw.get("Attributes"):
        entry.data["attributes"] = {k: v for k, v in raw["Attributes"].items() if v is not None}
    entry.data["default_os"] = _os(raw.get("DefaultOs"), f"stack {raw['Name']}", entry, out)
    if raw.get("CustomJson"):
        entry.data["custom_json"] = _custom_json(raw["CustomJson"], f"stack {raw['Name']}")
    manager = raw.get("ConfigurationManager") or {}
    if manager.get("Name"):
        note = (
            f"ConfigurationManager {manager['Name']} {manager.get('Version', '')} dropped: "
            "stackops runs Python recipes; Chef recipes must be rewritten"
        ).replace("  ", " ")
        entry.notes.append(note)
        out.attention.append(f"stack: {note}")
    if not is_unset(raw.get("ChefConfiguration")):
        _drop(entry, out, "stack", "ChefConfiguration (Berkshelf)")
    if raw.get("UseOpsworksSecurityGroups"):
        _drop(
            entry,
            out,
            "stack",
            "UseOpsworksSecurityGroups (OpsWorks's AWS-OpsWorks-* groups): give layers "
            "custom_security_group_ids",
        )
    if raw.get("AgentVersion") not in (None, "LATEST"):
        _drop(entry, out, "stack", f"AgentVersion {raw['AgentVersion']}")
    source = raw.get("CustomCookbooksSource") or {}
    if source.get("Url"):
        entry.data["custom_cookbooks_source"] = _source(
            source, f"/stackops/import/{derive_shortname(raw['Name'])}/cookbooks", out
        )
        entry.data["use_custom_cookbooks"] = False
        note = (
            f"custom cookbooks at {source['Url']} are Chef cookbooks: use_custom_cookbooks is "
            "false until that repository holds stackops recipes"
        )
        entry.notes.append(note)
        out.attention.append(f"stack: {note}")
    return entry


def _custom_json(text: Any, where: str) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{where}: CustomJson is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: CustomJson is not a JSON object")
    return value


def _os(name: str | None, where: str, entry: Entry, out: Imported) -> str:
    """An OS name that has a current AMI: kept when it has one, mapped otherwise."""
    if name in BY_NAME or name == CUSTOM:
        return name  # type: ignore[return-value]
    target = DEFAULT_OS
    if name and name.startswith("Ubuntu"):
        target = "Ubuntu 22.04 LTS"
    note = f"Os {name!r} has no current AMI: mapped to {target!r}; check its recipes there"
    entry.notes.append(note)
    out.mapped.append(f"{where}: {note}")
    return target


def _drop(entry: Entry, out: Imported, where: str, what: str) -> None:
    note = f"{what}: not supported by stackops, left out"
    entry.notes.append(note)
    out.attention.append(f"{where}: {note}")


def _source(raw: dict[str, Any], path: str, out: Imported) -> dict[str, Any]:
    source = {
        key.lower(): value
        for key, value in raw.items()
        if value is not None and key in ("Type", "Url", "Username", "Revision")
    }
    for key, field_name in (("Password", "password"), ("SshKey", "ssh_key")):
        if raw.get(key):
            source[field_name] = out.secret(f"{path}/{field_name}", f"the source's {key}")
    return source


# -- layers ---------------------------------------------------------------------------------
LAYER_KEYS = {
    "Type": "type",
    "Name": "name",
    "Shortname": "shortname",
    "CustomInstanceProfileArn": "custom_instance_profile_arn",
    "EnableAutoHealing": "enable_auto_healing",
    "AutoAssignElasticIps": "auto_assign_elastic_ips",
    "AutoAssignPublicIps": "auto_assign_public_ips",
    "InstallUpdatesOnBoot": "install_updates_on_boot",
    "UseEbsOptimizedInstances": "use_ebs_optimized_instances",
}


def _layer(raw: dict[str, Any], elb: str | None, prefix: str, out: Imported) -> Entry:
    short = raw["Shortname"]
    entry = Entry({k: raw[key] for key, k in LAYER_KEYS.items() if raw.get(key) is not None})
    out.imported.append(f"layer {short} ({raw.get('Type')}, {raw.get('LayerId')})")
    where = f"layer {short}"
    if raw.get("Type") not in ("custom", None):
        note = (
            f"built-in {raw['Type']} layer: OpsWorks's own {raw['Type']} recipes are not "
            "provided; stackops::<event> runs, then the custom recipes"
        )
        entry.notes.append(note)
        out.attention.append(f"{where}: {note}")
    attributes: dict[str, Any] = {}
    for key, value in (raw.get("Attributes") or {}).items():
        if value is None or key == "EcsClusterArn":
            continue
        if key in PROTECTED_ATTRIBUTES or value == FILTERED:
            attributes[key] = out.secret(f"{prefix}/layers/{short}/{key}", f"layer {short} {key}")
        else:
            attributes[key] = value
    if attributes:
        entry.data["attributes"] = attributes
    for key, name in (
        ("CustomSecurityGroupIds", "custom_security_group_ids"),
        ("Packages", "packages"),
    ):
        if raw.get(key):
            entry.data[name] = list(raw[key])
    if raw.get("CustomJson"):
        entry.data["custom_json"] = _custom_json(raw["CustomJson"], where)
    recipes = {
        event.lower(): list(names)
        for event, names in (raw.get("CustomRecipes") or {}).items()
        if names
    }
    if recipes:
        entry.data["custom_recipes"] = recipes
        for names in recipes.values():
            out.recipes.extend(n for n in names if n not in out.recipes)
    if raw.get("DefaultRecipes"):
        out.mapped.append(
            f"{where}: DefaultRecipes (OpsWorks's built-in recipes) -> stackops's built-in cookbook"
        )
    shutdown = ((raw.get("LifecycleEventConfiguration") or {}).get("Shutdown")) or {}
    if shutdown:
        entry.data["lifecycle_event_configuration"] = {
            "shutdown": {
                k: v
                for k, v in (
                    ("execution_timeout", shutdown.get("ExecutionTimeout")),
                    (
                        "delay_until_elb_connections_drained",
                        shutdown.get("DelayUntilElbConnectionsDrained"),
                    ),
                )
                if v is not None
            }
        }
    if not is_unset(raw.get("VolumeConfigurations")):
        mounts = ", ".join(v.get("MountPoint", "?") for v in raw["VolumeConfigurations"])
        _drop(entry, out, where, f"VolumeConfigurations ({mounts}): create them in a setup recipe")
    if not is_unset(raw.get("CloudWatchLogsConfiguration")):
        _drop(entry, out, where, "CloudWatchLogsConfiguration")
    if elb:
        entry.data["elastic_load_balancer"] = elb
        note = f"Classic ELB {elb} is attached: it must exist in the target region"
        entry.notes.append(note)
        out.attention.append(f"{where}: {note}")
    return entry


# -- apps -----------------------------------------------------------------------------------
def _app(raw: dict[str, Any], layer_types: dict[str, str], prefix: str, out: Imported) -> Entry:
    short = raw["Shortname"]
    where = f"app {short}"
    entry = Entry({"shortname": short, "name": raw["Name"]})
    out.imported.append(f"app {short} ({raw.get('Type')}, {raw.get('AppId')})")
    for key, name in (("Description", "description"), ("Type", "type")):
        if raw.get(key):
            entry.data[name] = raw[key]
    if raw.get("AppSource") and raw["AppSource"].get("Url"):
        entry.data["app_source"] = _source(raw["AppSource"], f"{prefix}/apps/{short}/source", out)
        if raw["AppSource"].get("Type") in ("git", "svn"):
            out.attention.append(
                f"{where}: a {raw['AppSource']['Type']} source: the built-in deploy fetches s3, "
                "archive and local artifacts"
            )
    if raw.get("Domains"):
        entry.data["domains"] = list(raw["Domains"])
    attributes = {k: v for k, v in (raw.get("Attributes") or {}).items() if v is not None}
    if attributes:
        entry.data["attributes"] = attributes
    environment = []
    for var in raw.get("Environment") or []:
        item: dict[str, Any] = {"key": var["Key"], "value": var.get("Value", "")}
        if var.get("Secure"):
            item["secure"] = True
            if var.get("Value") == FILTERED:
                item["value"] = out.secret(
                    f"{prefix}/apps/{short}/env/{var['Key']}", f"app {short} {var['Key']}"
                )
        environment.append(item)
    if environment:
        entry.data["environment"] = environment
    sources = [
        {
            k: v
            for k, v in (
                ("type", d.get("Type")),
                ("arn", d.get("Arn")),
                ("database_name", d.get("DatabaseName")),
            )
            if v
        }
        for d in raw.get("DataSources") or []
    ]
    if sources:
        entry.data["data_sources"] = sources
    ssl = raw.get("SslConfiguration") or {}
    if raw.get("EnableSsl") and ssl.get("Certificate"):
        entry.data["enable_ssl"] = True
        entry.data["ssl_configuration"] = {
            "certificate": ssl["Certificate"],
            "private_key": out.secret(
                f"{prefix}/apps/{short}/ssl/private_key", f"app {short} SSL key"
            ),
            **({"chain": ssl["Chain"]} if ssl.get("Chain") else {}),
        }
    elif raw.get("EnableSsl"):
        _drop(entry, out, where, "EnableSsl without a certificate in the saved answer")
    wanted = APP_LAYER_TYPES.get(raw.get("Type", ""))
    typed = [s for s, t in layer_types.items() if t == wanted]
    if typed:
        entry.data["layers"] = typed
        out.mapped.append(f"{where}: deployed to the {wanted} layer(s) {', '.join(typed)}")
    return entry


# -- instances ------------------------------------------------------------------------------
INSTANCE_KEYS = {
    "InstanceType": "instance_type",
    "SshKeyName": "ssh_key_name",
    "AvailabilityZone": "availability_zone",
    "SubnetId": "subnet_id",
    "Architecture": "architecture",
    "RootDeviceType": "root_device_type",
    "InstallUpdatesOnBoot": "install_updates_on_boot",
    "EbsOptimized": "ebs_optimized",
    "Tenancy": "tenancy",
    "AutoScalingType": "auto_scaling_type",
}


def _instance(
    raw: dict[str, Any],
    shortnames: dict[str, str],
    adopt: bool,
    out: Imported,
    *,
    region: str | None,
) -> Entry | None:
    host = raw["Hostname"]
    where = f"instance {host}"
    layers = [shortnames[i] for i in raw.get("LayerIds") or [] if i in shortnames]
    unknown = [i for i in raw.get("LayerIds") or [] if i not in shortnames]
    if unknown:
        out.attention.append(f"{where}: layer(s) {', '.join(unknown)} not in the saved layers")
    if raw.get("RegisteredBy") and not (adopt and raw.get("Ec2InstanceId")):
        out.attention.append(
            f"{where}: a registered instance ({raw.get('Ec2InstanceId', 'on-premises')}) is not "
            "created anew: import with --adopt-instances to register it"
        )
        return None
    if not layers:
        out.attention.append(f"{where}: in no saved layer; not imported")
        return None
    entry = Entry({"hostname": host, "layers": layers})
    entry.data.update({k: raw[key] for key, k in INSTANCE_KEYS.items() if raw.get(key) is not None})
    out.imported.append(f"instance {host} ({raw.get('InstanceId')})")
    zone = entry.data.get("availability_zone")
    if zone and region and not zone.startswith(region):
        del entry.data["availability_zone"]
        note = f"AvailabilityZone {zone} is not in the stack's region {region}: left out"
        entry.notes.append(note)
        out.attention.append(f"{where}: {note}")
    if adopt and raw.get("Ec2InstanceId"):
        entry.data["ec2_instance_id"] = raw["Ec2InstanceId"]
        entry.data["os"] = CUSTOM
        if raw.get("AmiId"):
            entry.data["ami_id"] = raw["AmiId"]
        entry.notes.append(f"adopts EC2 instance {raw['Ec2InstanceId']} (register-instance)")
        out.mapped.append(f"{where}: adopts {raw['Ec2InstanceId']} instead of launching one")
    else:
        if adopt:
            entry.notes.append("no EC2 instance in the saved answer: launched anew")
        os_name = raw.get("Os")
        if os_name:
            entry.data["os"] = _os(os_name, where, entry, out)
            if entry.data["os"] == CUSTOM and raw.get("AmiId"):
                entry.data["ami_id"] = raw["AmiId"]
    if raw.get("VirtualizationType") == "paravirtual":
        _drop(entry, out, where, "VirtualizationType paravirtual (current types run hvm)")
    elif raw.get("VirtualizationType"):
        entry.data["virtualization_type"] = raw["VirtualizationType"]
    if raw.get("ElasticIp"):
        out.after_apply.append(
            f"stackops associate-elastic-ip --elastic-ip {raw['ElasticIp']} "
            f"--instance-id <id of {host}>"
        )
    return entry


def _after_apply(
    saved: SavedStack, shortnames: dict[str, str], instances: list[dict[str, Any]], out: Imported
) -> None:
    """Things the stack file cannot hold: registered Elastic IPs, auto scaling settings."""
    ips = sorted({ip["Ip"] for ip in saved.get("ElasticIps") if ip.get("Ip")})
    for ip in ips:
        out.after_apply.insert(
            0, f"stackops register-elastic-ip --elastic-ip {ip} --stack-id <StackId>"
        )
    hosts = {i.get("InstanceId"): i["Hostname"] for i in instances}
    for config in saved.get("TimeBasedAutoScalingConfigurations"):
        host = hosts.get(config.get("InstanceId"))
        if host:
            schedule = json.dumps(config.get("AutoScalingSchedule", {}), separators=(",", ":"))
            out.after_apply.append(
                f"stackops set-time-based-auto-scaling --instance-id <id of {host}> "
                f"--auto-scaling-schedule '{schedule}'"
            )
    for config in saved.get("LoadBasedAutoScalingConfigurations"):
        short = shortnames.get(config.get("LayerId"))
        if short:
            up = json.dumps(config.get("UpScaling", {}), separators=(",", ":"))
            down = json.dumps(config.get("DownScaling", {}), separators=(",", ":"))
            enable = "--enable" if config.get("Enable") else "--no-enable"
            out.after_apply.append(
                f"stackops set-load-based-auto-scaling --layer-id <id of {short}> {enable} "
                f"--up-scaling '{up}' --down-scaling '{down}'"
            )
