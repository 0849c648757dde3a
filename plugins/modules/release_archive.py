#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
# The work is done by the action plugin of the same name, on the controller;
# this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_archive
short_description: Fetch, verify and unpack a release archive once, on the controller
version_added: "0.2.0"
author: vmstack maintainers (@vmstack)
description:
  - Makes one release archive available in the controller's cache, verified against its published sha256, and
    unpacked there, for tasks that then copy its binaries to the hosts.
  - Runs on the controller only, in the Ansible process itself; the host is never contacted and nothing on it
    changes, so the task always reports C(changed=false) and runs in check mode too.
  - The cache, a mirror and an offline directory share one layout, C(<project>/v<version>/<release file>).
    A download goes to a temporary file that is renamed into place; a file that does not match its checksum is
    discarded and the task fails before any host changes, naming the file and both hashes.
  - The archive is unpacked into C(unpacked-<sha256 prefix>) beside it, through a temporary folder renamed into
    place, with a marker written last. Every host of a play asks at once; a lock per release folder lets one do
    the work while the others wait, and later calls find the marker and return without reading the archive.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - vmstack.monitoring.controller_action
options:
  source:
    description: Where the archive comes from.
    type: str
    choices: [upstream, mirror, local]
    required: true
  project:
    description: The first part of the relative path, such as C(VictoriaMetrics) or C(alertmanager).
    type: str
    required: true
  version:
    description: The release version without C(v); the relative path is C(<project>/v<version>).
    type: str
    required: true
  archive:
    description: The archive's file name.
    type: str
    required: true
  checksums:
    description: The file name of the published C(sha256sum)-style list (or bare hash) that names O(archive).
    type: str
  sha256:
    description: The archive's sha256, for projects without a checksum list; takes precedence over O(checksums).
    type: str
  upstream_url:
    description: The upstream download folder, for O(source=upstream).
    type: str
  url:
    description: The archive's full upstream URL, used instead of O(upstream_url) for O(source=upstream).
    type: str
  mirror_url:
    description: Base URL of a mirror in the cache layout, for O(source=mirror).
    type: str
  local_dir:
    description: A directory on the controller in the cache layout, read in place, for O(source=local).
    type: path
  cache_dir:
    description: The controller's cache directory.
    type: path
    required: true
  unpack:
    description: Unpack the archive in the cache (false for archives a host unpacks itself).
    type: bool
    default: true
notes:
  - Internal to the collection's shared layer (role C(common)); documented because a playbook can call it too.
"""

EXAMPLES = r"""
- name: Get VictoriaMetrics 1.150.0 from an offline directory
  vmstack.monitoring.release_archive:
    source: local
    local_dir: /srv/vmstack-archives
    project: VictoriaMetrics
    version: "1.150.0"
    archive: victoria-metrics-linux-amd64-v1.150.0.tar.gz
    checksums: victoria-metrics-linux-amd64-v1.150.0_checksums.txt
    cache_dir: ~/.cache/vmstack/archives
  register: vm_release

- name: Copy its binary
  ansible.builtin.copy:
    src: "{{ vm_release.unpack_dir }}/victoria-metrics-prod"
    dest: /usr/local/bin/victoria-metrics-prod
    mode: "0755"
"""

RETURN = r"""
archive_path:
  description: The verified archive on the controller.
  returned: success
  type: str
  sample: /home/me/.cache/vmstack/archives/VictoriaMetrics/v1.150.0/victoria-metrics-linux-amd64-v1.150.0.tar.gz
sha256:
  description: The archive's sha256, as published.
  returned: success
  type: str
unpack_dir:
  description: Where the archive is unpacked on the controller; empty when O(unpack=false).
  returned: success
  type: str
fetched:
  description: The files this call downloaded (empty when the cache already had them).
  returned: success
  type: list
  elements: str
"""
