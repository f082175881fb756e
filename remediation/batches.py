"""Create the flow logs of a batch of VPCs with one CreateFlowLogs call, recorded before and after.

The request is in the ledger before the call; each created flow log (mapped to its VPC through
the run tag) and each failure after, so a crash leaves every flow log findable (the ledger, or
the backout's search by tag). A batch refused as a whole is halved until the VPC that causes it
stands alone (at most 2N-1 calls). AWS may refuse a call after applying part of it (moto 5.2.5
does, leaving what it made untagged): so the VPCs' flow logs are listed before each call, and
after a refusal or a lost answer every new one to the requested destination is the run's:
recorded, then tagged (adopted).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from prowler_vpc_flow_logs.aws_errors import DENIED_CODES, error_code, error_message, throttled
from prowler_vpc_flow_logs.destinations import parse_flow_log

from .ledger import CreateFailed, CreateRequested, FlowLogCreated, Ledger, now
from .models import OUTCOME_UNKNOWN, TAG_KEY, Created, Failed, FixSettings, PlannedFix

BATCH_SIZE = 100  # VPCs per CreateFlowLogs call (AWS takes clients.MAX_IDS; a refusal costs less)
FILTER_VALUES = 200  # values DescribeFlowLogs takes in one filter
ALREADY_EXISTS = "FlowLogAlreadyExists"  # EC2's error code for a duplicate flow log


def create_request(settings: FixSettings, run_id: str, vpc_ids: list[str], where: str = "") -> dict:
    """The CreateFlowLogs parameters for these VPCs, as ``aws ec2 create-flow-logs`` sends them."""
    token = hashlib.sha256(f"{run_id}/{where}/{','.join(sorted(vpc_ids))}".encode()).hexdigest()
    params: dict = {
        "ResourceType": "VPC",
        "ResourceIds": list(vpc_ids),
        "TrafficType": settings.traffic_type,
        "LogDestinationType": settings.log_destination_type,
        "TagSpecifications": [
            {"ResourceType": "vpc-flow-log", "Tags": [{"Key": TAG_KEY, "Value": run_id}]}
        ],
        "ClientToken": token[:64],  # a retried call with the same token creates nothing twice
    }
    if settings.log_destination_type == "cloud-watch-logs":
        params["LogGroupName"] = settings.log_group_name
        params["DeliverLogsPermissionArn"] = settings.deliver_logs_permission_arn
    else:
        params["LogDestination"] = settings.log_destination
    if settings.max_aggregation_interval is not None:
        params["MaxAggregationInterval"] = settings.max_aggregation_interval
    if settings.log_format:
        params["LogFormat"] = settings.log_format
    return params


@dataclass
class Outcome:
    created: list[Created] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    untagged: list[str] = field(default_factory=list)  # adopted, recorded, but not tagged: why

    def add(self, part: Outcome) -> Outcome:
        self.created += part.created
        self.failed += part.failed
        self.untagged += part.untagged
        return self


def run_tag(raw: dict) -> str | None:
    """The run id a DescribeFlowLogs entry is tagged with (None when it has no run tag)."""
    return {t["Key"]: t["Value"] for t in raw.get("Tags") or []}.get(TAG_KEY)


def describe_flow_logs(ec2, **params) -> dict[str, dict]:
    """Every flow log DescribeFlowLogs answers ``params`` with, all pages, by id."""
    pages = ec2.get_paginator("describe_flow_logs").paginate(**params)
    return {fl["FlowLogId"]: fl for page in pages for fl in page["FlowLogs"]}


def flow_logs_on(ec2, vpc_ids: list[str], *filters: dict) -> dict[str, dict]:
    """Every flow log on these VPCs (and matching ``filters``), by id; FILTER_VALUES VPCs a call."""
    found: dict[str, dict] = {}
    for start in range(0, len(vpc_ids), FILTER_VALUES):
        chunk = {"Name": "resource-id", "Values": vpc_ids[start : start + FILTER_VALUES]}
        found |= describe_flow_logs(ec2, Filters=[*filters, chunk])
    return found


class BatchCreator:
    """Creates the planned flow logs of one account and region, batch by batch."""

    def __init__(
        self, ledger: Ledger, ec2, settings: FixSettings, account: str, region: str
    ) -> None:
        self.ledger, self.ec2, self.settings = ledger, ec2, settings
        self.account, self.region = account, region
        self.run_id = ledger.path.stem

    def create(self, fixes: list[PlannedFix], before: dict[str, dict] | None = None) -> Outcome:
        """One CreateFlowLogs call for ``fixes`` (more when AWS refuses the batch). ``before``:
        their VPCs' flow logs, when just listed (else they are listed here)."""
        if before is None:
            before = self._flow_logs_on([fix.vpc_id for fix in fixes])
        taken = self._already_written(before or {})  # made since the plan: no doomed create
        failed = [
            self._failure(f, ALREADY_EXISTS, taken[f.vpc_id]) for f in fixes if f.vpc_id in taken
        ]
        outcome, fixes = Outcome(failed=failed), [f for f in fixes if f.vpc_id not in taken]
        if not fixes:
            return outcome
        ids = [fix.vpc_id for fix in fixes]
        request = create_request(self.settings, self.run_id, ids, f"{self.account}/{self.region}")
        self.ledger.append(CreateRequested(
            time=now(), account=self.account, region=self.region, vpc_ids=ids,
            client_token=request["ClientToken"],
        ))  # fmt: skip
        try:
            response = self.ec2.create_flow_logs(**request)
        except ClientError as error:
            return outcome.add(self._refused(fixes, error, before))
        except BotoCoreError as error:  # the answer was lost: what appeared says what was made
            return outcome.add(self._answer_lost(fixes, error, before))
        unsuccessful = {
            item.get("ResourceId", ""): item.get("Error") or {}
            for item in response.get("Unsuccessful") or []
        }
        made = self._record(fixes, self._made(ids, response))
        outcome.add(made)
        for fix in [f for f in fixes if f.vpc_id not in {c.vpc_id for c in made.created}]:
            error = unsuccessful.get(fix.vpc_id, {})
            code = str(error.get("Code", "Unsuccessful"))
            message = str(error.get("Message", "CreateFlowLogs reported no flow log for it"))
            outcome.failed.append(self._failure(fix, code, message))
        return outcome

    def _flow_logs_on(self, vpc_ids: list[str]) -> dict[str, dict] | None:
        """Every flow log on these VPCs, by id (None when they cannot be listed)."""
        try:
            return flow_logs_on(self.ec2, vpc_ids)
        except (ClientError, BotoCoreError):
            return None

    def _writes_like_ours(self, raw: dict) -> bool:
        flow_log = parse_flow_log(raw, self.region, self.account)
        return self.settings.writes_like(flow_log, self.region, self.account)

    def _already_written(self, flow_logs: dict[str, dict]) -> dict[str, str]:
        """VPC id -> why it cannot get our flow log: one of another writer already writes there."""
        return {
            raw.get("ResourceId", ""): (
                f"{flow_log_id} already writes to that destination (it appeared after the "
                f"plan); delete or repair {flow_log_id}, or choose another destination"
            )
            for flow_log_id, raw in flow_logs.items()
            if run_tag(raw) != self.run_id and self._writes_like_ours(raw)
        }

    def _made(self, ids: list[str], response: dict) -> dict[str, str]:
        """VPC id -> new flow log id: through the run tag (the answer does not say which is
        which), unless the batch had one VPC; by the answer's order if the look-up fails."""
        made = response.get("FlowLogIds") or []
        if len(ids) == 1 and len(made) == 1 and not response.get("Unsuccessful"):
            return {ids[0]: made[0]}
        tag = {"Name": f"tag:{TAG_KEY}", "Values": [self.run_id]}
        try:
            return {fl["ResourceId"]: i for i, fl in flow_logs_on(self.ec2, ids, tag).items()}
        except (ClientError, BotoCoreError):
            failed = {item.get("ResourceId") for item in response.get("Unsuccessful") or []}
            succeeded = [vpc_id for vpc_id in ids if vpc_id not in failed]
            return dict(zip(succeeded, made, strict=False)) if len(made) == len(succeeded) else {}

    def _appeared(
        self, fixes: list[PlannedFix], before: dict[str, dict] | None
    ) -> tuple[Outcome, list[PlannedFix], dict[str, dict] | None]:
        """After a refused call or a lost answer: the flow logs the call made on these VPCs, the
        fixes still without one, and the VPCs' flow logs now. With the list from before the call,
        every new one to the requested destination counts (untagged ones are recorded, then
        tagged: adopted); without it, only those carrying the run tag."""
        after = self._flow_logs_on([fix.vpc_id for fix in fixes])
        if after is None:
            return Outcome(), fixes, None
        made: dict[str, str] = {}
        untagged: list[str] = []
        for flow_log_id, raw in after.items():
            tagged = run_tag(raw) == self.run_id
            new = before is not None and flow_log_id not in before and self._writes_like_ours(raw)
            if tagged or new:
                made[raw.get("ResourceId", "")] = flow_log_id
                untagged += [] if tagged else [flow_log_id]
        outcome = self._record(fixes, made, set(untagged))  # recorded before the tags are written
        if untagged:
            try:
                self.ec2.create_tags(
                    Resources=untagged, Tags=[{"Key": TAG_KEY, "Value": self.run_id}]
                )
            except (ClientError, BotoCoreError) as error:
                outcome.untagged.append(
                    f"flow log(s) {', '.join(untagged)} in {self.region} of {self.account} were "
                    f"made by a refused CreateFlowLogs and recorded, but could not be tagged "
                    f"({error_message(error)}): the backout keeps untagged flow logs, so delete "
                    "them by hand after it"
                )
        return outcome, [fix for fix in fixes if fix.vpc_id not in made], after

    def _refused(
        self, fixes: list[PlannedFix], error: ClientError, before: dict[str, dict] | None
    ) -> Outcome:
        """AWS refused the whole call: keep what it made anyway, then split, or fail each VPC."""
        outcome, rest, after = self._appeared(fixes, before)
        code = error_code(error)
        if len(rest) > 1 and code not in DENIED_CODES and not throttled(code):
            for half in (rest[: len(rest) // 2], rest[len(rest) // 2 :]):
                outcome.add(self.create(half, after))  # ``after`` lists the halves' VPCs
            return outcome
        outcome.failed += [self._failure(f, code, error_message(error)) for f in rest]
        return outcome

    def _answer_lost(
        self, fixes: list[PlannedFix], error: BotoCoreError, before: dict[str, dict] | None
    ) -> Outcome:
        outcome, rest, _ = self._appeared(fixes, before)
        message = (
            f"the answer to CreateFlowLogs was lost ({error}); if AWS created the flow log, it "
            f"carries the tag {TAG_KEY}={self.run_id} and `vpc-flow-logs backout {self.run_id}` finds it"
        )
        outcome.failed += [self._failure(fix, OUTCOME_UNKNOWN, message) for fix in rest]
        return outcome

    def _record(
        self, fixes: list[PlannedFix], made: dict[str, str], adopted: set[str] = frozenset()
    ) -> Outcome:
        outcome = Outcome()
        for fix in fixes:
            flow_log_id = made.get(fix.vpc_id)
            if flow_log_id is None:
                continue
            self.ledger.append(FlowLogCreated(
                time=now(), account=self.account, region=self.region, vpc_id=fix.vpc_id,
                flow_log_id=flow_log_id, adopted=flow_log_id in adopted,
            ))  # fmt: skip
            outcome.created.append(Created(
                flow_log_id=flow_log_id, vpc_id=fix.vpc_id, region=self.region, account=self.account
            ))  # fmt: skip
        return outcome

    def _failure(self, fix: PlannedFix, code: str, message: str) -> Failed:
        self.ledger.append(CreateFailed(
            time=now(), account=self.account, region=self.region, vpc_id=fix.vpc_id, code=code,
            message=message,
        ))  # fmt: skip
        return Failed(
            vpc_id=fix.vpc_id, region=self.region, code=code, message=message, account=self.account
        )
