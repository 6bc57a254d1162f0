"""The aws CLI's input conventions, OpsWorks OS names, and every OpsWorks parameter accepted
or refused with the feature it names."""

from __future__ import annotations

import json

import click
import pytest

from stackops.cli.main import COMMANDS, cli
from stackops.cli.shorthand import kebab, parse_shorthand
from stackops.errors import InvalidInput
from stackops.model.api_shapes import api_model, input_members, operation_name
from stackops.model.unsupported import UNSUPPORTED
from tests.cli.test_surface_verbs import run_ec2
from tests.cli.test_verbs import make_layer, make_stack
from tests.helpers import ok_json


@pytest.fixture
def boot(aws, invoke):
    ok_json(invoke("bootstrap"))
    return aws


# -- shorthand ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Type=git,Url=https://h/x.git?a=b,Revision=v1",
            {"Type": "git", "Url": "https://h/x.git?a=b", "Revision": "v1"},
        ),
        (
            "Shutdown={ExecutionTimeout=60,DelayUntilElbConnectionsDrained=true}",
            {"Shutdown": {"ExecutionTimeout": "60", "DelayUntilElbConnectionsDrained": "true"}},
        ),
        ("Setup=[a::b, c],Deploy=[]", {"Setup": ["a::b", "c"], "Deploy": []}),
        ("Values=a,b,c,Other=x", {"Values": ["a", "b", "c"], "Other": "x"}),
        ("Key=A,Value='x,y = z'", {"Key": "A", "Value": "x,y = z"}),
        ('Key=A,Value="say \\"hi\\""', {"Key": "A", "Value": 'say "hi"'}),
        ("List=[{A=1},{A=2}]", {"List": [{"A": "1"}, {"A": "2"}]}),
        ("Empty={}", {"Empty": {}}),
    ],
)
def test_shorthand_parses(text, expected):
    assert parse_shorthand(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A", "expected Key=value"),
        ("A=1,A=2", "given twice"),
        ("A='x", "unterminated quote"),
        ("A={B=1", "expected ',' or }"),
        ("A=[1,2", "expected ',' or ']'"),
    ],
)
def test_bad_shorthand_is_refused_with_the_place(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_shorthand(text, "--app-source")


def test_aws_cli_examples_run_as_written(boot, invoke, tmp_path):
    """AWS's own examples: --stack-region, shorthand structures and lists, file://, OS names."""
    stack = ok_json(
        invoke(
            "create-stack",
            "--name",
            "TomStack",
            "--stack-region",
            "us-west-2",
            "--default-os",
            "Amazon Linux 2",
            "--service-role-arn",
            "arn:aws:iam::123456789012:role/aws-opsworks-service-role",
            "--default-instance-profile-arn",
            "arn:aws:iam::123456789012:instance-profile/aws-opsworks-ec2-role",
        )
    )
    (described,) = ok_json(invoke("describe-stacks", "--stack-ids", stack["StackId"]))["Stacks"]
    assert described["Region"] == "us-west-2" and described["DefaultOs"] == "Amazon Linux 2"
    recipes = tmp_path / "recipes.json"
    recipes.write_text('{"Setup": ["tomcat::setup"], "Deploy": ["tomcat::deploy"]}')
    layer_id = ok_json(
        invoke(
            "create-layer",
            "--stack-id",
            stack["StackId"],
            "--type",
            "custom",
            "--name",
            "Tomcat",
            "--shortname",
            "tomcat",
            "--custom-recipes",
            f"file://{recipes}",
            "--lifecycle-event-configuration",
            "Shutdown={ExecutionTimeout=60,DelayUntilElbConnectionsDrained=true}",
            "--packages",
            "tomcat9",
            "git",
        )
    )["LayerId"]
    (layer,) = ok_json(invoke("describe-layers", "--layer-ids", layer_id))["Layers"]
    assert layer["CustomRecipes"]["Deploy"] == ["tomcat::deploy"]
    assert layer["LifecycleEventConfiguration"]["Shutdown"] == {
        "ExecutionTimeout": 60,
        "DelayUntilElbConnectionsDrained": True,
    }
    assert layer["Packages"] == ["tomcat9", "git"]
    app_id = ok_json(
        invoke(
            "create-app",
            "--stack-id",
            stack["StackId"],
            "--name",
            "SimpleJSP",
            "--type",
            "java",
            "--app-source",
            "Type=git,Url=git://github.com/example-repo/simplejsp.git,Revision=v1",
            "--environment",
            "Key=A,Value=1",
            "Key=B,Value=2,Secure=true",
        )
    )["AppId"]
    (app,) = ok_json(invoke("describe-apps", "--app-ids", app_id))["Apps"]
    assert app["AppSource"] == {
        "Type": "git",
        "Url": "git://github.com/example-repo/simplejsp.git",
        "Revision": "v1",
    }
    assert app["Environment"] == [
        {"Key": "A", "Value": "1", "Secure": False},
        {"Key": "B", "Value": "*****FILTERED*****", "Secure": True},
    ]


def test_cli_input_json_gives_the_request_and_options_win(boot, invoke, tmp_path):
    stack_id = make_stack(invoke)
    request = {
        "StackId": stack_id,
        "Type": "custom",
        "Name": "From JSON",
        "Shortname": "fromjson",
        "EnableAutoHealing": False,
        "Packages": ["nginx"],
        "CustomRecipes": {"Setup": ["web::setup"]},
    }
    path = tmp_path / "layer.json"
    path.write_text(json.dumps(request))
    layer_id = ok_json(
        invoke("create-layer", "--cli-input-json", f"file://{path}", "--name", "From options")
    )["LayerId"]
    (layer,) = ok_json(invoke("describe-layers", "--layer-ids", layer_id))["Layers"]
    assert (layer["Name"], layer["Shortname"]) == ("From options", "fromjson")
    assert layer["EnableAutoHealing"] is False and layer["Packages"] == ["nginx"]
    assert layer["CustomRecipes"]["Setup"] == ["web::setup"]

    bad = invoke("create-layer", "--cli-input-json", json.dumps({**request, "Bogus": 1}))
    assert bad.exit_code == 2 and "unknown parameter 'Bogus'" in bad.stderr
    broken = invoke("describe-stacks", "--cli-input-json", "{")
    assert broken.exit_code == 2 and "--cli-input-json is not valid JSON" in broken.stderr
    listed = ok_json(
        invoke("describe-stacks", "--cli-input-json", json.dumps({"StackIds": [stack_id]}))
    )
    assert [s["StackId"] for s in listed["Stacks"]] == [stack_id]


def test_every_opsworks_verb_takes_every_parameter_of_its_operation():
    ctx = click.Context(cli)
    for verb in sorted(COMMANDS):
        operation = operation_name(verb)
        if operation not in api_model()["operations"]:
            continue
        command = cli.get_command(ctx, verb)
        options = {
            o
            for p in command.params
            for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))
        }
        assert "--cli-input-json" in options, verb
        for member in input_members(operation):
            assert "--" + kebab(member) in options, f"{verb} has no option for {member}"


