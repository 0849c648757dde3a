# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Run a module's main() in-process with given arguments, on every ansible-core
the collection declares: 2.19 has a helper for it; earlier releases read the
arguments from basic._ANSIBLE_ARGS."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any, Callable, Iterator

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args: dict[str, Any]) -> Iterator[None]:  # type: ignore[no-redef]
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


def run_main(main: Callable[[], None], args: dict[str, Any], check_mode: bool = False, diff: bool = False) -> dict[str, Any]:
    """Run a module's main() and return what it printed as JSON (exit_json or fail_json)."""
    import pytest

    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    output = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(output), pytest.raises(SystemExit):
        main()
    return json.loads(output.getvalue())


__all__ = ["patch_module_args", "run_main"]
