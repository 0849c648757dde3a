# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Focused cases for the -promscrape.config validator: one rule at a time."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.findings import Finding
from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.validator import (
    dry_run_command,
    dry_run_problem,
    expand_env,
    validate_scrape_config,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.re2 import RegexSyntaxError, check_re2
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.durations import DurationError, parse_vm_duration
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.selectors import (
    SelectorError,
    SelectorSyntax,
    check_series_selector,
)
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import (
    DEFAULT_VM_VERSION,
    NEWEST_KNOWN,
    parse_version,
)

V1795 = parse_version("1.79.5")
V1112 = parse_version("1.112.0")


def check(config: str, **options) -> list[Finding]:
    # The oldest supported release unless a test names another: most rules here
    # are about what 1.79.5 refuses and later releases accept.
    options.setdefault("vm_version", "1.79.5")
    return validate_scrape_config(textwrap.dedent(config), **options)


def errors(config: str, **options) -> list[Finding]:
    return [finding for finding in check(config, **options) if finding.is_error]


def warnings_of(config: str, **options) -> list[Finding]:
    return [finding for finding in check(config, **options) if not finding.is_error]


def job(body: str = "", name: str = "node") -> str:
    """A config with one job; body is indented like the job's keys."""
    extra = textwrap.indent(textwrap.dedent(body), "    ")
    return f"scrape_configs:\n  - job_name: {name}\n    static_configs: [{{targets: ['h:9100']}}]\n{extra}"


def only_error(config: str, **options) -> Finding:
    found = errors(config, **options)
    assert len(found) == 1, found
    return found[0]


def test_without_a_version_the_roles_default_release_is_checked():
    vmagent_defaults = (Path(__file__).parents[2] / "roles/vmagent/defaults/main.yml").read_text()
    assert f'vmagent_version: "{DEFAULT_VM_VERSION}"' in vmagent_defaults
    sized = job("max_scrape_size: 1MiB\n")
    assert validate_scrape_config(sized) == []
    assert errors(sized), "1.79.5 does not know max_scrape_size"


# -- the Finding shape -----------------------------------------------------------


def test_a_valid_config_has_no_findings():
    assert check(job("scrape_interval: 30s\nscrape_timeout: 10s\n")) == []


def test_finding_carries_job_path_line_and_message():
    finding = only_error(job("relabel_configs:\n  - action: Replace\n    target_label: x\n"))
    assert finding.as_dict() == {
        "severity": "error",
        "job": "node",
        "path": "scrape_configs[0].relabel_configs[0].action",
        "line": 5,
        "message": finding.message,
    }
    assert "write `action: replace`" in finding.message


def test_empty_text_is_a_valid_config():
    assert check("") == []


# -- unknown keys and Prometheus-only settings ---------------------------------------


@pytest.mark.parametrize("config, path, hint", [
    ("global:\n  evaluation_interval: 1m\n", "global.evaluation_interval", "-evaluationInterval"),
    ("rule_files: [a.yml]\n", "rule_files", "-rule="),
    ("alerting: {}\n", "alerting", "-notifier.url"),
    ("remote_write: []\n", "remote_write", "-remoteWrite.url"),
    (job("enable_http2: true\n"), "scrape_configs[0].enable_http2", "delete the line"),
    (job("http_headers: {}\n"), "scrape_configs[0].http_headers", 'headers: ["Name: value"]'),
    (job("file_sd_configs: [{files: [a.json], refresh_interval: 1m}]\n"),
     "scrape_configs[0].file_sd_configs[0].refresh_interval", "-promscrape.fileSDCheckInterval"),
    (job("consul_sd_configs: [{server: c, refresh_interval: 1m}]\n"),
     "scrape_configs[0].consul_sd_configs[0].refresh_interval", "-promscrape.consulSDCheckInterval"),
    (job("scaleway_sd_configs: []\n"), "scrape_configs[0].scaleway_sd_configs", "no scaleway service discovery"),
    (job("tls_config: {max_version: TLS13}\n"), "scrape_configs[0].tls_config.max_version", "min_version"),
    (job("scrape_intervall: 1m\n"), "scrape_configs[0].scrape_intervall", "did you mean `scrape_interval`"),
])
def test_unknown_keys_say_what_to_write_instead(config, path, hint):
    finding = only_error(config)
    assert finding.path == path
    assert hint in finding.message


def test_unknown_keys_are_warnings_without_strict_parsing():
    found = check("global:\n  evaluation_interval: 1m\n", strict=False)
    assert [f.severity for f in found] == ["warning"]
    assert "[ignored-field]" in found[0].message


def test_keys_added_later_are_unknown_to_older_versions():
    config = job("max_scrape_size: 16MiB\n")
    assert "accepted from VictoriaMetrics v1.102.0" in only_error(config).message
    assert errors(config, vm_version="1.112.0") == []


def test_relabel_debug_was_removed_in_1_85():
    config = job("relabel_debug: true\n")
    assert errors(config) == []
    assert "removed in VictoriaMetrics v1.85.0" in only_error(config, vm_version="1.112.0").message


@pytest.mark.parametrize("sd_key, since", [
    ("yandexcloud_sd_configs", "1.80.0"), ("nomad_sd_configs", "1.86.0"), ("kuma_sd_configs", "1.88.0"),
    ("hetzner_sd_configs", "1.97.0"), ("vultr_configs", "1.102.0"), ("puppetdb_sd_configs", "1.106.0"),
    ("marathon_sd_configs", "1.109.0"), ("linode_sd_configs", "1.150.0"),
])
def test_service_discoveries_by_version(sd_key, since):
    config = job(f"{sd_key}: []\n")
    assert errors(config, vm_version=since) == []
    older = "%d.%d.0" % (parse_version(since)[0], parse_version(since)[1] - 1)
    assert errors(config, vm_version=older)


def test_vultr_sd_configs_is_spelt_vultr_configs():
    assert "vultr_configs" in only_error(job("vultr_sd_configs: []\n"), vm_version="1.112.0").message


def test_follow_redirects_in_sd_configs_from_1_91_1():
    config = job("kubernetes_sd_configs: [{role: pod, follow_redirects: false}]\n")
    assert errors(config)
    assert errors(config, vm_version="1.91.1") == []


def test_duplicate_keys_fail_only_in_strict_mode():
    config = job("honor_labels: true\nhonor_labels: false\n")
    finding = only_error(config)
    assert "already set" in finding.message and finding.line == 5
    assert [f.severity for f in check(config, strict=False)] == ["warning"]


# -- types -------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "honor_labels: yes\n", "honor_labels: y\n", "honor_labels: On\n", "sample_limit: 1.9\n",
    "sample_limit: 1_000\n", "sample_limit: 0x10\n", "metrics_path: 123\n", "params: {module: [http_2xx]}\n",
])
def test_values_yaml_v2_coerces(body):
    assert errors(job(body)) == []


