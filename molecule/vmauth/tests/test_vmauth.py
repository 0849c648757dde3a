# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""vmauth in front of a real VictoriaMetrics cluster, with vmagent writing through it.

Tests run in file order: the last one changes the users.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from urllib.parse import quote

import yaml

from stacktest import run_playbook, wait_for

SCENARIO = Path(__file__).resolve().parent.parent
CONVERGE = SCENARIO / "converge.yml"
HOST = "vmstack-vmauth-a"
GROUPS = {name: [HOST] for name in ("vmstorage", "vminsert", "vmselect", "vmauth", "vmagent", "vmalert")}
USERS = yaml.safe_load((SCENARIO / "vars" / "settings.yml").read_text())["vmauth_users"]
AGENT, TEAM_B, READER = USERS
SECRETS = [AGENT["password"], TEAM_B["password"], READER["bearer_token"]]
VMAUTH = "http://127.0.0.1:8427"
# The bench shares two cores with other runs: give slow connections time.
os.environ.setdefault("ANSIBLE_TIMEOUT", "60")


def credentials(user: dict) -> str:
    if "bearer_token" in user:
        return f"-H {shlex.quote('Authorization: Bearer ' + user['bearer_token'])}"
    return f"-u {shlex.quote(user['username'] + ':' + user['password'])}"


def status(host, user: dict, path: str, data: str | None = None) -> tuple[int, str]:
    """HTTP status and body of a request through vmauth as one user."""
    body = f"--data-binary {shlex.quote(data)}" if data is not None else ""
    out = host.check_output(f"curl -sS --max-time 10 -o /tmp/vmauth-body -w '%{{http_code}}' {credentials(user)} {body} "
                            f"{shlex.quote(VMAUTH + path)}; echo; cat /tmp/vmauth-body")
    code, text = out.partition("\n")[::2]
    return int(code), text


def write(host, user: dict, tenant: str, text: str) -> None:
    code, body = status(host, user, f"/insert/{tenant}/prometheus/api/v1/import/prometheus", text)
    assert code == 204, body


def values(host, user: dict, tenant: str, expr: str) -> list[str]:
    code, body = status(host, user, f"/select/{tenant}/prometheus/api/v1/query?query={quote(expr)}")
    assert code == 200, body
    return [item["value"][1] for item in json.loads(body)["data"]["result"]]


def main_pid(host) -> str:
    return host.check_output("systemctl show --property MainPID --value vmauth")


def test_the_users_file_is_private_and_no_secret_shows(host):
    users_file = host.file("/etc/vmauth/auth.yml")
    assert (users_file.user, users_file.group, users_file.mode) == ("root", "vmauth", 0o640)
    assert AGENT["password"] in users_file.content_string
    assert host.file("/etc/vmagent/vmagent.env").mode == 0o640
    assert host.file("/etc/vmalert/vmalert.env").mode == 0o640
    shown = host.check_output("systemctl show vmauth vmagent vmalert; ps -eo args; cat /etc/systemd/system/vmauth.service "
                              "/etc/systemd/system/vmagent.service /etc/systemd/system/vmalert.service")
    assert '"-auth.config=/etc/vmauth/auth.yml"' in shown and "-remoteWrite.basicAuth.username=agent" in shown
    assert "-datasource.basicAuth.username=agent" in shown
    for secret in SECRETS:
        assert secret not in shown


def test_a_sample_reads_back_in_its_tenant_only(host):
    write(host, AGENT, "1", 'vmstack_vmauth_probe{probe="a"} 11')
    write(host, TEAM_B, "2", 'vmstack_vmauth_probe{probe="b"} 22')
    assert wait_for(lambda: values(host, AGENT, "1", "vmstack_vmauth_probe") == ["11"], timeout=60)
    assert wait_for(lambda: values(host, TEAM_B, "2", "vmstack_vmauth_probe") == ["22"], timeout=60)
    # Another tenant's paths have no route for a user: refused, whatever the verb.
    for path in ("/select/1/prometheus/api/v1/query?query=vmstack_vmauth_probe", "/select/1:0/prometheus/api/v1/query?query=up"):
        code, body = status(host, TEAM_B, path)
        assert code in (400, 401, 403), (code, body)
        assert "11" not in body
    intruder = status(host, AGENT, "/insert/2/prometheus/api/v1/import/prometheus", 'vmstack_vmauth_intruder 1')
    assert intruder[0] in (400, 401, 403), intruder


