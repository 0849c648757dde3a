# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Let a release's own binaries judge the configs on the controller, before any host changes.

What only the binary can judge (a MetricsQL expression, an Alertmanager
template) used to be found on the host, mid-play, by the `validate` step of
the task that writes the file. When the controller can run the release's
binaries (Linux, the host's architecture; the archive is already unpacked in
the controller's cache), the same dry runs run here first, on copies in a
private temporary directory. Their messages name the file as it will be on
the host, never the temporary copy.
"""

from __future__ import annotations

import platform
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.validator import dry_run_command, dry_run_problem

# Go's names for the machines Python reports (the release archives use them).
GOARCH = {
    "x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
    "armv7l": "armv7", "armv6l": "armv6", "i386": "386", "i686": "386",
    "ppc64le": "ppc64le", "s390x": "s390x",
}
# A dry run reads a few files and exits; anything longer is a hung binary.
TIMEOUT_SECONDS = 120
# A scrape config that names files (password_file, file_sd_configs, ca_file,
# ...) names them on the host: the controller cannot judge it, the host can.
_HOST_FILE_KEY = ("_file", "files", "kubeconfig")
_AMTOOL_SUMMARY = re.compile(r"amtool: error: failed to validate [0-9]+ file\(s\)")


class CheckError(Exception):
    """The binary could not be run at all."""


def why_not_runnable(host_arch: str) -> str:
    """Why the controller cannot run the release built for host_arch ("" when it can)."""
    if platform.system() != "Linux":
        return f"the controller runs {platform.system()}, the release is built for Linux"
    machine = platform.machine()
    if GOARCH.get(machine.lower()) != host_arch:
        return f"the controller is {machine}, the host's release is built for {host_arch}"
    return ""


def _run(command: list[str], cwd: str) -> tuple[int, str]:
    try:
        completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False,
                                   stdin=subprocess.DEVNULL, timeout=TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CheckError(f"cannot run {command[0]}: {error}") from None
    return completed.returncode, completed.stdout + completed.stderr


def rule_file_refusals(vmalert: str, files: Mapping[str, str], live_dir: str) -> dict[str, str]:
    """{file name: what vmalert -dryRun says} for each rule file it refuses.

    Each file is checked alone, so that every refusal names its own file.
    """
    refusals = {}
    with tempfile.TemporaryDirectory(prefix="vmstack-check-") as tmp:
        for name, content in files.items():
            path = Path(tmp, name)
            path.write_text(content, encoding="utf-8")
            rc, output = _run([vmalert, "-dryRun", f"-rule={path}", "-loggerLevel=ERROR"], tmp)
            problem = dry_run_problem(rc, output)
            if problem:
                refusals[name] = problem.replace(tmp, live_dir)
    return refusals


def _names_files(config: Any) -> bool:
    if isinstance(config, Mapping):
        return any(str(key).endswith(_HOST_FILE_KEY) or _names_files(value) for key, value in config.items())
    if isinstance(config, list):
        return any(_names_files(item) for item in config)
    return False


def names_host_files(content: str) -> bool:
    """Whether a scrape config refers to files that exist only on the host."""
    try:
        return _names_files(yaml.safe_load(content))
    except yaml.YAMLError:
        return False  # the binary says what is wrong with it


def scrape_config_refusal(binary: str, content: str, live_path: str, strict: bool) -> str | None:
    """What the binary's -promscrape.config.dryRun refuses in the config, or None."""
    live = Path(live_path)
    with tempfile.TemporaryDirectory(prefix="vmstack-check-") as tmp:
        path = Path(tmp, live.name)
        path.write_text(content, encoding="utf-8")
        rc, output = _run(dry_run_command(binary, str(path), strict), tmp)
        problem = dry_run_problem(rc, output)
    return problem.replace(tmp, str(live.parent)) if problem else None


def alertmanager_config_refusal(amtool: str, content: str, live_path: str, templates: Iterable[str],
                                live_templates_dir: str) -> str | None:
    """What amtool check-config refuses in the config with these template files, or None.

    The config names its templates where they will be on the host; the copy
    checked here names the copies of the controller's template files instead.
    """
    live = Path(live_path)
    with tempfile.TemporaryDirectory(prefix="vmstack-check-") as tmp:
        templates_dir = Path(tmp, "templates")
        templates_dir.mkdir()
        for template in templates:
            (templates_dir / Path(template).name).write_bytes(Path(template).read_bytes())
        config = yaml.safe_load(content) or {}
        config["templates"] = [
            str(templates_dir / Path(entry).name) if str(Path(entry).parent) == live_templates_dir else entry
            for entry in config.get("templates") or []
        ]
        path = Path(tmp, live.name)
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        rc, output = _run([amtool, "check-config", str(path)], tmp)
    if rc == 0:
        return None
    message = " ".join(line.strip() for line in output.splitlines() if line.strip())
    message = message.replace(str(templates_dir), live_templates_dir).replace(tmp, str(live.parent))
    # amtool reports what it read before what failed; only the failure matters.
    before, failed, after = message.partition("FAILED:")
    reason = _AMTOOL_SUMMARY.sub("", after if failed else before).strip()
    return reason or f"exit code {rc} and no message"
