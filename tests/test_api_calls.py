"""Our service's AWS API calls do not grow with the estate, except through pages.

Deterministic only (no timing): the service is built in-process against ``mock_aws``
on the benchmark's estate and every botocore call is counted, pages included.
"""

from __future__ import annotations

import functools
import math
from collections import Counter

import pytest
from moto import mock_aws

from devtools.bench_estate import REGIONS, BenchEstate, seed
from devtools.callprobe import CallCounter
from devtools.knob_estate import STRICT
from prowler_vpc_flow_logs.service import PAGE_SIZE, FlowLogs
from tests.support import aws_provider

MAX_EC2_CALLS_PER_REGION = 8  # issue 5's target, destination probes excluded

Op = tuple[str, str, str]  # (region, service, operation)


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@functools.cache
def collect(
    vpcs_per_region: int, scan_unused: bool, strict: bool = False
) -> tuple[CallCounter, BenchEstate]:
    """Seed the estate, build FlowLogs once under a CallCounter (cached: each size is seeded
    once); ``strict``: every knob on (examples/strict_config.yaml)."""
    with mock_aws():
        estate = seed(vpcs_per_region)
        provider = aws_provider(
            set(REGIONS), scan_unused_services=scan_unused, audit_config=STRICT if strict else {}
        )
        with CallCounter() as counter:
            service = FlowLogs(provider)
        assert sum(len(data.vpcs) for data in service.scan.regions.values()) == estate.total_vpcs
        assert len(service.scan.destinations) == estate.destinations
    return counter, estate


def first_pages(counter: CallCounter) -> Counter[Op]:
    """Calls per operation, continuation pages left out."""
    result = counter.by_operation()
    for (_, region, service, op), n in counter.continuations.items():
        result[(region, service, op)] -= n
    return +result


def continuation_pages(counter: CallCounter) -> Counter[Op]:
    result: Counter[Op] = Counter()
    for (_, region, service, op), n in counter.continuations.items():
        result[(region, service, op)] += n
    return result


@pytest.mark.parametrize("scan_unused", [True, False], ids=["scan-unused", "in-use-only"])
@pytest.mark.parametrize(("small", "large"), [(10, 1000), (5, 200)])
def test_calls_differ_only_by_pagination(small: int, large: int, scan_unused: bool) -> None:
    small_calls, _ = collect(small, scan_unused)
    large_calls, estate = collect(large, scan_unused)

    assert first_pages(small_calls) == first_pages(large_calls)
    assert not continuation_pages(small_calls)
    # At most ceil(items / PAGE_SIZE) pages per listing; VPCs are the largest listing.
    most_pages = math.ceil((estate.vpcs_per_region + 1) / PAGE_SIZE)
    for (region, service, op), n in continuation_pages(large_calls).items():
        assert service == "ec2" and n <= most_pages - 1, (region, op, n)


@pytest.mark.parametrize("scan_unused", [True, False], ids=["scan-unused", "in-use-only"])
def test_calls_per_region_at_1000_vpcs(scan_unused: bool) -> None:
    """Issue 5's target: <= 8 EC2 calls per region, plus one probe per distinct destination."""
    counter, estate = collect(1000, scan_unused)
    calls = counter.by_operation()
    ec2 = Counter({region: 0 for region in REGIONS})
    for (region, service, _), n in calls.items():
        if service == "ec2":
            ec2[region] += n
    assert max(ec2.values()) <= MAX_EC2_CALLS_PER_REGION, ec2
    probes = sum(n for (_, service, _), n in calls.items() if service != "ec2")
    assert probes == estate.destinations
    expected = {"DescribeVpcs", "DescribeFlowLogs"} | (
        set() if scan_unused else {"DescribeNetworkInterfaces"}
    )
    for region in REGIONS:
        assert {op for (r, s, op) in calls if r == region and s == "ec2"} == expected


@pytest.mark.parametrize("strict", [False, True], ids=["knobs-off", "strict"])
def test_knobs_add_bucket_reads_only_when_on_and_never_per_vpc(strict: bool) -> None:
    """One probe per distinct destination: a log group's retention and key come with its one
    DescribeLogGroups; a bucket adds GetBucketEncryption and GetBucketLifecycleConfiguration
    only under the knobs, once per bucket, however many VPCs write to it."""
    small, _ = collect(10, False, strict)
    large, estate = collect(200, False, strict)
    assert first_pages(small) == first_pages(large)
    probes: Counter[str] = Counter()
    for (_, service, op), n in large.by_operation().items():
        if service != "ec2":
            probes[op] += n
    per_kind = estate.destinations // 2  # one log group and one bucket per region
    expected = Counter({"DescribeLogGroups": per_kind, "HeadBucket": per_kind})
    if strict:
        expected.update(
            {"GetBucketEncryption": per_kind, "GetBucketLifecycleConfiguration": per_kind}
        )
    assert probes == expected
