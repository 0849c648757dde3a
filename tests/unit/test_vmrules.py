# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Tests for the rule-file validator (plugin_utils/vmrules/) and its filter."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.vmstack.monitoring.plugins.filter import validate_rule_file as validate_rule_file_filter
from ansible_collections.vmstack.monitoring.plugins.filter.validate_rule_file import FilterModule
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import ERROR, WARNING, Finding
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import parse_version
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.checker import validate_rule_file
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.durations import duration_problem
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.report import finding_dict, finding_text
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.vmrules.templates import template_findings
from release_binaries import unpack_binary

REPO_ROOT = Path(__file__).resolve().parents[2]
LIBRARY_FILES = sorted((REPO_ROOT / "roles/vmalert/files/rules").glob("*.yml"))
VMALERT = Path("/usr/bin/vmalert")
SHARED = Path(os.environ.get("VMSTACK_SHARED", REPO_ROOT.parent / "shared"))
VMUTILS_1150 = SHARED / "vm-releases/VictoriaMetrics/v1.150.0/vmutils-linux-amd64-v1.150.0.tar.gz"

GOOD_ALERT = """\
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.instance }} is down"
"""


def rule_file(rules: str = GOOD_ALERT, group_settings: str = "") -> str:
    """A one-group rule file; `rules` and `group_settings` are indented YAML."""
    return f"---\ngroups:\n  - name: example\n{group_settings}    rules:\n{rules}"


def alert(extra: str = "", labels: str = "          severity: warning\n") -> str:
    return "      - alert: Example\n        expr: up == 0\n" + extra + "        labels:\n" + labels


def problems(text: str, severity: str, vm_version: str = "1.79.5") -> list[str]:
    return [finding.message for finding in validate_rule_file(text, vm_version=vm_version) if finding.severity == severity]


def errors(text: str, vm_version: str = "1.79.5") -> list[str]:
    return problems(text, ERROR, vm_version)


def warnings(text: str, vm_version: str = "1.79.5") -> list[str]:
    return problems(text, WARNING, vm_version)


def assert_one(messages: list[str], *fragments: str) -> None:
    assert len(messages) == 1, messages
    for fragment in fragments:
        assert fragment in messages[0]


# --- the library and a clean file ------------------------------------------


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda path: path.name)
def test_library_file_has_no_findings(path: Path) -> None:
    assert validate_rule_file(path.read_text()) == []


def test_library_is_not_empty() -> None:
    assert len(LIBRARY_FILES) >= 3


def test_clean_file_has_no_findings() -> None:
    assert validate_rule_file(rule_file()) == []


# --- structure ----------------------------------------------------------------


def test_yaml_syntax_error_is_reported_with_its_line() -> None:
    findings = validate_rule_file("---\ngroups:\n  - name: [unclosed\n")
    assert [finding.severity for finding in findings] == [ERROR]
    assert "not valid YAML" in findings[0].message
    assert findings[0].line is not None


def test_unknown_top_level_key_is_an_error() -> None:
    assert_one(errors("---\ngroup:\n  - name: x\n"), "unknown top-level key 'group'", "'groups'")
    assert errors("---\ngroups: []\n") == []


def test_empty_file_is_a_warning() -> None:
    assert_one(warnings("---\n"), "no groups")
    assert_one(warnings(""), "empty")


def test_groups_must_be_a_list() -> None:
    assert_one(errors("---\ngroups:\n  name: x\n"), "must be a list")


def test_group_without_name_is_an_error() -> None:
    text = "---\ngroups:\n  - rules:\n" + GOOD_ALERT
    assert_one(errors(text), "needs a 'name:'")


def test_duplicate_group_names_are_an_error() -> None:
    text = rule_file() + "  - name: example\n    rules:\n" + GOOD_ALERT
    assert_one(errors(text), "group name 'example' is already used on line 3")
    assert errors(rule_file() + "  - name: other\n    rules:\n" + GOOD_ALERT) == []


def test_group_without_rules_is_a_warning() -> None:
    assert_one(warnings("---\ngroups:\n  - name: x\n    rules: []\n"), "no rules")


def test_unknown_group_key_suggests_the_right_one() -> None:
    assert_one(errors(rule_file(group_settings="    intervall: 1m\n")), "unknown group key 'intervall'", "did you mean 'interval'?")


