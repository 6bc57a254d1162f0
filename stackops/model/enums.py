"""OpsWorks enumerations, with exactly the values the OpsWorks API used."""

from __future__ import annotations

from enum import StrEnum


class LayerType(StrEnum):
    """A layer's type (OpsWorks `LayerType`)."""

    aws_flow_ruby = "aws-flow-ruby"
    ecs_cluster = "ecs-cluster"
    java_app = "java-app"
    lb = "lb"
    web = "web"
    php_app = "php-app"
    rails_app = "rails-app"
    nodejs_app = "nodejs-app"
    memcached = "memcached"
    db_master = "db-master"
    monitoring_master = "monitoring-master"
    custom = "custom"


class AppType(StrEnum):
    """An app's type (OpsWorks `AppType`)."""

    aws_flow_ruby = "aws-flow-ruby"
    java = "java"
    rails = "rails"
    php = "php"
    nodejs = "nodejs"
    static = "static"
    other = "other"


class SourceType(StrEnum):
    """Where an app's or a cookbook's code comes from (OpsWorks `SourceType`)."""

    git = "git"
    svn = "svn"
    archive = "archive"
    s3 = "s3"


class DeploymentCommandName(StrEnum):
    """The command a deployment runs (OpsWorks `DeploymentCommandName`)."""

    install_dependencies = "install_dependencies"
    update_dependencies = "update_dependencies"
    update_custom_cookbooks = "update_custom_cookbooks"
    execute_recipes = "execute_recipes"
    configure = "configure"
    setup = "setup"
    deploy = "deploy"
    rollback = "rollback"
    start = "start"
    stop = "stop"
    restart = "restart"
    undeploy = "undeploy"


class AutoScalingType(StrEnum):
    """Load- or time-based instance (OpsWorks `AutoScalingType`)."""

    load = "load"
    timer = "timer"


class RootDeviceType(StrEnum):
    """An instance's root device (OpsWorks `RootDeviceType`)."""

    ebs = "ebs"
    instance_store = "instance-store"


class Architecture(StrEnum):
    """An instance's CPU architecture (OpsWorks `Architecture`)."""

    x86_64 = "x86_64"
    i386 = "i386"


class VirtualizationType(StrEnum):
    """An instance's virtualization type (OpsWorks `VirtualizationType`)."""

    paravirtual = "paravirtual"
    hvm = "hvm"


class HostnameTheme(StrEnum):
    """How new instances are named (OpsWorks `HostnameTheme` values).

    The OpsWorks API spells two themes `Europe_Cities` and
    `Greek_Deities_and_Titans`; the names `European_Cities` and `Greek_Deities`
    are accepted as aliases, both as input strings and as attributes.
    """

    Layer_Dependent = "Layer_Dependent"
    Baked_Goods = "Baked_Goods"
    Clouds = "Clouds"
    Europe_Cities = "Europe_Cities"
    Fruits = "Fruits"
    Greek_Deities_and_Titans = "Greek_Deities_and_Titans"
    Legendary_creatures_from_Japan = "Legendary_creatures_from_Japan"
    Planets_and_Moons = "Planets_and_Moons"
    Roman_Deities = "Roman_Deities"
    Scottish_Islands = "Scottish_Islands"
    US_Cities = "US_Cities"
    Wild_Cats = "Wild_Cats"

    @classmethod
    def _missing_(cls, value: object) -> HostnameTheme | None:
        if isinstance(value, str) and value in _THEME_ALIASES:
            return cls(_THEME_ALIASES[value])
        return None


_THEME_ALIASES = {"European_Cities": "Europe_Cities", "Greek_Deities": "Greek_Deities_and_Titans"}
# Attribute aliases, kept out of the member list so schemas and errors list each theme once.
for _alias, _value in _THEME_ALIASES.items():
    setattr(HostnameTheme, _alias, HostnameTheme(_value))


class InstanceStatus(StrEnum):
    """An instance's status, as OpsWorks reported it."""

    requested = "requested"
    pending = "pending"
    booting = "booting"
    running_setup = "running_setup"
    online = "online"
    setup_failed = "setup_failed"
    start_failed = "start_failed"
    stopping = "stopping"
    stopped = "stopped"
    stop_failed = "stop_failed"
    shutting_down = "shutting_down"
    terminating = "terminating"
    terminated = "terminated"
    connection_lost = "connection_lost"
    rebooting = "rebooting"
    registered = "registered"
    """A registered EC2 instance in no layer yet (OpsWorks's status); assign-instance sets it up."""
