# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Real binaries for the unit tests that ask a release itself for its verdict."""

from __future__ import annotations

import tarfile
from pathlib import Path


def unpack_binary(archive: Path, member: str, into: Path) -> Path:
    """One executable of a release archive, written into a folder; returns its path."""
    binary = into / member
    with tarfile.open(archive) as release:
        data = release.extractfile(member)
        assert data is not None, f"{archive} holds no file {member}"
        binary.write_bytes(data.read())
    binary.chmod(0o755)
    return binary
