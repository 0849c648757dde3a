# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""promoter's config file, built and checked on the controller (promoter has no check mode)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import promoter

SECRETS = ("dt-token-1", "dt-secret-2", "wx-corp-3", "wx-secret-4", "s3-access-5", "s3-secret-6")

SETTINGS = {
    "query_url": "http://tsdb.example.com:8428",
    "dingtalk_api_token": "dt-token-1",
    "dingtalk_api_secret": "dt-secret-2",
    "wechat_corp_id": "wx-corp-3",
    "wechat_api_secret": "wx-secret-4",
    "s3": {"endpoint": "oss-cn-beijing.aliyuncs.com", "bucket": "graphs", "region": "cn-beijing",
           "access_key": "s3-access-5", "secret_key": "s3-secret-6"},
    "dingtalk_receivers": [{"name": "dingtalk", "at": {"atMobiles": ["13800000000"], "isAtAll": False}}],
    "wechat_receivers": [{"name": "wechat", "agent_id": "1000002", "to_user": "@all", "message_type": "markdown"}],
    "global": {},
    "templates": ["/etc/promoter/templates/ops.tmpl"],
}


def settings(**changes):
    result = copy.deepcopy(SETTINGS)
    result.update(changes)
    return result


def test_the_config_has_promoters_layout():
    config = promoter.build_config(SETTINGS)
    assert list(config) == ["global", "s3", "receivers", "templates"]
    assert config["global"] == {
        "prometheus_url": "http://tsdb.example.com:8428",
        "dingtalk_api_token": "dt-token-1",
        "dingtalk_api_secret": "dt-secret-2",
        "wechat_api_corp_id": "wx-corp-3",
        "wechat_api_secret": "wx-secret-4",
    }
    assert config["s3"] == SETTINGS["s3"]
    assert config["receivers"] == [
        {"name": "dingtalk", "dingtalk_configs": [
            {"at": {"atMobiles": ["13800000000"], "isAtAll": False}, "message_type": "markdown"}]},
        {"name": "wechat", "wechat_configs": [
            {"agent_id": "1000002", "to_user": "@all", "message_type": "markdown"}]},
    ]
    assert config["templates"] == ["/etc/promoter/templates/ops.tmpl"]


def test_receivers_sharing_a_name_become_one_with_several_configs():
    config = promoter.build_config(settings(
        dingtalk_receivers=[{"name": "ops", "message_type": "text", "text": {"content": "x"}}],
        wechat_receivers=[{"name": "ops", "agent_id": "1", "to_party": "2"}],
    ))
    assert [receiver["name"] for receiver in config["receivers"]] == ["ops"]
    assert set(config["receivers"][0]) == {"name", "dingtalk_configs", "wechat_configs"}


def test_per_receiver_credentials_replace_the_global_ones():
    config = promoter.build_config(settings(
        dingtalk_api_token="", dingtalk_api_secret="",
        dingtalk_receivers=[{"name": "db", "api_token": "own", "api_secret": "own-secret"}],
        wechat_receivers=[],
    ))
    assert "dingtalk_api_token" not in config["global"]
    assert config["receivers"][0]["dingtalk_configs"][0]["api_token"] == "own"


def test_no_receivers_need_no_credentials_nor_bucket():
    config = promoter.build_config({"query_url": "http://vm:8428", "s3": {}, "dingtalk_receivers": [],
                                    "wechat_receivers": []})
    assert config == {"global": {"prometheus_url": "http://vm:8428"}, "receivers": [], "templates": []}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"query_url": ""}, "promoter_query_url (promoter's global.prometheus_url, where it queries the graphs) is empty."),
        ({"query_url": "tsdb:8428"}, "must be an http:// or https:// URL with a host"),
        ({"dingtalk_api_token": ""}, "promoter_dingtalk_receivers[0] (dingtalk): needs the robot's api_token, "
                                     "from promoter_dingtalk_api_token or its own 'api_token'."),
        ({"wechat_api_secret": ""}, "promoter_wechat_receivers[0] (wechat): needs the api_secret"),
        ({"dingtalk_receivers": [{"name": "a b"}]}, "promoter_dingtalk_receivers[0] (a b): needs a name of letters"),
        ({"dingtalk_receivers": [{"name": "x", "atMobiles": ["1"]}]},
         "promoter_dingtalk_receivers[0] (x): unknown field 'atMobiles'"),
        ({"dingtalk_receivers": [{"name": "x", "at": {"mobiles": ["1"]}}]}, "unknown field 'at.mobiles'"),
        ({"dingtalk_receivers": [{"name": "x", "message_type": "card"}]}, "message_type must be one of markdown, text."),
        ({"dingtalk_receivers": [{"name": "x", "message_type": "text"}]}, "message_type text needs text.content"),
        ({"wechat_receivers": [{"name": "w", "to_user": "@all"}]}, "needs the agent_id"),
        ({"wechat_receivers": [{"name": "w", "agent_id": "1"}]}, "needs at least one of to_user, to_party, to_tag"),
        ({"wechat_receivers": [{"name": "w", "agent_id": "1", "to_tag": "t", "message_type": "template_card"}]},
         "message_type template_card needs template_card"),
        ({"s3": {"endpoint": "e", "bucket": "b"}}, "promoter_s3 lacks region, access_key, secret_key"),
        ({"s3": dict(SETTINGS["s3"], acl="public")}, "promoter_s3: unknown field 'acl'"),
        ({"global": {"prometheus_url": "http://x"}}, "promoter_global: unknown or reserved field 'prometheus_url'"),
        ({"global": {"external_url": "promoter.example.com"}}, "promoter_global.external_url must be an http://"),
    ],
)
def test_problems_name_the_variable_and_field(changes, expected):
    problems = promoter.config_problems(settings(**changes))
    assert any(expected in problem for problem in problems), problems
    with pytest.raises(ValueError):
        promoter.build_config(settings(**changes))


def test_problems_never_show_a_secret():
    broken = settings(
        dingtalk_receivers=[{"name": "x", "api_token": "dt-token-1", "bogus": "dt-secret-2", "message_type": "wx-corp-3"}],
        wechat_receivers=[{"name": "y", "corp_id": "wx-corp-3", "api_secret": "wx-secret-4", "message": "s3-access-5"}],
        s3={"access_key": "s3-access-5", "secret_key": "s3-secret-6", "extra": "s3-secret-6"},
    )
    problems = " ".join(promoter.config_problems(broken))
    assert problems
    assert not [secret for secret in SECRETS if secret in problems]


def test_a_valid_config_has_no_problems():
    assert promoter.config_problems(SETTINGS) == []
