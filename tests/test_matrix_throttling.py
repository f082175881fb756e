"""Matrix, throttling: AWS's rate-limit answers on the first attempts, then until retries run out.

moto never throttles, so each row answers one operation's first attempts with the error AWS
sends (status, code and body as AWS shapes them for that protocol) from a ``before-send``
handler; botocore then parses it and decides to retry exactly as it would against AWS.
Retries are botocore's standard mode with Prowler's attempt count, configured once by
Prowler's session config (``--aws-retries-max-attempts``) and shared by the check, the fix
and the backout.
"""

from __future__ import annotations

import io
import json
from collections import Counter

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries.standard import ExponentialBackoff

from devtools.estate import REGION_A, REGION_B
from prowler_vpc_flow_logs.prowler_provider import build_provider, retrying_session
from prowler_vpc_flow_logs.service import FlowLogs
from tests.support import aws_provider, keyed_verdicts

TOTAL_ATTEMPTS = 4  # Prowler's default: max_attempts 3 retries after the first attempt


@pytest.fixture(autouse=True)
def _short_backoff(monkeypatch):
    """botocore's backoff, jitter and all, divided by 100: the retry decisions stay botocore's."""
    delay = ExponentialBackoff.delay_amount
    monkeypatch.setattr(
        ExponentialBackoff, "delay_amount", lambda self, context: delay(self, context) / 100
    )


class _Body(io.BytesIO):
    def stream(self, **_):
        yield self.getvalue()


def _throttled(url: str, protocol: str, code: str) -> AWSResponse:
    """The response AWS sends when it throttles a call of this protocol."""
    if protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>Request limit exceeded."
            "</Message></Error></Errors><RequestID>throttled</RequestID></Response>"
        ).encode()
        return AWSResponse(url, 503, {}, _Body(body))
    if protocol == "json":
        body = json.dumps({"__type": code, "message": "Rate exceeded"}).encode()
        return AWSResponse(url, 400, {"x-amzn-ErrorType": code}, _Body(body))
    return AWSResponse(url, 503, {}, _Body(b""))  # S3 HEAD: the status says SlowDown


class Throttle:
    """Answer the first ``times`` attempts of one operation (in one region, or all) with throttling."""

    def __init__(
        self,
        session: boto3.Session,
        event: str,
        protocol: str,
        code: str,
        times: float,
        region: str | None = None,
    ) -> None:
        self.protocol, self.code, self.times, self.region = protocol, code, times, region
        self.attempts: Counter[tuple] = Counter()  # per call: region, URL and body
        session.events.register(f"before-send.{event}", self)

    def __call__(self, request, **_):
        region = next((r for r in (REGION_A, REGION_B) if f".{r}." in request.url), REGION_A)
        if self.region not in (None, region):
            return None
        call = (region, request.url, request.body)
        self.attempts[call] += 1
        if self.attempts[call] <= self.times:
            return _throttled(request.url, self.protocol, self.code)
        return None  # on to moto


# row -> (event, protocol, AWS's throttling code, region or None for every region)
# fmt: off
ROWS = {
    "DescribeVpcs": ("ec2.DescribeVpcs", "ec2", "RequestLimitExceeded", REGION_B),
    "DescribeFlowLogs": ("ec2.DescribeFlowLogs", "ec2", "RequestLimitExceeded", REGION_A),
    "DescribeNetworkInterfaces": ("ec2.DescribeNetworkInterfaces", "ec2", "RequestLimitExceeded", REGION_A),
    "DescribeLogGroups": ("cloudwatch-logs.DescribeLogGroups", "json", "ThrottlingException", None),
    "HeadBucket": ("s3.HeadBucket", "s3", "SlowDown", None),
    "DescribeDeliveryStream": ("firehose.DescribeDeliveryStream", "json", "ThrottlingException", None),
}
# fmt: on

