#!/usr/bin/python3
"""t/bin/zeep_client.py: interoperability check with the zeep SOAP client.

Loads the WSDL (and, through it, the XSDs) from a running mod_msgtrack with
Basic auth, checks that both operations exist, and drives them against the
index built from t/data, as zeep's generated client would in an application:

  - FindMessageTrackingReport for November 2026: USER's own messages when
    USER is alice, else the messages alice sent to USER;
  - GetMessageTrackingReport Summary for "Q3 results, final figures", with
    the MessageTrackingReportId zeep parsed out of the Find response;
  - GetMessageTrackingReport RecipientPath for bob on the same message, and
    for erin, whom it was not sent to (the normative empty report).

It prints one `key: value` line per fact, from the objects zeep parsed, for
t/zeep.t to assert on. Exit status 0 when all steps ran (whatever the server
answered), non-zero when a step failed. With MSGTRACK_MARKER in the
environment, every request carries it in an X-MsgTrack-Marker header (see
t/conf/extra.conf.in).

usage: zeep_client.py BASE_URL USER PASSWORD [CA_FILE]
"""
import datetime
import os
import sys

import requests
from requests.auth import HTTPBasicAuth
from zeep import Client, Settings
from zeep.transports import Transport

TYPES = "http://schemas.microsoft.com/exchange/services/2006/types"
UTC = datetime.timezone.utc
SUBJECT = "Q3 results, final figures"


def items(array, name):
    """The members of an ArrayOf...Type (an xs:choice: zeep's _value_1)."""
    if array is None:
        return []
    return [entry[name] for entry in (array._value_1 or [])]


def show(key, value):
    print("%s: %s" % (key, value))


def when(t):
    return t.isoformat() if t is not None else "-"


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    base, user, password = argv[1:4]
    sys.stdout.reconfigure(encoding="utf-8")
    session = requests.Session()
    session.auth = HTTPBasicAuth(user, password)
    # Neither proxies nor CA bundles from the environment: this server, this CA.
    session.trust_env = False
    if len(argv) == 5:
        session.verify = argv[4]
    if os.environ.get("MSGTRACK_MARKER"):
        session.headers["X-MsgTrack-Marker"] = os.environ["MSGTRACK_MARKER"]
    client = Client(base + "/EWS/Exchange.asmx?wsdl",
                    transport=Transport(session=session, timeout=30, operation_timeout=30),
                    settings=Settings(strict=True, raw_response=False))

    operations = sorted(client.service._binding._operations)
    show("operations", ",".join(operations))
    missing = {"FindMessageTrackingReport", "GetMessageTrackingReport"} - set(operations)
    if missing:
        print("missing operations: " + ",".join(sorted(missing)), file=sys.stderr)
        return 1
    show("address", client.service._binding_options["address"])

    version = client.get_element("{%s}RequestServerVersion" % TYPES)(Version="Exchange2010_SP1")
    me = user + "@example.org"

    # ---------------------------------------------------------------- Find
    criteria = {"Sender": {"EmailAddress": me}} if user == "alice" else \
        {"Sender": {"EmailAddress": "alice@example.org"}, "Recipient": {"EmailAddress": me}}
    find = client.service.FindMessageTrackingReport(
        Scope="Organization", Domain="example.org",
        StartDateTime=datetime.datetime(2026, 11, 1, tzinfo=UTC),
        EndDateTime=datetime.datetime(2026, 12, 1, tzinfo=UTC),
        _soapheaders=[version], **criteria)
    status("find", find)
    results = items(find.body.MessageTrackingSearchResults, "MessageTrackingSearchResult")
    show("find.ExecutedSearchScope", find.body.ExecutedSearchScope)
    show("find.count", len(results))
    show("find.subjects", " | ".join(r.Subject for r in results))
    show("find.times", " ".join(when(r.SubmittedTime) for r in results))
    target = [r for r in results if r.Subject == SUBJECT]
    if not target:
        show("find.target", "missing")
        return 0
    target = target[0]
    show("find.target.recipients",
         ",".join(m.EmailAddress for m in items(target.Recipients, "Mailbox")))
    show("find.target.sender", target.Sender.EmailAddress)
    show("find.target.id", target.MessageTrackingReportId)

    # ---------------------------------------------------------------- Get
    get = client.service.GetMessageTrackingReport(
        Scope="Organization", ReportTemplate="Summary",
        MessageTrackingReportId=target.MessageTrackingReportId, _soapheaders=[version])
    status("get", get)
    report = get.body.MessageTrackingReport
    show("get.Sender", report.Sender.EmailAddress if report.Sender else "-")
    show("get.Subject", report.Subject)
    show("get.SubmitTime", when(report.SubmitTime))
    show("get.OriginalRecipients",
         ",".join(a.EmailAddress for a in (report.OriginalRecipients.Address or [])))
    events = items(report.RecipientTrackingEvents, "RecipientTrackingEvent")
    show("get.recipients", ",".join(e.Recipient.EmailAddress for e in events))
    show("get.statuses", ",".join(e.DeliveryStatus for e in events))
    show("get.bcc", ",".join(str(e.BccRecipient).lower() for e in events))
    show("get.internal_ids", ",".join(str(e.InternalId) for e in events))

    path = client.service.GetMessageTrackingReport(
        Scope="Organization", ReportTemplate="RecipientPath",
        RecipientFilter={"EmailAddress": "bob@example.org"},
        MessageTrackingReportId=target.MessageTrackingReportId, _soapheaders=[version])
    status("path", path)
    steps = items(path.body.MessageTrackingReport.RecipientTrackingEvents, "RecipientTrackingEvent")
    show("path.descriptions", ",".join(e.EventDescription for e in steps))
    show("path.servers", ",".join(e.Server for e in steps))
    show("path.dates", " ".join(when(e.Date) for e in steps))

    empty = client.service.GetMessageTrackingReport(
        Scope="Organization", ReportTemplate="RecipientPath",
        RecipientFilter={"EmailAddress": "erin@example.org"},
        MessageTrackingReportId=target.MessageTrackingReportId, _soapheaders=[version])
    status("empty", empty)
    report = empty.body.MessageTrackingReport
    show("empty.SubmitTime", when(report.SubmitTime))
    show("empty.events", len(items(report.RecipientTrackingEvents, "RecipientTrackingEvent")))
    return 0


def status(name, result):
    # With a header in the output message zeep returns {header, body}; the
    # body is the operation response's content.
    body = result.body
    show(name + ".ResponseClass", body.ResponseClass)
    show(name + ".ResponseCode", body.ResponseCode)
    show(name + ".ServerVersion", result.header.ServerVersion.Version)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
