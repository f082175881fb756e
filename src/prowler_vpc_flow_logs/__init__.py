"""A precise ``vpc_flow_logs_enabled`` check for Prowler, with an exact fix and backout."""

from importlib.util import find_spec
from pathlib import Path

__version__ = "0.1.0"

CHECK_ID = "vpc_flow_logs_enabled"
# Prowler loads this check id only from this folder of its own tree (activation.py).
CHECK_FOLDER = f"prowler/providers/aws/services/vpc/{CHECK_ID}"
# The check's files in this package (checks/vpc_flow_logs_enabled/, wheel or editable install).
OUR_CHECK_DIR = Path(find_spec(f"{__name__}.check").submodule_search_locations[0])
