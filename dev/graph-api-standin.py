#!/usr/bin/env python3
"""A stand-in for Meta's Graph API on loopback, for trying replies without a real WhatsApp number.

It answers POST /<version>/<phone-number-id>/messages as Meta documents: 200 with a wamid when the
bearer token matches dev/graph-access-token, 401 with error code 190 otherwise, 400 with code 100
for a body that is not JSON. Every request is printed. Usage: python3 dev/graph-api-standin.py [PORT]
(default 8081); nothing is sent anywhere.

Media, as Meta serves them: GET /<version>/<media-id> answers where the file is (url, mime_type,
hex sha256, file_size), and GET of that url with the same token streams it; a wrong token gets
401 with code 190 there too. The files are made here, the same bytes every time:

- dev-photo: a PNG (sent by dev/webhooks/photo-customer.json);
- dev-invoice: a PDF (sent by dev/webhooks/invoice-customer.json, under a file name that is not ASCII);
- dev-video: 20 MiB of "video/mp4" (sent by dev/webhooks/video-customer.json). Not a playable MP4:
  an `ftyp` box and one `free` box holding SHAKE-256 output of a fixed seed, so its bytes are
  deterministic and do not compress, like a real video's;
- dev-slow: the photo, a piece every half second;
- dev-wrong-sha: the photo under another file's SHA-256;
- dev-interrupted-<n> (n a number): 800,000 deterministic bytes ("video/mp4", seeded by n) whose
  first download stops after 300 KiB and stalls for two minutes (a fetch a daemon restart cuts
  short); every later download of the same id is whole.

Any other id is "does not exist" (400, code 100).

POST /<version>/<phone-number-id>/media takes an upload as Meta does (a multipart form with
messaging_product, type and file) and answers its new media id, which the lookup then knows. Read
receipts and typing indicators (status read) are answered {"success": true}.

With --status-webhook URL (repeatable) and --app-secret FILE, every accepted send is followed, as
Meta does, by a signed `sent` status webhook (X-Hub-Signature-256 under the app secret) carrying
the send's wamid and its biz_opaque_callback_data, posted to the first URL that answers 200 (each
tried again for a few seconds, as Meta retries): how a daemon learns that a send a crash cut short
had gone out.

A send is checked as Meta checks it before answering (400, code 131009 "Parameter value is not
valid", or code 100 for a missing parameter, with the reason in error_data.details): a text needs
a body of at most 4,096 characters; a template a name and a language code; interactive reply
buttons 1 to 3 buttons with distinct titles of 1 to 20 characters and ids of at most 256, and a
body of at most 1,024 characters; an interactive list a button text of 1 to 20 characters, 1 to 10
sections with 1 to 10 rows in all, row titles of 1 to 24 characters, row ids of at most 200 and
distinct, and a body of at most 4,096 characters. What is printed is the request as sent (UTF-8,
not escaped), so a menu's buttons and a survey's rows read as the customer would see them.
"""
import argparse
import email.parser
import email.policy
import hashlib
import hmac
import http.server
import itertools
import json
import pathlib
import struct
import sys
import threading
import time
import urllib.request
import zlib

TOKEN = (pathlib.Path(__file__).parent / "graph-access-token").read_text().strip()
PRINTING = threading.Lock()


def say(line):
    """One whole line at a time: requests are answered on several threads, and print() writes the
    text and its newline separately, so two lines could share one."""
    with PRINTING:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
COUNTER = itertools.count(1)


def png(width=96, height=64):
    """A small gradient PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def pdf():
    text = b"BT /F1 18 Tf 40 100 Td (Invoice 7: 2 x parcel, paid twice) Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text), b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def video(size=20 * 1024 * 1024):
    """An MP4's first box (`ftyp`) and a `free` box of seeded pseudo-random bytes: not playable."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 0x200) + b"isomiso2"
    rest = size - len(ftyp) - 8
    return ftyp + struct.pack(">I", rest + 8) + b"free" + hashlib.shake_256(b"switchboard dev-video").digest(rest)


def interrupted(number, size=800_000):
    return hashlib.shake_256(b"switchboard dev-interrupted-%d" % number).digest(size)


PHOTO, INVOICE, VIDEO = png(), pdf(), video()
# id: (bytes, mime type, the SHA-256 the lookup gives, seconds between 16 KiB pieces)
MEDIA = {
    "dev-photo": (PHOTO, "image/png", hashlib.sha256(PHOTO).hexdigest(), 0),
    "dev-invoice": (INVOICE, "application/pdf", hashlib.sha256(INVOICE).hexdigest(), 0),
    "dev-video": (VIDEO, "video/mp4", hashlib.sha256(VIDEO).hexdigest(), 0),
    "dev-slow": (PHOTO, "image/png", hashlib.sha256(PHOTO).hexdigest(), 0.5),
    "dev-wrong-sha": (PHOTO, "image/png", hashlib.sha256(INVOICE).hexdigest(), 0),
}
# The dev-interrupted-<n> ids downloaded once already (their next download is whole).
STALLED = set()
STALL_AFTER, STALL_SECONDS = 300 * 1024, 120