# -- OS names ---------------------------------------------------------------------------------
def test_os_names_resolve_at_create_instance_or_are_refused_there(boot, invoke):
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id)

    def create(*extra: str):
        return invoke(
            "create-instance",
            "--stack-id",
            stack_id,
            "--layer-ids",
            layer_id,
            "--instance-type",
            "t3.micro",
            *extra,
        )

    al2 = ok_json(create("--os", "Amazon Linux 2"))["InstanceId"]
    ok_json(invoke("start-instance", "--instance-id", al2))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", al2))["Instances"]
    expected = boot.client("ssm").get_parameter(
        Name="/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2"
    )["Parameter"]["Value"]
    ami = boot.client("ec2").describe_instances(InstanceIds=[inst["Ec2InstanceId"]])[
        "Reservations"
    ][0]["Instances"][0]["ImageId"]
    assert ami == expected

    retired = create("--os", "Amazon Linux 2018.03")
    assert retired.exit_code == 2 and "AWS publishes no current AMI" in retired.stderr
    assert "'Ubuntu 22.04 LTS'" in retired.stderr
    unknown = create("--os", "Plan 9")
    assert unknown.exit_code == 2 and "unknown operating system 'Plan 9'" in unknown.stderr
    custom = create("--os", "Custom")
    assert custom.exit_code == 2 and "needs --ami-id" in custom.stderr
    ok_json(create("--os", "Custom", "--ami-id", "ami-0123456789abcdef0"))
    # On moto (as on an account) the SSM public parameter decides: none for Ubuntu here.
    missing = create("--os", "Ubuntu 22.04 LTS")
    assert missing.exit_code == 2 and "SSM parameter /aws/service/canonical" in missing.stderr
    bad_stack = invoke("create-stack", "--name", "x", "--default-os", "Windows 95")
    assert bad_stack.exit_code == 2 and "unknown operating system" in bad_stack.stderr
    names = [o["Name"] for o in ok_json(invoke("describe-operating-systems"))["OperatingSystems"]]
    assert "Ubuntu 22.04 LTS" in names and "Amazon Linux 2023" in names


def test_the_sandbox_maps_os_names_to_its_documented_amis():
    from stackops.api.amis import resolve_os_ami
    from stackops.config import Target
    from stackops.model.operating_systems import BY_NAME

    class Session:
        target = Target("sandbox", "us-east-1", endpoint_url="http://127.0.0.1:4566")

    class Services:
        session = Session()
        region = "us-east-1"

        @property
        def parameters(self):  # never asked in the sandbox
            raise AssertionError("the sandbox reads no SSM public parameter")

    for name, entry in BY_NAME.items():
        assert resolve_os_ami(Services(), name) == entry.sandbox_ami
    with pytest.raises(InvalidInput, match="x86_64 only"):
        resolve_os_ami(Services(), "Ubuntu 22.04 LTS", "i386")