@pytest.mark.parametrize("body, expected", [
    ('honor_labels: "true"\n', "into bool"),
    ('sample_limit: "4"\n', "into int"),
    ("sample_limit: 10k\n", "into int"),
    ("params: {module: http_2xx}\n", "into []string"),
    ("metrics_path: [a]\n", "!!seq into string"),
    ("scrape_interval: [1m]\n", "!!seq into string"),  # as the binary words it: durations unmarshal a string
    ("static_configs: {targets: [a]}\n", "into []promscrape.StaticConfig"),
])
def test_type_errors(body, expected):
    config = "scrape_configs:\n  - job_name: node\n" + textwrap.indent(body, "    ")
    finding = only_error(config)
    assert expected in finding.message
    assert finding.line == 3


def test_inline_pem_needs_1_95():
    pem = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"
    config = job(f'tls_config: {{ca: "{pem}"}}\n')
    assert "inline PEM" in only_error(config).message
    assert errors(config, vm_version="1.112.0") == []


def test_invalid_binary_tag_is_an_error():
    assert "base64" in only_error(job("metrics_path: !!binary '###'\n")).message


# -- durations -------------------------------------------------------------------------


@pytest.mark.parametrize("text, seconds", [
    ("1d", 86400), ("1w", 604800), ("1y", 365 * 86400), ("1.5m", 90), ("1h30m", 5400), ("1s500ms", 1.5),
    ("30", 30), ("1.", 1), ("1e3", 1000), ("5i", 0), ("1h-5m", 3300), ("-5s", -5), ("0", 0), ("1_000", 1000),
])
def test_durations_metricsql_accepts(text, seconds):
    assert parse_vm_duration(text, V1795) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1m30", "5S", "1M", "abc", ".5s", "+5s", "1_000s", "0x10", "1e3s", "5 s", ""])
