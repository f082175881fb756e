"""Universal-format twin of ``cis_controls_7.1_aws`` (loaded through ``prowler.compliance.universal``).

Prowler renders the ``--compliance`` table and CSV of a framework from its universal
form when one exists; the legacy file one folder up is what puts the mapping into
every finding (CSV, OCSF, ASFF). Both list the same requirements (tests/test_compliance.py).
"""
