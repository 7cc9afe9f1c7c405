/* test_query.c: Find, Get, report ids, visibility and the CLI's find/report output (TAP) */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "tmpdir.h"
#include "fixture.h"
#include "mt_ingest.h"
#include "mt_query.h"
#include "mt_store.h"
#include "mt_time.h"
#include "msgtrack_index_query.h"

/* ------------------------------------------------------------------ fixture */

/* 2026-11-20 hh:mm:ss UTC. */
static apr_time_t T(int h, int m, int s)
{
    return fx_td(20, h, m, s);
}

#define EV(m, t, fact, rcpt) fx_event(fx, m, t, fact, rcpt, NULL, NULL, 0)
/* An event with a root address, and with more of its fields. */
#define EVR(m, t, fact, rcpt, root) fx_event(fx, m, t, fact, rcpt, root, NULL, 0)
#define EVX(m, t, fact, rcpt, root, ...) do { \
        fx_evx_t x_ = { .relay = __VA_ARGS__ }; \
        fx_event(fx, m, t, fact, rcpt, root, &x_, 0); } while (0)

#define MID_O "<draft-77@example.org>"
#define MID_A "<0b6e3c1a-5f2d@example.org>"
#define MID_B "<1f6a9d2e-83c4@mail.example.net>"
#define MID_C "<5a2f7c91-0e4b@example.org>"
#define MID_D "<e7d41b08-6c2a@example.org>"
#define MID_E "<93c0f5e6-2b7d@example.org>"
#define MID_NDR "<20261120094502.6D4B10C30F4@mx1.example.org>"
#define MID_F "<20261120100412.48213.invoice@billing.example.com>"
#define MID_G "<g-2026@example.org>"
#define MID_H1 "<20261120093001.1E9F83C4A25@mx1.example.org>"
#define MID_H2 "<lunch-1@example.org>"
#define MID_X "<Q4budget.1234@corp.example.org>"
#define MID_N "<nasty@example.org>"
#define MID_J "<87h6k2x9qz.fsf@example.com>"
#define MID_Y "<3f9c2a1e7b4d@MBX01.corp.example.org>"
#define MID_Z "<20261119101500.77AB12@smtp.example.com>"
#define LMTP "imap.example.org[192.0.2.20]:24"
#define MX_NET "mx.example.net[198.51.100.7]:25"
#define MX2 "mx2.example.org[192.0.2.12]:25"
#define NASTY_SUBJECT "tab\there \"quoted\" back\\slash \x01 bad\xff\xfe caf\xc3\xa9"

typedef struct {
    mt_msg_t *O, *A, *A_bob, *A_carol, *A_dave, *B, *B_bob, *B_erin, *C, *C_sent, *D, *E, *NDR,
             *NDR_alice, *F, *F2, *G, *G2, *H1, *H2, *I, *X, *X2, *N, *J, *J_bob, *J_erin,
             *Y0, *Y, *Y2, *Z;
} stories_t;

