# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The files a service's start depends on that the service step writes itself
(its systemd unit and environment file).

Each is written in the same module call that restarts the service, so the
previous version is still in memory when a start fails: the rollback needs no
backup file on the host, and a run costs one round trip instead of three.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import tempfile
from dataclasses import dataclass


@dataclass(frozen=True)
class Wanted:
    """What a file must hold; ``content`` None means it must not exist."""

    path: str
    content: bytes | None
    owner: str = "root"
    group: str = "root"
    mode: int = 0o644


@dataclass(frozen=True)
class Previous:
    """The file as it was before this run: None when it did not exist."""

    path: str
    content: bytes | None
    uid: int = 0
    gid: int = 0
    mode: int = 0


def read(path: str) -> Previous:
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            return Previous(path, handle.read(), info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode))
    except FileNotFoundError:
        return Previous(path, None)


def ids(wanted: Wanted) -> tuple[int, int]:
    return pwd.getpwnam(wanted.owner).pw_uid, grp.getgrnam(wanted.group).gr_gid


def differs(wanted: Wanted, previous: Previous) -> bool:
    """Whether writing (or removing) would change the file, its owner or its mode.
    A group that does not exist yet (check mode on a fresh host) differs."""
    if wanted.content is None or previous.content is None:
        return wanted.content != previous.content
    if wanted.content != previous.content or wanted.mode != previous.mode:
        return True
    try:
        return ids(wanted) != (previous.uid, previous.gid)
    except KeyError:
        return True


def _replace(path: str, content: bytes, uid: int, gid: int, mode: int) -> None:
    """Write next to the file and rename over it: a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            os.fchown(out.fileno(), uid, gid)
            os.fchmod(out.fileno(), mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def apply(wanted: Wanted) -> None:
    if wanted.content is None:
        if os.path.lexists(wanted.path):
            os.unlink(wanted.path)
        return
    _replace(wanted.path, wanted.content, *ids(wanted), wanted.mode)


def put_back(previous: Previous) -> None:
    """Restore a file as it was, or remove it when it is new."""
    if previous.content is None:
        if os.path.lexists(previous.path):
            os.unlink(previous.path)
        return
    _replace(previous.path, previous.content, previous.uid, previous.gid, previous.mode)
