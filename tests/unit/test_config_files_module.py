# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmstack.monitoring.config_files module, run in-process with patched module args."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

pytest.importorskip("ansible")

from module_args import run_main  # noqa: E402

from ansible_collections.vmstack.monitoring.plugins.modules import config_files  # noqa: E402
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.config_files import config_files_refusal  # noqa: E402

# A stand-in checker: refuses a file that contains "bad", naming the path it was given.
CHECKER = f"{sys.executable} -c \"import sys; p = sys.argv[1]; sys.exit('broken ' + p if 'bad' in open(p).read() else 0)\""


def run_module(args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    return run_main(config_files.main, args, check_mode, diff)


def state(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in directory.iterdir()}


def siblings(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory.parent) if name != directory.name)


@pytest.fixture
def rules(tmp_path):
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "a.yml").write_text("a1\n")
    (directory / "stale.yml").write_text("old\n")
    return directory


def test_writes_prunes_and_sets_the_mode(rules):
    result = run_module({"path": str(rules), "files": [{"name": "a.yml", "content": "a2\n"}, {"name": "b.yml", "content": "b\n"}],
                         "prune": True, "validate": CHECKER + " %s", "mode": "0640"})
    assert result["changed"] is True and result["written"] == ["a.yml", "b.yml"] and result["removed"] == ["stale.yml"]
    assert state(rules) == {"a.yml": "a2\n", "b.yml": "b\n"}
    assert stat.S_IMODE((rules / "b.yml").stat().st_mode) == 0o640
    assert siblings(rules) == []


def test_second_run_changes_nothing(rules):
    args = {"path": str(rules), "files": [{"name": "a.yml", "content": "a1\n"}], "prune": True, "mode": "0640"}
    run_module(args)
    again = run_module(args)
    assert again["changed"] is False and again["written"] == [] and again["removed"] == []


def test_without_prune_other_files_stay(rules):
    run_module({"path": str(rules), "files": [{"name": "a.yml", "content": "a2\n"}]})
    assert state(rules) == {"a.yml": "a2\n", "stale.yml": "old\n"}


def test_one_refused_file_installs_none_and_names_the_live_path(rules):
    before = state(rules)
    result = run_module({"path": str(rules), "prune": True, "validate": CHECKER + " %s",
                         "files": [{"name": "a.yml", "content": "good\n"}, {"name": "b.yml", "content": "bad\n"}]})
    assert result["failed"] is True and result["changed"] is False
    assert [item["name"] for item in result["refused"]] == ["b.yml"]
    assert result["refused"][0]["output"] == f"broken {rules}/b.yml"
    assert state(rules) == before
    assert siblings(rules) == []


def test_a_refused_set_check_puts_everything_back(rules):
    (rules / "sub").mkdir()
    check = f"{sys.executable} -c \"import sys, os; sys.exit('set refused' if os.path.exists('b.yml') else 0)\""
    result = run_module({"path": str(rules), "prune": True, "check": check,
                         "files": [{"name": "a.yml", "content": "a2\n"}, {"name": "b.yml", "content": "b\n"}]})
    assert result["failed"] is True and result["refused"] == [{"name": "*", "rc": 1, "output": "set refused"}]
    assert sorted(os.listdir(rules)) == ["a.yml", "stale.yml", "sub"]
    assert (rules / "a.yml").read_text() == "a1\n" and (rules / "stale.yml").read_text() == "old\n"
    assert siblings(rules) == []


def test_set_check_runs_only_on_a_change(rules):
    check = f"{sys.executable} -c \"import sys; sys.exit('always refuses')\""
    result = run_module({"path": str(rules), "check": check, "files": [{"name": "a.yml", "content": "a1\n"}]})
    assert result["changed"] is False and "failed" not in result


