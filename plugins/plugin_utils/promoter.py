# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The promoter relay: its configuration file, and Alertmanager's webhooks to it.

promoter (github.com/cnych/promoter, 0.2.x) turns Alertmanager webhook
notifications into DingTalk and WeChat Work messages. It reads one YAML file
strictly (an unknown field stops it) and has no "check config" mode, so the
file is built and checked here, on the controller, before it reaches a host.

Each promoter receiver answers at ``POST /<receiver name>/send``. Alertmanager
receivers name promoter receivers (``promoter: dingtalk``) instead of typing
that URL; the URL is derived from the inventory group ``promoter`` and the
port registry, so Alertmanager always posts to the port promoter listens on.

Messages name variables, receivers and fields, never a value: the settings
carry tokens and keys.
"""

from __future__ import annotations

import re
from typing import Any, Mapping
from urllib.parse import urlsplit

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.topology import host_address, host_port
from ansible_collections.vmstack.monitoring.plugins.plugin_utils.addresses import url_host_port

COMPONENT = "promoter"

# One path segment: promoter routes POST /:name/send.
RECEIVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$")

# The fields of one entry of promoter's dingtalk_configs / wechat_configs
# (config/notifiers.go), with their sub-fields where they are mappings.
DINGTALK_FIELDS: dict[str, tuple[str, ...] | None] = {
    "message_type": None,
    "markdown": ("title", "text"),
    "text": ("title", "content"),
    "at": ("atMobiles", "isAtAll"),
    "api_token": None,
    "api_secret": None,
    "api_url": None,
    "http_config": None,
}
DINGTALK_MESSAGE_TYPES = ("markdown", "text")

WECHAT_FIELDS: dict[str, tuple[str, ...] | None] = {
    "message_type": None,
    "message": None,
    "template_card": ("title", "desc", "image_url"),
    "to_user": None,
    "to_party": None,
    "to_tag": None,
    "agent_id": None,
    "corp_id": None,
    "api_secret": None,
    "api_url": None,
    "http_config": None,
}
WECHAT_MESSAGE_TYPES = ("text", "markdown", "template_card", "news")

# Fields of `global:` that have no variable of their own (the query URL and
# the credentials do).
GLOBAL_EXTRA_FIELDS = ("external_url", "metric_resolution", "http_config", "dingtalk_api_url", "wechat_api_url")

S3_FIELDS = ("endpoint", "bucket", "region", "access_key", "secret_key")

# What promoter's own defaults would send when a field is left out: DingTalk
# falls back to message_type "text" with no text at all (an empty message), so
# the role makes markdown, with promoter's built-in templates, the default.
DINGTALK_DEFAULT_MESSAGE_TYPE = "markdown"

# Fields of an Alertmanager webhook_config that a promoter reference may set;
# the URL is always derived.
WEBHOOK_PASSTHROUGH_FIELDS = ("send_resolved", "max_alerts", "http_config", "timeout")


def _is_set(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _receiver_label(variable: str, index: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, Mapping) else None
    return f"{variable}[{index}]" + (f" ({name})" if _is_set(name) else "")


def _check_fields(where: str, entry: Mapping[str, Any], fields: Mapping[str, tuple[str, ...] | None]) -> list[str]:
    problems = []
    for key in entry:
        if key == "name":
            continue
        if key not in fields:
            problems.append(f"{where}: unknown field '{key}' (promoter knows: {', '.join(['name', *fields])}).")
            continue
        sub_fields = fields[key]
        value = entry[key]
        if sub_fields is None or value is None:
            continue
        if not isinstance(value, Mapping):
            problems.append(f"{where}: '{key}' must be a mapping with {', '.join(sub_fields)}.")
            continue
        for sub_key in value:
            if sub_key not in sub_fields:
                problems.append(f"{where}: unknown field '{key}.{sub_key}' (promoter knows: {', '.join(sub_fields)}).")
    return problems


def _check_url(variable: str, url: Any, required: bool = True) -> list[str]:
    if not _is_set(url):
        return [f"{variable} is empty."] if required else []
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [f"{variable} must be an http:// or https:// URL with a host."]
    return []


def config_problems(settings: Mapping[str, Any]) -> list[str]:
    """Every reason promoter would refuse (or send nothing with) these settings.

    ``settings`` holds the role's variables without their ``promoter_`` prefix:
    query_url, dingtalk_receivers, wechat_receivers, dingtalk_api_token,
    dingtalk_api_secret, wechat_corp_id, wechat_api_secret, s3, global, templates.
    """
    problems: list[str] = []
    problems += _check_url("promoter_query_url (promoter's global.prometheus_url, where it queries the graphs)",
                           settings.get("query_url"))

    extra_global = settings.get("global") or {}
    if not isinstance(extra_global, Mapping):
        problems.append("promoter_global must be a mapping.")
        extra_global = {}
    for key in extra_global:
        if key not in GLOBAL_EXTRA_FIELDS:
            problems.append(f"promoter_global: unknown or reserved field '{key}' (allowed: {', '.join(GLOBAL_EXTRA_FIELDS)}; "
                            "the query URL and the credentials have variables of their own).")
    for key in ("external_url", "dingtalk_api_url", "wechat_api_url"):
        if key in extra_global:
            problems += _check_url(f"promoter_global.{key}", extra_global[key])

    receiver_count = 0
    for variable, fields, types in (
        ("promoter_dingtalk_receivers", DINGTALK_FIELDS, DINGTALK_MESSAGE_TYPES),
        ("promoter_wechat_receivers", WECHAT_FIELDS, WECHAT_MESSAGE_TYPES),
    ):
        entries = settings.get(variable.removeprefix("promoter_")) or []
        if not isinstance(entries, list):
            problems.append(f"{variable} must be a list.")
            continue
        for index, entry in enumerate(entries):
            where = _receiver_label(variable, index, entry)
            if not isinstance(entry, Mapping):
                problems.append(f"{where}: each receiver must be a mapping with a name.")
                continue
            receiver_count += 1
            name = entry.get("name")
            if not _is_set(name) or not RECEIVER_NAME.match(str(name)):
                problems.append(f"{where}: needs a name of letters, digits, '.', '_', '~' or '-' "
                                "(it becomes the webhook path /<name>/send).")
            problems += _check_fields(where, entry, fields)
            message_type = entry.get("message_type")
            if _is_set(message_type) and message_type not in types:
                problems.append(f"{where}: message_type must be one of {', '.join(types)}.")
            if variable == "promoter_dingtalk_receivers":
                problems += _dingtalk_problems(where, entry, settings)
            else:
                problems += _wechat_problems(where, entry, settings)

    s3 = settings.get("s3") or {}
    if not isinstance(s3, Mapping):
        problems.append("promoter_s3 must be a mapping.")
        s3 = {}
    for key in s3:
        if key not in S3_FIELDS:
            problems.append(f"promoter_s3: unknown field '{key}' (promoter knows: {', '.join(S3_FIELDS)}).")
    if receiver_count:
        missing = [key for key in S3_FIELDS if not _is_set(s3.get(key))]
        if missing:
            problems.append(
                f"promoter_s3 lacks {', '.join(missing)}: promoter uploads every graph it renders to this "
                "S3-compatible bucket and sends nothing for an alert whose graph it cannot upload.")
    return problems


def _dingtalk_problems(where: str, entry: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    problems = []
    for field, variable in (("api_token", "promoter_dingtalk_api_token"), ("api_secret", "promoter_dingtalk_api_secret")):
        if not _is_set(entry.get(field)) and not _is_set(settings.get(variable.removeprefix("promoter_"))):
            problems.append(f"{where}: needs the robot's {field}, from {variable} or its own '{field}'.")
    message_type = entry.get("message_type") or DINGTALK_DEFAULT_MESSAGE_TYPE
    text = entry.get("text")
    if message_type == "text" and not (isinstance(text, Mapping) and _is_set(text.get("content"))):
        problems.append(f"{where}: message_type text needs text.content (a template); without it the message is empty.")
    if _is_set(entry.get("api_url")):
        problems += _check_url(f"{where}: api_url", entry.get("api_url"))
    return problems


def _wechat_problems(where: str, entry: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    problems = []
    for field, variable in (("corp_id", "promoter_wechat_corp_id"), ("api_secret", "promoter_wechat_api_secret")):
        if not _is_set(entry.get(field)) and not _is_set(settings.get(variable.removeprefix("promoter_"))):
            problems.append(f"{where}: needs the {field}, from {variable} or its own '{field}'.")
    if not _is_set(entry.get("agent_id")):
        problems.append(f"{where}: needs the agent_id of the WeChat Work application that sends.")
    if not any(_is_set(entry.get(field)) for field in ("to_user", "to_party", "to_tag")):
        problems.append(f"{where}: needs at least one of to_user, to_party, to_tag (e.g. to_user: '@all').")
    if entry.get("message_type") == "template_card" and not isinstance(entry.get("template_card"), Mapping):
        problems.append(f"{where}: message_type template_card needs template_card (title, desc, image_url).")
    if _is_set(entry.get("api_url")):
        problems += _check_url(f"{where}: api_url", entry.get("api_url"))
    return problems


def build_config(settings: Mapping[str, Any]) -> dict[str, Any]:
    """promoter's config file as a dictionary (see config_problems for ``settings``).

    Receivers of both lists that share a name become one promoter receiver
    with several configs (one webhook path that notifies both). Empty values
    are left out, so promoter's own defaults apply.
    """
    problems = config_problems(settings)
    if problems:
        raise ValueError(" ".join(problems))

    global_section: dict[str, Any] = {"prometheus_url": str(settings["query_url"])}
    for key, variable in (
        ("dingtalk_api_token", "dingtalk_api_token"),
        ("dingtalk_api_secret", "dingtalk_api_secret"),
        ("wechat_api_corp_id", "wechat_corp_id"),
        ("wechat_api_secret", "wechat_api_secret"),
    ):
        if _is_set(settings.get(variable)):
            global_section[key] = str(settings[variable])
    global_section.update(settings.get("global") or {})

    receivers: dict[str, dict[str, Any]] = {}
    for variable, configs_key in (("dingtalk_receivers", "dingtalk_configs"), ("wechat_receivers", "wechat_configs")):
        for entry in settings.get(variable) or []:
            config = {key: value for key, value in entry.items() if key != "name" and value is not None}
            if configs_key == "dingtalk_configs":
                config.setdefault("message_type", DINGTALK_DEFAULT_MESSAGE_TYPE)
            receiver = receivers.setdefault(str(entry["name"]), {"name": str(entry["name"])})
            receiver.setdefault(configs_key, []).append(config)

    config_file: dict[str, Any] = {"global": global_section}
    s3 = {key: str(value) for key, value in (settings.get("s3") or {}).items() if _is_set(value)}
    if s3:
        config_file["s3"] = {key: s3[key] for key in S3_FIELDS if key in s3}
    config_file["receivers"] = list(receivers.values())
    config_file["templates"] = list(settings.get("templates") or [])
    return config_file


def receiver_names(settings: Mapping[str, Any]) -> list[str]:
    """The webhook names (``/<name>/send``) these settings define, in order."""
    names: list[str] = []
    for variable in ("dingtalk_receivers", "wechat_receivers"):
        for entry in settings.get(variable) or []:
            if isinstance(entry, Mapping) and _is_set(entry.get("name")) and str(entry["name"]) not in names:
                names.append(str(entry["name"]))
    return names


# ---------------------------------------------------------------------------
# Alertmanager side: `promoter:` in a receiver.

def _references(receiver: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The promoter references of one Alertmanager receiver, as dicts with ``receiver``."""
    value = receiver.get("promoter")
    items = value if isinstance(value, list) else [value]
    references = []
    for item in items:
        if isinstance(item, Mapping):
            references.append(dict(item))
        else:
            references.append({"receiver": item})
    return references


