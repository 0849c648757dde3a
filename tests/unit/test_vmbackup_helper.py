# -*- coding: utf-8 -*-
# Copyright: vmstack.monitoring contributors
# Apache License 2.0 (see LICENSE)
"""The backup helper the vmbackup role installs (roles/vmbackup/files/vmstack-backup):
destinations, retention and the textfile each run writes."""

from __future__ import annotations

import datetime
import http.server
import importlib.machinery
import importlib.util
import io
import json
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
from pathlib import Path

import pytest

HELPER_PATH = Path(__file__).resolve().parents[2] / "roles/vmbackup/files/vmstack-backup"
_loader = importlib.machinery.SourceFileLoader("vmstack_backup", str(HELPER_PATH))
_spec = importlib.util.spec_from_loader("vmstack_backup", _loader)
helper = importlib.util.module_from_spec(_spec)
_loader.exec_module(helper)

PROMTOOL = shutil.which("promtool")


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def make_backup(path: Path, complete: bool = True) -> Path:
    (path / "data").mkdir(parents=True)
    (path / "data" / "part").write_bytes(b"x" * 100)
    if complete:
        (path / helper.COMPLETE_MARKER).write_text("1\n")
    return path


def test_a_dated_run_writes_into_todays_folder():
    today = day("2026-03-04")
    assert helper.run_destination("fs:///b/h/daily/", True, today) == "fs:///b/h/daily/2026-03-04"
    assert helper.run_destination("fs:///b/h/latest", False, today) == "fs:///b/h/latest"


def test_origin_is_used_only_once_it_is_a_complete_backup(tmp_path):
    command = ["/usr/local/bin/vmbackup-prod", "-storageDataPath=/d"]
    origin = f"fs://{tmp_path}/latest"
    assert helper.vmbackup_command(command, "fs:///x", origin) == command + ["-dst=fs:///x"]
    make_backup(tmp_path / "latest", complete=False)
    assert "-origin=" not in " ".join(helper.vmbackup_command(command, "fs:///x", origin))
    (tmp_path / "latest" / helper.COMPLETE_MARKER).write_text("1\n")
    assert helper.vmbackup_command(command, "fs:///x", origin)[-1] == f"-origin={origin}"


def test_retention_keeps_the_newest_n():
    dates = [day("2026-01-01") + datetime.timedelta(days=n) for n in range(10)]
    assert helper.backups_to_keep(dates, 3, 0, 0) == set(dates[-3:])


def test_retention_keeps_the_newest_of_each_recent_week_and_month():
    # Sundays end ISO weeks: 2026-01-04, 2026-01-11, 2026-01-18, 2026-01-25.
    dates = [day(text) for text in ("2025-11-20", "2025-12-30", "2026-01-03", "2026-01-04", "2026-01-10",
                                    "2026-01-17", "2026-01-24", "2026-01-25")]
    kept = helper.backups_to_keep(dates, 1, 2, 3)
    assert kept == {day("2026-01-25"),                      # newest
                    day("2026-01-17"),                      # newest of the week before (2026-01-12 .. 18)
                    day("2025-12-30"), day("2025-11-20")}   # newest of December and November
    # The newest backup is also the newest of its week and month: nothing more for those.
    assert helper.backups_to_keep(dates, 1, 1, 1) == {day("2026-01-25")}


def test_prune_removes_only_dated_backups_the_retention_drops(tmp_path):
    for name in ("2026-01-01", "2026-01-02", "2026-01-03"):
        make_backup(tmp_path / name)
    (tmp_path / "notes").mkdir()
    (tmp_path / "2026-01-04.tmp").write_text("")
    removed = helper.prune(tmp_path, 2, 0, 0)
    assert removed == [tmp_path / "2026-01-01"]
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["2026-01-02", "2026-01-03", "2026-01-04.tmp", "notes"]


def test_prune_refuses_a_remote_destination_it_cannot_reach(capsys):
    assert helper.main(["prune", "--destination", "gs://bucket/h/daily", "--keep-last", "2"]) == 2
    assert helper.main(["prune", "--destination", "s3://bucket/h/daily", "--keep-last", "2"]) == 2
    assert "fs:// and s3:// with --s3-credentials only" in capsys.readouterr().err


# Signature Version 4: AWS's published examples (the get-vanilla case of the
# SigV4 test suite, and the GET Object and ListObjects examples of the S3 API
# reference), with their credentials and expected signatures.
SUITE_KEYS = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
S3_DOC_KEYS = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