def media(media_id):
    """The file of an id, as MEDIA holds it, or None."""
    if media_id in MEDIA:
        return MEDIA[media_id]
    prefix = "dev-interrupted-"
    if media_id.startswith(prefix) and media_id[len(prefix):].isdigit():
        data = interrupted(int(media_id[len(prefix):]))
        return (data, "video/mp4", hashlib.sha256(data).hexdigest(), 0)
    return None


def invalid(body):
    """Why Meta would refuse this send, as (code, message, details), or None."""
    def missing(parameter):
        return (100, f"(#100) The parameter {parameter} is required.", f"The parameter {parameter} is required.")

    def not_valid(details):
        return (131009, "(#131009) Parameter value is not valid", details)

    def length(value, name, low, high):
        if not isinstance(value, str) or not low <= len(value) <= high:
            return not_valid(f"{name} length invalid. Min length: {low}, Max length: {high}")
        return None

    kind = body.get("type", "text")
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, dict) or "body" not in text:
            return missing("text['body']")
        return length(text["body"], "Message body", 1, 4096)
    if kind == "template":
        template = body.get("template")
        if not isinstance(template, dict) or not template.get("name"):
            return missing("template['name']")
        if not isinstance(template.get("language"), dict) or not template["language"].get("code"):
            return missing("template['language']['code']")
        return None
    if kind != "interactive":
        return None
    interactive = body.get("interactive")
    if not isinstance(interactive, dict):
        return missing("interactive")
    action = interactive.get("action") if isinstance(interactive.get("action"), dict) else {}
    text = (interactive.get("body") or {}).get("text") if isinstance(interactive.get("body"), dict) else None
    if interactive.get("type") == "button":
        if text is None:
            return missing("interactive['body']")
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return not_valid("Buttons count invalid. Min: 1, Max: 3")
        titles = []
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            if not isinstance(reply, dict) or button.get("type") != "reply":
                return not_valid("Button type invalid. Expected: reply")
            problem = length(reply.get("title"), "Button title", 1, 20) or length(reply.get("id"), "Button id", 1, 256)
            if problem:
                return problem
            titles.append(reply["title"])
        if len(set(titles)) != len(titles):
            return not_valid("Button titles must be unique")
        return length(text, "Body text", 1, 1024)
    if interactive.get("type") == "list":
        if text is None:
            return missing("interactive['body']")
        problem = length(action.get("button"), "Button text", 1, 20)
        if problem:
            return problem
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            return not_valid("Sections count invalid. Min: 1, Max: 10")
        rows = [row for section in sections if isinstance(section, dict) for row in (section.get("rows") or [])]
        if not 1 <= len(rows) <= 10:
            return not_valid("Total row count invalid. Min: 1, Max: 10")
        for row in rows:
            problem = (length(row.get("title") if isinstance(row, dict) else None, "Row title", 1, 24)
                       or length(row.get("id"), "Row id", 1, 200))
            if problem:
                return problem
        if len({row["id"] for row in rows}) != len(rows):
            return not_valid("Row ids must be unique")
        if len(sections) > 1 and not all(isinstance(section, dict) and isinstance(section.get("title"), str) and section["title"] for section in sections):
            return missing("interactive['action']['sections'][]['title']")
        return length(text, "Body text", 1, 4096)
    return None