@pytest.mark.parametrize(
    ("key_line", "too_old", "new_enough"),
    [
        ("    headers: ['X-Scope-OrgID: 1']\n", "1.79.5", "1.80.0"),
        ("    eval_offset: 30s\n    interval: 1m\n", "1.93.0", "1.94.0"),
        ("    notifier_headers: ['X-Team: ops']\n", "1.90.0", "1.91.0"),
        ("    debug: true\n", "1.102.19", "1.102.20"),  # a backport to the 1.102 LTS line
        ("    debug: true\n", "1.116.0", "1.117.0"),
        ("    extra_filter_labels: {team: ops}\n", "1.79.0", "1.78.0"),  # removed in 1.79.0
    ],
)
def test_group_keys_follow_the_vmalert_version(key_line: str, too_old: str, new_enough: str) -> None:
    text = rule_file(group_settings=key_line)
    assert_one(errors(text, too_old), "unknown group key")
    assert errors(text, new_enough) == []


def test_unknown_rule_key_suggests_the_right_one() -> None:
    text = rule_file(alert(labels="          severity: warning\n        anotations:\n          summary: x\n"))
    assert_one(errors(text), "unknown rule key 'anotations'", "did you mean 'annotations'?")


@pytest.mark.parametrize(
    ("key_line", "too_old", "new_enough"),
    [
        ("        keep_firing_for: 5m\n", "1.91.0", "1.92.0"),
        ("        debug: true\n", "1.81.0", "1.82.0"),
        ("        update_entries_limit: 10\n", "1.85.0", "1.86.0"),
    ],
)
def test_rule_keys_follow_the_vmalert_version(key_line: str, too_old: str, new_enough: str) -> None:
    text = rule_file(alert(key_line))
    assert_one(errors(text, too_old), "unknown rule key", f"needs vmalert {new_enough}")
    assert errors(text, new_enough) == []


def test_rule_with_alert_and_record_is_an_error() -> None:
    text = rule_file("      - alert: A\n        record: a:b:c\n        expr: up\n        labels: {severity: info}\n")
    assert_one(errors(text), "not both")


def test_rule_without_alert_or_record_is_an_error() -> None:
    assert_one(errors(rule_file("      - expr: up\n")), "needs 'alert: AlertName' or 'record:")


def test_rule_without_expr_is_an_error() -> None:
    text = rule_file("      - record: job:up:sum\n")
    assert_one(errors(text), "no 'expr:'")
    assert errors(rule_file("      - record: job:up:sum\n        expr: sum by (job) (up)\n")) == []


# --- values ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["5m", "1h30m", "300", "1.5h", "0", "90s", "500ms", "2d", "1w", "1y", "0.5"])
def test_valid_durations(text: str) -> None:
    assert duration_problem(text) is None


@pytest.mark.parametrize("text", ["5mm", "1x", "m5", "", "1h 30m", "5 m", "five"])
def test_invalid_durations_are_errors(text: str) -> None:
    problem = duration_problem(text)
    assert problem is not None and problem[0] == ERROR


def test_bad_for_is_reported_on_its_line() -> None:
    findings = validate_rule_file(rule_file(alert("        for: 5mm\n")))
    assert [(finding.severity, finding.line, finding.path) for finding in findings] == [
        (ERROR, 7, "groups[0].rules[0].for")
    ]
    assert "write a number with a unit" in findings[0].message


def test_step_durations_are_a_warning() -> None:
    assert_one(warnings(rule_file(alert("        for: 5i\n"))), "evaluation steps")


def test_grafana_interval_is_a_duration_from_1_113() -> None:
    text = rule_file(alert("        for: $__interval\n"))
    assert_one(errors(text, "1.112.0"), "not a duration")
    assert errors(text, "1.113.0") == []
    assert_one(warnings(text, "1.113.0"), "$__interval, which is 0")


def test_too_big_durations_are_refused_before_1_114() -> None:
    text = rule_file(alert("        for: 1000000000y\n"))
    assert_one(errors(text, "1.112.0"), "too big duration")
    assert errors(text, "1.114.0") == [] and warnings(text, "1.114.0") == []


def test_durations_follow_the_metricsql_grammar_of_the_version() -> None:
    # The grammar is the scrape-config validator's: vmalert 1.79.5 takes "inf"
    # (checked with its -dryRun), and upper-case units only from 1.86.2.
    assert errors(rule_file(alert("        for: inf\n")), "1.79.5") == []
    assert_one(errors(rule_file(alert("        for: 5H\n")), "1.79.5"), "not a duration")
    assert errors(rule_file(alert("        for: 5H\n")), "1.86.2") == []


