# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The shared service step (role common) when a run or a service fails:
issue #10 items 2 (a lost reload), 4 (rollback of a failed start), 5 (a
bounded health wait) and 6 (a unit left failed by its start limit); and
issue #11's role tags and per-role facts (converge.yml gathers no facts).

Tests run in file order on one host and each leaves vmagent and node_exporter
running; from the lost-reload test on, vmagent's scrape interval is 15s.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from stacktest import PlaybookRun, http_get, run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
HOST = "vmstack-rel-1"
MARKER = "/var/lib/vmstack/pending/vmagent"
SCRAPE_FILE = "/etc/vmagent/scrape.yml"
RELABEL_FILE = "/etc/vmagent/remote-write-relabel.yml"
HEALTH = "http://127.0.0.1:8429/health"
NEW_INTERVAL = {"reliability_scrape_interval": "15s"}
VMAGENT_BINARY = "/usr/local/bin/vmagent-prod"


def converge(tag: str, extra_vars: dict[str, Any] | None = None, check: bool = False) -> PlaybookRun:
    options = ["--tags", tag] + (["--check", "--diff"] if check else [])
    return run_playbook(CONVERGE, [HOST], extra_vars=extra_vars, options=options)


def served_interval(host) -> str:
    """The scrape interval vmagent has loaded (not the one in the file)."""
    targets = json.loads(http_get(host, "http://127.0.0.1:8429/api/v1/targets"))["data"]["activeTargets"]
    return targets[0]["discoveredLabels"]["__scrape_interval__"]


def interval_on_disk(host) -> str:
    return re.search(r"scrape_interval: (\S+)", host.file(SCRAPE_FILE).content_string).group(1)


def unit_state(host, unit: str) -> dict[str, str]:
    output = host.check_output(f"systemctl show --property ActiveState,Result,MainPID {unit}")
    return dict(line.split("=", 1) for line in output.splitlines())


def command_line(host, unit: str) -> str:
    return host.check_output(f"tr '\\0' ' ' < /proc/{unit_state(host, unit)['MainPID']}/cmdline")


def host_clock(host) -> int:
    return int(host.check_output("date +%s"))


def starts_since(host, unit: str, since: int) -> list[float]:
    """When systemd started the unit since a Unix time, in seconds of the boot clock."""
    output = host.check_output(f"journalctl --unit {unit}.service --output json --no-pager --since @{since}")
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    return [int(entry["__MONOTONIC_TIMESTAMP"]) / 1e6 for entry in entries
            if str(entry.get("MESSAGE", "")).startswith(f"Started {unit}.service")]


def backup_leftovers(host) -> list[str]:
    found = host.check_output("find /usr/local/bin /etc/systemd/system /etc/vmagent -name '*~'")
    return found.split()


def test_converged_services_are_healthy_and_leave_nothing_behind(host):
    assert "vmagent_http_requests_total" in http_get(host, "http://127.0.0.1:8429/metrics")
    assert "node_exporter_build_info" in http_get(host, "http://127.0.0.1:9100/metrics")
    assert not host.file(MARKER).exists
    assert backup_leftovers(host) == []


def test_a_config_written_but_not_loaded_is_loaded_by_the_next_run(host):
    assert served_interval(host) == "10s"

    # Check mode reports the change and writes nothing, no pending note either.
    preview = converge("vmagent", NEW_INTERVAL, check=True)
    assert preview.returncode == 0 and preview.changed(HOST) > 0, preview.output
    assert not host.file(MARKER).exists and interval_on_disk(host) == "10s"

    # A remote-write relabel config that vmagent's dry run refuses fails the run
    # after the scrape config was written (the controller's checks cannot see it).
    broken = converge("vmagent", {**NEW_INTERVAL,
                                  "vmagent_remote_write_relabel_configs": [{"action": "no_such_action"}]})
    assert broken.returncode != 0, broken.output
    assert interval_on_disk(host) == "15s", "the run must fail after writing the scrape config"
    assert served_interval(host) == "10s"
    assert host.file(MARKER).exists

    # With nothing left to change, check mode still reports the pending reload and keeps the note.
    preview = converge("vmagent", NEW_INTERVAL, check=True)
    assert preview.returncode == 0 and preview.changed(HOST) == 1, preview.output
    assert host.file(MARKER).exists and served_interval(host) == "10s"

    # The reload is the one change; the note goes with it, so the run after is idempotent again.
    fixed = converge("vmagent", NEW_INTERVAL)
    assert fixed.returncode == 0 and fixed.changed(HOST) == 1, fixed.output
    assert served_interval(host) == "15s"
    assert not host.file(MARKER).exists


