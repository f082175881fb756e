"""moto, answering as AWS does at the account boundary (tests, demo and benchmark run through it).

moto 5.2.5 serves another account's bucket as if it were the caller's own. AWS does not, and the
log-archive design most organizations use (every account's flow logs in one bucket of a separate
account) depends on it. While ``boundary()`` is active, moto's in-process handlers (``mock_aws``
and the threaded moto server alike) follow these rules:

1. S3 reads across accounts: HeadBucket, GetBucketEncryption and GetBucketLifecycleConfiguration
   on a bucket of another account answer 403 AccessDenied unless its bucket policy allows that
   account the action (s3:ListBucket for HeadBucket); a bucket that does not exist answers 404.
   ``ExpectedBucketOwner`` that is not the bucket's owner answers 403. (Amazon S3 User Guide,
   "Bucket owner granting cross-account bucket permissions" and "Verifying bucket ownership with
   bucket owner condition"; S3 API Reference, HeadBucket.)
2. CloudWatch Logs across accounts: a log group of another account named by its ARN
   (``logGroupIdentifier(s)``) cannot be read: AccessDeniedException. (CloudWatch Logs API
   Reference: cross-account reads need a sharing link or the owner's role.)
3. CreateFlowLogs to another account's bucket: unless the bucket policy allows the log delivery
   service (``delivery.logs.amazonaws.com``) s3:PutObject, each resource comes back in
   ``Unsuccessful`` with HTTP 200, as AWS answers ("Access Denied for LogDestination"). (VPC User
   Guide, "Amazon S3 bucket permissions for flow logs"; EC2 API Reference, CreateFlowLogs.)

4. A bucket that does not exist answers 404 to HeadBucket, whatever the caller may do (S3 API
   Reference, HeadBucket: 404 Not Found); moto's IAM enforcement would answer 403 first.

Bucket policies are read for what these rules need: Allow and Deny statements, their principals
(``*``, an account id, ``arn:aws:iam::ACCOUNT:root`` or any principal of that account, a service)
and actions (with ``*`` wildcards); conditions and resources are not evaluated (the tests give
policies whose resources name the bucket).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from moto.core.exceptions import JsonRESTError
from moto.ec2.models.flow_logs import FlowLogsBackend
from moto.logs.responses import LogsResponse
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response

from prowler_vpc_flow_logs.destinations import bucket_name

DELIVERY_SERVICE = "delivery.logs.amazonaws.com"
# The S3 action behind each read the check makes, as a bucket policy must name it.
S3_READS = {
    "head_bucket": "s3:ListBucket",
    "get_bucket_encryption": "s3:GetEncryptionConfiguration",
    "get_bucket_lifecycle": "s3:GetLifecycleConfiguration",
}


MOTO_ALONE = {name: getattr(S3Response, name) for name in S3_READS}  # what moto answers itself


def owner_of(bucket: str) -> str | None:
    """The account that owns ``bucket`` in moto (None when there is no such bucket)."""
    found = s3_backends.bucket_accounts.get(bucket)
    return found[1] if found else None


def _policy(bucket: str) -> dict:
    partition, account = s3_backends.bucket_accounts[bucket]
    raw = s3_backends[account][partition].buckets[bucket].policy
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal, account: str | None, service: str | None) -> bool:
    if principal == "*":
        return account is not None
    if not isinstance(principal, dict):
        return False
    if service is not None:
        return service in _listed(principal.get("Service", []))
    for entry in _listed(principal.get("AWS", [])):
        if entry == "*" or entry == account or f":iam::{account}:" in str(entry):
            return True
    return False


def allows(
    bucket: str, action: str, account: str | None = None, service: str | None = None
) -> bool:
    """The bucket policy allows ``action`` to ``account`` (or to the AWS ``service``), and no
    statement denies it."""
    verdict = False
    for statement in _listed(_policy(bucket).get("Statement", [])):
        actions = [str(a) for a in _listed(statement.get("Action", []))]
        if not any(fnmatch.fnmatchcase(action, a) for a in actions):
            continue
        if not _principal_matches(statement.get("Principal"), account, service):
            continue
        if statement.get("Effect") == "Deny":
            return False
        verdict = verdict or statement.get("Effect") == "Allow"
    return verdict


def _access_denied(response: S3Response, method: str):
    """403 for a read across the account boundary the bucket policy does not allow (rule 1)."""
    bucket = response.bucket_name
    owner = owner_of(bucket)
    if owner is None:
        return None  # moto answers 404 NoSuchBucket itself
    expected = response.headers.get("x-amz-expected-bucket-owner")
    if expected and expected != owner:
        return 403
    caller = response.current_account
    if caller != owner and not allows(bucket, S3_READS[method], account=caller):
        return 403
    return None


def _guarded_s3(method: str):
    original = getattr(S3Response, method)

    def guarded(self: S3Response, *args, **kwargs):
        if _access_denied(self, method):
            if method == "head_bucket":
                return 403, {}, ""  # HEAD has no body: the status alone says it
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                "<Message>Access Denied</Message></Error>"
            )
            return 403, {"content-type": "application/xml"}, body
        return original(self, *args, **kwargs)

    return guarded


def _guarded_logs(method: str):
    original = getattr(LogsResponse, method)

    def guarded(self: LogsResponse, *args, **kwargs):
        named = [self._get_param("logGroupIdentifier"), self._get_param("resourceArn")]
        named += list(self._get_param("logGroupIdentifiers") or [])
        caller = self.current_account
        for identifier in filter(None, named):
            parts = str(identifier).split(":")
            if len(parts) > 4 and parts[4] and parts[4] != caller:  # rule 2
                raise JsonRESTError(
                    "AccessDeniedException",
                    f"User is not authorized to read log group {identifier}",
                )
        return original(self, *args, **kwargs)

    return guarded


_ORIGINAL_AUTHORIZE = S3Response._authenticate_and_authorize_s3_action


def _authorize(self: S3Response, bucket_name: str | None = None, key_name: str | None = None):
    """Rule 4: no IAM decision for a bucket that does not exist; the handler answers 404."""
    if bucket_name and key_name is None and owner_of(bucket_name) is None:
        return None
    return _ORIGINAL_AUTHORIZE(self, bucket_name=bucket_name, key_name=key_name)


_ORIGINAL_CREATE = FlowLogsBackend.create_flow_logs


def _create_flow_logs(self, resource_type, resource_ids, traffic_type, deliver_logs_permission_arn,
                      log_destination_type, log_destination, log_group_name, log_format,
                      max_aggregation_interval):  # fmt: skip
    """Rule 3: another account's bucket must allow the log delivery service to write."""
    if log_destination_type == "s3" and log_destination:
        bucket = bucket_name(log_destination)
        owner = owner_of(bucket)
        if (
            owner is not None
            and owner != self.account_id
            and not allows(bucket, "s3:PutObject", service=DELIVERY_SERVICE)
        ):
            message = f"Access Denied for LogDestination: {bucket}. Please check LogDestination permission"
            return [], [(resource_id, "400", message) for resource_id in resource_ids]
    return _ORIGINAL_CREATE(
        self, resource_type, resource_ids, traffic_type, deliver_logs_permission_arn,
        log_destination_type, log_destination, log_group_name, log_format, max_aggregation_interval,
    )  # fmt: skip


