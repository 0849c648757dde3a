# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The Molecule scenarios' one webhook recorder (molecule/webhook_recorder.py),
run as the scenarios run it: records path, Authorization header and body of
each POST, one JSON line each, in the order they came."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

RECORDER = Path(__file__).resolve().parents[2] / "molecule" / "webhook_recorder.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: object, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # the recorder is still starting


def test_each_post_is_recorded_with_its_path_authorization_and_body(tmp_path):
    output = tmp_path / "records.jsonl"
    port = free_port()
    server = subprocess.Popen([sys.executable, str(RECORDER), "127.0.0.1", str(port), str(output)],
                              stderr=subprocess.DEVNULL)
    try:
        first = {"receiver": "ops-webhook", "alerts": [{"labels": {"alertname": "A"}}]}
        assert post(f"http://127.0.0.1:{port}/hook?token=t1", first,
                    {"Content-Type": "application/json", "Authorization": "Bearer s3cret"}) == 200
        assert post(f"http://127.0.0.1:{port}/alerts", {"status": "resolved"},
                    {"Content-Type": "application/json"}) == 200
    finally:
        server.terminate()
        server.wait(timeout=10)

    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert records == [
        {"path": "/hook?token=t1", "authorization": "Bearer s3cret", "body": first},
        {"path": "/alerts", "authorization": "", "body": {"status": "resolved"}},
    ]
