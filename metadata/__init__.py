"""Compliance-framework JSON files that Prowler loads through the ``prowler.compliance`` entry point."""
