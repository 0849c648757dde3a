#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
# The work is done by the action plugin of the same name, on the controller;
# this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_check
short_description: Check configs with the release's own binary, on the controller, before any host changes
version_added: "0.2.0"
author: vmstack maintainers (@vmstack)
description:
  - Runs the dry run of the binary a host will run, on the controller, against the config that host would get
    (C(vmalert -dryRun) for rule files, C(vmagent) or C(victoria-metrics) C(-promscrape.config.dryRun) for a scrape
    config, C(amtool check-config) for an Alertmanager config with its notification templates). What only the
    binary can judge, such as a MetricsQL expression or a template, is then found before the first change on any
    host, not in the middle of a play.
  - Gets the release archive ready in the controller's cache first, exactly as M(vmstack.monitoring.release_archive)
    does, so the binary is the one the host will get.
  - The files are checked as copies in a private temporary directory; messages name them as they will be on the
    host, and every secret of O(secrets_from) is masked in them.
  - Skips (and says why) when the controller cannot run the host's release (not Linux, or another architecture),
    and for a scrape config that names files only the host has (C(password_file), C(file_sd_configs), ...);
    the roles still check every file with the binary on the host before it replaces the live one.
  - Give exactly one of O(rule_files), O(scrape_config) and O(alertmanager_config).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - vmstack.monitoring.controller_action
options:
  release:
    description:
      - Where the release comes from, with the same keys as the options of M(vmstack.monitoring.release_archive)
        (C(source), C(project), C(version), C(archive), C(checksums), ...), and C(binaries), a list of
        dictionaries with C(src) and C(name) naming the files of the unpacked archive and their installed names.
    type: dict
    required: true
  binary:
    description: The installed name of the binary to run (one of the release's C(binaries)).
    type: str
    required: true
  arch:
    description: The Go architecture the host's release is built for (C(amd64), C(arm64), ...).
    type: str
    required: true
  cache_dir:
    description: The controller's cache directory.
    type: path
    required: true
  path:
    description:
      - Where the checked config lives on the host, for messages. For O(rule_files) the directory that holds
        them; otherwise the file. For O(alertmanager_config), its C(templates) directory beside it is where the
        notification templates live.
    type: str
    required: true
  rule_files:
    description: Rule files for vmalert, as a dictionary of file names and contents; each is checked alone.
    type: dict
  rule_sources:
    description: Where each rule file came from, by file name, named in messages.
    type: dict
  scrape_config:
    description: The text of a C(-promscrape.config) file.
    type: str
  strict:
    description: Check the scrape config as with C(-promscrape.config.strictParse=true).
    type: bool
    default: true
  alertmanager_config:
    description: The text of an Alertmanager config file.
    type: str
  templates:
    description: The notification template files on the controller, installed in the C(templates) directory beside O(path).
    type: list
    elements: path
  secrets_from:
    description: Settings whose secret values (as the C(vmstack.monitoring.mask_secrets) filter finds them) are masked in messages.
    type: raw
notes:
  - Internal to the collection's role preflights; documented because a playbook can call it too.
"""

EXAMPLES = r"""
- name: Check a rule file with vmalert 1.150.0 before deploying it
  vmstack.monitoring.release_check:
    release:
      source: local
      local_dir: /srv/vmstack-archives
      project: VictoriaMetrics
      version: "1.150.0"
      archive: vmutils-linux-amd64-v1.150.0.tar.gz
      checksums: vmutils-linux-amd64-v1.150.0_checksums.txt
      binaries:
        - src: vmalert-prod
          name: vmalert-prod
    binary: vmalert-prod
    arch: amd64
    cache_dir: ~/.cache/vmstack/archives
    path: /etc/vmalert/rules
    rule_files:
      disk.yml: "{{ lookup('ansible.builtin.file', 'rules/disk.yml') }}"
"""

RETURN = r"""
checked:
  description: Whether the binary ran (false when the check was skipped).
  returned: always
  type: bool
skip_reason:
  description: Why the controller could not judge the config; the host's check still runs.
  returned: when skipped
  type: str
  sample: "the controller is aarch64, the host's release is built for amd64: the binary checks the file on the host instead"
msg:
  description: What the binary refuses, file by file, with secrets masked.
  returned: failed
  type: str
  sample: >-
    vmalert-prod 1.150.0, run on the controller, refuses /etc/vmalert/rules/inline-groups.yml
    (from vmalert_rule_groups): ... bad MetricsQL expr: "up ==" ...
"""
