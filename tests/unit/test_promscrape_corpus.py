# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Conformance: the validator's verdicts against the real binaries' on a corpus.

The corpus (other projects' configs with the verdicts of Debian's
victoria-metrics 1.79.5 and 1.112.0 and of vmagent 1.150.0 built from the
release tag) is read from where it lies; it is not part of this repository.  Set VMSTACK_SCRAPE_CORPUS to read it elsewhere.
Each file is checked for every version, with strict parsing on and off.
Files whose verdict depends on a referenced file that is missing (a CA
under /var/run/secrets, say) are left out.  Warnings do not count: only
"has an error" versus "has none" is compared.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.validator import validate_scrape_config

CORPUS = Path(os.environ.get("VMSTACK_SCRAPE_CORPUS", "/work/shared/vm-scrape-corpus"))
DISAGREEMENTS_FILE = Path(__file__).with_name("promscrape-corpus-disagreements.tsv")
MIN_AGREEMENT = 0.99
# The verdicts were taken with only these variables set.
BINARY_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/root"}
# version -> the file with that binary's verdicts (same columns for each
# but the oldest, VERDICTS.tsv, which also says which files need others).
VERDICT_FILES = {"1.112.0": "VERDICTS-1.112.0.tsv", "1.150.0": "VERDICTS-1.150.0.tsv"}
VERSIONS = ("1.79.5", *VERDICT_FILES)
MODES = ("strict", "non-strict")


@dataclass(frozen=True)
class Case:
    file: str
    version: str
    mode: str
    expected: str  # "ok" or "error"


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _as_verdict(binary_verdict: str) -> str:
    # "skipped-jobs" (1.95+ drops bad jobs and exits 0) and "panic" are errors.
    return "ok" if binary_verdict == "ok" else "error"


def load_cases() -> list[Case]:
    roles = {row["file"]: row["role"] for row in _read_tsv(CORPUS / "SOURCES.tsv")}
    rows_by_version = {"1.79.5": {row["file"]: row for row in _read_tsv(CORPUS / "VERDICTS.tsv")}}
    for version, file_name in VERDICT_FILES.items():
        rows_by_version[version] = {row["file"]: row for row in _read_tsv(CORPUS / file_name)}
    cases = []
    for name, row in rows_by_version["1.79.5"].items():
        if roles.get(name) != "corpus" or row["needs_referenced_file"] == "yes":
            continue
        for version, rows in rows_by_version.items():
            cases.append(Case(name, version, "strict", _as_verdict(rows[name]["verdict"])))
            cases.append(Case(name, version, "non-strict", _as_verdict(rows[name]["verdict_strictParse_false"])))
    return cases


def validator_verdict(case: Case) -> str:
    path = CORPUS / case.file
    text = path.read_text(encoding="utf-8", errors="replace")
    findings = validate_scrape_config(
        text, vm_version=case.version, strict=case.mode == "strict", base_dir=str(path.parent),
        warnings=False, env=BINARY_ENV,
    )
    return "error" if findings else "ok"


def listed_disagreements() -> dict[tuple[str, str, str], str]:
    return {(row["file"], row["version"], row["mode"]): row["reason"] for row in _read_tsv(DISAGREEMENTS_FILE)}


@pytest.fixture(scope="module")
def outcomes() -> dict[Case, str]:
    if not (CORPUS / "VERDICTS.tsv").is_file():
        pytest.skip(f"the scrape config corpus is not at {CORPUS}")
    return {case: validator_verdict(case) for case in load_cases()}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", MODES)
def test_agreement_with_the_binary(outcomes, version, mode):
    cases = [case for case in outcomes if case.version == version and case.mode == mode]
    agreeing = [case for case in cases if outcomes[case] == case.expected]
    assert cases, "no corpus files for this combination"
    agreement = len(agreeing) / len(cases)
    assert agreement >= MIN_AGREEMENT, f"{version} {mode}: {agreement:.2%} of {len(cases)} files agree"


def test_every_disagreement_is_listed_with_a_reason(outcomes):
    actual = {(case.file, case.version, case.mode) for case, verdict in outcomes.items() if verdict != case.expected}
    listed = listed_disagreements()
    assert all(reason.strip() for reason in listed.values()), "each listed disagreement needs a reason"
    unlisted = sorted(actual - set(listed))
    stale = sorted(set(listed) - actual)
    assert not unlisted, f"disagreements missing from {DISAGREEMENTS_FILE.name}: {unlisted}"
    assert not stale, f"{DISAGREEMENTS_FILE.name} lists cases that now agree: {stale}"