def test_durations_1_79_5_rejects(text):
    with pytest.raises(DurationError):
        parse_vm_duration(text, V1795)


def test_upper_case_units_and_inf_by_version():
    assert parse_vm_duration("5S", V1112) == 5
    with pytest.raises(DurationError):
        parse_vm_duration("1M", V1112)  # capital M is mega, not minutes
    assert parse_vm_duration("inf", V1795) == float("inf")
    with pytest.raises(DurationError):
        parse_vm_duration("inf", V1112)


def test_bad_duration_in_a_config():
    finding = only_error(job("scrape_interval: 1m30\n"))
    assert finding.path == "scrape_configs[0].scrape_interval"
    assert "30s, 1m30s" in finding.message


def test_empty_quoted_duration_is_an_error():
    assert "cannot be empty" in only_error(job('scrape_timeout: ""\n')).message


# -- relabeling --------------------------------------------------------------------------


@pytest.mark.parametrize("rule, message", [
    ("{}", "missing `target_label` for `action=replace`"),
    ("{action: keep}", "missing `source_labels` for `action=keep`"),
    ("{action: hashmod, source_labels: [a], target_label: b}", "must be greater than 0"),
    ("{action: keep_if_equal, source_labels: [a]}", "at least two entries"),
    ("{action: keep_metrics}", "`regex` must be non-empty"),
    ("{action: drop_metrics, regex: x, source_labels: [a]}", "`source_labels` must be empty"),
    ("{action: replace_all, target_label: a}", "missing `source_labels`"),
    ("{action: uppercase, source_labels: [a]}", "missing `target_label`"),
    ("{action: graphite, match: 'a.*'}", "missing `labels`"),
    ("{action: graphite, match: 'a.*', labels: {job: $1}, regex: x}", "`regex` cannot be used"),
    ("{action: replace, target_label: a, match: x}", "only by `action=graphite`"),
    ("{action: foo}", "unknown `action` 'foo'"),
    ("{action: keepequal, target_label: a}", "needs VictoriaMetrics v1.86.0"),
    ("{action: keep_if_contains, target_label: a, source_labels: [b]}", "needs VictoriaMetrics v1.96.0"),
])
def test_relabel_rule_errors(rule, message):
    finding = only_error(job(f"relabel_configs: [{rule}]\n"))
    assert message in finding.message
    assert finding.job == "node"
    assert finding.path.startswith("scrape_configs[0].relabel_configs[0]")


@pytest.mark.parametrize("rule", [
    "{action: drop, if: '{job=\"x\"}'}",
    "{action: labeldrop, regex: tmp_.*, source_labels: [ignored]}",
    "{action: keep_if_equal, source_labels: [a, b], target_label: c}",
    "{action: drop_metrics, if: 'up'}",
    "{target_label: a, regex: [x, y]}",
    "{target_label: a, regex: 1.0}",
])
def test_relabel_rules_1_79_5_accepts(rule):
    assert errors(job(f"relabel_configs: [{rule}]\n")) == []


