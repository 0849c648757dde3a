# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Things the binary accepts but that are almost always mistakes.

Each warning has an id from findings.WARNING_IDS so that callers can turn
it off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.vmstack.monitoring.plugins.module_utils.promscrape.decode import Obj

_DEFAULT_SCRAPE_INTERVAL = 60.0
_DEFAULT_SCRAPE_TIMEOUT = 10.0
_PORT_ANNOTATION = re.compile(r"annotation_prometheus_io_\w*port")
_PORT_NUMBER = re.compile(r"_port_number$")
_ANNOTATION_ROLES = ("pod", "endpoints")
_KEEP_IF_EQUAL_EXAMPLE = (
    "add `- action: keep_if_equal` with `source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_port, "
    "__meta_kubernetes_pod_container_port_number]` before the rule that sets __address__"
)


@dataclass
class Warn:
    warning_id: str
    path: str
    line: int | None
    message: str
    job: str | None = None


@dataclass
class JobTarget:
    """A static target of one job, for the checks across jobs."""

    job: str
    path: str
    line: int | None
    text: str
    identity: tuple[Any, ...]


def _effective_seconds(job: Obj, global_cfg: Obj | None, key: str, default: float) -> float:
    # A value of zero or below means "unset" to the binary, which then falls
    # back to the global value and then to the default.
    for source in (job, global_cfg):
        value = source.get(key) if source is not None else None
        if value is not None and value > 0:
            return value
    return default


def _timeout_warning(job: Obj, path: str, global_cfg: Obj | None) -> Warn | None:
    interval = _effective_seconds(job, global_cfg, "scrape_interval", _DEFAULT_SCRAPE_INTERVAL)
    timeout = _effective_seconds(job, global_cfg, "scrape_timeout", _DEFAULT_SCRAPE_TIMEOUT)
    if timeout <= interval:
        return None
    where = "scrape_timeout" if job.has("scrape_timeout") else "scrape_interval"
    return Warn("timeout-above-interval", f"{path}.{where}", job.line_of(where),
                f"scrape_timeout ({timeout:g}s) is longer than scrape_interval ({interval:g}s); the binary "
                f"silently cuts the timeout to {interval:g}s: lower scrape_timeout or raise scrape_interval")


def split_target(target: str, scheme: str) -> tuple[str, int] | None:
    """(host, port) of a static target, lower-cased; None when it has no usable port."""
    text = target.strip()
    if "://" in text:
        scheme, text = text.split("://", 1)
    text = text.split("/", 1)[0].rsplit("@", 1)[-1]
    if text.startswith("["):
        end = text.find("]")
        host, rest = text[1:end], text[end + 1:]
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    if not port:
        port = "443" if scheme.lower() == "https" else "80"
    if not host or not port.isdigit():
        return None
    return host.lower().rstrip("."), int(port)


def _rewrites_address(job: Obj) -> bool:
    # With __address__ rewritten (the blackbox exporter pattern), a static
    # target is a probe parameter and not what vmagent connects to.
    return any(rule.get("target_label") == "__address__" for rule in job.get("relabel_configs", []))


def job_targets(job: Obj, path: str, job_name: str) -> list[JobTarget]:
    if _rewrites_address(job):
        return []
    scheme = job.get("scheme", "") or "http"
    params = tuple(sorted((name, tuple(values)) for name, values in job.get("params", {}).items()))
    identity_tail = (job.get("metrics_path", "") or "/metrics", params)
    targets: list[JobTarget] = []
    for group_index, group in enumerate(job.get("static_configs", [])):
        lines = group.item_lines.get("targets", [])
        for index, target in enumerate(group.get("targets", [])):
            host_port = split_target(target, scheme) if "{{" not in target else None
            if host_port is None:
                continue
            target_path = f"{path}.static_configs[{group_index}].targets[{index}]"
            line = lines[index] if index < len(lines) else group.line
            targets.append(JobTarget(job_name, target_path, line, target, host_port + identity_tail))
    return targets