def test_a_relabel_config_is_written_and_removed_by_one_step_and_vmagent_follows(host):
    relabel_step = "vmstack.monitoring.common : Write the remote write relabel config"
    rules = [{"action": "drop", "source_labels": ["job"], "regex": "no-such-job"}]

    written = converge("vmagent", {**NEW_INTERVAL, "vmagent_remote_write_relabel_configs": rules})

    assert written.returncode == 0, written.output
    assert relabel_step in changed_tasks(written), written.output
    assert "no-such-job" in host.file(RELABEL_FILE).content_string
    assert f"-remoteWrite.relabelConfig={RELABEL_FILE}" in command_line(host, "vmagent")

    removed = converge("vmagent", NEW_INTERVAL)

    assert removed.returncode == 0, removed.output
    assert relabel_step in changed_tasks(removed), removed.output
    assert not host.file(RELABEL_FILE).exists
    # The flag went with the file: vmagent runs without it, not on a file that is gone.
    assert "-remoteWrite.relabelConfig" not in command_line(host, "vmagent")
    assert http_get(host, HEALTH).strip() == "OK"
    assert not host.file(MARKER).exists
    again = converge("vmagent", NEW_INTERVAL)
    assert again.returncode == 0 and again.changed(HOST) == 0, again.output


def test_a_failed_start_is_rolled_back_at_once(host):
    unit_before = host.file("/etc/systemd/system/vmagent.service").content_string
    command_before = command_line(host, "vmagent")
    since = host_clock(host)

    # A value only the binary judges: an unknown flag never gets this far, the
    # flag catalogue refuses it on the controller.
    run = converge("vmagent", {**NEW_INTERVAL, "vmagent_extra_flags": {"memory.allowedPercent": "not-a-number"}})

    assert run.returncode != 0, run.output
    assert "rolled back: restored /etc/systemd/system/vmagent.service" in run.output, run.output
    assert "for flag -memory.allowedPercent: parse error" in run.output, run.output
    assert "is running again on its previous files" in run.output, run.output
    assert host.file("/etc/systemd/system/vmagent.service").content_string == unit_before
    assert unit_state(host, "vmagent")["ActiveState"] == "active"
    assert command_line(host, "vmagent") == command_before
    assert http_get(host, HEALTH).strip() == "OK"
    assert backup_leftovers(host) == []
    # The new process exits at once: the wait ends then, not at the 60 s timeout.
    failed_start, rollback_start = starts_since(host, "vmagent", since)[-2:]
    assert rollback_start - failed_start < 5, (failed_start, rollback_start)


def test_the_health_wait_ends_at_its_timeout(host):
    """A health URL that accepts connections but never answers: each probe
    must end at the deadline too. Here the new unit listens where it did before
    while the health URL moves to a port that never answers, so both waits (the
    new unit's and the rolled-back one's) end at the timeout. The preflight
    refuses moving the listener with vmagent_extra_flags (the role's port
    check), so this test lifts that check through the internal
    __vmagent_managed_flags."""
    host.check_output(
        "systemd-run --unit rel-blackhole python3 -c "
        "'import socket, time; s = socket.socket(); s.bind((\"127.0.0.1\", 18999)); s.listen(64); time.sleep(900)'"
    )
    try:
        since = host_clock(host)
        run = converge("vmagent", {**NEW_INTERVAL, "vmagent_port": 18999, "vmagent_health_timeout": 6,
                                   "vmagent_extra_flags": {"httpListenAddr": ":8429", "loggerLevel": "INFO"},
                                   "__vmagent_managed_flags": {}})
    finally:
        host.run("systemctl stop rel-blackhole")
    assert run.returncode != 0, run.output
    assert "did not answer 200 within 6 s" in run.output, run.output
    assert "did not come back on its previous files either" in run.output, run.output
    new_start, rollback_start = starts_since(host, "vmagent", since)[-2:]
    assert 6 <= rollback_start - new_start < 9, (new_start, rollback_start)
    assert http_get(host, HEALTH).strip() == "OK"


def test_a_unit_stopped_by_its_start_limit_is_started_again(host):
    """Killed with SIGKILL and started again at once (rather than after
    RestartSec, to keep the test short), node_exporter hits StartLimitBurst
    and systemd leaves it failed; the next run, well within
    StartLimitIntervalSec, starts it."""
    since = host_clock(host)
    for _attempt in range(10):
        if unit_state(host, "node_exporter")["ActiveState"] == "failed":
            break
        host.run("systemctl kill --signal KILL node_exporter && systemctl start node_exporter")
    assert unit_state(host, "node_exporter")["ActiveState"] == "failed"
    journal = host.check_output(f"journalctl --unit node_exporter.service --no-pager --since @{since}")
    assert "Start request repeated too quickly" in journal, journal

    run = converge("node_exporter")

    assert run.returncode == 0 and run.changed(HOST) == 1, run.output
    assert unit_state(host, "node_exporter")["ActiveState"] == "active"
    assert "node_exporter_build_info" in http_get(host, "http://127.0.0.1:9100/metrics")


