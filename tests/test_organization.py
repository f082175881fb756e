"""A whole AWS Organization in one fix run (moto in-process: its AssumeRole credentials act in
the member account; its Organizations API lists the accounts): accounts and regions in parallel,
batched creates, one run, one backout."""

from __future__ import annotations

import json
import logging
import threading

import botocore.client
import pytest
from botocore.exceptions import ClientError

from devtools.org_estate import REGIONS, ROLE, Org, account_session, flow_logs_of, seed_organization
from prowler_vpc_flow_logs.cli import main
from prowler_vpc_flow_logs.remediation.accounts import Reach
from prowler_vpc_flow_logs.remediation.ledger import (
    CreateRequested,
    FlowLogCreated,
    Ledger,
    RunStarted,
    list_runs,
)
from prowler_vpc_flow_logs.remediation.models import TAG_KEY, RoleSettings
from prowler_vpc_flow_logs.service import FlowLogs
from tests.support import BOTH, fix_json, flow_log_key, keyed_verdicts, ocsf_finding

S3 = ["--log-destination-type", "s3", "--log-destination", "arn:aws:s3:::org-flow-logs"]
ORG = ["--organization", "--role-name", ROLE, *BOTH]


@pytest.fixture
def org(aws) -> Org:
    return seed_organization(members=2, failing=3)


def flow_logs(org: Org) -> dict[str, set[tuple[str, str, str]]]:
    """Account -> every flow log (id, resource, tags) in both regions."""
    return {account: set(map(flow_log_key, found)) for account, found in flow_logs_of(org).items()}


def tagged(org: Org, run_id: str) -> set[str]:
    run_tag = [{"Name": f"tag:{TAG_KEY}", "Values": [run_id]}]
    return {
        fl["FlowLogId"] for found in flow_logs_of(org, Filters=run_tag).values() for fl in found
    }


def verdicts(org: Org) -> dict[str, str]:
    """VPC id -> the check's verdict, each account scanned through the role as `prowler -R` would."""
    reach = Reach(None, RoleSettings(role_name=ROLE))
    found = {}
    for account in org.accounts:
        service = FlowLogs(reach.provider(account, REGIONS))
        found |= {
            vpc: v.status for vpc, v in keyed_verdicts(service).items() if vpc.startswith("vpc-")
        }
    return found


def every(org: Org, which: dict[str, dict[str, list[str]]]) -> set[tuple[str, str, str]]:
    return {
        (a, r, vpc) for a, regions in which.items() for r, ids in regions.items() for vpc in ids
    }


def test_an_organization_is_fixed_in_one_run_and_backed_out_exactly(org, capsys):
    before, statuses = flow_logs(org), verdicts(org)
    assert {statuses[vpc] for _, _, vpc in every(org, org.failing)} == {"FAIL"}
    code, result, err = fix_json(capsys, *ORG, *S3)
    assert code == 0, err
    assert result["accounts"] == org.accounts and result["account"] == org.management
    assert {(c["account"], c["region"], c["vpc_id"]) for c in result["created"]} == every(
        org, org.failing
    )
    assert {
        (s["account"], s["vpc_id"])
        for s in result["skipped"]
        if s["reason"].startswith("compliant")
    } == {(a, vpc) for a, _, vpc in every(org, org.passing)}
    after = verdicts(org)  # one scan of the organization, not one per VPC
    assert {after[vpc] for _, _, vpc in every(org, org.failing)} == {"PASS"}
    events = Ledger.open(result["run_id"]).events()
    started = events[0]
    assert isinstance(started, RunStarted) and started.accounts == org.accounts
    assert started.role == RoleSettings(role_name=ROLE)
    requests = [e for e in events if isinstance(e, CreateRequested)]
    # one CreateFlowLogs per account, region and destination, not one per VPC
    assert sorted((e.account, e.region, len(e.vpc_ids)) for e in requests) == sorted(
        (a, r, 3) for a in org.accounts for r in REGIONS
    )
    assert {(e.account, e.vpc_id) for e in events if isinstance(e, FlowLogCreated)} == {
        (a, vpc) for a, _, vpc in every(org, org.failing)
    }
    [run] = list_runs()
    assert run.accounts == org.accounts and run.created == 18
    assert main(["runs"]) == 0 and f"accounts {','.join(org.accounts)}" in capsys.readouterr().out
    assert main(["backout", result["run_id"], "--yes"]) == 0
    assert "18 deleted, 0 refused" in capsys.readouterr().out
    assert flow_logs(org) == before and verdicts(org) == statuses
    assert list_runs()[0].backed_out == "yes"


