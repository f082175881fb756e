"""Fix and backout for VPC flow logs: plan, apply, record, undo."""
