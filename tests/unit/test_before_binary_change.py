# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Which hosts compare their binaries before an upgrade: `before_binary_change.when`
of the VictoriaMetrics and vmstorage services, templated as the install step
templates it, in a play where vmbackup's defaults are not loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytest.importorskip("ansible")

from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.template import Templar  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SERVICES = {
    "victoria_metrics": "__victoria_metrics_service",
    "vmstorage": "__vmstorage_service",
}


def when_of(role: str) -> str:
    service = yaml.safe_load((REPO / "roles" / role / "vars" / "main.yml").read_text())[SERVICES[role]]
    return service["before_binary_change"]["when"]


def evaluate(expression: str, variables: dict) -> bool:
    try:  # ansible-core 2.19 templates only text marked as trusted
        from ansible.template import trust_as_template
        expression = trust_as_template(expression)
    except ImportError:
        pass
    return Templar(loader=DataLoader(), variables=variables).template(expression) in (True, "True")


@pytest.mark.parametrize("role", sorted(SERVICES))
@pytest.mark.parametrize(("variables", "expected"), [
    ({}, False),
    ({"vmbackup_destination_base": ""}, False),
    ({"vmbackup_destination_base": "fs:///var/backups/vm"}, True),
    ({"vmbackup_destination_base": "s3://bucket/vm", "vmbackup_before_upgrade": False}, False),
    ({"vmbackup_destination_base": "fs:///var/backups/vm", "vmbackup_enabled": False}, False),
    ({"vmbackup_destination_base": "fs:///var/backups/vm", "vmbackup_enabled": "false"}, False),
    ({"vmbackup_enabled": True}, True),
], ids=["nothing-set", "empty-destination", "destination", "before-upgrade-off", "enabled-false",
        "enabled-false-as-text", "enabled-without-destination"])
def test_only_a_host_that_backs_up_before_an_upgrade_compares_its_binaries(role, variables, expected):
    assert evaluate(when_of(role), variables) is expected


def test_the_install_step_reads_the_when_field():
    install = (REPO / "roles" / "common" / "tasks" / "install.yml").read_text()
    assert "common_service.before_binary_change.when | default(true) | bool" in install
