# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The victoria_metrics role on a real systemd host, with real binaries.

The converged host runs the role's default release (CURRENT); the fresh host,
once the check-mode test has used it, climbs with node_exporter and
Alertmanager from the oldest supported set of releases through Debian 13's to
the defaults. Tests run in file order: the last ones
change the hosts (bad config, upgrade).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from stacktest import artifacts_dir, container, http_get, query_vm, run_module, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
UPGRADE = SCENARIO / "upgrade.yml"
HOST = "vmstack-vm"
FRESH = "vmstack-vm-fresh"
BINARY = "/usr/local/bin/victoria-metrics-prod"
UNIT = "/etc/systemd/system/victoria-metrics.service"
BASE = "http://127.0.0.1:8428"
# The oldest supported release (Debian 12's), Debian 13's, and the role's default.
OLD_VERSION = "1.79.5"
NEW_VERSION = "1.112.0"
CURRENT_VERSION = "1.150.0"


def binary_sha256(version: str) -> str:
    """The sha256 of victoria-metrics-prod inside the release archive of a version."""
    import tarfile

    archive = artifacts_dir() / f"VictoriaMetrics/v{version}/victoria-metrics-linux-amd64-v{version}.tar.gz"
    with tarfile.open(archive) as tar:
        member = tar.extractfile("victoria-metrics-prod")
        assert member is not None
        return hashlib.sha256(member.read()).hexdigest()


def main_pid(host) -> str:
    return host.check_output("systemctl show --property MainPID --value victoria-metrics")


def start_count(host) -> int:
    """How many times systemd has started the service since the host booted."""
    journal = host.check_output("journalctl --unit victoria-metrics --no-pager --output cat")
    return len(re.findall(r"^Started victoria-metrics\.service", journal, flags=re.MULTILINE))


def test_service_active_and_enabled(host):
    service = host.service("victoria-metrics")
    assert service.is_running
    assert service.is_enabled


def test_health_endpoint_answers(host):
    assert http_get(host, f"{BASE}/health").strip() == "OK"


def test_sample_round_trips(host):
    host.check_output(
        "curl -fsS --data-binary 'vmstack_roundtrip{probe=\"verify\"} 42' "
        f"{BASE}/api/v1/import/prometheus"
    )
    assert wait_for(lambda: query_vm(host, "vmstack_roundtrip")[0]["value"][1] == "42", timeout=60)


def test_scrape_config_is_live(host):
    assert wait_for(lambda: query_vm(host, 'up{job="victoria-metrics"}')[0]["value"][1] == "1", timeout=60)


def test_binary_is_root_owned_and_0755(host):
    binary = host.file(BINARY)
    assert binary.user == "root" and binary.group == "root"
    assert binary.mode == 0o755
    assert binary.sha256sum == binary_sha256(CURRENT_VERSION)


def test_service_user_has_no_login_shell(host):
    user = host.user("victoria-metrics")
    assert user.shell == "/usr/sbin/nologin"
    data = host.file("/var/lib/victoria-metrics")
    assert data.user == "victoria-metrics" and data.mode == 0o700


def test_flags_are_quoted_and_carry_no_secret(host):
    unit = host.file("/etc/systemd/system/victoria-metrics.service").content_string
    assert '"-retentionPeriod=2y"' in unit
    assert '"-search.latencyOffset=2s"' in unit
    assert "-promscrape.config=/etc/victoria-metrics/scrape.yml" in unit


def test_systemd_analyze_verify_accepts_the_unit(host):
    result = host.run("systemd-analyze verify /etc/systemd/system/victoria-metrics.service")
    assert result.rc == 0, result.stderr
    assert "victoria-metrics.service" not in result.stderr, result.stderr


def test_systemd_security_exposure_is_low(host):
    output = host.check_output("systemd-analyze security --no-pager victoria-metrics.service")
    match = re.search(r"Overall exposure level for victoria-metrics\.service: ([0-9.]+)", output)
    assert match, output
    exposure = float(match.group(1))
    print(f"systemd-analyze security exposure: {exposure}")
    assert exposure < 4.0, output


