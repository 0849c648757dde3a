# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The checks the binary makes on each job after the YAML is decoded.

These mirror what vmagent does when it turns a scrape config into scrape
work: job name, scheme, the HTTP and proxy client options (auth conflicts
in the binary's own order, TLS, headers), relabel rules, and the
stream_parse limits.  Each check returns the first problem it finds, as the
binary stops at the first one too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.decode import Obj, go_url_problem
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.re2 import RegexSyntaxError, check_re2
from ansible_collections.vmstack.monitoring.plugins.module_utils.vm.versions import (
    Version,
    format_version,
    parse_version,
    supports,
)

_TLS_VERSIONS = frozenset(("", "TLS10", "TLS11", "TLS12", "TLS13"))
_BYTE_SUFFIXES = {"KB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3, "TB": 1000 ** 4,
                  "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "TiB": 1024 ** 4}

# action -> the release that added it (None: older than anything checked here).
_ACTION_SINCE: dict[str, str | None] = {
    "replace": None, "keep": None, "drop": None, "hashmod": None,
    "labelmap": None, "labeldrop": None, "labelkeep": None,
    "replace_all": "1.34.0", "labelmap_all": "1.34.0",
    "keep_if_equal": "1.37.3", "drop_if_equal": "1.37.3",
    "keep_metrics": "1.66.0", "drop_metrics": "1.66.0",
    "graphite": "1.78.0", "uppercase": "1.78.0", "lowercase": "1.78.0",
    "keepequal": "1.86.0", "dropequal": "1.86.0",
    "keep_if_contains": "1.96.0", "drop_if_contains": "1.96.0",
}
_NEEDS_SOURCE_LABELS = ("replace_all", "hashmod", "uppercase", "lowercase")
_NEEDS_TARGET_LABEL = ("replace", "replace_all", "hashmod", "uppercase", "lowercase", "keepequal", "dropequal")
# Actions whose regex is not anchored with ^(?:...)$.
_UNANCHORED_ACTIONS = ("replace_all", "labelmap_all")


@dataclass
class Problem:
    path: str
    line: int | None
    message: str


def _found_at(obj: Obj, path: str, key: str, message: str) -> Problem:
    return Problem(f"{path}.{key}" if path else key, obj.line_of(key), message)


# -- relabel rules ----------------------------------------------------------


@lru_cache(maxsize=64)
def _available_actions(version: Version) -> frozenset[str]:
    return frozenset(name for name, since in _ACTION_SINCE.items() if since is None or version >= parse_version(since))


def _effective_action(rule: Obj, version: Version) -> str:
    action = rule.get("action", "")
    if supports(version, "case_insensitive_action_scheme"):
        action = action.lower()
    return action or "replace"


def _strip_anchors(regex: str) -> str:
    while regex.startswith("^"):
        regex = regex[1:]
    while regex.endswith("$") and not regex.endswith("\\$"):
        regex = regex[:-1]
    return regex


def _regex_problem(rule: Obj, version: Version) -> str | None:
    regex = rule.get("regex")
    if regex is None:
        return None
    original = regex
    # The binary compares the action as written (not lower-cased) here.
    if rule.get("action", "") not in _UNANCHORED_ACTIONS:
        if supports(version, "case_insensitive_action_scheme"):
            original = _strip_anchors(regex)
        regex = f"^(?:{original})$"
    angle_groups = supports(version, "regex_angle_named_group")
    for form in (regex, original):
        try:
            check_re2(form, angle_named_groups=angle_groups)
        except RegexSyntaxError as exc:
            return (f"cannot parse `regex` {form!r}: error parsing regexp: {exc}. VictoriaMetrics uses Go "
                    "(RE2) syntax: no lookahead/lookbehind, no back-references; rewrite the pattern or "
                    "split the rule")
    return None


def _unknown_action_message(action: str, version: Version) -> str:
    available = _available_actions(version)
    lowered = action.lower()
    if lowered in available:
        return (f"unknown `action` {action!r}: {format_version(version)} takes actions in lower case only "
                f"(from v1.81.0 any case works); write `action: {lowered}`")
    since = _ACTION_SINCE.get(lowered)
    if since is not None:
        return (f"`action: {lowered}` needs VictoriaMetrics v{since} or later and this config is checked for "
                f"{format_version(version)}; upgrade or rewrite the rule with the older actions")
    return f"unknown `action` {action!r}; use one of: {', '.join(sorted(available))}"


def _action_problem(rule: Obj, action: str, version: Version) -> tuple[str, str] | None:
    """(key, message) for what the action requires or forbids."""
    sources = rule.get("source_labels", [])
    target = rule.get("target_label", "")
    has_if = rule.has("if")
    if action == "graphite":
        return _graphite_problem(rule)
    if action in _NEEDS_SOURCE_LABELS and not sources:
        return "source_labels", f"missing `source_labels` for `action={action}`; list the labels to read"
    if action in _NEEDS_TARGET_LABEL and not target:
        return "target_label", f"missing `target_label` for `action={action}`; add target_label: <label to write>"
    if action == "hashmod" and rule.get("modulus", 0) < 1:
        return "modulus", (f"unexpected `modulus` for `action=hashmod`: {rule.get('modulus', 0)}; "
                           "must be greater than 0 (e.g. modulus: 4)")
    if action in ("keepequal", "dropequal") and rule.has("regex"):
        return "regex", f"`regex` cannot be used for `action={action}`; delete it"
    if action in ("keep_if_contains", "drop_if_contains"):
        return _contains_problem(rule, action)
    if action in ("keep_if_equal", "drop_if_equal"):
        return _if_equal_problem(rule, action, version)
    if action in ("keep", "drop") and not sources and not has_if:
        return "source_labels", (f"missing `source_labels` for `action={action}`; list the labels to match, "
                                 "or give an `if` selector")
    if action in ("keep_metrics", "drop_metrics"):
        if not rule.get("regex") and not has_if:
            return "regex", f"`regex` must be non-empty for `action={action}`; give the metric names to match"
        if sources:
            return "source_labels", (f"`source_labels` must be empty for `action={action}` (it always reads "
                                     "__name__); delete them")
    return None


def _graphite_problem(rule: Obj) -> tuple[str, str] | None:
    hint = "; graphite rules take only `match` and `labels`"
    if not rule.get("match"):
        return "match", "missing `match` for `action=graphite`" + hint
    if not rule.get("labels"):
        return "labels", "missing `labels` for `action=graphite`" + hint
    for key in ("source_labels", "target_label", "replacement", "regex"):
        if rule.has(key) and (key not in ("source_labels", "target_label") or rule.get(key)):
            return key, f"`{key}` cannot be used with `action=graphite`" + hint
    return None


def _contains_problem(rule: Obj, action: str) -> tuple[str, str] | None:
    if not rule.get("target_label"):
        return "target_label", f"`target_label` must be set for `action={action}`"
    if not rule.get("source_labels"):
        return "source_labels", f"`source_labels` must contain at least a single entry for `action={action}`"
    if rule.has("regex"):
        return "regex", f"`regex` cannot be used for `action={action}`; delete it"
    return None


def _if_equal_problem(rule: Obj, action: str, version: Version) -> tuple[str, str] | None:
    sources = rule.get("source_labels", [])
    if len(sources) < 2:
        return "source_labels", (f"`source_labels` must contain at least two entries for `action={action}`; "
                                 f"got {sources!r}")
    if supports(version, "keep_if_equal_strict"):
        if rule.get("target_label"):
            return "target_label", f"`target_label` cannot be used for `action={action}`; delete it"
        if rule.has("regex"):
            return "regex", f"`regex` cannot be used for `action={action}`; delete it"
    return None


def relabel_problem(rule: Obj, path: str, version: Version) -> Problem | None:
    """The first error the binary reports for one relabel rule, or None."""
    if rule.broken:
        return None  # already reported while decoding
    regex_message = _regex_problem(rule, version)
    if regex_message:
        return _found_at(rule, path, "regex", regex_message)
    action = _effective_action(rule, version)
    if action not in _available_actions(version):
        return _found_at(rule, path, "action", _unknown_action_message(rule.get("action", ""), version))
    problem = _action_problem(rule, action, version)
    if problem:
        return _found_at(rule, path, problem[0], problem[1])
    if action != "graphite":
        for key in ("match", "labels"):
            if rule.get(key):
                return _found_at(rule, path, key, f"`{key}` config cannot be applied to `action={action}`; "
                                 "it is used only by `action=graphite`: delete it")
    return None


def relabel_problems(rules: list[Obj], path: str, version: Version) -> list[Problem]:
    problems = []
    for index, rule in enumerate(rules):
        problem = relabel_problem(rule, f"{path}[{index}]", version)
        if problem:
            problems.append(problem)
    return problems


# -- HTTP client, proxy client, TLS ----------------------------------------------


def _resolve_reference(name: str, base_dir: str | None) -> str | None:
    """Where the binary reads a referenced file from; None when it cannot be checked here."""
    if base_dir is None or name.startswith(("http://", "https://")):
        return None
    return name if os.path.isabs(name) else os.path.join(base_dir, name)


def _read_reference(name: str, base_dir: str | None) -> tuple[str | None, str | None]:
    """(content, problem) of a file the binary reads at load time."""
    path = _resolve_reference(name, base_dir)
    if path is None:
        return None, None
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace"), None
    except IsADirectoryError:
        return None, f"read {path}: is a directory"
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"


def _loaded_at_start_hint(version: Version) -> str:
    return (f"{format_version(version)} reads it while loading the config (lazily only from v1.95.0): "
            "make sure it exists on the host before vmagent starts")


def _tls_problem(tls: Obj, path: str, version: Version, base_dir: str | None) -> Problem | None:
    lazy_files = supports(version, "lazy_tls_files")
    if tls.get("cert") or tls.get("key"):
        if "CERTIFICATE" not in tls.get("cert", "") or "PRIVATE KEY" not in tls.get("key", ""):
            return _found_at(tls, path, "cert", "cannot load TLS certificate from the provided `cert` and `key` "
                             "values; give both, each as a PEM block")
    elif (tls.get("cert_file") or tls.get("key_file")) and not lazy_files:
        for key in ("cert_file", "key_file"):
            content, problem = _read_reference(tls.get(key, ""), base_dir)
            if problem:
                return _found_at(tls, path, key, f"cannot load TLS certificate from `cert_file`, `key_file`: "
                                 f"{problem}; {_loaded_at_start_hint(version)}")
    if tls.get("ca"):
        if "CERTIFICATE" not in tls.get("ca"):
            return _found_at(tls, path, "ca", "cannot parse data from `ca` value; give a PEM certificate block")
    elif tls.get("ca_file") and not lazy_files:
        content, problem = _read_reference(tls.get("ca_file"), base_dir)
        if problem:
            return _found_at(tls, path, "ca_file", f"cannot read `ca_file`: {problem}; "
                             f"{_loaded_at_start_hint(version)}")
        if content is not None and "CERTIFICATE" not in content:
            return _found_at(tls, path, "ca_file", "cannot parse data from `ca_file`: it holds no PEM certificate")
    if tls.get("min_version", "").upper() not in _TLS_VERSIONS:
        return _found_at(tls, path, "min_version", f"cannot parse `min_version`: unsupported TLS version "
                         f"{tls.get('min_version')!r}; use TLS10, TLS11, TLS12 or TLS13")
    return None


_BASIC_AUTH_KEYS = ("username", "username_file", "password", "password_file")


def _basic_auth_problem(basic: Obj, path: str, version: Version) -> Problem | None:
    if supports(version, "basic_auth_username_optional"):
        if not any(basic.get(key) for key in _BASIC_AUTH_KEYS):
            return _found_at(basic, path, "username", "missing `username`, `username_file`, `password` and "
                             "`password_file` in `basic_auth` section; give at least one, or delete the section")
        return _basic_auth_pair_problem(basic, path)
    if supports(version, "basic_auth_username_file"):
        if not basic.get("username") and not basic.get("username_file"):
            return _found_at(basic, path, "username", "missing `username` and `username_file` in `basic_auth` "
                             "section; give one")
        return _basic_auth_pair_problem(basic, path)
    if not basic.get("username"):
        return _found_at(basic, path, "username", "missing `username` in `basic_auth` section; add username: <name>")
    if basic.get("password_file") and basic.has("password"):
        return _found_at(basic, path, "password_file", "both `password` and `password_file` are set in "
                         "`basic_auth` section; keep one")
    return None


def _basic_auth_pair_problem(basic: Obj, path: str) -> Problem | None:
    """Each of the name and the password is given at most once."""
    if basic.get("username") and basic.get("username_file"):
        return _found_at(basic, path, "username_file", "both `username` and `username_file` are set in "
                         "`basic_auth` section; keep one")
    if basic.get("password") and basic.get("password_file"):
        return _found_at(basic, path, "password_file", "both `password` and `password_file` are set in "
                         "`basic_auth` section; keep one")
    return None


def _header_problem(headers: list[str], lines: list[int | None], path: str) -> Problem | None:
    for index, header in enumerate(headers):
        if ":" not in header:
            line = lines[index] if index < len(lines) else None
            return Problem(f"{path}[{index}]", line, f"missing ':' in header {header!r}; write it as \"Name: value\"")
    return None


def _oauth2_problem(oauth2: Obj, path: str, version: Version, base_dir: str | None) -> Problem | None:
    if not oauth2.get("client_id"):
        return _found_at(oauth2, path, "client_id", "client_id cannot be empty; add client_id: <id>")
    has_secret = oauth2.has("client_secret")
    secret_file = oauth2.get("client_secret_file", "")
    if not has_secret and not secret_file:
        return _found_at(oauth2, path, "client_secret", "client_secret or client_secret_file must be set")
    if has_secret and secret_file:
        return _found_at(oauth2, path, "client_secret_file", "client_secret and client_secret_file cannot be "
                         "set simultaneously; keep one")
    if not oauth2.get("token_url"):
        return _found_at(oauth2, path, "token_url", "token_url cannot be empty; add token_url: <url>")
    if secret_file and not supports(version, "lazy_tls_files"):
        _content, problem = _read_reference(secret_file, base_dir)
        if problem:
            return _found_at(oauth2, path, "client_secret_file", f"cannot read OAuth2 secret: {problem}; "
                             f"{_loaded_at_start_hint(version)}")
    tls = oauth2.get("tls_config")
    if tls is not None:
        problem = _tls_problem(tls, f"{path}.tls_config", version, base_dir)
        if problem:
            return problem
    proxy_url = oauth2.get("proxy_url", "")
    url_problem = go_url_problem(proxy_url) if proxy_url else None
    if url_problem:
        return _found_at(oauth2, path, "proxy_url", f"cannot parse proxy_url={proxy_url!r}: {url_problem}")
    # The headers sent to token_url are parsed like the client's own.
    return _header_problem(oauth2.get("headers", []), oauth2.item_lines.get("headers", []), f"{path}.headers")


def _auth_conflict(already: str, key: str) -> str:
    return (f"`{key}` cannot be combined with `{already}` (the binary takes one kind of authorization per "
            "client); keep one of them")


def client_problem(client: Obj, path: str, prefix: str, version: Version, base_dir: str | None) -> Problem | None:
    """The first error the binary reports for the HTTP client options.

    ``prefix`` is "" for the client itself and "proxy_" for the proxy
    client, whose keys are the same with that prefix.
    """
    def key(name: str) -> str:
        return prefix + name

    def sub_path(name: str) -> str:
        return f"{path}.{key(name)}" if path else key(name)

    used: str | None = None
    authorization = client.get(key("authorization"))
    if authorization is not None:
        if authorization.get("credentials_file") and authorization.has("credentials"):
            return _found_at(authorization, sub_path("authorization"), "credentials_file",
                             "both `credentials` and `credentials_file` are set; keep one")
        used = key("authorization")
    basic = client.get(key("basic_auth"))
    if basic is not None:
        if used:
            return _found_at(client, path, key("basic_auth"), _auth_conflict(used, key("basic_auth")))
        problem = _basic_auth_problem(basic, sub_path("basic_auth"), version)
        if problem:
            return problem
        used = key("basic_auth")
    token = client.get(key("bearer_token"), "")
    if client.get(key("bearer_token_file")):
        if used:
            return _found_at(client, path, key("bearer_token_file"), _auth_conflict(used, key("bearer_token_file")))
        if token:
            return _found_at(client, path, key("bearer_token_file"), "both `bearer_token` and "
                             "`bearer_token_file` are set; keep one")
        used = key("bearer_token_file")
    if token:
        if used:
            return _found_at(client, path, key("bearer_token"), _auth_conflict(used, key("bearer_token")))
        used = key("bearer_token")
    oauth2 = client.get(key("oauth2"))
    if oauth2 is not None:
        if used:
            return _found_at(client, path, key("oauth2"), _auth_conflict(used, key("oauth2")))
        problem = _oauth2_problem(oauth2, sub_path("oauth2"), version, base_dir)
        if problem:
            return problem
    tls = client.get(key("tls_config"))
    if tls is not None:
        problem = _tls_problem(tls, sub_path("tls_config"), version, base_dir)
        if problem:
            return problem
    return _header_problem(client.get(key("headers"), []), client.item_lines.get(key("headers"), []),
                           sub_path("headers"))


# -- the job as a whole ---------------------------------------------------------


def _parse_bytes(text: str) -> int | None:
    normalized = text.upper().replace("I", "i")
    for suffix, factor in _BYTE_SUFFIXES.items():
        if normalized.endswith(suffix):
            number = normalized[:-len(suffix)]
            break
    else:
        number, factor = normalized, 1
    try:
        return int(float(number) * factor)
    except ValueError:
        return None


def _scheme_problem(job: Obj, path: str, version: Version) -> Problem | None:
    scheme = job.get("scheme", "")
    checked = scheme.lower() if supports(version, "case_insensitive_action_scheme") else scheme
    if checked in ("", "http", "https"):
        return None
    if checked.lower() in ("http", "https"):
        return _found_at(job, path, "scheme", f"unexpected `scheme` {scheme!r}: {format_version(version)} "
                         f"only takes lower case (any case works from v1.81.0); write `scheme: {checked.lower()}`")
    return _found_at(job, path, "scheme", f"unexpected `scheme` {scheme!r}; supported values: http or https")


def _stream_parse_problem(job: Obj, path: str, version: Version) -> Problem | None:
    if not job.get("stream_parse") or supports(version, "stream_parse_with_limits"):
        return None
    if version < parse_version("1.68.0"):
        return None
    for key in ("sample_limit", "series_limit"):
        if job.get(key, 0) > 0:
            return _found_at(job, path, key, f"cannot use stream parsing mode when `{key}` is set "
                             f"({format_version(version)}; allowed from v1.85.0): drop `{key}` or `stream_parse`")
    return None


def job_problems(job: Obj, path: str, version: Version, base_dir: str | None) -> list[Problem]:
    """Every per-job error the binary would report for this job, in its order."""
    problems: list[Problem] = []
    if not job.get("job_name"):
        problems.append(Problem(f"{path}.job_name", job.line_of("job_name"),
                                "missing `job_name` field in `scrape_config`; give every job a unique job_name"))
    size = job.get("max_scrape_size", "")
    if size and _parse_bytes(size) is None:
        problems.append(_found_at(job, path, "max_scrape_size", f"cannot parse `max_scrape_size` value {size!r}; "
                                  "write a size such as 16MiB or 10MB"))
    for check in (_scheme_problem(job, path, version),
                  client_problem(job, path, "", version, base_dir),
                  client_problem(job, path, "proxy_", version, base_dir)):
        if check:
            problems.append(check)
    for key in ("relabel_configs", "metric_relabel_configs"):
        problems.extend(relabel_problems(job.get(key, []), f"{path}.{key}", version))
    stream_problem = _stream_parse_problem(job, path, version)
    if stream_problem:
        problems.append(stream_problem)
    return problems