def test_relabel_changes_by_version():
    upper = job("relabel_configs: [{action: Drop, source_labels: [a]}]\n")
    assert errors(upper) and errors(upper, vm_version="1.81.0") == []
    strict_equal = job("relabel_configs: [{action: keep_if_equal, source_labels: [a, b], target_label: c}]\n")
    assert errors(strict_equal) == [] and errors(strict_equal, vm_version="1.86.0")
    keepequal = job("relabel_configs: [{action: keepequal, source_labels: [a], target_label: b}]\n")
    assert errors(keepequal) and errors(keepequal, vm_version="1.86.0") == []


def test_bad_regex_message_shows_the_anchored_form():
    finding = only_error(job("relabel_configs: [{source_labels: [a], target_label: b, regex: '(foo'}]\n"))
    assert "'^(?:(foo)$'" in finding.message
    assert "missing closing )" in finding.message


@pytest.mark.parametrize("pattern", ["(?=x)", "(?!x)", "(?<=x)", "(?<!x)", r"(a)\1", "a**", "x{1001}", "[z-a]",
                                     r"\Z", r"\p{Foo}", "(?P<>x)", "(?#comment)", "(?>x)", "*a", "[[:foo:]]"])
def test_re2_refuses(pattern):
    with pytest.raises(RegexSyntaxError):
        check_re2(pattern)


@pytest.mark.parametrize("pattern", ["a*?", r"\12", "x{,2}", "x{01}", "[]a]", r"\Qa.b\E", "(?i)foo", "(?P<n>x)",
                                     r"\p{Greek}", "[[:^digit:]]", "^*", r"\x{41}", "a{", "(?)x", "a(?i)*"])
def test_re2_accepts(pattern):
    check_re2(pattern)


def test_angle_named_groups_only_with_newer_go():
    with pytest.raises(RegexSyntaxError):
        check_re2("(?<n>x)")
    check_re2("(?<n>x)", angle_named_groups=True)


# -- `if` selectors ----------------------------------------------------------------------


@pytest.mark.parametrize("selector", ['{a="b"}', "foo", 'foo{a="b",}', "(foo)", "{a=~`\\d+`}", "foo{a!~'x'}"])
def test_series_selectors_accepted(selector):
    check_series_selector(selector, SelectorSyntax(allow_or=False))


@pytest.mark.parametrize("selector", ["sum(up)", "up offset 5m", "up[5m]", "1", '"s"', "foo or bar",
                                      '{a=~"(?=x)"}', '{a="\\d"}', "{a}", "inf", ""])
def test_series_selectors_refused(selector):
    with pytest.raises(SelectorError):
        check_series_selector(selector, SelectorSyntax(allow_or=False))


def test_or_inside_braces_and_lists_from_1_92():
    braces = job("relabel_configs: [{action: drop, if: '{a=\"b\" or c=\"d\"}'}]\n")
    assert "v1.92.0" in only_error(braces).message
    assert errors(braces, vm_version="1.92.0") == []
    as_list = job("relabel_configs: [{action: drop, if: ['{a=\"b\"}', '{c=\"d\"}']}]\n")
    assert "v1.92.0" in only_error(as_list).message
    assert errors(as_list, vm_version="1.92.0") == []


# -- jobs, scheme, auth ------------------------------------------------------------------------


def test_duplicate_job_name_is_case_sensitive():
    config = job(name="a") + "  - job_name: a\n"
    finding = only_error(config)
    assert finding.path == "scrape_configs[1].job_name" and finding.line == 4
    assert errors(job(name="a") + "  - job_name: A\n") == []


def test_missing_job_name():
    finding = only_error("scrape_configs:\n  - scrape_interval: 1m\n")
    assert "missing `job_name`" in finding.message and finding.job is None


def test_null_job_item_is_reported_as_the_crash_it_causes():
    finding = only_error("scrape_configs:\n  -\n")
    assert "nil pointer panic" in finding.message and finding.line == 2


