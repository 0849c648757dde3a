# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmstack.monitoring.scrape_config module, run in-process with patched module args."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

pytest.importorskip("ansible")

from module_args import run_main  # noqa: E402

from ansible_collections.vmstack.monitoring.plugins.modules import scrape_config  # noqa: E402

GOOD = "scrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['h:9100']}]\n"
BAD = GOOD + "    enable_http2: true\n"


def run_module(args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    return run_main(scrape_config.main, args, check_mode, diff)


def warnings_shown(result: dict, capsys) -> str:
    # Depending on the ansible-core version, module warnings come back in the
    # result or are displayed straight away when the module runs in-process.
    # ansible-core 2.19 returns each warning as a summary object, earlier releases as a string.
    texts = [json.dumps(item) if isinstance(item, dict) else item for item in result.get("warnings", [])]
    return " ".join(texts) + capsys.readouterr().err


def leftovers(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


def test_writes_a_new_file_with_mode(tmp_path):
    dest = tmp_path / "promscrape.yml"
    result = run_module({"dest": str(dest), "content": GOOD, "mode": "0640"})
    assert result["changed"] is True and result["findings"] == []
    assert dest.read_text() == GOOD
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640


def test_second_run_is_unchanged(tmp_path):
    dest = tmp_path / "promscrape.yml"
    dest.write_text(GOOD)
    assert run_module({"dest": str(dest), "content": GOOD})["changed"] is False


def test_bad_config_leaves_the_existing_dest_untouched(tmp_path):
    dest = tmp_path / "promscrape.yml"
    dest.write_text(GOOD)
    before = dest.stat().st_mtime_ns
    result = run_module({"dest": str(dest), "content": BAD})
    assert result["failed"] is True and result["changed"] is False
    assert dest.read_text() == GOOD and dest.stat().st_mtime_ns == before
    assert result["findings"][0]["path"] == "scrape_configs[0].enable_http2"
    assert "enable_http2" in result["msg"]
    assert leftovers(tmp_path) == []


def test_check_mode_and_diff_do_not_write(tmp_path):
    dest = tmp_path / "promscrape.yml"
    dest.write_text(GOOD)
    new = GOOD.replace("node", "node2")
    result = run_module({"dest": str(dest), "content": new}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == GOOD and result["diff"]["after"] == new
    assert dest.read_text() == GOOD


def test_warnings_fail_only_when_asked(tmp_path, capsys):
    dest = tmp_path / "promscrape.yml"
    content = GOOD.replace("node\n", "node\n    scrape_timeout: 5m\n")
    result = run_module({"dest": str(dest), "content": content})
    assert result["changed"] is True and result["findings"][0]["severity"] == "warning"
    assert "timeout-above-interval" in warnings_shown(result, capsys)
    dest.unlink()
    assert run_module({"dest": str(dest), "content": content, "fail_on_warnings": True})["failed"] is True
    assert not dest.exists()
    quiet = run_module({"dest": str(dest), "content": content, "disabled_warnings": ["timeout-above-interval"]})
    assert quiet["findings"] == []


def fake_binary(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-vmagent"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return script


def test_binary_rejection_fails_and_keeps_the_live_file(tmp_path):
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    dest = config_dir / "promscrape.yml"
    dest.write_text(GOOD)
    # The fake binary records its arguments and rejects like vmagent does.
    binary = fake_binary(tmp_path, f'echo "$@" > {tmp_path}/args\n'
                                   'printf "2024-01-01T00:00:00Z\\tfatal\\tmain.go:1\\tcannot read ca_file\\n" >&2\n'
                                   "exit 255\n")
    result = run_module({"dest": str(dest), "content": GOOD.replace("node", "node2"), "binary": str(binary),
                         "strict": False})
    assert result["failed"] is True
    assert "rejected" in result["msg"] and "cannot read ca_file" in result["msg"]
    assert dest.read_text() == GOOD
    assert leftovers(config_dir) == []
    args = (tmp_path / "args").read_text().split()
    assert args[0].startswith(f"-promscrape.config={config_dir}/.promscrape.yml.")
    assert args[1:] == ["-promscrape.config.dryRun", "-loggerLevel=ERROR", "-promscrape.config.strictParse=false"]


def test_binary_acceptance_replaces_the_file(tmp_path):
    dest = tmp_path / "promscrape.yml"
    binary = fake_binary(tmp_path, "exit 0\n")
    result = run_module({"dest": str(dest), "content": GOOD, "binary": str(binary)})
    assert result["changed"] is True and result["dry_run"]["rc"] == 0
    assert dest.read_text() == GOOD


def test_binary_that_drops_jobs_counts_as_a_rejection(tmp_path):
    dest = tmp_path / "promscrape.yml"
    binary = fake_binary(tmp_path, 'printf "t\\terror\\tconfig.go:1\\tskipping `scrape_config` for job_name=x\\n" >&2\n')
    result = run_module({"dest": str(dest), "content": GOOD, "binary": str(binary)})
    assert result["failed"] is True and "drop jobs" in result["msg"]
    assert not dest.exists()


def test_missing_binary_is_a_warning(tmp_path, capsys):
    dest = tmp_path / "promscrape.yml"
    result = run_module({"dest": str(dest), "content": GOOD, "binary": str(tmp_path / "nope")})
    assert result["changed"] is True
    assert "skipped the binary's dry run" in warnings_shown(result, capsys)


def test_missing_directory_fails_clearly(tmp_path):
    result = run_module({"dest": str(tmp_path / "no" / "promscrape.yml"), "content": GOOD})
    assert result["failed"] is True and "does not exist" in result["msg"]


def test_bad_version_string_fails(tmp_path):
    result = run_module({"dest": str(tmp_path / "a.yml"), "content": GOOD, "vm_version": "latest"})
    assert result["failed"] is True and "X.Y.Z" in result["msg"]


def test_check_mode_on_a_fresh_host_reports_a_change(tmp_path):
    dest = tmp_path / "no" / "promscrape.yml"
    result = run_module({"dest": str(dest), "content": GOOD}, check_mode=True)
    assert result["changed"] is True and not result.get("failed")
    assert not dest.parent.exists()


def test_without_pyyaml_only_the_binary_checks(tmp_path, capsys, monkeypatch):
    from ansible_collections.vmstack.monitoring.plugins.modules import scrape_config

    monkeypatch.setattr(scrape_config, "HAS_YAML", False)
    dest = tmp_path / "promscrape.yml"
    binary = fake_binary(tmp_path, "exit 0\n")
    result = run_module({"dest": str(dest), "content": GOOD, "binary": str(binary)})
    assert result["changed"] is True and result["dry_run"]["rc"] == 0
    assert "PyYAML" in warnings_shown(result, capsys)


def test_a_change_is_noted_as_pending_and_a_refusal_is_not(tmp_path):
    dest = tmp_path / "promscrape.yml"
    marker = tmp_path / "pending" / "vmagent"
    refused = run_module({"dest": str(dest), "content": BAD, "pending_marker": str(marker)})
    assert refused["failed"] is True and not marker.exists()
    assert run_module({"dest": str(dest), "content": GOOD, "pending_marker": str(marker)}, check_mode=True)["pending_noted"] is False
    assert not marker.exists()
    result = run_module({"dest": str(dest), "content": GOOD, "pending_marker": str(marker)})
    assert result["changed"] is True and result["pending_noted"] is True and marker.exists()
    marker.unlink()
    assert run_module({"dest": str(dest), "content": GOOD, "pending_marker": str(marker)})["pending_noted"] is False
    assert not marker.exists()


def test_absent_removes_the_file_with_a_diff_and_notes_the_pending_reload(tmp_path):
    dest = tmp_path / "promscrape.yml"
    marker = tmp_path / "pending" / "vmagent"
    dest.write_text(GOOD)
    args = {"dest": str(dest), "state": "absent", "pending_marker": str(marker)}
    checked = run_module(args, check_mode=True, diff=True)
    assert checked["changed"] is True and checked["pending_noted"] is False
    # The old file's content stays out of the diff: it may hold a secret the empty config no longer names.
    assert checked["diff"]["before"] == "(present)\n" and checked["diff"]["after"] == "(absent)\n"
    assert dest.read_text() == GOOD and not marker.exists()
    result = run_module(args)
    assert result["changed"] is True and result["pending_noted"] is True
    assert not dest.exists() and marker.exists()
    marker.unlink()
    again = run_module(args)
    assert again["changed"] is False and again["pending_noted"] is False and not marker.exists()


def test_absent_needs_no_content_and_runs_no_check(tmp_path):
    dest = tmp_path / "promscrape.yml"
    dest.write_text(BAD)
    binary = fake_binary(tmp_path, "echo refused; exit 1\n")
    result = run_module({"dest": str(dest), "state": "absent", "binary": str(binary)})
    assert result["changed"] is True and "dry_run" not in result and not dest.exists()


def test_absent_in_a_missing_directory_changes_nothing(tmp_path):
    result = run_module({"dest": str(tmp_path / "gone" / "promscrape.yml"), "state": "absent"})
    assert result["changed"] is False and "failed" not in result


def test_present_still_needs_content(tmp_path):
    result = run_module({"dest": str(tmp_path / "promscrape.yml")})
    assert result["failed"] is True and "content" in result["msg"]
    assert not (tmp_path / "promscrape.yml").exists()
