# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Helpers for the Molecule verify steps (pytest-testinfra).

The tests talk to the containers directly over SSH (`ssh://NAME`, with the
SSH configuration ../create.yml writes), and run extra playbooks against them
with their own small inventory, so that a test can converge with other
variables (a bad config, a corrupt archive, a new version) exactly as a user
would.
"""

from __future__ import annotations

import json
import re
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import testinfra

REPO = Path(__file__).resolve().parent.parent


@dataclass
class PlaybookRun:
    returncode: int
    output: str

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        """Parse the PLAY RECAP lines into {host: {ok, changed, failed, ...}}."""
        recap: dict[str, dict[str, int]] = {}
        for match in re.finditer(r"^(\S+)\s+:\s+(ok=\d+.*)$", self.output, flags=re.MULTILINE):
            recap[match.group(1)] = {
                key: int(number) for key, number in re.findall(r"(\w+)=(\d+)", match.group(2))
            }
        return recap

    def changed(self, host: str) -> int:
        return self.recap[host]["changed"]


def run_playbook(
    playbook: Path,
    hosts: list[str],
    extra_vars: dict[str, Any] | None = None,
    options: list[str] | None = None,
    groups: dict[str, list[str]] | None = None,
    inventories: list[Path] | None = None,
) -> PlaybookRun:
    """Run a playbook against Podman containers, the way a user runs it.

    The hosts form the group "converged" unless ``groups`` names the inventory
    groups; ``inventories`` are more inventory sources (hosts that exist only
    on paper, for derived URLs).
    """
    with tempfile.TemporaryDirectory() as workdir:
        inventory = Path(workdir) / "inventory.yml"
        groups = {name: {"hosts": {host: {} for host in members}}
                  for name, members in (groups or {"converged": hosts}).items()}
        inventory.write_text(json.dumps({"all": {
            "vars": {"ansible_connection": "podman", "ansible_python_interpreter": "/usr/bin/python3"},
            "children": groups,
        }}))
        sources = [str(inventory)] + [str(source) for source in inventories or []]
        command = ["ansible-playbook"] + [arg for source in sources for arg in ("-i", source)] + [str(playbook)] + (options or [])
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_CALLBACK_RESULT_FORMAT="yaml", ANSIBLE_HOST_KEY_CHECKING="0")
        # A scenario converged with Ansible's own strategy may run its tests'
        # playbooks under Mitogen (tests/molecule.sh sets this).
        if os.environ.get("VMSTACK_TEST_STRATEGY"):
            env["ANSIBLE_STRATEGY"] = os.environ["VMSTACK_TEST_STRATEGY"]
        completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    output = completed.stdout + completed.stderr
    print(f"$ {shlex.join(command)}\n{output}")
    return PlaybookRun(completed.returncode, output)


def run_module(host: str, module: str, args: dict[str, Any]) -> PlaybookRun:
    """Run one module ad hoc against a container, e.g. to call a plugin directly."""
    with tempfile.TemporaryDirectory() as workdir:
        inventory = Path(workdir) / "inventory.yml"
        inventory.write_text(json.dumps({"all": {"hosts": {host: {
            "ansible_connection": "podman", "ansible_python_interpreter": "/usr/bin/python3"}}}}))
        command = ["ansible", "-i", str(inventory), host, "-m", module, "-a", json.dumps(args)]
        completed = subprocess.run(command, capture_output=True, text=True, check=False,
                                   env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    output = completed.stdout + completed.stderr
    print(f"$ {shlex.join(command)}\n{output}")
    return PlaybookRun(completed.returncode, output)


def container(name: str) -> Any:
    """A test host by its name, as the verifier's `host` fixture reaches it."""
    return testinfra.get_host(f"ssh://{name}", ssh_config=ssh_config())


def ssh_config() -> str:
    return str(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "ssh_config")


# Each installed binary, the role whose default release it comes from, and how
# its own version line names a release.
RELEASE_BINARIES = {
    "victoria-metrics-prod": ("victoria_metrics", "-version", "-tags-v{}-"),
    "vmagent-prod": ("vmagent", "-version", "-tags-v{}-"),
    "vmalert-prod": ("vmalert", "-version", "-tags-v{}-"),
    "alertmanager": ("alertmanager", "--version", "version {} "),
    "node_exporter": ("node_exporter", "--version", "version {} "),
}


def default_release(role: str) -> str:
    """``<role>_version`` from the role's defaults, what a user gets without setting it."""
    import yaml

    defaults = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())
    return str(defaults[f"{role}_version"])


def releases_not_default(host: Any, binaries: list[str]) -> list[str]:
    """The binaries on a host whose version line does not name their role's default release."""
    wrong = []
    for binary in binaries:
        role, flag, pattern = RELEASE_BINARIES[binary]
        # VictoriaMetrics may log a line (PSI metrics unavailable) before its version.
        output = host.check_output(f"/usr/local/bin/{binary} {flag} 2>&1")
        if pattern.format(default_release(role)) not in output.replace("\n", " ") + " ":
            wrong.append(f"{binary}: {output!r}, not {role}_version {default_release(role)}")
    return wrong


def http_get(host: Any, url: str) -> str:
    """Fetch a URL from inside a container and return the body."""
    return host.check_output(f"curl -fsSg --max-time 10 {shlex.quote(url)}")


def query_vm(host: Any, expr: str, at: float | None = None, base: str = "http://127.0.0.1:8428") -> list:
    """The result of an instant query to VictoriaMetrics (at a Unix time, else now)."""
    url = f"{base}/api/v1/query?query={quote(expr)}" + (f"&time={at}" if at else "")
    return json.loads(http_get(host, url))["data"]["result"]


def deliveries(host: Any) -> list[tuple[str, dict]]:
    """The Alertmanager notifications a stack host received, each as (where,
    webhook body): where is "recorder" for the stack scenarios' webhook
    recorder, else the path the promoter stand-in was posted to."""
    recorder = host.check_output("cat /var/lib/webhook-recorder/notifications.jsonl 2>/dev/null || true")
    promoter = http_get(host, "http://127.0.0.1:8080/-/stand-in/requests")
    sent = [("recorder", json.loads(line)["body"]) for line in recorder.splitlines() if line.strip()]
    for line in promoter.splitlines():
        if line.strip():
            record = json.loads(line)
            assert record["known"], f"promoter has no receiver for {record['path']}"
            sent.append((record["path"], record["body"]))
    return sent


def wait_for(condition: Callable[[], bool], timeout: float = 60, interval: float = 1) -> bool:
    """Poll until condition() is true or the timeout passes; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return True
        except (AssertionError, LookupError, ValueError):
            pass  # not there yet: an empty result, a half-started service
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def artifacts_dir() -> Path:
    return Path(os.environ["VMSTACK_ARTIFACTS"])
