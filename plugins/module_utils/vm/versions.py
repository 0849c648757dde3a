# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""VictoriaMetrics versions and the parser changes that came with them.

Every behaviour of ``-promscrape.config`` parsing that changed between
releases is named once in FEATURES, so the validator asks
``supports(version, "if_list")`` instead of comparing version numbers inline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Tuple

# typing.Tuple rather than tuple[...]: this alias is evaluated at import time
# and module_utils must stay importable by older Pythons on managed hosts.
Version = Tuple[int, int, int]

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


@lru_cache(maxsize=256)
def parse_version(text: str) -> Version:
    """Turn ``"1.79.5"``, ``"v1.112.0"`` or ``"1.79.5+ds1-2"`` into a tuple."""
    match = _VERSION_RE.match(str(text).strip())
    if not match:
        raise ValueError(f"not a VictoriaMetrics version: {text!r}; write it as X.Y.Z, for example 1.79.5")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def format_version(version: Version) -> str:
    return "v%d.%d.%d" % version


# The version checked against when none is given: the roles' default release.
DEFAULT_VM_VERSION = "1.150.0"

# The newest release whose parser this module describes (read from its
# source at the tag).  A newer version is checked as this one.
NEWEST_KNOWN = "1.150.0"


def known_version(version: Version) -> Version:
    """The version to check with: ``version``, or NEWEST_KNOWN when it is newer."""
    return min(version, parse_version(NEWEST_KNOWN))


@dataclass(frozen=True)
class Feature:
    """A change in a VictoriaMetrics binary: the mainline release that brought it.

    ``lts`` lists long-term-support lines that got the change in a later
    patch release than their minor version would suggest; only changes that
    were backported are listed there.  The scrape-config parser's changes are
    in FEATURES below; vmalert's rule-file keys and template names use the
    same type (plugin_utils/vmrules/features.py).
    """

    since: str
    lts: dict[str, str] = field(default_factory=dict)
    # The first release without it, for a feature that was removed again.
    until: str | None = None

    def available_in(self, version: Version) -> bool:
        if self.until is not None and version >= parse_version(self.until):
            return False
        lts_since = self.lts.get("%d.%d" % version[:2])
        if lts_since is not None:
            return version >= parse_version(lts_since)
        return version >= parse_version(self.since)


FEATURES: dict[str, Feature] = {
    # metricsql stopped taking "inf"/"NaN" as durations (metricsql v0.50.0).
    "duration_rejects_inf_nan": Feature("1.85.0", {"1.79": "1.79.6"}),
    # Upper-case duration units such as 5S or 1H (metricsql v0.51.2).
    "duration_upper_case_units": Feature("1.86.2", {"1.79": "1.79.8"}),
    # `action` and `scheme` are lower-cased before they are checked; ^ and $
    # written by the user are stripped before the regex is anchored.
    "case_insensitive_action_scheme": Feature("1.81.0"),
    # %{ENV} placeholders: an unset variable became an error ...
    "env_unset_is_error": Feature("1.83.0"),
    # ... only names matching [a-zA-Z0-9_]+ are expanded ...
    "env_name_check": Feature("1.86.0"),
    # ... names may also hold '-' and '.' (and must not start with a digit) ...
    "env_name_dash_dot": Feature("1.87.4"),
    # ... and an unset variable is left as written again.
    "env_unset_left_as_is": Feature("1.124.0"),
    "no_stale_markers": Feature("1.83.0"),
    # relabel_debug / metric_relabel_debug were dropped from scrape configs.
    "relabel_debug_removed": Feature("1.85.0"),
    # stream_parse together with sample_limit/series_limit became allowed.
    "stream_parse_with_limits": Feature("1.85.0"),
    "action_keepequal": Feature("1.86.0"),
    # keep_if_equal/drop_if_equal reject target_label and regex.
    "keep_if_equal_strict": Feature("1.86.0"),
    "follow_redirects_in_http_client": Feature("1.91.1"),
    # `if` may be a list of selectors; `or` is allowed inside {}.
    "if_list": Feature("1.92.0"),
    # Inline tls_config ca/cert/key became strings (they were []byte).
    "tls_inline_pem": Feature("1.95.0", {"1.93": "1.93.7"}),
    # A job with a semantic error is logged and dropped; dry-run exits 0.
    "skip_bad_jobs": Feature("1.95.0"),
    # CA and client certificate files are read lazily, not at load time.
    "lazy_tls_files": Feature("1.95.0"),
    # scrape_config_files entries that cannot be read are logged and skipped.
    "skip_bad_scrape_config_files": Feature("1.95.0"),
    # ... but parse errors in them are fatal again unless strictParse=false.
    "scrape_config_files_strict_flag": Feature("1.97.0"),
    "action_keep_if_contains": Feature("1.96.0"),
    "basic_auth_username_file": Feature("1.97.1"),
    # Go 1.22 regexp accepts (?<name>re) as a named group.
    "regex_angle_named_group": Feature("1.98.0"),
    "enable_compression": Feature("1.99.0"),
    "max_scrape_size": Feature("1.102.0"),
    "global_relabel_configs": Feature("1.106.0"),
    "global_label_limit": Feature("1.121.0"),
    "global_sample_limit": Feature("1.133.0"),
    # oauth2 `headers` (sent to token_url), each checked for "Name: value".
    "oauth2_headers": Feature("1.138.0", {"1.122": "1.122.17", "1.136": "1.136.2"}),
    # `if` selectors (metricsql v0.83): a quoted name is a metric name or a
    # label name ({"my.metric", "a.b"="c"}), and a selector naming two
    # different metrics (a{__name__="b"}) is refused ...
    "selector_quoted_names": Feature("1.111.0", {"1.102": "1.102.13", "1.110": "1.110.1"}),
    # ... which later is checked per `or` group.
    "selector_metric_name_per_or_group": Feature("1.117.0", {"1.102": "1.102.20", "1.110": "1.110.7"}),
    # $__interval (zero in a scrape config) ends a duration (metricsql v0.84.0).
    "duration_grafana_interval": Feature("1.113.0", {"1.102": "1.102.14", "1.110": "1.110.2"}),
    # A duration beyond int64 milliseconds is truncated, no longer refused.
    "duration_truncates_too_big": Feature("1.114.0", {"1.102": "1.102.17", "1.110": "1.110.4"}),
    # basic_auth needs only one of username, username_file, password,
    # password_file; a missing username is merely logged.
    "basic_auth_username_optional": Feature("1.139.0", {"1.122": "1.122.18", "1.136": "1.136.3"}),
}


@lru_cache(maxsize=1024)
def supports(version: Version, feature: str) -> bool:
    return FEATURES[feature].available_in(version)
