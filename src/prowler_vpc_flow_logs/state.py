"""Where the plug-in keeps its state (XDG base-directory conventions)."""

from __future__ import annotations

import os
from pathlib import Path

APP = "prowler-vpc-flow-logs"


def state_dir() -> Path:
    """``$VPC_FLOW_LOGS_STATE_DIR``, else ``$XDG_STATE_HOME/prowler-vpc-flow-logs``, else ``~/.local/state/...``."""
    override = os.environ.get("VPC_FLOW_LOGS_STATE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP
