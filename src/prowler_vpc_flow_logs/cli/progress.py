"""Progress of a fix run on stderr: accounts done out of total, flow logs created, failures so
far (with alive-progress, the bar Prowler itself uses), and one line per VPC that failed."""

from __future__ import annotations

import sys
import threading

from prowler_vpc_flow_logs.remediation.batches import Outcome
from prowler_vpc_flow_logs.remediation.models import FixPlan


class RunProgress:
    """``with RunProgress(fix_plan) as progress: run_fix(..., progress=progress)``."""

    def __init__(self, fix_plan: FixPlan) -> None:
        self.labels = {(f.account, f.vpc_id): f.label for f in fix_plan.fixes}
        self.places_left = {p.account: len(p.work_regions) for p in fix_plan.plans if p.fixes}
        self.created = self.failed = 0
        self.lock = threading.Lock()

    def __enter__(self) -> RunProgress:
        from alive_progress import alive_bar

        options = {"file": sys.stderr, "title": "accounts", "enrich_print": False, "stats": False}
        self._context = alive_bar(len(self.places_left), **options)
        self._bar = self._context.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._context.__exit__(*exc)

    def batch(self, account: str, region: str, outcome: Outcome) -> None:
        with self.lock:
            self.created += len(outcome.created)
            self.failed += len(outcome.failed)
            for failed in outcome.failed:
                label = self.labels.get((account, failed.vpc_id), failed.vpc_id)
                line = f"FAILED for {label} in {region}: {failed.code}: {failed.message}"
                print(line, file=sys.stderr)
            self._bar.text(f"{self.created} flow log(s) created, {self.failed} failed")

    def place_done(self, account: str, region: str) -> None:
        with self.lock:
            self.places_left[account] -= 1
            if self.places_left[account] == 0:
                self._bar()
