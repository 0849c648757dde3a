# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Release archives on the controller: fetch once, verify, unpack once.

The cache, a mirror and an offline directory share one layout,
``<project>/v<version>/<release file>``. An archive is unpacked into
``unpacked-<first 16 hex digits of its sha256>`` beside it, so a re-published
archive can never mix with an old one, and a marker file written last says the
unpacked tree is complete and was verified. Every host of a play asks for the
same archive at once: an exclusive lock per release folder lets the first one
do the work while the others wait, then find the marker and return at once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tarfile
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator, Mapping

from ansible.module_utils.urls import open_url

from ansible_collections.vmstack.monitoring.plugins.module_utils.checksums import file_sha256
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.archives import ChecksumError, sha256_for

SOURCES = ("upstream", "mirror", "local")
# The keys of a role's release description (common_service.release) that say
# where its archive comes from.
RELEASE_KEYS = (
    "source", "project", "version", "archive", "checksums", "sha256",
    "upstream_url", "url", "mirror_url", "local_dir",
)
COMPLETE_MARKER = ".vmstack-complete"

# fetch(url, dest): download url to the file dest (replacing it) or raise.
Fetcher = Callable[[str, Path], None]


class ArchiveError(Exception):
    """The archive cannot be had or does not match its published checksum."""


def fetch_url(url: str, destination: Path) -> None:
    """Download to a temporary file beside the destination, then rename it into place."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=destination.parent, prefix=".download-", delete=False) as partial:
        try:
            with open_url(url, timeout=60, follow_redirects="all") as response:
                shutil.copyfileobj(response, partial)
        except Exception as error:  # any network or HTTP error: one clear message
            Path(partial.name).unlink(missing_ok=True)
            raise ArchiveError(f"cannot download {url}: {error}") from None
    Path(partial.name).chmod(0o644)
    Path(partial.name).rename(destination)


@dataclass
class Release:
    """Where one release archive comes from (a role's ``common_service.release``)."""

    source: str
    project: str
    version: str
    archive: str
    checksums: str = ""
    sha256: str = ""
    upstream_url: str = ""
    url: str = ""
    mirror_url: str = ""
    local_dir: str = ""
    unpack: bool = True

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], unpack: bool = True) -> "Release":
        """The release described by a role's release settings (other keys are ignored)."""
        return cls(**{key: str(values.get(key) or "") for key in RELEASE_KEYS}, unpack=unpack)

    @property
    def relative_dir(self) -> str:
        return f"{self.project}/v{self.version}"

    def problems(self) -> list[str]:
        found = []
        if self.source not in SOURCES:
            found.append(f"the archive source must be one of {', '.join(SOURCES)}, not {self.source!r}")
        if self.source == "mirror" and not self.mirror_url:
            found.append("the 'mirror' source needs a mirror URL (vmstack_archive_mirror_url or the role's *_archive_mirror_url)")
        if self.source == "local" and not self.local_dir:
            found.append("the 'local' source needs a directory (vmstack_archive_dir or the role's *_archive_dir)")
        if not self.sha256 and not self.checksums:
            found.append("the release names neither a checksum list nor a sha256")
        return found

    def download_base(self) -> str:
        if self.source == "upstream":
            return self.upstream_url.rstrip("/")
        return f"{self.mirror_url.rstrip('/')}/{self.relative_dir}"

    def archive_url(self) -> str:
        if self.source == "upstream" and self.url:
            return self.url
        return f"{self.download_base()}/{self.archive}"


@dataclass
class Prepared:
    """What the hosts' tasks need: the verified archive and its unpacked tree."""

    archive_path: str
    sha256: str
    unpack_dir: str
    fetched: list[str]


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on a release folder of the cache."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def prepare(release: Release, cache_dir: str, fetch: Fetcher) -> Prepared:
    """Make the release archive available, verified, and unpacked when asked."""
    problems = release.problems()
    if problems:
        raise ArchiveError("; ".join(problems))
    cache = Path(cache_dir).expanduser() / release.relative_dir
    source_dir = Path(release.local_dir).expanduser() / release.relative_dir if release.source == "local" else cache
    with locked(cache):
        fetched: list[str] = []
        expected = _expected_sha256(release, source_dir, fetch, fetched)
        archive = source_dir / release.archive
        unpack_dir = cache / f"unpacked-{expected[:16]}"
        if not (release.unpack and (unpack_dir / COMPLETE_MARKER).is_file()):
            _fetch_archive(release, archive, fetch, fetched)
            _verify(release, archive, expected, source_dir)
            if release.unpack:
                _unpack(archive, unpack_dir)
    return Prepared(str(archive), expected, str(unpack_dir) if release.unpack else "", fetched)


def _expected_sha256(release: Release, source_dir: Path, fetch: Fetcher, fetched: list[str]) -> str:
    if release.sha256:
        return release.sha256.lower()
    checksums = source_dir / release.checksums
    if release.source != "local" and not checksums.is_file():
        fetch(f"{release.download_base()}/{release.checksums}", checksums)
        fetched.append(str(checksums))
    try:
        return sha256_for(checksums.read_text(encoding="utf-8"), release.archive)
    except FileNotFoundError:
        raise ArchiveError(f"the checksum list {checksums} does not exist") from None
    except ChecksumError as error:
        raise ArchiveError(f"{checksums}: {error}") from None


def _fetch_archive(release: Release, archive: Path, fetch: Fetcher, fetched: list[str]) -> None:
    if release.source == "local" or archive.is_file():
        return
    fetch(release.archive_url(), archive)
    fetched.append(str(archive))


def _verify(release: Release, archive: Path, expected: str, source_dir: Path) -> None:
    actual = file_sha256(archive) if archive.is_file() else "(file missing)"
    if actual == expected:
        return
    origin = "the configured sha256" if release.sha256 else f"the checksum list {source_dir / release.checksums}"
    if release.source == "local":
        advice = "Replace the file in the offline directory with the published archive."
    else:
        archive.unlink(missing_ok=True)
        advice = "The download was discarded; run again to fetch it anew."
    raise ArchiveError(
        f"checksum mismatch for {archive}: {origin} expects sha256 {expected}, "
        f"the file has {actual}. Nothing was installed. {advice}"
    )


def _unpack(archive: Path, unpack_dir: Path) -> None:
    """Unpack into a temporary sibling, then rename it into place (all or nothing)."""
    shutil.rmtree(unpack_dir, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=unpack_dir.parent))
    try:
        if zipfile.is_zipfile(archive):
            _unpack_zip(archive, staging)
        else:
            _unpack_tar(archive, staging)
        (staging / COMPLETE_MARKER).write_text(f"{archive.name}\n", encoding="utf-8")
        staging.chmod(0o755)
        staging.rename(unpack_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _safe_member_path(name: str, archive: Path) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise ArchiveError(f"{archive} holds a member outside its own folder: {name!r}")
    return path


def _unpack_tar(archive: Path, destination: Path) -> None:
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                _safe_member_path(member.name, archive)
                if member.issym():
                    _safe_member_path(str(PurePosixPath(member.name).parent / member.linkname), archive)
                elif member.islnk():
                    _safe_member_path(member.linkname, archive)
                if member.isdev():
                    raise ArchiveError(f"{archive} holds a device file: {member.name!r}")
                tar.extract(member, destination, set_attrs=member.isreg() or member.isdir())
    except tarfile.TarError as error:
        raise ArchiveError(f"{archive} is not a readable archive: {error}") from None


def _unpack_zip(archive: Path, destination: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            _safe_member_path(info.filename, archive)
            extracted = Path(zipped.extract(info, destination))
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                os.chmod(extracted, mode & 0o777)