def test_negative_group_interval_is_refused_only_by_newer_vmalert() -> None:
    text = rule_file(group_settings="    interval: -1m\n")
    assert_one(warnings(text, "1.79.5"), "negative")
    assert_one(errors(text, "1.94.0"), "negative")


def test_concurrency_must_be_a_whole_number() -> None:
    assert_one(errors(rule_file(group_settings="    concurrency: many\n")), "whole number")
    assert errors(rule_file(group_settings="    concurrency: 4\n    limit: 100\n")) == []


@pytest.mark.parametrize(("datasource", "version", "valid"), [
    ("graphite", "1.79.5", True),
    ("prometheus", "1.79.5", True),
    ("loki", "1.79.5", False),
    ("vlogs", "1.79.5", False),
    ("vlogs", "1.106.0", True),
])
def test_datasource_type(datasource: str, version: str, valid: bool) -> None:
    found = errors(rule_file(group_settings=f"    type: {datasource}\n"), version)
    assert (found == []) is valid, found


def test_params_hold_lists() -> None:
    assert_one(errors(rule_file(group_settings="    params:\n      nocache: '1'\n")), "list of values")
    assert errors(rule_file(group_settings="    params:\n      nocache: ['1']\n")) == []


def test_headers_must_be_quoted_strings() -> None:
    assert_one(errors(rule_file(group_settings="    headers:\n      - X-Scope-OrgID: 1\n"), "1.80.0"), "one quoted string")
    assert_one(errors(rule_file(group_settings="    headers:\n      - 'no colon'\n"), "1.80.0"), "has no ':'")
    assert errors(rule_file(group_settings="    headers:\n      - 'X-Scope-OrgID: 1'\n"), "1.80.0") == []


def test_label_values_must_be_text() -> None:
    assert_one(errors(rule_file(alert(labels="          severity: [warning]\n"))), "must be text")


def test_invalid_label_name_is_a_warning() -> None:
    assert_one(warnings(rule_file(alert(labels="          severity: warning\n          team-name: ops\n"))), "not a valid label name")


def test_key_given_twice_is_a_warning() -> None:
    text = rule_file(alert("        expr: up == 1\n"))
    assert_one(warnings(text), "'expr' is given twice")


# --- duplicates -------------------------------------------------------------------


def test_identical_rules_are_an_error_like_vmalert() -> None:
    # vmalert compares kind, name, expr and labels; annotations do not count.
    text = rule_file(GOOD_ALERT + GOOD_ALERT.replace("is down", "went away"))
    assert_one(errors(text), "repeats the one on line 5 exactly")


def test_identical_records_are_an_error() -> None:
    record = "      - record: job:up:sum\n        expr: sum by (job) (up)\n"
    assert_one(errors(rule_file(record + record)), "repeats")


def test_same_name_with_other_labels_is_a_warning() -> None:
    text = rule_file(GOOD_ALERT + GOOD_ALERT.replace("severity: warning", "severity: critical"))
    assert errors(text) == []
    assert_one(warnings(text), "another alert named 'InstanceDown'")


def test_distinct_names_are_fine() -> None:
    assert validate_rule_file(rule_file(GOOD_ALERT + GOOD_ALERT.replace("InstanceDown", "InstanceGone"))) == []


# --- severity ------------------------------------------------------------------------


def test_alert_without_severity_is_a_warning() -> None:
    assert_one(warnings(rule_file(alert(labels="          team: ops\n"))), "no 'severity' label")


def test_security_label_is_called_out_as_a_misspelt_severity() -> None:
    assert_one(warnings(rule_file(alert(labels="          security: critical\n"))), "'security'", "write 'severity: critical'")


def test_severity_from_group_labels_counts() -> None:
    text = rule_file(alert(labels="          team: ops\n"), group_settings="    labels:\n      severity: info\n")
    assert validate_rule_file(text) == []


def test_unusual_severity_value_is_a_warning() -> None:
    assert_one(warnings(rule_file(alert(labels="          severity: high\n"))), "not one of critical, warning, info")


def test_recording_rules_need_no_severity_but_a_metric_name() -> None:
    assert validate_rule_file(rule_file("      - record: job:up:sum\n        expr: sum by (job) (up)\n")) == []
    assert_one(warnings(rule_file("      - record: job up\n        expr: sum by (job) (up)\n")), "not a valid metric name")


def test_alert_only_keys_on_a_recording_rule_are_warnings() -> None:
    text = rule_file("      - record: job:up:sum\n        expr: sum(up)\n        for: 5m\n        annotations:\n          summary: x\n")
    found = warnings(text)
    assert len(found) == 2 and any("'for:'" in message for message in found)


