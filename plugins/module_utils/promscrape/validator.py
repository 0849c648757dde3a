# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Check a VictoriaMetrics ``-promscrape.config`` file without the binary.

validate_scrape_config() reports what ``vmagent -promscrape.config.dryRun``
of the given version would reject, one Finding per problem and all of them
at once, plus warnings for configs the binary accepts but that are almost
certainly wrong.  The steps follow the binary's own order:

1. ``%{ENV}`` placeholders are expanded in the raw text;
2. the first YAML document is decoded (decode.py);
3. ``scrape_config_files`` are loaded and decoded;
4. job names must be unique;
5. each job is checked (rules.py);
6. warnings (warnings.py).
"""

from __future__ import annotations

import gc
import glob
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Mapping

from ansible_collections.vmstack.monitoring.plugins.module_utils import ports
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import (
    ERROR,
    WARNING,
    WARNING_IDS,
    Finding,
    has_errors,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.goyaml import (
    YAMLSyntaxError,
    is_null,
    load_first_document,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.decode import Decoder, NullItem, Obj
from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.rules import (
    Problem,
    job_problems,
    relabel_problems,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.warnings import (
    JobTarget,
    Warn,
    duplicate_targets_across_jobs,
    job_targets,
    job_warnings,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import (
    DEFAULT_VM_VERSION,
    NEWEST_KNOWN,
    Version,
    format_version,
    known_version,
    parse_version,
    supports,
)

__all__ = ["Finding", "WARNING_IDS", "dry_run_command", "dry_run_problem", "has_errors", "validate_scrape_config"]

_JOB_PATH = re.compile(r"^((?:scrape_configs|scrape_config_files\[\d+\]))\[(\d+)\]")
_ENV_NAME_BASIC = re.compile(r"[a-zA-Z0-9_]+")
_ENV_NAME_EXTENDED = re.compile(r"[a-zA-Z_][a-zA-Z0-9_\-.]*")


@dataclass
class _Job:
    """One entry of scrape_configs, from the main file or an included one."""

    obj: Obj | None  # None for a null item ("- " with nothing after it)
    path: str
    line: int | None
    file: str | None

    @property
    def name(self) -> str:
        return self.obj.get("job_name", "") if self.obj is not None else ""


# -- %{ENV} placeholders ----------------------------------------------------------


def _env_name_is_expanded(name: str, version: Version) -> bool:
    if supports(version, "env_name_dash_dot"):
        return bool(_ENV_NAME_EXTENDED.fullmatch(name))
    if supports(version, "env_name_check"):
        return bool(_ENV_NAME_BASIC.fullmatch(name))
    return True


def _env_replacement(name: str, env: Mapping[str, str], version: Version) -> str | None:
    """The text for %{name}, or None when the placeholder is an error."""
    placeholder = "%{" + name + "}"
    if not supports(version, "env_unset_is_error"):
        # Up to v1.82 an unset or empty variable leaves the placeholder as is.
        return env.get(name) or placeholder
    if supports(version, "env_unset_left_as_is"):
        return env.get(name, placeholder)
    if not _env_name_is_expanded(name, version):
        return placeholder
    return env.get(name)


def expand_env(text: str, env: Mapping[str, str], version: Version) -> tuple[str, list[tuple[int, str]]]:
    """Expand %{NAME} like the binary; also return (line, name) of each variable that is missing."""
    if "%{" not in text:
        return text, []
    pieces: list[str] = []
    missing: list[tuple[int, str]] = []
    position = 0
    while True:
        start = text.find("%{", position)
        end = text.find("}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            pieces.append(text[position:])
            break
        name = text[start + 2:end]
        replacement = _env_replacement(name, env, version)
        if replacement is None:
            missing.append((text.count("\n", 0, start) + 1, name))
            replacement = ""
        pieces.append(text[position:start])
        pieces.append(replacement)
        position = end + 1
    return "".join(pieces), missing


# -- the real binary's dry run ---------------------------------------------------


def dry_run_command(binary: str, config_path: str, strict: bool) -> list[str]:
    """The command that makes vmagent or victoria-metrics check config_path and exit."""
    command = [binary, f"-promscrape.config={config_path}", "-promscrape.config.dryRun", "-loggerLevel=ERROR"]
    if not strict:
        command.append("-promscrape.config.strictParse=false")
    return command


def _log_messages(output: str) -> list[str]:
    # Log lines are "<time>\t<level>\t<source>\t<message>"; continuation
    # lines of a multi-line message are indented and kept as they are.
    messages = []
    for line in output.splitlines():
        fields = line.split("\t", 3)
        text = fields[3] if len(fields) == 4 else line.strip()
        if text:
            messages.append(text)
    return messages


def dry_run_problem(rc: int, output: str) -> str | None:
    """What the dry run refused, or None when it accepted the config.

    From v1.95.0 the binary exits 0 even when it drops jobs with errors, so
    logged "skipping" errors count as a refusal too.
    """
    messages = _log_messages(output)
    if rc != 0:
        return " ".join(messages) or f"exit code {rc} and no message"
    skipped = [message for message in messages if "skipping" in message]
    if skipped:
        return "it would drop jobs: " + " ".join(skipped)
    return None


# -- the validator ----------------------------------------------------------------


class _Validation:
    def __init__(self, version: Version, strict: bool, base_dir: str | None, env: Mapping[str, str],
                 non_metrics_ports: dict[int, str]) -> None:
        self.version = version
        self.strict = strict
        self.base_dir = base_dir
        self.env = env
        self.non_metrics_ports = non_metrics_ports
        self.findings: list[Finding] = []

    def error(self, path: str, line: int | None, message: str, job: str | None = None,
              file: str | None = None) -> None:
        self.findings.append(Finding(ERROR, job, path, line, message, file=file))

    def warning(self, warning_id: str, path: str, line: int | None, message: str, job: str | None = None,
                file: str | None = None) -> None:
        self.findings.append(Finding(WARNING, job, path, line, message, warning_id=warning_id, file=file))

    # -- parsing ----------------------------------------------------------------

    def expand(self, text: str, file: str | None) -> str | None:
        """Expand placeholders; None (after reporting) when the binary refuses."""
        expanded, missing = expand_env(text, self.env, self.version)
        for line, name in missing:
            self.error("", line, f"cannot expand environment variables: missing {name!r} env var; "
                       f"{format_version(self.version)} refuses unset variables: set {name} in vmagent's "
                       "environment or write the value", file=file)
        return None if missing else expanded

    def parse(self, text: str, file: str | None) -> tuple[bool, object]:
        """(ok, root node) of the first YAML document."""
        try:
            document = load_first_document(text)
        except YAMLSyntaxError as exc:
            self.error("", exc.line, f"YAML syntax error: {exc}; fix the indentation or quoting "
                       "(a value starting with %, @, ` or { needs quotes)", file=file)
            return False, None
        if document.has_more_documents:
            self.warning("extra-document", "", document.extra_document_line,
                         "a second YAML document starts here; VictoriaMetrics reads only the first one, so "
                         "everything below is ignored", file=file)
        return True, document.root

    def load_main(self, text: str) -> Obj | None:
        expanded = self.expand(text, None)
        if expanded is None:
            return None
        ok, root = self.parse(expanded, None)
        if not ok:
            return None
        if root is None or is_null(root):
            return Obj("Config", 1)
        return Decoder(self.version, self.strict, self.findings).decode_struct(root, "Config", "")

    # -- scrape_config_files ----------------------------------------------------

    def included_jobs(self, config: Obj) -> list[_Job]:
        jobs: list[_Job] = []
        lines = config.item_lines.get("scrape_config_files", [])
        for index, entry in enumerate(config.get("scrape_config_files", [])):
            path = f"scrape_config_files[{index}]"
            line = lines[index] if index < len(lines) else config.line_of("scrape_config_files")
            for file_name in self._expand_entry(entry, path, line):
                jobs.extend(self._jobs_from_file(file_name, path, line))
        return jobs

    def _expand_entry(self, entry: str, path: str, line: int | None) -> list[str]:
        if entry.startswith(("http://", "https://")):
            self.warning("unchecked-file", path, line, f"{entry} is fetched by the binary at load time; the "
                         "validator does not fetch URLs, so the jobs in it are not checked")
            return []
        if self.base_dir is None and not os.path.isabs(entry):
            self.warning("unchecked-file", path, line, f"{entry} is relative to the config's directory, which "
                         "was not given (base_dir); the jobs in it are not checked")
            return []
        file_name = entry if os.path.isabs(entry) else os.path.join(self.base_dir or "", entry)
        if "*" in file_name:
            return sorted(glob.glob(file_name))
        return [file_name]

    def _skip_or_fail(self, path: str, line: int | None, file_name: str, reason: str, can_skip: bool) -> None:
        if can_skip:
            self.warning("skipped-file", path, line, f"{format_version(self.version)} would log an error and "
                         f"skip {file_name} ({reason}); its jobs would not be scraped")
        else:
            self.error(path, line, f"cannot load `scrape_config_files` entry {file_name}: {reason}")

    def _jobs_from_file(self, file_name: str, path: str, line: int | None) -> list[_Job]:
        skip_unreadable = supports(self.version, "skip_bad_scrape_config_files")
        try:
            with open(file_name, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError as exc:
            self._skip_or_fail(path, line, file_name, exc.strerror or str(exc), skip_unreadable)
            return []
        expanded, missing = expand_env(text, self.env, self.version)
        if missing:
            self._skip_or_fail(path, line, file_name, f"missing {missing[0][1]!r} env var", skip_unreadable)
            return []
        return self._decode_included(expanded, file_name, path, line)

    def _included_strictness(self) -> tuple[bool, bool]:
        """(parse strictly, skip the file on a parse error) for scrape_config_files."""
        if supports(self.version, "scrape_config_files_strict_flag"):
            return self.strict, not self.strict
        if supports(self.version, "skip_bad_scrape_config_files"):
            return True, True
        return True, False

    def _decode_included(self, text: str, file_name: str, path: str, line: int | None) -> list[_Job]:
        strict, skip_on_error = self._included_strictness()
        sink: list[Finding] = []
        sub = _Validation(self.version, strict, self.base_dir, self.env, self.non_metrics_ports)
        ok, root = sub.parse(text, file_name)
        items: list = []
        if ok and root is not None and not is_null(root):
            items = Decoder(self.version, strict, sink, file=file_name).read_list(
                root, "ptrlist:ScrapeConfig", path)
        sink = sub.findings + sink
        errors = [finding for finding in sink if finding.is_error]
        if errors and skip_on_error:
            self._skip_or_fail(path, line, file_name, errors[0].message, True)
            return []
        for finding in errors:
            finding.message = (f"{finding.message} (in {file_name}, loaded through scrape_config_files; "
                               "the binary parses these files strictly and needs a YAML list of jobs)")
        self.findings.extend(sink)
        return [_job_of(item, file_name) for item in items]

    # -- checks across jobs -----------------------------------------------------

    def check_null_jobs(self, jobs: list[_Job]) -> None:
        for job in jobs:
            if job.obj is None:
                self.error(job.path, job.line, f"empty item in scrape_configs: {format_version(self.version)} "
                           "crashes with a nil pointer panic on it; delete the lone '-' or give the job its keys",
                           file=job.file)

    def check_duplicate_names(self, jobs: list[_Job]) -> None:
        first_by_name: dict[str, _Job] = {}
        for job in jobs:
            if job.obj is None:
                continue
            earlier = first_by_name.setdefault(job.name, job)
            if earlier is not job:
                self.error(f"{job.path}.job_name", job.obj.line_of("job_name"),
                           f"duplicate `job_name` {job.name!r} (first used at line {earlier.obj.line_of('job_name')}"
                           f"{' of ' + earlier.file if earlier.file else ''}); job names must be unique "
                           "(case-sensitive, and jobs without job_name all count as \"\")",
                           job=job.name or None, file=job.file)

    def check_jobs(self, jobs: list[_Job]) -> None:
        drops_bad_jobs = supports(self.version, "skip_bad_jobs")
        for job in jobs:
            if job.obj is None:
                continue
            for problem in job_problems(job.obj, job.path, self.version, self.base_dir):
                message = problem.message
                if drops_bad_jobs:
                    message += (f" ({format_version(self.version)} would log this, silently drop the job and "
                                "still exit 0)")
                self.error(problem.path, problem.line, message, job=job.name or None, file=job.file)

    def check_global_relabel(self, global_cfg: Obj | None, jobs: list[_Job]) -> None:
        # Global rules run in every job, so the binary only meets them when
        # there is a job; report them once rather than per job.
        if global_cfg is None or not supports(self.version, "global_relabel_configs"):
            return
        if not any(job.obj is not None for job in jobs):
            return
        for key in ("relabel_configs", "metric_relabel_configs"):
            problems: list[Problem] = relabel_problems(global_cfg.get(key, []), f"global.{key}", self.version)
            for problem in problems:
                self.error(problem.path, problem.line, problem.message + " (this rule is prepended to every job)")

    def add_warnings(self, global_cfg: Obj | None, jobs: list[_Job]) -> None:
        targets_by_job: list[list[JobTarget]] = []
        for job in jobs:
            if job.obj is None:
                continue
            targets = job_targets(job.obj, job.path, job.name)
            targets_by_job.append(targets)
            for warn in job_warnings(job.obj, job.path, global_cfg, targets, self.non_metrics_ports):
                self._add_warn(warn, job.name or None, job.file)
        file_of_path = {job.path: job.file for job in jobs}
        for warn in duplicate_targets_across_jobs(targets_by_job):
            job_path = _JOB_PATH.match(warn.path)
            self._add_warn(warn, None, file_of_path.get(job_path.group(0)) if job_path else None)

    def _add_warn(self, warn: Warn, job: str | None, file: str | None) -> None:
        self.warning(warn.warning_id, warn.path, warn.line, warn.message, job=warn.job or job, file=file)

    def name_jobs_in_findings(self, jobs: list[_Job]) -> None:
        """Fill in the job of findings made while decoding, from their path."""
        names = {(job.file, job.path): job.name for job in jobs}
        for finding in self.findings:
            if finding.job is not None:
                continue
            match = _JOB_PATH.match(finding.path)
            if match:
                finding.job = names.get((finding.file, match.group(0))) or None


def validate_scrape_config(
    text: str,
    *,
    vm_version: str = DEFAULT_VM_VERSION,
    strict: bool = True,
    base_dir: str | None = None,
    warnings: bool = True,
    disabled_warnings: frozenset[str] = frozenset(),
    non_metrics_ports: dict[int, str] | None = None,
    env: dict | None = None,
) -> list[Finding]:
    """Check a ``-promscrape.config`` text as the given VictoriaMetrics version would.

    ``strict`` mirrors ``-promscrape.config.strictParse``.  ``base_dir`` is
    the directory the config will live in: relative ``scrape_config_files``
    and, for versions that read them at load time, TLS files are resolved
    against it; without it those are not checked.  ``env`` is the
    environment vmagent runs with (for ``%{NAME}`` placeholders); None means
    an empty environment.  Warnings whose id is in ``disabled_warnings`` are
    left out; ``warnings=False`` leaves out all of them.
    """
    asked = parse_version(vm_version)
    version = known_version(asked)
    if non_metrics_ports is None:
        non_metrics_ports = ports.non_metrics_ports()
    run = _Validation(version, strict, base_dir, env or {}, non_metrics_ports)
    if version != asked:
        run.warning("newer-version", "", None, f"{format_version(asked)} is newer than the newest VictoriaMetrics "
                    f"release this validator knows (v{NEWEST_KNOWN}); the config is checked as v{NEWEST_KNOWN} "
                    "would read it, so keys or checks added since then are not known here")
    with _cyclic_gc_paused():
        config = run.load_main(text)
        if config is not None:
            _check_config(run, config)
    # Reading order: by file, then by line; the binary's own order does not
    # help a reader, as it stops at the first problem.
    findings = sorted(run.findings, key=lambda finding: (finding.file or "", finding.line or 0))
    if not warnings:
        return [finding for finding in findings if finding.is_error]
    kept = [finding for finding in findings if finding.warning_id not in disabled_warnings]
    for finding in kept:
        if finding.warning_id is not None:
            # Tell the reader which id switches this warning off.
            finding.message += f" [{finding.warning_id}]"
    return kept


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the node tree is built and walked.

    A large config becomes millions of small objects, none of them garbage
    until the check ends; the collector would scan them over and over (it
    took three quarters of the time on a 10,000-job config).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _job_of(item: Obj | NullItem, file: str | None) -> _Job:
    if isinstance(item, NullItem):
        return _Job(None, item.path, item.line, file)
    return _Job(item, item.path, item.line, file)


def _check_config(run: _Validation, config: Obj) -> None:
    jobs = [_job_of(item, None) for item in config.get("scrape_configs", [])]
    jobs.extend(run.included_jobs(config))
    run.name_jobs_in_findings(jobs)
    run.check_null_jobs(jobs)
    run.check_duplicate_names(jobs)
    run.check_jobs(jobs)
    run.check_global_relabel(config.get("global"), jobs)
    run.add_warnings(config.get("global"), jobs)
