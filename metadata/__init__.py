"""Compliance-framework JSON that Prowler loads through the ``prowler.compliance`` entry point:
``cis_controls_7.1_aws.json`` (legacy schema) maps vpc_flow_logs_enabled to CIS Controls v7.1 6.2
and 12.5 in each finding's ``compliance``; ``universal/`` holds it for ``--compliance`` tables and
CSV. Prowler imports this package at the start of every run: an AWS scan learns here, in a CRITICAL
line shown without ``--log-level``, that the plug-in is installed but its check is not active.
"""

import contextlib
import sys
from pathlib import Path


def _in_a_prowler_scan() -> bool:
    """This process is `prowler` (or `python -m prowler`) for AWS, without -x (which brings our
    check itself)."""
    start = Path(sys.argv[0] if sys.argv else "")
    if "prowler" not in (start.name, start.parent.name):
        return False
    args = sys.argv[1:]
    if {"-x", "--checks-folder"} & set(args):
        return False
    return not args or args[0].startswith("-") or args[0] == "aws"


def _warn_when_inactive() -> None:
    """Never raises: Prowler loads this framework from the import, and a failure would lose it."""
    with contextlib.suppress(Exception):
        if _in_a_prowler_scan():
            from prowler.lib.logger import logger

            from prowler_vpc_flow_logs.activation import inactive_warning

            if warning := inactive_warning():
                logger.critical(warning)


_warn_when_inactive()