@pytest.mark.parametrize(("url", "headers", "keys", "service", "when", "signed", "signature"), [
    ("https://example.amazonaws.com/", {}, SUITE_KEYS, "service", datetime.datetime(2015, 8, 30, 12, 36),
     "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("https://examplebucket.s3.amazonaws.com/test.txt", {"Range": "bytes=0-9", "x-amz-content-sha256": helper.EMPTY_SHA256},
     S3_DOC_KEYS, "s3", datetime.datetime(2013, 5, 24), "host;range;x-amz-content-sha256;x-amz-date",
     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    # Parameters out of order: the signature sorts them.
    ("https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2", {"x-amz-content-sha256": helper.EMPTY_SHA256},
     S3_DOC_KEYS, "s3", datetime.datetime(2013, 5, 24), "host;x-amz-content-sha256;x-amz-date",
     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
])
def test_sigv4_matches_the_published_examples(url, headers, keys, service, when, signed, signature):
    result = helper.sigv4_headers("GET", url, headers, helper.EMPTY_SHA256, *keys, "us-east-1", service, when)
    scope = f"{when:%Y%m%d}/us-east-1/{service}/aws4_request"
    assert result["Authorization"] == (f"AWS4-HMAC-SHA256 Credential={keys[0]}/{scope}, "
                                       f"SignedHeaders={signed}, Signature={signature}")
    assert result["X-Amz-Date"] == f"{when:%Y%m%dT%H%M%SZ}"


def test_credentials_come_from_the_shared_credentials_file(tmp_path):
    path = tmp_path / "credentials"
    path.write_text("[default]\naws_access_key_id = AKID\naws_secret_access_key = se%cret/+\n")
    assert helper.read_credentials(str(path)) == ("AKID", "se%cret/+")
    with pytest.raises(OSError):
        helper.read_credentials(str(tmp_path / "missing"))


class FakeStore:
    """An in-memory bucket answering the requests the helper makes, two keys per
    listing page (so that paging is exercised); it records every request."""

    PAGE = 2

    def __init__(self, bucket: str, keys: dict[str, int]):
        self.bucket, self.objects, self.requests = bucket, dict(keys), []

    def __call__(self, request, timeout):
        url = urllib.parse.urlsplit(request.full_url)
        self.requests.append((request.get_method(), url.netloc, url.path, url.query))
        assert request.get_header("Authorization").startswith("AWS4-HMAC-SHA256 Credential=AKID/")
        bucket, _slash, key = url.path.lstrip("/").partition("/")
        assert bucket == self.bucket
        key = urllib.parse.unquote(key)
        if request.get_method() == "DELETE":
            self.objects.pop(key, None)
            return io.BytesIO(b"")
        if request.get_method() == "HEAD":
            if key not in self.objects:
                raise urllib.error.HTTPError(request.full_url, 404, "Not Found", {}, None)
            return io.BytesIO(b"")
        return io.BytesIO(self.listing(dict(urllib.parse.parse_qsl(url.query))))

    def listing(self, query: dict[str, str]) -> bytes:
        prefix, delimiter = query["prefix"], query.get("delimiter", "")
        entries = []
        for key in sorted(self.objects):
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix):]
            if delimiter and delimiter in rest:
                folder = prefix + rest.split(delimiter, 1)[0] + delimiter
                if ("prefix", folder) not in entries:
                    entries.append(("prefix", folder))
            else:
                entries.append(("key", key))
        start = int(query.get("continuation-token", "0"))
        page, more = entries[start:start + self.PAGE], start + self.PAGE < len(entries)
        body = "".join(f"<Contents><Key>{name}</Key><Size>{self.objects[name]}</Size></Contents>" if kind == "key"
                       else f"<CommonPrefixes><Prefix>{name}</Prefix></CommonPrefixes>" for kind, name in page)
        token = f"<NextContinuationToken>{start + self.PAGE}</NextContinuationToken>" if more else ""
        return (f'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{body}'
                f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>{token}</ListBucketResult>").encode()


def dated_store(dates: list[str], complete: bool = True) -> FakeStore:
    keys = {"h/latest/backup_complete.ignore": 1, "h/daily/notes/x": 1, "h/dailyish/2020-01-01/x": 1}
    for date in dates:
        keys.update({f"h/daily/{date}/data/part1": 100, f"h/daily/{date}/data/part2": 10})
        if complete:
            keys[f"h/daily/{date}/{helper.COMPLETE_MARKER}"] = 2
    return FakeStore("bucket", keys)


def client(store: FakeStore, path_style: bool = True) -> "helper.S3":
    return helper.S3("http://s3.example:9000", "AKID", "secret", "eu-west-1", path_style, opener=store)


def test_s3_urls_are_path_style_or_virtual_host_and_quoted():
    s3 = helper.S3("https://store.example:9000/", "AKID", "secret")
    assert s3.url("b", "h/daily/a b", {"prefix": "h/", "list-type": "2"}) == \
        "https://store.example:9000/b/h/daily/a%20b?list-type=2&prefix=h%2F"
    s3.path_style = False
    assert s3.url("b", "k") == "https://b.store.example:9000/k"
    assert helper.S3("", "AKID", "secret", "eu-west-1").url("b") == "https://s3.eu-west-1.amazonaws.com/b/"


def test_s3_prune_removes_only_dated_backups_the_retention_drops_across_pages():
    store = dated_store(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"])
    removed = helper.s3_prune(client(store), "bucket", "h/daily", 2, 0, 0)
    assert removed == ["s3://bucket/h/daily/2026-01-01", "s3://bucket/h/daily/2026-01-02"]
    assert sorted({key.split("/")[2] for key in store.objects if key.startswith("h/daily/")}) == \
        ["2026-01-03", "2026-01-04", "notes"]
    assert "h/dailyish/2020-01-01/x" in store.objects and "h/latest/backup_complete.ignore" in store.objects
    # Each backup loses its completeness marker before its parts.
    deletes = [path for method, _netloc, path, _query in store.requests if method == "DELETE"]
    assert deletes[0] == f"/bucket/h/daily/2026-01-01/{helper.COMPLETE_MARKER}"
    assert deletes[3] == f"/bucket/h/daily/2026-01-02/{helper.COMPLETE_MARKER}"
    # Five folders below h/daily/ need three pages of two.
    listings = [query for method, _netloc, _path, query in store.requests if method == "GET" and "delimiter" in query]
    assert len(listings) == 3


def test_s3_prune_through_the_command_line_reads_the_credentials_file(tmp_path, monkeypatch, capsys):
    store = dated_store(["2026-01-01", "2026-01-02"])
    monkeypatch.setattr(helper.urllib.request, "urlopen", store)
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = AKID\naws_secret_access_key = secret\n")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert helper.main(["prune", "--destination", "s3://bucket/h/daily/", "--keep-last", "1",
                        "--s3-credentials", str(credentials), "--s3-endpoint", "http://s3.example:9000"]) == 0
    assert "removed s3://bucket/h/daily/2026-01-01 (retention)" in capsys.readouterr().out
    assert {netloc for _method, netloc, _path, _query in store.requests} == {"s3.example:9000"}
    assert not [key for key in store.objects if key.startswith("h/daily/2026-01-01/")]


