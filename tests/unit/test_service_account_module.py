# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmstack.monitoring.service_account module, run in-process: the account
commands (getent, groupadd, useradd, usermod) go to a fake account database,
the directories are real ones under tmp_path, owned by root's ids only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

pytest.importorskip("ansible")

from module_args import run_main  # noqa: E402

from ansible_collections.vmstack.monitoring.plugins.modules import service_account  # noqa: E402
from ansible_collections.vmstack.monitoring.plugins.module_utils.service.account import Accounts  # noqa: E402

if os.geteuid() != 0:
    pytest.skip("setting a directory's owner needs root", allow_module_level=True)


class FakeHost:
    """A passwd and group database answered through the commands the module
    runs. The service's user and group map to root's ids: the tests chown only
    to ids that exist here."""

    def __init__(self) -> None:
        self.groups: dict[str, int] = {"root": 0}
        self.users: dict[str, list[str]] = {"root": ["root", "x", "0", "0", "root", "/root", "/bin/bash"]}
        self.commands: list[list[str]] = []

    def run(self, command: list[str]) -> tuple[int, str, str]:
        self.commands.append(command)
        tool, args = command[0], command[1:]
        if tool == "getent":
            database, key = args
            if database == "group":
                return (0, f"{key}:x:{self.groups[key]}:\n", "") if key in self.groups else (2, "", "")
            return (0, ":".join(self.users[key]) + "\n", "") if key in self.users else (2, "", "")
        if tool == "groupadd":
            assert args[:-1] == ["--system"]
            self.groups[args[-1]] = 0
        elif tool == "useradd":
            assert "--system" in args and "--no-create-home" in args
            options = {key: value for key, value in zip(args, args[1:]) if key.startswith("--")}
            self.users[args[-1]] = [args[-1], "x", "0", str(self.groups[options["--gid"]]), "",
                                    options["--home-dir"], options["--shell"]]
        elif tool == "usermod":
            entry = self.users[args[-1]]
            options = dict(zip(args[:-1:2], args[1:-1:2]))
            if "--gid" in options:
                entry[3] = str(self.groups[options["--gid"]])
            if "--shell" in options:
                entry[6] = options["--shell"]
            if "--home" in options:
                entry[5] = options["--home"]
        else:
            raise AssertionError(f"unexpected command {command}")
        return 0, "", ""

    @property
    def changes(self) -> list[list[str]]:
        return [command for command in self.commands if command[0] != "getent"]


@pytest.fixture
def host(monkeypatch) -> FakeHost:
    fake = FakeHost()
    monkeypatch.setattr(service_account, "accounts_of", lambda module: Accounts(fake.run))
    return fake


def args(tmp_path: Path) -> dict:
    return {"group": "vmtest", "user": "vmtest", "directories": [
        {"path": str(tmp_path / "etc" / "vmtest"), "owner": "root", "group": "vmtest", "mode": "0750"},
        {"path": str(tmp_path / "data"), "owner": "vmtest", "group": "vmtest", "mode": "0700"},
    ]}


def run(arguments: dict, check_mode: bool = False, diff: bool = False) -> dict:
    return run_main(service_account.main, arguments, check_mode, diff)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_host_gets_everything(host, tmp_path):
    saved = os.umask(0o077)  # the modes set do not depend on the umask
    try:
        result = run(args(tmp_path))
    finally:
        os.umask(saved)
    assert result["changed"] is True
    assert result["created"] == {"group": True, "user": True, "directories": [
        str(tmp_path / "etc"), str(tmp_path / "etc" / "vmtest"), str(tmp_path / "data")]}
    assert host.changes == [
        ["groupadd", "--system", "vmtest"],
        ["useradd", "--system", "--gid", "vmtest", "--shell", "/usr/sbin/nologin", "--home-dir", "/nonexistent",
         "--no-create-home", "vmtest"],
    ]
    # The missing parent is not the service's.
    assert mode(tmp_path / "etc") == 0o755 and mode(tmp_path / "etc" / "vmtest") == 0o750
    assert mode(tmp_path / "data") == 0o700


def test_a_second_run_changes_nothing(host, tmp_path):
    run(args(tmp_path))
    done = len(host.changes)
    again = run(args(tmp_path))
    assert again["changed"] is False and again["changed_paths"] == [] and again["user_changes"] == []
    assert again["created"] == {"group": False, "user": False, "directories": []}
    assert len(host.changes) == done


