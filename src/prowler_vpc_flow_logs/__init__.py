"""A precise ``vpc_flow_logs_enabled`` check for Prowler, with an exact fix and backout."""

__version__ = "0.1.0"

CHECK_ID = "vpc_flow_logs_enabled"
