# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The cluster alerts and the cluster dashboard, against the real cluster.

Every alert expression of cluster-alerts.yml and every target of
vmstack-cluster.json must run on vmselect (status success), and each series
selector in it (metric name and label matchers) must match a series on the
/metrics page of one of the cluster's components. A misspelt or renamed metric
does not make a query fail: the alert would stay quiet and the panel empty for
ever, so the names are checked on the binaries' own pages, read directly
(nothing has to scrape the cluster for this).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from stacktest import container, http_get

REPO = Path(__file__).resolve().parents[3]
SCENARIO = Path(__file__).resolve().parents[1]
RULES = REPO / "roles/vmalert/files/rules/cluster-alerts.yml"
DASHBOARD = REPO / "roles/grafana/files/dashboards/vmstack-cluster.json"
QUERY = "http://127.0.0.1:8481/select/0/prometheus/api/v1/query"
# The /metrics port of each component (the roles' defaults).
METRICS_PORTS = {"vmstorage": 8482, "vminsert": 8480, "vmselect": 8481}

# Words of PromQL/MetricsQL that look like metric names.
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}


def alert_expressions() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"] if "alert" in rule}


def panel_expressions() -> dict[str, str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return {f"{panel['title']} {target['refId']}": target["expr"]
            for panel in panels for target in panel.get("targets", [])}


EXPRESSIONS = {**{f"alert {name}": expr for name, expr in alert_expressions().items()},
               **{f"panel {name}": expr for name, expr in panel_expressions().items()}}


MATCHERS = r'\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\}'
# A name with its optional matchers and what follows it (a call makes it a
# function), else a block of matchers, a string or a duration to skip whole.
TOKEN = re.compile(rf'(?<![\w:.])(?P<name>[A-Za-z_:][\w:]*)(?![\w:])\s*(?P<matchers>{MATCHERS})?(?P<call>\s*\()?'
                   rf'|{MATCHERS}|"(?:[^"\\]|\\.)*"|\[[^\]]*\]')
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
# Labels the scrape adds; the /metrics pages do not have them.
SCRAPE_LABELS = {"job", "instance"}


def selectors(expr: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The series selectors of an expression: (metric name, [(label, operator, value)])."""
    # Label lists of aggregations and vector matching: by (job, instance), on (...).
    bare = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    return [(match["name"], MATCHER.findall(match["matchers"] or ""))
            for match in TOKEN.finditer(bare)
            if match["name"] and not match["call"] and match["name"] not in KEYWORDS]


def matches(labels: dict[str, str], matchers: list[tuple[str, str, str]]) -> bool:
    tests = {"=": lambda have, want: have == want, "!=": lambda have, want: have != want,
             "=~": lambda have, want: re.fullmatch(want, have) is not None,
             "!~": lambda have, want: re.fullmatch(want, have) is None}
    return all(tests[op](labels.get(label, ""), value) for label, op, value in matchers if label not in SCRAPE_LABELS)


def series(page: str) -> list[tuple[str, dict[str, str]]]:
    """(name, labels) of every sample line of a /metrics page."""
    found = []
    for line in page.splitlines():
        if line and not line.startswith("#"):
            name = re.match(r"[\w:]+", line).group()
            found.append((name, dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line.split("{", 1)[1].rsplit("}", 1)[0]))
                          if "{" in line else {}))
    return found


def cluster_hosts() -> dict[str, list[str]]:
    """The scenario's containers of each component group, from molecule.yml."""
    platforms = yaml.safe_load((SCENARIO / "molecule.yml").read_text())["platforms"]
    return {group: [platform["name"] for platform in platforms if group in platform.get("groups", [])]
            for group in METRICS_PORTS}


@pytest.fixture(scope="module")
def answers() -> dict[str, dict]:
    """Each expression's answer from the first vmselect. Queried before the /metrics
    pages are read, so that vmselect's per-path query series exist."""
    vmselect = container(cluster_hosts()["vmselect"][0])
    # Without curl -f: a query vmselect refuses answers 400 with its reason as JSON.
    return {label: json.loads(vmselect.check_output(f"curl -sSg --max-time 30 {shlex.quote(QUERY + '?query=' + quote(expr))}"))
            for label, expr in EXPRESSIONS.items()}


@pytest.fixture(scope="module")
def exported(answers) -> list[tuple[str, dict[str, str]]]:
    """Every series on the /metrics page of every cluster component."""
    found = []
    for group, hosts in cluster_hosts().items():
        assert hosts, f"the scenario has no {group} host"
        for name in hosts:
            found += series(http_get(container(name), f"http://127.0.0.1:{METRICS_PORTS[group]}/metrics"))
    return found


def test_every_alert_and_panel_is_checked():
    assert len(alert_expressions()) >= 10
    assert len(panel_expressions()) >= 10
    # The parsing finds a selector in every expression, so the check below cannot pass on nothing.
    assert all(selectors(expr) for expr in EXPRESSIONS.values()), {
        label: expr for label, expr in EXPRESSIONS.items() if not selectors(expr)}


@pytest.mark.parametrize("label", sorted(EXPRESSIONS))
def test_query_runs_on_vmselect(answers, label):
    answer = answers[label]
    assert answer["status"] == "success", answer


@pytest.mark.parametrize("label", sorted(EXPRESSIONS))
def test_series_the_query_selects_are_exported(exported, label):
    """Each selector matches a series of some component, its label matchers included
    (but job and instance, which the scrape adds)."""
    missing = [f"{name}{{{', '.join(f'{key}{op}{value!r}' for key, op, value in matchers)}}}"
               for name, matchers in selectors(EXPRESSIONS[label])
               if not any(have == name and matches(labels, matchers) for have, labels in exported)]
    assert not missing, f"{label}: no cluster component exports {missing}"
