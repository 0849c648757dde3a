# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The internal role vmstack.monitoring.common, listed as a role, stops with a message naming what to use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ansible")

ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
PLAY = "- hosts: localhost\n  gather_facts: false\n  roles:\n    - vmstack.monitoring.common\n"


def test_the_shared_layer_refuses_to_run_as_a_role(collection_env, tmp_path):
    playbook = tmp_path / "common.yml"
    playbook.write_text(PLAY)
    result = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(playbook)],
                            cwd=tmp_path, env=collection_env, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    output = " ".join(result.stdout.split())
    assert "internal shared layer and deploys nothing by itself" in output
    assert "vmstack.monitoring.victoria_metrics" in output
    assert "changed=0" in output
