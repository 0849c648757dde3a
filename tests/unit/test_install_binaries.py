# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""vmstack.monitoring.install_binaries: the module in-process on files under
tmp_path, and the action with the module through ansible-playbook on the
local connection (send only what differs, keep a backup, check mode)."""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ansible")

from module_args import run_main  # noqa: E402

from ansible_collections.vmstack.monitoring.plugins.modules import install_binaries  # noqa: E402

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


def checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def module(dest_dir: Path, binaries: list[dict], check_mode: bool = False) -> dict:
    return run_main(install_binaries.main, {"dest_dir": str(dest_dir), "binaries": binaries,
                                            "owner": ME, "group": MY_GROUP}, check_mode=check_mode)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_binary_in_place_is_unchanged_and_one_missing_asks_for_its_content(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"A")
    (tmp_path / "a").chmod(0o755)
    result = module(tmp_path, [{"name": "a", "checksum": checksum(b"A")}, {"name": "b", "checksum": checksum(b"B")}])
    assert result["changed"] is True
    assert result["results"] == [
        {"dest": str(tmp_path / "a"), "changed": False},
        {"dest": str(tmp_path / "b"), "changed": True, "needs_content": True},
    ]
    assert not (tmp_path / "b").exists()


def test_a_wrong_mode_is_set_on_a_binary_in_place(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"A")
    (tmp_path / "a").chmod(0o600)
    result = module(tmp_path, [{"name": "a", "checksum": checksum(b"A")}])
    assert result["results"] == [{"dest": str(tmp_path / "a"), "changed": True}]
    assert mode_of(tmp_path / "a") == 0o755


def test_a_staged_binary_replaces_the_old_one_which_is_kept_as_a_backup(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old")
    staged = tmp_path / "staged-a"
    staged.write_bytes(b"new")
    result = module(tmp_path, [{"name": "a", "checksum": checksum(b"new"), "staged": str(staged)}])
    item = result["results"][0]
    assert item["changed"] is True and (tmp_path / "a").read_bytes() == b"new"
    assert mode_of(tmp_path / "a") == 0o755
    assert Path(item["backup_file"]).read_bytes() == b"old"
    assert not staged.exists()


def test_a_staged_binary_that_does_not_match_the_release_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old")
    staged = tmp_path / "staged-a"
    staged.write_bytes(b"damaged")
    result = module(tmp_path, [{"name": "a", "checksum": checksum(b"new"), "staged": str(staged)}])
    assert result["failed"] is True and "does not match the release" in result["msg"]
    assert (tmp_path / "a").read_bytes() == b"old"


def test_check_mode_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"A")
    (tmp_path / "a").chmod(0o600)
    staged = tmp_path / "staged-b"
    staged.write_bytes(b"B")
    result = module(tmp_path, [{"name": "a", "checksum": checksum(b"A")},
                               {"name": "b", "checksum": checksum(b"B"), "staged": str(staged)}], check_mode=True)
    assert [item["changed"] for item in result["results"]] == [True, True]
    assert mode_of(tmp_path / "a") == 0o600 and not (tmp_path / "b").exists()


def test_a_bad_mode_or_a_missing_checksum_fails_clearly(tmp_path: Path) -> None:
    bad_mode = run_main(install_binaries.main, {"dest_dir": str(tmp_path), "mode": "rwx",
                                                "binaries": [{"name": "a", "checksum": "0"}]})
    assert "write an octal mode" in bad_mode["msg"]
    no_checksum = module(tmp_path, [{"name": "a"}])
    assert "the action plugin install_binaries sets it" in no_checksum["msg"]


PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Install the binaries
      vmstack.monitoring.install_binaries:
        src_dir: {release}
        dest_dir: {bin}
        binaries: [{{src: dir/a, name: a}}, {{src: b, name: b}}]
        owner: {owner}
        group: {group}
      register: installed
    - name: Show the result
      ansible.builtin.debug:
        msg: "RESULT={{{{ installed | to_json }}}}"
"""


def play(collection_env: dict[str, str], tmp_path: Path, *options: str) -> dict:
    playbook = tmp_path / "install.yml"
    playbook.write_text(PLAY.format(release=tmp_path / "release", bin=tmp_path / "bin", owner=ME, group=MY_GROUP))
    completed = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
                                str(playbook), *options],
                               cwd=tmp_path, env=collection_env, capture_output=True, text=True, timeout=300,
                               check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(completed.stdout.split("RESULT=", 1)[1].split('"\n', 1)[0].encode().decode("unicode_escape"))


@pytest.fixture()
def release(tmp_path: Path) -> Path:
    (tmp_path / "release" / "dir").mkdir(parents=True)
    (tmp_path / "release" / "dir" / "a").write_bytes(b"A1")
    (tmp_path / "release" / "b").write_bytes(b"B1")
    (tmp_path / "bin").mkdir()
    return tmp_path / "release"


def test_the_action_sends_only_what_differs_and_a_second_run_changes_nothing(collection_env, tmp_path, release):
    checked = play(collection_env, tmp_path, "--check")
    assert checked["changed"] is True and list((tmp_path / "bin").iterdir()) == []

    first = play(collection_env, tmp_path)
    assert [item["changed"] for item in first["results"]] == [True, True]
    assert (tmp_path / "bin" / "a").read_bytes() == b"A1" and (tmp_path / "bin" / "b").read_bytes() == b"B1"

    (release / "b").write_bytes(b"B2")
    second = play(collection_env, tmp_path)
    assert [item["changed"] for item in second["results"]] == [False, True]
    assert (tmp_path / "bin" / "b").read_bytes() == b"B2"
    assert Path(second["results"][1]["backup_file"]).read_bytes() == b"B1"

    again = play(collection_env, tmp_path)
    assert again["changed"] is False
