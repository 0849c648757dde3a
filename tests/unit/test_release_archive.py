# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The controller's release-archive cache: verify, unpack once, refuse bad input."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import tarfile
from pathlib import Path

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.release_archive import (
    COMPLETE_MARKER,
    ArchiveError,
    Release,
    prepare,
)

ARCHIVE = "tool-linux-amd64-v1.0.0.tar.gz"
CHECKSUMS = "tool-linux-amd64-v1.0.0_checksums.txt"


def make_archive(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def publish(directory: Path, archive: bytes, listed: bytes | None = None) -> Path:
    """A release folder in the cache layout, with a checksum list naming the archive."""
    release_dir = directory / "Tool" / "v1.0.0"
    release_dir.mkdir(parents=True)
    (release_dir / ARCHIVE).write_bytes(archive)
    digest = hashlib.sha256(listed if listed is not None else archive).hexdigest()
    (release_dir / CHECKSUMS).write_text(f"{digest}  {ARCHIVE}\n{'0' * 64}  tool-prod\n")
    return release_dir


def release(source: str, **overrides: str) -> Release:
    fields = dict(source=source, project="Tool", version="1.0.0", archive=ARCHIVE, checksums=CHECKSUMS)
    fields.update(overrides)
    return Release(**fields)


def mirror_fetcher(mirror: Path, calls: list[str] | None = None):
    """A fetch function that serves a mirror folder (file copies), counting calls."""
    def fetch(url: str, destination: Path) -> None:
        if calls is not None:
            calls.append(url)
        source = mirror / url.removeprefix("http://mirror.test/")
        if not source.is_file():
            raise ArchiveError(f"cannot download {url}: HTTP Error 404: Not Found")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read_bytes())
    return fetch


def no_fetch(url: str, destination: Path) -> None:
    raise AssertionError(f"nothing should be downloaded, yet {url} was asked for")


def test_local_archive_is_verified_and_unpacked(tmp_path: Path) -> None:
    publish(tmp_path / "offline", make_archive({"tool-prod": b"binary"}))
    prepared = prepare(release("local", local_dir=str(tmp_path / "offline")), str(tmp_path / "cache"), no_fetch)
    unpacked = Path(prepared.unpack_dir)
    assert (unpacked / "tool-prod").read_bytes() == b"binary"
    assert (unpacked / "tool-prod").stat().st_mode & 0o777 == 0o755
    assert (unpacked / COMPLETE_MARKER).is_file()
    assert unpacked.parent == tmp_path / "cache" / "Tool" / "v1.0.0"
    assert unpacked.name == f"unpacked-{prepared.sha256[:16]}"
    assert prepared.archive_path == str(tmp_path / "offline" / "Tool" / "v1.0.0" / ARCHIVE)


def test_mirror_downloads_once_then_reads_the_cache(tmp_path: Path) -> None:
    publish(tmp_path / "mirror", make_archive({"tool-prod": b"binary"}))
    calls: list[str] = []
    wanted = release("mirror", mirror_url="http://mirror.test/")
    first = prepare(wanted, str(tmp_path / "cache"), mirror_fetcher(tmp_path / "mirror", calls))
    assert calls == [f"http://mirror.test/Tool/v1.0.0/{CHECKSUMS}", f"http://mirror.test/Tool/v1.0.0/{ARCHIVE}"]
    assert first.fetched == [str(tmp_path / "cache/Tool/v1.0.0" / CHECKSUMS), first.archive_path]
    again = prepare(wanted, str(tmp_path / "cache"), no_fetch)
    assert again.unpack_dir == first.unpack_dir and again.fetched == []


def test_checksum_mismatch_of_a_download_is_discarded(tmp_path: Path) -> None:
    publish(tmp_path / "mirror", make_archive({"tool-prod": b"binary"}), listed=b"something else")
    with pytest.raises(ArchiveError) as error:
        prepare(release("mirror", mirror_url="http://mirror.test"), str(tmp_path / "cache"),
                mirror_fetcher(tmp_path / "mirror"))
    message = str(error.value)
    assert "checksum mismatch" in message and hashlib.sha256(b"something else").hexdigest() in message
    assert "Nothing was installed" in message and "discarded" in message
    assert not (tmp_path / "cache/Tool/v1.0.0" / ARCHIVE).exists()
    assert not list((tmp_path / "cache/Tool/v1.0.0").glob("unpacked-*"))


def test_checksum_mismatch_of_an_offline_file_is_left_in_place(tmp_path: Path) -> None:
    folder = publish(tmp_path / "offline", make_archive({"tool-prod": b"binary"}), listed=b"other")
    with pytest.raises(ArchiveError, match="Replace the file in the offline directory"):
        prepare(release("local", local_dir=str(tmp_path / "offline")), str(tmp_path / "cache"), no_fetch)
    assert (folder / ARCHIVE).is_file()


