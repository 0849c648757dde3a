# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The grafana role's grafana_ini checks and dashboard list (plugin_utils/grafana/settings.py)."""

from __future__ import annotations

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.grafana.settings import (
    dashboard_entries,
    dashboard_specs,
    ini_bad_values,
    ini_conflicts,
)


def test_managed_settings_in_grafana_ini_are_conflicts() -> None:
    grafana_ini = {
        "server": {"http_port": 3001, "root_url": "http://x/", "enable_gzip": False},
        "paths": {"logs": "/tmp"},
        "security": {"secret_key": "s", "cookie_secure": True},
        "users": {"admin_user": "not managed here"},
    }
    assert ini_conflicts(grafana_ini) == ["paths.logs", "server.http_port", "server.root_url", "security.secret_key"]


def test_unmanaged_settings_and_odd_sections_are_no_conflicts() -> None:
    assert ini_conflicts({"server": "not a section", "log": {"mode": "console"}}) == []


def test_multi_line_values_and_nested_sections_are_bad_values() -> None:
    grafana_ini = {
        "instance_name": "one line is fine",
        "banner": "two\nlines",
        "server": {"domain": "a\r", "enable_gzip": True, "nested": {"a": 1}},
        "log": {"mode": "console"},
    }
    assert ini_bad_values(grafana_ini) == ["banner", "server.domain", "server.nested"]
    assert ini_bad_values({"log": {"mode": "console file"}}) == []


def test_dashboard_specs_in_order_with_their_bindings() -> None:
    specs = dashboard_specs(
        ["/role/files/dashboards/vm.json"],
        ["files/a.json", {"src": "files/b.json", "file": "bee.json", "datasource": "vm", "uid": "u"}],
        [{"id": 1860, "revision": 37, "inputs": {"DS": "vm"}}, {"id": 1, "revision": 2, "file": "one.json"}],
        "/cache",
    )
    assert specs == [
        {"file": "vm.json", "origin": "/role/files/dashboards/vm.json", "path": "/role/files/dashboards/vm.json"},
        {"file": "a.json", "origin": "files/a.json", "path": "files/a.json",
         "datasource": "", "datasources": {}, "inputs": {}, "uid": ""},
        {"file": "bee.json", "origin": "files/b.json", "path": "files/b.json",
         "datasource": "vm", "datasources": {}, "inputs": {}, "uid": "u"},
        {"file": "grafana-com-1860-r37.json", "origin": "grafana.com dashboard 1860 revision 37 (/cache/1860-37.json)",
         "path": "/cache/1860-37.json", "datasource": "", "datasources": {}, "inputs": {"DS": "vm"}, "uid": ""},
        {"file": "one.json", "origin": "grafana.com dashboard 1 revision 2 (/cache/1-2.json)",
         "path": "/cache/1-2.json", "datasource": "", "datasources": {}, "inputs": {}, "uid": ""},
    ]


def test_dashboard_entries_carry_the_text_instead_of_the_path() -> None:
    specs = [{"file": "a.json", "origin": "a", "path": "/a.json"}, {"file": "b.json", "origin": "b", "path": "/b.json"}]
    assert dashboard_entries(specs, ["{}", "[]"]) == [
        {"file": "a.json", "origin": "a", "source": "{}"},
        {"file": "b.json", "origin": "b", "source": "[]"},
    ]


def test_dashboard_entries_refuse_a_missing_text() -> None:
    with pytest.raises(ValueError, match="2 dashboards but 1 files read"):
        dashboard_entries([{"path": "/a"}, {"path": "/b"}], ["{}"])
