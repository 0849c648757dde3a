# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The shared service step (role common) when a run or a service fails:
issue #10 items 2 (a lost reload), 4 (rollback of a failed start), 5 (a
bounded health wait) and 6 (a unit left failed by its start limit).

Tests run in file order on one host and each leaves vmagent and node_exporter
running; from the lost-reload test on, vmagent's scrape interval is 15s.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from stacktest import PlaybookRun, http_get, run_playbook

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
HOST = "vmstack-rel-1"
MARKER = "/var/lib/vmstack/pending/vmagent"
SCRAPE_FILE = "/etc/vmagent/scrape.yml"
HEALTH = "http://127.0.0.1:8429/health"
NEW_INTERVAL = {"reliability_scrape_interval": "15s"}


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


def test_a_failed_start_is_rolled_back_at_once(host):
    unit_before = host.file("/etc/systemd/system/vmagent.service").content_string
    command_before = command_line(host, "vmagent")
    since = host_clock(host)

    run = converge("vmagent", {**NEW_INTERVAL, "vmagent_extra_flags": {"no.such.flag": "1"}})

    assert run.returncode != 0, run.output
    assert "rolled back: restored /etc/systemd/system/vmagent.service" in run.output, run.output
    assert "flag provided but not defined: -no.such.flag" in run.output, run.output
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
