# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Alertmanager receivers that name promoter receivers get their webhook URLs from the inventory."""

from __future__ import annotations

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import promoter

GROUPS = {"alertmanager": ["am1", "am2"], "promoter": ["relay1", "am2"]}
HOSTVARS = {"relay1": {"ansible_host": "10.0.0.5"}, "am2": {"promoter_port": 8099}, "am1": {}}


def test_promoter_references_become_webhooks_on_the_registry_port():
    receivers = [
        {"name": "default"},
        {"name": "oncall", "promoter": "dingtalk"},
        {"name": "ops", "promoter": ["wechat", {"receiver": "dingtalk", "send_resolved": False}],
         "webhook_configs": [{"url": "http://other.example.com/hook"}]},
    ]
    expanded = promoter.expand_webhooks(receivers, GROUPS, HOSTVARS, "am1")
    assert expanded == [
        {"name": "default"},
        {"name": "oncall", "webhook_configs": [{"url": "http://10.0.0.5:8080/dingtalk/send"}]},
        {"name": "ops", "webhook_configs": [
            {"url": "http://other.example.com/hook"},
            {"url": "http://10.0.0.5:8080/wechat/send"},
            {"url": "http://10.0.0.5:8080/dingtalk/send", "send_resolved": False},
        ]},
    ]
    # The input is not modified.
    assert receivers[1] == {"name": "oncall", "promoter": "dingtalk"}


def test_an_alertmanager_beside_a_promoter_posts_to_it_on_its_port():
    expanded = promoter.expand_webhooks([{"name": "x", "promoter": "dingtalk"}], GROUPS, HOSTVARS, "am2")
    assert expanded[0]["webhook_configs"] == [{"url": "http://am2:8099/dingtalk/send"}]


def test_ipv6_addresses_are_bracketed():
    expanded = promoter.expand_webhooks([{"name": "x", "promoter": "wechat"}], {"promoter": ["r"]},
                                        {"r": {"vmstack_address": "fd00::7"}}, "am1")
    assert expanded[0]["webhook_configs"] == [{"url": "http://[fd00::7]:8080/wechat/send"}]


def test_an_empty_promoter_group_is_refused():
    receivers = [{"name": "default"}, {"name": "oncall", "promoter": "dingtalk"}]
    problems = promoter.reference_problems(receivers, {"alertmanager": ["am1"]}, {}, "am1")
    assert problems == [
        "alertmanager_receivers[1] (oncall) sends to promoter, but the inventory group 'promoter' has no host "
        "(add the relay's host to that group, or remove 'promoter' from the receiver)."
    ]
    with pytest.raises(ValueError, match="has no host"):
        promoter.expand_webhooks(receivers, {"promoter": []}, {}, "am1")


def test_receivers_without_promoter_need_no_promoter_group():
    receivers = [{"name": "default"}, {"name": "mail", "email_configs": [{"to": "a@example.com"}]}]
    assert promoter.reference_problems(receivers, {}, {}, "am1") == []
    assert promoter.expand_webhooks(receivers, {}, {}, "am1") == receivers


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("", "'promoter' takes promoter receiver names"),
        ("a/b", "'promoter' takes promoter receiver names"),
        ({"receiver": "dingtalk", "url": "http://x"}, "the promoter reference 'dingtalk' has unknown fields url"),
    ],
)
def test_bad_references_are_refused(reference, expected):
    problems = promoter.reference_problems([{"name": "x", "promoter": reference}], GROUPS, HOSTVARS, "am1")
    assert any(expected in problem for problem in problems), problems


def test_a_receiver_the_relays_inventory_does_not_define_is_refused():
    hostvars = {"relay1": {"promoter_dingtalk_receivers": [{"name": "dingtalk", "api_token": "secret-token"}]}}
    groups = {"promoter": ["relay1"]}
    assert promoter.reference_problems([{"name": "x", "promoter": "dingtalk"}], groups, hostvars, "am1") == []
    problems = promoter.reference_problems([{"name": "x", "promoter": "wechat"}], groups, hostvars, "am1")
    assert problems == [
        "alertmanager_receivers[0] (x): promoter on relay1 has no receiver 'wechat' (its promoter_dingtalk_receivers "
        "and promoter_wechat_receivers name: dingtalk)."
    ]
    assert "secret-token" not in problems[0]


def test_receivers_the_inventory_does_not_show_are_not_checked():
    """Receivers set as play or role variables are invisible here: nothing to compare with."""
    assert promoter.reference_problems([{"name": "x", "promoter": "anything"}], {"promoter": ["r"]}, {"r": {}}, "am1") == []
