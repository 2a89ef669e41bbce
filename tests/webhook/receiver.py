"""A webhook receiver for the tests: an independent check of handoff-gate's
signatures with the `standardwebhooks` package from PyPI (the reference
implementation of the Standard Webhooks specification).

    python3 tests/webhook/receiver.py PORT SECRET LOG

Every POST is verified; each one appends a JSON line to LOG:
{"verified": true, "webhook_id": ..., "payload": ...} (answered 204), or
{"verified": false, "error": ...} (answered 400). Prints `ready` once it
listens.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PORT, SECRET, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
VERIFIER = Webhook(SECRET)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k: v for (k, v) in self.headers.items()}
        try:
            payload = VERIFIER.verify(body, headers)
            line = {"verified": True, "webhook_id": headers.get("webhook-id"), "payload": payload}
            status = 204
        except WebhookVerificationError as error:
            line = {"verified": False, "error": str(error)}
            status = 400
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Receiver)
print("ready", flush=True)
server.serve_forever()
