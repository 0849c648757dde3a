#!/usr/bin/python3
# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""Test fixture: an HTTP server that appends each POSTed JSON body, with its
path, as one line to a file. Usage: webhook-recorder ADDRESS PORT FILE"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[3], "a", encoding="utf-8") as log:
            log.write(json.dumps({"path": self.path, "body": json.loads(body or b"null")}) + "\n")
        self.send_response(200)
        self.end_headers()


HTTPServer((sys.argv[1], int(sys.argv[2])), Recorder).serve_forever()
