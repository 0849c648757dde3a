# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Time the scrape config validator against the real binary's dry run.

Generates one config with --jobs jobs (static targets, a few relabel rules
each), then prints how long these take on it:
  - validate_scrape_config() in this process,
  - tools/vmcheck as a whole process (interpreter start-up included),
  - <vmagent> -promscrape.config=F -promscrape.config.dryRun -loggerLevel=ERROR
    (skipped with a note when --vmagent does not exist).
It prints figures; it asserts nothing.  Run it as: python3 tests/bench/bench-vmcheck.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VMCHECK = REPO_ROOT / "tools" / "vmcheck"

JOB_TEMPLATE = """\
  - job_name: job-{index}
    scrape_interval: 30s
    scrape_timeout: 10s
    metrics_path: /metrics
    static_configs:
      - targets: ['host-{index}.example.org:9100', 'host-{index}.example.org:9256']
        labels:
          team: team-{team}
          env: prod
    relabel_configs:
      - source_labels: [__address__]
        regex: '([^:]+):\\d+'
        target_label: instance
        replacement: $1
      - source_labels: [env]
        regex: 'prod|staging'
        action: keep
      - action: labeldrop
        regex: 'tmp_.*'
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'go_gc_.*|go_memstats_.*'
        action: drop
      - if: '{{__name__=~"node_.*", mode!="idle"}}'
        action: keep
"""


def generate_config(jobs: int) -> str:
    parts = ["global:\n  scrape_interval: 30s\nscrape_configs:\n"]
    parts.extend(JOB_TEMPLATE.format(index=index, team=index % 17) for index in range(jobs))
    return "".join(parts)


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def bench_validator(text: str, base_dir: str) -> None:
    sys.path.insert(0, str(VMCHECK.parent))
    # Reuse vmcheck's namespace registration so that this runs without Ansible.
    namespace: dict = {"__name__": "vmcheck_for_bench", "__file__": str(VMCHECK)}
    exec(compile(VMCHECK.read_text(), str(VMCHECK), "exec"), namespace)
    validate = namespace["validate_scrape_config"]
    seconds, findings = timed(lambda: validate(text, base_dir=base_dir))
    errors = sum(1 for finding in findings if finding.is_error)
    print(f"validate_scrape_config(): {seconds:.2f} s ({len(findings)} findings, {errors} errors)")


def bench_vmcheck(path: str) -> None:
    seconds, run = timed(lambda: subprocess.run([sys.executable, str(VMCHECK), path], capture_output=True, text=True,
                                                check=False))
    print(f"tools/vmcheck (whole process): {seconds:.2f} s (exit {run.returncode})")


def bench_vmagent(vmagent: str, path: str) -> None:
    if not os.access(vmagent, os.X_OK):
        print(f"vmagent dry run: skipped, {vmagent} does not exist (pass --vmagent PATH)")
        return
    command = [vmagent, f"-promscrape.config={path}", "-promscrape.config.dryRun", "-loggerLevel=ERROR"]
    seconds, run = timed(lambda: subprocess.run(command, capture_output=True, text=True, cwd=os.path.dirname(path),
                                                check=False))
    note = "" if run.returncode == 0 else f": {run.stderr.strip()[-200:]}"
    print(f"{vmagent} -promscrape.config.dryRun: {seconds:.2f} s (exit {run.returncode}{note})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10000, help="number of jobs (default 10000)")
    parser.add_argument("--vmagent", default="/usr/bin/vmagent", help="vmagent binary (default /usr/bin/vmagent)")
    args = parser.parse_args()
    text = generate_config(args.jobs)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "promscrape.yml")
        Path(path).write_text(text)
        print(f"config: {args.jobs} jobs, {text.count(chr(10))} lines, {len(text) / 1e6:.1f} MB")
        bench_validator(text, directory)
        bench_vmcheck(path)
        bench_vmagent(args.vmagent, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