def test_s3_origin_and_check_need_the_completeness_marker():
    complete, incomplete = dated_store(["2026-01-01"]), dated_store(["2026-01-01"], complete=False)
    command = ["/usr/local/bin/vmbackup-prod"]
    origin = "s3://bucket/h/daily/2026-01-01"
    assert helper.vmbackup_command(command, "s3://bucket/h/x", origin, client(complete))[-1] == f"-origin={origin}"
    assert helper.vmbackup_command(command, "s3://bucket/h/x", origin, client(incomplete)) == command + ["-dst=s3://bucket/h/x"]
    assert helper.is_complete("s3://bucket/h/latest", client(complete))
    assert not helper.is_complete("s3://bucket/h/missing", client(complete))
    assert not helper.is_complete("s3://bucket/h/latest", None), "no credentials: cannot tell, so not complete"


def test_s3_backup_size_is_that_of_the_newest_dated_backup():
    store = dated_store(["2026-01-01", "2026-01-02"])
    store.objects["h/daily/2026-01-02/data/part3"] = 5
    assert helper.backup_size("s3://bucket/h/daily", True, client(store)) == 100 + 10 + 5 + 2
    assert helper.backup_size("s3://bucket/h/latest", False, client(store)) == 1
    assert helper.backup_size("s3://bucket/h/none", True, client(store)) is None


def run_metrics(tmp_path: Path, monkeypatch, result: str, dated: bool = False) -> dict[str, str]:
    monkeypatch.setenv("SERVICE_RESULT", result)
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir(exist_ok=True)
    arguments = ["metrics", "--schedule", "daily", "--destination", f"fs://{tmp_path}/daily",
                 "--max-age", "93600", "--textfile-dir", str(textfile_dir)] + (["--dated"] if dated else [])
    assert helper.main(arguments) == 0
    return helper.previous_values(textfile_dir / "vmbackup-daily.prom")


def test_a_success_records_its_time_and_the_size_of_the_newest_dated_backup(tmp_path, monkeypatch):
    make_backup(tmp_path / "daily" / "2026-01-01")
    newest = make_backup(tmp_path / "daily" / "2026-01-02")
    (newest / "data" / "more").write_bytes(b"y" * 50)
    values = run_metrics(tmp_path, monkeypatch, "success", dated=True)
    assert values["vmstack_backup_last_run_failed"] == "0"
    assert values["vmstack_backup_last_success_size_bytes"] == str(100 + 50 + 2)
    assert values["vmstack_backup_max_age_seconds"] == "93600"
    assert values["vmstack_backup_last_success_timestamp_seconds"] == values["vmstack_backup_last_run_timestamp_seconds"]


