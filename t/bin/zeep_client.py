#!/usr/bin/python3
"""t/bin/zeep_client.py: interoperability check with the zeep SOAP client.

Loads the WSDL (and, through it, the XSDs) from a running mod_msgtrack with
Basic auth, checks that both operations exist, calls them, and prints one
`key: value` line per fact for t/zeep.t to assert on. Exit status 0 when all
steps ran (whatever the server answered), non-zero when a step failed.
With MSGTRACK_MARKER in the environment, every request carries it in an
X-MsgTrack-Marker header (see t/conf/extra.conf.in).

usage: zeep_client.py BASE_URL USER PASSWORD [CA_FILE]
"""
import os
import sys

import requests
from requests.auth import HTTPBasicAuth
from zeep import Client, Settings
from zeep.transports import Transport

TYPES = "http://schemas.microsoft.com/exchange/services/2006/types"


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    base, user, password = argv[1:4]
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
    print("operations: " + ",".join(operations))
    missing = {"FindMessageTrackingReport", "GetMessageTrackingReport"} - set(operations)
    if missing:
        print("missing operations: " + ",".join(sorted(missing)), file=sys.stderr)
        return 1
    print("address: %s" % client.service._binding_options["address"])

    version = client.get_element("{%s}RequestServerVersion" % TYPES)(Version="Exchange2010_SP1")

    find = client.service.FindMessageTrackingReport(
        Scope="Organization", Domain="example.org",
        Sender={"EmailAddress": user + "@example.org"},
        Subject="quarterly report",
        _soapheaders=[version])
    report("find", find)

    get = client.service.GetMessageTrackingReport(
        Scope="Organization", ReportTemplate="Summary",
        MessageTrackingReportId="Message-Id=<20240101.1234@example.org>,Server=mx1.example.org",
        _soapheaders=[version])
    report("get", get)
    return 0


def report(name, result):
    # With a header in the output message zeep returns {header, body}; the
    # body is the operation response's content.
    body = result.body
    print("%s.ResponseClass: %s" % (name, body.ResponseClass))
    print("%s.ResponseCode: %s" % (name, body.ResponseCode))
    print("%s.MessageText: %s" % (name, body.MessageText))
    print("%s.ServerVersion: %s" % (name, result.header.ServerVersion.Version))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
