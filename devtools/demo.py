"""`make demo`: a small estate on a local moto server, scanned by the real `prowler` with our check.

Starts moto on 127.0.0.1 (a free port), seeds one VPC per case of the policy in two
regions, runs `prowler aws --checks vpc_flow_logs_enabled`, prints each VPC's verdict
and reason next to what the built-in rule ("any flow log exists") would have said,
shows one VPC judged again under the strict config of the opt-in knobs
(examples/strict_config.yaml), then (when present) goes on with the remediation demo.
Exits non-zero if a verdict differs from the policy's expectation.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import textwrap
from pathlib import Path

from devtools.estate import EXPECTED, REGION_A, REGION_B, Estate, seed_policy_estate
from devtools.knob_estate import STRICT_CONFIG
from devtools.moto_server import MotoServer
from devtools.prowler_cli import ProwlerRun, run_prowler

REGIONS = ["-f", REGION_A, REGION_B]


def builtin_rule(client, estate: Estate) -> dict[str, str]:
    """What Prowler's built-in check decides: PASS when any flow log names the VPC."""
    logged = {
        fl["ResourceId"]
        for region in (REGION_A, REGION_B)
        for fl in client("ec2", region).describe_flow_logs()["FlowLogs"]
    }
    return {vpc_id: "PASS" if vpc_id in logged else "FAIL" for vpc_id in estate.vpcs.values()}


def print_verdicts(run: ProwlerRun, estate: Estate, builtin: dict[str, str] | None = None) -> None:
    names = {vpc_id: name for name, vpc_id in estate.vpcs.items()}
    width = max(len(n) for n in names.values())
    header = f"{'VPC (Name tag)':<{width}}  {'ours':<6}" + ("  built-in" if builtin else "")
    print(header)
    print("-" * len(header))
    for vpc_id, finding in sorted(
        run.by_resource().items(), key=lambda kv: names.get(kv[0], kv[0])
    ):
        status = finding["status_code"] + ("*" if finding["status"] == "Suppressed" else "")
        line = f"{names.get(vpc_id, vpc_id):<{width}}  {status:<6}"
        if builtin:
            line += f"  {builtin.get(vpc_id, '-'):<8}"
        print(line)
        reason = finding["status_detail"]
        print(textwrap.indent(textwrap.fill(reason, 100), "    "))


STRICT_CASE = "all-to-log-group"  # passes by default; its log group has no KMS key, interval 600 s
STRICT_WORDS = ("vpc_flow_logs_require_kms is true", "MaxAggregationInterval is 600 s")


def strict_section(env: dict[str, str], estate: Estate, default: ProwlerRun, out: Path) -> bool:
    """One VPC judged again under examples/strict_config.yaml; True when it fails as it should."""
    config = "examples/strict_config.yaml"
    print(f"\n==== The opt-in knobs: VPC {STRICT_CASE} under {config} ====")
    print(textwrap.indent(STRICT_CONFIG.read_text().split("aws:", 1)[1].strip("\n"), "  "))
    print(f"\n$ prowler aws --checks vpc_flow_logs_enabled -f {REGION_A} --config-file {config}\n")
    args = [
        "--checks",
        "vpc_flow_logs_enabled",
        "-f",
        REGION_A,
        "--config-file",
        str(STRICT_CONFIG),
    ]
    strict = run_prowler(args, env, out, "strict")
    vpc_id = estate.vpcs[STRICT_CASE]
    for label, run in (("default config", default), ("strict config", strict)):
        finding = run.by_resource().get(vpc_id, {})
        print(f"{label}: {finding.get('status_code', 'no finding')}")
        print(textwrap.indent(textwrap.fill(finding.get("status_detail", ""), 100), "    "))
    text = strict.by_resource().get(vpc_id, {}).get("status_detail", "")
    return strict.statuses().get(vpc_id) == "FAIL" and all(w in text for w in STRICT_WORDS)


ARCHIVE, MEMBER = "demo-log-archive", "210987654321"
READER = "arn:aws:iam::123456789012:role/log-archive-reader"


