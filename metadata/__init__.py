"""Compliance-framework JSON that Prowler loads through the ``prowler.compliance`` entry point.

``cis_controls_7.1_aws.json`` maps ``vpc_flow_logs_enabled`` to CIS Controls v7.1
6.2 and 12.5 in Prowler's legacy schema, which is what fills a finding's
``compliance`` field; ``universal/`` holds the same framework in Prowler's universal
schema for the ``--compliance`` table and CSV.
"""