def _target_host(groups: Mapping[str, list[str]], host: str | None) -> str | None:
    members = list(groups.get(COMPONENT) or [])
    if not members:
        return None
    return host if host in members else members[0]


def _defined_receivers(host_vars: Mapping[str, Any]) -> list[str] | None:
    """promoter receiver names a host's inventory defines; None when it sets neither list."""
    found = False
    settings: dict[str, Any] = {}
    for variable in ("dingtalk_receivers", "wechat_receivers"):
        value = host_vars.get(f"promoter_{variable}")
        if value is not None:
            found = True
            settings[variable] = value
    return receiver_names(settings) if found else None


def reference_problems(
    receivers: list[Mapping[str, Any]],
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    host: str | None = None,
) -> list[str]:
    """Every reason the ``promoter:`` references of Alertmanager receivers cannot be expanded."""
    problems: list[str] = []
    members = list(groups.get(COMPONENT) or [])
    target = _target_host(groups, host)
    for index, receiver in enumerate(receivers or []):
        if not isinstance(receiver, Mapping) or "promoter" not in receiver:
            continue
        where = f"alertmanager_receivers[{index}]" + (f" ({receiver.get('name')})" if _is_set(receiver.get("name")) else "")
        if not members:
            problems.append(f"{where} sends to promoter, but the inventory group 'promoter' has no host "
                            "(add the relay's host to that group, or remove 'promoter' from the receiver).")
            continue
        for reference in _references(receiver):
            name = reference.get("receiver")
            if not _is_set(name) or not RECEIVER_NAME.match(str(name)):
                problems.append(f"{where}: 'promoter' takes promoter receiver names (e.g. promoter: dingtalk, "
                                "or a list, or items with 'receiver' and webhook settings).")
                continue
            unknown = [key for key in reference if key != "receiver" and key not in WEBHOOK_PASSTHROUGH_FIELDS]
            if unknown:
                problems.append(f"{where}: the promoter reference '{name}' has unknown fields {', '.join(unknown)} "
                                f"(allowed: receiver, {', '.join(WEBHOOK_PASSTHROUGH_FIELDS)}; the URL is derived).")
            defined = _defined_receivers(hostvars.get(target, {})) if target else None
            if defined is not None and str(name) not in defined:
                problems.append(f"{where}: promoter on {target} has no receiver '{name}' "
                                f"(its promoter_dingtalk_receivers and promoter_wechat_receivers name: "
                                f"{', '.join(defined) or 'none'}).")
    return problems