def test_the_dry_run_plans_per_account_and_region(org, capsys):
    before = flow_logs(org)
    assert main(["fix", *ORG, *S3, "--dry-run"]) == 0
    out = capsys.readouterr().out
    for account in org.accounts:
        assert f"Plan for account {account}, regions eu-west-1, us-east-1:" in out
        assert f"{account} eu-west-1: 3, {account} us-east-1: 3" in out
    assert "for 6 VPC(s) (eu-west-1: 3, us-east-1: 3):" in out
    assert "In all: 18 flow log(s) in 3 account(s)" in out and "0 account(s) not reached" in out
    assert flow_logs(org) == before


def _deny_assume_role(account: str):
    """AssumeRole into ``account`` fails as AWS would when the caller may not assume the role."""
    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        if name == "AssumeRole" and f":{account}:" in params.get("RoleArn", ""):
            error = {
                "Code": "AccessDenied",
                "Message": f"not authorized to perform: sts:AssumeRole on {account}",
            }
            raise ClientError({"Error": error}, name)
        return original(self, name, params)

    return call


def test_an_unreachable_member_is_named_while_the_others_complete(org, capsys, monkeypatch):
    before = flow_logs(org)
    denied, other = org.members
    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", _deny_assume_role(denied))
        code, result, err = fix_json(capsys, *ORG, *S3)
    assert code == 1
    assert (
        list(result["account_errors"]) == [denied]
        and "AccessDenied" in result["account_errors"][denied]
    )
    assert f"CANNOT REACH account {denied}" in err  # the plan says it on stderr with --output json
    assert (
        f"cannot assume role arn:aws:iam::{denied}:role/{ROLE}" in result["account_errors"][denied]
    )
    assert "ClientError[" not in err  # Prowler's own log lines stay quiet (issue 19, row 11)
    assert {c["account"] for c in result["created"]} == {org.management, other}
    assert flow_logs(org)[denied] == before[denied]
    run_id = result["run_id"]
    # the backout cannot reach one account of the run: the others are cleaned, it is named
    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", _deny_assume_role(other))
        assert main(["backout", run_id, "--yes"]) == 1
    out = capsys.readouterr().out
    assert f"CANNOT REACH account {other}" in out and "run the backout again" in out
    assert flow_logs(org)[org.management] == before[org.management]
    assert flow_logs(org)[other] != before[other] and list_runs()[0].backed_out == "partly"
    assert main(["backout", run_id, "--yes"]) == 0  # later, with the role back: finished
    assert flow_logs(org) == before and list_runs()[0].backed_out == "yes"


def test_a_crash_after_n_batches_leaves_nothing_behind(org, capsys, monkeypatch):
    before = flow_logs(org)
    original = botocore.client.BaseClient._make_api_call
    batches = {"n": 0}

    def call(self, name, params):
        if name == "CreateFlowLogs":
            if batches["n"] == 4:
                raise KeyboardInterrupt("simulated crash")
            batches["n"] += 1
        return original(self, name, params)

    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", call)
        assert main(["fix", *ORG, *S3, "--yes", "--batch-size", "2"]) == 130
    err = capsys.readouterr().err
    [run] = list_runs()
    assert f"interrupted during run {run.run_id}" in err and not run.finished
    assert tagged(org, run.run_id) and run.created == len(tagged(org, run.run_id))
    assert main(["backout", run.run_id, "--yes"]) == 0
    assert flow_logs(org) == before and tagged(org, run.run_id) == set()