# --- templates -----------------------------------------------------------------------
# Each case was checked against vmalert 1.79.5's own -dryRun; see also
# test_template_cases_agree_with_vmalert below.

BAD_TEMPLATES = [
    ("{{ $labels.instance }", "never closed"),
    ("{{ }}", "empty action"),
    ("{{- }}", "empty action"),
    ("{{ humanizePercent $value }}", "did you mean 'humanizePercentage'?"),
    ("{{ $labels.x | nosuch }}", "function 'nosuch' is not defined"),
    ("{{ now }}", "needs vmalert 1.129.0 or later"),
    ("{{ if $value }}x", "'{{ if }}' is never closed"),
    ("{{ range $labels }}{{ end }}{{ end }}", "'{{ end }}' without"),
    ("{{ else }}", "outside if, range or with"),
    ("{{ break }}", "outside range"),
    ("{{ $foo }}", "variable '$foo' is not defined"),
    ("{{ $alertID }}", "needs vmalert 1.81.0 or later"),
    ('{{ (printf "%s" $value }}', "'(' never closed"),
    ('{{ printf "%s" $value) }}', "')' without '('"),
    ('{{ "unterminated }}', "never closed"),
]

GOOD_TEMPLATES = [
    "plain text",
    "{{ $value | humanizePercentage }}",
    "{{ $labels.instance }}",
    "{{- if gt $value 0.5 -}}high{{- else -}}low{{- end }}",
    '{{ if eq $labels.a "b" }}1{{ else if $value }}2{{ end }}',
    "{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}",
    '{{ range $labels }}{{ if eq . "x" }}{{ break }}{{ end }}{{ end }}',
    "{{ with $labels.x }}{{ . }}{{ end }}",
    "{{/* comment }} */}}",
    '{{ "}}" }}',
    '{{ index $labels "instance" }}',
    '{{ $value | printf "%.2f" }}',
    "{{ $x := 5 }}{{ $x }}",
    "{{ $externalURL }}/{{ $expr | queryEscape }}",
    "{{ 'a' }}",
    "{{ -1 }}",
    "{{ .Value }}",
    '{{ htmlEscape "x" }}',
]


@pytest.mark.parametrize(("template", "fragment"), BAD_TEMPLATES)
def test_bad_templates_are_errors(template: str, fragment: str) -> None:
    found = template_findings(template, parse_version("1.79.5"))
    assert [severity for severity, _other in found] == [ERROR]
    assert fragment in found[0][1]


@pytest.mark.parametrize("template", GOOD_TEMPLATES)
def test_good_templates_pass(template: str) -> None:
    assert template_findings(template, parse_version("1.79.5")) == []


def test_newer_functions_and_variables_pass_on_newer_vmalert() -> None:
    assert template_findings("{{ now }} {{ $for }} {{ $alertID }}", parse_version("1.129.0")) == []


@pytest.mark.parametrize(("version", "known"), [
    ("1.148.0", False), ("1.148.1", True), ("1.149.0", True), ("1.136.14", False), ("1.136.15", True),
])
def test_interval_variable_and_its_patch_releases(version: str, known: bool) -> None:
    assert (template_findings("{{ $interval }}", parse_version(version)) == []) is known


def test_stray_closing_braces_are_a_warning() -> None:
    assert [severity for severity, _other in template_findings("{ $labels.instance }}", parse_version("1.79.5"))] == [WARNING]


def test_template_errors_in_a_file_point_at_the_annotation() -> None:
    text = rule_file(alert(labels="          severity: warning\n        annotations:\n          summary: '{{ $labels.instance }'\n"))
    findings = validate_rule_file(text)
    assert [(finding.severity, finding.path, finding.line) for finding in findings] == [
        (ERROR, "groups[0].rules[0].annotations.summary", 10)
    ]


