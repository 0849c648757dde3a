# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""What the validators report, one Finding per problem: the scrape-config
validator here and the rule-file checker (plugin_utils/vmrules/) on the controller."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"

# Each warning has a short id so that a caller can switch it off.
WARNING_IDS: dict[str, str] = {
    "timeout-above-interval": "scrape_timeout is longer than scrape_interval (VictoriaMetrics silently clamps it)",
    "non-metrics-port": "a static target points at a port that does not serve /metrics",
    "duplicate-target": "the same host:port is scraped twice, in one job or in two jobs",
    "k8s-port-annotation": "a kubernetes pod/endpoints job uses the prometheus.io port annotation "
    "without a keep_if_equal rule against the container port",
    "ignored-field": "a field that the binary ignores because strict parsing is off",
    "duplicate-key": "a YAML key given twice (the last value wins because strict parsing is off)",
    "extra-document": "a second YAML document, which VictoriaMetrics never reads",
    "unchecked-file": "a referenced file or URL that the validator could not read",
    "skipped-file": "a scrape_config_files entry that the binary would skip with a logged error",
    "newer-version": "the version is newer than the newest the validator knows, which it checks with instead",
}


@dataclass
class Finding:
    """One problem in a scrape config or a vmalert rule file.

    ``file`` is set only when the problem is in a file other than the one
    validated (an entry of ``scrape_config_files``); ``line`` then counts in
    that file.  A rule file has groups and rules where a scrape config has
    jobs: the rule checker sets ``group`` and ``rule`` and leaves ``job`` None,
    and renders its findings itself (plugin_utils/vmrules/report.py).
    """

    severity: str  # "error" | "warning"
    job: str | None
    path: str
    line: int | None
    message: str
    warning_id: str | None = None
    file: str | None = None
    group: str | None = None
    rule: str | None = None

    def as_dict(self) -> dict:
        """A scrape-config finding's five public fields, plus ``file`` for a finding in another file."""
        data = {
            "severity": self.severity,
            "job": self.job,
            "path": self.path,
            "line": self.line,
            "message": self.message,
        }
        if self.file is not None:
            data["file"] = self.file
        return data

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.is_error for finding in findings)


def format_finding(finding: Finding, source: str) -> str:
    """Render a finding as ``FILE:LINE: JOB: SEVERITY: PATH: MESSAGE``.

    A finding without a line (a problem of the file as a whole) gets line 0,
    and one outside any job gets ``-`` as the job, so that the fields stay in
    place for grep and editors that jump to FILE:LINE.
    """
    file_name = finding.file or source
    line = finding.line if finding.line is not None else 0
    job = finding.job if finding.job is not None else "-"
    return f"{file_name}:{line}: {job}: {finding.severity}: {finding.path}: {finding.message}"
