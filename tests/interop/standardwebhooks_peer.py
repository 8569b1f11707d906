"""The official Standard Webhooks library as a test peer.

Reads {"secret", "ours": [{id, ts, body, sig}]} as JSON on stdin. Verifies each of our
signatures (and that a one-byte change fails), then signs `count` random payloads of its own and
prints everything as JSON on stdout.

With "sign": [{id, ts, body}] instead, it only signs those messages (as a provider using the
library would) and prints {"signed": [signature, ...]}.
"""
import json
import random
import string
import sys
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

req = json.load(sys.stdin)
wh = Webhook(req["secret"])

if "sign" in req:
    signed = [
        wh.sign(m["id"], datetime.fromtimestamp(m["ts"], tz=timezone.utc), m["body"])
        for m in req["sign"]
    ]
    json.dump({"signed": signed}, sys.stdout)
    sys.exit(0)

checked = []
for case in req["ours"]:
    headers = {"webhook-id": case["id"], "webhook-timestamp": str(case["ts"]), "webhook-signature": case["sig"]}
    body = case["body"]
    ok = True
    try:
        wh.verify(body, headers)
    except Exception:  # noqa: BLE001 - any refusal counts
        ok = False
    tampered = body[:-1] + ("x" if body[-1] != "x" else "y")
    tampered_ok = True
    try:
        wh.verify(tampered, headers)
    except Exception:  # noqa: BLE001 - any refusal counts
        tampered_ok = False
    checked.append({"ok": ok, "tampered_ok": tampered_ok})

rng = random.Random(req.get("seed", 1))
now = datetime.now(tz=timezone.utc)
theirs = []
for i in range(req["count"]):
    alphabet = string.printable + "éü€🎬"
    body = json.dumps({"i": i, "text": "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300)))})
    msg_id = "msg_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(20))
    theirs.append({"id": msg_id, "ts": int(now.timestamp()), "body": body, "sig": wh.sign(msg_id, now, body)})

json.dump({"checked": checked, "theirs": theirs}, sys.stdout)
