"""The opt-in knobs (retention, KMS, aggregation interval, record fields) in the pure policy and
in the config file: each knob alone, all together, invalid values; table-driven, no AWS."""

from __future__ import annotations

import pytest

from prowler_vpc_flow_logs import config, record_format
from prowler_vpc_flow_logs.facts import Destination, DestinationState, LifecycleRule
from prowler_vpc_flow_logs.knobs import NEVER_EXPIRE
from prowler_vpc_flow_logs.policy import Policy, evaluate
from tests.test_policy import ACCOUNT, GROUP, OTHER_GROUP, STREAM, VPC, log

BUCKET = Destination(kind="s3", arn="arn:aws:s3:::flow-bucket", name="flow-bucket")
PATH = f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/"
KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
CIS_FIELDS = ("srcaddr", "dstaddr", "srcport", "dstport", "protocol", "action")
NO_ACTION = "${srcaddr} ${dstaddr} ${srcport} ${protocol}"


def group(retention: int | None = None, kms: str | None = KEY) -> dict:
    return {GROUP: DestinationState(status="exists", retention_days=retention, kms_key_id=kms)}


def bucket(sse: str | None = "aws:kms", *rules: LifecycleRule, **unread: str) -> dict:
    """A bucket's state; ``unread``: fact ("encryption", "lifecycle") -> why it was not read."""
    state = DestinationState(status="exists", encryption=sse, lifecycle=list(rules), unread=unread)
    if "lifecycle" in unread:
        state.lifecycle = None
    if "encryption" in unread:
        state.encryption = None
    return {BUCKET: state}


def rule(days: int | None = 30, prefix: str = "", **kw) -> LifecycleRule:
    return LifecycleRule(id=kw.pop("id", "r"), prefix=prefix, expiration_days=days, **kw)


def s3_log(id_: str = "fl-1", traffic: str = "ALL", path: str = PATH, **kw):
    return log(id_, traffic, BUCKET, s3_key_prefix=path, **kw)


def knobs(**values) -> Policy:
    return Policy(required_traffic_type="REJECT", audited_account=ACCOUNT, **values)


RET = knobs(min_retention_days=365)
NEVER = knobs(min_retention_days=NEVER_EXPIRE)
KMS = knobs(require_kms=True)
INTERVAL = knobs(max_aggregation_interval=60)
FIELDS = knobs(required_fields=CIS_FIELDS)
ALL_KNOBS = knobs(
    min_retention_days=365,
    require_kms=True,
    max_aggregation_interval=60,
    required_fields=CIS_FIELDS,
)
ALLOWED = knobs(allowed_destinations=("arn:aws:s3:::flow-*",))
GOOD = {"max_aggregation_interval": 60}  # a flow log that meets the interval knob
DENIED = "s3:GetLifecycleConfiguration failed (AccessDenied); make sure the scanning role is allowed s3:GetLifecycleConfiguration"
ENC_DENIED = "s3:GetEncryptionConfiguration failed (AccessDenied); make sure the scanning role is allowed s3:GetEncryptionConfiguration"
R = "vpc_flow_logs_min_retention_days requires"

