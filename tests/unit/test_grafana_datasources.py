# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The Grafana datasource provisioning file, with deletion of datasources no longer wanted."""

from __future__ import annotations

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.grafana import datasources as gds
from ansible_collections.vmstack.monitoring.plugins.plugin_utils import systemd_args

VM = {"name": "VictoriaMetrics", "uid": "vm", "type": "prometheus", "url": "http://vm:8428"}
OLD = {"name": "Old", "uid": "old", "type": "prometheus", "url": "http://old:8428"}


def test_defaults_and_the_default_flag() -> None:
    document = gds.provisioning_file([VM, OLD], "vm")
    assert document["apiVersion"] == 1 and "deleteDatasources" not in document
    first, second = document["datasources"]
    assert first == {**VM, "access": "proxy", "editable": False, "orgId": 1, "isDefault": True}
    assert second["isDefault"] is False


def test_user_values_win_but_not_is_default() -> None:
    document = gds.provisioning_file([{**VM, "access": "direct", "isDefault": False}, {**OLD, "isDefault": True}], "vm")
    assert document["datasources"][0]["access"] == "direct"
    assert [ds["isDefault"] for ds in document["datasources"]] == [True, False]


def test_removed_datasources_are_deleted_and_stay_deleted() -> None:
    first = gds.provisioning_file([VM, OLD], "vm")
    second = gds.provisioning_file([VM], "vm", first)
    assert second["deleteDatasources"] == [{"name": "Old", "orgId": 1}]
    # The next run reads the file just written: the same document, no change.
    assert gds.provisioning_file([VM], "vm", second) == second
    # Bringing it back takes it off the list.
    assert "deleteDatasources" not in gds.provisioning_file([VM, OLD], "vm", second)


def test_no_previous_file_and_no_default() -> None:
    document = gds.provisioning_file([VM], "", None)
    assert document["datasources"][0]["isDefault"] is False


@pytest.mark.parametrize(
    ("datasources", "default", "message"),
    [
        ([{"name": "x", "type": "prometheus"}], "", "x has no uid"),
        ([VM, {**OLD, "name": "VictoriaMetrics"}], "vm", "two datasources are named"),
        ([VM, {**OLD, "uid": "vm"}], "vm", "two datasources have the uid"),
        ([{**VM, "uid": "a b"}], "", "is not valid"),
        ([VM], "missing", "'missing' is not among the datasources"),
    ],
)
def test_refused_lists(datasources, default, message) -> None:
    with pytest.raises(gds.DatasourceError, match=message):
        gds.provisioning_file(datasources, default)


def test_exec_start_takes_a_subcommand_before_the_flags() -> None:
    """Grafana's unit runs `grafana server --config=... --homepath=...`."""
    lines = systemd_args.exec_start_lines(
        "/opt/grafana/current/bin/grafana",
        {"homepath": "/opt/grafana/current", "config": "/etc/grafana/grafana.ini"},
        "--",
        ["server"],
    )
    assert lines == [
        '"/opt/grafana/current/bin/grafana"',
        '"server"',
        '"--config=/etc/grafana/grafana.ini"',
        '"--homepath=/opt/grafana/current"',
    ]