def test_check_mode_on_a_fresh_host_changes_nothing_there():
    fresh = container(FRESH)
    run = run_playbook(CONVERGE, [FRESH], options=["--check", "--diff"])
    assert run.returncode == 0, run.output
    assert run.changed(FRESH) > 0
    assert not fresh.file(BINARY).exists
    assert not fresh.file("/etc/systemd/system/victoria-metrics.service").exists


def test_check_mode_on_a_converged_host_reports_nothing(host):
    run = run_playbook(CONVERGE, [HOST], options=["--check", "--diff"])
    assert run.returncode == 0, run.output
    assert run.changed(HOST) == 0, run.output


def test_unknown_scrape_field_fails_and_old_config_keeps_serving(host):
    pid_before = main_pid(host)
    config_before = host.file("/etc/victoria-metrics/scrape.yml").content_string
    bad_config = {
        "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
        "scrape_configs": [{"job_name": "victoria-metrics", "static_configs": [{"targets": ["127.0.0.1:8428"]}]}],
    }
    run = run_playbook(CONVERGE, [HOST], extra_vars={"victoria_metrics_scrape_config": bad_config})
    assert run.returncode != 0
    assert "evaluation_interval" in run.output, run.output
    assert host.file("/etc/victoria-metrics/scrape.yml").content_string == config_before
    assert main_pid(host) == pid_before
    assert http_get(host, f"{BASE}/health").strip() == "OK"


def test_config_the_binary_refuses_is_not_installed(host):
    """The host-side check is the real binary: a file valid for an older release
    (relabel_debug went in 1.85) passes the controller check for 1.79.5 but is
    refused by the installed default release, and the live file stays as it was."""
    live = "/etc/victoria-metrics/scrape.yml"
    before = host.file(live).content_string
    older_only = (
        "scrape_configs:\n"
        "  - job_name: older\n"
        "    relabel_debug: true\n"
        "    static_configs: [{targets: ['127.0.0.1:8428']}]\n"
    )
    run = run_module(HOST, "vmstack.monitoring.scrape_config", {
        "dest": live, "content": older_only, "vm_version": OLD_VERSION, "binary": BINARY,
    })
    assert run.returncode != 0
    assert "rejected the new" in run.output and "relabel_debug" in run.output, run.output
    assert host.file(live).content_string == before


def test_an_empty_scrape_config_removes_the_file_and_the_flag_and_a_second_run_changes_nothing(host):
    live = "/etc/victoria-metrics/scrape.yml"
    run = run_playbook(CONVERGE, [HOST], extra_vars={"victoria_metrics_scrape_config": {}})
    assert run.returncode == 0, run.output
    assert not host.file(live).exists
    assert "-promscrape.config" not in host.file(UNIT).content_string
    assert http_get(host, f"{BASE}/health").strip() == "OK"
    again = run_playbook(CONVERGE, [HOST], extra_vars={"victoria_metrics_scrape_config": {}})
    assert again.returncode == 0 and again.changed(HOST) == 0, again.output

    restored = run_playbook(CONVERGE, [HOST])
    assert restored.returncode == 0, restored.output
    assert host.file(live).exists
    assert f"-promscrape.config={live}" in host.file(UNIT).content_string


def test_checksum_mismatch_fails_before_the_host_changes(host):
    corrupt = artifacts_dir() / "corrupt"  # holds the oldest release only
    pid_before = main_pid(host)
    run = run_playbook(CONVERGE, [HOST], extra_vars={
        "victoria_metrics_version": OLD_VERSION,
        "vmstack_archive_source": "local",
        "vmstack_archive_dir": str(corrupt),
        "vmstack_archive_cache_dir": "/tmp/vmstack-corrupt-cache",
    })
    assert run.returncode != 0
    assert "checksum mismatch" in run.output, run.output
    assert re.search(r"expects sha256 [0-9a-f]{64}", run.output)
    assert host.file(BINARY).sha256sum == binary_sha256(CURRENT_VERSION)
    assert main_pid(host) == pid_before


