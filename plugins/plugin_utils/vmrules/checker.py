# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Checks vmalert rule files on the controller, before they reach a host.

`validate_rule_file` reports two kinds of findings:

* errors: what vmalert itself rejects at start or reload (unknown keys, both or
  neither of alert/record, an empty expr, bad durations, templates that do not
  parse, identical duplicate rules, duplicate group names);
* warnings: what vmalert accepts but is almost always a mistake (an alert with
  no `severity` label, `security:` written for `severity:`, a key given twice,
  `for:` on a recording rule, ...).

The keys, template functions and template variables vmalert knows depend on
its version; the tables below were read from vmalert's sources at each release
tag (app/vmalert/config, app/vmalert/templates, app/vmalert/notifier).

Not checked here: the PromQL/MetricsQL of `expr` (run `vmalert -dryRun` or
`promtool check rules` for that) and anything only known at evaluation time.

This module reads the file and reports on it as a whole; the checks live
beside it by concern: document.py (the groups list and each group),
group_settings.py, rules.py, labels.py, duplicates.py, durations.py,
templates.py (with template_text.py), and shapes.py, nodes.py and report.py under them all.
"""


from __future__ import annotations

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, Finding
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import DEFAULT_VM_VERSION, NEWEST_KNOWN, known_version, parse_version
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.document import check_document
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.nodes import Node, Where, yaml
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.report import Report, rule_finding


def validate_rule_file(text: str, *, vm_version: str = DEFAULT_VM_VERSION) -> list[Finding]:
    """All findings for the text of one vmalert rule file, in file order."""
    if yaml is None:
        raise RuntimeError("validating rule files needs PyYAML (python3-yaml) on the machine that runs the check")
    asked = parse_version(vm_version)
    report = Report(known_version(asked))
    try:
        documents = compose_documents(text)
    except yaml.YAMLError as err:
        return [yaml_error_finding(err)]
    if report.version != asked:
        report.warning(Where(""), None, f"vmalert {vm_version} is newer than the newest release this check knows "
                       f"({NEWEST_KNOWN}); the file is checked as {NEWEST_KNOWN} would read it, so keys, functions "
                       "or checks added since then are not known here")
    for document in documents:
        if document is not None:
            check_document(report, document)
    if not any(document is not None for document in documents):
        report.warning(Where(""), None, "the file is empty; vmalert loads nothing from it")
    return sorted(report.findings, key=lambda finding: finding.line or 0)


def compose_documents(text: str) -> list[Node]:
    """The node tree of each YAML document in `text` (None for an empty one).

    Composed with PyYAML's SafeLoader and read by its tags, not with the scrape
    validator's yaml.v2 reading of scalars (module_utils/vm/goyaml.py, where
    ``y`` is a boolean and ``1_000`` an int): the checks and the tests that
    hold them are written against SafeLoader's tags, and switching would
    change which rule files pass.
    """
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def yaml_error_finding(err: yaml.YAMLError) -> Finding:
    mark = getattr(err, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(err, "problem", None) or str(err)
    return rule_finding(ERROR, Where(""), line, f"not valid YAML: {problem}")