def test_check_mode_reports_without_writing_or_running(rules):
    before = state(rules)
    result = run_module({"path": str(rules), "prune": True, "validate": "/nonexistent %s",
                         "files": [{"name": "a.yml", "content": "a2\n"}]}, check_mode=True, diff=True)
    assert result["changed"] is True and result["removed"] == ["stale.yml"]
    assert {"before": "a1\n", "after": "a2\n"}.items() <= result["diff"][0].items()
    assert state(rules) == before


def test_check_mode_on_a_missing_directory_does_not_fail(tmp_path):
    result = run_module({"path": str(tmp_path / "absent"), "files": [{"name": "a.yml", "content": "a\n"}]}, check_mode=True)
    assert result["changed"] is True and "failed" not in result


def test_a_missing_directory_fails_outside_check_mode(tmp_path):
    result = run_module({"path": str(tmp_path / "absent"), "files": [{"name": "a.yml", "content": "a\n"}]})
    assert result["failed"] is True and "does not exist" in result["msg"]


def test_secret_files_return_no_content_diff(rules):
    result = run_module({"path": str(rules), "secret": True, "files": [{"name": "a.yml", "content": "password: hunter2\n"}]},
                        check_mode=True, diff=True)
    assert result["changed"] is True and "hunter2" not in json.dumps(result.get("diff"))
    assert result["written"] == ["a.yml"]


@pytest.mark.parametrize("name", ["../escape", "", "a/b", ".."])
def test_names_must_be_plain(rules, name):
    result = run_module({"path": str(rules), "files": [{"name": name, "content": "x"}]})
    assert result["failed"] is True and "not plain file names" in result["msg"]
    assert not (rules.parent / "escape").exists()


def test_a_name_given_twice_is_refused(rules):
    result = run_module({"path": str(rules), "files": [{"name": "a.yml", "content": "x"}, {"name": "a.yml", "content": "y"}]})
    assert result["failed"] is True and "given once: a.yml" in result["msg"]


# --- the message the play fails with (filter config_files_refusal) -----------


def test_refusal_names_each_file_its_source_and_the_output_without_the_log_prefix():
    result = {"failed": True, "refused": [
        {"name": "inline-groups.yml", "rc": 1,
         "output": '2026-12-01T08:00:00.000Z\tfatal\tVictoriaMetrics/app/vmalert/main.go:12\t'
                   'cannot parse in file "/etc/vmalert/rules/inline-groups.yml"'},
        {"name": "user-x.yml", "rc": 2, "output": ""},
    ]}
    message = config_files_refusal(result, "/etc/vmalert/rules/", "vmalert 1.150.0", {"inline-groups.yml": "vmalert_rule_groups"})
    assert message.splitlines() == [
        "vmalert 1.150.0 refuses inline-groups.yml, user-x.yml:",
        "not installed, the live rules directory keeps what it had (/etc/vmalert/rules).",
        "- inline-groups.yml (from vmalert_rule_groups):",
        '  cannot parse in file "/etc/vmalert/rules/inline-groups.yml"',
        "- user-x.yml:",
        "  exit code 2",
    ]


def test_refusal_of_the_whole_set_says_it_was_put_back():
    result = {"failed": True, "refused": [{"name": "*", "rc": 1, "output": "template: x:1: unexpected EOF"}]}
    message = config_files_refusal(result, "/etc/alertmanager/templates", "amtool check-config")
    assert message == ("amtool check-config refuses the new files of /etc/alertmanager/templates together, so they were put"
                       " back as they were:\ntemplate: x:1: unexpected EOF")


def test_other_failures_keep_the_module_message():
    assert config_files_refusal({"failed": True, "refused": [], "msg": "permission denied"}, "/d", "x") == (
        "Writing the files of /d failed: permission denied")