def test_scheme_case_by_version():
    config = job("scheme: HTTPS\n")
    assert "write `scheme: https`" in only_error(config).message
    assert errors(config, vm_version="1.81.0") == []
    assert "http or https" in only_error(job("scheme: ftp\n"), vm_version="1.112.0").message


@pytest.mark.parametrize("body, message", [
    ("authorization: {credentials: c}\nbasic_auth: {username: u}\n", "`basic_auth` cannot be combined"),
    ("bearer_token: t\nbearer_token_file: f\n", "both `bearer_token` and `bearer_token_file`"),
    ("basic_auth: {username: u}\nbearer_token: t\n", "`bearer_token` cannot be combined with `basic_auth`"),
    ("basic_auth: {password: p}\n", "missing `username`"),
    ("basic_auth: {username: u, password: p, password_file: f}\n", "both `password` and `password_file`"),
    ("authorization: {credentials: c, credentials_file: f}\n", "both `credentials` and `credentials_file`"),
    ("oauth2: {client_secret: s, token_url: t}\n", "client_id cannot be empty"),
    ("oauth2: {client_id: i, token_url: t}\n", "client_secret or client_secret_file"),
    ("oauth2: {client_id: i, client_secret: s}\n", "token_url cannot be empty"),
    ("headers: ['X 1']\n", "missing ':' in header"),
    ("tls_config: {min_version: TLS14}\n", "unsupported TLS version"),
    ("proxy_basic_auth: {password: p}\n", "missing `username`"),
])
def test_auth_errors(body, message):
    finding = only_error(job(body))
    assert message in finding.message, finding


def test_username_file_from_1_97_1():
    config = job("basic_auth: {username_file: /etc/u}\n")
    assert errors(config)
    assert errors(config, vm_version="1.97.1") == []


def test_stream_parse_with_limits_only_refused_before_1_85():
    config = job("stream_parse: true\nsample_limit: 100\n")
    assert "stream parsing" in only_error(config).message
    assert errors(config, vm_version="1.85.0") == []


def test_proxy_url_must_parse():
    assert "invalid port" in only_error(job("proxy_url: 'http://proxy:abc'\n")).message
    assert errors(job("proxy_url: 'ftp://proxy:21'\n")) == []


def test_per_job_errors_from_1_95_say_the_job_is_dropped():
    finding = only_error(job("relabel_configs: [{}]\n"), vm_version="1.112.0")
    assert finding.is_error
    assert "silently drop the job" in finding.message
    assert "silently drop" not in only_error(job("relabel_configs: [{}]\n")).message


def test_ca_file_is_read_at_load_time_before_1_95(tmp_path):
    config = job("tls_config: {ca_file: ca.pem}\n")
    assert "ca.pem" in only_error(config, base_dir=str(tmp_path)).message
    assert errors(config, base_dir=str(tmp_path), vm_version="1.112.0") == []
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    assert errors(config, base_dir=str(tmp_path)) == []


# -- YAML ----------------------------------------------------------------------------------


def test_yaml_syntax_error_has_a_line():
    finding = only_error("scrape_configs:\n  - job_name: a\n    scrape_interval: %x\n")
    assert finding.line == 3 and "YAML syntax error" in finding.message


def test_only_the_first_document_is_read():
    found = check(job() + "---\nnot: [valid\n")
    assert [f.warning_id for f in found] == ["extra-document"]


def test_anchors_and_merge_keys():
    config = """\
    scrape_configs:
      - &base
        job_name: a
        scrape_interval: 10s
      - <<: *base
        job_name: b
    """
    assert errors(config) == []


def test_anchor_in_an_unknown_top_level_key_fails():
    config = "x_defaults: &d {scrape_interval: 10s}\nscrape_configs:\n  - job_name: a\n    <<: *d\n"
    assert only_error(config).path == "x_defaults"
    assert errors(config, strict=False) == []


# -- %{ENV} -----------------------------------------------------------------------------------