def test_a_wrong_password_or_none_gets_401(host):
    assert status(host, dict(AGENT, password="wrong"), "/select/1/prometheus/api/v1/query?query=up")[0] == 401
    assert status(host, {"bearer_token": "wrong"}, "/select/1/prometheus/api/v1/query?query=up")[0] == 401
    assert host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' {VMAUTH}/select/1/prometheus/api/v1/query?query=up") == "401"


def test_a_bearer_token_user_reads_its_tenant(host):
    assert wait_for(lambda: values(host, READER, "1", "vmstack_vmauth_probe") == ["11"], timeout=60)


def test_vmagents_samples_arrive_through_vmauth(host):
    """vmagent writes only to vmauth, as "agent" into tenant 1: its scrape of vmauth itself lands there."""
    unit = host.file("/etc/systemd/system/vmagent.service").content_string
    assert '"-remoteWrite.url=http://vmstack-vmauth-a:8427/insert/1/prometheus/api/v1/write"' in unit
    assert unit.count("-remoteWrite.url=") == 1
    assert wait_for(lambda: values(host, READER, "1", 'up{job="vmauth"}') == ["1"], timeout=90)
    assert values(host, TEAM_B, "2", 'up{job="vmauth"}') == []


def test_vmalert_reads_and_records_through_vmauth(host):
    """vmalert evaluates against vmauth as "agent" and writes the recorded series back through it."""
    unit = host.file("/etc/systemd/system/vmalert.service").content_string
    assert '"-datasource.url=http://vmstack-vmauth-a:8427/select/1/prometheus"' in unit
    assert '"-remoteWrite.url=http://vmstack-vmauth-a:8427/insert/1/prometheus"' in unit
    assert wait_for(lambda: values(host, READER, "1", "vmstack_vmauth_recorded") == ["1"], timeout=90)


def test_check_mode_on_the_converged_host_reports_nothing_and_shows_no_secret(host):
    run = run_playbook(CONVERGE, [], groups=GROUPS, options=["--check", "--diff"])
    assert run.returncode == 0, run.output
    assert run.changed(HOST) == 0, run.output
    for secret in SECRETS:
        assert secret not in run.output


def test_a_users_file_vmauth_refuses_keeps_the_old_one_serving(host):
    """The controller lets any unauthorized_user through; vmauth -dryRun refuses a url_prefix that is no URL."""
    before = host.file("/etc/vmauth/auth.yml").content_string
    pid = main_pid(host)
    run = run_playbook(CONVERGE, [], groups=GROUPS, options=["--tags", "vmauth"],
                       extra_vars={"vmauth_unauthorized_user": {"url_prefix": "not a url"}})
    assert run.returncode != 0
    assert "unsupported scheme" in run.output and "/etc/vmauth/auth.yml" in run.output, run.output
    for secret in SECRETS:
        assert secret not in run.output
    assert host.file("/etc/vmauth/auth.yml").content_string == before
    assert main_pid(host) == pid
    assert values(host, AGENT, "1", "vmstack_vmauth_probe") == ["11"]


def test_a_new_user_only_reloads_vmauth(host):
    pid = main_pid(host)
    newcomer = {"username": "newcomer", "password": "newcomer-pw-19ad3f", "tenant": "1"}
    run = run_playbook(CONVERGE, [], groups=GROUPS, options=["--tags", "vmauth"],
                       extra_vars={"vmauth_users": USERS + [newcomer]})
    assert run.returncode == 0, run.output
    assert run.changed(HOST) >= 1, run.output
    for secret in SECRETS + [newcomer["password"]]:
        assert secret not in run.output
    assert main_pid(host) == pid
    assert wait_for(lambda: values(host, newcomer, "1", "vmstack_vmauth_probe") == ["11"], timeout=30)
    assert values(host, AGENT, "1", "vmstack_vmauth_probe") == ["11"]
