# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The vmstack.monitoring.validate_scrape_config filter."""

from __future__ import annotations

import pytest

pytest.importorskip("ansible")

from ansible.errors import AnsibleFilterError  # noqa: E402

from ansible_collections.vmstack.monitoring.plugins.filter.scrape_config import (  # noqa: E402
    FilterModule,
    validate_scrape_config,
)

GOOD = "scrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['h:9100']}]\n"


def test_the_filter_is_registered():
    assert FilterModule().filters()["validate_scrape_config"] is validate_scrape_config


def test_valid_text_is_returned_unchanged():
    assert validate_scrape_config(GOOD) is GOOD


def test_valid_dict_is_returned_unchanged():
    config = {"scrape_configs": [{"job_name": "node", "static_configs": [{"targets": ["h:9100"]}]}]}
    assert validate_scrape_config(config, "1.112.0") is config


def test_all_errors_are_listed_at_once():
    bad = "global: {evaluation_interval: 1m}\nscrape_configs:\n  - job_name: a\n    enable_http2: true\n  -\n"
    with pytest.raises(AnsibleFilterError) as raised:
        validate_scrape_config(bad, name="promscrape.yml")
    message = str(raised.value)
    assert "(3 error(s))" in message
    assert "promscrape.yml:1: -: error: global.evaluation_interval" in message
    assert "enable_http2" in message and "nil pointer" in message


def test_options_are_passed_on():
    text = GOOD + "    enable_http2: true\n"
    assert validate_scrape_config(text, strict=False) is text
    sized = GOOD + "    max_scrape_size: 1MiB\n"
    with pytest.raises(AnsibleFilterError):
        validate_scrape_config(sized, vm_version="1.79.5")
    assert validate_scrape_config(sized, vm_version="v1.112.0") is sized
    assert validate_scrape_config(sized) is sized


def test_warnings_fail_only_on_request():
    text = GOOD.replace("node\n", "node\n    scrape_timeout: 5m\n")
    assert validate_scrape_config(text) is text
    with pytest.raises(AnsibleFilterError, match="timeout-above-interval"):
        validate_scrape_config(text, fail_on_warnings=True)
    assert validate_scrape_config(text, fail_on_warnings=True, disabled_warnings=["timeout-above-interval"]) is text


def test_wrong_input_type_and_version():
    with pytest.raises(AnsibleFilterError, match="YAML text or as a dict"):
        validate_scrape_config(42)
    with pytest.raises(AnsibleFilterError, match="X.Y.Z"):
        validate_scrape_config(GOOD, vm_version="latest")