# Each supported set of releases, oldest first: Debian 12's, Debian 13's, and
# the roles' defaults (VictoriaMetrics, Alertmanager, node_exporter).
RELEASE_SETS = (
    {"victoria_metrics_version": OLD_VERSION, "alertmanager_version": "0.25.0", "node_exporter_version": "1.5.0"},
    {"victoria_metrics_version": NEW_VERSION, "alertmanager_version": "0.28.1", "node_exporter_version": "1.9.0"},
    {"victoria_metrics_version": CURRENT_VERSION, "alertmanager_version": "0.33.1", "node_exporter_version": "1.11.1"},
)


def converge_fresh(releases: dict[str, str]):
    return run_playbook(UPGRADE, [FRESH], extra_vars=releases)


def start_counts(host) -> dict[str, int]:
    """How many times systemd has started each upgraded service since the host booted."""
    journal = host.check_output("journalctl --no-pager --output cat "
                                "--unit victoria-metrics --unit alertmanager --unit node_exporter")
    return {unit: len(re.findall(rf"^Started {unit}\.service", journal, flags=re.MULTILINE))
            for unit in ("victoria-metrics", "alertmanager", "node_exporter")}


def runs_releases(host, releases: dict[str, str]) -> bool:
    """Whether the installed Alertmanager and node_exporter print these versions
    (Debian's builds may add "+ds": "version 0.28.1+ds (branch: ...")."""
    lines = host.check_output("/usr/local/bin/alertmanager --version 2>&1 | head -n1; "
                              "/usr/local/bin/node_exporter --version 2>&1 | head -n1")
    return all(re.search(rf"^{name}, version {re.escape(releases[name + '_version'])}[ +]", lines, flags=re.MULTILINE)
               for name in ("alertmanager", "node_exporter"))


def test_each_supported_release_set_upgrades_to_the_defaults_restarting_once_and_keeping_data():
    """Debian 12's releases -> Debian 13's -> the defaults on the fresh host:
    each step replaces the binaries, restarts each service once (each waits
    for its health URL), keeps VictoriaMetrics' data, and a re-run changes nothing."""
    fresh = container(FRESH)
    first = converge_fresh(RELEASE_SETS[0])
    assert first.returncode == 0, first.output
    assert fresh.file(BINARY).sha256sum == binary_sha256(OLD_VERSION)
    assert runs_releases(fresh, RELEASE_SETS[0])
    assert "SystemCallFilter=mincore" not in fresh.file(UNIT).content_string
    fresh.check_output("curl -fsS --data-binary 'vmstack_upgrade_probe 7' "
                       f"{BASE}/api/v1/import/prometheus")
    # Samples are searchable only after VictoriaMetrics flushes them (about 1 s).
    assert wait_for(lambda: len(query_vm(fresh, "vmstack_upgrade_probe")) == 1, timeout=60)

    for releases in RELEASE_SETS[1:]:
        starts_before = start_counts(fresh)
        run = converge_fresh(releases)
        assert run.returncode == 0, run.output
        assert fresh.file(BINARY).sha256sum == binary_sha256(releases["victoria_metrics_version"])
        assert runs_releases(fresh, releases), releases
        assert start_counts(fresh) == {unit: count + 1 for unit, count in starts_before.items()}, releases
        assert wait_for(lambda: query_vm(fresh, "vmstack_upgrade_probe")[0]["value"][1] == "7", timeout=60), releases

    again = converge_fresh(RELEASE_SETS[-1])
    assert again.returncode == 0 and again.changed(FRESH) == 0, again.output
    # 1.131.0 and later read their memory-mapped files with mincore(2).
    assert "SystemCallFilter=mincore" in fresh.file(UNIT).content_string