def test_env_placeholders_by_version():
    text = "job_name: %{A}/%{B}/%{C.D}"
    env = {"A": "a", "B": ""}
    assert expand_env(text, env, V1795) == ("job_name: a/%{B}/%{C.D}", [])
    assert expand_env(text, env, parse_version("1.83.0"))[1] == [(1, "C.D")]
    assert expand_env(text, env, parse_version("1.86.0")) == ("job_name: a//%{C.D}", [])
    assert expand_env(text, env, V1112)[1] == [(1, "C.D")]
    assert expand_env(text, env, parse_version("1.124.0")) == ("job_name: a//%{C.D}", [])


def test_unset_env_var_in_a_config():
    config = job(name="'%{NODE_JOB}'")
    assert errors(config) == []
    assert "NODE_JOB" in only_error(config, vm_version="1.112.0").message
    assert errors(config, vm_version="1.112.0", env={"NODE_JOB": "node"}) == []


# -- scrape_config_files --------------------------------------------------------------------------


def test_scrape_config_files_are_lists_of_jobs(tmp_path):
    (tmp_path / "good.yml").write_text("- job_name: extra\n  static_configs: [{targets: ['x:1']}]\n")
    (tmp_path / "prom.yml").write_text("scrape_configs:\n  - job_name: x\n")
    assert errors("scrape_config_files: [good.yml]\n", base_dir=str(tmp_path)) == []
    finding = only_error("scrape_config_files: [prom.yml]\n", base_dir=str(tmp_path))
    assert finding.file == str(tmp_path / "prom.yml") and "list of jobs" in finding.message


def test_scrape_config_files_job_names_join_the_duplicate_check(tmp_path):
    (tmp_path / "more.yml").write_text("- job_name: node\n")
    finding = only_error(job() + "scrape_config_files: ['*.yml']\n", base_dir=str(tmp_path))
    assert "duplicate `job_name`" in finding.message


def test_missing_scrape_config_file_by_version(tmp_path):
    config = "scrape_config_files: [missing.yml]\n"
    assert errors(config, base_dir=str(tmp_path))
    found = check(config, base_dir=str(tmp_path), vm_version="1.112.0")
    assert [f.warning_id for f in found] == ["skipped-file"]


def test_scrape_config_files_without_base_dir_are_not_checked():
    assert [f.warning_id for f in check("scrape_config_files: [a.yml]\n")] == ["unchecked-file"]


# -- warnings -------------------------------------------------------------------------------------


def test_timeout_above_interval_warning():
    found = warnings_of(job("scrape_interval: 15s\nscrape_timeout: 30s\n"))
    assert [f.warning_id for f in found] == ["timeout-above-interval"]
    assert found[0].path == "scrape_configs[0].scrape_timeout"


def test_timeout_warning_uses_global_and_defaults():
    config = "global: {scrape_interval: 5s}\n" + job()
    assert [f.warning_id for f in warnings_of(config)] == ["timeout-above-interval"]


def test_non_metrics_port_warning_uses_the_port_registry():
    found = warnings_of(job().replace("h:9100", "am1:9094"))
    assert [f.warning_id for f in found] == ["non-metrics-port"]
    assert "alertmanager" in found[0].message
    assert warnings_of(job().replace("h:9100", "am1:9094"), non_metrics_ports={}) == []


def test_duplicate_targets_in_one_job_and_across_jobs():
    one_job = job().replace("['h:9100']", "['h:9100', 'H:9100']")
    assert [f.warning_id for f in warnings_of(one_job)] == ["duplicate-target"]
    two_jobs = job(name="a") + "  - job_name: b\n    static_configs: [{targets: ['h.:9100']}]\n"
    found = warnings_of(two_jobs)
    assert [f.warning_id for f in found] == ["duplicate-target"] and found[0].job == "b"


def test_duplicate_targets_with_different_params_are_fine():
    config = job(name="a", body="params: {module: [a]}\n") + \
        "  - job_name: b\n    params: {module: [b]}\n    static_configs: [{targets: ['h:9100']}]\n"
    assert warnings_of(config) == []


