# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Release archives: checksum files and architecture names."""

from __future__ import annotations

import re

SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")

# Ansible's ansible_architecture -> the name used in release file names.
RELEASE_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "i386": "386",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}


class ChecksumError(ValueError):
    """The checksum list does not name the archive, or names it in a broken way."""


def release_arch(machine: str) -> str:
    """Return the release-file architecture for an Ansible architecture fact."""
    try:
        return RELEASE_ARCH[machine]
    except KeyError:
        raise ChecksumError(f"no release builds are known for architecture {machine!r}") from None


def sha256_for(checksum_list: str, file_name: str) -> str:
    """Find the sha256 of ``file_name`` in a ``sha256sum``-style list.

    Both the VictoriaMetrics ``*_checksums.txt`` and the Prometheus
    ``sha256sums.txt`` files use ``<hash>  <name>`` lines; a leading ``*``
    (binary mode) or ``./`` on the name is tolerated. A file that holds one
    bare hash (Grafana's ``<archive>.sha256``) is that archive's checksum.
    """
    tokens = checksum_list.split()
    if len(tokens) == 1 and SHA256.match(tokens[0]):
        return tokens[0].lower()
    for line in checksum_list.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        digest, name = parts
        name = name.lstrip("*")
        if name.startswith("./"):
            name = name[2:]
        if name == file_name:
            if not SHA256.match(digest):
                raise ChecksumError(f"the checksum listed for {file_name} is not a sha256: {digest!r}")
            return digest.lower()
    raise ChecksumError(f"the checksum list does not name {file_name}")
