#!/usr/bin/env python3
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark (prints figures; not a test): how long playbooks/setup.yml takes
to deploy the five-service stack (node_exporter, VictoriaMetrics, vmagent,
Alertmanager, vmalert) on fresh hosts, and to re-run with nothing to change,
against a floor play that this script carries itself: five tasks, no facts,
that install the same binaries, write minimal configs and the units, start the
services and wait for their health endpoints. The ratio to that floor is the
price of what the collection adds (users, hardening, checks, health gates).

    source tests/bench/env.sh && source "$VMSTACK_VENV/bin/activate"
    tests/bench/bench-converge.py                          # SSH, 1 and 8 hosts, 3 runs
    tests/bench/bench-converge.py --transport podman --hosts 1
    tests/bench/bench-converge.py --transport mitogen-ssh --hosts 1,8

Transports: `ssh` (OpenSSH with pipelining and ControlPersist, Ansible's own
strategy: what most users have), `podman` (containers.podman's connection),
`mitogen-ssh` and `mitogen-podman` (Mitogen's strategy). Each run starts fresh
Podman hosts of the test image; the collection's and the floor's runs
alternate (A B A B ...), and the medians are printed. Release archives come
from the bench's offline directory through a controller cache kept between
runs, as on an operator's machine after the first deployment.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STACK_GROUPS = ("node_exporter", "victoria_metrics", "vmagent", "alertmanager", "vmalert")
TRANSPORTS = ("ssh", "podman", "mitogen-ssh", "mitogen-podman")

# The floor: the same binaries, the smallest configs that start, one unit each.
FLOOR_SERVICES = {
    "victoria-metrics": ("VictoriaMetrics/v{vm}/victoria-metrics-linux-amd64-v{vm}.tar.gz", "victoria-metrics-prod",
                         "-storageDataPath=/var/lib/floor-vm -httpListenAddr=:8428", "http://127.0.0.1:8428/health"),
    "vmagent": ("VictoriaMetrics/v{vm}/vmutils-linux-amd64-v{vm}.tar.gz", "vmagent-prod",
                "-remoteWrite.url=http://127.0.0.1:8428/api/v1/write -remoteWrite.tmpDataPath=/var/lib/floor-vmagent "
                "-promscrape.config=/usr/local/etc/floor-scrape.yml", "http://127.0.0.1:8429/health"),
    "vmalert": ("VictoriaMetrics/v{vm}/vmutils-linux-amd64-v{vm}.tar.gz", "vmalert-prod",
                "-rule=/usr/local/etc/floor-rules.yml -datasource.url=http://127.0.0.1:8428 "
                "-notifier.url=http://127.0.0.1:9093", "http://127.0.0.1:8880/health"),
    "alertmanager": ("alertmanager/v{am}/alertmanager-{am}.linux-amd64.tar.gz", "alertmanager-{am}.linux-amd64/alertmanager",
                     "--config.file=/usr/local/etc/floor-alertmanager.yml --storage.path=/var/lib/floor-am "
                     "--cluster.listen-address=", "http://127.0.0.1:9093/-/healthy"),
    "node_exporter": ("node_exporter/v{ne}/node_exporter-{ne}.linux-amd64.tar.gz",
                      "node_exporter-{ne}.linux-amd64/node_exporter", "", "http://127.0.0.1:9100/metrics"),
}
FLOOR_CONFIGS = {
    "scrape.yml": "scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:9100']\n",
    "rules.yml": "groups:\n  - name: floor\n    rules:\n      - alert: Up\n        expr: up == 0\n",
    "alertmanager.yml": "route:\n  receiver: none\nreceivers:\n  - name: none\n",
}
FLOOR_PLAY = """\
- name: Floor - the same binaries, configs, units, start, health
  hosts: all
  gather_facts: false
  tasks:
    - name: Install the binaries
      ansible.builtin.copy: {src: "{{ floor_dir }}/{{ item.key }}", dest: "/usr/local/bin/{{ item.key }}", mode: "0755"}
      loop: "{{ floor_services | dict2items }}"
    - name: Write the configs
      ansible.builtin.copy: {content: "{{ item.value }}", dest: "/usr/local/etc/floor-{{ item.key }}", mode: "0644"}
      loop: "{{ floor_configs | dict2items }}"
    - name: Write the units
      ansible.builtin.copy:
        dest: "/etc/systemd/system/floor-{{ item.key }}.service"
        mode: "0644"
        content: |
          [Service]
          ExecStart=/usr/local/bin/{{ item.key }} {{ item.value.flags }}
          StateDirectory=floor-vm floor-vmagent floor-am
          [Install]
          WantedBy=multi-user.target
      loop: "{{ floor_services | dict2items }}"
    - name: Start the services
      ansible.builtin.systemd_service: {name: "floor-{{ item.key }}", state: started, enabled: true, daemon_reload: true}
      loop: "{{ floor_services | dict2items }}"
    - name: Wait for health
      ansible.builtin.uri: {url: "{{ item.value.health }}"}
      loop: "{{ floor_services | dict2items }}"
      register: health
      until: health.status == 200
      retries: 30
      delay: 1
"""


@dataclass
class Timing:
    fresh: float
    rerun: float
    changed_on_rerun: int
    tasks_fresh: int
    tasks_rerun: int


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def versions() -> dict[str, str]:
    def default(role: str, variable: str) -> str:
        text = (REPO / "roles" / role / "defaults" / "main.yml").read_text()
        return re.search(rf'^{variable}: "?([0-9.]+)"?$', text, re.MULTILINE).group(1)
    return {"vm": default("victoria_metrics", "victoria_metrics_version"),
            "am": default("alertmanager", "alertmanager_version"),
            "ne": default("node_exporter", "node_exporter_version")}


def unpack_floor_binaries(artifacts: Path, into: Path) -> dict[str, dict[str, str]]:
    """The floor's binaries, unpacked once before any timing (the floor's archive handling is free)."""
    wanted = versions()
    services = {}
    for binary_name, (archive, member, flags, health) in FLOOR_SERVICES.items():
        with tarfile.open(artifacts / archive.format(**wanted)) as tar:
            data = tar.extractfile(member.format(**wanted)).read()
        (into / binary_name).write_bytes(data)
        services[binary_name] = {"flags": flags, "health": health}
    return services


class Hosts:
    """Fresh test hosts (Podman containers booting systemd) on their own network."""

    network = "vmstack-bench"

    def __init__(self, count: int, image: str, ssh_key: Path | None) -> None:
        self.names = [f"vmstack-bench-{os.getpid()}-{index}" for index in range(count)]
        self.image, self.ssh_key = image, ssh_key
        self.addresses: dict[str, str] = {}

    def __enter__(self) -> "Hosts":
        if subprocess.run(["podman", "network", "exists", self.network], check=False).returncode != 0:
            run(["podman", "network", "create", self.network])
        for name in self.names:
            run(["podman", "run", "-d", "--name", name, "--network", self.network, "--systemd=always",
                 "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768", self.image, "/sbin/init"])
        for name in self.names:
            self._wait_booted(name)
            inspect = json.loads(run(["podman", "inspect", name]).stdout)[0]
            self.addresses[name] = inspect["NetworkSettings"]["Networks"][self.network]["IPAddress"]
            if self.ssh_key:
                self._enable_ssh(name)
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["podman", "rm", "-f", "-t", "0", *self.names], capture_output=True, check=False)

    @staticmethod
    def _wait_booted(name: str) -> None:
        for _attempt in range(100):
            state = subprocess.run(["podman", "exec", name, "systemctl", "is-system-running"],
                                   capture_output=True, text=True, check=False).stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(0.2)
        raise SystemExit(f"{name} did not boot")

    def _enable_ssh(self, name: str) -> None:
        public_key = Path(f"{self.ssh_key}.pub").read_text()
        run(["podman", "exec", "-i", name, "sh", "-c",
             "mkdir -p -m 700 /root/.ssh && cat > /root/.ssh/authorized_keys && systemctl start ssh"],
            input=public_key)

    def inventory(self, transport: str, groups: tuple[str, ...], extra: dict) -> dict:
        host_vars = {}
        for name in self.names:
            if transport.endswith("ssh"):
                host_vars[name] = {"ansible_host": self.addresses[name], "vmstack_address": self.addresses[name]}
            else:
                host_vars[name] = {"ansible_connection": "podman", "vmstack_address": self.addresses[name]}
        common = {"ansible_python_interpreter": "/usr/bin/python3", "ansible_user": "root", **extra}
        if transport.endswith("ssh"):
            common["ansible_ssh_private_key_file"] = str(self.ssh_key)
        return {"all": {"vars": common, "hosts": host_vars,
                        "children": {group: {"hosts": {name: {} for name in self.names}} for group in groups}}}


def link_collection() -> str:
    """Make this checkout the installed vmstack.monitoring, as the tests do."""
    collections = Path(os.environ["VMSTACK_COLLECTIONS_PATH"])
    link = collections / "ansible_collections" / "vmstack" / "monitoring"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or link.resolve() != REPO:
        link.unlink(missing_ok=True)
        link.symlink_to(REPO)
    return str(collections)


def ansible_environment(transport: str) -> dict[str, str]:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=link_collection(), ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_PIPELINING="True",
               ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null",
               ANSIBLE_FORKS="8", ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACK_RESULT_FORMAT="yaml")
    if transport.startswith("mitogen"):
        import ansible_mitogen  # noqa: PLC0415 - only needed for this transport
        env["ANSIBLE_STRATEGY_PLUGINS"] = str(Path(ansible_mitogen.__file__).parent / "plugins" / "strategy")
        env["ANSIBLE_STRATEGY"] = "mitogen_linear"
    return env


