# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The note that a service has not loaded its new configuration yet.

A module that writes a configuration notes it before it returns; the service
step (module ``service_apply``) removes the note only after a healthy reload
or restart. A run that fails in between leaves the note, so the next run
still reloads, although nothing changes then.
"""

from __future__ import annotations

import os


def note(marker: str) -> None:
    """Create the (empty) note, and its directory, readable by root only."""
    os.makedirs(os.path.dirname(marker), mode=0o700, exist_ok=True)
    os.close(os.open(marker, os.O_WRONLY | os.O_CREAT, 0o600))


def is_noted(marker: str | None) -> bool:
    return bool(marker) and os.path.exists(marker)


def clear(marker: str) -> None:
    if os.path.exists(marker):
        os.unlink(marker)
