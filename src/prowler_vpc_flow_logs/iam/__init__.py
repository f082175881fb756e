"""Least-privilege IAM policies (JSON) for the check, the fix and the backout."""
