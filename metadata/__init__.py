"""Compliance-framework JSON that Prowler loads through the ``prowler.compliance`` entry point.

``cis_controls_7.1_aws.json`` maps ``vpc_flow_logs_enabled`` to CIS Controls v7.1
6.2 and 12.5 in Prowler's legacy schema, which is what fills a finding's
``compliance`` field; ``universal/`` holds the same framework in Prowler's universal
schema for the ``--compliance`` table and CSV.

Prowler imports this package at the start of every run, so it is also where a run learns that
the plug-in is installed but its check is not active: it says so once, as a CRITICAL line
Prowler shows without ``--log-level``.
"""

import sys
from pathlib import Path


def _in_a_prowler_scan() -> bool:
    """This process is the `prowler` command (or `python -m prowler`) for AWS, without -x (a
    `prowler -x checks/` run brings our check itself)."""
    start = Path(sys.argv[0] if sys.argv else "")
    if "prowler" not in (start.name, start.parent.name):
        return False
    args = sys.argv[1:]
    if {"-x", "--checks-folder"} & set(args):
        return False
    return not args or args[0].startswith("-") or args[0] == "aws"


def _warn_when_inactive() -> None:
    """Never raises: Prowler loads this framework from the import, and a failure would lose it."""
    try:
        if not _in_a_prowler_scan():
            return
        from prowler_vpc_flow_logs.activation import inactive_warning

        warning = inactive_warning()
        if warning:
            from prowler.lib.logger import logger

            logger.critical(warning)
    except Exception:  # a warning is never worth the framework
        return


_warn_when_inactive()