def write_single_annotation_file(directory: Path, template: str) -> Path:
    document = {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up", "annotations": {"summary": template}}]}]}
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.skipif(not VMALERT.exists(), reason="needs /usr/bin/vmalert (Debian's victoria-metrics 1.79.5)")
@pytest.mark.parametrize("template", [case[0] for case in BAD_TEMPLATES if case[0] != "{{ $alertID }}"] + GOOD_TEMPLATES)
def test_template_cases_agree_with_vmalert(template: str, tmp_path: Path) -> None:
    path = write_single_annotation_file(tmp_path, template)
    run = subprocess.run([str(VMALERT), "-dryRun", f"-rule={path}"], capture_output=True, text=True, check=False)
    vmalert_accepts = run.returncode == 0
    we_accept = ERROR not in [severity for severity, _other in template_findings(template, parse_version("1.79.5"))]
    assert vmalert_accepts == we_accept, run.stderr[-500:]


# --- vmalert 1.113 - 1.150, and versions newer than the check knows -------------------


def test_eval_offset_must_fit_in_the_groups_own_interval() -> None:
    assert_one(errors(rule_file(group_settings="    eval_offset: 10s\n"), "1.94.0"), "longer than the group's interval",
               "no interval: of its own")
    assert_one(errors(rule_file(group_settings="    interval: 1m\n    eval_offset: 2m\n"), "1.150.0"), "longer than")
    assert errors(rule_file(group_settings="    interval: 1m\n    eval_offset: 1m\n"), "1.150.0") == []


def test_negative_eval_offset_from_1_138() -> None:
    text = rule_file(group_settings="    interval: 1m\n    eval_offset: -30s\n")
    assert_one(errors(text, "1.137.0"), "negative")
    assert errors(text, "1.138.0") == [] and errors(text, "1.136.2") == []
    assert_one(errors(rule_file(group_settings="    interval: 1m\n    eval_offset: -2m\n"), "1.150.0"), "longer than")


def test_eval_offset_with_eval_delay_from_1_113() -> None:
    text = rule_file(group_settings="    interval: 1m\n    eval_offset: 10s\n    eval_delay: 5s\n")
    assert errors(text, "1.112.0") == [] and errors(text, "1.110.2") == []
    assert_one(errors(text, "1.113.0"), "eval_offset cannot be used with eval_delay")
    assert_one(errors(text, "1.110.3"), "eval_offset cannot be used with eval_delay")


def test_rule_label_name_is_refused_from_1_141() -> None:
    text = rule_file(alert(labels="          severity: warning\n          __name__: renamed\n"))
    assert_one(errors(text, "1.141.0"), "label named __name__")
    assert errors(text, "1.140.0") == [] and errors(text, "1.136.5")
    assert_one(warnings(text, "1.140.0"), "refused by vmalert 1.141.0 or later")


def test_newer_vmalert_is_checked_as_the_newest_known_and_said_once() -> None:
    text = rule_file(alert(labels="          severity: warning\n          __name__: renamed\n"))
    findings = validate_rule_file(text, vm_version="1.151.0")
    assert [finding.severity for finding in findings] == [WARNING, ERROR]
    assert "1.151.0 is newer" in findings[0].message and "checked as 1.150.0" in findings[0].message
    assert warnings(rule_file(), "1.150.0") == []


# Each file: is it valid for vmalert 1.150.0?  Checked against the real binary below.
FILES_1150 = [
    (rule_file(), True),
    (rule_file(group_settings="    interval: 1m\n    eval_offset: -30s\n"), True),
    (rule_file(group_settings="    eval_offset: 10s\n"), False),
    (rule_file(group_settings="    interval: 1m\n    eval_offset: 90s\n"), False),
    (rule_file(group_settings="    interval: 1m\n    eval_offset: 10s\n    eval_delay: 5s\n"), False),
    (rule_file(alert(labels="          severity: warning\n          __name__: x\n")), False),
    (rule_file(group_settings="    debug: true\n"), True),
    (rule_file(alert("        debug: true\n        keep_firing_for: 5m\n")), True),
    (rule_file(alert(labels="          severity: warning\n        annotations:\n"
                     "          s: '{{ now | formatTime \"2006\" }} {{ $interval }} {{ $isPartial }} {{ $type }}'\n")), True),
    (rule_file(alert(labels="          severity: warning\n        annotations:\n          s: '{{ $nosuch }}'\n")), False),
    (rule_file(group_settings="    intervall: 1m\n"), False),
    (rule_file(GOOD_ALERT + GOOD_ALERT), False),
    (rule_file(alert("        for: $__interval\n")), True),
    (rule_file(alert("        for: 1000000000y\n")), True),
]


@pytest.fixture(scope="module")
def vmalert_1150(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vmalert-prod unpacked from the real 1.150.0 release archive into a temporary folder."""
    if not VMUTILS_1150.is_file():
        pytest.skip(f"needs {VMUTILS_1150} (see the vm-releases README)")
    return unpack_binary(VMUTILS_1150, "vmalert-prod", tmp_path_factory.mktemp("vmutils-1.150.0"))


@pytest.mark.parametrize(("text", "valid"), FILES_1150)
def test_files_agree_with_vmalert_1_150(text: str, valid: bool, vmalert_1150: Path, tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(text)
    run = subprocess.run([str(vmalert_1150), "-dryRun", f"-rule={path}", "-loggerLevel=ERROR"],
                         capture_output=True, text=True, check=False, timeout=60)
    assert (run.returncode == 0) is valid, run.stderr[-500:]
    assert (errors(text, "1.150.0") == []) is valid


# --- API -------------------------------------------------------------------------------


def test_finding_as_dict_and_text() -> None:
    finding = Finding(ERROR, None, "groups[0].rules[0].for", 7, "bad", group="g", rule="A")
    assert finding_dict(finding) == {
        "severity": ERROR, "group": "g", "rule": "A", "path": "groups[0].rules[0].for", "line": 7, "message": "bad",
    }
    assert finding_text(finding) == "error: line 7, group 'g', rule 'A': bad"


def test_findings_are_the_scrape_validators_finding_with_group_and_rule() -> None:
    findings = validate_rule_file(rule_file(alert(labels="          security: warning\n")))
    assert findings == [Finding(
        WARNING, None, "groups[0].rules[0].labels", 8,
        "label 'security' looks like a misspelt 'severity'; write 'severity: warning'", group="example", rule="Example",
    )]


def test_a_finding_of_the_whole_file_reads_as_file() -> None:
    assert [finding_text(finding) for finding in validate_rule_file("")] == [
        "warning: file: the file is empty; vmalert loads nothing from it",
    ]


@pytest.mark.parametrize(("text", "expected"), [("1.79.5", (1, 79, 5)), ("v1.102.1", (1, 102, 1)), ("1.93-cluster", (1, 93, 0))])
def test_parse_version(text: str, expected: tuple[int, int, int]) -> None:
    assert parse_version(text) == expected


def test_parse_version_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        parse_version("latest")


# --- the filter ----------------------------------------------------------------------


def filter_function():
    return FilterModule().filters()["validate_rule_file"]


def test_filter_returns_valid_input_unchanged() -> None:
    text = rule_file()
    assert filter_function()(text) == text


def test_filter_fails_with_all_errors_at_once() -> None:
    text = rule_file(alert("        for: 5mm\n        keep_firing_for: 1m\n"))
    with pytest.raises(AnsibleFilterError) as raised:
        filter_function()(text, "1.79.5", name="custom.yml")
    message = str(raised.value)
    assert "custom.yml" in message and "2 problem(s)" in message
    assert "'5mm'" in message and "keep_firing_for" in message


def test_filter_lists_each_finding_with_its_line_group_and_rule() -> None:
    with pytest.raises(AnsibleFilterError) as raised:
        filter_function()(rule_file(alert("        for: 5mm\n")), "1.79.5", name="custom.yml")
    assert str(raised.value).splitlines() == [
        "custom.yml would be refused by vmalert (1 problem(s)):",
        "  - error: line 7, group 'example', rule 'Example': '5mm' is not a duration; write a number with a unit "
        "(ms, s, m, h, d, w, y), e.g. '5m' or '1h30m', or a bare number of seconds",
    ]


def test_filter_warns_with_the_findings_text(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(validate_rule_file_filter.display, "warning", shown.append)
    text = rule_file(alert(labels="          security: critical\n"))
    assert filter_function()(text, name="custom.yml") == text
    assert shown == [
        "custom.yml: warning: line 8, group 'example', rule 'Example': "
        "label 'security' looks like a misspelt 'severity'; write 'severity: critical'",
    ]


def test_filter_strict_fails_on_warnings() -> None:
    text = rule_file(alert(labels="          security: critical\n"))
    assert filter_function()(text) == text
    with pytest.raises(AnsibleFilterError, match="security"):
        filter_function()(text, strict=True)


def test_filter_rejects_parsed_yaml() -> None:
    with pytest.raises(AnsibleFilterError, match="expects the text"):
        filter_function()({"groups": []})


def test_filter_rejects_a_bad_version() -> None:
    with pytest.raises(AnsibleFilterError, match="not a VictoriaMetrics version"):
        filter_function()(rule_file(), "latest")


def test_rule_file_helper_is_valid_yaml() -> None:
    # Guards the helpers above: a typo in them would make every case pass for the wrong reason.
    assert yaml.safe_load(rule_file(alert()))["groups"][0]["rules"][0]["alert"] == "Example"
