"""The botocore behaviour the remediation relies on without a public promise: each test fails
when botocore changes it (remediation/accounts.py, aws_errors.py, clients.py)."""

from __future__ import annotations

import json

import botocore.session

from prowler_vpc_flow_logs.aws_errors import throttled
from prowler_vpc_flow_logs.clients import Clients, assumed
from prowler_vpc_flow_logs.prowler_provider import retrying_session
from prowler_vpc_flow_logs.remediation.accounts import share_service_models
from tests.support import client


def test_new_sessions_get_their_loader_through_the_shared_create_loader():
    """share_service_models swaps botocore.session.create_loader; the sessions Prowler makes for
    each account then share one loader (and its parsed models)."""
    share_service_models()
    first, second = botocore.session.Session(), botocore.session.Session()
    assert first.get_component("data_loader") is second.get_component("data_loader")


def test_throttling_is_what_botocore_retries_as_throttling():
    assert throttled("RequestLimitExceeded") and throttled("Throttling") and throttled("SlowDown")
    assert throttled("503")  # an S3 HEAD's SlowDown: no body, only the status
    assert not throttled("AccessDenied") and not throttled("FlowLogAlreadyExists")


def test_clients_through_an_assumed_role_keep_the_callers_retries(aws):
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]
    }
    arn = client("iam").create_role(RoleName="probe", AssumeRolePolicyDocument=json.dumps(trust))
    caller = Clients(retrying_session())
    through = assumed(caller, arn["Role"]["Arn"], "us-east-1", "probe")
    retries = through("ec2", "us-east-1").meta.config.retries
    assert retries == caller("ec2", "us-east-1").meta.config.retries
    assert retries["mode"] == "standard"