# -- accepted or refused, parameter by parameter ------------------------------------------------
REFUSED = [
    (
        ["create-stack", "--name", "x", "--chef-configuration", "ManageBerkshelf=true"],
        UNSUPPORTED["chef_configuration"],
    ),
    (
        ["create-stack", "--name", "x", "--configuration-manager", "Name=Chef,Version=12"],
        "configuration manager 'Chef' is not supported",
    ),
    (
        ["create-stack", "--name", "x", "--use-opsworks-security-groups"],
        "OpsWorks's built-in security groups (UseOpsworksSecurityGroups)",
    ),
    (
        ["create-stack", "--name", "x", "--agent-version", "3436-20160112103737"],
        "pinned OpsWorks agent versions are not supported",
    ),
    (
        [
            "create-layer",
            "--type",
            "custom",
            "--name",
            "n",
            "--shortname",
            "n",
            "--volume-configurations",
            "MountPoint=/vol,NumberOfDisks=1,Size=10",
        ],
        UNSUPPORTED["volume_configurations"],
    ),
    (
        [
            "create-layer",
            "--type",
            "custom",
            "--name",
            "n",
            "--shortname",
            "n",
            "--cloud-watch-logs-configuration",
            "Enabled=true",
        ],
        UNSUPPORTED["cloud_watch_logs_configuration"],
    ),
    (
        [
            "create-layer",
            "--type",
            "custom",
            "--name",
            "n",
            "--shortname",
            "n",
            "--attributes",
            "Bogus=1",
        ],
        "unknown attribute 'Bogus'",
    ),
    (
        [
            "create-instance",
            "--layer-ids",
            "LAYER",
            "--instance-type",
            "t3.micro",
            "--block-device-mappings",
            "DeviceName=/dev/sdh,Ebs={VolumeSize=10}",
        ],
        UNSUPPORTED["block_device_mappings"],
    ),
    (
        [
            "create-instance",
            "--layer-ids",
            "LAYER",
            "--instance-type",
            "t3.micro",
            "--virtualization-type",
            "paravirtual",
        ],
        "paravirtual instances are not supported",
    ),
    (["create-app", "--name", "w", "--enable-ssl"], "enable_ssl needs ssl_configuration"),
    (
        ["create-app", "--name", "w", "--data-sources", "Type=Postgres"],
        "--data-sources[0].Type: Input should be 'AutoSelectOpsworksMysqlInstance'",
    ),
    (
        ["clone-stack", "--source-stack-id", "STACK", "--clone-permissions"],
        "OpsWorks user permissions (SetPermission, user profiles) are not supported",
    ),
    (
        ["delete-instance", "--instance-id", "x", "--delete-volumes"],
        "OpsWorks EBS volumes (VolumeConfigurations, RegisterVolume) are not supported",
    ),
    (["register-instance", "--rsa-public-key", "ssh-rsa AAAA"], "RsaPublicKey"),
]


@pytest.mark.parametrize(
    ("args", "message"), REFUSED, ids=[" ".join(a[:1] + a[-2:-1]) for a, _ in REFUSED]
)
def test_unsupported_parameters_are_refused_naming_the_feature(boot, invoke, args, message):
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id, "base")
    args = [a.replace("LAYER", layer_id).replace("STACK", stack_id) for a in args]
    if args[0] in ("create-layer", "create-instance", "create-app", "register-instance"):
        args = [args[0], "--stack-id", stack_id, *args[1:]]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_unset_values_of_unsupported_settings_are_accepted(boot, invoke):
    """What OpsWorks answered for a stack that never used the feature goes through."""
    stack_id = make_stack(invoke)
    ok_json(
        invoke(
            "create-layer",
            "--stack-id",
            stack_id,
            "--type",
            "custom",
            "--name",
            "n",
            "--shortname",
            "n",
            "--volume-configurations",
            "[]",
            "--cloud-watch-logs-configuration",
            "Enabled=false",
        )
    )
    ok_json(
        invoke(
            "create-stack", "--name", "y", "--chef-configuration", "{}", "--agent-version", "LATEST"
        )
    )


def test_refusals_reach_the_stack_file_with_file_and_line(boot, invoke, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "stack: {name: s}\n"
        "layers:\n"
        "  - shortname: db\n"
        "    type: custom\n"
        "    volume_configurations: [{mount_point: /vol, number_of_disks: 1, size: 10}]\n"
    )
    result = invoke("apply", "-f", str(path), "--dry-run")
    assert result.exit_code == 2
    assert f"{path}:5:28: layers[0].volume_configurations" in result.stderr
    assert "VolumeConfigurations" in result.stderr


def test_register_instance_by_public_ip(boot, invoke):
    stack_id = make_stack(invoke)
    raw = run_ec2(boot)
    out = ok_json(
        invoke("register-instance", "--stack-id", stack_id, "--public-ip", raw["PublicIpAddress"])
    )
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", out["InstanceId"]))[
        "Instances"
    ]
    assert inst["Ec2InstanceId"] == raw["InstanceId"]
    clash = invoke(
        "register-instance",
        "--stack-id",
        stack_id,
        "--ec2-instance-id",
        "i-0123456789abcdef0",
        "--public-ip",
        raw["PublicIpAddress"],
    )
    assert clash.exit_code == 2 and "name different EC2 instances" in clash.stderr
