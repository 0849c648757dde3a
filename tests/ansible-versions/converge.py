# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Converge playbooks/setup.yml with one given ansible-core on one fresh host.

    python3 tests/ansible-versions/converge.py --ansible-bin VENV/bin --junit REPORT.xml

Starts one Podman host of the test image ($VMSTACK_IMAGE), reached over
OpenSSH, deploys the five-service stack (node_exporter, VictoriaMetrics,
vmagent, Alertmanager, vmalert) from the bench's local archives with that
ansible-core's ansible-playbook, and checks: the play succeeds, each service
answers its health URL inside the host, a re-run changes nothing, and
--check --diff reports nothing to change.  Each check is one JUnit test case;
the last line is "N passed, N failed".  The host is removed at the end, also
on failure or interruption.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The stack's default ports (the roles' defaults) and each service's health URL.
HEALTH_URLS = {
    "node_exporter": "http://127.0.0.1:9100/metrics",
    "victoria_metrics": "http://127.0.0.1:8428/health",
    "vmagent": "http://127.0.0.1:8429/health",
    "alertmanager": "http://127.0.0.1:9093/-/healthy",
    "vmalert": "http://127.0.0.1:8880/health",
}


def load_bench() -> object:
    """The benchmark's host handling (Podman host, SSH, inventory), shared rather than repeated."""
    path = REPO / "tests" / "bench" / "bench-converge.py"
    spec = importlib.util.spec_from_file_location("bench_converge", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@dataclass
class Check:
    name: str
    failure: str  # empty when the check passed
    seconds: float


@dataclass
class PlaybookRun:
    returncode: int
    changed: int
    output: str


def playbook(ansible_bin: Path, inventory: Path, env: dict[str, str], log: Path, *options: str) -> PlaybookRun:
    command = [str(ansible_bin / "ansible-playbook"), "-i", str(inventory), *options, str(REPO / "playbooks" / "setup.yml")]
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    output = completed.stdout + completed.stderr
    log.write_text(output)
    changed = sum(int(number) for number in re.findall(r"changed=(\d+)", completed.stdout))
    return PlaybookRun(completed.returncode, changed, output)


def playbook_failure(run: PlaybookRun, log: Path, want_unchanged: bool) -> str:
    if run.returncode != 0:
        return f"ansible-playbook exited {run.returncode}; see {log}:\n{run.output[-3000:]}"
    if want_unchanged and run.changed:
        changed_tasks = re.findall(r"^changed: \[[^\]]+\].*$|^TASK \[.*$", run.output, re.MULTILINE)
        # Keep each "changed" line with the task heading above it.
        context = [line for index, line in enumerate(changed_tasks)
                   if line.startswith("changed") or (index + 1 < len(changed_tasks) and changed_tasks[index + 1].startswith("changed"))]
        return f"changed={run.changed}, expected 0; see {log}:\n" + "\n".join(context)
    return ""


def health_failure(host: str, url: str) -> str:
    # The services may still be starting right after the play; give them a few seconds.
    for _attempt in range(20):
        probe = subprocess.run(["podman", "exec", host, "curl", "-fsS", "-o", "/dev/null", "-w", "%{http_code}", url],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return ""
        time.sleep(0.5)
    return f"{url} on {host}: curl exit {probe.returncode}, HTTP {probe.stdout or '-'}: {probe.stderr.strip()}"


class Recorder:
    def __init__(self, suite: str) -> None:
        self.suite, self.checks = suite, []

    def check(self, name: str, function, *args) -> str:
        start = time.monotonic()
        failure = function(*args)
        self.checks.append(Check(name, failure, time.monotonic() - start))
        print(f"{'FAIL' if failure else 'ok  '} {name}" + (f"\n{failure}" if failure else ""), flush=True)
        return failure

    def skip_rest(self, names: list[str], reason: str) -> None:
        for name in names:
            self.checks.append(Check(name, reason, 0.0))
            print(f"FAIL {name}: {reason}")

    def write(self, path: Path | None) -> int:
        failed = sum(1 for check in self.checks if check.failure)
        if path:
            suite = ET.Element("testsuite", name=self.suite, tests=str(len(self.checks)), failures=str(failed),
                               errors="0", skipped="0")
            for check in self.checks:
                case = ET.SubElement(suite, "testcase", classname=self.suite, name=check.name, time=f"{check.seconds:.1f}")
                if check.failure:
                    ET.SubElement(case, "failure", message=check.failure.splitlines()[0]).text = check.failure
            path.parent.mkdir(parents=True, exist_ok=True)
            ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)
        print(f"{len(self.checks) - failed} passed, {failed} failed")
        return failed


def version_failure(ansible_bin: Path, release: str) -> str:
    """The playbooks must really run under the release the report names."""
    first_line = subprocess.run([str(ansible_bin / "ansible-playbook"), "--version"], capture_output=True, text=True,
                                check=False).stdout.partition("\n")[0]
    if not first_line.startswith(f"ansible-playbook [core {release}."):
        return f"{ansible_bin}/ansible-playbook is {first_line!r}, expected ansible-core {release}.x"
    return ""


def start_host(hosts) -> str:
    try:
        hosts.__enter__()
    except (subprocess.CalledProcessError, SystemExit) as error:
        return f"{hosts.names[0]} did not start: {error}: {getattr(error, 'stderr', '')}"
    return ""


def converge(options: argparse.Namespace, recorder: Recorder, work: Path) -> None:
    bench = load_bench()
    ssh_key = work / "id_ed25519"
    if not ssh_key.exists():  # kept between runs, like the bench's
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh_key)], check=True)
    hosts = bench.Hosts(1, os.environ["VMSTACK_IMAGE"], ssh_key)
    hosts.names = [f"vmstack-oldest-{os.getpid()}"]
    host = hosts.names[0]
    label = f"ansible-core {options.release}"
    later = ([f"{label}: setup.yml converges a fresh host"]
             + [f"{label}: {service} answers {url}" for service, url in HEALTH_URLS.items()]
             + [f"{label}: re-run changes nothing", f"{label}: --check --diff changes nothing"])
    if recorder.check(f"{label}: ansible-playbook is ansible-core {options.release}", version_failure,
                      options.ansible_bin, options.release):
        return
    try:
        # Removed in the finally below also when it failed half-way.
        if recorder.check(f"{label}: a fresh host {host} starts and takes SSH", start_host, hosts):
            recorder.skip_rest(later, "not run: no host")
            return
        extra = {"vmstack_archive_source": "local", "vmstack_archive_dir": os.environ["VMSTACK_ARTIFACTS"],
                 "vmstack_archive_cache_dir": str(work / "archives")}
        inventory = work / "inventory.json"
        inventory.write_text(json.dumps(hosts.inventory("ssh", tuple(HEALTH_URLS), extra)))
        env = bench.ansible_environment("ssh")

        log = work / "converge.log"
        if recorder.check(later[0], lambda: playbook_failure(
                playbook(options.ansible_bin, inventory, env, log), log, want_unchanged=False)):
            recorder.skip_rest(later[1:], "not run: the converge failed")
            return
        for service, url in HEALTH_URLS.items():
            recorder.check(f"{label}: {service} answers {url}", health_failure, host, url)
        for name, log_name, flags in ((later[-2], "rerun.log", ()), (later[-1], "check-diff.log", ("--check", "--diff"))):
            log = work / log_name
            recorder.check(name, lambda flags=flags, log=log: playbook_failure(
                playbook(options.ansible_bin, inventory, env, log, *flags), log, want_unchanged=True))
    finally:
        hosts.__exit__(None, None, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--ansible-bin", type=Path, required=True, help="bin directory of the ansible-core venv")
    parser.add_argument("--release", required=True, help="ansible-core release, for the test names (e.g. 2.16)")
    parser.add_argument("--junit", type=Path, help="write the checks as a JUnit report here")
    parser.add_argument("--logs", type=Path, help="keep the playbook logs here (default: a temporary directory)")
    options = parser.parse_args()
    # A SIGTERM (a CI timeout) unwinds like Ctrl-C, so that the host is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for variable in ("VMSTACK_IMAGE", "VMSTACK_ARTIFACTS", "VMSTACK_COLLECTIONS_PATH"):
        if variable not in os.environ:
            raise SystemExit(f"{variable} is not set: source tests/bench/env.sh first")
    recorder = Recorder(f"ansible-core-{options.release}-converge")
    with tempfile.TemporaryDirectory(prefix="vmstack-oldest-") as temporary:
        work = options.logs or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        try:
            converge(options, recorder, work)
        finally:
            failed = recorder.write(options.junit)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
