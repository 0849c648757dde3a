# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmstack.monitoring.validate_scrape_config filter; see validate_scrape_config.yml."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import Finding, format_finding
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import DEFAULT_VM_VERSION
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.filter_errors import plugin_module

display = Display()


def _plain_data(value: Any) -> Any:
    """Copy Ansible's tagged/unsafe containers and strings into plain Python types.

    yaml.safe_dump refuses subclasses of str and dict, which is what
    templated values are.
    """
    if isinstance(value, Mapping):
        return {_plain_data(key): _plain_data(item) for key, item in value.items()}
    if isinstance(value, (str, bytes)):
        return str(value) if isinstance(value, str) else value.decode("utf-8", errors="replace")
    if isinstance(value, Sequence):
        return [_plain_data(item) for item in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _config_text(config: Any) -> str:
    if isinstance(config, str):
        return str(config)
    if isinstance(config, Mapping):
        return yaml.safe_dump(_plain_data(config), default_flow_style=False, sort_keys=False)
    raise AnsibleFilterError(
        f"validate_scrape_config expects the config as YAML text or as a dict, got {type(config).__name__}"
    )


def _failure_message(name: str, errors: list[Finding]) -> str:
    # Every error at once, so that one run shows all there is to fix.
    lines = [f"{name} would be refused by VictoriaMetrics ({len(errors)} error(s)):"]
    lines.extend(f"  - {format_finding(finding, name)}" for finding in errors)
    return "\n".join(lines)


def validate_scrape_config(
    config: Any,
    vm_version: str = DEFAULT_VM_VERSION,
    strict: bool = True,
    warnings: bool = True,
    disabled_warnings: Sequence[str] = (),
    fail_on_warnings: bool = False,
    base_dir: str | None = None,
    name: str = "scrape config",
) -> Any:
    """Return ``config`` unchanged when VictoriaMetrics would accept it; fail the task otherwise."""
    text = _config_text(config)
    try:
        # Imported when called: plugin_utils/filter_errors.py says why.
        findings = plugin_module("module_utils.promscrape.validator").validate_scrape_config(
            text,
            vm_version=str(vm_version),
            strict=bool(strict),
            base_dir=base_dir,
            warnings=bool(warnings),
            disabled_warnings=frozenset(str(item) for item in disabled_warnings or ()),
        )
    except ValueError as err:
        raise AnsibleFilterError(f"validate_scrape_config: {err}") from err
    blocking = [finding for finding in findings if finding.is_error or fail_on_warnings]
    if blocking:
        raise AnsibleFilterError(_failure_message(name, blocking))
    for finding in findings:
        display.warning(format_finding(finding, name))
    return config


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, Any]:
        return {"validate_scrape_config": validate_scrape_config}