def test_kubernetes_port_annotation_warning():
    base = """\
    kubernetes_sd_configs: [{role: pod}]
    relabel_configs:
      - action: replace
        source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        regex: '([^:]+)(?::\\d+)?;(\\d+)'
        replacement: $1:$2
        target_label: __address__
    """
    found = warnings_of(job(base))
    assert [f.warning_id for f in found] == ["k8s-port-annotation"]
    fixed = base.replace("relabel_configs:\n", "relabel_configs:\n  - action: keep_if_equal\n    source_labels: "
                         "[__meta_kubernetes_pod_annotation_prometheus_io_port, "
                         "__meta_kubernetes_pod_container_port_number]\n")
    assert warnings_of(job(fixed)) == []


def test_warnings_can_be_disabled():
    config = job("scrape_interval: 15s\nscrape_timeout: 30s\n")
    assert check(config, disabled_warnings=frozenset({"timeout-above-interval"})) == []
    assert check(config, warnings=False) == []


# -- the binary's dry run ----------------------------------------------------------------------


def test_dry_run_command():
    assert dry_run_command("/usr/bin/vmagent", "/etc/a.yml", False) == [
        "/usr/bin/vmagent", "-promscrape.config=/etc/a.yml", "-promscrape.config.dryRun", "-loggerLevel=ERROR",
        "-promscrape.config.strictParse=false",
    ]


def test_dry_run_problem_reads_the_log():
    log = "2024-01-01T00:00:00Z\tfatal\tmain.go:1\terror when checking -promscrape.config: bad\n"
    assert dry_run_problem(255, log) == "error when checking -promscrape.config: bad"
    assert dry_run_problem(0, "") is None
    skipped = "t\terror\tconfig.go:1\tskipping `scrape_config` for job_name=a because of error: x\n"
    assert dry_run_problem(0, skipped).startswith("it would drop jobs")


# -- changes up to v1.150.0, and versions newer than the validator knows -----------------


def test_basic_auth_needs_only_a_password_from_1_139():
    config = job("basic_auth: {password: p}\n")
    assert "missing `username`" in only_error(config, vm_version="1.138.0").message
    assert errors(config, vm_version="1.139.0") == []
    # The long-term-support lines got it in a patch release.
    assert errors(config, vm_version="1.136.2") and errors(config, vm_version="1.136.3") == []


@pytest.mark.parametrize("body", ["basic_auth: {}\n", "basic_auth: {username: '', password_file: ''}\n"])
def test_empty_basic_auth_is_refused_by_1_150(body):
    finding = only_error(job(body), vm_version="1.150.0")
    assert "give at least one" in finding.message and finding.path == "scrape_configs[0].basic_auth.username"


def test_basic_auth_pairs_are_still_exclusive_in_1_150():
    config = job("basic_auth: {username: u, username_file: f}\n")
    assert "both `username` and `username_file`" in only_error(config, vm_version="1.150.0").message


def test_oauth2_headers_are_parsed_like_client_headers():
    config = job("oauth2: {client_id: i, client_secret: s, token_url: 'http://t', headers: ['X: 1', 'nocolon']}\n")
    finding = only_error(config, vm_version="1.150.0")
    assert finding.path == "scrape_configs[0].oauth2.headers[1]"
    assert "missing ':' in header 'nocolon'" in finding.message
    assert "accepted from VictoriaMetrics v1.138.0" in only_error(config, vm_version="1.136.1").message
    assert "missing ':'" in only_error(config, vm_version="1.136.2").message


def test_grafana_interval_ends_a_duration_from_1_113():
    v1113 = parse_version("1.113.0")
    assert parse_vm_duration("$__interval", v1113) == 0
    assert parse_vm_duration("1m$__interval", v1113) == 60
    for text in ("-$__interval", "$__interval1m", "$__rate_interval"):
        with pytest.raises(DurationError):
            parse_vm_duration(text, v1113)
    with pytest.raises(DurationError):
        parse_vm_duration("$__interval", V1112)
    assert parse_vm_duration("$__interval", parse_version("1.110.2")) == 0


