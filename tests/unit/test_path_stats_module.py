# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmstack.monitoring.path_stats module, run in-process on paths under tmp_path."""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path

import pytest

pytest.importorskip("ansible")

from module_args import run_main  # noqa: E402

from ansible_collections.vmstack.monitoring.plugins.modules import path_stats  # noqa: E402
from ansible_collections.vmstack.monitoring.plugins.plugin_utils import preflight  # noqa: E402

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def stats(paths: list[Path], check_mode: bool = False) -> dict:
    result = run_main(path_stats.main, {"paths": [str(path) for path in paths]}, check_mode=check_mode)
    assert result["changed"] is False
    return result


def test_each_path_in_order_with_what_stat_tells(tmp_path: Path) -> None:
    directory, file = tmp_path / "data", tmp_path / "file"
    directory.mkdir()
    file.write_text("x")
    result = stats([directory, tmp_path / "missing", file])
    assert result["results"] == [
        {"path": str(directory), "stat": {"exists": True, "isdir": True, "pw_name": ME, "gr_name": MY_GROUP}},
        {"path": str(tmp_path / "missing"), "stat": {"exists": False}},
        {"path": str(file), "stat": {"exists": True, "isdir": False, "pw_name": ME, "gr_name": MY_GROUP}},
    ]


def test_a_path_under_a_file_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert stats([tmp_path / "file" / "data"])["results"][0]["stat"] == {"exists": False}


def test_a_link_to_a_directory_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert stats([tmp_path / "link"])["results"][0]["stat"]["isdir"] is False


def test_check_mode_reads_the_same(tmp_path: Path) -> None:
    assert stats([tmp_path], check_mode=True)["results"][0]["stat"]["isdir"] is True


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file an owner with no name needs root")
def test_an_owner_without_a_name_is_shown_by_its_id(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    os.chown(directory, 54321, 54321)
    assert stats([directory])["results"][0]["stat"] == {
        "exists": True, "isdir": True, "pw_name": "54321", "gr_name": "54321"}


def test_the_preflight_reads_its_results(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    service = {"name": "vmagent", "group": "vmagent",
               "directories": [{"path": str(taken), "variable": "vmagent_data_dir", "owner": "vmagent"},
                               {"path": str(tmp_path / "new"), "variable": "vmagent_queue_dir"}]}
    [finding] = preflight.existing_directory_findings("h1", service, stats([taken, tmp_path / "new"])["results"])
    assert finding.startswith(f"h1: vmagent_data_dir {str(taken)!r} already exists and belongs to {ME}:{MY_GROUP}")