def test_configured_sha256_replaces_the_checksum_list(tmp_path: Path) -> None:
    data = make_archive({"tool-prod": b"binary"})
    publish(tmp_path / "mirror", data)
    wanted = release("upstream", checksums="", sha256=hashlib.sha256(data).hexdigest().upper(),
                     url=f"http://mirror.test/Tool/v1.0.0/{ARCHIVE}")
    calls: list[str] = []
    prepared = prepare(wanted, str(tmp_path / "cache"), mirror_fetcher(tmp_path / "mirror", calls))
    assert calls == [f"http://mirror.test/Tool/v1.0.0/{ARCHIVE}"]
    assert prepared.sha256 == hashlib.sha256(data).hexdigest()


def test_archive_left_packed_when_the_host_unpacks_it(tmp_path: Path) -> None:
    publish(tmp_path / "offline", make_archive({"tool/bin/tool": b"binary"}))
    wanted = release("local", local_dir=str(tmp_path / "offline"))
    wanted.unpack = False
    prepared = prepare(wanted, str(tmp_path / "cache"), no_fetch)
    assert prepared.unpack_dir == ""
    assert not list((tmp_path / "cache/Tool/v1.0.0").glob("unpacked-*"))


@pytest.mark.parametrize(("fields", "expected"), [
    ({"source": "github"}, "must be one of upstream, mirror, local"),
    ({"source": "mirror"}, "needs a mirror URL"),
    ({"source": "local"}, "needs a directory"),
    ({"source": "local", "local_dir": "/x", "checksums": ""}, "neither a checksum list nor a sha256"),
])
def test_bad_release_descriptions_are_refused(tmp_path: Path, fields: dict, expected: str) -> None:
    with pytest.raises(ArchiveError, match=expected):
        prepare(release(**fields), str(tmp_path / "cache"), no_fetch)


def test_checksum_list_without_the_archive(tmp_path: Path) -> None:
    folder = publish(tmp_path / "offline", make_archive({"tool-prod": b"binary"}))
    (folder / CHECKSUMS).write_text(f"{'1' * 64}  another.tar.gz\n")
    with pytest.raises(ArchiveError, match=f"does not name {ARCHIVE}"):
        prepare(release("local", local_dir=str(tmp_path / "offline")), str(tmp_path / "cache"), no_fetch)


def test_failed_download_names_the_url(tmp_path: Path) -> None:
    (tmp_path / "mirror").mkdir()
    with pytest.raises(ArchiveError, match=f"cannot download http://mirror.test/Tool/v1.0.0/{CHECKSUMS}"):
        prepare(release("mirror", mirror_url="http://mirror.test"), str(tmp_path / "cache"),
                mirror_fetcher(tmp_path / "mirror"))


@pytest.mark.parametrize(("members", "links"), [
    ({"../escape": b"x"}, None),
    ({"/etc/escape": b"x"}, None),
    ({"tool-prod": b"x"}, {"link": "../../outside"}),
])
def test_members_outside_the_archive_folder_are_refused(tmp_path: Path, members: dict, links: dict | None) -> None:
    publish(tmp_path / "offline", make_archive(members, links))
    with pytest.raises(ArchiveError, match="outside its own folder"):
        prepare(release("local", local_dir=str(tmp_path / "offline")), str(tmp_path / "cache"), no_fetch)
    assert not list((tmp_path / "cache/Tool/v1.0.0").glob("unpacked-*"))


def _prepare_in_child(arguments: tuple[str, str, str]) -> str:
    mirror, cache, log = arguments

    def fetch(url: str, destination: Path) -> None:
        with open(log, "a", encoding="utf-8") as calls:
            calls.write(url + "\n")
        mirror_fetcher(Path(mirror))(url, destination)

    return prepare(release("mirror", mirror_url="http://mirror.test"), cache, fetch).unpack_dir


def test_eight_hosts_at_once_download_and_unpack_once(tmp_path: Path) -> None:
    publish(tmp_path / "mirror", make_archive({f"tool-{n}": bytes(200_000) for n in range(20)}))
    log = tmp_path / "fetch.log"
    arguments = (str(tmp_path / "mirror"), str(tmp_path / "cache"), str(log))
    with multiprocessing.get_context("fork").Pool(8) as pool:
        unpack_dirs = pool.map(_prepare_in_child, [arguments] * 8)
    assert len(set(unpack_dirs)) == 1
    assert len(log.read_text().splitlines()) == 2  # the checksum list and the archive, once each
    unpacked = Path(unpack_dirs[0])
    assert sorted(path.name for path in unpacked.iterdir()) == sorted([COMPLETE_MARKER] + [f"tool-{n}" for n in range(20)])
    assert not list(unpacked.parent.glob(".unpacking-*"))