class StandIn(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def refused(self):
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.answer(401, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "dev"}})
            return True
        return False

    def do_GET(self):
        if self.refused():
            return
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "media-download" and media(parts[1]):
            data, mime, _, pause = media(parts[1])
            stall = parts[1].startswith("dev-interrupted-") and parts[1] not in STALLED
            STALLED.add(parts[1])
            say(f"media download {parts[1]} ({len(data)} bytes)")
            self.send_response(200)
            self.send_header("Content-Type", mime)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for start in range(0, len(data), 16384):
                if stall and start >= STALL_AFTER:
                    self.wfile.flush()
                    say(f"media download {parts[1]} stalls after {start} bytes")
                    time.sleep(STALL_SECONDS)
                    stall = False
                self.wfile.write(data[start:start + 16384])
                if pause:
                    self.wfile.flush()
                    time.sleep(pause)
            return
        if len(parts) == 2 and media(parts[1]):
            data, mime, sha, _ = media(parts[1])
            host = self.headers.get("Host", "127.0.0.1")
            return self.answer(200, {"messaging_product": "whatsapp", "url": f"http://{host}/media-download/{parts[1]}", "mime_type": mime,
                                     "sha256": sha, "file_size": str(len(data)), "id": parts[1]})
        self.answer(400, {"error": {"message": f"Unsupported get request. Object with ID '{parts[-1]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
                                    "type": "GraphMethodException", "code": 100, "error_subcode": 33, "fbtrace_id": "dev"}})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(401, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "dev"}})
        if self.path.endswith("/media"):
            return self.upload(raw)
        if not self.path.endswith("/messages"):
            return self.answer(404, {"error": {"message": "Unknown path", "type": "OAuthException", "code": 100, "fbtrace_id": "dev"}})
        try:
            body = json.loads(raw)
        except ValueError:
            return self.answer(400, {"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100, "fbtrace_id": "dev"}})
        if body.get("status") == "read":
            # A read receipt (with typing_indicator, "typing…" too): Meta answers success, no message.
            typing = body.get("typing_indicator")
            if typing is not None and typing != {"type": "text"}:
                return self.answer(400, {"error": {"message": "(#100) Param typing_indicator[type] must be one of {text}", "type": "OAuthException", "code": 100, "fbtrace_id": "dev"}})
            say(f"read {body.get('message_id')}" + (" (typing…)" if typing else ""))
            return self.answer(200, {"success": True})
        problem = invalid(body)
        if problem:
            code, message, details = problem
            say(f"refused ({code}) to {body.get('to') or body.get('recipient')}: {details}")
            return self.answer(400, {"error": {"message": message, "type": "OAuthException", "code": code,
                                               "error_data": {"messaging_product": "whatsapp", "details": details}, "fbtrace_id": "dev"}})
        wamid = f"wamid.dev{next(COUNTER)}"
        say(f"send {wamid} to {body.get('to') or body.get('recipient')}: {json.dumps(body, ensure_ascii=False)}")
        to = body.get("to") or body.get("recipient") or ""
        self.answer(200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]})
        if STATUS_WEBHOOKS:
            line = self.path.rstrip("/").split("/")[-2]
            threading.Thread(target=post_status, args=(line, wamid, to, body.get("biz_opaque_callback_data")), daemon=True).start()

    def upload(self, raw):
        """Meta's upload: a multipart form with messaging_product=whatsapp, type and file; the answer
        is the new media id, which the lookup and download then know too."""
        form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers.get("Content-Type", "").encode() + b"\r\n\r\n" + raw)
        fields = {}
        if form.is_multipart():
            for part in form.iter_parts():
                fields[part.get_param("name", header="content-disposition")] = (part.get_filename(), part.get_payload(decode=True) or b"")
        for name in ("messaging_product", "type", "file"):
            if not fields.get(name, (None, b""))[1]:
                return self.answer(400, {"error": {"message": f"(#100) The parameter {name} is required.", "type": "OAuthException", "code": 100, "fbtrace_id": "dev"}})
        media_id = str(7000000000 + next(COUNTER))
        data, mime = fields["file"][1], fields["type"][1].decode()
        MEDIA[media_id] = (data, mime, hashlib.sha256(data).hexdigest(), 0)
        say(f"upload {media_id}: {fields['file'][0]} ({mime}, {len(data)} bytes)")
        self.answer(200, {"id": media_id})

    def log_message(self, format, *args):
        pass


STATUS_WEBHOOKS = []
APP_SECRET = b""


def post_status(line, wamid, to, callback):
    """Meta's `sent` status webhook for an accepted send, signed, to the first URL that takes it."""
    status = {"id": wamid, "status": "sent", "timestamp": str(int(time.time())), "recipient_id": to}
    if callback is not None:
        status["biz_opaque_callback_data"] = callback
    payload = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "dev-waba", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783882", "phone_number_id": line},
        "statuses": [status]}}]}]}).encode()
    signature = "sha256=" + hmac.new(APP_SECRET, payload, hashlib.sha256).hexdigest()
    for attempt in range(20):
        for url in STATUS_WEBHOOKS:
            request = urllib.request.Request(url, data=payload, method="POST",
                                             headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    if answer.status == 200:
                        say(f"status sent {wamid} delivered to {url}")
                        return
            except Exception:
                pass
        time.sleep(0.25)
    say(f"status sent {wamid} not delivered")


if __name__ == "__main__":
    # What it prints is UTF-8 whatever the locale (names and menus are not ASCII).
    sys.stdout.reconfigure(encoding="utf-8")
    arguments = argparse.ArgumentParser(description="Meta's Graph API, on loopback.")
    arguments.add_argument("port", nargs="?", type=int, default=8081)
    arguments.add_argument("--status-webhook", action="append", default=[], help="where to post each send's `sent` status webhook")
    arguments.add_argument("--app-secret", help="a file holding the app secret that signs status webhooks")
    options = arguments.parse_args()
    if options.status_webhook and not options.app_secret:
        arguments.error("--status-webhook needs --app-secret FILE (Meta signs every webhook)")
    STATUS_WEBHOOKS.extend(options.status_webhook)
    if options.app_secret:
        APP_SECRET = pathlib.Path(options.app_secret).read_text().strip().encode()
    http.server.ThreadingHTTPServer(("127.0.0.1", options.port), StandIn).serve_forever()
