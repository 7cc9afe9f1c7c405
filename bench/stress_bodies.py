#!/usr/bin/env python3
"""bench/stress_bodies.py: SOAP request bodies for bench/stress.sh.

  msgtrack-index --db DIR find --start T --end T --json |
      bench/stress_bodies.py --count N [--seed S] --start T --end T > BODIES

Reads what `find --json` printed (the messages indexed so far) and writes N
request bodies, separated by lines holding only "----8<----", for
bench/stress_load.lua: FindMessageTrackingReport by Sender, by Recipient, by
Sender and Recipient, by Sender and Subject, by MessageId, with and without
diagnostics, and GetMessageTrackingReport Summary and RecipientPath (some
with ReturnQueueEvents) for the report ids found, in a fixed mix. Every body
is valid against the bundled schemas; the server answers each with a
Success response when the index can be read. Python 3 standard library only.
"""
import argparse
import json
import random
import sys
from xml.sax.saxutils import escape

HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n'
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"'
        ' xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">\n'
        '<s:Header><t:RequestServerVersion Version="Exchange2010_SP1"/></s:Header>\n'
        '<s:Body>\n')
TAIL = '</s:Body>\n</s:Envelope>'


def addr(tag, a):
    return "<m:%s><t:EmailAddress>%s</t:EmailAddress></m:%s>" % (tag, escape(a), tag)


def find(start, end, sender=None, recipient=None, subject=None, msgid=None, diag=False):
    # The elements in the schema's order.
    parts = ["<m:FindMessageTrackingReport>", "<m:Scope>Organization</m:Scope>",
             "<m:Domain>example.org</m:Domain>"]
    if sender:
        parts.append(addr("Sender", sender))
    if recipient:
        parts.append(addr("Recipient", recipient))
    if subject:
        parts.append("<m:Subject>%s</m:Subject>" % escape(subject))
    parts.append("<m:StartDateTime>%s</m:StartDateTime>" % start)
    parts.append("<m:EndDateTime>%s</m:EndDateTime>" % end)
    if msgid:
        parts.append("<m:MessageId>%s</m:MessageId>" % escape(msgid))
    if diag:
        parts.append("<m:DiagnosticsLevel>Verbose</m:DiagnosticsLevel>")
    parts.append("</m:FindMessageTrackingReport>")
    return HEAD + "".join(parts) + "\n" + TAIL


def get(report_id, template="Summary", recipient=None, queue=False):
    parts = ["<m:GetMessageTrackingReport>", "<m:Scope>Organization</m:Scope>",
             "<m:ReportTemplate>%s</m:ReportTemplate>" % template]
    if recipient:
        parts.append(addr("RecipientFilter", recipient))
    parts.append("<m:MessageTrackingReportId>%s</m:MessageTrackingReportId>" % escape(report_id))
    if queue:
        parts.append("<m:ReturnQueueEvents>true</m:ReturnQueueEvents>")
    parts.append("</m:GetMessageTrackingReport>")
    return HEAD + "".join(parts) + "\n" + TAIL


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", required=True)
    ap.add_argument("--end", required=True)
    args = ap.parse_args()
    msgs = [m for m in json.load(sys.stdin) if m.get("report_id") and m.get("sender")]
    if not msgs:
        sys.exit("stress_bodies.py: no messages with a sender and a report id to ask about")
    rnd = random.Random(args.seed)
    s, e = args.start, args.end
    out = []
    for i in range(args.count):
        m = rnd.choice(msgs)
        rcpts = m.get("recipients") or []
        rcpt = rnd.choice(rcpts) if rcpts else None
        kind = i % 10
        if kind == 0:
            body = find(s, e, sender=m["sender"])
        elif kind == 1 and rcpt:
            body = find(s, e, recipient=rcpt)
        elif kind == 2 and rcpt:
            body = find(s, e, sender=m["sender"], recipient=rcpt, diag=True)
        elif kind == 3 and m.get("subject"):
            words = [w for w in m["subject"].split() if len(w) > 3]
            body = find(s, e, sender=m["sender"], subject=rnd.choice(words) if words else None)
        elif kind == 4 and m.get("message_id"):
            body = find(s, e, msgid=m["message_id"])
        elif kind in (5, 6, 7):
            body = get(m["report_id"], queue=(kind == 7))
        elif kind in (8, 9) and rcpt:
            body = get(m["report_id"], "RecipientPath", recipient=rcpt, queue=(kind == 9))
        else:
            body = get(m["report_id"])
        out.append(body)
    sys.stdout.write("\n----8<----\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
