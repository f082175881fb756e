"""What an AWS error means to us: its code and message, and which codes say "denied" or "throttled"."""

from __future__ import annotations

from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

# Codes with which AWS refuses a call for lack of permission.
DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403", "Forbidden"}
)

# Codes with which S3 and the other services say a resource does not exist.
NOT_FOUND_CODES = frozenset(
    {"404", "NoSuchBucket", "NotFound", "ResourceNotFoundException", "NoSuchEntity"}
)

# What botocore's standard retry mode retries as throttling.
_THROTTLED = ThrottledRetryableChecker()


def throttled(code: str) -> bool:
    """Whether ``code`` says AWS throttled the call: botocore's own verdict, or "503" (an S3 HEAD
    answer has no body, so a SlowDown reaches botocore as its status code only)."""
    context = RetryContext(attempt_number=1, parsed_response={"Error": {"Code": code}})
    return code == "503" or _THROTTLED.is_retryable(context)


def error_code(error: Exception) -> str:
    """A ClientError's code, else the exception's class name (for BotoCoreError and others)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return error.__class__.__name__


def error_message(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message", "")) or str(error)
    return str(error)


def advice(action: str, code: str) -> str:
    """What to do about a failed read: wait for throttling, else grant the action."""
    if throttled(code):
        return (
            "AWS throttled it beyond botocore's retries; run the scan again, or raise "
            "--aws-retries-max-attempts"
        )
    return f"make sure the scanning role is allowed {action}"
