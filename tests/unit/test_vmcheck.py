# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""tools/vmcheck as a user runs it: a separate process, no Ansible needed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

VMCHECK = Path(__file__).resolve().parents[2] / "tools" / "vmcheck"

GOOD = "scrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['h:9100']}]\n"
BAD = "global:\n  evaluation_interval: 1m\nscrape_configs:\n  - job_name: node\n    scrape_timeout: 5m\n"


def vmcheck(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    # Run with a bare interpreter path and no PYTHONPATH: the script must find
    # the collection's code by itself.
    return subprocess.run([sys.executable, str(VMCHECK), *args], capture_output=True, text=True, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin"}, timeout=120, check=False)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.yml"
    bad = tmp_path / "bad.yml"
    good.write_text(GOOD)
    bad.write_text(BAD)
    return {"good": good, "bad": bad}


def test_good_file_prints_nothing_and_exits_0(files):
    result = vmcheck(str(files["good"]))
    assert (result.returncode, result.stdout) == (0, "")


def test_text_output_is_one_line_per_finding(files):
    result = vmcheck(str(files["bad"]))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{files['bad']}:2: -: error: global.evaluation_interval: field evaluation_interval")
    assert lines[1].startswith(f"{files['bad']}:5: node: warning: scrape_configs[0].scrape_timeout: ")
    assert lines[1].endswith("[timeout-above-interval]")
    assert len(lines) == 2


def test_warnings_alone_exit_0(tmp_path):
    path = tmp_path / "warn.yml"
    path.write_text(GOOD.replace("node\n", "node\n    scrape_timeout: 5m\n"))
    result = vmcheck(str(path))
    assert result.returncode == 0 and "warning" in result.stdout
    assert vmcheck("--no-warnings", str(path)).stdout == ""


def test_options_change_the_verdict(files):
    assert vmcheck("--no-strict", str(files["bad"])).returncode == 0
    max_size = files["good"].parent / "size.yml"
    max_size.write_text(GOOD + "    max_scrape_size: 16MiB\n")
    assert vmcheck("--vm-version", "1.79.5", str(max_size)).returncode == 1
    assert vmcheck("--vm-version", "1.112.0", str(max_size)).returncode == 0
    assert vmcheck(str(max_size)).returncode == 0


def test_json_is_one_object_per_file(files):
    result = vmcheck("--json", str(files["good"]), str(files["bad"]))
    assert result.returncode == 1
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["file"], o["verdict"]) for o in objects] == [(str(files["good"]), "ok"), (str(files["bad"]), "error")]
    assert objects[0]["findings"] == []
    first = objects[1]["findings"][0]
    assert set(first) == {"severity", "job", "path", "line", "message"}
    assert (first["severity"], first["job"], first["path"], first["line"]) == (
        "error", None, "global.evaluation_interval", 2)


@pytest.mark.parametrize("args", [[], ["--bogus", "x.yml"], ["--vm-version", "latest", "x.yml"]])
def test_usage_errors_exit_2(args):
    result = vmcheck(*args)
    assert result.returncode == 2 and "usage:" in result.stderr


def test_unreadable_file_is_an_error(tmp_path):
    result = vmcheck("--json", str(tmp_path / "missing.yml"))
    assert result.returncode == 1
    assert json.loads(result.stdout)["verdict"] == "error"


def test_relative_paths_resolve_against_each_file(tmp_path):
    (tmp_path / "jobs.yml").write_text("- job_name: extra\n")
    (tmp_path / "main.yml").write_text("scrape_config_files: [jobs.yml]\n")
    assert vmcheck(str(tmp_path / "main.yml"), cwd=Path("/")).returncode == 0


def test_five_hundred_files_in_one_call(tmp_path):
    paths = []
    for index in range(500):
        path = tmp_path / f"c{index:03}.yml"
        body = GOOD if index % 10 else BAD
        path.write_text(body.replace("node", f"node{index}"))
        paths.append(str(path))
    started = time.monotonic()
    result = vmcheck("--json", *paths)
    elapsed = time.monotonic() - started
    verdicts = [json.loads(line)["verdict"] for line in result.stdout.splitlines()]
    assert result.returncode == 1
    assert len(verdicts) == 500 and verdicts.count("error") == 50
    assert elapsed < 30, f"500 files took {elapsed:.1f}s"
