# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Binding and normalising Grafana dashboards for file provisioning."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.grafana import dashboards as gd

REPO = Path(__file__).resolve().parents[2]
TYPES = {"vm": "prometheus", "logs": "loki"}


def shared_dashboard() -> dict:
    """The shape of a dashboard exported "for sharing externally" (grafana.com)."""
    return {
        "__inputs": [
            {"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus"},
            {"name": "VAR_JOB", "type": "constant", "value": "node"},
        ],
        "__requires": [{"type": "datasource", "id": "prometheus", "name": "Prometheus"}],
        "id": 17,
        "title": "Node",
        "panels": [
            {"datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
             "targets": [{"expr": 'up{job="${VAR_JOB}"}', "datasource": "${DS_PROMETHEUS}"}]},
            {"datasource": "${DS_PROMETHEUS}", "title": "old by-name form"},
            {"datasource": {"type": "datasource", "uid": "-- Grafana --"}},
        ],
        "templating": {"list": [
            {"name": "ds", "type": "datasource", "query": "prometheus", "current": {"value": "${DS_PROMETHEUS}"}},
            {"name": "job", "type": "query", "datasource": {"uid": "${ds}"}, "query": "label_values(job)"},
        ]},
    }


def prepare(entries, datasource="vm", types=None):
    files = gd.prepare_dashboards(entries, datasource, types or TYPES)
    return {name: json.loads(text) for name, text in files.items()}


def test_datasource_and_constant_inputs_are_bound() -> None:
    out = prepare([{"file": "node.json", "source": json.dumps(shared_dashboard())}])["node.json"]
    assert "__inputs" not in out
    assert out["panels"][0]["datasource"] == {"type": "prometheus", "uid": "vm"}
    assert out["panels"][0]["targets"][0] == {"expr": 'up{job="node"}', "datasource": {"type": "prometheus", "uid": "vm"}}
    assert out["panels"][1]["datasource"] == {"type": "prometheus", "uid": "vm"}
    assert out["panels"][2]["datasource"]["uid"] == "-- Grafana --"
    assert out["templating"]["list"][0]["current"] == {"value": "vm"}
    # Dashboard variables are not inputs and stay as they are.
    assert out["templating"]["list"][1]["datasource"] == {"uid": "${ds}"}
    assert "${DS_" not in json.dumps(out)


def test_id_is_cleared_uid_derived_and_output_stable() -> None:
    entries = [{"file": "node-full.json", "source": json.dumps(shared_dashboard())}]
    first = gd.prepare_dashboards(entries, "vm", TYPES)
    again = gd.prepare_dashboards(entries, "vm", TYPES)
    assert first == again
    out = json.loads(first["node-full.json"])
    assert out["id"] is None and out["uid"] == "node-full"
    assert first["node-full.json"].endswith("}\n")


def test_explicit_uid_and_constant_override() -> None:
    entry = {"file": "n.json", "source": shared_dashboard(), "uid": "my-node", "inputs": {"VAR_JOB": "hosts"}}
    out = prepare([entry])["n.json"]
    assert out["uid"] == "my-node"
    assert out["panels"][0]["targets"][0]["expr"] == 'up{job="hosts"}'


def test_per_dashboard_datasource_and_named_inputs() -> None:
    dashboard = shared_dashboard()
    dashboard["__inputs"].append({"name": "DS_LOKI", "type": "datasource", "pluginId": "loki"})
    dashboard["panels"].append({"datasource": "${DS_LOKI}"})
    entry = {"file": "n.json", "source": dashboard, "datasources": {"DS_LOKI": "logs"}}
    out = prepare([entry], types={"vm": "prometheus", "logs": "loki", "vm2": "prometheus"})["n.json"]
    assert out["panels"][-1]["datasource"] == {"type": "loki", "uid": "logs"}
    entry2 = {"file": "m.json", "source": shared_dashboard(), "datasource": "vm2"}
    out2 = prepare([entry2], types={"vm": "prometheus", "vm2": "prometheus"})["m.json"]
    assert out2["panels"][0]["datasource"]["uid"] == "vm2"


def test_a_non_promql_input_needs_a_named_datasource() -> None:
    dashboard = shared_dashboard()
    dashboard["__inputs"].append({"name": "DS_LOKI", "type": "datasource", "pluginId": "loki"})
    with pytest.raises(gd.DashboardError, match=r"DS_LOKI wants a 'loki' datasource"):
        gd.prepare_dashboards([{"file": "n.json", "source": dashboard}], "vm", TYPES)


