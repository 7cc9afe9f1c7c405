/* test_parse_postfix.c: Postfix log lines -> records, mt_parse_postfix_line() (TAP) */
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "mt_parse.h"
#include "mt_time.h"

#define P(daemon) "Jun  3 10:40:57 mail postfix/" daemon "[1234]: "
#define QID "4F1A22C0D1E"
#define Q(daemon) P(daemon) QID ": "

/* want: for rc 1, "field=value|field=value" naming every string field that is
 * set (all others must be NULL) and size/nrcpt when set (else -1);
 * for rc -1, a part of the reason. */
typedef struct {
    const char *name;
    const char *line;
    int rc;
    mt_rec_kind_e kind;
    const char *want;
} case_t;

static const case_t cases[] = {
    /* ---- smtpd: client= */
    { "client", Q("smtpd") "client=mail.example.com[192.0.2.1]", 1, MT_REC_PF_CLIENT,
      "queue_id=" QID "|client=mail.example.com|client_addr=192.0.2.1" },
    { "client with SASL", Q("smtpd") "client=mail.example.com[192.0.2.1], sasl_method=PLAIN, "
      "sasl_username=alice@example.org", 1, MT_REC_PF_CLIENT,
      "queue_id=" QID "|client=mail.example.com|client_addr=192.0.2.1|sasl_user=alice@example.org" },
    { "client with SASL and sasl_sender", Q("smtpd") "client=h.example.com[192.0.2.1], sasl_method=LOGIN, "
      "sasl_username=bob, sasl_sender=bob@example.org", 1, MT_REC_PF_CLIENT,
      "queue_id=" QID "|client=h.example.com|client_addr=192.0.2.1|sasl_user=bob" },
    { "client IPv6", Q("smtpd") "client=mail6.example.com[2001:db8::1]", 1, MT_REC_PF_CLIENT,
      "queue_id=" QID "|client=mail6.example.com|client_addr=2001:db8::1" },
    { "client unknown", Q("smtpd") "client=unknown[10.0.0.1]", 1, MT_REC_PF_CLIENT,
      "queue_id=" QID "|client=unknown|client_addr=10.0.0.1" },
    { "client with port", Q("smtpd") "client=mail.example.com[192.0.2.1]:54321", 1, MT_REC_PF_CLIENT,
      "queue_id=" QID "|client=mail.example.com|client_addr=192.0.2.1" },
    { "client with orig_queue_id and orig_client", Q("smtpd") "client=localhost[127.0.0.1], "
      "orig_queue_id=8A1B2C3D4E, orig_client=mail.example.com[192.0.2.1]", 1, MT_REC_PF_CLIENT,
      "queue_id=" QID "|client=localhost|client_addr=127.0.0.1" },
    { "client, long queue id", P("smtpd") "4LmBwG1Jq7z9vxx: client=mail.example.com[192.0.2.1]", 1,
      MT_REC_PF_CLIENT, "queue_id=4LmBwG1Jq7z9vxx|client=mail.example.com|client_addr=192.0.2.1" },
    { "client, submission service", "Jun  3 10:40:57 mail postfix/submission/smtpd[77]: " QID
      ": client=laptop.example.org[198.51.100.7], sasl_method=PLAIN, sasl_username=alice@example.org",
      1, MT_REC_PF_CLIENT,
      "queue_id=" QID "|client=laptop.example.org|client_addr=198.51.100.7|sasl_user=alice@example.org" },
    { "client, multi-instance", "Jun  3 10:40:57 mail postfix-in/smtpd[77]: " QID
      ": client=unknown[192.0.2.3]", 1, MT_REC_PF_CLIENT,
      "queue_id=" QID "|client=unknown|client_addr=192.0.2.3" },
    { "client without [ADDR]", Q("smtpd") "client=mail.example.com", -1, 0, "client line" },
    { "client with unterminated [ADDR", Q("smtpd") "client=mail.example.com[192.0.2.1", -1, 0,
      "client line" },
    { "client with junk after", Q("smtpd") "client=mail.example.com[192.0.2.1] junk", -1, 0,
      "client line" },

    /* ---- pickup */
    { "pickup", Q("pickup") "uid=1000 from=<alice@example.org>", 1, MT_REC_PF_PICKUP,
      "queue_id=" QID "|uid=1000|sender=alice@example.org" },
    { "pickup, null sender", Q("pickup") "uid=0 from=<>", 1, MT_REC_PF_PICKUP,
      "queue_id=" QID "|uid=0|sender=" },
    { "pickup, bare user", Q("pickup") "uid=0 from=<root>", 1, MT_REC_PF_PICKUP,
      "queue_id=" QID "|uid=0|sender=root" },
    { "pickup, bad uid", Q("pickup") "uid=abc from=<a@example.org>", -1, 0, "malformed uid" },
    { "pickup, no from", Q("pickup") "uid=1000 sender=<a@example.org>", -1, 0, "without from=<" },
    { "pickup, unterminated from", Q("pickup") "uid=1000 from=<a@example.org", -1, 0, "unterminated" },

    /* ---- cleanup: message-id */
    { "message-id", Q("cleanup") "message-id=<abc@example.org>", 1, MT_REC_PF_MESSAGE_ID,
      "queue_id=" QID "|message_id=<abc@example.org>" },
    { "message-id without brackets", Q("cleanup") "message-id=abc", 1, MT_REC_PF_MESSAGE_ID,
      "queue_id=" QID "|message_id=abc" },
    { "empty message-id", Q("cleanup") "message-id=", 1, MT_REC_PF_MESSAGE_ID,
      "queue_id=" QID "|message_id=" },
    { "message-id <>", Q("cleanup") "message-id=<>", 1, MT_REC_PF_MESSAGE_ID,
      "queue_id=" QID "|message_id=<>" },
    { "resent-message-id is not tracked", Q("cleanup") "resent-message-id=<r@example.org>", 0, 0, NULL },

    /* ---- cleanup: info: header */
    { "Subject header, local", Q("cleanup") "info: header Subject: Quarterly =?UTF-8?Q?r=C3=A9sultats?= "
      "from local; from=<alice@example.org> to=<bob@example.org>", 1, MT_REC_PF_HEADER,
      "queue_id=" QID "|header_name=Subject|header_value=Quarterly =?UTF-8?Q?r=C3=A9sultats?="
      "|subject=Quarterly r\xC3\xA9sultats|sender=alice@example.org|recipient=bob@example.org" },
    { "Subject header, smtpd", Q("cleanup") "info: header Subject: Hello from mail.example.com[192.0.2.1]; "
      "from=<a@example.net> to=<c@example.org> proto=ESMTP helo=<mail.example.com>", 1, MT_REC_PF_HEADER,
      "queue_id=" QID "|header_name=Subject|header_value=Hello|subject=Hello|sender=a@example.net"
      "|recipient=c@example.org|client=mail.example.com|client_addr=192.0.2.1" },
    { "Subject with \" from \" and ';'", Q("cleanup") "info: header Subject: Re: news from home; more "
      "from mail.example.com[192.0.2.1]; from=<a@example.net> to=<c@example.org> proto=ESMTP "
      "helo=<mail.example.com>", 1, MT_REC_PF_HEADER,
      "queue_id=" QID "|header_name=Subject|header_value=Re: news from home; more"
      "|subject=Re: news from home; more|sender=a@example.net|recipient=c@example.org"
      "|client=mail.example.com|client_addr=192.0.2.1" },
    { "Subject imitating the tail", Q("cleanup") "info: header Subject: x from evil[192.0.2.66]; "
      "from=<ceo@example.org> to=<y@example.org> from mail.example.com[192.0.2.1]; from=<a@example.net> "
      "to=<c@example.org> proto=ESMTP helo=<h.example.net>", 1, MT_REC_PF_HEADER,
      "queue_id=" QID "|header_name=Subject|header_value=x from evil[192.0.2.66]; from=<ceo@example.org> "
      "to=<y@example.org>|subject=x from evil[192.0.2.66]; from=<ceo@example.org> to=<y@example.org>"
      "|sender=a@example.net|recipient=c@example.org|client=mail.example.com|client_addr=192.0.2.1" },
    { "Subject whose first \" from \" fits too: the last one counts", Q("cleanup") "info: header "
      "Subject: a from b; from=<x@example.org>: c from mail.example.com[192.0.2.1]; "
      "from=<a@example.net> to=<c@example.org> proto=ESMTP helo=<h.example.net>", 1, MT_REC_PF_HEADER,
      "queue_id=" QID "|header_name=Subject|header_value=a from b; from=<x@example.org>: c"
      "|subject=a from b; from=<x@example.org>: c|sender=a@example.net|recipient=c@example.org"
      "|client=mail.example.com|client_addr=192.0.2.1" },
    { "Subject whose last \" from \" does not fit: the one before", Q("cleanup") "info: header "
      "Subject: a from mail.example.com[192.0.2.1]; from=<a@example.net> to=<c@example.org> "
      "proto=ESMTP helo=<h.example.net>: d from e;f", 1, MT_REC_PF_HEADER,
      "queue_id=" QID "|header_name=Subject|header_value=a|subject=a|sender=a@example.net"
      "|recipient=c@example.org|client=mail.example.com|client_addr=192.0.2.1|text=d from e;f" },
    { "Subject, null sender, IPv6 client", Q("cleanup") "info: header Subject: Undelivered Mail "
      "from unknown[2001:db8::5]; from=<> to=<c@example.org> proto=ESMTP helo=<[2001:db8::5]>", 1,
      MT_REC_PF_HEADER, "queue_id=" QID "|header_name=Subject|header_value=Undelivered Mail"
      "|subject=Undelivered Mail|sender=|recipient=c@example.org|client=unknown|client_addr=2001:db8::5" },
    { "folded Subject", Q("cleanup") "info: header Subject: =?UTF-8?Q?r=C3=A9sultats?=? "
      "=?UTF-8?Q?_du_trimestre?= from local; from=<a@example.org> to=<c@example.org>", 1,
      MT_REC_PF_HEADER, "queue_id=" QID "|header_name=Subject"
      "|header_value==?UTF-8?Q?r=C3=A9sultats?=? =?UTF-8?Q?_du_trimestre?="
      "|subject=r\xC3\xA9sultats du trimestre|sender=a@example.org|recipient=c@example.org" },
    { "lower-case subject header", Q("cleanup") "info: header subject: hi from local; from=<a@example.org> "
      "to=<c@example.org>", 1, MT_REC_PF_HEADER, "queue_id=" QID "|header_name=subject|header_value=hi"
      "|subject=hi|sender=a@example.org|recipient=c@example.org" },
    { "empty Subject", Q("cleanup") "info: header Subject:  from local; from=<a@example.org> "
      "to=<c@example.org>", 1, MT_REC_PF_HEADER, "queue_id=" QID "|header_name=Subject|header_value="
      "|subject=|sender=a@example.org|recipient=c@example.org" },
    { "To header", Q("cleanup") "info: header To: Bob <bob@example.org> from local; "
      "from=<alice@example.org> to=<bob@example.org>", 1, MT_REC_PF_HEADER,
      "queue_id=" QID "|header_name=To|header_value=Bob <bob@example.org>|sender=alice@example.org"
      "|recipient=bob@example.org" },
    { "Cc header with INFO text", Q("cleanup") "info: header Cc: carol@example.org from "
      "mail.example.com[192.0.2.1]; from=<a@example.net> to=<c@example.org> proto=ESMTP "
      "helo=<mail.example.com>: logged by header_checks", 1, MT_REC_PF_HEADER,
      "queue_id=" QID "|header_name=Cc|header_value=carol@example.org|sender=a@example.net"
      "|recipient=c@example.org|client=mail.example.com|client_addr=192.0.2.1"
      "|text=logged by header_checks" },
    { "info body is not tracked", Q("cleanup") "info: body hello from local; from=<a@example.org> "
      "to=<c@example.org>", 0, 0, NULL },
    { "header line without from CLIENT;", Q("cleanup") "info: header Subject: hello", -1, 0,
      "header line without from" },
    { "header line without a header name", Q("cleanup") "info: header NoColonHere from local; "
      "from=<a@example.org> to=<c@example.org>", -1, 0, "malformed header" },
    { "header_checks WARN is a warning", Q("cleanup") "warning: header Subject: x from local; "
      "from=<a@example.org> to=<c@example.org>", 0, 0, NULL },

    /* ---- qmgr */
    { "queued", Q("qmgr") "from=<alice@example.org>, size=1234, nrcpt=3 (queue active)", 1,
      MT_REC_PF_QUEUED, "queue_id=" QID "|sender=alice@example.org|size=1234|nrcpt=3" },
    { "queued, null sender", Q("qmgr") "from=<>, size=2345, nrcpt=1 (queue active)", 1,
      MT_REC_PF_QUEUED, "queue_id=" QID "|sender=|size=2345|nrcpt=1" },
    { "queued, large size", Q("qmgr") "from=<a@example.org>, size=52428800000, nrcpt=1000 (queue active)",
      1, MT_REC_PF_QUEUED, "queue_id=" QID "|sender=a@example.org|size=52428800000|nrcpt=1000" },
    { "removed", Q("qmgr") "removed", 1, MT_REC_PF_REMOVED, "queue_id=" QID },
    { "expired", Q("qmgr") "from=<alice@example.org>, status=expired, returned to sender", 1,
      MT_REC_PF_EXPIRED, "queue_id=" QID "|sender=alice@example.org|status=expired" },
    { "force-expired", Q("qmgr") "from=<alice@example.org>, status=force-expired, returned to sender", 1,
      MT_REC_PF_EXPIRED, "queue_id=" QID "|sender=alice@example.org|status=force-expired" },
    { "qmgr, size not a number", Q("qmgr") "from=<a@example.org>, size=abc, nrcpt=1 (queue active)", -1, 0,
      "qmgr line with a malformed size" },
    { "qmgr, size with junk", Q("qmgr") "from=<a@example.org>, size=12x, nrcpt=1 (queue active)", -1, 0,
      "malformed size" },
    { "qmgr, size too large", Q("qmgr") "from=<a@example.org>, size=99999999999999999999, nrcpt=1", -1, 0,
      "malformed size" },
    { "qmgr, nrcpt missing", Q("qmgr") "from=<a@example.org>, size=12 (queue active)", -1, 0,
      "malformed nrcpt" },
    { "qmgr, nrcpt not a number", Q("qmgr") "from=<a@example.org>, size=12, nrcpt=x (queue active)", -1, 0,
      "malformed nrcpt" },
    { "qmgr, unterminated from", Q("qmgr") "from=<a@example.org, size=12, nrcpt=1", -1, 0,
      "unterminated from=<" },
    { "qmgr, from without brackets", Q("qmgr") "from=a@example.org, size=12, nrcpt=1", -1, 0,
      "without from=<" },
    { "qmgr, neither size nor status", Q("qmgr") "from=<a@example.org>, whatever", -1, 0,
      "neither size= nor status=" },
    { "qmgr, unknown status", Q("qmgr") "from=<a@example.org>, status=gone, returned to sender", -1, 0,
      "unknown status" },
    { "qmgr chatter", Q("qmgr") "skipped, still being delivered", 0, 0, NULL },
    { "removed with more", Q("qmgr") "removed twice", 0, 0, NULL },

    /* ---- delivery agents */
    { "smtp sent, queued as", Q("smtp") "to=<bob@example.org>, relay=mail.example.net[192.0.2.10]:25, "
      "delay=1.2, delays=0.1/0.01/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 7B3C12E0F1)",
      1, MT_REC_PF_DELIVERY, "queue_id=" QID "|recipient=bob@example.org"
      "|relay=mail.example.net[192.0.2.10]:25|delay=1.2|dsn=2.0.0|status=sent"
      "|text=250 2.0.0 Ok: queued as 7B3C12E0F1|next_queue_id=7B3C12E0F1" },
    { "relay/smtp, long next queue id", "Jun  3 10:40:57 mail postfix/relay/smtp[9]: " QID
      ": to=<bob@example.net>, relay=mx.example.net[192.0.2.10]:25, delay=0.3, "
      "delays=0.1/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4LmBwG1Jq7z9vxx)",
      1, MT_REC_PF_DELIVERY, "queue_id=" QID "|recipient=bob@example.net"
      "|relay=mx.example.net[192.0.2.10]:25|delay=0.3|dsn=2.0.0|status=sent"
      "|text=250 2.0.0 Ok: queued as 4LmBwG1Jq7z9vxx|next_queue_id=4LmBwG1Jq7z9vxx" },
    { "content filter reply", Q("smtp") "to=<bob@example.org>, relay=127.0.0.1[127.0.0.1]:10024, "
      "delay=2.1, delays=0.1/0/0/2, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): "
      "250 2.0.0 Ok: queued as 3B2C1E0F1A)", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=bob@example.org|relay=127.0.0.1[127.0.0.1]:10024|delay=2.1|dsn=2.0.0"
      "|status=sent|text=250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 3B2C1E0F1A"
      "|next_queue_id=3B2C1E0F1A" },
    { "local with orig_to", Q("local") "to=<bob@example.org>, orig_to=<alias@example.org>, relay=local, "
      "delay=0.02, delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)", 1,
      MT_REC_PF_DELIVERY, "queue_id=" QID "|recipient=bob@example.org|orig_recipient=alias@example.org"
      "|relay=local|delay=0.02|dsn=2.0.0|status=sent|text=delivered to mailbox" },
    { "local forwarded as", Q("local") "to=<carol@example.net>, orig_to=<alias@example.org>, relay=local, "
      "delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (forwarded as 9C8D7E6F5A)", 1,
      MT_REC_PF_DELIVERY, "queue_id=" QID "|recipient=carol@example.net|orig_recipient=alias@example.org"
      "|relay=local|delay=0.1|dsn=2.0.0|status=sent|text=forwarded as 9C8D7E6F5A"
      "|next_queue_id=9C8D7E6F5A" },
    { "local unknown user", Q("local") "to=<nobody@example.org>, relay=local, delay=0.01, "
      "delays=0/0/0/0, dsn=5.1.1, status=bounced (unknown user: \"nobody\")", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=nobody@example.org|relay=local|delay=0.01|dsn=5.1.1|status=bounced"
      "|text=unknown user: \"nobody\"" },
    { "error agent, relay=none", Q("error") "to=<x@example.net>, relay=none, delay=0.1, "
      "delays=0.1/0/0/0, dsn=5.0.0, status=bounced (example.net: Host not found)", 1,
      MT_REC_PF_DELIVERY, "queue_id=" QID "|recipient=x@example.net|relay=none|delay=0.1|dsn=5.0.0"
      "|status=bounced|text=example.net: Host not found" },
    { "lmtp to Dovecot", Q("lmtp") "to=<bob@example.org>, relay=mail.example.org[private/dovecot-lmtp], "
      "delay=0.05, delays=0.01/0.01/0.01/0.02, dsn=2.0.0, status=sent (250 2.0.0 <bob@example.org> "
      "Wq0VH3sFQ2V3XwAAq3Gd2A Saved)", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=bob@example.org|relay=mail.example.org[private/dovecot-lmtp]"
      "|delay=0.05|dsn=2.0.0|status=sent|text=250 2.0.0 <bob@example.org> Wq0VH3sFQ2V3XwAAq3Gd2A Saved" },
    { "lmtp, relay=private/dovecot-lmtp", Q("lmtp") "to=<bob@example.org>, relay=private/dovecot-lmtp, "
      "delay=0.05, delays=0.01/0.01/0.01/0.02, dsn=2.0.0, status=sent (250 2.0.0 <bob@example.org> "
      "Wq0VH3sFQ2V3XwAAq3Gd2A:R2 Saved)", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=bob@example.org|relay=private/dovecot-lmtp"
      "|delay=0.05|dsn=2.0.0|status=sent|text=250 2.0.0 <bob@example.org> Wq0VH3sFQ2V3XwAAq3Gd2A:R2 Saved" },
    { "conn_use between relay and delay", Q("smtp") "to=<b@example.net>, relay=mx.example.net[192.0.2.20]:25, "
      "conn_use=2, delay=0.5, delays=0/0/0.2/0.3, dsn=2.0.0, status=sent (250 OK)", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=b@example.net|relay=mx.example.net[192.0.2.20]:25|delay=0.5|dsn=2.0.0"
      "|status=sent|text=250 OK" },
    { "deferred", Q("smtp") "to=<b@example.net>, relay=none, delay=30, delays=0.1/0/30/0, dsn=4.4.1, "
      "status=deferred (connect to mx.example.net[192.0.2.20]:25: Connection refused)", 1,
      MT_REC_PF_DELIVERY, "queue_id=" QID "|recipient=b@example.net|relay=none|delay=30|dsn=4.4.1"
      "|status=deferred|text=connect to mx.example.net[192.0.2.20]:25: Connection refused" },
    { "bounced, parentheses in the text", Q("smtp") "to=<x@example.net>, relay=mx.example.net[192.0.2.20]:25, "
      "delay=0.4, delays=0.1/0/0.2/0.1, dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.20] said: "
      "550 5.1.1 <x@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
      1, MT_REC_PF_DELIVERY, "queue_id=" QID "|recipient=x@example.net"
      "|relay=mx.example.net[192.0.2.20]:25|delay=0.4|dsn=5.1.1|status=bounced"
      "|text=host mx.example.net[192.0.2.20] said: 550 5.1.1 <x@example.net>: Recipient address "
      "rejected: User unknown (in reply to RCPT TO command)" },
    { "expired without text", Q("smtp") "to=<b@example.net>, relay=none, delay=432000, "
      "delays=432000/0/0/0, dsn=4.4.1, status=expired", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=b@example.net|relay=none|delay=432000|dsn=4.4.1|status=expired" },
    { "verify deliverable", Q("smtp") "to=<b@example.net>, relay=mx.example.net[192.0.2.20]:25, "
      "delay=0.2, delays=0/0/0.1/0.1, dsn=2.1.5, status=deliverable (250 2.1.5 Ok)", 1,
      MT_REC_PF_DELIVERY, "queue_id=" QID "|recipient=b@example.net|relay=mx.example.net[192.0.2.20]:25"
      "|delay=0.2|dsn=2.1.5|status=deliverable|text=250 2.1.5 Ok" },
    { "verify undeliverable", Q("smtp") "to=<x@example.net>, relay=mx.example.net[192.0.2.20]:25, "
      "delay=0.2, delays=0/0/0.1/0.1, dsn=5.1.1, status=undeliverable (host mx.example.net[192.0.2.20] "
      "said: 550 5.1.1 no such user (in reply to RCPT TO command))", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=x@example.net|relay=mx.example.net[192.0.2.20]:25|delay=0.2|dsn=5.1.1"
      "|status=undeliverable|text=host mx.example.net[192.0.2.20] said: 550 5.1.1 no such user "
      "(in reply to RCPT TO command)" },
    { "pipe", Q("pipe") "to=<bob@example.org>, relay=dovecot, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, "
      "status=sent (delivered via dovecot service)", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=bob@example.org|relay=dovecot|delay=0.1|dsn=2.0.0|status=sent"
      "|text=delivered via dovecot service" },
    { "virtual", Q("virtual") "to=<bob@example.org>, relay=virtual, delay=0.1, delays=0/0/0/0.1, "
      "dsn=2.0.0, status=sent (delivered to maildir)", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=bob@example.org|relay=virtual|delay=0.1|dsn=2.0.0|status=sent"
      "|text=delivered to maildir" },
    { "discard", Q("discard") "to=<b@example.org>, relay=none, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, "
      "status=sent (example.org)", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=b@example.org|relay=none|delay=0.1|dsn=2.0.0|status=sent|text=example.org" },
    { "quoted local part with a comma", Q("smtp") "to=<\"john, smith\"@example.net>, relay=none, delay=1, "
      "delays=1/0/0/0, dsn=4.4.1, status=deferred (x)", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=\"john, smith\"@example.net|relay=none|delay=1|dsn=4.4.1"
      "|status=deferred|text=x" },
    { "truncated status text", Q("smtp") "to=<b@example.net>, relay=none, delay=30, delays=0/0/30/0, "
      "dsn=4.4.1, status=deferred (connect to mx.exa", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=b@example.net|relay=none|delay=30|dsn=4.4.1|status=deferred"
      "|text=connect to mx.exa" },
    { "'queued as' needs a queue id", Q("smtp") "to=<b@example.net>, relay=x[192.0.2.1]:25, delay=1, "
      "delays=1/0/0/0, dsn=2.0.0, status=sent (250 queued as <abc@def>)", 1, MT_REC_PF_DELIVERY,
      "queue_id=" QID "|recipient=b@example.net|relay=x[192.0.2.1]:25|delay=1|dsn=2.0.0|status=sent"
      "|text=250 queued as <abc@def>" },
    { "delivery, unterminated to", Q("smtp") "to=<bob@example.org", -1, 0, "unterminated to=<" },
    { "delivery without to=<...>", Q("smtp") "to=bob@example.org, relay=local, status=sent (x)", -1, 0,
      "delivery line without to=<...>" },
    { "delivery without status", Q("smtp") "to=<bob@example.org>, relay=local, delay=0.1", -1, 0,
      "without status=" },
    { "delivery, unterminated orig_to", Q("local") "to=<bob@example.org>, orig_to=<alias@example.org, "
      "relay=local, status=sent (x)", -1, 0, "orig_to" },
    { "delivery, empty status", Q("smtp") "to=<bob@example.org>, relay=local, status= (x)", -1, 0,
      "empty status" },
    { "delivery, malformed field", Q("smtp") "to=<bob@example.org>, Relay=local, status=sent (x)", -1, 0,
      "malformed field" },

    /* ---- bounce */
    { "non-delivery notification", Q("bounce") "sender non-delivery notification: 6A2B3C4D5E", 1,
      MT_REC_PF_NOTIFY, "queue_id=" QID "|notify_kind=non-delivery|next_queue_id=6A2B3C4D5E" },
    { "delay notification", Q("bounce") "sender delay notification: 6A2B3C4D5E", 1, MT_REC_PF_NOTIFY,
      "queue_id=" QID "|notify_kind=delay|next_queue_id=6A2B3C4D5E" },
    { "delivery status notification", Q("bounce") "sender delivery status notification: 6A2B3C4D5E", 1,
      MT_REC_PF_NOTIFY, "queue_id=" QID "|notify_kind=delivery status|next_queue_id=6A2B3C4D5E" },
    { "postmaster non-delivery notification", Q("bounce") "postmaster non-delivery notification: "
      "4LmBwG1Jq7z9vxx", 1, MT_REC_PF_NOTIFY,
      "queue_id=" QID "|notify_kind=postmaster non-delivery|next_queue_id=4LmBwG1Jq7z9vxx" },
    { "notification without a queue id", Q("bounce") "sender non-delivery notification: ", -1, 0,
      "without a queue id" },
    { "notification with a bad queue id", Q("bounce") "sender non-delivery notification: 6A2B-3C4D5E",
      -1, 0, "without a queue id" },
    { "notification without a kind", Q("bounce") "sender notification: 6A2B3C4D5E", -1, 0, "without a kind" },
    { "notification with an empty kind", Q("bounce") "sender  notification: 6A2B3C4D5E", -1, 0,
      "without a kind" },

    /* ---- rejects */
    { "NOQUEUE RCPT reject", P("smtpd") "NOQUEUE: reject: RCPT from unknown[192.0.2.5]: 550 5.1.1 "
      "<nobody@example.org>: Recipient address rejected: User unknown in local recipient table; "
      "from=<x@example.net> to=<nobody@example.org> proto=ESMTP helo=<client.example.net>", 1,
      MT_REC_PF_REJECT, "client=unknown|client_addr=192.0.2.5|dsn=5.1.1|text=550 5.1.1 <nobody@example.org>: "
      "Recipient address rejected: User unknown in local recipient table|sender=x@example.net"
      "|recipient=nobody@example.org" },
    { "NOQUEUE MAIL reject, no to=", P("smtpd") "NOQUEUE: reject: MAIL from unknown[192.0.2.5]: 554 5.7.1 "
      "<spam@example.net>: Sender address rejected: Access denied; from=<spam@example.net> proto=ESMTP "
      "helo=<x>", 1, MT_REC_PF_REJECT, "client=unknown|client_addr=192.0.2.5|dsn=5.7.1"
      "|text=554 5.7.1 <spam@example.net>: Sender address rejected: Access denied|sender=spam@example.net" },
    { "NOQUEUE CONNECT reject", P("smtpd") "NOQUEUE: reject: CONNECT from unknown[192.0.2.5]: 554 5.7.1 "
      "<unknown[192.0.2.5]>: Client host rejected: Access denied; proto=SMTP", 1, MT_REC_PF_REJECT,
      "client=unknown|client_addr=192.0.2.5|dsn=5.7.1|text=554 5.7.1 <unknown[192.0.2.5]>: Client host "
      "rejected: Access denied" },
    { "NOQUEUE reject, ';' in the reply", P("smtpd") "NOQUEUE: reject: RCPT from x.example.net[192.0.2.5]: "
      "450 4.7.1 Service unavailable; Client host [192.0.2.5] blocked using zen.example; "
      "from=<a@example.net> to=<c@example.org> proto=ESMTP helo=<x>", 1, MT_REC_PF_REJECT,
      "client=x.example.net|client_addr=192.0.2.5|dsn=4.7.1|text=450 4.7.1 Service unavailable; Client "
      "host [192.0.2.5] blocked using zen.example|sender=a@example.net|recipient=c@example.org" },
    { "NOQUEUE reject without enhanced code", P("smtpd") "NOQUEUE: reject: RCPT from x[192.0.2.5]: "
      "550 Rejected; from=<> to=<c@example.org> proto=SMTP helo=<x>", 1, MT_REC_PF_REJECT,
      "client=x|client_addr=192.0.2.5|text=550 Rejected|sender=|recipient=c@example.org" },
    { "postscreen NOQUEUE reject", P("postscreen") "NOQUEUE: reject: RCPT from [192.0.2.5]:41234: "
      "550 5.7.1 Service unavailable; client [192.0.2.5] blocked using zen.example; "
      "from=<a@example.net>, to=<b@example.org>, proto=ESMTP, helo=<x.example.net>", 1, MT_REC_PF_REJECT,
      "client_addr=192.0.2.5|dsn=5.7.1|text=550 5.7.1 Service unavailable; client [192.0.2.5] blocked "
      "using zen.example|sender=a@example.net|recipient=b@example.org" },
    { "queue-id RCPT reject", Q("smtpd") "reject: RCPT from x.example.net[192.0.2.5]: 550 5.1.1 "
      "<b@example.org>: Recipient address rejected: User unknown; from=<a@example.net> "
      "to=<b@example.org> proto=ESMTP helo=<x>", 1, MT_REC_PF_REJECT,
      "queue_id=" QID "|client=x.example.net|client_addr=192.0.2.5|dsn=5.1.1|text=550 5.1.1 "
      "<b@example.org>: Recipient address rejected: User unknown|sender=a@example.net"
      "|recipient=b@example.org" },
    { "milter-reject", Q("cleanup") "milter-reject: END-OF-MESSAGE from x.example.net[192.0.2.5]: "
      "5.7.1 Spam message rejected; from=<a@example.net> to=<c@example.org> proto=ESMTP helo=<x>", 1,
      MT_REC_PF_REJECT, "queue_id=" QID "|client=x.example.net|client_addr=192.0.2.5|dsn=5.7.1"
      "|text=5.7.1 Spam message rejected|sender=a@example.net|recipient=c@example.org" },
    { "NOQUEUE milter-reject", P("smtpd") "NOQUEUE: milter-reject: RCPT from x[192.0.2.5]: 451 4.7.1 "
      "Try again later; from=<a@example.net> to=<c@example.org> proto=ESMTP helo=<x>", 1,
      MT_REC_PF_REJECT, "client=x|client_addr=192.0.2.5|dsn=4.7.1|text=451 4.7.1 Try again later"
      "|sender=a@example.net|recipient=c@example.org" },
    { "header_checks reject", Q("cleanup") "reject: header Subject: Win money from x.example.net[192.0.2.5]; "
      "from=<a@example.net> to=<c@example.org> proto=ESMTP helo=<x>: 5.7.1 message content rejected", 1,
      MT_REC_PF_REJECT, "queue_id=" QID "|header_name=Subject|header_value=Win money|client=x.example.net"
      "|client_addr=192.0.2.5|sender=a@example.net|recipient=c@example.org|dsn=5.7.1"
      "|text=5.7.1 message content rejected" },
    { "body_checks reject", Q("cleanup") "reject: body buy now from local; from=<a@example.org> "
      "to=<c@example.org>: 5.7.1 no", 1, MT_REC_PF_REJECT,
      "queue_id=" QID "|sender=a@example.org|recipient=c@example.org|dsn=5.7.1|text=5.7.1 no" },
    { "reject_warning is a warning", P("smtpd") "NOQUEUE: reject_warning: RCPT from x[192.0.2.5]: 450 "
      "4.7.1 y; from=<a@example.net> to=<c@example.org> proto=ESMTP helo=<x>", 0, 0, NULL },
    { "NOQUEUE discard", P("smtpd") "NOQUEUE: discard: RCPT from x[192.0.2.5]: <c@example.org>: "
      "Recipient address triggers DISCARD action; from=<a@example.net> to=<c@example.org> proto=ESMTP "
      "helo=<x>", 0, 0, NULL },
    { "reject with a malformed client", P("smtpd") "NOQUEUE: reject: RCPT from unknown: 550 x", -1, 0,
      "malformed client" },
    { "reject without STAGE from", P("smtpd") "NOQUEUE: reject: something odd", -1, 0,
      "without STAGE from" },
    { "reject with an unterminated from", P("smtpd") "NOQUEUE: reject: RCPT from x[192.0.2.5]: 550 5.1.1 "
      "no; to=<c@example.org> proto=ESMTP from=<a@example.net", -1, 0, "unterminated" },

    /* ---- not of interest */
    { "connect", P("smtpd") "connect from mail.example.com[192.0.2.1]", 0, 0, NULL },
    { "disconnect", P("smtpd") "disconnect from mail.example.com[192.0.2.1] ehlo=1 mail=1 rcpt=1 data=1 "
      "quit=1 commands=5", 0, 0, NULL },
    { "lost connection", P("smtpd") "lost connection after EHLO from unknown[192.0.2.9]", 0, 0, NULL },
    { "timeout", P("smtpd") "timeout after DATA from unknown[192.0.2.9]", 0, 0, NULL },
    { "warning", P("smtpd") "warning: hostname x.example does not resolve to address 192.0.2.9", 0, 0, NULL },
    { "warning with a queue-id-like word", P("smtpd") "warning: 4F1A22C0D1E: bad", 0, 0, NULL },
    { "fatal", P("smtpd") "fatal: no SASL authentication mechanisms", 0, 0, NULL },
    { "TLS to", P("smtp") "Trusted TLS connection established to mx.example.net[192.0.2.20]:25: "
      "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", 0, 0, NULL },
    { "Anonymous TLS", P("smtpd") "Anonymous TLS connection established from x[192.0.2.1]: TLSv1.3 "
      "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", 0, 0, NULL },
    { "anvil statistics", P("anvil") "statistics: max connection rate 1/60s for (smtp:192.0.2.1) at "
      "Jun  3 10:40:57", 0, 0, NULL },
    { "postscreen CONNECT", P("postscreen") "CONNECT from [192.0.2.5]:41234 to [192.0.2.1]:25", 0, 0, NULL },
    { "postscreen PASS", P("postscreen") "PASS OLD [192.0.2.5]:41234", 0, 0, NULL },
    { "postscreen DNSBL", P("postscreen") "DNSBL rank 3 for [192.0.2.5]:41234", 0, 0, NULL },
    { "master start", P("master") "daemon started -- version 3.7.11, configuration /etc/postfix", 0, 0, NULL },
    { "master stop", P("master") "terminating on signal 15", 0, 0, NULL },
    { "smtp remote said", Q("smtp") "host mx.example.net[192.0.2.20] said: 450 4.2.0 greylisted (in reply "
      "to RCPT TO command)", 0, 0, NULL },
    { "smtp lost connection with queue id", Q("smtp") "lost connection with mx.example.net[192.0.2.20] "
      "while sending RCPT TO", 0, 0, NULL },
    { "queue id too short", P("qmgr") "4F1A: removed", 0, 0, NULL },
    { "queue id too long", P("qmgr") "4F1A22C0D1E4F1A22C0D1: removed", 0, 0, NULL },
    { "queue id without space", P("qmgr") QID ":removed", 0, 0, NULL },
    { "NOQUEUE something else", P("smtpd") "NOQUEUE: client=x[192.0.2.1]", 0, 0, NULL },
    { "sender without notification", Q("bounce") "sender something", 0, 0, NULL },
    { "dovecot line", "Jun  3 10:40:57 mail dovecot: lmtp(bob@example.org)<1><s>: Info: msgid=<a@b>: "
      "saved mail to INBOX", 0, 0, NULL },
    { "other program with a queue id", "Jun  3 10:40:57 mail opendkim[5]: " QID ": DKIM-Signature field "
      "added", 0, 0, NULL },
    { "host named postfix, other program", "Jun  3 10:40:57 postfix1 sshd[5]: Accepted publickey", 0, 0, NULL },
    { "program 'postfix' without a daemon", "Jun  3 10:40:57 mail postfix[5]: " QID ": removed", 0, 0, NULL },
    { "unknown daemon", "Jun  3 10:40:57 mail postfix/foo[5]: " QID ": removed", 0, 0, NULL },
    { "daemon without postfix prefix", "Jun  3 10:40:57 mail mta/qmgr[5]: " QID ": removed", 0, 0, NULL },
    { "postfix as the last component only", "Jun  3 10:40:57 mail amavis/postfix[5]: " QID ": removed",
      0, 0, NULL },
    { "no syslog prefix, not postfix", "garbage line", 0, 0, NULL },
    { "no syslog prefix, mentions postfix", "this is about postfix, really", 0, 0, NULL },

    /* ---- prefixes that do not parse */
    { "bad prefix on a postfix line", "garbage postfix/smtpd[1]: " QID ": removed", -1, 0, "syslog prefix" },
    { "postfix line without a tag end", "Jun  3 10:40:57 mail postfix/smtpd[1]", -1, 0, "syslog prefix" },
};

/* ---- strict field comparison */

typedef struct { const char *name; size_t off; } field_t;
#define F(x) { #x, offsetof(mt_logrec_t, x) }
static const field_t fields[] = {
    F(queue_id), F(next_queue_id), F(message_id), F(sender), F(recipient), F(orig_recipient),
    F(relay), F(delay), F(dsn), F(status), F(text), F(notify_kind), F(client), F(client_addr),
    F(sasl_user), F(uid), F(header_name), F(header_value), F(subject), F(user), F(session),
    F(mailbox), F(source_mailbox), F(flags), F(msgtrk_event_id),
};

static const char *want_field(apr_pool_t *p, const char *want, const char *name)
{
    size_t n = strlen(name);
    const char *s = want;

    while (s && *s) {
        const char *e = strchr(s, '|');
        if (!e)
            e = s + strlen(s);
        if ((size_t)(e - s) > n && strncmp(s, name, n) == 0 && s[n] == '=')
            return apr_pstrmemdup(p, s + n + 1, (apr_size_t)(e - s - n - 1));
        s = *e ? e + 1 : e;
    }
    return NULL;
}

/* One test per record: every field as wanted; the differences as diagnostics. */
static void check_fields(apr_pool_t *p, const case_t *c, const mt_logrec_t *rec)
{
    size_t i;
    const char *v, *diag = "";
    long long want;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *got = *(const char *const *)((const char *)rec + fields[i].off);
        const char *w = want_field(p, c->want, fields[i].name);
        if ((got == NULL) != (w == NULL) || (got && strcmp(got, w) != 0))
            diag = apr_psprintf(p, "%s#   %s: got '%s', expected '%s'\n", diag, fields[i].name,
                                got ? got : "(null)", w ? w : "(null)");
    }
    v = want_field(p, c->want, "size");
    want = v ? atoll(v) : -1;
    if (rec->size != want)
        diag = apr_psprintf(p, "%s#   size: got %lld, expected %lld\n", diag, (long long)rec->size, want);
    v = want_field(p, c->want, "nrcpt");
    want = v ? atoll(v) : -1;
    if (rec->nrcpt != want)
        diag = apr_psprintf(p, "%s#   nrcpt: got %d, expected %lld\n", diag, rec->nrcpt, want);
    if (!ok(!*diag, "%s: fields", c->name))
        fputs(diag, stdout);
}

static void run(apr_pool_t *p, const mt_parse_opts_t *opts, const case_t *c)
{
    mt_logrec_t rec;
    const char *why = NULL;
    int rc;

    mt_logrec_clear(&rec);
    rec.line = 42;
    rc = mt_parse_postfix_line(opts, c->line, p, &rec, &why);
    is_int(rc, c->rc, "%s: returns %d", c->name, c->rc);
    if (rc != c->rc) {
        printf("#   why: %s\n", why ? why : "(null)");
        return;
    }
    if (c->rc == -1) {
        like(why, c->want, "%s: reason", c->name);
        return;
    }
    if (c->rc == 0)
        return;
    is_int(rec.kind, c->kind, "%s: kind", c->name);
    is_int(rec.format, MT_FORMAT_POSTFIX, "%s: format", c->name);
    is_int(rec.line, 42, "%s: line left alone", c->name);
    check_fields(p, c, &rec);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    mt_parse_opts_t opts;
    size_t i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    setenv("TZ", "UTC", 1);
    tzset();
    memset(&opts, 0, sizeof(opts));
    opts.clock.year = 2026;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run(p, &opts, &cases[i]);

    /* ---- the common fields */
    {
        mt_logrec_t rec;
        const char *why;
        int rc;

        mt_logrec_clear(&rec);
        rc = mt_parse_postfix_line(&opts, Q("qmgr") "removed", p, &rec, &why);
        is_int(rc, 1, "common: parses");
        is_str(mt_time_format_xs(p, rec.time), "2026-06-03T10:40:57Z", "common: time");
        is_str(rec.host, "mail", "common: host");
        is_str(rec.program, "postfix/qmgr", "common: program");
        is_int(rec.pid, 1234, "common: pid");

        opts.host = "mx1.example.org";
        rc = mt_parse_postfix_line(&opts, Q("qmgr") "removed", p, &rec, &why);
        is_str(rec.host, "mx1.example.org", "--host replaces the syslog host");
        rc = mt_parse_postfix_line(&opts, "Jun  3 10:40:57 postfix/qmgr[5]: " QID ": removed", p, &rec, &why);
        is_int(rc, 1, "host-less line parses");
        is_str(rec.host, "mx1.example.org", "--host names a host-less line's server");
        opts.host = "";
        rc = mt_parse_postfix_line(&opts, Q("qmgr") "removed", p, &rec, &why);
        is_str(rec.host, "mail", "empty --host is no --host");
        opts.host = NULL;
        rc = mt_parse_postfix_line(&opts, "Jun  3 10:40:57 postfix/qmgr[5]: " QID ": removed", p, &rec, &why);
        is_str(rec.host, NULL, "host-less line without --host: NULL");

        rc = mt_parse_postfix_line(&opts, "<22>1 2026-06-03T10:40:57.123456+02:00 mx2 postfix/smtp 4321 - - "
                                   QID ": to=<b@example.net>, relay=none, delay=1, delays=1/0/0/0, "
                                   "dsn=4.4.1, status=deferred (x)", p, &rec, &why);
        is_int(rc, 1, "RFC 5424 line parses");
        is_int(rec.kind, MT_REC_PF_DELIVERY, "RFC 5424: kind");
        is_str(mt_time_format_xs(p, rec.time), "2026-06-03T08:40:57.123456Z", "RFC 5424: time");
        is_str(rec.host, "mx2", "RFC 5424: host");
        is_str(rec.program, "postfix/smtp", "RFC 5424: program");
        is_int(rec.pid, 4321, "RFC 5424: pid");
        is_str(rec.recipient, "b@example.net", "RFC 5424: recipient");

        rc = mt_parse_postfix_line(&opts, "2026-06-03T10:40:57.5+00:00 mx3 postfix/submission/smtpd[8]: "
                                   QID ": client=a[192.0.2.1]", p, &rec, &why);
        is_int(rc, 1, "RFC 3339 line parses");
        is_str(mt_time_format_xs(p, rec.time), "2026-06-03T10:40:57.5Z", "RFC 3339: time");
        is_str(rec.program, "postfix/submission/smtpd", "RFC 3339: program");

        rc = mt_parse_postfix_line(&opts, "Jun 03 10:40:57.000250 mx4 postfix/qmgr[9]: " QID ": removed",
                                   p, &rec, &why);
        is_str(mt_time_format_xs(p, rec.time), "2026-06-03T10:40:57.00025Z", "maillog_file: time");

        rc = mt_parse_postfix_line(NULL, Q("qmgr") "removed", p, &rec, &why);
        is_int(rc, 1, "NULL opts: parses with the current year");

        /* a record that held something else comes back clean */
        rec.mailbox = "stale";
        rec.sieve = 7;
        rc = mt_parse_postfix_line(&opts, Q("qmgr") "removed", p, &rec, &why);
        ok(rc == 1 && rec.mailbox == NULL && rec.sieve == 0, "the record is cleared first");
        rc = mt_parse_postfix_line(&opts, Q("smtp") "host x said: y", p, &rec, &why);
        ok(rc == 0 && rec.kind == MT_REC_NONE, "an uninteresting line leaves kind NONE");
    }

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
