"""A notification endpoint that verifies with the official Standard Webhooks library.

Usage: notify_receiver.py SECRET LOG_FILE. Listens on 127.0.0.1 (a free port, printed on the
first line of stdout) and appends one JSON line per request to LOG_FILE:
{"path", "id", "ts", "verified", "type", "status", "at"}.

Paths: /ok answers 204 to a request the library verifies (400 otherwise); /down answers 500 to
everything (an endpoint that is failing).
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

wh = Webhook(sys.argv[1])
log_path = sys.argv[2]
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            payload = wh.verify(body, headers)
            verified, kind = True, payload.get("type")
        except Exception:  # noqa: BLE001 - any refusal counts
            verified, kind = False, None
        if self.path == "/down":
            status = 500
        else:
            status = 204 if verified else 400
        entry = {
            "path": self.path,
            "id": headers.get("webhook-id"),
            "ts": headers.get("webhook-timestamp"),
            "verified": verified,
            "type": kind,
            "status": status,
            "at": time.time(),
        }
        with lock, open(log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
