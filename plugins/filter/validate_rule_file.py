# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmstack.monitoring.validate_rule_file filter; see validate_rule_file.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, Finding
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import DEFAULT_VM_VERSION
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import plugin_module

display = Display()


def validate_rule_file(text: str, vm_version: str = DEFAULT_VM_VERSION, strict: bool = False, name: str = "rule file") -> str:
    """Returns `text` unchanged when vmalert would load it; fails the task otherwise."""
    if not isinstance(text, str):
        raise AnsibleFilterError(
            f"validate_rule_file expects the text of a rule file, got {type(text).__name__}; "
            "pass lookup('ansible.builtin.file', path) or the result of a template lookup"
        )
    try:
        # Imported when called: plugin_utils/filter_errors.py says why.
        findings = plugin_module("plugin_utils.vmrules.checker").validate_rule_file(text, vm_version=str(vm_version))
    except ValueError as err:
        raise AnsibleFilterError(f"validate_rule_file: {err}") from err
    blocking = [finding for finding in findings if finding.severity == ERROR or strict]
    if blocking:
        raise AnsibleFilterError(_failure_message(name, blocking))
    finding_text = plugin_module("plugin_utils.vmrules.report").finding_text
    for finding in findings:
        display.warning(f"{name}: {finding_text(finding)}")
    return text


def _failure_message(name: str, findings: list[Finding]) -> str:
    # Every problem at once, so one run shows all that needs fixing.
    lines = [f"{name} would be refused by vmalert ({len(findings)} problem(s)):"]
    finding_text = plugin_module("plugin_utils.vmrules.report").finding_text
    lines.extend(f"  - {finding_text(finding)}" for finding in findings)
    return "\n".join(lines)


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, object]:
        return {"validate_rule_file": validate_rule_file}
