# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""A service's system group, system user and directories, brought in line in
one module call (module ``service_account``).

Everything is looked at first and planned; only a plan without a refusal is
applied, so a path in the way fails the task before anything changed. The
account commands go through ``Accounts`` (getent, groupadd, useradd, usermod),
which the unit tests replace.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

# The user ansible.builtin.user would leave with these options: no login, no home.
SHELL = "/usr/sbin/nologin"
HOME = "/nonexistent"
# Missing parents of a service's directory are not the service's (README.md,
# "Directories that are not the service's own are never taken over").
PARENT = {"owner": "root", "group": "root", "mode": "0755"}

Run = Callable[[list], tuple]


@dataclass
class User:
    uid: int
    gid: int
    home: str
    shell: str


class Accounts:
    """The host's account database, read with getent and changed with the shadow tools."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def _getent(self, database: str, key: str) -> Optional[list[str]]:
        rc, out, err = self.run(["getent", database, key])
        if rc == 2:  # not found
            return None
        if rc != 0:
            raise AccountError(f"getent {database} {key} failed (rc {rc}): {err.strip()}")
        return out.rstrip("\n").split("\n")[0].split(":")

    def group_id(self, name: str) -> Optional[int]:
        entry = self._getent("group", name)
        return int(entry[2]) if entry else None

    def user(self, name: str) -> Optional[User]:
        entry = self._getent("passwd", name)
        return User(int(entry[2]), int(entry[3]), entry[5], entry[6]) if entry else None

    def user_id(self, name: str) -> Optional[int]:
        found = self.user(name)
        return found.uid if found else None

    def change(self, command: list[str]) -> None:
        rc, out, err = self.run(command)
        if rc != 0:
            raise AccountError(f"{' '.join(command)} failed (rc {rc}): {(err or out).strip()}")


class AccountError(Exception):
    """A command on the account database failed, or a path is in the way."""


@dataclass
class Directory:
    """What one directory is (``None`` for absent) and must be; ids are ``None``
    when the account does not exist yet (check mode on a fresh host)."""

    path: str
    owner: str
    group: str
    mode: int
    uid: Optional[int]
    gid: Optional[int]
    current: Optional[os.stat_result]

    def differs(self) -> list[str]:
        if self.current is None:
            return ["state"]
        wrong = []
        if self.uid is None or self.current.st_uid != self.uid:
            wrong.append("owner")
        if self.gid is None or self.current.st_gid != self.gid:
            wrong.append("group")
        if stat.S_IMODE(self.current.st_mode) != self.mode:
            wrong.append("mode")
        return wrong

    def diff(self) -> dict[str, Any]:
        before: dict[str, Any] = {"path": self.path, "state": "absent"}
        if self.current is not None:
            before.update(state="directory", owner=self.current.st_uid, group=self.current.st_gid,
                          mode=f"{stat.S_IMODE(self.current.st_mode):04o}")
        after = {"path": self.path, "state": "directory", "owner": self.owner if self.uid is None else self.uid,
                 "group": self.group if self.gid is None else self.gid, "mode": f"{self.mode:04o}"}
        return {"before_header": self.path, "after_header": self.path, "before": before, "after": after}


@dataclass
class Plan:
    create_group: bool = False
    create_user: bool = False
    user_changes: dict[str, str] = field(default_factory=dict)
    directories: list[Directory] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.create_group or self.create_user or bool(self.user_changes) or bool(self.directories)


def parse_mode(mode: str) -> int:
    try:
        value = int(str(mode), 8)
    except ValueError:
        raise AccountError(f"mode {mode!r} is not an octal mode such as 0750") from None
    if not 0 <= value <= 0o7777:
        raise AccountError(f"mode {mode!r} is not an octal mode such as 0750")
    return value


def lstat(path: str) -> Optional[os.stat_result]:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def missing_parents(path: str, planned: set[str]) -> list[str]:
    """The parents of an absolute path that do not exist and no earlier entry creates, outermost first."""
    parents = []
    parent = os.path.dirname(path.rstrip("/"))
    while parent not in ("/", "") and parent not in planned and lstat(parent) is None:
        parents.append(parent)
        parent = os.path.dirname(parent)
    return parents[::-1]


def not_a_directory(path: str, current: Optional[os.stat_result]) -> Optional[str]:
    if current is None or stat.S_ISDIR(current.st_mode):
        return None
    kind = "a symbolic link" if stat.S_ISLNK(current.st_mode) else "a file" if stat.S_ISREG(current.st_mode) \
        else "not a directory"
    return f"{path} exists and is {kind}, not a directory"


def plan_user(accounts: Accounts, user: str, gid: Optional[int]) -> tuple[bool, dict[str, str]]:
    """Whether the user must be created, else which of its settings must change."""
    found = accounts.user(user)
    if found is None:
        return True, {}
    wanted = {"group": gid, "shell": SHELL, "home": HOME}
    have = {"group": found.gid, "shell": found.shell, "home": found.home}
    return False, {key: str(value) for key, value in wanted.items() if value is None or have[key] != value}


def plan_directories(accounts: Accounts, wanted: list[dict[str, str]]) -> list[Directory]:
    """Every directory (and missing parent) to create or correct; refuses, naming
    each, paths that exist and are not directories."""
    planned: list[Directory] = []
    refusals = []
    ids: dict[tuple[str, str], Optional[int]] = {}

    def resolve(kind: str, name: str) -> Optional[int]:
        if (kind, name) not in ids:
            ids[kind, name] = accounts.user_id(name) if kind == "user" else accounts.group_id(name)
        return ids[kind, name]

    def add(path: str, spec: dict[str, str], current: Optional[os.stat_result]) -> None:
        """Plan a directory; a listed one that an earlier entry would create as a
        parent keeps that place (before its children) with the listed settings."""
        directory = Directory(path, spec["owner"], spec["group"], parse_mode(spec["mode"]),
                              resolve("user", spec["owner"]), resolve("group", spec["group"]), current)
        same = [index for index, earlier in enumerate(planned) if earlier.path == path]
        if same:
            planned[same[0]] = directory
        else:
            planned.append(directory)

    for spec in wanted:
        path = os.path.normpath(spec["path"])
        if not os.path.isabs(path):
            refusals.append(f"{spec['path']} is not an absolute path")
            continue
        known = {directory.path for directory in planned}
        for parent in missing_parents(path, known):
            add(parent, PARENT, None)
        current = lstat(path)
        refusal = not_a_directory(path, current)
        if refusal:
            refusals.append(refusal)
        else:
            add(path, spec, current)
    if refusals:
        raise AccountError("; ".join(refusals) + ". Nothing was changed.")
    return [directory for directory in planned if directory.differs()]


def plan(accounts: Accounts, group: str, user: str, directories: list[dict[str, str]]) -> Plan:
    gid = accounts.group_id(group)
    create_user, user_changes = plan_user(accounts, user, gid)
    return Plan(create_group=gid is None, create_user=create_user, user_changes=user_changes,
                directories=plan_directories(accounts, directories))


def apply_accounts(accounts: Accounts, group: str, user: str, todo: Plan) -> None:
    if todo.create_group:
        accounts.change(["groupadd", "--system", group])
    if todo.create_user:
        accounts.change(["useradd", "--system", "--gid", group, "--shell", SHELL, "--home-dir", HOME,
                         "--no-create-home", user])
    elif todo.user_changes:
        options = {"group": ["--gid", group], "shell": ["--shell", SHELL], "home": ["--home", HOME]}
        accounts.change(["usermod", *(arg for key in todo.user_changes for arg in options[key]), user])


def apply_directory(accounts: Accounts, directory: Directory) -> None:
    """Create the directory (mode set after, whatever the umask) and set what differs.
    The ids are looked up again: the user may have been created just now."""
    uid = accounts.user_id(directory.owner)
    gid = accounts.group_id(directory.group)
    if uid is None or gid is None:
        raise AccountError(f"{directory.path}: no user {directory.owner!r} or group {directory.group!r} on the host")
    if directory.current is None:
        os.mkdir(directory.path, 0o700)
    os.chown(directory.path, uid, gid)
    os.chmod(directory.path, directory.mode)
