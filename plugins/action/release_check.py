# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin: check configs with the release's own binary, on the controller (see the module's documentation)."""

from __future__ import annotations

from typing import Any, Mapping

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.controller_action import ControllerAction
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.release_archive import (
    ArchiveError,
    Release,
    fetch_url,
    prepare,
)
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.release_check import (
    CheckError,
    alertmanager_config_refusal,
    names_host_files,
    rule_file_refusals,
    scrape_config_refusal,
    why_not_runnable,
)
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.secrets import mask_secrets

OPTIONS = {
    "release", "binary", "arch", "cache_dir", "rule_files", "rule_sources", "scrape_config", "strict",
    "alertmanager_config", "templates", "path", "secrets_from",
}
CHECKS = ("rule_files", "scrape_config", "alertmanager_config")


def _binary_path(release: Mapping[str, Any], name: str, unpack_dir: str) -> str:
    for binary in release.get("binaries") or []:
        if binary.get("name") == name:
            return f"{unpack_dir}/{binary['src']}"
    raise AnsibleActionFail(f"the release of {release.get('project')} {release.get('version')} installs no binary {name}")


def _refusals(args: Mapping[str, Any], binary: str, binary_label: str, templates: list[str]) -> list[str]:
    path = str(args["path"])
    if "rule_files" in args:
        sources = args.get("rule_sources") or {}
        return [
            f"{binary_label} refuses {path}/{name}" + (f" (from {sources[name]})" if name in sources else "")
            + f": {problem}"
            for name, problem in rule_file_refusals(binary, args["rule_files"], path).items()
        ]
    subject = path
    if "scrape_config" in args:
        problem = scrape_config_refusal(binary, str(args["scrape_config"]), path,
                                        boolean(args.get("strict", True), strict=True))
    else:
        problem = alertmanager_config_refusal(binary, str(args["alertmanager_config"]), path,
                                              templates, f"{path.rsplit('/', 1)[0]}/templates")
        if templates:
            subject = f"{path} with its notification templates"
    return [f"{binary_label} refuses {subject}: {problem}"] if problem else []


class ActionModule(ControllerAction):
    """Checks the configs a host would get with the release's own binary."""

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        self._check_options(args)
        result.update(changed=False, checked=False)
        skip_reason = why_not_runnable(str(args["arch"]))
        if not skip_reason and "scrape_config" in args and names_host_files(str(args["scrape_config"])):
            skip_reason = "the scrape config names files that exist only on the host"
        if skip_reason:
            result.update(skipped=True, skip_reason=f"{skip_reason}: the binary checks the file on the host instead")
            return result

        release = args["release"]
        try:
            prepared = prepare(Release.from_mapping(release), str(args["cache_dir"]), fetch_url)
            binary = _binary_path(release, str(args["binary"]), prepared.unpack_dir)
            label = f"{args['binary']} {release['version']}, run on the controller,"
            refusals = _refusals(args, binary, label, self._template_files(args.get("templates") or []))
        except (ArchiveError, CheckError) as error:
            raise AnsibleActionFail(mask_secrets(error, args.get("secrets_from"))) from None
        result["checked"] = True
        if refusals:
            result.update(failed=True, msg=mask_secrets(" ".join(refusals), args.get("secrets_from")))
        return result

    def _template_files(self, templates: list[str]) -> list[str]:
        # Found where ansible.builtin.copy finds the role's src files.
        return [self._find_needle("files", template) for template in templates]

    @staticmethod
    def _check_options(args: Mapping[str, Any]) -> None:
        unknown = sorted(set(args) - OPTIONS)
        if unknown:
            raise AnsibleActionFail(f"unknown options: {', '.join(unknown)}")
        checks = [name for name in CHECKS if name in args]
        if len(checks) != 1:
            raise AnsibleActionFail(f"give exactly one of {', '.join(CHECKS)}")
        missing = sorted({"release", "binary", "arch", "cache_dir", "path"} - set(args))
        if missing:
            raise AnsibleActionFail(f"missing required options: {', '.join(missing)}")
