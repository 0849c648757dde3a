# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""What the grafana scenario's two test files share: its playbook, its
inventory and the Grafana stand-in's two versions."""

from __future__ import annotations

import os
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
# A host left fresh for check mode (check mode leaves it fresh).
FRESH = "vmstack-grafana-fresh"
GROUPS = {"victoria_metrics": ["vm-1.example.invalid"]}
OLD_VERSION = os.environ.get("VMSTACK_GRAFANA_VERSION_OLD", "11.6.3-stand-in")
NEW_VERSION = os.environ.get("VMSTACK_GRAFANA_VERSION_NEW", "11.6.4-stand-in")
