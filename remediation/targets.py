"""What to fix: a fresh scan of regions, explicit VPC ids, or a Prowler OCSF JSON findings file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

import boto3
from pydantic import BaseModel, Field

from prowler_vpc_flow_logs import CHECK_ID
from prowler_vpc_flow_logs.config import read_judged_under
from prowler_vpc_flow_logs.errors import UserError

VPC_ID = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
VPC_ARN = re.compile(r"^arn:[\w-]+:ec2:([\w-]+):(\d{12}):vpc/(vpc-[0-9a-f]+)$")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def known_regions() -> set[str]:
    """Every EC2 region botocore knows, in every partition (no AWS call)."""
    session = boto3.session.Session()
    return {r for p in PARTITIONS for r in session.get_available_regions("ec2", partition_name=p)}


def check_regions(regions: list[str]) -> list[str]:
    """The regions, sorted, or a UserError naming the unknown ones."""
    regions = sorted(set(regions))
    unknown = [r for r in regions if r not in known_regions()]
    if unknown:
        raise UserError(
            f"unknown region(s): {', '.join(unknown)} (examples of valid names: us-east-1, eu-west-1)"
        )
    return regions


class Targets(BaseModel):
    """What to fix: regions to scan (and VPC ids wanted in them), or findings of several accounts."""

    regions: list[str] = Field(default_factory=list)  # empty: the default region (ids) or all
    vpc_ids: list[str] = Field(default_factory=list)  # explicit ids, looked up in ``regions``
    source: Literal["scan", "vpc-ids", "findings"] = "scan"
    # findings files: account -> region -> VPC ids of FAIL findings, and of those the mutelist muted
    findings: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    muted_findings: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    # account -> the knobs its findings were judged under (as the check writes them into each
    # finding's resource details); absent for findings that do not say
    policies: dict[str, dict] = Field(default_factory=dict)
    # one account's view (for_account): its findings by region, and their policy
    account: str | None = None
    by_region: dict[str, list[str]] = Field(default_factory=dict)
    muted: dict[str, list[str]] = Field(default_factory=dict)
    policy: dict | None = None

    @property
    def explicit(self) -> bool:
        return bool(self.vpc_ids) or self.source == "findings"

    @property
    def accounts(self) -> list[str]:
        """The accounts the findings are about (none for a scan or explicit ids)."""
        return sorted(set(self.findings) | set(self.muted_findings))

    def for_account(self, account: str) -> Targets:
        """What to fix in one account: the same regions and ids, or that account's findings."""
        if self.source != "findings":
            return self
        by_region = self.findings.get(account, {})
        return self.model_copy(update={
            "account": account, "by_region": by_region, "regions": sorted(by_region),
            "muted": self.muted_findings.get(account, {}), "policy": self.policies.get(account),
        })  # fmt: skip


def from_flags(regions: list[str], vpc_ids: list[str], findings: list[str] | None) -> Targets:
    if findings and (vpc_ids or regions):
        raise UserError(
            "conflicting flags: --from-findings takes the VPCs and regions from the findings file; "
            "do not combine it with --vpc-id or --region"
        )
    if findings:
        return read_findings([Path(path) for path in findings])
    bad = [v for v in vpc_ids if not VPC_ID.match(v)]
    if bad:
        raise UserError(f"not a VPC id: {', '.join(bad)} (expected vpc- and 8 or 17 hex digits)")
    return Targets(
        regions=sorted(set(regions)),
        vpc_ids=sorted(set(vpc_ids)),
        source="vpc-ids" if vpc_ids else "scan",
    )


def _not_prowler(path: Path, why: str) -> UserError:
    return UserError(
        f"{path} is not a Prowler OCSF JSON findings file ({why}); write one with "
        "`prowler aws --checks vpc_flow_logs_enabled --output-formats json-ocsf`"
    )


def _load(path: Path) -> list:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise UserError(f"findings file {path} does not exist") from error
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise _not_prowler(path, f"not JSON: {error}") from error
    if not isinstance(data, list) or not data:
        raise _not_prowler(path, "expected a non-empty JSON list of findings")
    return data


def _is_prowler_finding(finding) -> bool:
    if not isinstance(finding, dict):
        return False
    product = (finding.get("metadata") or {}).get("product") or {}
    return (
        product.get("name") == "Prowler" and "status_code" in finding and "finding_info" in finding
    )


def read_findings(paths: list[Path]) -> Targets:
    """FAIL findings of our check in Prowler ``*.ocsf.json`` files (one per account, say, from
    ``prowler aws -R`` runs), as account -> region -> VPC ids; muted ones apart."""
    wanted: dict[str, dict[str, set[str]]] = {}
    muted: dict[str, dict[str, set[str]]] = {}
    policies: dict[str, set[str]] = {}
    for path in paths:
        data = _load(path)
        ours = 0
        for index, finding in enumerate(data):
            if not _is_prowler_finding(finding):
                raise _not_prowler(path, f"entry {index} is not a Prowler OCSF finding")
            if finding["metadata"].get("event_code") != CHECK_ID:
                continue
            ours += 1
            # Prowler writes a finding its mutelist muted with status "Suppressed": an accepted risk
            into = muted if finding.get("status") == "Suppressed" else wanted
            for resource in finding.get("resources") or []:
                match = VPC_ARN.match(str(resource.get("uid", "")))
                if not match:
                    continue
                region, account, vpc_id = match.groups()
                said = _carried_policy(resource)
                if said is not None:
                    policies.setdefault(account, set()).add(said)
                if finding.get("status_code") == "FAIL":
                    into.setdefault(account, {}).setdefault(region, set()).add(vpc_id)
        if not ours:
            raise UserError(
                f"{path} holds no findings of {CHECK_ID} ({len(data)} finding(s) of other checks); "
                f"scan with `prowler aws --checks {CHECK_ID} --output-formats json-ocsf` (or a "
                "compliance scan that includes it) and pass that file"
            )

    def plain(found: dict[str, dict[str, set[str]]]) -> dict[str, dict[str, list[str]]]:
        return {a: {r: sorted(ids) for r, ids in regions.items()} for a, regions in found.items()}

    mixed = sorted(account for account, said in policies.items() if len(said) > 1)
    if mixed:
        raise UserError(
            f"the findings of account {mixed[0]} were judged under different Prowler config files "
            f"({' and '.join(sorted(policies[mixed[0]]))}); pass the findings of one scan"
        )
    return Targets(
        source="findings", findings=plain(wanted), muted_findings=plain(muted),
        policies={account: json.loads(next(iter(said))) for account, said in policies.items()},
    )  # fmt: skip


def _carried_policy(resource: dict) -> str | None:
    """The knobs a finding says it was judged under (canonical JSON), or None."""
    knobs = read_judged_under(str((resource.get("data") or {}).get("details") or ""))
    return None if knobs is None else json.dumps(knobs, sort_keys=True)
