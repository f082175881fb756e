"""What to fix: a fresh scan of regions, explicit VPC ids, or a Prowler OCSF JSON findings file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
from pydantic import BaseModel, Field

from prowler_vpc_flow_logs import CHECK_ID
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
    """Regions to read and, unless scanning, the VPC ids wanted in them."""

    regions: list[str] = Field(
        default_factory=list
    )  # empty: the session's default region (explicit ids) or all
    vpc_ids: list[str] = Field(default_factory=list)  # explicit ids, looked up in ``regions``
    by_region: dict[str, list[str]] = Field(default_factory=dict)  # from a findings file
    account: str | None = None  # the account a findings file is about
    muted: dict[str, list[str]] = Field(default_factory=dict)  # FAIL findings the mutelist muted
    source: str = "scan"

    @property
    def explicit(self) -> bool:
        return bool(self.vpc_ids) or self.source == "findings"


def from_flags(regions: list[str], vpc_ids: list[str], findings: str | None) -> Targets:
    if findings and (vpc_ids or regions):
        raise UserError(
            "conflicting flags: --from-findings takes the VPCs and regions from the findings file; "
            "do not combine it with --vpc-id or --region"
        )
    if findings:
        return read_findings(Path(findings))
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


def read_findings(path: Path) -> Targets:
    """FAIL findings of our check in a Prowler ``*.ocsf.json`` file, as region -> VPC ids."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise UserError(f"findings file {path} does not exist") from error
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise _not_prowler(path, f"not JSON: {error}") from error
    if not isinstance(data, list) or not data:
        raise _not_prowler(path, "expected a non-empty JSON list of findings")
    by_region: dict[str, set[str]] = {}
    muted: dict[str, set[str]] = {}
    accounts: set[str] = set()
    ours = 0
    for index, finding in enumerate(data):
        product = (
            (finding.get("metadata") or {}).get("product") or {}
            if isinstance(finding, dict)
            else {}
        )
        if (
            product.get("name") != "Prowler"
            or "status_code" not in finding
            or "finding_info" not in finding
        ):
            raise _not_prowler(path, f"entry {index} is not a Prowler OCSF finding")
        if finding["metadata"].get("event_code") != CHECK_ID:
            continue
        ours += 1
        if finding.get("status_code") != "FAIL":
            continue
        # Prowler writes a finding its mutelist muted with status "Suppressed": an accepted risk
        wanted = muted if finding.get("status") == "Suppressed" else by_region
        for resource in finding.get("resources") or []:
            match = VPC_ARN.match(str(resource.get("uid", "")))
            if match:
                region, account, vpc_id = match.groups()
                wanted.setdefault(region, set()).add(vpc_id)
                accounts.add(account)
    if not ours:
        raise UserError(
            f"{path} holds no findings of {CHECK_ID} ({len(data)} finding(s) of other checks); "
            f"scan with `prowler aws --checks {CHECK_ID} --output-formats json-ocsf` (or a compliance "
            "scan that includes it) and pass that file"
        )
    if len(accounts) > 1:
        raise UserError(
            f"{path} holds findings of several accounts ({', '.join(sorted(accounts))}); fix one account at a time"
        )
    return Targets(
        regions=sorted(by_region),
        by_region={r: sorted(ids) for r, ids in by_region.items()},
        account=next(iter(accounts), None),
        muted={r: sorted(ids) for r, ids in muted.items()},
        source="findings",
    )
