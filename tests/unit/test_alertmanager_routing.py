# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The alertmanager role's routing checks (plugin_utils/alertmanager.py)."""

from __future__ import annotations

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.alertmanager import (
    duplicate_names,
    route_receivers,
    routing,
)

TREE = {
    "receiver": "default",
    "routes": [
        {"receiver": "pager", "routes": [{"receiver": "chat"}, {"matchers": ["a=b"]}]},
        {"routes": [{"receiver": "mail"}]},
    ],
}


def test_the_route_walk_names_every_receiver_with_where_depth_first() -> None:
    assert route_receivers(TREE) == [
        {"path": "alertmanager_route", "receiver": "default"},
        {"path": "alertmanager_route.routes[0]", "receiver": "pager"},
        {"path": "alertmanager_route.routes[0].routes[0]", "receiver": "chat"},
        {"path": "alertmanager_route.routes[1].routes[0]", "receiver": "mail"},
    ]


def test_routes_may_be_null() -> None:
    assert route_receivers({"receiver": "a", "routes": None}) == [{"path": "alertmanager_route", "receiver": "a"}]


def test_duplicates_are_named_once_in_order_and_unnamed_receivers_are_not_duplicates() -> None:
    assert duplicate_names(["b", "a", "", "b", "", "a", "b", "c"]) == ["b", "a"]
    assert duplicate_names(["a", "b"]) == []


def test_routing_reports_unknown_receivers_and_says_where() -> None:
    found = routing(TREE, [{"name": "default"}, {"name": "pager"}, {"name": "pager"}, {"webhook_configs": []}])
    assert found["receiver_names"] == ["default", "pager", "pager", ""]
    assert found["duplicate_receivers"] == ["pager"]
    assert found["unknown_receivers"] == [
        {"path": "alertmanager_route.routes[0].routes[0]", "receiver": "chat"},
        {"path": "alertmanager_route.routes[1].routes[0]", "receiver": "mail"},
    ]
    assert found["route_problems"] == [
        "the route alertmanager_route.routes[0].routes[0] sends to the receiver 'chat', "
        "which alertmanager_receivers does not define.",
        "the route alertmanager_route.routes[1].routes[0] sends to the receiver 'mail', "
        "which alertmanager_receivers does not define.",
    ]


def test_a_root_route_without_receiver_is_a_problem() -> None:
    found = routing({"routes": [{"receiver": "a"}]}, [{"name": "a"}])
    assert found["route_problems"] == ["alertmanager_route has no receiver (the root route needs one)."]
    assert found["unknown_receivers"] == []


def test_a_complete_routing_has_no_problem() -> None:
    found = routing(TREE, [{"name": name} for name in ("default", "pager", "chat", "mail")])
    assert found["duplicate_receivers"] == [] and found["unknown_receivers"] == [] and found["route_problems"] == []


def test_a_route_that_is_no_mapping_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="alertmanager_route must be a mapping"):
        routing(["receiver"], [])  # type: ignore[arg-type]
