# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Keep configured secrets out of the messages the collection prints.

A binary that refuses a config (amtool, vmagent, vmalert) may quote any part
of it, secrets included. Before such output is shown, every secret value of
the settings it came from is replaced with ``***``: values under keys that
name a secret (password, token, secret, credentials, ...), the whole of a
role's secret flags, and the password of any URL's userinfo.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping
from urllib.parse import unquote

MASK = "***"

# Keys whose values are secrets in Alertmanager, promoter, scrape configs and
# the VictoriaMetrics flags (-remoteWrite.basicAuth.password, ...).
_SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|credential|api_?key|auth_?key|private_?key|routing_?key|service_?key|"
    r"webhook_?url|api_?url|bot_?token|access_?key)",
    re.IGNORECASE,
)
# scheme://user:password@host: the password is everything between ':' and the last '@' of the authority.
_URL_USERINFO = re.compile(r"(?P<prefix>[A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*:)(?P<password>[^/\s]*)@")

# Shorter values would mask ordinary words and numbers in the message.
_MIN_SECRET_LENGTH = 3


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def url_passwords(text: str) -> list[str]:
    """The passwords in the userinfo of every URL in text, as written and decoded."""
    found = []
    for match in _URL_USERINFO.finditer(text):
        password = match.group("password")
        found.extend({password, unquote(password)})
    return found


def secret_values(settings: Any, all_secret: bool = False) -> list[str]:
    """Every secret value in a nested structure of settings.

    With ``all_secret`` every string is a secret (a role's ``*_secret_flags``).
    """
    found: list[str] = []
    if isinstance(settings, Mapping):
        for key, value in settings.items():
            found.extend(secret_values(value, all_secret or bool(_SECRET_KEY.search(str(key)))))
    elif isinstance(settings, (list, tuple)):
        for item in settings:
            found.extend(secret_values(item, all_secret))
    else:
        for text in _strings(settings):
            if all_secret:
                found.append(text)
            found.extend(url_passwords(text))
    return found


def mask_secrets(text: Any, settings: Any = None, secrets: Iterable[Any] = ()) -> str:
    """Text with every secret of ``settings`` (and each of ``secrets``) and every URL password as ``***``.

    The longest values go first, so that a secret holding another is masked whole.
    """
    values = secret_values(settings) + [str(item) for item in secrets if item is not None]
    masked = str(text)
    for value in sorted({value for value in values if len(value) >= _MIN_SECRET_LENGTH}, key=len, reverse=True):
        masked = masked.replace(value, MASK)
    return _URL_USERINFO.sub(lambda match: match.group("prefix") + MASK + "@", masked)