# (case, policy, flow logs, destination states, expected status, words in the text)
# fmt: off
CASES = [
    # retention alone: CloudWatch Logs
    ("group keeps 30 days", RET, [log()], group(30), "FAIL", [f"fl-1 log group 'flows' keeps records 30 days; {R} 365"]),
    ("group keeps 400 days", RET, [log()], group(400), "PASS", ["(required as well: records kept at least 365 days)"]),
    ("group never expires", RET, [log()], group(None), "PASS", ["ACTIVE and delivering (required as well: records kept"]),
    ("group of 3653 days under never-expire", NEVER, [log()], group(3653), "FAIL", [f"keeps records 3653 days; {R} records that never expire"]),
    ("group without retention under never-expire", NEVER, [log()], group(None), "PASS", ["(required as well: records that never expire)"]),
    ("group not looked up", RET, [log()], {GROUP: DestinationState(status="error", detail="logs:DescribeLogGroups failed (AccessDenied)")}, "UNREADABLE", ["could not be looked up: logs:DescribeLogGroups failed"]),
    # retention alone: S3 lifecycle, matched to the flow log's own path
    ("bucket expires its logs after 30 days", RET, [s3_log()], bucket(None, rule(30, id="short")), "FAIL", [f"S3 bucket 'flow-bucket' keeps records under '{PATH}' 30 days (lifecycle rule 'short'); {R} 365"]),
    ("bucket keeps them 400 days", RET, [s3_log()], bucket(None, rule(400, "AWSLogs/")), "PASS", ["required as well: records kept at least 365 days"]),
    ("no lifecycle: nothing expires", RET, [s3_log()], bucket(None), "PASS", ["capturing REJECT"]),
    ("rule for another prefix", RET, [s3_log()], bucket(None, rule(1, "other/")), "PASS", ["capturing REJECT"]),
    ("rule filtered by tags", RET, [s3_log()], bucket(None, rule(1, "", tag_filtered=True)), "PASS", ["capturing REJECT"]),
    ("disabled rule", RET, [s3_log()], bucket(None, rule(1, enabled=False)), "PASS", ["capturing REJECT"]),
    ("noncurrent-only rule", RET, [s3_log()], bucket(None, rule(None)), "PASS", ["capturing REJECT"]),
    ("rule deeper than the flow log's path", RET, [s3_log()], bucket(None, rule(7, PATH + "2024/", id="deep")), "FAIL", ["7 days (lifecycle rule 'deep')"]),
    ("shortest of several rules", RET, [s3_log()], bucket(None, rule(400, id="long"), rule(90, "AWSLogs/", id="mid")), "FAIL", ["90 days (lifecycle rule 'mid')"]),
    ("expiration by date", RET, [s3_log()], bucket(None, rule(None, expiration_date="2030-01-01", id="d")), "FAIL", [f"expires every record under '{PATH}' on 2030-01-01 (lifecycle rule 'd'); {R} 365"]),
    ("folder prefix: its rule applies", RET, [s3_log(path="team/" + PATH)], bucket(None, rule(30, "team/")), "FAIL", [f"under 'team/{PATH}' 30 days"]),
    ("folder prefix: a rule for AWSLogs/ does not", RET, [s3_log(path="team/" + PATH)], bucket(None, rule(30, "AWSLogs/")), "PASS", ["capturing REJECT"]),
    ("lifecycle unreadable", RET, [s3_log()], bucket(None, lifecycle=DENIED), "UNREADABLE", [f"fl-1 writes to S3 bucket 'flow-bucket', whose lifecycle rules could not be read: {DENIED}"]),
    ("firehose counts, cannot be judged", RET, [log(dest=STREAM)], {STREAM: DestinationState(status="exists")}, "PASS", ["fl-1 counts although the record retention of its Firehose delivery stream 'flows' in us-east-1 cannot be judged by this check"]),
    ("cross-account group counts, cannot be judged", ALL_KNOBS, [log(dest=OTHER_GROUP, **GOOD)], {OTHER_GROUP: DestinationState(status="unverifiable", detail="it belongs to account 210987654321")}, "PASS", ["cannot be checked from this account", "fl-1 counts although the record retention and KMS encryption of its CloudWatch Logs log group"]),
    # KMS alone
    ("group without a key", KMS, [log()], group(None, None), "FAIL", ["log group 'flows' is not encrypted with a KMS key; vpc_flow_logs_require_kms is true"]),
    ("group with a key", KMS, [log()], group(None), "PASS", ["(required as well: KMS encryption)"]),
    ("bucket with SSE-S3", KMS, [s3_log()], bucket("AES256"), "FAIL", ["S3 bucket 'flow-bucket' is encrypted with AES256, not KMS; vpc_flow_logs_require_kms is true"]),
    ("bucket without default encryption", KMS, [s3_log()], bucket(""), "FAIL", ["S3 bucket 'flow-bucket' has no default encryption, not KMS"]),
    ("bucket with aws:kms", KMS, [s3_log()], bucket("aws:kms"), "PASS", ["(required as well: KMS encryption)"]),
    ("bucket with aws:kms:dsse", KMS, [s3_log()], bucket("aws:kms:dsse"), "PASS", ["(required as well: KMS encryption)"]),
    ("encryption unreadable", KMS, [s3_log()], bucket(encryption=ENC_DENIED), "UNREADABLE", [f"whose default encryption could not be read: {ENC_DENIED}"]),
    ("firehose under KMS", KMS, [log(dest=STREAM)], {STREAM: DestinationState(status="exists")}, "PASS", ["fl-1 counts although the KMS encryption of its Firehose"]),
    # interval alone
    ("interval 600", INTERVAL, [log(max_aggregation_interval=600)], group(), "FAIL", ["fl-1 MaxAggregationInterval is 600 s; vpc_flow_logs_max_aggregation_interval requires 60"]),
    ("no interval means AWS's 600", INTERVAL, [log()], group(), "FAIL", ["MaxAggregationInterval is 600 s"]),
    ("interval 60", INTERVAL, [log(max_aggregation_interval=60)], group(), "PASS", ["a MaxAggregationInterval of at most 60 s"]),
    ("600 allowed", knobs(max_aggregation_interval=600), [log(max_aggregation_interval=600)], group(), "PASS", ["at most 600 s"]),
    # record fields alone
    ("format without action", FIELDS, [log(log_format=NO_ACTION)], group(), "FAIL", ["fl-1 LogFormat lacks dstport, action (vpc_flow_logs_required_fields)"]),
    ("AWS's default format has them", FIELDS, [log(log_format=None)], group(), "PASS", ["the record fields srcaddr, dstaddr, srcport, dstport, protocol, action"]),
    ("AWS's default format lacks vpc-id", knobs(required_fields=("vpc-id",)), [log()], group(), "FAIL", ["AWS's default LogFormat (the flow log has none) lacks vpc-id"]),
    ("custom format with every field", FIELDS, [log(log_format="${action} ${protocol} ${dstport} ${srcport} ${dstaddr} ${srcaddr} ${vpc-id}")], group(), "PASS", ["capturing REJECT"]),
    ("fields judged without a destination", FIELDS, [log(dest=None, log_format=NO_ACTION)], {}, "FAIL", ["has no destination that this check can read and LogFormat lacks dstport, action"]),
    # the log archive (issue 20): another account's bucket answers 403; knobs that need it are said
    ("log archive under retention and KMS counts, cannot be judged", ALL_KNOBS, [s3_log(**GOOD)], {BUCKET: DestinationState(status="forbidden", detail="not ours")}, "PASS", ["which this account may not read (403); delivery is healthy", "fl-1 counts although the record retention and KMS encryption of its S3 bucket 'flow-bucket' cannot be judged by this check"]),
    # allowed destinations alone
    ("destination allowed", ALLOWED, [s3_log()], bucket(), "PASS", ["(required as well: a destination among arn:aws:s3:::flow-*)"]),
    ("destination in a folder allowed by a wildcard", ALLOWED, [s3_log(path="team/" + PATH)], bucket(), "PASS", ["capturing REJECT"]),
    ("destination not allowed", ALLOWED, [log()], group(), "FAIL", ["fl-1 writes to arn:aws:logs:us-east-1:123456789012:log-group:flows, which vpc_flow_logs_allowed_destinations does not allow (arn:aws:s3:::flow-*)"]),
    ("a folder outside the allowed one", knobs(allowed_destinations=("arn:aws:s3:::flow-bucket/archive*",)), [s3_log(path="team/" + PATH)], bucket(), "FAIL", ["writes to arn:aws:s3:::flow-bucket/team, which vpc_flow_logs_allowed_destinations does not allow"]),
    # all together
    ("one good, one bad on the same VPC", ALL_KNOBS, [log("fl-good", **GOOD, log_format=None), s3_log("fl-bad", log_format=NO_ACTION)], {**group(None), **bucket("AES256", rule(30))}, "PASS", ["fl-good (ALL to CloudWatch Logs", "not counted: fl-bad S3 bucket 'flow-bucket' keeps records", "and S3 bucket 'flow-bucket' is encrypted with AES256, not KMS", "and MaxAggregationInterval is 600 s", "and LogFormat lacks dstport, action"]),
    ("every knob missed, each named", ALL_KNOBS, [log("fl-a"), s3_log("fl-b", log_format=NO_ACTION)], {**group(30, None), **bucket("", rule(None, expiration_date="2030-01-01"))}, "FAIL", ["fl-a log group 'flows' keeps records 30 days", "and log group 'flows' is not encrypted with a KMS key", "fl-b S3 bucket 'flow-bucket' expires every record", "has no default encryption, not KMS", "LogFormat lacks dstport, action"]),
    ("a knob read that fails and another miss: a plain FAIL", ALL_KNOBS, [s3_log()], bucket(encryption=ENC_DENIED), "FAIL", ["fl-1 MaxAggregationInterval is 600 s; vpc_flow_logs_max_aggregation_interval requires 60 and writes to S3 bucket 'flow-bucket', whose default encryption could not be read"]),
    ("good ACCEPT plus REJECT unknown under ALL: not audited", ALL_KNOBS.model_copy(update={"required_traffic_type": "ALL"}), [log("fl-a", "ACCEPT", **GOOD), s3_log("fl-r", "REJECT", **GOOD)], {**group(None), **bucket(encryption=ENC_DENIED)}, "UNREADABLE", ["fl-r writes to S3 bucket 'flow-bucket', whose default encryption could not be read"]),
    ("good ACCEPT plus bad REJECT under ALL", ALL_KNOBS.model_copy(update={"required_traffic_type": "ALL"}), [log("fl-a", "ACCEPT", **GOOD), log("fl-r", "REJECT")], group(None), "FAIL", ["(missing: REJECT)", "fl-r MaxAggregationInterval is 600 s", "fl-a records only ACCEPT"]),
    ("good ACCEPT plus good REJECT under ALL", ALL_KNOBS.model_copy(update={"required_traffic_type": "ALL"}), [log("fl-a", "ACCEPT", **GOOD), s3_log("fl-r", "REJECT", **GOOD)], {**group(None), **bucket("aws:kms", rule(400))}, "PASS", ["fl-a", "fl-r", "(required as well: records kept at least 365 days, KMS encryption, a MaxAggregationInterval of at most 60 s, the record fields srcaddr, dstaddr, srcport, dstport, protocol, action)"]),
]
# fmt: on