def timed_playbook(playbook: Path, inventory: Path, env: dict[str, str], log: Path) -> tuple[float, int, int]:
    start = time.monotonic()
    completed = subprocess.run(["ansible-playbook", "-i", str(inventory), str(playbook)],
                               capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - start
    log.write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        raise SystemExit(f"{playbook.name} failed, see {log}:\n{completed.stdout[-3000:]}")
    changed = sum(int(number) for number in re.findall(r"changed=(\d+)", completed.stdout))
    executed = len(re.findall(r"^(?:ok|changed): \[", completed.stdout, re.MULTILINE))
    return elapsed, changed, executed


def one_round(kind: str, count: int, transport: str, work: Path, floor: dict, ssh_key: Path | None) -> Timing:
    with Hosts(count, os.environ["VMSTACK_IMAGE"], ssh_key if transport.endswith("ssh") else None) as hosts:
        if kind == "collection":
            playbook = REPO / "playbooks" / "setup.yml"
            extra = {"vmstack_archive_source": "local", "vmstack_archive_dir": os.environ["VMSTACK_ARTIFACTS"],
                     "vmstack_archive_cache_dir": str(work / "cache")}
            groups = STACK_GROUPS
        else:
            playbook = work / "floor.yml"
            extra = {"floor_dir": str(work / "floor"), "floor_services": floor, "floor_configs": FLOOR_CONFIGS}
            groups = ()
        inventory = work / f"inventory-{kind}.json"
        inventory.write_text(json.dumps(hosts.inventory(transport, groups, extra)))
        env = ansible_environment(transport)
        fresh, _changed, tasks_fresh = timed_playbook(playbook, inventory, env, work / f"{kind}-fresh.log")
        rerun, changed, tasks_rerun = timed_playbook(playbook, inventory, env, work / f"{kind}-rerun.log")
    return Timing(fresh, rerun, changed, tasks_fresh // count, tasks_rerun // count)


def median(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--transport", choices=TRANSPORTS, default="ssh")
    parser.add_argument("--hosts", default="1,8", help="host counts, comma-separated (default 1,8)")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    for variable in ("VMSTACK_IMAGE", "VMSTACK_ARTIFACTS", "VMSTACK_CACHE", "VMSTACK_COLLECTIONS_PATH"):
        if variable not in os.environ:
            raise SystemExit(f"{variable} is not set: source tests/bench/env.sh first")

    work = Path(os.environ["VMSTACK_CACHE"]) / "bench-converge"
    shutil.rmtree(work / "floor", ignore_errors=True)
    (work / "floor").mkdir(parents=True)
    (work / "floor.yml").write_text(FLOOR_PLAY)
    floor = unpack_floor_binaries(Path(os.environ["VMSTACK_ARTIFACTS"]), work / "floor")
    ssh_key = work / "id_ed25519"
    if not ssh_key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh_key)])

    print(f"transport: {options.transport}; versions: {versions()}; {options.runs} interleaved runs; "
          f"controller: {os.cpu_count()} cores; archives: offline directory, warm controller cache")
    for count in [int(number) for number in options.hosts.split(",")]:
        results: dict[str, list[Timing]] = {"collection": [], "floor": []}
        for _round in range(options.runs):
            for kind in results:
                results[kind].append(one_round(kind, count, options.transport, work, floor, ssh_key))
        ours, base = results["collection"], results["floor"]
        print(f"\n{count} host(s), forks 8:")
        for label, pick in (("fresh converge", lambda t: t.fresh), ("re-run, nothing to change", lambda t: t.rerun)):
            mine, floor_times = [pick(t) for t in ours], [pick(t) for t in base]
            ratio = statistics.median(mine) / statistics.median(floor_times)
            print(f"  {label:27s} collection {median(mine)}   floor {median(floor_times)}   ratio {ratio:.2f}x")
        print(f"  changed on re-run: collection {max(t.changed_on_rerun for t in ours)}, "
              f"floor {max(t.changed_on_rerun for t in base)}")
        print(f"  tasks executed per host: collection {ours[0].tasks_fresh} fresh / {ours[0].tasks_rerun} re-run, "
              f"floor {base[0].tasks_fresh} / {base[0].tasks_rerun} (loop items counted)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
