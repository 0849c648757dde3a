# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """The attributes of an action that works on the controller only and never contacts the host."""

    # Its attributes need their descriptions, which ansible-core < 2.19 and the
    # docs site want: list ansible.builtin.action_common_attributes and its
    # .flow before this fragment (a fragment cannot extend another).
    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    details: The whole of the work is done by the action plugin, on the controller.
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Only the controller's cache is written, in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""