static void build(fx_t *fx, stories_t *s)
{
    /* (o) an older message, ten days before */
    s->O = fx_hop(fx, MT_HOP_POSTFIX, fx_td(10, 8, 0, 0), "mx1", "1A2B3C4D5E", MID_O,
                  "alice@example.org", "Q3 draft", "ws-alice.example.org[192.0.2.101]",
                  MT_MSG_STARTED | MT_MSG_SUBMITTED, "bob@example.org", NULL);
    EV(s->O, fx_td(10, 8, 0, 0), MT_FACT_SUBMIT, NULL);
    EVX(s->O, fx_td(10, 8, 0, 1), MT_FACT_DELIVER, "bob@example.org", NULL, LMTP);

    /* (a) alice submits to bob (To), carol (Cc), dave (Bcc: To/Cc logged) */
    s->A = fx_hop(fx, MT_HOP_POSTFIX, T(9, 15, 3), "mx1", "4C1D52B1F3A", MID_A,
                  "alice@example.org", "Q3 results, final figures",
                  "ws-alice.example.org[192.0.2.101]",
                  MT_MSG_STARTED | MT_MSG_SUBMITTED | MT_MSG_REMOVED,
                  "bob@example.org carol@example.org dave@example.org",
                  "bob@example.org carol@example.org");
    EV(s->A, T(9, 15, 3), MT_FACT_SUBMIT, NULL);
    EVX(s->A, T(9, 15, 3), MT_FACT_DELIVER, "bob@example.org", NULL, LMTP);
    EVX(s->A, T(9, 15, 3), MT_FACT_DELIVER, "carol@example.org", NULL, LMTP);
    EVX(s->A, T(9, 15, 3), MT_FACT_DELIVER, "dave@example.org", NULL, LMTP);
    s->A_bob = fx_hop(fx, MT_HOP_MAILBOX, T(9, 15, 3), "imap", "bob@example.org", MID_A,
                      "alice@example.org", NULL, NULL, MT_MSG_READ, "bob@example.org", NULL);
    EVX(s->A_bob, T(9, 15, 3), MT_FACT_DELIVER, NULL, NULL, NULL, NULL, NULL, NULL, "INBOX");
    EV(s->A_bob, T(9, 20, 0), MT_FACT_READ, NULL);
    s->A_carol = fx_hop(fx, MT_HOP_MAILBOX, T(9, 15, 3), "imap", "carol@example.org", MID_A,
                        "alice@example.org", NULL, NULL, MT_MSG_NOTREAD, "carol@example.org",
                        NULL);
    EVX(s->A_carol, T(9, 15, 3), MT_FACT_DELIVER, NULL, NULL, NULL, NULL, NULL, NULL, "INBOX");
    EV(s->A_carol, T(10, 0, 0), MT_FACT_NOTREAD, NULL);
    /* a system user name: matched by local part */
    s->A_dave = fx_hop(fx, MT_HOP_MAILBOX, T(9, 15, 3), "imap", "dave", MID_A,
                       "alice@example.org", NULL, NULL, MT_MSG_NOTREAD, NULL, NULL);
    EVX(s->A_dave, T(9, 15, 3), MT_FACT_DELIVER, NULL, NULL, NULL, NULL, NULL, NULL, "INBOX");
    EV(s->A_dave, T(10, 5, 0), MT_FACT_NOTREAD, NULL);

    /* (b) paula over SMTP to team@ (alias: bob, erin); erin's Sieve files it */
    s->B = fx_hop(fx, MT_HOP_POSTFIX, T(9, 18, 11), "mx1", "7E2A91C40D2", MID_B,
                  "paula@example.net", "Caf\xc3\xa9 menu for Friday\xe2\x80\x99s offsite",
                  "mail.example.net[198.51.100.40]", MT_MSG_STARTED,
                  "bob@example.org=team@example.org erin@example.org=team@example.org", NULL);
    EV(s->B, T(9, 18, 11), MT_FACT_RECEIVE, NULL);
    EVX(s->B, T(9, 18, 11), MT_FACT_DELIVER, "bob@example.org", NULL, LMTP);
    EVX(s->B, T(9, 18, 11), MT_FACT_DELIVER, "erin@example.org", NULL, LMTP);
    s->B_bob = fx_hop(fx, MT_HOP_MAILBOX, T(9, 18, 11), "imap", "bob@example.org", MID_B,
                      "paula@example.net", NULL, NULL, 0, NULL, NULL);
    EVX(s->B_bob, T(9, 18, 11), MT_FACT_DELIVER, NULL, NULL, NULL, NULL, NULL, NULL, "INBOX");
    EV(s->B_bob, T(9, 30, 0), MT_FACT_READ, NULL);
    s->B_erin = fx_hop(fx, MT_HOP_MAILBOX, T(9, 18, 11), "imap", "erin@example.org", MID_B,
                       "paula@example.net", NULL, NULL, 0, NULL, NULL);
    EVX(s->B_erin, T(9, 18, 11), MT_FACT_FILED, NULL, NULL, NULL, NULL, NULL, NULL, "Lists");
    EV(s->B_erin, T(11, 0, 0), MT_FACT_READ, NULL);

    /* (c) alice to lee@example.net, relayed out */
    s->C = fx_hop(fx, MT_HOP_POSTFIX, T(9, 21, 30), "mx1", "9B3F05C2A71", MID_C,
                  "alice@example.org", "Contract", "ws-alice.example.org[192.0.2.101]",
                  MT_MSG_STARTED | MT_MSG_SUBMITTED, "lee@example.net", NULL);
    EV(s->C, T(9, 21, 30), MT_FACT_SUBMIT, NULL);
    EVX(s->C, T(9, 21, 31), MT_FACT_RELAY, "lee@example.net", NULL, MX_NET, "4Fk2Zr3q1Jz9tXY");

    /* alice's own copy in Sent is no delivery */
    s->C_sent = fx_hop(fx, MT_HOP_MAILBOX, T(9, 21, 30), "imap", "alice", MID_C,
                       "alice@example.org", NULL, NULL, 0, NULL, NULL);
    EVX(s->C_sent, T(9, 21, 30), MT_FACT_DELIVER, NULL, NULL, NULL, NULL, NULL, NULL, "Sent");

    /* (d) alice to frank@example.com: deferred twice, then sent */
    s->D = fx_hop(fx, MT_HOP_POSTFIX, T(9, 30, 0), "mx1", "2A8E66C1B08", MID_D,
                  "alice@example.org", "Quote request", "ws-alice.example.org[192.0.2.101]",
                  MT_MSG_STARTED | MT_MSG_SUBMITTED, "frank@example.com", NULL);
    EV(s->D, T(9, 30, 0), MT_FACT_SUBMIT, NULL);
    EVX(s->D, T(9, 30, 1), MT_FACT_DEFER, "frank@example.com", NULL, NULL, NULL, "4.4.1",
        "connect to mx.example.com[203.0.113.25]:25: Connection refused");
    EVX(s->D, T(9, 40, 0), MT_FACT_DEFER, "frank@example.com", NULL, NULL, NULL, "4.7.1",
        "451 4.7.1 greylisted");
    EVX(s->D, T(9, 50, 0), MT_FACT_RELAY, "frank@example.com", NULL,
        "mx.example.com[203.0.113.25]:25");

    /* (h1) cron mail refused by LMTP; its queue id comes back in (h2) */
    s->H1 = fx_hop(fx, MT_HOP_POSTFIX, T(9, 30, 1), "mx1", "1E9F83C4A25", MID_H1,
                   "cron@mx1.example.org", "Cron <root@mx1> backup", NULL,
                   MT_MSG_STARTED | MT_MSG_SUBMITTED | MT_MSG_REMOVED, "reports@example.org",
                   NULL);
    s->H1->auth_user = "uid=1000";
    mt_store_msg_put(fx->t, s->H1);
    EV(s->H1, T(9, 30, 1), MT_FACT_SUBMIT, NULL);
    EVX(s->H1, T(9, 30, 2), MT_FACT_FAIL, "reports@example.org", NULL, LMTP, NULL, "5.1.1",
        "550 5.1.1 <reports@example.org> User doesn't exist");

    /* (e) alice to nobody@example.net: 550 5.1.1; the NDR goes back to alice */
    s->E = fx_hop(fx, MT_HOP_POSTFIX, T(9, 45, 0), "mx1", "5F0C37C2E19", MID_E,
                  "alice@example.org", "Hello", "ws-alice.example.org[192.0.2.101]",
                  MT_MSG_STARTED | MT_MSG_SUBMITTED, "nobody@example.net", NULL);
    EV(s->E, T(9, 45, 0), MT_FACT_SUBMIT, NULL);
    EVX(s->E, T(9, 45, 2), MT_FACT_FAIL, "nobody@example.net", NULL, MX_NET, NULL, "5.1.1",
        "host mx.example.net[198.51.100.7] said: 550 5.1.1 User unknown");
    s->NDR = fx_hop(fx, MT_HOP_POSTFIX, T(9, 45, 2), "mx1", "6D4B10C30F4", MID_NDR, "",
                    "Undelivered Mail Returned to Sender", NULL,
                    MT_MSG_STARTED | MT_MSG_NOTIFICATION, "alice@example.org", NULL);
    s->NDR->ref_message_id = MID_E;
    s->NDR->ndr_of = s->E->key;
    s->NDR->notify_kind = "non-delivery";
    mt_store_msg_put(fx->t, s->NDR);
    EV(s->NDR, T(9, 45, 2), MT_FACT_SUBMIT, NULL);
    EVX(s->NDR, T(9, 45, 3), MT_FACT_DELIVER, "alice@example.org", NULL, LMTP);
    s->NDR_alice = fx_hop(fx, MT_HOP_MAILBOX, T(9, 45, 3), "imap", "alice@example.org", MID_NDR,
                          "", NULL, NULL, MT_MSG_READ, NULL, NULL);
    EVX(s->NDR_alice, T(9, 45, 3), MT_FACT_DELIVER, NULL, NULL, NULL, NULL, NULL, NULL, "INBOX");
    EV(s->NDR_alice, T(9, 50, 0), MT_FACT_READ, NULL);

    /* (f) billing to ivan: mx1 relays to mx2 ("queued as"), LMTP there */
    s->F = fx_hop(fx, MT_HOP_POSTFIX, T(10, 4, 12), "mx1", "8A61E2C3B57", MID_F,
                  "billing@example.com", "Invoice 2026-11", "out.billing.example.com[203.0.113.50]",
                  MT_MSG_STARTED, "ivan@example.org", NULL);
    EV(s->F, T(10, 4, 12), MT_FACT_RECEIVE, NULL);
    EVX(s->F, T(10, 4, 13), MT_FACT_RELAY, "ivan@example.org", NULL, MX2, "3B7D4A02E6");
    s->F2 = fx_hop(fx, MT_HOP_POSTFIX, T(10, 4, 13), "mx2", "3B7D4A02E6", MID_F,
                   "billing@example.com", "Invoice 2026-11", "mx1.example.org[192.0.2.10]",
                   MT_MSG_STARTED, "ivan@example.org", NULL);
    EV(s->F2, T(10, 4, 13), MT_FACT_RECEIVE, NULL);
    EVX(s->F2, T(10, 4, 14), MT_FACT_DELIVER, "ivan@example.org", NULL, LMTP);

    /* (g) ops to kim (via mx2, no "queued as": by host and time, mx2's
     * clock 30 s behind) and to lee outside at the same time; only mx2
     * logs the Subject header */
    s->G = fx_hop(fx, MT_HOP_POSTFIX, T(10, 59, 0), "mx1", "4D5E6F7A8B", MID_G,
                  "ops@example.org", NULL, "ops.example.org[192.0.2.30]",
                  MT_MSG_STARTED, "kim@example.org lee@example.net", NULL);
    EV(s->G, T(10, 59, 0), MT_FACT_RECEIVE, NULL);
    EVX(s->G, T(11, 0, 0), MT_FACT_RELAY, "kim@example.org", NULL, MX2);
    EVX(s->G, T(11, 0, 0), MT_FACT_RELAY, "lee@example.net", NULL, MX_NET);
    s->G2 = fx_hop(fx, MT_HOP_POSTFIX, T(10, 59, 30), "mx2", "5E6F7A8B9C", MID_G,
                   "ops@example.org", "Maintenance window", "mx1.example.org[192.0.2.10]",
                   MT_MSG_STARTED, "kim@example.org", NULL);
    EV(s->G2, T(10, 59, 30), MT_FACT_RECEIVE, NULL);
    EVX(s->G2, T(11, 0, 1), MT_FACT_DELIVER, "kim@example.org", NULL, LMTP);

    /* (j) oscar to bob and team@ (bob, erin): bob twice on the hop, directly
     * and through the alias, stored once by Dovecot */
    s->J = fx_hop(fx, MT_HOP_POSTFIX, T(11, 5, 41), "mx1", "E0F29C4B7A3", MID_J,
                  "oscar@example.com", "Team lunch on Friday", "mail.example.com[203.0.113.7]",
                  MT_MSG_STARTED, "bob@example.org erin@example.org=team@example.org "
                  "bob@example.org=team@example.org", NULL);
    EV(s->J, T(11, 5, 41), MT_FACT_RECEIVE, NULL);
    EVX(s->J, T(11, 5, 41), MT_FACT_DELIVER, "bob@example.org", NULL, LMTP);
    EVR(s->J, T(11, 5, 41), MT_FACT_EXPAND, "erin@example.org", "team@example.org");
    EVX(s->J, T(11, 5, 41), MT_FACT_DELIVER, "erin@example.org", "team@example.org", LMTP);
    EVR(s->J, T(11, 5, 41), MT_FACT_EXPAND, "bob@example.org", "team@example.org");
    EVX(s->J, T(11, 5, 41), MT_FACT_DELIVER, "bob@example.org", "team@example.org", LMTP);
    s->J_bob = fx_hop(fx, MT_HOP_MAILBOX, T(11, 5, 41), "imap", "bob@example.org", MID_J,
                      "oscar@example.com", NULL, NULL, 0, NULL, NULL);
    EVX(s->J_bob, T(11, 5, 41), MT_FACT_DELIVER, NULL, NULL, NULL, NULL, NULL, NULL, "INBOX");
    s->J_erin = fx_hop(fx, MT_HOP_MAILBOX, T(11, 5, 41), "imap", "erin@example.org", MID_J,
                       "oscar@example.com", NULL, NULL, 0, NULL, NULL);
    EVX(s->J_erin, T(11, 5, 41), MT_FACT_FILED, NULL, NULL, NULL, NULL, NULL, NULL, "Lists");

    /* (h2) the queue id of (h1) reused for another message */
    s->H2 = fx_hop(fx, MT_HOP_POSTFIX, T(12, 0, 0), "mx1", "1E9F83C4A25", MID_H2,
                   "alice@example.org", "Lunch?", "ws-alice.example.org[192.0.2.101]",
                   MT_MSG_STARTED | MT_MSG_SUBMITTED, "bob@example.org", NULL);
    EV(s->H2, T(12, 0, 0), MT_FACT_SUBMIT, NULL);
    EVX(s->H2, T(12, 0, 1), MT_FACT_DELIVER, "bob@example.org", NULL, LMTP);

    /* (i) a message without a Message-ID */
    s->I = fx_hop(fx, MT_HOP_POSTFIX, T(13, 0, 0), "mx1", "0AB1C2D3E4", NULL, "noid@example.org",
                  NULL, "legacy.example.org[192.0.2.99]", MT_MSG_STARTED, "x@example.org", NULL);
    EV(s->I, T(13, 0, 0), MT_FACT_RECEIVE, NULL);
    EVX(s->I, T(13, 0, 1), MT_FACT_DELIVER, "x@example.org", NULL, LMTP);

    /* (x) Exchange: alice@corp submits to sales@ (expanded to sam, sue),
     * boss (Bcc) and carl.old@ (resolved to carl); MBX01 sends to MBX02,
     * which delivers; sue forwards to ext@example.net and keeps a copy. */
    s->X = fx_hop(fx, MT_HOP_MSGTRK, T(14, 0, 0), "mbx01", "12345", MID_X,
                  "alice@corp.example.org", "Q4 budget", NULL, MT_MSG_STARTED | MT_MSG_SUBMITTED,
                  "sam@corp.example.org=sales@corp.example.org/T "
                  "sue@corp.example.org=sales@corp.example.org/T boss@corp.example.org/B "
                  "carl@corp.example.org=carl.old@corp.example.org/T", NULL);
    EV(s->X, T(14, 0, 0), MT_FACT_SUBMIT, NULL);
    EVR(s->X, T(14, 0, 1), MT_FACT_RESOLVE, "carl@corp.example.org",
        "carl.old@corp.example.org");
    EVR(s->X, T(14, 0, 1), MT_FACT_EXPAND, "sam@corp.example.org", "sales@corp.example.org");
    EVR(s->X, T(14, 0, 1), MT_FACT_EXPAND, "sue@corp.example.org", "sales@corp.example.org");
    EVX(s->X, T(14, 0, 2), MT_FACT_RELAY, "sam@corp.example.org", NULL, "MBX02");
    EVX(s->X, T(14, 0, 2), MT_FACT_RELAY, "sue@corp.example.org", NULL, "MBX02");
    EVX(s->X, T(14, 0, 2), MT_FACT_RELAY, "boss@corp.example.org", NULL, "MBX02");
    EVX(s->X, T(14, 0, 2), MT_FACT_RELAY, "carl@corp.example.org", NULL, "MBX02");
    s->X2 = fx_hop(fx, MT_HOP_MSGTRK, T(14, 0, 2), "mbx02", "67890", MID_X,
                   "alice@corp.example.org", "Q4 budget", "mbx01", MT_MSG_STARTED,
                   "sam@corp.example.org=sales@corp.example.org "
                   "sue@corp.example.org=sales@corp.example.org boss@corp.example.org "
                   "carl@corp.example.org=carl.old@corp.example.org "
                   "ext@example.net=sue@corp.example.org", NULL);
    EV(s->X2, T(14, 0, 2), MT_FACT_RECEIVE, NULL);
    EV(s->X2, T(14, 0, 3), MT_FACT_DELIVER, "sam@corp.example.org");
    EV(s->X2, T(14, 0, 3), MT_FACT_DELIVER, "boss@corp.example.org");
    EV(s->X2, T(14, 0, 3), MT_FACT_DELIVER, "carl@corp.example.org");
    EV(s->X2, T(14, 0, 3), MT_FACT_DELIVER, "sue@corp.example.org");
    fx_event(fx, s->X2, T(14, 0, 3), MT_FACT_REDIRECT, "ext@example.net", "sue@corp.example.org",
        NULL, 0);
    EVX(s->X2, T(14, 0, 4), MT_FACT_RELAY_EXTERNAL, "ext@example.net", NULL,
        "mail.example.net");

    /* (y) Exchange as the sample logs have it: the mailbox server's SUBMIT
     * names no recipients; the next hop on the same server does (To, Cc,
     * Bcc from recipient-status) and also lists the resolved and expanded
     * addresses, one of them twice. */
    s->Y0 = fx_hop(fx, MT_HOP_MSGTRK, T(16, 0, 0), "mbx01", "msgid:" MID_Y, MID_Y,
                   "alice@corp.example.org", "Q4 budget, \"final\" v2", NULL,
                   MT_MSG_STARTED | MT_MSG_SUBMITTED, NULL, NULL);
    EV(s->Y0, T(16, 0, 0), MT_FACT_SUBMIT, NULL);
    s->Y = fx_hop(fx, MT_HOP_MSGTRK, T(16, 0, 1), "mbx01", "24051", MID_Y,
                  "alice@corp.example.org", "Q4 budget, \"final\" v2", NULL,
                  MT_MSG_STARTED | MT_MSG_SUBMITTED,
                  "pat.jones@corp.example.org/T fin@corp.example.org/C lee@example.net/B "
                  "pat@corp.example.org=pat.jones@corp.example.org "
                  "cara@corp.example.org=fin@corp.example.org pat@corp.example.org", NULL);
    EV(s->Y, T(16, 0, 1), MT_FACT_SUBMIT, NULL);
    EVR(s->Y, T(16, 0, 1), MT_FACT_RESOLVE, "pat@corp.example.org",
        "pat.jones@corp.example.org");
    fx_event(fx, s->Y, T(16, 0, 1), MT_FACT_EXPAND, "cara@corp.example.org", "fin@corp.example.org",
        NULL, 0);
    EV(s->Y, T(16, 0, 2), MT_FACT_DELIVER, "pat@corp.example.org");
    EVX(s->Y, T(16, 0, 2), MT_FACT_RELAY, "cara@corp.example.org", NULL,
        "MBX02.corp.example.org");
    EVX(s->Y, T(16, 0, 3), MT_FACT_RELAY, "lee@example.net", NULL, "mx1.example.net");
    s->Y2 = fx_hop(fx, MT_HOP_MSGTRK, T(16, 0, 2), "mbx02", "8812", MID_Y,
                   "alice@corp.example.org", "Q4 budget, \"final\" v2", "mbx01", MT_MSG_STARTED,
                   "cara@corp.example.org", NULL);
    EV(s->Y2, T(16, 0, 2), MT_FACT_RECEIVE, NULL);
    EV(s->Y2, T(16, 0, 3), MT_FACT_DELIVER, "cara@corp.example.org");

    /* (z) Exchange 2010 over SMTP to a group and to olga, also a member: the
     * group's members are listed again without their root address on the
     * delivery rows */
    s->Z = fx_hop(fx, MT_HOP_MSGTRK, T(17, 0, 0), "ex10", "4711", MID_Z, "pat@example.com",
                  "Q1 planning workshop", "smtp.example.com", MT_MSG_STARTED,
                  "lead@example.org olga@example.org erin@example.org=lead@example.org "
                  "olga@example.org=lead@example.org erin@example.org olga@example.org", NULL);
    EV(s->Z, T(17, 0, 0), MT_FACT_RECEIVE, NULL);
    EVR(s->Z, T(17, 0, 0), MT_FACT_EXPAND, "erin@example.org", "lead@example.org");
    EVR(s->Z, T(17, 0, 0), MT_FACT_EXPAND, "olga@example.org", "lead@example.org");
    EV(s->Z, T(17, 0, 1), MT_FACT_DELIVER, "erin@example.org");
    EVX(s->Z, T(17, 0, 1), MT_FACT_FAIL, "olga@example.org", NULL, NULL, NULL, "5.2.2",
        "554 5.2.2 mailbox full");

    /* (n) hostile strings for the output */
    s->N = fx_hop(fx, MT_HOP_POSTFIX, T(15, 0, 0), "mx1", "9F8E7D6C5B", MID_N, "evil@example.org",
                  NASTY_SUBJECT, "x\"y[192.0.2.66]", MT_MSG_STARTED,
                  "jos\xc3\xa9@example.org", NULL);
    EV(s->N, T(15, 0, 0), MT_FACT_RECEIVE, NULL);
    EVX(s->N, T(15, 0, 1), MT_FACT_FAIL, "jos\xc3\xa9@example.org", NULL, NULL, NULL, "5.7.1",
        "bad\x02" "bytes\xc0\xaf");

    /* event counts, last times */
    {
        int i;
        for (i = 0; i < fx->hops->nelts; i++) {
            const char *err = mt_store_msg_put(fx->t, APR_ARRAY_IDX(fx->hops, i, mt_msg_t *));
            if (err) {
                printf("# hop: %s\n", err);
                fx->failed++;
            }
        }
    }
}

/* ------------------------------------------------------------------ helpers */

static const mt_viewer_t PRIV = { NULL, 1, 1 };
static const mt_viewer_t PRIV_NORT = { NULL, 1, 0 };
static const mt_viewer_t ALICE = { "alice@example.org", 0, 0 };
static const mt_viewer_t ALICE_RT = { "Alice@Example.org", 0, 1 };
static const mt_viewer_t BOB = { "bob@example.org", 0, 0 };
static const mt_viewer_t BOB_RT = { "bob@example.org", 0, 1 };
static const mt_viewer_t DAVE = { "dave@example.org", 0, 0 };
static const mt_viewer_t MALLORY = { "mallory@example.org", 0, 1 };
static const mt_viewer_t NOBODY = { NULL, 0, 1 };
static const mt_viewer_t CORP = { "alice@corp.example.org", 0, 0 };
static const mt_viewer_t BOSS = { "boss@corp.example.org", 0, 0 };

/* Label of a message by its Message-ID. */
static const char *label(const char *msgid)
{
    static const struct { const char *id, *label; } labels[] = {
        { MID_O, "O" }, { MID_A, "A" }, { MID_B, "B" }, { MID_C, "C" }, { MID_D, "D" },
        { MID_E, "E" }, { MID_NDR, "NDR" }, { MID_F, "F" }, { MID_G, "G" },
        { MID_H1, "H1" }, { MID_H2, "H2" }, { MID_X, "X" }, { MID_N, "N" }, { MID_J, "J" },
        { MID_Y, "Y" }, { MID_Z, "Z" }, { NULL, NULL } };
    int i;
    if (!msgid)
        return "I";
    for (i = 0; labels[i].id; i++)
        if (strcmp(labels[i].id, msgid) == 0)
            return labels[i].label;
    return "?";
}

