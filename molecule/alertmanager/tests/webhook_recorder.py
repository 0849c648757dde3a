# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""A webhook receiver for the tests: appends each POST as one JSON line.

    python3 webhook_recorder.py PORT FILE

Each line holds the request path, the Authorization header and the parsed
JSON body, so a test can check what Alertmanager sent and how.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # the name http.server calls
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        record = {
            "path": self.path,
            "authorization": self.headers.get("Authorization", ""),
            "body": json.loads(body or b"null"),
        }
        with open(sys.argv[2], "a", encoding="utf-8") as output:
            output.write(json.dumps(record) + "\n")
        self.send_response(200)
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Recorder).serve_forever()