def test_a_batch_aws_refuses_is_split_until_each_vpc_is_created(org, capsys, monkeypatch):
    """AWS refuses calls of more than 2 VPCs here (before moto sees them): the batch is halved."""
    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        if name == "CreateFlowLogs" and len(params["ResourceIds"]) > 2:
            error = {"Code": "InvalidParameterValue", "Message": "too many resources for the test"}
            raise ClientError({"Error": error}, name)
        return original(self, name, params)

    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", call)
        code, result, _ = fix_json(
            capsys, "--account-id", org.management, "--region", REGIONS[0], *S3
        )
    assert code == 0 and result["failed"] == []
    assert {c["vpc_id"] for c in result["created"]} == set(org.failing[org.management][REGIONS[0]])
    sizes = [
        len(e.vpc_ids)
        for e in Ledger.open(result["run_id"]).events()
        if isinstance(e, CreateRequested)
    ]
    assert sizes == [3, 1, 2]  # refused, then its halves


def test_findings_files_of_several_accounts_are_fixed_each_in_its_account(org, capsys, tmp_path):
    paths = []
    for account in org.members:
        region = REGIONS[0]
        findings = [
            ocsf_finding(f"arn:aws:ec2:{region}:{account}:vpc/{vpc}")
            for vpc in org.failing[account][region][:2]
        ]
        path = tmp_path / f"{account}.ocsf.json"
        path.write_text(json.dumps(findings))
        paths.append(str(path))
    code, result, _ = fix_json(capsys, "--from-findings", *paths, "--role-name", ROLE, *S3)
    assert code == 0 and result["accounts"] == sorted(org.members)
    assert {(c["account"], c["vpc_id"]) for c in result["created"]} == {
        (a, vpc) for a in org.members for vpc in org.failing[a][REGIONS[0]][:2]
    }
    code, _, err = fix_json(
        capsys, "--from-findings", *paths, *S3
    )  # no role: refused, nothing written
    assert code == 2 and "pass --role-name" in err


def test_each_account_gets_its_own_delivery_role(org, capsys, monkeypatch):
    """CloudWatch Logs: arn:aws:iam::{account}:role/NAME names the delivery role of each account."""
    from devtools.estate import trust_policy

    for account in org.accounts:
        iam = account_session(account, org.management).client("iam")
        iam.create_role(
            RoleName="flow-logs-delivery", AssumeRolePolicyDocument=json.dumps(trust_policy())
        )
    cwl = [
        "--log-destination-type", "cloud-watch-logs", "--log-group-name", "/vpc/org",
        "--deliver-logs-permission-arn", "arn:aws:iam::{account}:role/flow-logs-delivery",
        "--create-log-group",
    ]  # fmt: skip
    # a member without that role is skipped and named; the others go ahead; exit 1 (issue 19)
    lacking = org.members[1]
    missing = account_session(lacking, org.management).client("iam")
    missing.delete_role(RoleName="flow-logs-delivery")
    before = flow_logs(org)
    code, result, err = fix_json(capsys, *ORG, *cwl)
    assert code == 1, err
    assert list(result["cannot_fix"]) == [lacking]
    assert (
        f"delivery role arn:aws:iam::{lacking}:role/flow-logs-delivery does not exist"
        in (result["cannot_fix"][lacking])
    )
    assert {c["account"] for c in result["created"]} == set(org.accounts) - {lacking}
    assert main(["runs"]) == 0 and f"not fixed: account {lacking}: delivery role" in (
        capsys.readouterr().out
    )
    assert main(["backout", result["run_id"], "--yes", "--delete-log-groups"]) == 0
    out = capsys.readouterr().out
    assert out.count("deleted log group ") == 4 and "kept log group" not in out  # issue 19, row 8
    assert flow_logs(org) == before
    dry = ["fix", *ORG, *cwl, "--exclude-account", lacking, "--dry-run", "--output", "json"]
    assert main(dry) == 0  # leaving it out: nothing is left unfixed
    result = json.loads(capsys.readouterr().out)
    assert lacking not in result["accounts"] and not result["cannot_fix"]
    missing.create_role(
        RoleName="flow-logs-delivery", AssumeRolePolicyDocument=json.dumps(trust_policy())
    )
    code, result, err = fix_json(capsys, *ORG, *cwl)
    assert code == 0, err
    assert len(result["created"]) == 18 and len(result["log_groups_created"]) == 6
    session = account_session(org.members[0], org.management)
    made = session.client("ec2", region_name=REGIONS[0]).describe_flow_logs(
        Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [result["run_id"]]}]
    )["FlowLogs"]
    assert {fl["DeliverLogsPermissionArn"] for fl in made} == {
        f"arn:aws:iam::{org.members[0]}:role/flow-logs-delivery"
    }