static const char *local(apr_pool_t *p, const char *a)
{
    const char *at = a ? strchr(a, '@') : NULL;
    return at ? apr_pstrmemdup(p, a, (apr_size_t)(at - a)) : a ? a : "(null)";
}

/* "rcpt Description/Status@server [data|data] root=r bcc q; ..." */
static const char *events_str(apr_pool_t *p, const mt_report_t *r)
{
    const char *s = "";
    int i, j;
    for (i = 0; i < r->events->nelts; i++) {
        const mt_report_event_t *e = &APR_ARRAY_IDX(r->events, i, mt_report_event_t);
        const char *one = apr_psprintf(p, "%s %s/%s@%s", local(p, e->recipient), e->description,
                                       e->delivery_status, e->server ? e->server : "(null)");
        if (e->data->nelts) {
            one = apr_pstrcat(p, one, " [", NULL);
            for (j = 0; j < e->data->nelts; j++)
                one = apr_pstrcat(p, one, j ? "|" : "", APR_ARRAY_IDX(e->data, j, const char *),
                                  NULL);
            one = apr_pstrcat(p, one, "]", NULL);
        }
        if (e->root)
            one = apr_pstrcat(p, one, " root=", local(p, e->root), NULL);
        if (e->bcc)
            one = apr_pstrcat(p, one, " bcc", NULL);
        if (e->hidden)
            one = apr_pstrcat(p, one, " hidden", NULL);
        if (e->queue_event)
            one = apr_pstrcat(p, one, " q", NULL);
        s = *s ? apr_pstrcat(p, s, "; ", one, NULL) : one;
    }
    return s;
}

static const char *found_str(apr_pool_t *p, const apr_array_header_t *res)
{
    const char *s = "";
    int i;
    for (i = 0; i < res->nelts; i++) {
        const char *l = label(APR_ARRAY_IDX(res, i, mt_found_t).message_id);
        s = *s ? apr_pstrcat(p, s, " ", l, NULL) : l;
    }
    return s;
}

static mt_msg_t *story(stories_t *s, const char *name)
{
    static const struct { const char *name; size_t off; } map[] = {
#define M(x) { #x, offsetof(stories_t, x) }
        M(O), M(A), M(A_bob), M(B), M(C), M(D), M(E), M(NDR), M(F), M(F2), M(G), M(G2), M(H1),
        M(H2), M(I), M(X), M(X2), M(N), M(J), M(Y0), M(Y), M(Y2), M(Z), { NULL, 0 }
#undef M
    };
    int i;
    for (i = 0; map[i].name; i++)
        if (strcmp(map[i].name, name) == 0)
            return *(mt_msg_t **)((char *)s + map[i].off);
    return NULL;
}

/* ------------------------------------------------------------------ report ids */

static void test_report_ids(apr_pool_t *p)
{
    mt_msg_t m;
    mt_report_id_t id;
    const char *s;
    static const char *const bad[] = {
        "", "Message-Id=<x@y>", "Internal-Id=", "Internal-Id=abc", "Internal-Id=12x",
        "Internal-Id=-1", "Internal-Id=1,Server", "Internal-Id=1,=x", "Internal-Id=1,Sender=a+2",
        "Internal-Id=1,Sender=a+ZZ", "Internal-Id=1,Sender=a+00b", "Internal-Id=1,Internal-Id=2",
        "Internal-Id=99999999999999999999", "Internal-Id=1,", ",Internal-Id=1",
        "<0b6e3c1a@example.org>", NULL };
    int i;

    memset(&m, 0, sizeof(m));
    m.key = 42;
    m.message_id = "<a=b,c+d@x>";
    m.host = "mx1";
    m.sender = "we,ird=+@ex.org";
    s = mt_query_report_id(p, &m);
    is_str(s, "Message-Id=<a+3Db+2Cc+2Bd@x>,Server=mx1,Internal-Id=42,"
              "Sender=we+2Cird+3D+2B@ex.org,Domain=ex.org", "report id escapes = , +");
    ok(mt_query_parse_report_id(p, s, &id) == 0, "escaped id parses");
    is_str(id.message_id, "<a=b,c+d@x>", "message id round-trips");
    is_str(id.server, "mx1", "server round-trips");
    is_str(id.sender, "we,ird=+@ex.org", "sender round-trips");
    is_str(id.domain, "ex.org", "domain round-trips");
    is_int(id.key, 42, "key round-trips");

    {
        /* Every byte but NUL: escaped exactly when xtext or ',' says so. */
        char all[256], *want = apr_palloc(p, 3 * 256 + 1), *w = want;
        int c;
        for (c = 1; c < 256; c++) {
            all[c - 1] = (char)c;
            if (c <= 0x20 || c >= 0x7F || c == '+' || c == '=' || c == ',')
                w += apr_snprintf(w, 4, "+%02X", c);
            else
                *w++ = (char)c;
        }
        all[255] = '\0';
        *w = '\0';
        m.message_id = all;
        m.host = "";
        m.sender = "";
        s = mt_query_report_id(p, &m);
        is_str(s, apr_pstrcat(p, "Message-Id=", want, ",Server=,Internal-Id=42,Sender=,Domain=",
                              NULL), "report id: every byte escaped by the rule, or kept");
        ok(mt_query_parse_report_id(p, s, &id) == 0 && id.message_id
           && strcmp(id.message_id, all) == 0, "report id: every byte round-trips");
    }

    m.message_id = NULL;
    m.sender = "a\tb\x7f@x.org";
    m.key = APR_UINT64_C(18446744073709551615);
    m.host = NULL;
    s = mt_query_report_id(p, &m);
    is_str(s, "Message-Id=,Server=,Internal-Id=18446744073709551615,Sender=a+09b+7F@x.org,"
              "Domain=x.org", "control characters escaped, empty message id and server");
    ok(mt_query_parse_report_id(p, s, &id) == 0 && id.message_id == NULL
       && id.key == APR_UINT64_C(18446744073709551615) && strcmp(id.sender, "a\tb\x7f@x.org") == 0,
       "control characters and the largest key round-trip; empty Message-Id is NULL");

    m.sender = "";
    s = mt_query_report_id(p, &m);
    like(s, ",Sender=,Domain=", "null sender: empty Sender and Domain");

    {
        /* Each: printable ASCII out, the same fields back. Kept bytes go
         * four at a time: runs of every length around escaped ones; quotes,
         * spaces, non-ASCII, even invalid UTF-8. */
        static const struct {
            const char *message_id, *sender, *host;
            apr_uint64_t key;
            const char *want, *name;
        } ids[] = {
            { "=a=ab=abc=abcd=abcde=abcdefgh=abcdefghi", "abcd", "abcdefgh", 0,
              "Message-Id=+3Da+3Dab+3Dabc+3Dabcd+3Dabcde+3Dabcdefgh+3Dabcdefghi,"
              "Server=abcdefgh,Internal-Id=0,Sender=abcd,Domain=",
              "runs of every length, key 0" },
            { "<\"j. doe\"+x=1,2@caf\xc3\xa9.example>", "Z\xc3\xbc\xff@b\xc3\xbc" "cher.example",
              "mx 1", 7,
              "Message-Id=<\"j.+20doe\"+2Bx+3D1+2C2@caf+C3+A9.example>,Server=mx+201,"
              "Internal-Id=7,Sender=Z+C3+BC+FF@b+C3+BCcher.example,Domain=b+C3+BCcher.example",
              "quotes kept, space and non-ASCII bytes escaped" },
        };
        size_t k;
        for (k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
            m.message_id = ids[k].message_id;
            m.sender = ids[k].sender;
            m.host = ids[k].host;
            m.key = ids[k].key;
            s = mt_query_report_id(p, &m);
            is_str(s, ids[k].want, "report id: %s", ids[k].name);
            for (i = 0; s[i]; i++)
                if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7E)
                    break;
            ok(s[i] == '\0', "report id: %s: printable ASCII only", ids[k].name);
            ok(mt_query_parse_report_id(p, s, &id) == 0
               && strcmp(id.message_id, m.message_id) == 0 && strcmp(id.sender, m.sender) == 0
               && strcmp(id.server, m.host) == 0 && id.key == m.key,
               "report id: %s: round-trips", ids[k].name);
        }
    }
    ok(mt_query_parse_report_id(p, "Message-Id=<caf\xc3\xa9@x>,Internal-Id=3", &id) == 0
       && strcmp(id.message_id, "<caf\xc3\xa9@x>") == 0,
       "report id: unescaped UTF-8 from a lenient client accepted as is");

    ok(mt_query_parse_report_id(p, "Internal-Id=7,Foo=bar,X-Other=+2C", &id) == 0 && id.key == 7
       && !id.server && !id.sender && !id.message_id, "unknown keys ignored, absent fields NULL");
    ok(mt_query_parse_report_id(p, "internal-id=7,server=MX1", &id) == 0 && id.key == 7
       && strcmp(id.server, "MX1") == 0, "field names are case-insensitive");
    ok(mt_query_parse_report_id(p, "Sender=x+2c@y,Internal-Id=9", &id) == 0
       && strcmp(id.sender, "x,@y") == 0, "lower-case hex escapes accepted");
    for (i = 0; bad[i]; i++)
        ok(mt_query_parse_report_id(p, bad[i], &id) == -1, "malformed id rejected: '%s'", bad[i]);
    ok(mt_query_parse_report_id(p, NULL, &id) == -1, "NULL id rejected");
}

/* ------------------------------------------------------------------ find */

typedef struct {
    const char *name;
    const mt_viewer_t *who;
    const char *sender, *recipient, *subject, *message_id;
    apr_time_t start, end;
    int max;
    const char *want;          /* labels in order, or an error code */
    int truncated;
} find_case_t;

