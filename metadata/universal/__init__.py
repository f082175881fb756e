"""``cis_controls_7.1_aws`` in Prowler's universal schema (``prowler.compliance.universal``), from
which Prowler renders the ``--compliance`` table and CSV; the legacy file one folder up puts the
mapping into every finding. Both list the same requirements (tests/test_compliance.py)."""