def log_archive_section(server: MotoServer, env: dict[str, str], out: Path) -> bool:
    """A member account writes to a log-archive bucket of another account (the demo's default
    account), which it may not read; its VPC judged without and with the archive's read role.
    True when the verdicts are the expected ones."""
    import boto3

    from devtools.aws_boundary import log_archive_policy

    print("\n==== A member account and a log-archive bucket of another account ====")
    s3 = server.client("s3")
    s3.create_bucket(Bucket=ARCHIVE)
    s3.put_bucket_policy(Bucket=ARCHIVE, Policy=log_archive_policy(ARCHIVE))
    s3.put_bucket_lifecycle_configuration(
        Bucket=ARCHIVE,
        LifecycleConfiguration={
            "Rules": [{"ID": "90d", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 90}}]
        },
    )
    server.client("iam").create_role(RoleName="log-archive-reader", AssumeRolePolicyDocument="{}")
    creds = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/scan", RoleSessionName="demo"
    )["Credentials"]
    member = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name=REGION_A,
    )  # fmt: skip
    ec2 = member.client("ec2", endpoint_url=server.url)
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.60.0.0/24")["Subnet"]["SubnetId"]
    ec2.create_network_interface(SubnetId=subnet)
    ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
        LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{ARCHIVE}",
    )  # fmt: skip
    results = {}
    for label, roles in (("without the archive's read role", ""), ("with it", f"['{READER}']")):
        config = out / f"archive-{bool(roles)}.yaml"
        extra = f"\n  vpc_flow_logs_destination_roles: {roles}" if roles else ""
        config.write_text(f"aws:\n  vpc_flow_logs_min_retention_days: 365{extra}\n")
        print(f"\n$ prowler aws -R arn:aws:iam::{MEMBER}:role/scan ... # {label}")
        print(textwrap.indent(config.read_text(), "    "))
        args = ["-R", f"arn:aws:iam::{MEMBER}:role/scan", "--checks", "vpc_flow_logs_enabled",
                "-f", REGION_A, "--config-file", str(config)]  # fmt: skip
        found = run_prowler(args, env, out, f"archive-{bool(roles)}").by_resource().get(vpc, {})
        results[label] = found.get("status_code")
        print(f"{found.get('status_code', 'no finding')}")
        print(textwrap.indent(textwrap.fill(found.get("status_detail", ""), 100), "    "))
    return results == {"without the archive's read role": "PASS", "with it": "FAIL"}


def main() -> int:
    server = MotoServer().start()
    try:
        env = server.env()
        client = server.client
        print(
            f"moto server on {server.url}; seeding the demo estate in {REGION_A} and {REGION_B}..."
        )
        estate = seed_policy_estate(client)
        with tempfile.TemporaryDirectory() as tmp:
            print("\n$ prowler aws --checks vpc_flow_logs_enabled -f us-east-1 eu-west-1\n")
            run = run_prowler(
                ["--checks", "vpc_flow_logs_enabled", *REGIONS], env, Path(tmp), "demo"
            )
            if not run.findings:
                print(run.output[-4000:], file=sys.stderr)
                print("demo: prowler produced no findings", file=sys.stderr)
                return 1
            print_verdicts(run, estate, builtin_rule(client, estate))
            expected = estate.expected("REJECT")
            wrong = {v: s for v, s in run.statuses().items() if expected.get(v) != s}
            skipped = [n for n, (_, verdict, _) in EXPECTED.items() if verdict is None]
            print(
                f"\n{len(run.findings)} VPCs reported; not reported (no network interfaces, "
                f"use --scan-unused-services): {', '.join(skipped)} and the default VPCs."
            )
            if wrong:
                print(f"demo: unexpected verdicts: {wrong}", file=sys.stderr)
                return 1
            if not strict_section(env, estate, run, Path(tmp)):
                print(
                    f"demo: {STRICT_CASE} does not fail as expected under the strict config",
                    file=sys.stderr,
                )
                return 1
            if not log_archive_section(server, env, Path(tmp)):
                print("demo: the log-archive verdicts are not the expected ones", file=sys.stderr)
                return 1
            if importlib.util.find_spec("devtools.demo_remediation"):
                from devtools.demo_remediation import run_remediation_demo

                run_remediation_demo(server, env, estate)
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