@contextmanager
def boundary() -> Iterator[None]:
    """moto answering as AWS does at the account boundary (rules 1 to 4), until the block ends."""
    patches = [mock.patch.object(S3Response, name, _guarded_s3(name)) for name in S3_READS]
    patches += [
        mock.patch.object(LogsResponse, name, _guarded_logs(name))
        for name in ("describe_log_groups", "list_tags_for_resource")
        if hasattr(LogsResponse, name)
    ]
    patches.append(mock.patch.object(FlowLogsBackend, "create_flow_logs", _create_flow_logs))
    patches.append(
        mock.patch.object(S3Response, "_authenticate_and_authorize_s3_action", _authorize)
    )
    for patch in patches:
        patch.start()
    try:
        yield
    finally:
        for patch in reversed(patches):
            patch.stop()


def log_archive_policy(bucket: str, readers: list[str] | None = None) -> str:
    """The bucket policy of a log-archive bucket: the log delivery service may write (and read the
    ACL), as the VPC User Guide gives it; ``readers`` (accounts or role ARNs) may also read what the
    check reads. Without readers, members can deliver and not read, as in Control Tower."""
    arn = f"arn:aws:s3:::{bucket}"
    statements = [
        {
            "Sid": "AWSLogDeliveryWrite",
            "Effect": "Allow",
            "Principal": {"Service": DELIVERY_SERVICE},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/AWSLogs/*",
        },
        {
            "Sid": "AWSLogDeliveryAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": DELIVERY_SERVICE},
            "Action": "s3:GetBucketAcl",
            "Resource": arn,
        },
    ]
    if readers:
        statements.append(
            {
                "Sid": "TheScanMayRead",
                "Effect": "Allow",
                "Principal": {"AWS": readers},
                "Action": sorted(set(S3_READS.values())),
                "Resource": [arn, f"{arn}/*"],
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
