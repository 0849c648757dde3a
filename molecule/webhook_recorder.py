# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""The Molecule scenarios' webhook receiver, a test fixture on the test hosts:
it stands in for a notification channel and appends each POST as one JSON line.

    python3 webhook_recorder.py ADDRESS PORT FILE

Each line holds the request path, the Authorization header ("" without one) and
the parsed JSON body, so a test can check what Alertmanager sent and how.
No shebang: the test hosts have no plain "python", so the scenarios run it
with python3.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def record(path: str, authorization: str, body: bytes) -> str:
    """One line of the record file."""
    return json.dumps({"path": path, "authorization": authorization, "body": json.loads(body or b"null")}) + "\n"


def recorder(output: str) -> type:
    """A request handler class that appends to the file output."""

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            line = record(self.path, self.headers.get("Authorization", ""), body)
            with open(output, "a", encoding="utf-8") as records:
                records.write(line)
            self.send_response(200)
            self.end_headers()

    return Recorder


if __name__ == "__main__":
    address, port, output_file = sys.argv[1:]
    HTTPServer((address, int(port)), recorder(output_file)).serve_forever()