def test_a_change_is_noted_as_pending_until_the_service_step_loads_it(rules, tmp_path):
    marker = tmp_path / "pending" / "vmalert"
    args = {"path": str(rules), "files": [{"name": "a.yml", "content": "a2\n"}], "pending_marker": str(marker)}
    checked = run_module(args, check_mode=True)
    assert checked["changed"] is True and checked["pending_noted"] is False and not marker.parent.exists()
    result = run_module(args)
    assert result["pending_noted"] is True and marker.read_text() == ""
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600 and stat.S_IMODE(marker.parent.stat().st_mode) == 0o700
    marker.unlink()
    assert run_module(args)["pending_noted"] is False and not marker.exists()


def test_a_refused_file_notes_nothing(rules, tmp_path):
    marker = tmp_path / "pending" / "vmalert"
    result = run_module({"path": str(rules), "validate": CHECKER + " %s", "pending_marker": str(marker),
                         "files": [{"name": "a.yml", "content": "bad\n"}]})
    assert result["failed"] is True and not marker.exists()


def test_an_absent_file_is_removed_once_with_a_diff_and_noted_as_pending(rules, tmp_path):
    marker = tmp_path / "pending" / "vmagent"
    args = {"path": str(rules), "files": [{"name": "a.yml", "content": "a1\n"}, {"name": "stale.yml", "state": "absent"}],
            "validate": CHECKER + " %s", "pending_marker": str(marker), "mode": "0640"}
    checked = run_module(args, check_mode=True, diff=True)
    assert checked["changed"] is True and checked["removed"] == ["stale.yml"] and checked["written"] == []
    assert [item["after"] for item in checked["diff"]] == ["(absent)\n"]
    assert (rules / "stale.yml").exists() and not marker.exists()
    result = run_module(args)
    assert result["changed"] is True and result["removed"] == ["stale.yml"] and result["pending_noted"] is True
    assert state(rules) == {"a.yml": "a1\n"} and siblings(rules) == ["pending"]
    marker.unlink()
    again = run_module(args)
    assert again["changed"] is False and again["removed"] == [] and not marker.exists()


def test_an_absent_file_needs_no_content_and_is_not_validated(rules):
    result = run_module({"path": str(rules), "validate": "false %s", "files": [{"name": "stale.yml", "state": "absent"}]})
    assert result["changed"] is True and result["refused"] == [] and state(rules) == {"a.yml": "a1\n"}


def test_a_present_file_still_needs_content(rules):
    result = run_module({"path": str(rules), "files": [{"name": "b.yml"}]})
    assert result["failed"] is True and "content" in result["msg"]
    assert state(rules) == {"a.yml": "a1\n", "stale.yml": "old\n"}


def test_a_refused_set_check_puts_an_absent_file_back(rules):
    result = run_module({"path": str(rules), "check": "false", "files": [{"name": "stale.yml", "state": "absent"}]})
    assert result["failed"] is True and result["refused"][0]["name"] == "*"
    assert state(rules) == {"a.yml": "a1\n", "stale.yml": "old\n"}


def test_a_file_may_have_its_own_mode(rules):
    files = [{"name": "a.yml", "content": "a1\n"}, {"name": "key", "content": "k\n", "mode": "0600"}]
    args = {"path": str(rules), "mode": "0640", "files": files}
    result = run_module(args)
    assert result["changed"] is True and result["written"] == ["key"]
    assert stat.S_IMODE((rules / "a.yml").stat().st_mode) == 0o640
    assert stat.S_IMODE((rules / "key").stat().st_mode) == 0o600
    (rules / "key").chmod(0o644)
    fixed = run_module(args)
    assert fixed["changed"] is True and fixed["written"] == [] and stat.S_IMODE((rules / "key").stat().st_mode) == 0o600
    assert run_module(args)["changed"] is False


def test_only_absent_files_in_a_missing_directory_change_nothing(tmp_path):
    result = run_module({"path": str(tmp_path / "gone"), "files": [{"name": "a.yml", "state": "absent"}]})
    assert result["changed"] is False and "failed" not in result and not (tmp_path / "gone").exists()
