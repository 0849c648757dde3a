# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Differential check against a real vmagent, when one is installed.

Each snippet is checked by the validator and by ``vmagent
-promscrape.config.dryRun`` (strict and non-strict); the verdicts must
match.  The binary's version comes from VMSTACK_VMAGENT_VERSION or, for
Debian's package, from dpkg.  Without a binary the test is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.validator import (
    dry_run_command,
    validate_scrape_config,
)

VMAGENT = os.environ.get("VMSTACK_VMAGENT", "/usr/bin/vmagent")

REGEXES = [
    "foo", "(?=x)", "(?<!x)", r"(a)\1", r"\12", r"\8", "a**", "a*?", "a+?*", "*a", "(*)", "^*", "x{,2}", "x{1001}",
    "x{2,1}", "x{01}", "x{2}{3}", "{2}", "a{", "[z-a]", "[]a]", "[]", "[a-]", "[[:alpha:]]", "[[:foo:]]", r"\pL",
    r"\p{Greek}", r"\p{Foo}", r"\Qa.b\E", r"\Qabc", r"\Z", r"\C", r"\x{110000}", r"\é", "(?i)foo", "(?-)x",
    "(?P<n>x)", "(?P<>x)", "(?<n>x)", "(?#c)", "(a", "a)", "a)(b", "a\\", r"[a\b]", r"[a-\d]", "(?i)*", "a(?i)*",
    "x*+", "[[:alpha:]",
]
DURATIONS = ["1d", "1.5m", "1h-5m", "30", '"30"', "1.", "1e3", "5i", "inf", "1m30", "5S", "1M", ".5s", "+5s",
             "1_000", "1_000s", "0x10", "1e3s", '"5 s"', '""', "~", "[1s]"]
SELECTORS = ['{a="b"}', "foo", 'foo{a="b",}', "sum(up)", "up offset 5m", "up[5m]", "1", '"s"', "foo or bar",
             '{a="b" or c="d"}', '{a=~"(?=x)"}', "(foo)", '{a="\\d"}', "{a=`\\d`}", "{a}", "inf", "true", "123"]
JOB_BODIES = [
    "honor_labels: y", 'honor_labels: "true"', "sample_limit: 1.9", 'sample_limit: "4"', "sample_limit: 0x10",
    "metrics_path: !!binary '###'", "params: {a: b}", "scheme: HTTPS", "scheme: ftp", "proxy_url: 'http://x:abc'",
    "proxy_url: '1.2.3.4:3128'", "proxy_url: 'localhost:3128'", "proxy_url: 'http://a b'", "headers: ['X 1']",
    "headers: {X: 1}", "relabel_debug: true", "stream_parse: true\n  sample_limit: 5", "enable_http2: true",
    "tls_config: {ca: abc}", "tls_config: {min_version: tls12}", "tls_config: {min_version: TLS14}",
    "basic_auth: {password: p}", "basic_auth: {username: u, password: '', password_file: f}",
    "authorization: {}\n  bearer_token: t", "bearer_token: ''\n  bearer_token_file: f",
    "oauth2: {client_id: a, token_url: c}", "kubernetes_sd_configs: [{role: pod, follow_redirects: true}]",
    "kubernetes_sd_configs: [{role: pod, bearer_token: a, bearer_token_file: b}]",
    "consul_sd_configs: [{server: x, refresh_interval: 30s}]", "gce_sd_configs: [{project: p, zone: 1}]",
    "static_configs: [{targets: a}]", "static_configs: [{targets: [a], labels: {a: {b: c}}}]",
    "relabel_configs: [{}]", "relabel_configs: [~]", "relabel_configs: [{action: Replace, target_label: a}]",
    "relabel_configs: [{action: keepequal, target_label: x}]",
    "relabel_configs: [{action: hashmod, source_labels: [a], target_label: b, modulus: 2.5}]",
    "relabel_configs: [{target_label: b, regex: {a: b}}]", "relabel_configs: [{target_label: b, regex: [a, '(']}]",
    "relabel_configs: [{target_label: b, if: ['{a=\"b\"}']}]", "job_name: dup\n  job_name: other",
]
DOCUMENTS = [
    "", "foo", "scrape_configs:\n-\n", "scrape_configs: {}\n", "scrape_configs:\n- job_name: a\n---\nfoo: [\n",
    "x: &d\n  scrape_interval: 10s\nscrape_configs:\n- job_name: a\n  <<: *d\n",
    "scrape_configs:\n- &j\n  job_name: a\n- <<: *j\n", "scrape_configs:\n- job_name: a\n- job_name: A\n",
    "scrape_configs:\n- scrape_interval: 1s\n- scrape_interval: 2s\n", "scrape_configs:\n\t- job_name: a\n",
    "scrape_configs:\n- job_name: a\n  static_configs:\n  - targets: [%{HOME}:1]\n",
    "global:\n  external_labels: {a: 1}\n  external_labels: {b: 1}\n",
]


def _job(body: str) -> str:
    return "scrape_configs:\n- job_name: j\n  static_configs: [{targets: ['h:1']}]\n  " + body + "\n"


def _cases() -> list[tuple[str, str]]:
    cases = [(f"regex {r}", _job("relabel_configs:\n  - source_labels: [a]\n    target_label: b\n    regex: '"
                                 + r.replace("'", "''") + "'")) for r in REGEXES]
    cases += [(f"duration {d}", f"global:\n  scrape_interval: {d}\n") for d in DURATIONS]
    cases += [(f"if {s}", _job("relabel_configs:\n  - action: drop\n    if: '" + s.replace("'", "''") + "'"))
              for s in SELECTORS]
    cases += [(f"job {b}", _job(b)) for b in JOB_BODIES]
    cases += [(f"document {d!r}", d) for d in DOCUMENTS]
    return cases


def _binary_version() -> str | None:
    if "VMSTACK_VMAGENT_VERSION" in os.environ:
        return os.environ["VMSTACK_VMAGENT_VERSION"]
    if VMAGENT != "/usr/bin/vmagent" or not shutil.which("dpkg-query"):
        return None
    query = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "victoria-metrics"], capture_output=True, text=True,
                           check=False)
    if query.returncode != 0 or not query.stdout:
        return None
    return query.stdout.split("+")[0]  # "1.79.5+ds1-2+b5" -> "1.79.5"


@pytest.fixture(scope="module")
def binary_version() -> str:
    if not os.access(VMAGENT, os.X_OK):
        pytest.skip(f"no vmagent at {VMAGENT}")
    version = _binary_version()
    if version is None:
        pytest.skip("cannot tell the vmagent version; set VMSTACK_VMAGENT_VERSION")
    return version


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "non-strict"])
@pytest.mark.parametrize("label, config", _cases(), ids=[case[0] for case in _cases()])
def test_verdict_matches_the_binary(binary_version, tmp_path: Path, label, config, strict):
    path = tmp_path / "promscrape.yml"
    path.write_text(config)
    run = subprocess.run(dry_run_command(VMAGENT, str(path), strict), capture_output=True, text=True,
                         cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, timeout=60, check=False)
    binary = "ok" if run.returncode == 0 and "skipping" not in run.stderr else "error"
    findings = validate_scrape_config(config, vm_version=binary_version, strict=strict, base_dir=str(tmp_path),
                                      warnings=False, env={"PATH": "/usr/bin:/bin"})
    ours = "error" if findings else "ok"
    assert ours == binary, f"{label}: binary said {binary} ({run.stderr.strip()[-300:]}); validator: {findings}"
