# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""IPv6 zones against a real vmagent (issue 10, item 9), when one is installed.

vmagent gets the remote write URL and the scrape config the collection
derives for a host whose vmstack_address carries a zone; before the fix it
exited on ``invalid URL escape "%et"`` and skipped the target.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import topology

VMAGENT = os.environ.get("VMSTACK_VMAGENT", "/usr/bin/vmagent")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _targets(port: int, deadline: float) -> list[dict] | None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets", timeout=1) as answer:
                return json.load(answer)["data"]["activeTargets"]
        except OSError:
            time.sleep(0.2)
    return None


@pytest.mark.skipif(not Path(VMAGENT).exists(), reason=f"no vmagent at {VMAGENT}")
def test_vmagent_takes_the_derived_urls_of_a_zoned_host(tmp_path: Path) -> None:
    groups = {"victoria_metrics": ["vm1"], "node_exporter": ["vm1"]}
    hostvars = {"vm1": {"vmstack_address": "fe80::1%eth0"}}
    config = tmp_path / "scrape.yml"
    config.write_text(yaml.safe_dump(topology.stack_scrape_config(groups, hostvars)))
    [remote_write] = topology.component_urls(groups, hostvars, "victoria_metrics", "/api/v1/write")
    port = _free_port()
    process = subprocess.Popen(
        [VMAGENT, f"-httpListenAddr=127.0.0.1:{port}", f"-remoteWrite.url={remote_write}",
         f"-remoteWrite.tmpDataPath={tmp_path / 'queue'}", f"-promscrape.config={config}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        targets = _targets(port, time.monotonic() + 15)
        assert process.poll() is None, process.communicate()[0]
        assert targets is not None
        assert sorted(target["scrapeUrl"] for target in targets) == [
            "http://[fe80::1%25eth0]:8428/metrics", "http://[fe80::1%25eth0]:9100/metrics"]
    finally:
        process.kill()
        process.communicate()