def _port_warnings(targets: list[JobTarget], non_metrics_ports: dict[int, str]) -> list[Warn]:
    warnings: list[Warn] = []
    for target in targets:
        port = target.identity[1]
        if port in non_metrics_ports:
            warnings.append(Warn("non-metrics-port", target.path, target.line,
                                 f"target {target.text!r} is port {port}, the {non_metrics_ports[port]}; it does "
                                 "not serve /metrics, so every scrape fails: use the component's HTTP port"))
    return warnings


def _duplicates_in_job(targets: list[JobTarget]) -> list[Warn]:
    first_seen: dict[tuple[Any, ...], JobTarget] = {}
    warnings: list[Warn] = []
    for target in targets:
        host_port = target.identity[:2]
        earlier = first_seen.setdefault(host_port, target)
        if earlier is not target:
            warnings.append(Warn("duplicate-target", target.path, target.line,
                                 f"target {target.text!r} is already listed in this job (line {earlier.line}, "
                                 f"{earlier.text!r}); delete one of them"))
    return warnings


def duplicate_targets_across_jobs(targets_by_job: list[list[JobTarget]]) -> list[Warn]:
    """Warn when two jobs scrape the same host:port with the same path and params."""
    owner: dict[tuple[Any, ...], JobTarget] = {}
    warnings: list[Warn] = []
    for targets in targets_by_job:
        claimed_here: set[tuple[Any, ...]] = set()
        for target in targets:
            earlier = owner.get(target.identity)
            if earlier is not None and earlier.job != target.job and target.identity not in claimed_here:
                warnings.append(Warn("duplicate-target", target.path, target.line,
                                     f"target {target.text!r} is also scraped by job {earlier.job!r} (line "
                                     f"{earlier.line}) with the same path and params; the series are then "
                                     "collected twice under two job labels: keep it in one job",
                                     job=target.job or None))
            owner.setdefault(target.identity, target)
            claimed_here.add(target.identity)
    return warnings


def _kubernetes_roles(job: Obj) -> set[str]:
    return {str(sd.get("role", "")).lower() for sd in job.get("kubernetes_sd_configs", [])}


def _uses_port_annotation(rules: list[Obj]) -> bool:
    return any(_PORT_ANNOTATION.search(label) for rule in rules for label in rule.get("source_labels", []))


def _has_port_equality_rule(rules: list[Obj]) -> bool:
    for rule in rules:
        if str(rule.get("action", "")).lower() != "keep_if_equal":
            continue
        labels = rule.get("source_labels", [])
        if any(_PORT_ANNOTATION.search(label) for label in labels) and \
                any(_PORT_NUMBER.search(label) for label in labels):
            return True
    return False


def _port_annotation_warning(job: Obj, path: str) -> Warn | None:
    if not _kubernetes_roles(job) & set(_ANNOTATION_ROLES):
        return None
    rules = job.get("relabel_configs", [])
    if not _uses_port_annotation(rules) or _has_port_equality_rule(rules):
        return None
    return Warn("k8s-port-annotation", f"{path}.relabel_configs", job.line_of("relabel_configs"),
                "the job takes the scrape port from the prometheus.io/port annotation, so a pod with several "
                "container ports turns into several identical targets; " + _KEEP_IF_EQUAL_EXAMPLE)


def job_warnings(job: Obj, path: str, global_cfg: Obj | None, targets: list[JobTarget],
                 non_metrics_ports: dict[int, str]) -> list[Warn]:
    warnings: list[Warn] = []
    for single in (_timeout_warning(job, path, global_cfg), _port_annotation_warning(job, path)):
        if single is not None:
            warnings.append(single)
    warnings.extend(_port_warnings(targets, non_metrics_ports))
    warnings.extend(_duplicates_in_job(targets))
    return warnings