def changed_tasks(run: PlaybookRun) -> set[str]:
    """The names of the tasks that reported a change on the host."""
    changed, task = set(), ""
    for line in run.output.splitlines():
        header = re.match(r"TASK \[(.*)\] \*+$", line)
        if header:
            task = header.group(1)
        elif line.startswith(f"changed: [{HOST}]"):
            changed.add(task)
    return changed


def served_jobs(host) -> set[str]:
    targets = json.loads(http_get(host, "http://127.0.0.1:8429/api/v1/targets"))["data"]["activeTargets"]
    return {target["labels"]["job"] for target in targets}


def binary_identity(host) -> str:
    return host.check_output(f"stat --format '%i %Y' {VMAGENT_BINARY}")


def with_jobs(*jobs: dict[str, Any]) -> dict[str, Any]:
    """converge.yml's vmagent scrape config (at the 15s interval) with more jobs."""
    return {**NEW_INTERVAL, "vmagent_scrape_config": {
        "global": {"scrape_interval": "15s"},
        "scrape_configs": [{"job_name": "node", "static_configs": [{"targets": ["127.0.0.1:9100"]}]}, *jobs],
    }}


def test_the_configure_tag_makes_a_new_scrape_config_live_and_touches_nothing_else(host):
    binary_before = binary_identity(host)
    pid_before = unit_state(host, "vmagent")["MainPID"]
    assert served_jobs(host) == {"node"}
    # The scrape config's task notes the reload as pending itself.
    config_steps = {"vmstack.monitoring.common : Write (or remove) the scrape config of vmagent"}
    reload_step = "vmstack.monitoring.common : Start, restart or reload, and wait until healthy - vmagent"

    run = converge("vmagent_configure", with_jobs({"job_name": "self", "static_configs": [{"targets": ["127.0.0.1:8429"]}]}))

    assert run.returncode == 0, run.output
    assert changed_tasks(run) == config_steps | {reload_step}, run.output
    assert "Install the binaries of vmagent" not in run.output, "the install step ran"
    assert wait_for(lambda: served_jobs(host) == {"node", "self"}, timeout=30), served_jobs(host)
    assert binary_identity(host) == binary_before
    assert unit_state(host, "vmagent")["MainPID"] == pid_before, "vmagent was restarted, not reloaded"
    assert not host.file(MARKER).exists

    restored = converge("vmagent_configure", NEW_INTERVAL)

    assert restored.returncode == 0, restored.output
    assert changed_tasks(restored) == config_steps | {reload_step}, restored.output
    assert wait_for(lambda: served_jobs(host) == {"node"}, timeout=30), served_jobs(host)
    assert binary_identity(host) == binary_before


def test_the_run_tag_alone_reads_skipped_steps_as_unchanged(host):
    """Install and configure skipped: nothing restarts or reloads, and an
    earlier role's result under a shared name (node_exporter's binaries,
    installed in the same run) is not taken for vmagent's."""
    pid_before = unit_state(host, "vmagent")["MainPID"]
    # Renamed over, as the running binary cannot be written: the role puts the release's back.
    host.check_output("cp -p /usr/local/bin/node_exporter /root/node_exporter.kept"
                      " && echo stale > /usr/local/bin/.stale && mv /usr/local/bin/.stale /usr/local/bin/node_exporter")
    try:
        run = converge("node_exporter_install,vmagent_run", NEW_INTERVAL)
    finally:
        host.run("cmp -s /root/node_exporter.kept /usr/local/bin/node_exporter"
                 " || mv /root/node_exporter.kept /usr/local/bin/node_exporter")
        host.run("rm -f /root/node_exporter.kept")
    assert run.returncode == 0, run.output
    assert changed_tasks(run) == {
        "vmstack.monitoring.common : Install the binaries of node_exporter",
        "vmstack.monitoring.common : Start, restart or reload, and wait until healthy - node_exporter",
    }, run.output
    assert unit_state(host, "vmagent")["MainPID"] == pid_before
    assert "node_exporter_build_info" in http_get(host, "http://127.0.0.1:9100/metrics")
    assert backup_leftovers(host) == []


def test_a_role_applied_without_any_fact_play_gathers_its_facts_and_changes_nothing(host):
    run = converge("node_exporter")

    assert run.returncode == 0 and run.changed(HOST) == 0, run.output
    gathered = re.search(r"TASK \[vmstack\.monitoring\.common : Gather the architecture and the OS family\] \*+\n(\w+): \[", run.output)
    assert gathered and gathered.group(1) == "ok", "the role did not gather its facts itself"
