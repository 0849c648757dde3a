# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Test fixture: writes one sample about every 0.25 s through vminsert until
<dir>/stop exists, retrying each sample until vminsert accepts it (as vmagent
does), and notes each accepted sample's timestamp in <dir>/acked. Between
writes it asks every vmstorage node for /health and keeps the largest number
found down at once in <dir>/max-down.

    cluster-writer DIR INSERT_URL HEALTH_URL...
"""

from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def deliver(url: str, body: bytes) -> None:
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=5) as response:
                if response.status in (200, 204):
                    return
        except OSError:
            pass
        time.sleep(0.2)


def main(directory: Path, insert_url: str, health_urls: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    max_down = 0
    with (directory / "acked").open("a") as acked:
        while not (directory / "stop").exists():
            timestamp = int(time.time() * 1000)
            deliver(insert_url, f"vmstack_rolling_probe {timestamp} {timestamp}\n".encode())
            acked.write(f"{timestamp}\n")
            acked.flush()
            down = sum(not answers(url) for url in health_urls)
            if down > max_down:
                max_down = down
                (directory / "max-down").write_text(f"{max_down}\n")
            time.sleep(0.25)
    (directory / "done").write_text("done\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])