def test_too_big_durations_are_refused_before_1_114():
    assert "too big duration" in only_error(job("scrape_timeout: 1000000000y\n"), vm_version="1.112.0").message
    assert errors(job("scrape_timeout: 1000000000y\n"), vm_version="1.114.0") == []
    assert parse_vm_duration("-1000000000y", parse_version("1.110.4")) < 0
    with pytest.raises(DurationError):
        parse_vm_duration("-1000000000y", parse_version("1.110.3"))
    # A bare number of seconds was never checked for size.
    assert parse_vm_duration("1e300", V1112) == 1e300


V1150 = parse_version("1.150.0")
NEW_SELECTORS = SelectorSyntax(allow_or=True, quoted_names=True, metric_name_per_or_group=True)
V1112_SELECTORS = SelectorSyntax(allow_or=True, quoted_names=True)


@pytest.mark.parametrize("selector", ['{"my.metric"}', '{"my.metric", "a.b"="c"}', '{"a" or "b"}',
                                      '{__name__="a" or __name__="b"}', 'a{x="1" or y="2"}', 'a{__name__="a"}',
                                      '{__name__!="a", __name__="b"}'])
def test_selectors_with_quoted_and_per_group_metric_names(selector):
    check_series_selector(selector, NEW_SELECTORS)


@pytest.mark.parametrize("selector", ['{__name__="a", __name__="b"}', 'a{__name__="b"}', '{"a" or "b", "a"}',
                                      'a{x="1" or __name__="b"}', "{a}"])
def test_selectors_naming_two_metrics_in_one_group(selector):
    with pytest.raises(SelectorError):
        check_series_selector(selector, NEW_SELECTORS)


def test_metric_names_were_checked_across_or_groups_before_1_117():
    with pytest.raises(SelectorError, match="metric name must not be set twice"):
        check_series_selector('{__name__="a" or __name__="b"}', V1112_SELECTORS)
    check_series_selector('{__name__="a", __name__="b"}', SelectorSyntax(allow_or=True))  # as 1.79 - 1.110


def test_if_selectors_in_a_config_by_version():
    config = job("relabel_configs: [{action: drop, if: '{\"a\" or \"b\"}'}]\n")
    assert "set twice" in only_error(config, vm_version="1.112.0").message
    assert errors(config, vm_version="1.117.0") == []
    assert "where a label name belongs" in only_error(config, vm_version="1.110.0").message


def test_a_newer_version_is_checked_as_the_newest_known_and_said_once():
    config = job("linode_sd_configs: [{port: 80}]\nrelabel_configs: [{action: drop, if: '{\"a\" or \"b\"}'}]\n")
    found = check(config, vm_version="1.151.2")
    assert [finding.warning_id for finding in found] == ["newer-version"]
    assert "v1.151.2" in found[0].message and "checked as v1.150.0" in found[0].message
    dropped = only_error(job("relabel_configs: [{}]\n"), vm_version="2.0.0")
    assert "v1.150.0 would log this" in dropped.message
    assert [finding.warning_id for finding in check(config, vm_version="1.150.0")] == []
    assert check(config, vm_version="1.151.2", disabled_warnings=frozenset({"newer-version"})) == []


def test_keys_backported_to_long_term_support_lines():
    config = job("ec2_sd_configs: [{region: r, profile: p}]\n")
    assert errors(config, vm_version="1.136.3") and errors(config, vm_version="1.136.4") == []
    assert errors(config, vm_version="1.139.0") and errors(config, vm_version="1.140.0") == []


def test_docs_name_the_newest_known_release():
    root = Path(__file__).resolve().parents[2]
    for name in ("README.md", "plugins/modules/scrape_config.py", "plugins/filter/validate_scrape_config.yml",
                 "plugins/filter/validate_rule_file.yml"):
        assert f"up to {NEWEST_KNOWN}" in (root / name).read_text(encoding="utf-8"), name