static void test_find(apr_pool_t *p, mt_txn_t *t)
{
    const find_case_t cases[] = {
        { "everything, no bounds", &PRIV, NULL, NULL, NULL, NULL, 0, 0, 0,
          "O A B C D H1 E NDR F G J H2 I X N Y Z", 0 },
        { "by sender", &PRIV, "alice@example.org", NULL, NULL, NULL, 0, 0, 0,
          "O A C D E H2", 0 },
        { "by sender, any case", &PRIV, "ALICE@Example.ORG", NULL, NULL, NULL, 0, 0, 0,
          "O A C D E H2", 0 },
        { "null sender is no filter", &PRIV, "", "alice@example.org", NULL, NULL, 0, 0, 0,
          "NDR", 0 },
        { "by recipient", &PRIV, NULL, "bob@example.org", NULL, NULL, 0, 0, 0, "O A B J H2", 0 },
        { "by alias (root address)", &PRIV, NULL, "Team@example.org", NULL, NULL, 0, 0, 0, "B J",
          0 },
        { "by an outside recipient", &PRIV, NULL, "lee@example.net", NULL, NULL, 0, 0, 0,
          "C G Y", 0 },
        { "by an Exchange-resolved recipient", &PRIV, NULL, "pat@corp.example.org", NULL, NULL,
          0, 0, 0, "Y", 0 },
        { "by relayed recipient (two hops, one result)", &PRIV, NULL, "ivan@example.org", NULL,
          NULL, 0, 0, 0, "F", 0 },
        { "by recipient only on a later hop", &PRIV, NULL, "ext@example.net", NULL, NULL, 0, 0, 0,
          "X", 0 },
        { "by Exchange group", &PRIV, NULL, "sales@corp.example.org", NULL, NULL, 0, 0, 0, "X", 0 },
        { "NDR by its recipient", &PRIV, NULL, "alice@example.org", NULL, NULL, 0, 0, 0, "NDR", 0 },
        { "by queue-reused recipient", &PRIV, NULL, "reports@example.org", NULL, NULL, 0, 0, 0,
          "H1", 0 },
        { "subject substring, case-insensitive", &PRIV, NULL, NULL, "q3", NULL, 0, 0, 0, "O A", 0 },
        { "subject in UTF-8 text", &PRIV, NULL, NULL, "MENU FOR", NULL, 0, 0, 0, "B", 0 },
        { "subject non-ASCII exact", &PRIV, NULL, NULL, "caf\xc3\xa9 m", NULL, 0, 0, 0, "B", 0 },
 { "subject logged by the second server only", &PRIV, NULL, NULL, "MAINTENANCE", NULL,
          0, 0, 0, "G", 0 },
        { "subject without match", &PRIV, NULL, NULL, "nothing like it", NULL, 0, 0, 0, "", 0 },
        { "message id without brackets", &PRIV, NULL, NULL, NULL, "0b6e3c1a-5f2d@example.org",
          0, 0, 0, "A", 0 },
        { "message id with brackets, two hops", &PRIV, NULL, NULL, NULL, MID_F, 0, 0, 0, "F", 0 },
        { "message id unknown", &PRIV, NULL, NULL, NULL, "<none@example.org>", 0, 0, 0, "", 0 },
        { "sender and recipient", &PRIV, "alice@example.org", "frank@example.com", NULL, NULL,
          0, 0, 0, "D", 0 },
        { "sender and subject", &PRIV, "alice@example.org", NULL, "LUNCH", NULL, 0, 0, 0, "H2", 0 },
        { "sender, recipient and subject", &PRIV, "alice@example.org", "bob@example.org", "q3",
          NULL, 0, 0, 0, "O A", 0 },
        { "message id and wrong sender", &PRIV, "paula@example.net", NULL, NULL, MID_A, 0, 0, 0,
          "", 0 },
        { "time bounds inclusive", &PRIV, NULL, NULL, NULL, NULL, T(9, 18, 11), T(9, 30, 0), 0,
          "B C D", 0 },
        { "time bounds exclusive of a second before", &PRIV, NULL, NULL, NULL, NULL,
          T(9, 18, 12), T(9, 29, 59), 0, "C", 0 },
        { "sender within a day", &PRIV, "alice@example.org", NULL, NULL, NULL, T(0, 0, 0),
          T(23, 59, 59), 0, "A C D E H2", 0 },
        { "message submitted before the window", &PRIV, NULL, NULL, NULL, MID_O, T(0, 0, 0),
          T(23, 59, 59), 0, "", 0 },
        { "relay hop in window, origin not", &PRIV, NULL, "ivan@example.org", NULL, NULL,
          T(10, 4, 13), T(12, 0, 0), 0, "", 0 },
        { "start after end", &PRIV, NULL, NULL, NULL, NULL, T(12, 0, 0), T(11, 0, 0), 0, "", 0 },
        { "max results", &PRIV, NULL, NULL, NULL, NULL, 0, 0, 3, "O A B", 1 },
        { "max results 1 (kept list pruned while scanning)", &PRIV, NULL, NULL, NULL, NULL,
          0, 0, 1, "O", 1 },
        { "max results 2 (pruned)", &PRIV, NULL, NULL, NULL, NULL, 0, 0, 2, "O A", 1 },
        { "max results exactly met", &PRIV, "alice@example.org", NULL, NULL, NULL, 0, 0, 6,
          "O A C D E H2", 0 },
        { "max results one short", &PRIV, "alice@example.org", NULL, NULL, NULL, 0, 0, 5,
          "O A C D E", 1 },
        { "user: own messages", &ALICE, "alice@example.org", NULL, NULL, NULL, 0, 0, 0,
          "O A C D E H2", 0 },
        { "user: own messages, itself in another case", &ALICE, "ALICE@example.ORG", NULL, NULL,
          NULL, 0, 0, 0, "O A C D E H2", 0 },
        { "user: own messages to bob", &ALICE, "alice@example.org", "bob@example.org", NULL,
          NULL, 0, 0, 0, "O A H2", 0 },
        { "user: own message by id", &ALICE, "alice@example.org", NULL, NULL, MID_A, 0, 0, 0,
          "A", 0 },
        { "user: another's message by id", &ALICE, "alice@example.org", NULL, NULL, MID_B, 0, 0,
          0, "", 0 },
        { "user: sent nothing", &BOB, "bob@example.org", NULL, NULL, NULL, 0, 0, 0, "", 0 },
        { "recipient names the sender and itself", &BOB, "paula@example.net", "bob@example.org",
          NULL, NULL, 0, 0, 0, "B", 0 },
        { "recipient names a sender: only what it received", &BOB, "alice@example.org",
          "Bob@Example.org", NULL, NULL, 0, 0, 0, "O A H2", 0 },
        { "Bcc recipient names the sender", &DAVE, "alice@example.org", "dave@example.org", NULL,
          NULL, 0, 0, 0, "A", 0 },
        { "recipient through an alias", &BOB, "oscar@example.com", "bob@example.org", NULL, NULL,
          0, 0, 0, "J", 0 },
        { "stranger names the sender and itself", &MALLORY, "alice@example.org",
          "mallory@example.org", NULL, NULL, 0, 0, 0, "", 0 },
        { "stranger names the sender, itself and a message id", &MALLORY, "alice@example.org",
          "mallory@example.org", NULL, MID_A, 0, 0, 0, "", 0 },
        { "user mailbox in any case", &ALICE_RT, "alice@example.org", NULL, "contract", NULL,
          0, 0, 0, "C", 0 },
        { "Exchange sender", &CORP, "alice@corp.example.org", NULL, NULL, NULL, 0, 0, 0, "X Y",
          0 },
        /* nothing is implied: other shapes are refused */
        { "user: no sender named", &ALICE, NULL, NULL, NULL, NULL, 0, 0, 0,
          "ErrorAccessDenied", 0 },
        { "user: empty sender is no sender", &ALICE, "", "bob@example.org", NULL, NULL, 0, 0, 0,
          "ErrorAccessDenied", 0 },
        { "user: itself as recipient, no sender", &BOB, NULL, "bob@example.org", NULL, NULL,
          0, 0, 0, "ErrorAccessDenied", 0 },
        { "user: another sender, no recipient", &BOB, "alice@example.org", NULL, NULL, NULL,
          0, 0, 0, "ErrorAccessDenied", 0 },
        { "user: another sender to another recipient", &BOB, "alice@example.org",
          "carol@example.org", NULL, NULL, 0, 0, 0, "ErrorAccessDenied", 0 },
        { "user: a message id alone", &MALLORY, NULL, NULL, NULL, MID_A, 0, 0, 0,
          "ErrorAccessDenied", 0 },
        { "user: a subject alone", &ALICE, NULL, NULL, "q3", NULL, 0, 0, 0,
          "ErrorAccessDenied", 0 },
        { "no mailbox", &NOBODY, "alice@example.org", NULL, NULL, NULL, 0, 0, 0,
          "ErrorAccessDenied", 0 },
        { "no Message-ID", &PRIV, "noid@example.org", NULL, NULL, NULL, 0, 0, 0, "I", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const find_case_t *c = &cases[i];
        mt_find_t q;
        apr_array_header_t *res = NULL;
        int trunc = -1;
        mt_error_t *e;
        memset(&q, 0, sizeof(q));
        q.sender = c->sender;
        q.recipient = c->recipient;
        q.subject = c->subject;
        q.message_id = c->message_id;
        q.start = c->start;
        q.end = c->end;
        q.max_results = c->max;
        e = mt_query_find(t, p, c->who, &q, &res, &trunc);
        if (e) {
            is_str(e->code, c->want, "find %s: error", c->name);
            ok(e->kind == MT_FAULT_NONE, "find %s: an operation-level error", c->name);
            continue;
        }
        is_str(found_str(p, res), c->want, "find %s", c->name);
        is_int(trunc, c->truncated, "find %s: truncated flag", c->name);
    }
}

/* FederatedDeliveryMailbox (a second recipient), newest first, and the
 * planner's choice. */
typedef struct {
    const char *name;
    const mt_viewer_t *who;
    const char *sender, *recipient, *recipient2, *message_id;
    int newest_first, max;
    const char *want;
    int truncated;
    const char *plan;
} find2_case_t;

static void test_find_more(apr_pool_t *p, mt_txn_t *t)
{
    const find2_case_t cases[] = {
        { "recipient named as FederatedDeliveryMailbox", &BOB, "paula@example.net", NULL,
          "bob@example.org", NULL, 0, 0, "B", 0, "sender" },
        { "itself as FederatedDeliveryMailbox, another Recipient", &BOB, "alice@example.org",
          "carol@example.org", "bob@example.org", NULL, 0, 0, "A", 0, "recipient" },
        { "two recipients: both must match", &PRIV, NULL, "bob@example.org", "dave@example.org",
          NULL, 0, 0, "A", 0, "recipient" },
        { "the same recipient twice", &PRIV, NULL, "bob@example.org", "BOB@example.org", NULL,
          0, 0, "O A B J H2", 0, "recipient" },
        { "newest first", &PRIV, "alice@example.org", NULL, NULL, NULL, 1, 0, "H2 E D C A O", 0,
          "sender" },
        { "newest first: the cap keeps the newest", &PRIV, "alice@example.org", NULL, NULL,
          NULL, 1, 2, "H2 E", 1, "sender" },
        { "newest first: the cap while scanning everything", &PRIV, NULL, NULL, NULL, NULL, 1, 1,
          "Z", 1, "time" },
        { "plan: the recipient is more selective", &PRIV, "alice@example.org",
          "frank@example.com", NULL, NULL, 0, 0, "D", 0, "recipient" },
        { "plan: the sender is more selective", &PRIV, "paula@example.net", "bob@example.org",
          NULL, NULL, 0, 0, "B", 0, "sender" },
        { "plan: an unknown sender ends the probing", &PRIV, "nobody@nowhere.example",
          "bob@example.org", NULL, NULL, 0, 0, "", 0, "sender" },
        { "plan: a message id beats everything", &PRIV, "alice@example.org", "bob@example.org",
          NULL, MID_A, 0, 0, "A", 0, "message-id" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const find2_case_t *c = &cases[i];
        mt_query_stats_t st;
        mt_find_t q;
        apr_array_header_t *res = NULL;
        int trunc = -1;
        mt_error_t *e;
        memset(&q, 0, sizeof(q));
        q.sender = c->sender;
        q.recipient = c->recipient;
        q.recipient2 = c->recipient2;
        q.message_id = c->message_id;
        q.newest_first = c->newest_first;
        q.max_results = c->max;
        q.stats = &st;
        e = mt_query_find(t, p, c->who, &q, &res, &trunc);
        ok(!e, "find %s: no error%s%s", c->name, e ? ": " : "", e ? e->message : "");
        if (e)
            continue;
        is_str(found_str(p, res), c->want, "find %s", c->name);
        is_int(trunc, c->truncated, "find %s: truncated flag", c->name);
        is_str(st.plan, c->plan, "find %s: plan", c->name);
    }
}

/* Every field of a result, for comparing two lists. */
static const char *found_full(apr_pool_t *p, const apr_array_header_t *res)
{
    const char *s = "";
    int i, j;
    for (i = 0; i < res->nelts; i++) {
        const mt_found_t *f = &APR_ARRAY_IDX(res, i, mt_found_t);
        s = apr_psprintf(p, "%s[%s|%s|%s|%s|%" APR_TIME_T_FMT "|%s|%s|", s, f->report_id,
                         f->message_id ? f->message_id : "-", f->sender ? f->sender : "-",
                         f->subject ? f->subject : "-", f->submitted,
                         f->first_hop ? f->first_hop : "-",
                         f->previous_hop ? f->previous_hop : "-");
        for (j = 0; j < f->recipients->nelts; j++)
            s = apr_pstrcat(p, s, APR_ARRAY_IDX(f->recipients, j, const char *), ",", NULL);
        s = apr_pstrcat(p, s, "]", NULL);
    }
    return s;
}

/* A cap far below the matches: the candidates are trimmed again and again
 * while scanning, and the results are those of the uncapped search, cut. */
static void test_find_cap(apr_pool_t *p, mt_txn_t *t)
{
    int newest, cap;

    for (newest = 0; newest <= 1; newest++) {
        mt_find_t q;
        apr_array_header_t *all = NULL, *res = NULL;
        int trunc = -1;
        mt_error_t *e;

        memset(&q, 0, sizeof(q));
        q.newest_first = newest;
        e = mt_query_find(t, p, &PRIV, &q, &all, &trunc);
        /* more than 2 * cap + 8 matches: trimmed at least once */
        ok(!e && all->nelts > 14 && !trunc, "cap: %s, uncapped: %d results",
           newest ? "newest first" : "oldest first", e ? -1 : all->nelts);
        for (cap = 1; cap <= 3; cap++) {
            apr_array_header_t *want = apr_array_make(p, cap, sizeof(mt_found_t));
            int i;
            for (i = 0; i < cap && all && i < all->nelts; i++)
                APR_ARRAY_PUSH(want, mt_found_t) = APR_ARRAY_IDX(all, i, mt_found_t);
            q.max_results = cap;
            e = mt_query_find(t, p, &PRIV, &q, &res, &trunc);
            ok(!e && trunc == 1, "cap %d, %s: truncated", cap,
               newest ? "newest first" : "oldest first");
            is_str(res ? found_full(p, res) : "", found_full(p, want),
                   "cap %d, %s: the first results of the uncapped search, every field", cap,
                   newest ? "newest first" : "oldest first");
        }
    }
}

/* What the stats say. */
static void test_find_stats(apr_pool_t *p, mt_txn_t *t)
{
    mt_query_stats_t st;
    mt_find_t q;
    apr_array_header_t *res;
    int trunc;

    memset(&q, 0, sizeof(q));
    q.sender = "alice@example.org";
    q.recipient = "frank@example.com";
    q.start = T(0, 0, 0);
    q.end = T(23, 59, 59);
    q.stats = &st;
    ok(!mt_query_find(t, p, &PRIV, &q, &res, &trunc) && res->nelts == 1, "stats: find");
    is_str(st.plan, "recipient", "stats: plan");
    is_str(st.value, "frank@example.com", "stats: the value looked up");
    ok(st.start == T(0, 0, 0) && st.end == T(23, 59, 59), "stats: the range");
    /* alice: A C D E H2 on the 20th; frank: D. The sender's count stops at 5,
     * the recipient's at 1. */
    is_int(st.probed, 6, "stats: entries read while planning");
    is_int(st.scanned, 1, "stats: entries read by the scan");
    is_int(st.matched, 1, "stats: matches");
    ok(st.hops >= 1, "stats: hops read (%ld)", st.hops);

    memset(&q, 0, sizeof(q));
    q.subject = "q3";
    q.start = T(0, 0, 0);
    q.end = T(23, 59, 59);
    q.stats = &st;
    ok(!mt_query_find(t, p, &PRIV, &q, &res, &trunc) && res->nelts == 1, "stats: subject only");
    is_str(st.plan, "time", "stats: a subject-only search scans the time index");
    ok(st.value == NULL && st.probed == 0, "stats: no value, no probing");
    ok(st.scanned > 10, "stats: every hop of the day read (%ld)", st.scanned);
}

static const char *join_found_rcpts(apr_pool_t *p, const mt_found_t *f)
{
    const char *s = "";
    int i;
    for (i = 0; i < f->recipients->nelts; i++)
        s = apr_pstrcat(p, s, i ? " " : "", APR_ARRAY_IDX(f->recipients, i, const char *), NULL);
    return s;
}

static void test_find_fields(apr_pool_t *p, mt_txn_t *t, stories_t *s)
{
    mt_find_t q;
    apr_array_header_t *res;
    const mt_found_t *f;
    int trunc;

    memset(&q, 0, sizeof(q));
    q.message_id = MID_A;
    ok(!mt_query_find(t, p, &PRIV, &q, &res, &trunc) && res->nelts == 1, "find A");
    if (res->nelts != 1)
        return;
    f = &APR_ARRAY_IDX(res, 0, mt_found_t);
    is_str(f->report_id, mt_query_report_id(p, s->A), "found: report id of the origin hop");
    is_str(f->message_id, MID_A, "found: message id");
    is_str(f->sender, "alice@example.org", "found: sender");
    is_str(f->subject, "Q3 results, final figures", "found: subject");
    ok(f->submitted == T(9, 15, 3), "found: submitted");
    is_str(f->first_hop, "mx1", "found: first hop");
    is_str(f->previous_hop, "ws-alice.example.org[192.0.2.101]", "found: previous hop as logged");
    is_int(f->recipients->nelts, 3, "found: three recipients");
    is_str(APR_ARRAY_IDX(f->recipients, 2, const char *), "dave@example.org",
           "found: Bcc recipient listed to the privileged");

    /* a recipient sees only itself among the recipients, a Bcc one too */
    q.sender = "alice@example.org";
    q.recipient = "bob@example.org";
    ok(!mt_query_find(t, p, &BOB, &q, &res, &trunc) && res->nelts == 1
       && strcmp(join_found_rcpts(p, &APR_ARRAY_IDX(res, 0, mt_found_t)), "bob@example.org") == 0,
       "found: a recipient sees only itself among the recipients");
    q.recipient = "dave@example.org";
    ok(!mt_query_find(t, p, &DAVE, &q, &res, &trunc) && res->nelts == 1
       && strcmp(join_found_rcpts(p, &APR_ARRAY_IDX(res, 0, mt_found_t)), "dave@example.org") == 0,
       "found: a Bcc recipient sees only itself");
    q.recipient = NULL;
    ok(!mt_query_find(t, p, &ALICE, &q, &res, &trunc) && res->nelts == 1
       && strcmp(join_found_rcpts(p, &APR_ARRAY_IDX(res, 0, mt_found_t)),
                 "bob@example.org carol@example.org dave@example.org") == 0,
       "found: the sender sees every recipient, Bcc too");
    q.sender = NULL;

    q.message_id = MID_B;
    mt_query_find(t, p, &PRIV, &q, &res, &trunc);
    f = &APR_ARRAY_IDX(res, 0, mt_found_t);
    ok(res->nelts == 1 && f->recipients->nelts == 1
       && strcmp(APR_ARRAY_IDX(f->recipients, 0, const char *), "team@example.org") == 0,
       "found: alias expansion listed once, as the sender wrote it");

    q.message_id = MID_F;
    mt_query_find(t, p, &PRIV, &q, &res, &trunc);
    f = &APR_ARRAY_IDX(res, 0, mt_found_t);
    ok(res->nelts == 1 && strcmp(f->first_hop, "mx1") == 0
       && strcmp(f->report_id, mt_query_report_id(p, s->F)) == 0,
       "found: relayed message is reported from its first hop");

    q.message_id = MID_X;
    mt_query_find(t, p, &PRIV, &q, &res, &trunc);
    f = &APR_ARRAY_IDX(res, 0, mt_found_t);
    ok(res->nelts == 1 && f->previous_hop == NULL, "found: no previous hop for a submission");
    ok(res->nelts == 1 && f->recipients->nelts == 3, "found: sales, boss, carl.old (%d)",
       res->nelts ? f->recipients->nelts : -1);

    q.message_id = MID_Y;
    mt_query_find(t, p, &PRIV, &q, &res, &trunc);
    f = &APR_ARRAY_IDX(res, 0, mt_found_t);
    ok(res->nelts == 1 && strcmp(f->report_id, mt_query_report_id(p, s->Y0)) == 0,
       "found: Exchange message reported from its SUBMIT hop");
    is_str(res->nelts ? join_found_rcpts(p, f) : NULL,
           "pat.jones@corp.example.org fin@corp.example.org lee@example.net",
           "found: Exchange recipients as addressed (To, Cc, Bcc), from the next hop");

    q.message_id = MID_G;
    mt_query_find(t, p, &PRIV, &q, &res, &trunc);
    f = &APR_ARRAY_IDX(res, 0, mt_found_t);
    is_str(res->nelts ? f->subject : NULL, "Maintenance window",
           "found: subject from the hop that logged it");

    q.message_id = MID_Z;
    mt_query_find(t, p, &PRIV, &q, &res, &trunc);
    f = &APR_ARRAY_IDX(res, 0, mt_found_t);
    is_str(res->nelts ? join_found_rcpts(p, f) : NULL, "lead@example.org olga@example.org",
           "found: a group's members listed again are not recipients the sender used, "
           "unless also addressed before the expansion");

    q.message_id = MID_J;
    mt_query_find(t, p, &PRIV, &q, &res, &trunc);
    f = &APR_ARRAY_IDX(res, 0, mt_found_t);
    is_str(res->nelts ? join_found_rcpts(p, f) : NULL, "bob@example.org team@example.org",
           "found: a recipient both direct and through an alias");

    q.message_id = MID_H2;
    mt_query_find(t, p, &PRIV, &q, &res, &trunc);
    f = &APR_ARRAY_IDX(res, 0, mt_found_t);
    like(res->nelts ? f->report_id : NULL,
         apr_psprintf(p, "Internal-Id=%" APR_UINT64_T_FMT ",", s->H2->key),
         "found: a reused queue id names its own hop");
}

/* ------------------------------------------------------------------ report */

typedef struct {
    const char *name;
    const mt_viewer_t *who;
    const char *story;
    const char *path;          /* RecipientPath filter, NULL: Summary */
    int queue_events;
    const char *want;          /* events_str, "EMPTY" for the normative empty path, or an error code */
} report_case_t;

static void test_report(apr_pool_t *p, mt_txn_t *t, stories_t *s)
{
    const report_case_t cases[] = {
        /* (a) submission, Bcc from logged headers, mailbox events */
        { "A summary, read tracking", &PRIV, "A", NULL, 0,
          "bob Read/Read@imap; carol NotRead/Delivered@imap; dave NotRead/Delivered@imap bcc" },
        { "A summary, no read tracking", &PRIV_NORT, "A", NULL, 0,
          "bob Delivered/Delivered@mx1; carol Delivered/Delivered@mx1; "
          "dave Delivered/Delivered@mx1 bcc" },
        { "A summary, sender", &ALICE, "A", NULL, 0,
          "bob Delivered/Delivered@mx1; carol Delivered/Delivered@mx1; "
          "dave Delivered/Delivered@mx1 bcc" },
        { "A summary, sender in another case with read tracking", &ALICE_RT, "A", NULL, 0,
          "bob Read/Read@imap; carol NotRead/Delivered@imap; dave NotRead/Delivered@imap bcc" },
        { "A summary, recipient sees only itself", &BOB_RT, "A", NULL, 0, "bob Read/Read@imap" },
        { "A summary, Bcc recipient", &DAVE, "A", NULL, 0, "dave Delivered/Delivered@mx1 bcc" },
        { "A path bob: mailbox delivery folded", &BOB_RT, "A", "bob@example.org", 0,
          "bob Submitted/Pending@mx1; bob Delivered/Delivered@mx1; bob Read/Read@imap" },
        { "A path dave by a local-part mailbox", &PRIV, "A", "DAVE@example.org", 0,
          "dave Submitted/Pending@mx1 bcc; dave Delivered/Delivered@mx1 bcc; "
          "dave NotRead/Delivered@imap bcc" },
        { "A path of another recipient", &BOB, "A", "carol@example.org", 0, "EMPTY" },
        { "A path of a non-recipient", &PRIV, "A", "nobody@example.org", 0, "EMPTY" },
        { "A stranger", &MALLORY, "A", NULL, 0, "ErrorAccessDenied" },
        { "A stranger path", &MALLORY, "A", "mallory@example.org", 0, "ErrorAccessDenied" },
        { "A no mailbox", &NOBODY, "A", NULL, 0, "ErrorAccessDenied" },
        { "A path without recipient", &PRIV, "A", "", 0, "ErrorInvalidArgument" },
        /* (b) alias expansion, Sieve fileinto */
        { "B summary", &PRIV_NORT, "B", NULL, 0,
          "bob Delivered/Delivered@mx1 root=team; "
          "erin MovedToFolderByInboxRule/Delivered@imap [Lists] root=team" },
        { "B summary, read tracking", &PRIV, "B", NULL, 0,
          "bob Read/Read@imap root=team; erin Read/Read@imap root=team" },
        { "B path by the alias", &PRIV_NORT, "B", "team@example.org", 0,
          "bob SmtpReceive/Pending@mx1 root=team; erin SmtpReceive/Pending@mx1 root=team; "
          "bob Delivered/Delivered@mx1 root=team; erin Delivered/Delivered@mx1 root=team; "
          "erin MovedToFolderByInboxRule/Delivered@imap [Lists] root=team" },
        { "B recipient bob", &BOB, "B", NULL, 0, "bob Delivered/Delivered@mx1 root=team" },
        { "B external sender", &(const mt_viewer_t){ "paula@example.net", 0, 0 }, "B", NULL, 0,
          "bob Delivered/Delivered@mx1 root=team; "
          "erin MovedToFolderByInboxRule/Delivered@imap [Lists] root=team" },
        /* (c) relayed outside */
        { "C summary: the sender's Sent copy is no recipient", &PRIV, "C", NULL, 0,
          "lee TransferredToForeignOrg/Transferred@mx1 [" MX_NET "]" },
        /* (d) deferrals: queue events */
        { "D path with queue events", &PRIV, "D", "frank@example.com", 1,
          "frank Submitted/Pending@mx1; "
          "frank MessageDefer/Pending@mx1 [4.4.1|connect to mx.example.com[203.0.113.25]:25: "
          "Connection refused] q; frank MessageDefer/Pending@mx1 [4.7.1|451 4.7.1 greylisted] q; "
          "frank TransferredToForeignOrg/Transferred@mx1 [mx.example.com[203.0.113.25]:25]" },
        { "D path without queue events", &PRIV, "D", "frank@example.com", 0,
          "frank Submitted/Pending@mx1; "
          "frank TransferredToForeignOrg/Transferred@mx1 [mx.example.com[203.0.113.25]:25]" },
        { "D path, sender asks for queue events", &ALICE, "D", "frank@example.com", 1,
          "frank Submitted/Pending@mx1; "
          "frank TransferredToForeignOrg/Transferred@mx1 [mx.example.com[203.0.113.25]:25]" },
        { "D summary with queue events", &PRIV, "D", NULL, 1,
          "frank TransferredToForeignOrg/Transferred@mx1 [mx.example.com[203.0.113.25]:25]" },
        /* (e) bounce and its NDR */
        { "E summary: the failure names its NDR", &PRIV, "E", NULL, 0,
          "nobody FailedGeneral/Unsuccessful@mx1 "
          "[5.1.1|host mx.example.net[198.51.100.7] said: 550 5.1.1 User unknown|"
          "non-delivery notification " MID_NDR " to alice@example.org]" },
        { "E path, sender: submitted, failed, the NDR", &ALICE, "E", "nobody@example.net", 0,
          "nobody Submitted/Pending@mx1; nobody FailedGeneral/Unsuccessful@mx1 "
          "[5.1.1|host mx.example.net[198.51.100.7] said: 550 5.1.1 User unknown|"
          "non-delivery notification " MID_NDR " to alice@example.org]" },
        { "NDR, its recipient", &ALICE_RT, "NDR", NULL, 0, "alice Read/Read@imap" },
        { "NDR path", &PRIV_NORT, "NDR", "alice@example.org", 0,
          "alice Submitted/Pending@mx1; alice Delivered/Delivered@mx1" },
        /* (f) relay to an indexed server by "queued as" */
        { "F summary", &PRIV, "F", NULL, 0, "ivan Delivered/Delivered@mx2" },
        { "F path", &PRIV, "F", "ivan@example.org", 0,
          "ivan SmtpReceive/Pending@mx1; ivan SmtpSend/Pending@mx1 [" MX2 "]; "
          "ivan SmtpReceive/Pending@mx2; ivan Delivered/Delivered@mx2" },
        { "F by its second hop's id", &PRIV, "F2", NULL, 0, "ivan Delivered/Delivered@mx2" },
        /* (g) relay by host and time; a copy sent out at the same time */
        { "G path kim", &PRIV, "G", "kim@example.org", 0,
          "kim SmtpReceive/Pending@mx1; kim SmtpReceive/Pending@mx2; "
          "kim SmtpSend/Pending@mx1 [" MX2 "]; kim Delivered/Delivered@mx2" },
        { "G path lee", &PRIV, "G", "lee@example.net", 0,
          "lee SmtpReceive/Pending@mx1; lee TransferredToForeignOrg/Transferred@mx1 [" MX_NET "]" },
        /* (h) queue id reuse */
        { "H1 summary", &PRIV, "H1", NULL, 0,
          "reports FailedGeneral/Unsuccessful@mx1 "
          "[5.1.1|550 5.1.1 <reports@example.org> User doesn't exist]" },
        { "H2 summary", &PRIV, "H2", NULL, 0, "bob Delivered/Delivered@mx1" },
        { "H2 path", &PRIV, "H2", "bob@example.org", 0,
          "bob Submitted/Pending@mx1; bob Delivered/Delivered@mx1" },
        /* (i) no Message-ID */
        { "I summary", &PRIV, "I", NULL, 0, "x Delivered/Delivered@mx1" },
        /* (x) Exchange */
        { "X summary", &PRIV, "X", NULL, 0,
          "sam Delivered/Delivered@mbx02 root=sales; sue Delivered/Delivered@mbx02 root=sales; "
          "boss Delivered/Delivered@mbx02 bcc; carl Delivered/Delivered@mbx02 root=carl.old; "
          "ext TransferredToForeignOrg/Transferred@mbx02 [mail.example.net] root=sue" },
        { "X summary, sender", &CORP, "X", NULL, 0,
          "sam Delivered/Delivered@mbx02 root=sales; sue Delivered/Delivered@mbx02 root=sales; "
          "boss Delivered/Delivered@mbx02 bcc; carl Delivered/Delivered@mbx02 root=carl.old; "
          "ext TransferredToForeignOrg/Transferred@mbx02 [mail.example.net] root=sue" },
        { "X Bcc recipient", &BOSS, "X", NULL, 0, "boss Delivered/Delivered@mbx02 bcc" },
        { "X path by group", &PRIV, "X", "sales@corp.example.org", 0,
          "sam Submitted/Pending@mbx01 root=sales; sue Submitted/Pending@mbx01 root=sales; "
          "sam Expanded/Pending@mbx01 root=sales; sue Expanded/Pending@mbx01 root=sales; "
          "sam SmtpSend/Pending@mbx01 [MBX02] root=sales; sue SmtpSend/Pending@mbx01 [MBX02] root=sales; "
          "sam SmtpReceive/Pending@mbx02 root=sales; sue SmtpReceive/Pending@mbx02 root=sales; "
          "sam Delivered/Delivered@mbx02 root=sales; sue Delivered/Delivered@mbx02 root=sales" },
        { "X path resolved", &PRIV, "X", "carl.old@corp.example.org", 0,
          "carl Submitted/Pending@mbx01 root=carl.old; carl Resolved/Pending@mbx01 root=carl.old; "
          "carl SmtpSend/Pending@mbx01 [MBX02] root=carl.old; "
          "carl SmtpReceive/Pending@mbx02 root=carl.old; "
          "carl Delivered/Delivered@mbx02 root=carl.old" },
        { "X path forwarded", &PRIV, "X", "ext@example.net", 0,
          "ext SmtpReceive/Pending@mbx02 root=sue; ext Forwarded/Pending@mbx02 root=sue; "
          "ext TransferredToForeignOrg/Transferred@mbx02 [mail.example.net] root=sue" },
        { "X stranger", &ALICE, "X", NULL, 0, "ErrorAccessDenied" },
        /* (j) a recipient both direct and through an alias */
        { "J summary", &PRIV_NORT, "J", NULL, 0,
          "bob Delivered/Delivered@mx1 root=team; "
          "erin MovedToFolderByInboxRule/Delivered@imap [Lists] root=team" },
        { "J path bob: direct and through the alias", &PRIV_NORT, "J", "bob@example.org", 0,
          "bob SmtpReceive/Pending@mx1 root=team; bob Delivered/Delivered@mx1; "
          "bob Expanded/Pending@mx1 root=team; bob Delivered/Delivered@mx1 root=team" },
        /* (y) Exchange: recipients from the hop after the SUBMIT */
        { "Y summary", &PRIV, "Y", NULL, 0,
          "lee TransferredToForeignOrg/Transferred@mbx01 [mx1.example.net] bcc; "
          "pat Delivered/Delivered@mbx01 root=pat.jones; "
          "cara Delivered/Delivered@mbx02 root=fin" },
        { "Y path by the group, across servers", &PRIV, "Y", "fin@corp.example.org", 0,
          "cara Submitted/Pending@mbx01 root=fin; cara Expanded/Pending@mbx01 root=fin; "
          "cara SmtpSend/Pending@mbx01 [MBX02.corp.example.org] root=fin; "
          "cara SmtpReceive/Pending@mbx02 root=fin; cara Delivered/Delivered@mbx02 root=fin" },
        { "Y path by the resolved name", &PRIV, "Y", "pat.jones@corp.example.org", 0,
          "pat Submitted/Pending@mbx01 root=pat.jones; pat Resolved/Pending@mbx01 root=pat.jones; "
          "pat Delivered/Delivered@mbx01 root=pat.jones" },
        { "Y by the SUBMIT hop's id", &PRIV, "Y0", "lee@example.net", 0,
          "lee Submitted/Pending@mbx01 bcc; "
          "lee TransferredToForeignOrg/Transferred@mbx01 [mx1.example.net] bcc" },
        { "Y: the resolved name is a recipient", &(const mt_viewer_t){ "pat.jones@corp.example.org",
          0, 0 }, "Y", NULL, 0, "pat Delivered/Delivered@mbx01 root=pat.jones" },
        /* (z) group members listed twice */
        { "Z summary", &PRIV, "Z", NULL, 0,
          "olga FailedGeneral/Unsuccessful@ex10 [5.2.2|554 5.2.2 mailbox full]; "
          "erin Delivered/Delivered@ex10 root=lead" },
        { "Z path by the group", &PRIV, "Z", "lead@example.org", 0,
          "olga SmtpReceive/Pending@ex10 root=lead; erin SmtpReceive/Pending@ex10 root=lead; "
          "erin Expanded/Pending@ex10 root=lead; olga Expanded/Pending@ex10 root=lead; "
          "erin Delivered/Delivered@ex10 root=lead" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const report_case_t *c = &cases[i];
        mt_get_t g;
        mt_report_t *r = NULL;
        mt_error_t *e;
        memset(&g, 0, sizeof(g));
        g.report_id = mt_query_report_id(p, story(s, c->story));
        g.recipient_path = c->path != NULL;
        g.recipient = c->path;
        g.queue_events = c->queue_events;
        e = mt_query_report(t, p, c->who, &g, &r);
        if (e) {
            is_str(e->code, c->want, "get %s: error", c->name);
            continue;
        }
        if (strcmp(c->want, "EMPTY") == 0) {
            ok(r && r->sender == NULL && r->submitted == MT_TIME_MIN && r->events->nelts == 0
               && r->original_recipients && r->original_recipients->nelts == 0,
               "get %s: the normative empty report", c->name);
            continue;
        }
        is_str(events_str(p, r), c->want, "get %s", c->name);
    }
}

static void test_report_fields(apr_pool_t *p, mt_txn_t *t, stories_t *s)
{
    mt_get_t g;
    mt_report_t *r = NULL;
    mt_error_t *e;
    const mt_report_event_t *ev;
    mt_msg_t tamper;

    memset(&g, 0, sizeof(g));
    g.report_id = mt_query_report_id(p, s->A);
    e = mt_query_report(t, p, &PRIV, &g, &r);
    ok(!e && r, "report A");
    if (!r)
        return;
    is_str(r->message_id, MID_A, "report: message id");
    is_str(r->sender, "alice@example.org", "report: sender");
    is_str(r->subject, "Q3 results, final figures", "report: subject");
    ok(r->submitted == T(9, 15, 3), "report: submitted");
    is_int(r->original_recipients->nelts, 3, "report: original recipients");
    ev = &APR_ARRAY_IDX(r->events, 0, mt_report_event_t);
    is_str(ev->recipient, "bob@example.org", "report: event recipient address");
    is_str(ev->internal_id, "bob@example.org", "report: mailbox event's internal id is the user");
    ok(ev->date == T(9, 20, 0), "report: event date");
    ok(ev->hidden == 0, "report: nothing hidden");
    ok(ev->hop == s->A_bob->key, "report: the event's hop key (InternalId)");
    is_str(ev->path_id, "bob@example.org", "report: UniquePathId of a direct recipient");
    ev = &APR_ARRAY_IDX(r->events, 2, mt_report_event_t);
    ok(ev->hop == s->A_dave->key, "report: another hop key");
    is_str(ev->path_id, "dave@example.org", "report: a path id per recipient");

    g.report_id = mt_query_report_id(p, s->B);
    e = mt_query_report(t, p, &PRIV_NORT, &g, &r);
    ok(!e && r->events->nelts == 2, "report B");
    if (!e && r->events->nelts == 2) {
        ev = &APR_ARRAY_IDX(r->events, 0, mt_report_event_t);
        is_str(ev->path_id, "team@example.org/bob@example.org",
               "report: UniquePathId through an alias");
        ok(ev->hop == s->B->key, "report: the MTA hop's key");
    }
    g.report_id = mt_query_report_id(p, s->A);

    /* a recipient sees only its own address among the original recipients */
    e = mt_query_report(t, p, &BOB, &g, &r);
    ok(!e && r->original_recipients->nelts == 1
       && strcmp(APR_ARRAY_IDX(r->original_recipients, 0, const char *), "bob@example.org") == 0,
       "report: recipient sees only itself in the recipients");

    /* Exchange: the recipients the sender used come from the hop after the SUBMIT */
    g.report_id = mt_query_report_id(p, s->Y0);
    e = mt_query_report(t, p, &CORP, &g, &r);
    ok(!e && r->original_recipients->nelts == 3
       && strcmp(APR_ARRAY_IDX(r->original_recipients, 2, const char *), "lee@example.net") == 0,
       "report: Exchange original recipients (To, Cc, Bcc) for the sender");
    ok(!e && r->submitted == T(16, 0, 0), "report: Exchange submit time from the SUBMIT hop");

    /* internal ids of hops */
    g.report_id = mt_query_report_id(p, s->F);
    g.recipient_path = 1;
    g.recipient = "ivan@example.org";
    e = mt_query_report(t, p, &PRIV, &g, &r);
    ok(!e && r->events->nelts == 4
       && strcmp(APR_ARRAY_IDX(r->events, 0, mt_report_event_t).internal_id, "8A61E2C3B57") == 0
       && strcmp(APR_ARRAY_IDX(r->events, 3, mt_report_event_t).internal_id, "3B7D4A02E6") == 0,
       "report: each event names its hop's queue id");
    ok(!e && r->events->nelts == 4
       && strcmp(APR_ARRAY_IDX(r->events, 0, mt_report_event_t).recipient, "ivan@example.org") == 0,
       "report: full recipient address");

    /* the report id is never trusted */
    memset(&g, 0, sizeof(g));
    tamper = *s->A;
    tamper.sender = "mallory@example.org";
    g.report_id = mt_query_report_id(p, &tamper);
    e = mt_query_report(t, p, &MALLORY, &g, &r);
    is_str(e ? e->code : NULL, "ErrorMessageTrackingPermanentError", "tampered sender");
    tamper = *s->A;
    tamper.host = "mx2";
    g.report_id = mt_query_report_id(p, &tamper);
    e = mt_query_report(t, p, &PRIV, &g, &r);
    is_str(e ? e->code : NULL, "ErrorMessageTrackingPermanentError", "tampered server");
    tamper = *s->A;
    tamper.message_id = MID_B;
    g.report_id = mt_query_report_id(p, &tamper);
    e = mt_query_report(t, p, &PRIV, &g, &r);
    is_str(e ? e->code : NULL, "ErrorMessageTrackingPermanentError", "tampered message id");
    tamper = *s->A;
    tamper.key = 999999;
    g.report_id = mt_query_report_id(p, &tamper);
    e = mt_query_report(t, p, &PRIV, &g, &r);
    is_str(e ? e->code : NULL, "ErrorMessageTrackingPermanentError", "unknown hop");
    g.report_id = mt_query_report_id(p, s->A_bob);
    e = mt_query_report(t, p, &PRIV, &g, &r);
    is_str(e ? e->code : NULL, "ErrorMessageTrackingPermanentError", "a mailbox hop is no report");
    tamper = *s->A;
    tamper.sender = "ALICE@EXAMPLE.ORG";
    tamper.host = "MX1";
    g.report_id = mt_query_report_id(p, &tamper);
    e = mt_query_report(t, p, &ALICE, &g, &r);
    ok(!e, "server and sender compare case-insensitively");
    g.report_id = "Message-Id=<x>,Server=mx1,Internal-Id=1x,Sender=a@b,Domain=b";
    e = mt_query_report(t, p, &PRIV, &g, &r);
    is_str(e ? e->code : NULL, "ErrorInvalidArgument", "malformed id");
    like(e ? e->message : NULL, "does not parse", "malformed id: message");
    ok(e && e->kind == MT_FAULT_NONE, "malformed id: operation-level");
    g.report_id = NULL;
    e = mt_query_report(t, p, &PRIV, &g, &r);
    is_str(e ? e->code : NULL, "ErrorInvalidArgument", "no id");
}

/* ------------------------------------------------------------------ CLI output */

static char *slurp(apr_pool_t *p, FILE *f)
{
    long n;
    char *s;
    fflush(f);
    n = ftell(f);
    s = apr_palloc(p, (apr_size_t)n + 1);
    rewind(f);
    if (n > 0 && fread(s, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    s[n > 0 ? n : 0] = '\0';
    rewind(f);
    if (ftruncate(fileno(f), 0) != 0)
        printf("# ftruncate failed\n");
    return s;
}

static int have_python;

/* TEST_QUERY_VERBOSE=1: show what the CLI printed, as TAP comments. */
static void show(const char *what, const char *text)
{
    const char *s = text, *e;
    if (!getenv("TEST_QUERY_VERBOSE"))
        return;
    printf("# --- %s\n", what);
    for (; *s; s = e + 1) {
        if (!(e = strchr(s, '\n')))
            e = s + strlen(s);
        printf("# %.*s\n", (int)(e - s), s);
        if (!*e)
            break;
    }
}

/* Is @a text valid JSON (python3's parser)? -1 when python3 is missing. */
static int json_valid(apr_pool_t *p, const char *dir, const char *text)
{
    const char *path = apr_pstrcat(p, dir, "/out.json", NULL);
    FILE *f;
    int rc;
    if (!have_python)
        return -1;
    if (!(f = fopen(path, "w")))
        return 0;
    fputs(text, f);
    fclose(f);
    rc = system(apr_psprintf(p, "python3 -c 'import json,sys; json.load(sys.stdin)' < '%s'",
                             path));
    return rc == 0;
}

#define JSON_OK(p, dir, text, ...) do { \
        int v_ = json_valid(p, dir, text); \
        if (v_ < 0) { tap_count++; printf("ok %d # skip python3 not found\n", tap_count); } \
        else ok(v_ == 1, __VA_ARGS__); \
    } while (0)

/* The column (in code points) where @a needle starts in line @a line of @a text. */
static int column_of(const char *text, int line, const char *needle)
{
    const char *s = text, *e, *hit;
    int col = 0;
    while (line-- > 0 && (s = strchr(s, '\n')))
        s++;
    if (!s)
        return -1;
    e = strchr(s, '\n');
    hit = strstr(s, needle);
    if (!hit || (e && hit > e))
        return -1;
    for (; s < hit; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            col++;
    return col;
}

static void test_cli(apr_pool_t *p, mt_store_t *st, const char *dir, stories_t *s)
{
    FILE *out = tmpfile(), *err = tmpfile();
    mt_find_t q;
    char *o, *e;
    int rc;

    if (!out || !err) {
        ok(0, "tmpfiles");
        return;
    }
    have_python = system("python3 -c 'import json' >/dev/null 2>&1") == 0;

    /* find, table */
    memset(&q, 0, sizeof(q));
    q.sender = "alice@example.org";
    q.start = T(0, 0, 0);
    q.end = T(23, 59, 59);
    rc = mtx_find(p, st, &q, 0, out, err);
    o = slurp(p, out);
    show("output 1", o);
    e = slurp(p, err);
    is_int(rc, 0, "mtx_find: exit 0");
    is_str(e, "", "mtx_find: nothing on stderr");
    like(o, "SUBMITTED", "find table: header");
    like(o, "2026-11-20 09:15:03  alice@example.org  bob@example.org, carol@example.org, "
            "dave@example.org  Q3 results, final figures\n", "find table: a row");
    like(o, apr_pstrcat(p, "\n    ", mt_query_report_id(p, s->A), "\n", NULL),
         "find table: report id on its own indented line");
    is_int(column_of(o, 0, "SENDER"), column_of(o, 1, "alice@example.org"),
           "find table: columns aligned");

    /* find, table, UTF-8 and control characters */
    memset(&q, 0, sizeof(q));
    q.start = T(14, 0, 0);
    rc = mtx_find(p, st, &q, 0, out, err);
    o = slurp(p, out);
    show("output 2", o);
    is_int(rc, 0, "mtx_find all: exit 0");
    is_int(column_of(o, 0, "SUBJECT"), column_of(o, 3, "tab?here"),
           "find table: aligned after a UTF-8 cell, control characters as '?'");
    like(o, "caf\xc3\xa9", "find table: valid UTF-8 kept");
    like(o, "bad\xef\xbf\xbd\xef\xbf\xbd", "find table: invalid UTF-8 shown as U+FFFD");

    /* find, JSON */
    memset(&q, 0, sizeof(q));
    rc = mtx_find(p, st, &q, 1, out, err);
    o = slurp(p, out);
    show("output 3", o);
    is_int(rc, 0, "mtx_find --json: exit 0");
    JSON_OK(p, dir, o, "find --json: valid JSON");
    like(o, "\"subject\": \"tab\\there \\\"quoted\\\" back\\\\slash \\u0001 bad\xef\xbf\xbd"
            "\xef\xbf\xbd caf\xc3\xa9\"", "find --json: escapes and U+FFFD");
    like(o, "\"previous_hop\": null", "find --json: null previous hop");
    like(o, "\"submitted\": \"2026-11-20T09:15:03Z\"", "find --json: xs:dateTime");
    like(o, "\"recipients\": [\"team@example.org\"]", "find --json: recipients");
    like(o, "\"report_id\": \"Message-Id=<0b6e3c1a-5f2d@example.org>,Server=mx1,",
         "find --json: report id");

    /* find, JSON, empty */
    memset(&q, 0, sizeof(q));
    q.sender = "nobody@nowhere.example";
    rc = mtx_find(p, st, &q, 1, out, err);
    o = slurp(p, out);
    show("output 4", o);
    is_str(o, "[]\n", "find --json: empty array");
    JSON_OK(p, dir, o, "find --json empty: valid JSON");

    /* find, truncated */
    memset(&q, 0, sizeof(q));
    q.max_results = 2;
    rc = mtx_find(p, st, &q, 1, out, err);
    o = slurp(p, out);
    show("output 5", o);
    e = slurp(p, err);
    ok(rc == 0 && strstr(e, "first 2"), "find: a cut list is said on stderr");
    JSON_OK(p, dir, o, "find --json truncated: still valid JSON");

    /* report, table */
    rc = mtx_report(p, st, mt_query_report_id(p, s->A), NULL, 0, out, err);
    o = slurp(p, out);
    show("output 6", o);
    e = slurp(p, err);
    is_int(rc, 0, "mtx_report: exit 0");
    is_str(e, "", "mtx_report: nothing on stderr");
    like(o, "Message-ID: " MID_A "\n", "report table: Message-ID");
    like(o, "Sender:     alice@example.org\n", "report table: Sender");
    like(o, "Subject:    Q3 results, final figures\n", "report table: Subject");
    like(o, "Submitted:  2026-11-20 09:15:03\n", "report table: Submitted");
    like(o, "Recipients: bob@example.org, carol@example.org, dave@example.org\n",
         "report table: Recipients");
    like(o, "DATE", "report table: header");
    like(o, "dave@example.org (Bcc)", "report table: Bcc marked");
    like(o, "NotRead", "report table: read tracking on in the CLI");
    is_int(column_of(o, 6, "STATUS"), column_of(o, 7, "Read  "), "report table: aligned");

    /* report by bare Message-ID, path with queue events */
    rc = mtx_report(p, st, "e7d41b08-6c2a@example.org", "frank@example.com", 0, out, err);
    o = slurp(p, out);
    show("output 7", o);
    is_int(rc, 0, "mtx_report by bare Message-ID: exit 0");
    like(o, "MessageDefer", "report: queue events on in the CLI");
    like(o, "4.4.1; connect to mx.example.com", "report table: event data joined");
    rc = mtx_report(p, st, MID_B, NULL, 0, out, err);
    o = slurp(p, out);
    show("output 8", o);
    ok(rc == 0 && strstr(o, "bob@example.org (via team@example.org)"),
       "report by <Message-ID>: root address shown");

    /* report, JSON */
    rc = mtx_report(p, st, mt_query_report_id(p, s->A), NULL, 1, out, err);
    o = slurp(p, out);
    show("output 9", o);
    is_int(rc, 0, "mtx_report --json: exit 0");
    JSON_OK(p, dir, o, "report --json: valid JSON");
    like(o, "\"event_description\": \"NotRead\"", "report --json: event");
    like(o, "\"bcc\": true", "report --json: bcc");
    like(o, "\"original_recipients\": [\"bob@example.org\", \"carol@example.org\", "
            "\"dave@example.org\"]", "report --json: original recipients");
    rc = mtx_report(p, st, mt_query_report_id(p, s->N), NULL, 1, out, err);
    o = slurp(p, out);
    show("output 10", o);
    JSON_OK(p, dir, o, "report --json with hostile strings: valid JSON");
    like(o, "\"event_data\": [\"5.7.1\", \"bad\\u0002bytes\xef\xbf\xbd\xef\xbf\xbd\"]",
         "report --json: event data escaped");
    rc = mtx_report(p, st, mt_query_report_id(p, s->A), "nobody@example.org", 1, out, err);
    o = slurp(p, out);
    show("output 11", o);
    JSON_OK(p, dir, o, "report --json normative empty: valid JSON");
    like(o, "\"sender\": null", "report --json empty: null sender");
    like(o, "\"submitted\": \"0001-01-01T00:00:00Z\"", "report --json empty: no submit time");
    like(o, "\"events\": []", "report --json empty: no events");
    rc = mtx_report(p, st, mt_query_report_id(p, s->A), "nobody@example.org", 0, out, err);
    o = slurp(p, out);
    show("output 12", o);
    ok(rc == 0 && strstr(o, "(no events)") && strstr(o, "Submitted:  -\n"),
       "report table empty: said so");

    /* report errors */
    rc = mtx_report(p, st, "<unknown@example.org>", NULL, 0, out, err);
    o = slurp(p, out);
    show("output 13", o);
    e = slurp(p, err);
    is_int(rc, 1, "report unknown Message-ID: exit 1");
    is_str(e, "msgtrack-index: no message with Message-ID <unknown@example.org>\n",
           "report unknown Message-ID: said");
    is_str(o, "", "report unknown Message-ID: nothing on stdout");
    rc = mtx_report(p, st, "garbage", NULL, 0, out, err);
    e = slurp(p, err);
    is_int(rc, 1, "report malformed id: exit 1");
    like(e, "msgtrack-index: ErrorInvalidArgument: the report id 'garbage' does not parse",
         "report malformed id: code and message");
    rc = mtx_report(p, st, "Message-Id=,Server=,Internal-Id=424242,Sender=,Domain=", NULL, 1,
                    out, err);
    o = slurp(p, out);
    show("output 14", o);
    e = slurp(p, err);
    ok(rc == 1 && strstr(e, "ErrorMessageTrackingPermanentError") && !*o,
       "report unknown hop: exit 1, nothing on stdout");
    fclose(out);
    fclose(err);
}

/* ------------------------------------------------------------------ main */

/* A Find result's recipients: the addresses the sender used, once each
 * without regard to case, in order; past a handful of them too (a list of
 * 40, each named twice in another case, root addresses standing for their
 * expansions). In a store of its own. */
static void test_find_many_rcpts(apr_pool_t *p)
{
    const char *dir = tmpdir_make(p, "mt-query-rcpts"), *err;
    const char *spec = "", *want = "";
    apr_array_header_t *res = NULL;
    mt_store_t *st = NULL;
    mt_txn_t *t = NULL;
    mt_find_t q;
    fx_t fx;
    int i, trunc;

    err = fx_open(p, dir, 0, &st, &fx);
    ok(!err, "many recipients: store%s%s", err ? ": " : "", err ? err : "");
    if (err)
        return;
    for (i = 0; i < 40; i++) {
        /* r0 .. r39, then R0 .. R39 again; every fifth one is an expansion
         * of list<i/5>, which is then named once */
        if (i % 5 == 0)
            want = apr_psprintf(p, "%s%slist%d@example.org", want, *want ? " " : "", i / 5);
        if (i % 5)
            want = apr_psprintf(p, "%s%sr%d@example.org", want, *want ? " " : "", i);
        spec = apr_psprintf(p, "%s %s", spec, i % 5 ? apr_psprintf(p, "r%d@example.org", i)
                            : apr_psprintf(p, "m%d@example.org=list%d@example.org", i, i / 5));
    }
    for (i = 0; i < 40; i++)
        spec = apr_psprintf(p, "%s %s", spec, i % 5 ? apr_psprintf(p, "R%d@Example.ORG", i)
                            : apr_psprintf(p, "x%d@example.org=LIST%d@example.org", i, i / 5));
    fx_hop(&fx, MT_HOP_POSTFIX, T(9, 0, 0), "mx1", "AAAA000001", "<many@example.org>",
           "alice@example.org", "many", NULL, MT_MSG_STARTED | MT_MSG_SUBMITTED, spec, NULL);
    ok(!fx_commit(&fx), "many recipients: written");
    ok(!mt_store_begin(st, p, &t), "many recipients: read transaction");
    memset(&q, 0, sizeof(q));
    q.sender = "alice@example.org";
    err = NULL;
    if (mt_query_find(t, p, &PRIV, &q, &res, &trunc) || res->nelts != 1)
        err = "no single result";
    ok(!err, "many recipients: found%s%s", err ? ": " : "", err ? err : "");
    if (!err) {
        const apr_array_header_t *r = APR_ARRAY_IDX(res, 0, mt_found_t).recipients;
        const char *got = "";
        for (i = 0; i < r->nelts; i++)
            got = apr_psprintf(p, "%s%s%s", got, *got ? " " : "", APR_ARRAY_IDX(r, i, const char *));
        is_str(got, want, "many recipients: each once, in order, root addresses for expansions");
    }
    mt_store_abort(t);
    mt_store_close(st);
    tmpdir_remove(p, dir);
}

/* Newest first with a cap, the scan goes down the range in windows and
 * stops early: whatever the cap, the index and the range, the results are
 * the uncapped search's first ones. 400 messages, unevenly spread over
 * three days (bursts a second apart, gaps of hours), some relayed to a
 * second hop a few seconds later; in a store of its own. */
static void test_find_windows(apr_pool_t *p)
{
    static const int caps[] = { 1, 2, 5, 37, 150, 399, 400, 401 };
    const char *dir = tmpdir_make(p, "mt-query-windows"), *err;
    mt_store_t *st = NULL;
    mt_txn_t *t = NULL;
    apr_time_t at = fx_td(18, 0, 0, 0);
    fx_t fx;
    int i, c, k, bad = 0, runs = 0;

    err = fx_open(p, dir, 0, &st, &fx);
    ok(!err, "windows: store%s%s", err ? ": " : "", err ? err : "");
    if (err)
        return;
    for (i = 0; i < 400; i++) {
        const char *mid = apr_psprintf(p, "<w%d@example.org>", i);
        const char *sender = i % 3 ? "alice@example.org" : "bob@example.org";
        const char *rcpt = i % 4 ? "carol@example.org" : "dave@example.org";
        at += (i % 50 == 49) ? apr_time_from_sec(3600 * (1 + i % 7)) : apr_time_from_sec(1 + i % 3);
        fx_hop(&fx, MT_HOP_POSTFIX, at, "mx1", apr_psprintf(p, "A%08d", i), mid, sender,
               "w", NULL, MT_MSG_STARTED | MT_MSG_SUBMITTED, rcpt, NULL);
        if (i % 5 == 0)
            fx_hop(&fx, MT_HOP_POSTFIX, at + apr_time_from_sec(4), "mx2",
                   apr_psprintf(p, "B%08d", i), mid, sender, "w", "mx1.example.org[192.0.2.10]", MT_MSG_STARTED, rcpt, NULL);
    }
    ok(!fx_commit(&fx), "windows: written");
    ok(!mt_store_begin(st, p, &t), "windows: read transaction");
    /* 0-2: no end (the windows start now, days after the data), by time,
     * sender, recipient; 3-5: the same within a range ending an hour after
     * the last message */
    for (k = 0; k < 6; k++) {
        mt_find_t q;
        apr_array_header_t *all = NULL;
        mt_error_t *e;
        int trunc;
        memset(&q, 0, sizeof(q));
        q.newest_first = 1;
        if (k % 3 == 1)
            q.sender = "alice@example.org";
        if (k % 3 == 2)
            q.recipient = "carol@example.org";
        if (k >= 3) {
            q.start = fx_td(18, 3, 0, 0);
            q.end = fx_td(19, 6, 0, 0);
        }
        if ((e = mt_query_find(t, p, &PRIV, &q, &all, &trunc)) || all->nelts < 100) {
            ok(0, "windows: uncapped search %d: %s", k,
               e ? e->message : apr_psprintf(p, "%d results", all->nelts));
            continue;
        }
        for (c = 0; c < (int)(sizeof(caps) / sizeof(caps[0])); c++) {
            apr_array_header_t *res = NULL, *want = apr_array_make(p, caps[c], sizeof(mt_found_t));
            mt_query_stats_t stats;
            for (i = 0; i < caps[c] && i < all->nelts; i++)
                APR_ARRAY_PUSH(want, mt_found_t) = APR_ARRAY_IDX(all, i, mt_found_t);
            q.max_results = caps[c];
            q.stats = &stats;
            runs++;
            if (mt_query_find(t, p, &PRIV, &q, &res, &trunc)
                || strcmp(found_full(p, res), found_full(p, want)) != 0
                || trunc != (all->nelts > caps[c])) {
                printf("# windows: search %d, cap %d: %d results, truncated %d\n", k, caps[c],
                       res ? res->nelts : -1, trunc);
                bad++;
            }
            /* a window reads whole bursts of 50: two of them at most, not
             * the 150 to 400 there are */
            else if (k >= 3 && caps[c] <= 5 && stats.matched > 120) {
                printf("# windows: search %d, cap %d: %ld matched before stopping\n", k,
                       caps[c], stats.matched);
                bad++;
            }
            q.stats = NULL;
        }
    }
    is_int(bad, 0, "windows: %d capped searches give the uncapped search's first results, "
           "the cut flag right, and within a range a small cap stops the scan early", runs);
    mt_store_abort(t);
    mt_store_close(st);
    tmpdir_remove(p, dir);
}

/* A message's hops in order of first appearance; at the same second (logs
 * have seconds), the MTA's before the mailbox's, whichever log was indexed
 * first: Dovecot's filing of erin's copy by her Sieve script comes after
 * Postfix's delivery, so her Summary says where it went. The lines are the
 * end-to-end test's (t/data/e2e), ingested from files in each order. */
#define HO_PF1 "Nov 21 16:17:22 mail postfix/smtpd[28518]: D6149A8E97C: client=localhost[127.0.0.1]\n" \
    "Nov 21 16:17:22 mail postfix/cleanup[28566]: D6149A8E97C: message-id=<m2.6b01c40e6984@mail.example.net>\n" \
    "Nov 21 16:17:22 mail postfix/qmgr[28516]: D6149A8E97C: from=<paula@example.net>, size=551, nrcpt=2 (queue active)\n"
#define HO_PF2 "Nov 21 16:17:22 mail postfix/lmtp[28571]: D6149A8E97C: to=<bob@example.org>, orig_to=<team@example.org>, relay=127.0.0.1[127.0.0.1]:43075, delay=0.05, delays=0.01/0/0/0.04, dsn=2.0.0, status=sent (250 2.0.0 <bob@example.org> SMaZNBLEAWsVagAAg+zDdQ Saved)\n" \
    "Nov 21 16:17:22 mail postfix/lmtp[28571]: D6149A8E97C: to=<erin@example.org>, orig_to=<team@example.org>, relay=127.0.0.1[127.0.0.1]:43075, delay=0.05, delays=0.01/0/0/0.04, dsn=2.0.0, status=sent (250 2.0.0 <erin@example.org> SMaZNBLEAWsVagAAg+zDdQ:R2 Saved)\n" \
    "Nov 21 16:17:22 mail postfix/qmgr[28516]: D6149A8E97C: removed\n"
#define HO_PF HO_PF1 HO_PF2
#define HO_DC "Nov 21 16:17:22 lmtp(bob@example.org)<27157><SMaZNBLEAWsVagAAg+zDdQ>: Info: msgid=<m2.6b01c40e6984@mail.example.net>: saved mail to INBOX\n" \
    "Nov 21 16:17:22 lmtp(erin@example.org)<27157><SMaZNBLEAWsVagAAg+zDdQ:R2>: Info: sieve: msgid=<m2.6b01c40e6984@mail.example.net>: fileinto action: stored mail into mailbox 'Lists'\n"

typedef struct {
    const char *name;
    const char *files[3];       /* log files' contents, ingested in this order */
    const char *path;           /* RecipientPath filter, NULL: Summary */
    const char *want;           /* events_str */
} hop_order_case_t;

/* Find reads the other hops of a message that the index lists as its
 * hop's peers (MT_MSG_PEERS), without looking for them: a relay hop indexed
 * later, in another transaction, before or after the first one in time,
 * must change the answer all the same. Each step is a transaction; after
 * each, Find by sender and by the second hop's recipient. */
typedef struct {
    const char *host, *lid, *subject, *rcpts;
    int kind, secs;
} late_hop_t;

static const char *late_find(apr_pool_t *p, mt_store_t *st, const char *sender,
                             const char *recipient)
{
    mt_txn_t *t;
    mt_find_t q;
    apr_array_header_t *res = NULL;
    const char *out = "";
    int i, j, trunc;

    if (mt_store_begin(st, p, &t))
        return "ERR: begin";
    memset(&q, 0, sizeof(q));
    q.sender = sender;
    q.recipient = recipient;
    if (mt_query_find(t, p, &PRIV, &q, &res, &trunc)) {
        mt_store_abort(t);
        return "ERR: find";
    }
    for (i = 0; i < res->nelts; i++) {
        const mt_found_t *f = &APR_ARRAY_IDX(res, i, mt_found_t);
        out = apr_psprintf(p, "%s%s%s %s \"%s\"", out, i ? "; " : "", f->first_hop,
                           mt_time_format_xs(p, f->submitted), f->subject ? f->subject : "");
        for (j = 0; j < f->recipients->nelts; j++)
            out = apr_psprintf(p, "%s %s", out, APR_ARRAY_IDX(f->recipients, j, const char *));
    }
    mt_store_abort(t);
    return out;
}

static void test_find_late_hop(apr_pool_t *p)
{
    static const struct {
        const char *name;
        late_hop_t hops[3];
        const char *want_sender[3], *want_rcpt[3];
    } cases[] = {
        { "relay hop indexed after the first",
          { { "mx1", "A1", NULL, "kim@example.org lee@example.net", MT_HOP_POSTFIX, 0 },
            { "mx2", "B2", "Maintenance", "kim@example.org", MT_HOP_POSTFIX, 30 },
            { "imap", "kim@example.org", NULL, "kim@example.org", MT_HOP_MAILBOX, 31 } },
          { "mx1 2026-11-10T10:00:00Z \"\" kim@example.org lee@example.net",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net" },
          { "mx1 2026-11-10T10:00:00Z \"\" kim@example.org lee@example.net",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net" } },
        { "relay hop indexed first (its server's log read first)",
          { { "mx2", "B2", "Maintenance", "kim@example.org", MT_HOP_POSTFIX, 30 },
            { "mx1", "A1", NULL, "kim@example.org lee@example.net", MT_HOP_POSTFIX, 0 },
            { "imap", "kim@example.org", NULL, "kim@example.org", MT_HOP_MAILBOX, 31 } },
          { "mx2 2026-11-10T10:00:30Z \"Maintenance\" kim@example.org",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net" },
          { "mx2 2026-11-10T10:00:30Z \"Maintenance\" kim@example.org",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net" } },
        { "mailbox hop first, then the two servers",
          { { "imap", "kim@example.org", NULL, "kim@example.org", MT_HOP_MAILBOX, 31 },
            { "mx2", "B2", "Maintenance", "kim@example.org", MT_HOP_POSTFIX, 30 },
            { "mx1", "A1", NULL, "kim@example.org lee@example.net", MT_HOP_POSTFIX, 0 } },
          { "", "mx2 2026-11-10T10:00:30Z \"Maintenance\" kim@example.org",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net" },
          { "", "mx2 2026-11-10T10:00:30Z \"Maintenance\" kim@example.org",
            "mx1 2026-11-10T10:00:00Z \"Maintenance\" kim@example.org lee@example.net" } },
    };
    size_t c;
    int i;

    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const char *dir = tmpdir_make(p, "mt-query-late"), *err;
        mt_store_t *st = NULL;
        fx_t fx;

        err = fx_open(p, dir, 0, &st, &fx);
        ok(!err, "late hop, %s: store%s%s", cases[c].name, err ? ": " : "", err ? err : "");
        if (err)
            continue;
        for (i = 0; i < 3; i++) {
            const late_hop_t *h = &cases[c].hops[i];
            if (i > 0 && mt_store_begin(st, p, &fx.t))
                break;
            fx_hop(&fx, h->kind, fx_td(10, 10, 0, h->secs), h->host, h->lid,
                   "<late@example.org>", "ops@example.org", h->subject,
                   h->kind == MT_HOP_MAILBOX ? NULL : "client.example.org[192.0.2.30]",
                   MT_MSG_STARTED, h->rcpts, NULL);
            ok(!fx_commit(&fx), "late hop, %s: step %d written", cases[c].name, i + 1);
            is_str(late_find(p, st, "ops@example.org", NULL), cases[c].want_sender[i],
                   "late hop, %s: step %d, by sender", cases[c].name, i + 1);
            is_str(late_find(p, st, "ops@example.org", "kim@example.org"),
                   cases[c].want_rcpt[i], "late hop, %s: step %d, by sender and recipient",
                   cases[c].name, i + 1);
        }
        mt_store_close(st);
        tmpdir_remove(p, dir);
    }
}

static void test_hop_order(apr_pool_t *p)
{
#define HO_SUMMARY "bob Delivered/Delivered@mail root=team; " \
    "erin MovedToFolderByInboxRule/Delivered@ [Lists] root=team"
#define HO_ERIN "erin SmtpReceive/Pending@mail root=team; erin Expanded/Pending@mail root=team; " \
    "erin Delivered/Delivered@mail root=team; erin MovedToFolderByInboxRule/Delivered@ [Lists] root=team"
    static const hop_order_case_t cases[] = {
        { "Postfix's log, then Dovecot's", { HO_PF, HO_DC }, NULL, HO_SUMMARY },
        { "Dovecot's log, then Postfix's", { HO_DC, HO_PF }, NULL, HO_SUMMARY },
        { "one file, Dovecot's lines first", { HO_DC HO_PF }, NULL, HO_SUMMARY },
        { "Dovecot's log between Postfix's", { HO_PF1, HO_DC, HO_PF2 }, NULL, HO_SUMMARY },
        { "Postfix's log, then Dovecot's: erin's path", { HO_PF, HO_DC }, "erin@example.org",
          HO_ERIN },
        { "Dovecot's log, then Postfix's: erin's path", { HO_DC, HO_PF }, "erin@example.org",
          HO_ERIN },
    };
    size_t c;

    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const hop_order_case_t *k = &cases[c];
        const char *dir = tmpdir_make(p, "mt-query-order"), *err = NULL, *got = "";
        mt_store_t *st = NULL;
        mt_txn_t *t = NULL;
        mt_ingest_opts_t opts;
        mt_ingest_t *in;
        int i;

        err = dir ? mt_store_open(p, dir, MT_STORE_WRITER, &st) : "mkdtemp failed";
        memset(&opts, 0, sizeof(opts));
        opts.year = 2026;
        in = err ? NULL : mt_ingest_create(p, st, &opts);
        for (i = 0; !err && i < 3 && k->files[i]; i++) {
            const char *f = apr_psprintf(p, "%s/log%d", dir, i);
            FILE *fp = fopen(f, "w");
            mt_source_t *src;
            if (!fp || fputs(k->files[i], fp) < 0 || fclose(fp) != 0)
                err = "cannot write a log file";
            else if (!(err = mt_ingest_open(in, p, f, &src))) {
                err = mt_ingest_read(in, src);
                mt_ingest_close(src);
            }
        }
        if (!err && !(err = mt_store_begin(st, p, &t))) {
            mt_find_t q;
            mt_get_t g;
            apr_array_header_t *res = NULL;
            mt_report_t *r = NULL;
            int trunc;
            memset(&q, 0, sizeof(q));
            q.sender = "paula@example.net";
            if (mt_query_find(t, p, &PRIV, &q, &res, &trunc) || res->nelts != 1)
                err = "no single message found";
            else {
                memset(&g, 0, sizeof(g));
                g.report_id = APR_ARRAY_IDX(res, 0, mt_found_t).report_id;
                g.recipient_path = k->path != NULL;
                g.recipient = k->path;
                if (mt_query_report(t, p, &PRIV, &g, &r))
                    err = "no report";
                else
                    got = events_str(p, r);
            }
            mt_store_abort(t);
        }
        if (st)
            mt_store_close(st);
        tmpdir_remove(p, dir);
        if (err)
            ok(0, "hop order: %s: %s", k->name, err);
        else
            is_str(got, k->want, "hop order: %s", k->name);
    }
#undef HO_SUMMARY
#undef HO_ERIN
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    mt_store_t *st = NULL;
    fx_t fx;
    stories_t s;
    const char *err;
    char *dir;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);

    test_report_ids(p);
    test_find_many_rcpts(p);
    test_find_windows(p);
    test_hop_order(p);
    test_find_late_hop(p);

    dir = tmpdir_make(p, "mt-query");
    err = fx_open(p, dir, 1, &st, &fx);
    ok(!err, "store created%s%s", err ? ": " : "", err ? err : "");
    if (err)
        return tap_done();
    memset(&s, 0, sizeof(s));
    build(&fx, &s);
    err = fx_commit(&fx);
    ok(!err, "stories written and committed%s%s", err ? ": " : "", err ? err : "");

    {
        apr_pool_t *tp;
        mt_txn_t *t;
        apr_pool_create(&tp, p);
        ok(!mt_store_begin(st, tp, &t), "read transaction");
        test_find(tp, t);
        test_find_more(tp, t);
        test_find_cap(tp, t);
        test_find_stats(tp, t);
        test_find_fields(tp, t, &s);
        test_report(tp, t, &s);
        test_report_fields(tp, t, &s);
        mt_store_abort(t);
        apr_pool_destroy(tp);
    }
    test_cli(p, st, dir, &s);

    mt_store_close(st);
    tmpdir_remove(p, dir);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
