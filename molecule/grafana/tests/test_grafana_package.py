# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The grafana role's install method `package` on a real systemd host, with apt.

Grafana's repository cannot be reached here: the hosts' apt installs the
Grafana STAND-IN packed as a .deb named `grafana` (the layout of Grafana's
package: /usr/share/grafana, grafana-server.service, a postinst that resets
owners and modes and restarts grafana-server on upgrade, as Grafana's does)
from a repository shaped like apt.grafana.com and signed with a throw-away
key, both made by tests/bench/build-grafana-stand-in.sh. prepare.yml serves
it inside the hosts on 127.0.0.1:8800. Real apt, dpkg, gpgv and systemd;
not real Grafana.

Two hosts are converged alike: HOST is then converged again and upgraded,
TWIN checked in check mode and asked for a version the repository lacks.
Their runs go side by side (a playbook run keeps about one core busy, and
runs on one container wait for each other), together with check mode on the
fresh host of test_grafana.py, to keep the scenario short. Tests run in
file order.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import pytest

from stacktest import PlaybookRun, artifacts_dir, container, http_get, run_playbook, wait_for
from grafana_scenario import CONVERGE, FRESH, GROUPS, NEW_VERSION, OLD_VERSION

HOST = "vmstack-grafana-package"
TWIN = "vmstack-grafana-package-twin"
MISSING_VERSION = "11.6.99-stand-in"
REPOSITORY = "http://127.0.0.1:8800"
HEALTH = "http://127.0.0.1:3000/api/health"


def converge(host: str, version: str, options: list[str] | None = None) -> PlaybookRun:
    return run_playbook(CONVERGE, [host], options=options, groups={"converged": [host], **GROUPS}, extra_vars={
        "grafana_install_method": "package",
        "grafana_version": version,
        "grafana_package_repository_url": REPOSITORY,
    })


def side_by_side(*runs: Callable[[], PlaybookRun]) -> list[PlaybookRun]:
    """Run playbooks at the same time; their results in the order given."""
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = [pool.submit(run) for run in runs]
        return [future.result() for future in futures]


def installed_package(host) -> str:
    """`<status> <version>` of the grafana package, as dpkg knows it."""
    return host.run("dpkg-query --show --showformat '${db:Status-Status} ${Version}' grafana").stdout


def main_pid(host) -> int:
    return int(host.check_output("systemctl show --property MainPID --value grafana"))


def start_count(host) -> int:
    journal = host.check_output("journalctl --unit grafana --no-pager --output cat")
    return sum(line.startswith("Started grafana.service") for line in journal.splitlines())


def assert_packaged_unit_never_ran(host) -> None:
    """grafana-server: masked, inactive, and its process never started."""
    assert host.run("systemctl is-enabled grafana-server").stdout.strip() == "masked"
    assert host.run("systemctl is-active grafana-server").stdout.strip() == "inactive"
    assert host.check_output("systemctl show --property ExecMainStartTimestampMonotonic --value grafana-server") == "0"


def assert_role_owners_and_modes(host) -> None:
    """What the package's postinst resets at every install and upgrade, as the role wants it."""
    found = {}
    for line in host.check_output(
            "stat --format '%n %U %G %a' /etc/grafana /etc/grafana/grafana.ini /etc/grafana/secret-key"
            " /var/lib/grafana /var/log/grafana /var/lib/grafana/dashboards /var/lib/grafana/dashboards/*").splitlines():
        path, owner, group, mode = line.split()
        found[path] = (owner, group, mode)
    dashboards = [path for path in found if path.startswith("/var/lib/grafana/dashboards/")]
    assert dashboards
    assert found == {
        "/etc/grafana": ("root", "grafana", "750"),
        "/etc/grafana/grafana.ini": ("root", "grafana", "640"),
        "/etc/grafana/secret-key": ("root", "root", "600"),
        "/var/lib/grafana": ("grafana", "grafana", "750"),
        "/var/log/grafana": ("grafana", "grafana", "750"),
        "/var/lib/grafana/dashboards": ("root", "grafana", "750"),
        **{path: ("root", "grafana", "640") for path in dashboards},
    }


@pytest.fixture(scope="module")
def package_host():
    return container(HOST)


@pytest.fixture(scope="module")
def twin_host():
    return container(TWIN)


# --- First converge, and check mode on a fresh host ---------------------------


@pytest.fixture(scope="module")
def first_round() -> dict[str, PlaybookRun]:
    converged, twin_converged, fresh_check = side_by_side(
        lambda: converge(HOST, OLD_VERSION), lambda: converge(TWIN, OLD_VERSION),
        lambda: converge(FRESH, OLD_VERSION, ["--check", "--diff"]))
    return {"converge": converged, "twin": twin_converged, "fresh_check": fresh_check}


def test_check_mode_on_a_fresh_host_changes_nothing_there(first_round):
    run = first_round["fresh_check"]
    assert run.returncode == 0, run.output
    assert run.changed(FRESH) > 0
    # The diff shows the repository the run would add.
    assert f"URIs: {REPOSITORY}" in run.output
    fresh = container(FRESH)
    assert installed_package(fresh) == ""
    for path in ("/etc/apt/sources.list.d/grafana.sources", "/etc/apt/keyrings/grafana.asc", "/usr/share/grafana",
                 "/etc/grafana", "/etc/systemd/system/grafana.service", "/etc/systemd/system/grafana-server.service"):
        assert not fresh.file(path).exists, path


def test_first_converge_succeeds(first_round, twin_host):
    for run in (first_round["converge"], first_round["twin"]):
        assert run.returncode == 0, run.output
    assert installed_package(twin_host) == f"installed {OLD_VERSION}"


def test_the_pinned_version_is_installed_though_a_newer_one_is_offered(package_host, first_round):
    assert installed_package(package_host) == f"installed {OLD_VERSION}"
    policy = package_host.check_output("apt-cache policy grafana")
    assert f"Candidate: {NEW_VERSION}" in policy and REPOSITORY in policy


def test_repository_is_added_with_its_key(package_host, first_round):
    assert package_host.file("/etc/apt/sources.list.d/grafana.sources").content_string.endswith(
        f"Types: deb\nURIs: {REPOSITORY}\nSuites: stable\nComponents: main\nSigned-By: /etc/apt/keyrings/grafana.asc\n")
    key = package_host.file("/etc/apt/keyrings/grafana.asc")
    assert key.content_string == (artifacts_dir() / "grafana-apt/gpg.key").read_text()
    assert (key.user, key.mode) == ("root", 0o644)


def test_role_unit_runs_the_package_files(package_host, first_round):
    service = package_host.service("grafana")
    assert service.is_running and service.is_enabled
    unit = package_host.file("/etc/systemd/system/grafana.service").content_string
    assert (
        'ExecStart="/usr/share/grafana/bin/grafana" \\\n    "server" \\\n'
        '    "--config=/etc/grafana/grafana.ini" \\\n    "--homepath=/usr/share/grafana"\n'
    ) in unit
    command_line = package_host.file(f"/proc/{main_pid(package_host)}/cmdline").content_string.split("\0")
    assert "/usr/share/grafana/bin/grafana" in command_line
    assert json.loads(http_get(package_host, HEALTH))["version"] == OLD_VERSION
    assert not package_host.file("/opt/grafana").exists


def test_packaged_unit_is_masked_and_never_ran(package_host, first_round):
    assert package_host.file("/usr/lib/systemd/system/grafana-server.service").exists
    assert_packaged_unit_never_ran(package_host)


def test_role_owners_and_modes_outlast_the_package_script(package_host, first_round):
    assert_role_owners_and_modes(package_host)


# --- Again, in check mode, and with a version the repository lacks -------------


@pytest.fixture(scope="module")
def second_round(first_round) -> dict[str, PlaybookRun]:
    converged, checked = side_by_side(lambda: converge(HOST, OLD_VERSION),
                                      lambda: converge(TWIN, OLD_VERSION, ["--check", "--diff"]))
    return {"converge": converged, "check": checked}


def test_second_converge_changes_nothing(second_round):
    run = second_round["converge"]
    assert run.returncode == 0, run.output
    assert run.changed(HOST) == 0, run.output


def test_check_mode_on_a_converged_host_reports_nothing(second_round):
    run = second_round["check"]
    assert run.returncode == 0, run.output
    assert run.changed(TWIN) == 0, run.output


@pytest.fixture(scope="module")
def last_round(package_host, twin_host, second_round) -> dict:
    before = {"pid": main_pid(package_host), "starts": start_count(package_host), "twin_pid": main_pid(twin_host)}
    upgraded, refused = side_by_side(lambda: converge(HOST, NEW_VERSION, ["-v"]),
                                     lambda: converge(TWIN, MISSING_VERSION))
    return {"upgrade": upgraded, "missing": refused, "before": before}


def test_a_version_the_repository_lacks_fails_clearly_and_changes_nothing(twin_host, last_round):
    run = last_round["missing"]
    assert run.returncode != 0
    assert (f"The Grafana package repository {REPOSITORY} has no grafana {MISSING_VERSION}; "
            f"it offers {NEW_VERSION}, {OLD_VERSION}. Set grafana_version to one of them.") in run.output
    assert installed_package(twin_host) == f"installed {OLD_VERSION}"
    assert main_pid(twin_host) == last_round["before"]["twin_pid"]


# --- The upgrade ----------------------------------------------------------------


def test_upgrade_installs_the_new_package(package_host, last_round):
    run = last_round["upgrade"]
    assert run.returncode == 0, run.output
    assert installed_package(package_host) == f"installed {NEW_VERSION}"


def test_upgrade_restarts_the_role_unit_once_on_the_new_files(package_host, last_round):
    before = last_round["before"]
    assert main_pid(package_host) not in (0, before["pid"])
    assert start_count(package_host) == before["starts"] + 1
    assert wait_for(lambda: json.loads(http_get(package_host, HEALTH))["version"] == NEW_VERSION, timeout=10)


def test_packaged_unit_stays_down_when_the_package_restarts_it(package_host, last_round):
    # The package's postinst did try (RESTART_ON_UPGRADE=true); the mask stopped it.
    output = last_round["upgrade"].output
    assert "Restarting grafana-server (RESTART_ON_UPGRADE=true)" in output
    assert "Unit grafana-server.service is masked" in output
    assert_packaged_unit_never_ran(package_host)


def test_upgrade_puts_back_what_the_package_script_reset(package_host, last_round):
    assert_role_owners_and_modes(package_host)