def test_an_existing_group_is_left_alone_and_the_user_put_right(host, tmp_path):
    host.groups["vmtest"] = 0
    host.users["vmtest"] = ["vmtest", "x", "0", "0", "", "/home/vmtest", "/bin/bash"]
    (tmp_path / "etc" / "vmtest").mkdir(parents=True)
    (tmp_path / "etc" / "vmtest").chmod(0o750)
    (tmp_path / "data").mkdir()
    (tmp_path / "data").chmod(0o700)
    result = run(args(tmp_path))
    assert result["changed"] is True and result["user_changes"] == ["home", "shell"]
    assert result["created"] == {"group": False, "user": False, "directories": []} and result["changed_paths"] == []
    assert host.changes == [["usermod", "--shell", "/usr/sbin/nologin", "--home", "/nonexistent", "vmtest"]]
    assert host.users["vmtest"][5:] == ["/nonexistent", "/usr/sbin/nologin"]


def test_another_primary_group_is_put_right(host, tmp_path):
    host.groups.update(vmtest=0, other=1)
    host.users["vmtest"] = ["vmtest", "x", "0", "1", "", "/nonexistent", "/usr/sbin/nologin"]
    result = run({"group": "vmtest", "user": "vmtest"})
    assert result["changed"] is True and result["user_changes"] == ["group"]
    assert host.changes == [["usermod", "--gid", "vmtest", "vmtest"]]


def test_mode_and_owner_drift_is_put_back(host, tmp_path):
    run(args(tmp_path))
    data = tmp_path / "data"
    os.chmod(data, 0o777)
    os.chown(data, 65534, 65534)
    result = run(args(tmp_path), diff=True)
    assert result["changed"] is True and result["changed_paths"] == [str(data)]
    assert result["created"]["directories"] == []
    assert (data.stat().st_uid, data.stat().st_gid, mode(data)) == (0, 0, 0o700)
    assert result["diff"] == [{"before_header": str(data), "after_header": str(data),
                               "before": {"path": str(data), "state": "directory", "owner": 65534, "group": 65534,
                                          "mode": "0777"},
                               "after": {"path": str(data), "state": "directory", "owner": 0, "group": 0,
                                         "mode": "0700"}}]


def test_check_mode_on_a_fresh_host_reports_and_changes_nothing(host, tmp_path):
    (tmp_path / "data").mkdir()  # there already, but the user it must belong to is not
    result = run(args(tmp_path), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["created"] == {"group": True, "user": True, "directories": [
        str(tmp_path / "etc"), str(tmp_path / "etc" / "vmtest")]}
    assert result["changed_paths"] == [str(tmp_path / "etc"), str(tmp_path / "etc" / "vmtest"), str(tmp_path / "data")]
    assert [d["before"]["state"] for d in result["diff"]] == ["absent", "absent", "directory"]
    assert result["diff"][2]["after"]["owner"] == "vmtest"
    assert host.changes == [] and not (tmp_path / "etc").exists()


def test_check_mode_after_a_run_reports_nothing(host, tmp_path):
    run(args(tmp_path))
    result = run(args(tmp_path), check_mode=True)
    assert result["changed"] is False and result["changed_paths"] == []


def test_a_file_in_the_way_fails_before_any_change(host, tmp_path):
    (tmp_path / "data").write_text("not a directory")
    (tmp_path / "link").symlink_to(tmp_path / "data")
    arguments = args(tmp_path)
    arguments["directories"].append({"path": str(tmp_path / "link"), "owner": "root", "group": "root", "mode": "0750"})
    result = run(arguments)
    assert result["failed"] is True
    assert f"{tmp_path / 'data'} exists and is a file, not a directory" in result["msg"]
    assert f"{tmp_path / 'link'} exists and is a symbolic link, not a directory" in result["msg"]
    assert host.changes == [] and not (tmp_path / "etc").exists()


def test_a_listed_parent_keeps_its_own_settings_and_place(host, tmp_path):
    child = {"path": str(tmp_path / "a" / "b"), "owner": "root", "group": "root", "mode": "0750"}
    parent = {"path": str(tmp_path / "a"), "owner": "root", "group": "root", "mode": "0710"}
    result = run({"group": "vmtest", "user": "vmtest", "directories": [child, parent]})
    assert result["created"]["directories"] == [parent["path"], child["path"]]
    assert mode(tmp_path / "a") == 0o710 and mode(tmp_path / "a" / "b") == 0o750


def test_a_bad_mode_fails_naming_it(host, tmp_path):
    result = run({"group": "vmtest", "user": "vmtest",
                  "directories": [{"path": str(tmp_path / "x"), "owner": "root", "group": "root", "mode": "rwx"}]})
    assert result["failed"] is True and "'rwx' is not an octal mode" in result["msg"]
    assert host.changes == []


def test_a_directory_without_settings_is_roots_and_readable_by_the_service_group(tmp_path, host):
    config = tmp_path / "etc" / "vmtest"
    arguments = {"group": "vmtest", "user": "vmtest", "directories": [{"path": str(config)}]}
    # Before the group exists, check mode names it.
    after = run(arguments, check_mode=True, diff=True)["diff"][-1]["after"]
    assert (after["owner"], after["group"], after["mode"]) == (0, "vmtest", "0750")
    run(arguments)
    assert mode(config) == 0o750
