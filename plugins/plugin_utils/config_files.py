# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The message a play fails with when the config_files module refused a set
of files (entry point config_files of the role common)."""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

# The VictoriaMetrics binaries log "<time>\t<level>\t<source>.go:<line>\t"
# before their message; the source line means nothing to the user.
_GO_LOG_PREFIX = re.compile(r"(?m)^[0-9TZ:.+-]+\s+(fatal|error|panic)\s+\S+[.]go:[0-9]+\s+")


def _output(text: str) -> str:
    return _GO_LOG_PREFIX.sub("", text or "").strip()


def config_files_refusal(result: Mapping[str, Any] | None, path: str, label: str,
                         sources: Mapping[str, str] | None = None) -> str:
    """What was refused, by whom, with the command's output, and that the live files stay as they were."""
    result = result or {}
    sources = sources or {}
    path = path.rstrip("/")
    refused = list(result.get("refused") or [])
    each = [item for item in refused if item.get("name") != "*"]
    whole = [item for item in refused if item.get("name") == "*"]
    if each:
        names = ", ".join(item["name"] for item in each)
        lines = [f"{label} refuses {names}:",
                 f"not installed, the live {os.path.basename(path)} directory keeps what it had ({path})."]
        for item in each:
            origin = f" (from {sources[item['name']]})" if item["name"] in sources else ""
            lines.append(f"- {item['name']}{origin}:")
            lines.extend("  " + line for line in (_output(item.get("output", "")) or f"exit code {item.get('rc')}").splitlines())
        return "\n".join(lines)
    if whole:
        return (f"{label} refuses the new files of {path} together, so they were put back as they were:\n"
                + (_output(whole[0].get("output", "")) or f"exit code {whole[0].get('rc')}"))
    return f"Writing the files of {path} failed: {result.get('msg') or 'see the task above'}"