def promoter_url(groups: Mapping[str, list[str]], hostvars: Mapping[str, Mapping[str, Any]],
                 host: str | None, receiver: str) -> str:
    """The webhook URL of one promoter receiver, as seen from ``host``.

    An Alertmanager on a host of the ``promoter`` group posts to the promoter
    beside it (an HA pair of Alertmanagers notifies once, so each relay sends
    each message once); any other posts to the first host of the group.
    """
    target = _target_host(groups, host)
    if target is None:
        raise ValueError("the inventory group 'promoter' has no host")
    target_vars = hostvars.get(target, {})
    endpoint = url_host_port(host_address(target_vars, target), host_port(target_vars, COMPONENT, host=target))
    return f"http://{endpoint}/{receiver}/send"


def expand_webhooks(
    receivers: list[Mapping[str, Any]],
    groups: Mapping[str, list[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    host: str | None = None,
) -> list[dict[str, Any]]:
    """Alertmanager receivers with each ``promoter:`` turned into webhook_configs.

    The promoter webhooks come after the receiver's own webhook_configs; other
    receivers are returned unchanged.
    """
    problems = reference_problems(receivers, groups, hostvars, host)
    if problems:
        raise ValueError(" ".join(problems))
    expanded = []
    for receiver in receivers or []:
        if not isinstance(receiver, Mapping) or "promoter" not in receiver:
            expanded.append(receiver)
            continue
        result = {key: value for key, value in receiver.items() if key != "promoter"}
        webhooks = list(result.get("webhook_configs") or [])
        for reference in _references(receiver):
            name = str(reference["receiver"])
            webhook = {"url": promoter_url(groups, hostvars, host, name)}
            webhook.update({key: value for key, value in reference.items() if key != "receiver"})
            webhooks.append(webhook)
        result["webhook_configs"] = webhooks
        expanded.append(result)
    return expanded
