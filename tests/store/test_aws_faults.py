"""AWS faults through botocore's hooks: retried by botocore first, then 'try again later'.

Only "not found" means gone: a throttle, a 500 or a timeout is an AwsUnavailable after
botocore's retries, never an AwsFailure a caller would take for a final answer.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from stackops.aws.s3_fetch import download, environment_client
from stackops.aws.session import AwsSession, is_passing, retry_policy
from stackops.config import Target
from stackops.errors import AwsFailure, AwsUnavailable, NotFound, StackopsError
from stackops.model.instances import Instance
from tests.faults import faults_on

SERVICES = {
    "dynamodb": ("GetItem", lambda s: s.store.find_many(Instance, ["in-1"])),
    "sqs": ("ReceiveMessage", lambda s: s.queue.receive(max_messages=1)),
    "ec2": ("DescribeInstances", lambda s: s.ec2.describe(["i-0123456789abcdef0"])),
    "s3": ("PutObject", lambda s: s.artifacts.put_object("k", b"v")),
}


def call_of(services, service: str):
    operation, call = SERVICES[service]
    if service == "dynamodb":
        operation = "BatchGetItem"
    return operation, call


@pytest.mark.parametrize("kind", ["throttle", "500", "timeout"])
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_passing_fault_is_unavailable_never_a_final_failure(services, service, kind):
    operation, call = call_of(services, service)
    with faults_on(services.session.client(service)) as faults:
        fault = faults.add(operation, kind, times=1)
        with pytest.raises(AwsUnavailable) as info:
            call(services)
    assert fault.hits == 1
    assert operation.lower() in info.value.message.lower().replace(":", "").replace(" ", "") or (
        service in info.value.message
    )
    call(services)  # and once the fault is gone, the same call works


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_botocore_retries_first(services, service, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    from stackops.naming import ResourceNames
    from stackops.services import Services

    retrying = Services(AwsSession(Target("account", "us-east-1")), ResourceNames("stackops"))
    operation, call = call_of(retrying, service)
    with faults_on(retrying.session.client(service)) as faults:
        fault = faults.add(operation, "throttle", times=2)
        call(retrying)  # two throttles, then the real answer: botocore absorbed them
    assert fault.hits == 2


def test_what_is_not_passing_stays_a_plain_failure(services):
    from stackops.aws.dynamodb import ConditionFailed

    services.leases.acquire("x", "a", 60)
    with pytest.raises(ConditionFailed) as info:
        services.store._table.put(
            {"pk": "lease#x", "sk": "lease"}, condition="attribute_not_exists(pk)"
        )
    assert not isinstance(info.value, AwsUnavailable)
    with pytest.raises(AwsFailure) as stopped:
        services.ec2.stop("i-0000000000000dead")
    assert not isinstance(stopped.value, AwsUnavailable)
    with pytest.raises(NotFound):
        services.store.get(Instance, "in-missing")


def test_a_missing_table_is_not_unavailable(aws):
    from stackops.naming import ResourceNames
    from stackops.services import Services

    bare = Services(AwsSession(Target("account", "us-east-1")), ResourceNames("nothing"))
    with pytest.raises(StackopsError, match="bootstrap") as info:
        bare.store.find_many(Instance, ["x"])
    assert not isinstance(info.value, AwsUnavailable)


def test_retry_policy_defaults_and_botocore_variables():
    account = Target("account", "us-east-1")
    local = Target("sandbox", "us-east-1", endpoint_url="http://127.0.0.1:4566")
    assert retry_policy(account, {}) == {"mode": "adaptive", "total_max_attempts": 8}
    assert retry_policy(local, {}) == {"mode": "standard", "total_max_attempts": 1}
    env = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "5"}
    assert retry_policy(account, env) == {"mode": "standard", "total_max_attempts": 5}
    assert retry_policy(account, {"AWS_MAX_ATTEMPTS": "lots", "AWS_RETRY_MODE": "x"}) == {
        "mode": "adaptive",
        "total_max_attempts": 8,
    }


def test_is_passing_reads_codes_and_status():
    import botocore.exceptions as be

    def err(code: str, status: int) -> be.ClientError:
        return be.ClientError(
            {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
        )

    assert is_passing(err("ThrottlingException", 400))
    assert is_passing(err("ProvisionedThroughputExceededException", 400))
    assert is_passing(err("Whatever", 503))
    assert not is_passing(err("ResourceNotFoundException", 400))
    assert not is_passing(err("AccessDenied", 403))
    assert is_passing(be.ReadTimeoutError(endpoint_url="http://x"))
    assert not is_passing(be.NoCredentialsError())


def test_s3_fetch_throttled_is_unavailable_and_goes_where_the_environment_says(
    services, tmp_path: Path
):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="sources")
    s3.put_object(Bucket="sources", Key="web.tgz", Body=b"payload")
    client = services.session.client("s3")
    with faults_on(client) as faults:
        faults.add("GetObject", "throttle", times=1)
        with pytest.raises(AwsUnavailable):
            download("s3://sources/web.tgz", tmp_path / "a", client=client)
    download("s3://sources/web.tgz", tmp_path / "a", client=client)
    assert (tmp_path / "a").read_bytes() == b"payload"
    sandbox = environment_client(
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_REGION": "eu-west-1"}
    )
    assert sandbox.meta.endpoint_url == "http://127.0.0.1:4566"
    assert sandbox.meta.region_name == "eu-west-1"
    assert "amazonaws.com" in environment_client({}).meta.endpoint_url