# row -> (estate cases whose verdict hangs on the operation, words they say once retries run out)
EXHAUSTED = {
    "DescribeVpcs": (
        set(),
        "The VPCs in eu-west-1 could not be audited: ec2:DescribeVpcs failed in eu-west-1 (RequestLimitExceeded",
    ),
    "DescribeFlowLogs": (
        {
            "all-to-log-group",
            "reject-to-bucket",
            "accept-only",
            "accept-plus-reject",
            "delivery-failed",
            "not-active",
            "log-group-deleted",
            "bucket-deleted",
            "no-flow-logs",
            "subnet-level-only",
            "all-to-firehose",
            "cross-account-log-group",
        },
        "could not be audited: ec2:DescribeFlowLogs failed in us-east-1 (RequestLimitExceeded",
    ),
    "DescribeNetworkInterfaces": (
        {"unused-no-flow-logs"},
        "ec2:DescribeNetworkInterfaces failed in us-east-1 (RequestLimitExceeded",
    ),
    "DescribeLogGroups": (
        {"all-to-log-group", "log-group-deleted"},
        "logs:DescribeLogGroups failed (ThrottlingException)",
    ),
    "HeadBucket": (
        {"reject-to-bucket", "accept-plus-reject", "bucket-deleted", "eu-all-to-bucket"},
        "s3:ListBucket failed (503)",
    ),
    "DescribeDeliveryStream": (
        {"all-to-firehose"},
        "firehose:DescribeDeliveryStream failed (ThrottlingException)",
    ),
}


def scan(times: float = 0, row: str | None = None) -> tuple[dict, Throttle | None]:
    """VPC id (or region) -> verdict, with ``row``'s operation throttled ``times`` times per region."""
    provider = aws_provider({REGION_A, REGION_B})
    throttle = (
        Throttle(provider.session.current_session, *ROWS[row][:3], times, ROWS[row][3])
        if row
        else None
    )
    service = FlowLogs(provider)
    return keyed_verdicts(service), throttle


@pytest.mark.parametrize("row", sorted(ROWS))
def test_throttled_first_attempts_are_absorbed(estate, row):
    baseline, _ = scan()
    result, throttle = scan(TOTAL_ATTEMPTS - 1, row)
    assert {k: v.model_dump() for k, v in result.items()} == {
        k: v.model_dump() for k, v in baseline.items()
    }
    assert throttle.attempts and all(n == TOTAL_ATTEMPTS for n in throttle.attempts.values()), (
        throttle.attempts
    )


@pytest.mark.parametrize("row", sorted(ROWS))
def test_exhausted_retries_give_could_not_read(estate, row):
    result, throttle = scan(float("inf"), row)
    assert throttle.attempts and all(n == TOTAL_ATTEMPTS for n in throttle.attempts.values()), (
        throttle.attempts
    )
    affected, words = EXHAUSTED[row]
    expected = estate.expected("REJECT", scan_unused=row == "DescribeNetworkInterfaces")
    for key, verdict in result.items():
        text = verdict.status_extended
        assert "disabled" not in text.lower() and "not enabled" not in text.lower(), text
        names = [n for n, v in estate.vpcs.items() if v == key]
        if names and names[0] in affected:
            assert verdict.status == "FAIL" and words in text, (names[0], text)
            assert "AWS throttled it beyond botocore's retries" in text, text
            if row != "DescribeNetworkInterfaces":  # that one only widens the scope
                assert verdict.unreadable and "could not be audited" in text, text
        elif names:
            assert verdict.status == expected[key], (names[0], text)
    if row == "DescribeVpcs":
        assert (
            REGION_B in result
            and result[REGION_B].unreadable
            and words in result[REGION_B].status_extended
        )


def test_retries_are_configured_once_for_the_check_the_fix_and_the_backout(estate):
    """Every client comes from a session carrying Prowler's retry config: standard mode, same attempts."""
    service = FlowLogs(aws_provider({REGION_A}))
    fix_provider = build_provider([REGION_A])
    clients = [
        *service.regional_clients.values(),
        service._clients("logs", REGION_A),  # the destination probes
        fix_provider.session.current_session.client("ec2", region_name=REGION_A),  # fix
        retrying_session().client("ec2", region_name=REGION_A),  # backout
    ]
    assert {json.dumps(c.meta.config.retries, sort_keys=True) for c in clients} == {
        json.dumps({"mode": "standard", "total_max_attempts": TOTAL_ATTEMPTS}, sort_keys=True)
    }
