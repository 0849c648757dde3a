# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""tests/ansible-versions/converge.py: what makes a converge check pass or fail, and its JUnit counts."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

CONVERGE = Path(__file__).resolve().parents[1] / "ansible-versions" / "converge.py"


def load_converge():
    spec = importlib.util.spec_from_file_location("ansible_versions_converge", CONVERGE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


converge = load_converge()
RECAP = "TASK [x]\n{}\nPLAY RECAP ***\nh : ok=3 changed={} unreachable=0 failed=0\n"


def test_a_failed_playbook_fails_the_check(tmp_path):
    run = converge.PlaybookRun(2, 0, "fatal: [h]: FAILED!")
    assert "exited 2" in converge.playbook_failure(run, tmp_path / "log", want_unchanged=False)


def test_a_change_on_rerun_fails_and_names_the_task(tmp_path):
    run = converge.PlaybookRun(0, 1, RECAP.format("changed: [h]", 1))
    failure = converge.playbook_failure(run, tmp_path / "log", want_unchanged=True)
    assert "changed=1, expected 0" in failure and "TASK [x]" in failure


def test_a_change_is_fine_on_the_first_converge(tmp_path):
    run = converge.PlaybookRun(0, 1, RECAP.format("changed: [h]", 1))
    assert converge.playbook_failure(run, tmp_path / "log", want_unchanged=False) == ""


def test_report_counts_passed_and_failed(tmp_path, capsys):
    recorder = converge.Recorder("suite")
    recorder.check("good", lambda: "")
    recorder.check("bad", lambda: "it broke")
    recorder.skip_rest(["later"], "not run")
    assert recorder.write(tmp_path / "r.xml") == 2
    suite = ET.parse(tmp_path / "r.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 2 failed"


def test_a_wrong_ansible_core_fails_the_version_check(tmp_path):
    fake = tmp_path / "ansible-playbook"
    fake.write_text("#!/bin/sh\necho 'ansible-playbook [core 2.19.4]'\n")
    fake.chmod(0o755)
    assert "expected ansible-core 2.16.x" in converge.version_failure(tmp_path, "2.16")
    assert converge.version_failure(tmp_path, "2.19") == ""