# -- issue 19: what a real organization trial left behind ---------------------------------------
def test_a_lost_organization_ledger_is_backed_out_by_tag_in_every_account(org, capsys):
    """Row 3: the ledger of an organization run is lost; --from-tags --organization reaches
    every account the run may have touched, and the hint names the flags."""
    before = flow_logs(org)
    code, result, _ = fix_json(capsys, *ORG, *S3)
    assert code == 0 and {c["account"] for c in result["created"]} == set(org.accounts)
    run_id = result["run_id"]
    Ledger.open(run_id).path.unlink()
    assert main(["backout", run_id, "--yes"]) == 2
    hint = capsys.readouterr().err
    assert "--from-tags --region R" in hint and "--organization or --account-id ID" in hint
    back = ["backout", run_id, "--from-tags", *BOTH, "--role-name", ROLE, "--yes"]
    assert main([*back, "--organization", "--exclude-account", org.members[1]]) == 0
    out = capsys.readouterr().out
    assert flow_logs(org)[org.members[1]] != before[org.members[1]]  # left out on purpose
    assert main([*back, "--account-id", org.members[1]]) == 0
    assert flow_logs(org) == before, out


def test_a_member_whose_reads_are_denied_is_not_reached_never_nothing_to_fix(
    org, capsys, monkeypatch
):
    """Rows 5 and 9: a member whose EC2 reads are denied is counted as not reached, in the plan,
    the summary and `runs`."""
    denied = org.members[0]
    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        if name.startswith("Describe") and self.meta.service_model.service_name == "ec2":
            key = self._request_signer._credentials.get_frozen_credentials().access_key
            if _account_of_key(key) == denied:
                raise ClientError(
                    {"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, name
                )
        return original(self, name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    code, result, err = fix_json(capsys, *ORG, *S3)
    assert code == 1
    assert (
        f"Plan for account {denied}, regions eu-west-1, us-east-1:\n  nothing could be planned"
        in err
    )
    assert "nothing to fix" not in err.split(f"Plan for account {denied}")[1].split("Plan for")[0]
    assert "1 account(s) not reached or not read" in err
    [run] = list_runs()
    assert list(run.left_out) == [denied] and "could not be read" in run.left_out[denied]
    assert (
        main(["runs"]) == 0
        and f"not fixed: account {denied}: its flow logs" in capsys.readouterr().out
    )


def _account_of_key(access_key: str) -> str:
    """The account moto makes a request's credentials act in (an assumed role's, or the default)."""
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def test_a_second_backout_names_what_the_first_deleted(org, capsys):
    """Row 10."""
    code, result, _ = fix_json(capsys, *ORG, *S3)
    assert main(["backout", result["run_id"], "--yes"]) == 0
    capsys.readouterr()
    assert main(["backout", result["run_id"], "--yes"]) == 0
    out = capsys.readouterr().out
    assert "already gone:" not in out and "deleted outside this backout" not in out
    assert out.count("deleted by an earlier backout of the run: fl-") == len(result["created"])


def test_the_run_line_names_the_accounts_it_wrote_in(org, capsys):
    """Row 11: a run that wrote only in a member names that member, not the caller."""
    member = org.members[0]
    argv = ["fix", "--account-id", member, "--role-name", ROLE, *BOTH, *S3, "--yes"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"(account {member})" in out and f"(account {org.management})" not in out
    assert "skip " not in out or "compliant VPC(s) (PASS)" in out  # compliant ones collapsed


@pytest.mark.parametrize("shape", ["applied in part", "refused whole", "answer lost"])
def test_every_answer_shape_across_an_organization_leaves_nothing_behind(
    org, capsys, monkeypatch, shape
):
    """Issue 19, row 1, in every account of an organization: one VPC per account and region makes
    its batch come back in ``shape`` (tests/test_matrix_batch_answers.py has the single-account
    rows and the AWS references); the ledger and the tag hold every flow log made, and the
    backout removes exactly those."""
    from tests.test_matrix_batch_answers import _answer

    before = flow_logs(org)
    culprits = {sorted(org.failing[a][r])[1] for a in org.accounts for r in REGIONS}
    calls: list[list[str]] = []
    answers = {culprit: _answer(shape, culprit, calls) for culprit in culprits}
    original = botocore.client.BaseClient._make_api_call

    def call(self, name, params):
        mine = [c for c in culprits if c in params.get("ResourceIds", [])]
        return answers[mine[0]](self, name, params) if mine else original(self, name, params)

    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", call)
        code, result, _ = fix_json(capsys, *ORG, *S3, "--wait", "0")
    assert code == 1
    failed = {f["vpc_id"] for f in result["failed"]}
    created = {c["flow_log_id"] for c in result["created"]}
    if shape == "answer lost":  # the rest of a batch whose answer was lost: outcome unknown
        assert culprits <= failed
    else:
        assert failed == culprits
    assert len(created) + len(failed) == 3 * len(org.accounts) * len(REGIONS)
    events = Ledger.open(result["run_id"]).events()
    assert {e.flow_log_id for e in events if isinstance(e, FlowLogCreated)} == created
    assert tagged(org, result["run_id"]) == created and not result["untagged"]
    assert main(["backout", result["run_id"], "--yes"]) == 0
    assert flow_logs(org) == before


def test_concurrent_backouts_leave_the_root_logger_as_they_found_it(
    org, capsys, caplog, monkeypatch
):
    """Issue 21, row 2: two backouts at once, each reaching every account with several workers
    (whose Prowler providers log to the root logger), set the root logger's level only from their
    own command, never from a worker thread, and leave it as it was."""
    before = flow_logs(org)
    run_ids = []
    for region in REGIONS:
        argv = ["--organization", "--role-name", ROLE, "--region", region, *S3]
        code, result, err = fix_json(capsys, *argv)
        assert code == 0 and result["created"], err
        run_ids.append(result["run_id"])
    caplog.set_level(logging.INFO)
    root, set_level = logging.getLogger(), logging.Logger.setLevel
    setters: list[threading.Thread] = []

    def recording(self, level):
        if self is root:
            setters.append(threading.current_thread())
        set_level(self, level)

    codes: dict[str, int] = {}

    def back(run_id: str) -> None:
        codes[run_id] = main(["backout", run_id, "--yes", "--max-workers", "3"])

    commands = [threading.Thread(target=back, args=(run_id,)) for run_id in run_ids]
    with monkeypatch.context() as patch:
        patch.setattr(logging.Logger, "setLevel", recording)
        for command in commands:
            command.start()
        for command in commands:
            command.join()
    assert codes == dict.fromkeys(run_ids, 0)
    assert root.level == logging.INFO
    assert setters and set(setters) <= set(commands)  # quieted by each command, not its workers
    assert flow_logs(org) == before
