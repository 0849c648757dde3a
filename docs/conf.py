# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Sphinx settings of the vmstack.monitoring documentation site (built by tests/docs.sh).

antsibull-docs writes the collection's pages into rst/collections/; this file
and rst/index.rst are the rest of the site.
"""

from __future__ import annotations

import zlib
from pathlib import Path

project = "vmstack.monitoring"
copyright = "vmstack.monitoring contributors"  # noqa: A001 - Sphinx reads this name
title = "vmstack.monitoring documentation"
html_short_title = title

extensions = ["sphinx.ext.intersphinx", "sphinx_antsibull_ext"]
pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_index = False
html_copy_source = False
default_role = "any"

ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/"

# The pages antsibull-docs writes link to these labels of Ansible's own documentation
# (action_plugins: from a module documented with the action flow attributes).
# The site is built without network access, so instead of downloading Ansible's
# objects.inv, a small one with just those labels is written here; the links still
# point to the real pages.
ANSIBLE_LABELS = {
    "action_plugins": ("plugins/action.html#action-plugins", "Action plugins"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings",
                                       "Ansible Configuration Settings"),
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values",
                             "Return Values"),
}


def _write_inventory(labels: dict[str, tuple[str, str]]) -> str:
    header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: latest\n" \
             "# The remainder of this file is compressed using zlib.\n"
    body = "".join(f"{name} std:label -1 {uri} {title}\n" for name, (uri, title) in labels.items())
    path = Path(__file__).with_name("ansible-objects.inv")
    path.write_bytes(header.encode() + zlib.compress(body.encode()))
    return str(path)


intersphinx_mapping = {"ansible": (ANSIBLE_DOCS, _write_inventory(ANSIBLE_LABELS))}