def test_a_failure_keeps_the_last_success(tmp_path, monkeypatch):
    make_backup(tmp_path / "daily" / "2026-01-01")
    good = run_metrics(tmp_path, monkeypatch, "success", dated=True)
    (tmp_path / "textfile" / "vmbackup-daily.prom").write_text(
        (tmp_path / "textfile" / "vmbackup-daily.prom").read_text().replace(
            good["vmstack_backup_last_success_timestamp_seconds"], "1000"))
    failed = run_metrics(tmp_path, monkeypatch, "exit-code", dated=True)
    assert failed["vmstack_backup_last_run_failed"] == "1"
    assert failed["vmstack_backup_last_success_timestamp_seconds"] == "1000"
    assert failed["vmstack_backup_last_success_size_bytes"] == good["vmstack_backup_last_success_size_bytes"]


def test_a_first_run_that_fails_has_no_success_time(tmp_path, monkeypatch):
    values = run_metrics(tmp_path, monkeypatch, "exit-code")
    assert values["vmstack_backup_last_run_failed"] == "1"
    assert "vmstack_backup_last_success_timestamp_seconds" not in values


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)")
def test_the_textfile_is_valid_exposition_format(tmp_path, monkeypatch):
    make_backup(tmp_path / "daily")
    run_metrics(tmp_path, monkeypatch, "success")
    text = (tmp_path / "textfile" / "vmbackup-daily.prom").read_text()
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


# --- a snapshot made by the helper, so that vmbackup never logs the auth key ---

class SnapshotServer:
    """A stand-in for VictoriaMetrics' snapshot API that records each call."""

    def __init__(self, create_answer: dict) -> None:
        calls = self.calls = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                calls.append(self.path)
                body = json.dumps(create_answer if "/create" in self.path else {"status": "ok"}).encode()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def fake_vmbackup(tmp_path):
    """A vmbackup that writes its arguments and environment to a file."""
    script = tmp_path / "vmbackup"
    script.write_text('#!/bin/sh\necho "$@" > "$0.args"\nenv > "$0.env"\n')
    script.chmod(0o755)
    return script


def test_the_delete_url_keeps_the_auth_key_and_names_the_snapshot():
    url = helper.snapshot_delete_url("http://127.0.0.1:8428/snapshot/create?authKey=k%26y", "20260101-x")
    assert url == "http://127.0.0.1:8428/snapshot/delete?authKey=k%26y&snapshot=20260101-x"


def test_with_an_auth_key_the_helper_makes_the_snapshot_and_vmbackup_never_sees_the_url(
        tmp_path, fake_vmbackup, monkeypatch, capsys):
    server = SnapshotServer({"status": "ok", "snapshot": "20260101-abc"})
    try:
        monkeypatch.setenv(helper.SNAPSHOT_URL_VARIABLE, f"{server.base}/snapshot/create?authKey=secret-key")
        code = helper.main(["run", "--destination", f"fs://{tmp_path}/latest", "--", str(fake_vmbackup),
                            "-storageDataPath=/data"])
    finally:
        server.close()
    assert code == 0
    assert server.calls == ["/snapshot/create?authKey=secret-key",
                            "/snapshot/delete?authKey=secret-key&snapshot=20260101-abc"]
    arguments = Path(f"{fake_vmbackup}.args").read_text().split()
    assert arguments == ["-storageDataPath=/data", f"-dst=fs://{tmp_path}/latest", "-snapshotName=20260101-abc"]
    assert "secret-key" not in Path(f"{fake_vmbackup}.env").read_text()
    assert "secret-key" not in capsys.readouterr().err


def test_a_refused_snapshot_runs_no_backup_and_names_no_key(tmp_path, fake_vmbackup, monkeypatch, capsys):
    server = SnapshotServer({"status": "error", "msg": "cannot create snapshot: disk full"})
    try:
        monkeypatch.setenv(helper.SNAPSHOT_URL_VARIABLE, f"{server.base}/snapshot/create?authKey=secret-key")
        code = helper.main(["run", "--destination", f"fs://{tmp_path}/latest", "--", str(fake_vmbackup)])
    finally:
        server.close()
    assert code == 1
    assert not Path(f"{fake_vmbackup}.args").exists()
    error = capsys.readouterr().err
    assert "disk full" in error and "secret-key" not in error


def test_an_unreachable_server_is_a_failed_run_that_names_no_key(tmp_path, fake_vmbackup, monkeypatch, capsys):
    monkeypatch.setenv(helper.SNAPSHOT_URL_VARIABLE, "http://127.0.0.1:9/snapshot/create?authKey=secret-key")
    assert helper.main(["run", "--destination", f"fs://{tmp_path}/latest", "--", str(fake_vmbackup)]) == 1
    error = capsys.readouterr().err
    assert "made no snapshot" in error and "secret-key" not in error
