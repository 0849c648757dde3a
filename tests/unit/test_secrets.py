# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""Secrets never reach the messages the collection prints (issue 10, item 7)."""

from __future__ import annotations

from ansible_collections.vmstack.monitoring.plugins.plugin_utils.secrets import mask_secrets, secret_values

RECEIVERS = [
    {"name": "hook", "webhook_configs": [{"url": "http://user:S3CRET-in-url@example.com:bad/x", "send_resolved": True}]},
    {"name": "mail", "email_configs": [{"to": "ops@example.com", "auth_password": "mail-pass-42"}]},
    {"name": "slack", "slack_configs": [{"api_url": "https://hooks.slack.example/T0/B0/xyz", "channel": "#ops"}]},
    {"name": "pd", "pagerduty_configs": [{"routing_key": "rk-123456"}], "http_config": {"authorization": {"credentials": "tok-9"}}},
]


def test_amtool_output_loses_every_secret() -> None:
    output = ("amtool check-config FAILED: parse \"http://user:S3CRET-in-url@example.com:bad/x\": invalid port; "
              "auth_password mail-pass-42, api_url https://hooks.slack.example/T0/B0/xyz, rk-123456, tok-9, channel #ops")
    masked = mask_secrets(output, {"receivers": RECEIVERS})
    for secret in ("S3CRET-in-url", "mail-pass-42", "hooks.slack.example/T0/B0/xyz", "rk-123456", "tok-9"):
        assert secret not in masked
    assert "http://user:***@example.com:bad/x" in masked
    assert "channel #ops" in masked


def test_url_passwords_are_masked_even_when_not_configured() -> None:
    assert mask_secrets("dial https://a:b%40c@h:1/x failed") == "dial https://a:***@h:1/x failed"


def test_a_roles_secret_flags_are_secret_whole() -> None:
    flags = {"remoteWrite.basicAuth.password": "pw-flag", "remoteWrite.bearerToken": "bearer-flag"}
    assert mask_secrets("got pw-flag and bearer-flag", secrets=secret_values(flags, all_secret=True)) == "got *** and ***"


def test_longer_secrets_are_masked_before_the_secrets_they_contain() -> None:
    assert mask_secrets("x abcdef y", {"password": "abc", "token": "abcdef"}) == "x *** y"


def test_short_and_non_secret_values_stay() -> None:
    settings = {"smtp_port": 587, "to": "ops@example.com", "password": "ab", "send_resolved": True}
    masked = mask_secrets("port 587 for to ops@example.com, true", settings)
    assert masked == "port 587 for to ops@example.com, true"


def test_scrape_config_secrets_are_found() -> None:
    config = {"scrape_configs": [{"job_name": "a", "basic_auth": {"username": "u", "password": "pw-scrape"},
                                  "authorization": {"credentials": "cred-scrape"},
                                  "static_configs": [{"targets": ["h:1"]}]}]}
    assert sorted(secret_values(config)) == ["cred-scrape", "pw-scrape"]
    assert secret_values({"scrape_configs": [{"job_name": "a", "static_configs": [{"targets": ["h:1"]}]}]}) == []