def test_binding_to_a_missing_datasource_is_refused() -> None:
    with pytest.raises(gd.DashboardError, match="'nope', which is not provisioned"):
        gd.prepare_dashboards([{"file": "n.json", "source": shared_dashboard()}], "nope", TYPES)


def test_an_undeclared_placeholder_is_refused_unless_named() -> None:
    dashboard = {"title": "hand made", "panels": [{"datasource": "${DS_MINE}"}]}
    with pytest.raises(gd.DashboardError, match=r"DS_MINE.*does not declare"):
        gd.prepare_dashboards([{"file": "h.json", "source": dashboard}], "vm", TYPES)
    out = prepare([{"file": "h.json", "source": dashboard, "datasources": {"DS_MINE": "vm"}}])["h.json"]
    assert out["panels"][0]["datasource"] == {"type": "prometheus", "uid": "vm"}


def test_api_export_format_is_unwrapped() -> None:
    wrapped = {"dashboard": {"title": "T", "uid": "t", "panels": []}, "meta": {"slug": "t"}}
    assert prepare([{"file": "t.json", "source": wrapped}])["t.json"]["title"] == "T"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"file": "a.json", "source": "{not json"}], "a.json is not valid JSON"),
        ([{"file": "a.json", "source": "[]"}], "is a JSON object"),
        ([{"file": "a.json", "source": '{"panels": []}'}], "a.json has no title"),
        ([{"file": "../a.json", "source": '{"title": "x"}'}], "must be a plain name"),
        ([{"file": "a.json", "source": '{"title": "x", "uid": "has space"}'}], "is not valid"),
        ([{"file": "a.json", "source": '{"title": "x"}'}, {"file": "a.json", "source": '{"title": "y"}'}],
         "already installed as a.json"),
        ([{"file": "a.json", "source": '{"title": "x", "uid": "u"}'}, {"file": "b.json", "source": '{"title": "y", "uid": "u"}'}],
         "both have the uid 'u'"),
    ],
)
def test_refused_dashboards(entries, message) -> None:
    with pytest.raises(gd.DashboardError, match=message):
        gd.prepare_dashboards(entries, "vm", TYPES)


def test_every_problem_is_reported_at_once() -> None:
    entries = [{"file": "a.json", "source": "{"}, {"file": "b.json", "source": '{"panels": []}'}]
    with pytest.raises(gd.DashboardError) as error:
        gd.prepare_dashboards(entries, "vm", TYPES)
    assert "a.json is not valid JSON" in str(error.value) and "b.json has no title" in str(error.value)


def test_shipped_dashboards_bind_cleanly() -> None:
    """The collection's own dashboards: valid JSON, bound with no ${DS_ left, every query on the datasource variable."""
    paths = sorted((REPO / "roles/grafana/files/dashboards").glob("*.json"))
    assert paths, "the grafana role ships no dashboard"
    entries = [{"file": path.name, "source": path.read_text(), "origin": str(path)} for path in paths]
    for name, text in gd.prepare_dashboards(entries, "vmstack-metrics", {"vmstack-metrics": "prometheus"}).items():
        dashboard = json.loads(text)
        assert dashboard["schemaVersion"] >= 36 and dashboard["uid"], name
        assert "${DS_" not in text
        panels = [panel for panel in dashboard["panels"] if panel.get("type") != "row"]
        assert panels
        for panel in panels:
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"] and all(target.get("expr") for target in panel["targets"]), panel["title"]


# The role's own expression, loaded from its vars file in a play of its own.
BUILTIN_PLAY = """
- hosts: all
  gather_facts: false
  vars_files: [{vars_file}]
  vars:
    role_path: {role_path}
    grafana_dashboards_builtin: true
  tasks:
    - ansible.builtin.debug:
        msg: "BUILTIN={{{{ __grafana_builtin_dashboard_paths | map('basename') | join(',') }}}}"
"""


@pytest.mark.parametrize(
    ("inventory", "expected"),
    [
        ("grafana ansible_connection=local\n", "vmstack-overview.json"),
        ("[vmstorage]\nnode ansible_connection=local\n", "vmstack-cluster.json,vmstack-overview.json"),
    ],
    ids=["without a cluster", "with a vmstorage group"],
)
def test_cluster_dashboard_comes_only_with_a_cluster(tmp_path, collection_env, inventory, expected) -> None:
    role = REPO / "roles/grafana"
    (tmp_path / "play.yml").write_text(BUILTIN_PLAY.format(vars_file=role / "vars/main.yml", role_path=role))
    (tmp_path / "hosts").write_text(inventory)
    run = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "hosts", "play.yml"],
                         cwd=tmp_path, env=collection_env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.findall(r"BUILTIN=([\w.,-]*)", run.stdout) == [expected]
