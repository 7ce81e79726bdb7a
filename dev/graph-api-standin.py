#!/usr/bin/env python3
"""A stand-in for Meta's Graph API on loopback, for trying replies without a real WhatsApp number.

It answers POST /<version>/<phone-number-id>/messages as Meta documents: 200 with a wamid when the
bearer token matches dev/graph-access-token, 401 with error code 190 otherwise, 400 with code 100
for a body that is not JSON. Every request is printed. Usage: python3 dev/graph-api-standin.py [PORT]
(default 8081); nothing is sent anywhere.
"""
import http.server
import itertools
import json
import pathlib
import sys

TOKEN = (pathlib.Path(__file__).parent / "graph-access-token").read_text().strip()
COUNTER = itertools.count(1)


class StandIn(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "dev"}})
        if not self.path.endswith("/messages"):
            return self.answer(404, {"error": {"message": "Unknown path", "type": "OAuthException", "code": 100, "fbtrace_id": "dev"}})
        try:
            body = json.loads(raw)
        except ValueError:
            return self.answer(400, {"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100, "fbtrace_id": "dev"}})
        wamid = f"wamid.dev{next(COUNTER)}"
        print(f"send {wamid} to {body.get('to') or body.get('recipient')}: {json.dumps(body)}", flush=True)
        to = body.get("to") or body.get("recipient") or ""
        self.answer(200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]})

    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
    http.server.ThreadingHTTPServer(("127.0.0.1", port), StandIn).serve_forever()
