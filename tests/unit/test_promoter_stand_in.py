# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The test bench's promoter stand-in reads the config file the role writes.

The stand-in runs on test hosts without PyYAML, so it reads only the subset of
YAML that Ansible's to_nice_yaml writes; this checks it against that output.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

import pytest

from ansible_collections.vmstack.monitoring.plugins.plugin_utils import promoter

STAND_IN = Path(__file__).resolve().parents[1] / "bench" / "promoter-stand-in" / "promoter"


def load_stand_in():
    loader = importlib.machinery.SourceFileLoader("promoter_stand_in", str(STAND_IN))
    spec = importlib.util.spec_from_loader("promoter_stand_in", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def to_nice_yaml(data) -> str:
    core = pytest.importorskip("ansible.plugins.filter.core")
    return core.to_nice_yaml(data, indent=2, sort_keys=False)


def test_it_finds_the_receivers_and_the_query_url(tmp_path):
    config = promoter.build_config({
        "query_url": "http://tsdb:8428",
        "dingtalk_api_token": "t", "dingtalk_api_secret": "s", "wechat_corp_id": "c", "wechat_api_secret": "w",
        "s3": {"endpoint": "e", "bucket": "b", "region": "r", "access_key": "a", "secret_key": "k"},
        "dingtalk_receivers": [
            {"name": "dingtalk", "at": {"atMobiles": ["1"], "isAtAll": False},
             "markdown": {"title": '{{ template "dingtalk.default.title" . }}', "text": "- name: not-a-receiver"}},
            {"name": "ops.db", "message_type": "text", "text": {"content": "x"}},
        ],
        "wechat_receivers": [{"name": "wechat", "agent_id": "1", "to_user": "@all"},
                             {"name": "ops.db", "agent_id": "2", "to_tag": "db"}],
    })
    path = tmp_path / "config.yml"
    path.write_text("# Ansible managed\n" + to_nice_yaml(config))
    assert load_stand_in().read_config(str(path)) == (["dingtalk", "ops.db", "wechat"], "http://tsdb:8428")


def test_a_file_without_receivers_is_refused(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("global:\n  prometheus_url: http://tsdb:8428\n")
    with pytest.raises(ValueError):
        load_stand_in().read_config(str(path))


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([], {"config.file": "config.yaml", "web.listen-address": ":8080"}),
        (["--config.file=/etc/promoter/config.yml", "--web.listen-address", "[::1]:9"],
         {"config.file": "/etc/promoter/config.yml", "web.listen-address": "[::1]:9"}),
        (["--web.debug", "--log.level=debug"], {"config.file": "config.yaml", "web.listen-address": ":8080",
                                                "log.level": "debug"}),
    ],
)
def test_it_takes_promoters_flags(arguments, expected):
    assert load_stand_in().parse_flags(arguments) == expected


def test_unknown_flags_stop_it_like_kingpin():
    with pytest.raises(SystemExit, match="unknown long flag '--config'"):
        load_stand_in().parse_flags(["--config=/x"])