@pytest.mark.parametrize(
    "policy,flow_logs,states,status,words",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_knob_rules(policy, flow_logs, states, status, words):
    verdict = evaluate(VPC, flow_logs, states, policy)
    text = verdict.status_extended
    assert verdict.unreadable == (status == "UNREADABLE"), text
    assert verdict.status == status.replace("UNREADABLE", "FAIL"), text
    if status == "UNREADABLE":
        assert "could not be audited" in text, text
    for word in words:
        assert word in text, text


def test_knobs_off_ignore_what_the_probe_learned():
    """Retention, KMS, interval and format facts change nothing while the knobs are off."""
    plain = Policy(audited_account=ACCOUNT)
    facts = {**group(1, None), **bucket("AES256", rule(1))}
    logs = [log("fl-a", log_format=NO_ACTION), s3_log("fl-b")]
    bare = {GROUP: DestinationState(status="exists"), BUCKET: DestinationState(status="exists")}
    bare_logs = [log("fl-a"), log("fl-b", dest=BUCKET)]
    assert evaluate(VPC, logs, facts, plain) == evaluate(VPC, bare_logs, bare, plain)


def test_s3_reads_follow_the_knobs():
    assert Policy(audited_account=ACCOUNT).s3_reads() == frozenset()
    assert RET.s3_reads() == {"lifecycle"} and KMS.s3_reads() == {"encryption"}
    assert INTERVAL.s3_reads() == FIELDS.s3_reads() == frozenset()
    assert ALL_KNOBS.s3_reads() == {"lifecycle", "encryption"}


# -- the config file --------------------------------------------------------------------------
RK, KK, IK, FK, AK = (
    config.MIN_RETENTION_KEY,
    config.REQUIRE_KMS_KEY,
    config.MAX_INTERVAL_KEY,
    config.REQUIRED_FIELDS_KEY,
    config.ALLOWED_DESTINATIONS_KEY,
)
MUST = {
    RK: "records must never expire because {key} is {said} in the Prowler config file; it must be a whole number of days, 1 or more",
    KK: "KMS encryption is required because {key} is {said} in the Prowler config file; it must be true or false",
    IK: "a MaxAggregationInterval of 60 s is required because {key} is {said} in the Prowler config file; it must be 60 or 600",
    FK: "every record field AWS knows is required because {key} is {said} in the Prowler config file; it must be a list of flow log record field names",
    AK: "no destination is allowed because {key} is {said} in the Prowler config file; it must be a list of destination ARN patterns",
}
ATTRIBUTE = {
    RK: "min_retention_days",
    KK: "require_kms",
    IK: "max_aggregation_interval",
    FK: "required_fields",
    AK: "allowed_destinations",
}
STRICTEST = {RK: NEVER_EXPIRE, KK: True, IK: 60, FK: record_format.FIELDS, AK: ()}

# (key, value in the file, the knob's value, None when valid or what the note shows)
# fmt: off
CONFIG = [
    (RK, 365, 365, None), (RK, 1, 1, None), (RK, 0, NEVER_EXPIRE, "0"), (RK, -5, NEVER_EXPIRE, "-5"),
    (RK, True, NEVER_EXPIRE, "True"), (RK, "365", NEVER_EXPIRE, "'365'"), (RK, None, NEVER_EXPIRE, "empty"),
    (RK, 36.5, NEVER_EXPIRE, "36.5"),
    (KK, True, True, None), (KK, False, False, None), (KK, "yes", True, "'yes'"), (KK, None, True, "empty"),
    (KK, 1, True, "1"),
    (IK, 60, 60, None), (IK, 600, 600, None), (IK, 120, 60, "120"), (IK, "60", 60, "'60'"), (IK, True, 60, "True"),
    (FK, ["srcaddr", "action"], ("srcaddr", "action"), None), (FK, ["action", "action"], ("action",), None),
    (FK, ["action", "bogus"], record_format.FIELDS, "['action', 'bogus'] ('bogus' is not a field AWS knows)"),
    (FK, ["x", 3], record_format.FIELDS, "['x', 3] ('x', 3 are not fields AWS knows)"), (FK, "action", record_format.FIELDS, "'action'"),
    (FK, [], record_format.FIELDS, "[]"), (FK, None, record_format.FIELDS, "empty"),
    (AK, ["arn:aws:s3:::archive*"], ("arn:aws:s3:::archive*",), None), (AK, "arn:aws:s3:::a", (), "'arn:aws:s3:::a'"),
    (AK, ["archive"], (), "['archive']"), (AK, [], (), "[]"),
]
# fmt: on


@pytest.mark.parametrize("key,raw,value,said", CONFIG)
def test_config_knob_values(key, raw, value, said):
    audit_config = {key: raw}
    policy = config.policy(audit_config, ACCOUNT)
    assert getattr(policy, ATTRIBUTE[key]) == value
    note = config.strictest_note(audit_config)
    if said is None:
        assert note == "" and config.problems(audit_config) == []
    else:
        assert note.startswith(MUST[key].format(key=key, said=said)), note
        assert value == STRICTEST[key]
        assert config.problems(audit_config) == [note.split(" because ", 1)[1]]
    assert policy.required_traffic_type == "REJECT"  # the other knobs keep their defaults


def test_every_knob_is_off_by_default():
    policy = config.policy({}, ACCOUNT)
    assert (policy.min_retention_days, policy.require_kms) == (None, False)
    assert (policy.max_aggregation_interval, policy.required_fields) == (None, None)
    assert policy.allowed_destinations is None
    assert policy == config.policy(None, ACCOUNT) and policy.note == ""


def test_every_invalid_knob_is_said_in_one_note():
    audit_config = {config.TRAFFIC_TYPE_KEY: "x", RK: "x", KK: "x", IK: "x", FK: "x"}
    note = config.policy(audit_config, ACCOUNT).note
    assert note.startswith(
        "ALL traffic is required because vpc_flow_logs_required_traffic_type is 'x'"
    )
    assert len(config.problems(audit_config)) == 5
    for key in (RK, KK, IK, FK):
        assert MUST[key].format(key=key, said="'x'") in note
    verdict = evaluate(VPC, [], {}, config.policy(audit_config, ACCOUNT))
    assert verdict.status_extended.endswith(f" ({note}.)")
