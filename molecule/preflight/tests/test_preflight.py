# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Issue 10 on real hosts: shared directories are never taken over (item 1), and
every setting of every host is checked before the first change (item 3), a
flag the release does not know among them (issue 13).

The verifier's host is vmstack-pre-shared (VictoriaMetrics and vmagent with
vmagent_queue_path /var/lib/vmagent-queue); vmstack-pre-fresh stays untouched
until the last test, which must leave it so.
"""

from __future__ import annotations

import re
from pathlib import Path

from stacktest import container, http_get, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
SHARED = "vmstack-pre-shared"
FRESH = "vmstack-pre-fresh"
QUEUE = "/var/lib/vmagent-queue"
COMPONENTS = ("node_exporter", "victoria_metrics", "vmagent", "vmalert", "alertmanager")


def test_the_shared_parent_keeps_its_owner_and_mode(host):
    parent = host.file("/var/lib")
    assert (parent.user, parent.group, parent.mode) == ("root", "root", 0o755)
    queue = host.file(QUEUE)
    assert (queue.user, queue.group, queue.mode) == ("vmagent", "vmagent", 0o700)


def test_vmagent_may_write_only_its_queue(host):
    paths = host.check_output("systemctl show --property ReadWritePaths --value vmagent")
    assert paths.split() == [QUEUE]


def test_vmagent_keeps_its_queue_there(host):
    assert http_get(host, "http://127.0.0.1:8429/health").strip() == "OK"
    assert wait_for(lambda: host.file(f"{QUEUE}/persistent-queue").is_directory, timeout=30)


def test_victoria_metrics_beside_it_restarts_healthy(host):
    host.check_output("systemctl restart victoria-metrics")
    assert wait_for(lambda: host.service("victoria-metrics").is_running
                    and host.run("curl -fsS http://127.0.0.1:8428/health").stdout.strip() == "OK", timeout=60)
    data = host.file("/var/lib/victoria-metrics")
    assert (data.user, data.mode) == ("victoria-metrics", 0o700)


def _unit_checksums(host) -> str:
    return host.check_output("sha256sum /etc/systemd/system/victoria-metrics.service /etc/systemd/system/vmagent.service")


def test_bad_settings_on_one_host_stop_every_host_before_any_change(host):
    before = _unit_checksums(host)
    groups = {name: [FRESH] for name in COMPONENTS}
    groups["victoria_metrics"].append(SHARED)
    groups["vmagent"].append(SHARED)
    run = run_playbook(CONVERGE, [SHARED, FRESH], groups=groups, inventories=[SCENARIO / "tests" / "bad-fresh-host.yml"],
                       extra_vars={"alertmanager_templates": [str(SCENARIO / "tests" / "broken.tmpl")]})

    assert run.returncode != 0
    assert "Stop before any change when a setting is wrong" in run.output
    for finding in (
        f"{FRESH}: victoria_metrics_data_path '/var/lib' is a system directory",
        f"{FRESH}: vmalert_evaluation_interval is 'abc'; write a duration",
        f"{FRESH}: alertmanager_port is 'abc'; write a port number from 1 to 65535.",
        f"{FRESH}: vmagent_extra_flags['promscrape.suppressScrapeErrors'] contains a line break",
        # Flags the release does not know (the flag catalogue), with the name it does.
        f"{SHARED}: vmagent_extra_flags names '-remoteWrite.flushInterva', which vmagent 1.150.0 does not know; "
        f"did you mean '-remoteWrite.flushInterval'?",
        f"{FRESH}: vmalert_secret_flags names '-datasource.basicAuth.pasword', which vmalert 1.150.0 does not know; "
        f"did you mean '-datasource.basicAuth.password'?",
    ):
        assert finding in run.output, finding
    assert "not-shown-in-any-finding" not in run.output
    # What only the release's binaries judge, judged by them on the controller.
    for finding in (
        rf"{FRESH}: vmalert-prod [0-9.]+, run on the controller, refuses "
        r"/etc/vmalert/rules/inline-groups.yml \(from vmalert_rule_groups\): .*sum\(rate\(x\[5m\]\)",
        rf"{FRESH}: amtool [0-9.]+, run on the controller, refuses "
        r"/etc/alertmanager/alertmanager.yml with its notification templates: template: broken.tmpl:2: unclosed action",
    ):
        assert re.search(finding, run.output), finding
    assert "invalid literal for int()" not in run.output
    assert run.changed(SHARED) == 0 and run.changed(FRESH) == 0
    # Nothing reached either host: no deploy play started.
    assert "PLAY [Deploy" not in run.output
    assert _unit_checksums(host) == before

    fresh = container(FRESH)
    for user in ("victoria-metrics", "vmagent", "vmalert", "alertmanager", "node-exporter"):
        assert not fresh.user(user).exists, user
    for path in ("/usr/local/bin/victoria-metrics-prod", "/usr/local/bin/vmagent-prod", "/etc/victoria-metrics",
                 "/etc/vmagent", "/etc/systemd/system/victoria-metrics.service", "/etc/systemd/system/vmagent.service",
                 "/etc/systemd/system/node_exporter.service", "/var/lib/vmagent-queue"):
        assert not fresh.file(path).exists, path
    var_lib = fresh.file("/var/lib")
    assert (var_lib.user, var_lib.group, var_lib.mode) == ("root", "root", 0o755)
