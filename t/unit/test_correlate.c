/* test_correlate.c: log lines into hops and events (TAP)
 *
 * Each case feeds log lines through the format's parser and correlation
 * into a fresh index, then describes every hop in one line:
 *   KIND host id [from=S] [msgid=M] [ref=R] [ndr_of=#N] [subj=S] [client=C] [auth=A]
 *        flags=LETTERS rcpts=a[<orig][:flags],... hdr=a,... | fact[:rcpt][<root][@folder][#dsn][>next],...
 * (KIND P Postfix, X Exchange, M mailbox; #N is the 1-based position of
 * the hop in key order). Every case runs twice: all lines in one
 * transaction, and one transaction per line (state carried only by the
 * index, as after a restart of `follow`): the descriptions must agree. */
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "tmpdir.h"
#include "mt_correlate.h"
#include "mt_parse.h"
#include "mt_store.h"

/* ------------------------------------------------------------------ description */

typedef struct {
    mt_txn_t *txn;
    apr_pool_t *p;
    char *out;
    apr_uint64_t keys[64];
    int n;
} desc_t;

static int collect_key(void *baton, apr_uint64_t key, apr_time_t first)
{
    desc_t *d = baton;
    (void)first;
    if (d->n < 64)
        d->keys[d->n++] = key;
    return 0;
}

static int describe_event(void *baton, const mt_event_t *e)
{
    desc_t *d = baton;
    d->out = apr_psprintf(d->p, "%s%s%s%s%s%s%s%s%s%s%s%s%s", d->out,
                          e->seq ? "," : " | ", mt_fact_name(e->fact),
                          e->recipient ? ":" : "", e->recipient ? e->recipient : "",
                          e->root ? "<" : "", e->root ? e->root : "",
                          e->folder ? "@" : "", e->folder ? e->folder : "",
                          e->dsn ? "#" : "", e->dsn ? e->dsn : "",
                          e->next_id ? ">" : "", e->next_id ? e->next_id : "");
    if (e->session)
        d->out = apr_psprintf(d->p, "%s~%s", d->out, e->session);
    return 0;
}

static const char *flag_letters(apr_pool_t *p, unsigned f)
{
    static const struct { unsigned bit; char c; } L[] = {
        { MT_MSG_STARTED, 'S' }, { MT_MSG_SUBMITTED, 'U' }, { MT_MSG_REMOVED, 'R' },
        { MT_MSG_EXPIRED, 'E' }, { MT_MSG_HDR_RCPTS, 'H' }, { MT_MSG_NOTIFICATION, 'N' },
        { MT_MSG_READ, 'r' }, { MT_MSG_NOTREAD, 'n' } };
    char buf[16];
    int i, n = 0;
    for (i = 0; i < (int)(sizeof(L) / sizeof(L[0])); i++)
        if (f & L[i].bit)
            buf[n++] = L[i].c;
    buf[n] = '\0';
    return apr_pstrdup(p, buf);
}

static const char *describe(mt_store_t *st, apr_pool_t *p)
{
    desc_t d;
    const char *err;
    int i, j;

    memset(&d, 0, sizeof(d));
    d.p = p;
    d.out = "";
    if ((err = mt_store_begin(st, p, &d.txn)) != NULL
        || (err = mt_store_msgs(d.txn, p, collect_key, &d)) != NULL)
        return err;
    for (i = 0; i < d.n; i++) {
        mt_msg_t m;
        int ndr = 0;
        if (mt_store_msg_get(d.txn, p, d.keys[i], &m, &err) != 1)
            return err ? err : "hop vanished";
        for (j = 0; j < d.n; j++)
            if (m.ndr_of && d.keys[j] == m.ndr_of)
                ndr = j + 1;
        d.out = apr_psprintf(p, "%s%s%c %s %s", d.out, i ? "\n" : "",
                             m.kind == MT_HOP_POSTFIX ? 'P' : m.kind == MT_HOP_MSGTRK ? 'X' : 'M',
                             m.host, m.local_id);
#define F(name, v) if (v) d.out = apr_psprintf(p, "%s " name "=%s", d.out, (v))
        F("from", m.sender);
        F("msgid", m.message_id);
        F("ref", m.ref_message_id);
        if (ndr)
            d.out = apr_psprintf(p, "%s ndr_of=#%d", d.out, ndr);
        F("subj", m.subject);
        F("client", m.client);
        F("auth", m.auth_user);
        F("notify", m.notify_kind);
#undef F
        d.out = apr_psprintf(p, "%s flags=%s rcpts=", d.out, flag_letters(p, m.flags));
        for (j = 0; j < m.rcpts->nelts; j++) {
            const mt_rcpt_t *r = &APR_ARRAY_IDX(m.rcpts, j, mt_rcpt_t);
            d.out = apr_psprintf(p, "%s%s%s%s%s", d.out, j ? "," : "", r->addr,
                                 r->orig ? "<" : "", r->orig ? r->orig : "");
            if (r->flags)
                d.out = apr_psprintf(p, "%s:%s%s%s%s%s", d.out,
                                     r->flags & MT_RCPT_TO ? "to" : "",
                                     r->flags & MT_RCPT_CC ? "cc" : "",
                                     r->flags & MT_RCPT_BCC ? "bcc" : "",
                                     r->flags & MT_RCPT_PENDING ? "P" : "",
                                     r->flags & MT_RCPT_DONE ? "D" : "");
        }
        if (m.hdr_rcpts->nelts) {
            d.out = apr_psprintf(p, "%s hdr=", d.out);
            for (j = 0; j < m.hdr_rcpts->nelts; j++)
                d.out = apr_psprintf(p, "%s%s%s", d.out, j ? "," : "",
                                     APR_ARRAY_IDX(m.hdr_rcpts, j, const char *));
        }
        if ((err = mt_store_events(d.txn, p, d.keys[i], describe_event, &d)) != NULL)
            return err;
    }
    mt_store_abort(d.txn);
    return d.out;
}

/* ------------------------------------------------------------------ running lines */

#define MAXL 24

typedef struct {
    const char *name;
    mt_format_e format;
    const char *lines[MAXL];
    const char *want;
} case_t;

/* Feed @a c's lines; per_line: one transaction per line. */
static const char *run(apr_pool_t *p, const case_t *c, int per_line, const char **dump)
{
    const char *dir = tmpdir_make(p, "mt-corr"), *err = NULL;
    mt_store_t *st;
    mt_corr_t *corr = mt_corr_create(p);
    mt_msgtrk_state_t *ms = mt_msgtrk_state_create(p);
    mt_parse_opts_t opts;
    mt_txn_t *txn = NULL;
    apr_pool_t *tp;
    int i;

    memset(&opts, 0, sizeof(opts));
    opts.clock.year = 2026;
    if (c->format == MT_FORMAT_DOVECOT)
        opts.host = "imap.example.org";
    if ((err = mt_store_open(p, dir, MT_STORE_WRITER, &st)) != NULL)
        return err;
    apr_pool_create(&tp, p);
    for (i = 0; i < MAXL && c->lines[i]; i++) {
        mt_logrec_t rec;
        const char *why = NULL;
        int rc;
        if (!txn) {
            if ((err = mt_store_begin(st, tp, &txn)) != NULL)
                break;
            mt_corr_begin(corr, txn);
        }
        mt_logrec_clear(&rec);
        rc = c->format == MT_FORMAT_POSTFIX ? mt_parse_postfix_line(&opts, c->lines[i], tp, &rec, &why)
           : c->format == MT_FORMAT_DOVECOT ? mt_parse_dovecot_line(&opts, c->lines[i], tp, &rec, &why)
           : mt_parse_msgtrk_line(ms, &opts, c->lines[i], tp, &rec, &why);
        if (rc < 0) {
            err = apr_psprintf(p, "line %d does not parse: %s", i + 1, why);
            break;
        }
        if (rc > 0 && (err = mt_corr_apply(corr, &rec)) != NULL)
            break;
        if (per_line || !c->lines[i + 1] || i + 1 == MAXL) {
            if ((err = mt_corr_flush(corr)) != NULL || (err = mt_store_commit(txn)) != NULL)
                break;
            mt_corr_end(corr);
            txn = NULL;
        }
    }
    if (!err)
        *dump = describe(st, p);
    mt_store_close(st);
    tmpdir_remove(p, dir);
    return err;
}

/* ------------------------------------------------------------------ cases */

#define MSGTRK_FIELDS "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname," \
    "source-context,connector-id,source,event-id,internal-message-id,message-id," \
    "network-message-id,recipient-address,recipient-status,total-bytes,recipient-count," \
    "related-recipient-address,reference,message-subject,sender-address,return-path," \
    "message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data," \
    "transport-traffic-type,log-id,schema-version"
/* A row: time, server, source, event, internal id, message id, recipients,
 * statuses, related recipient, reference, subject, sender, client. */
#define ROW(t, srv, src, ev, iid, mid, rc, rs, rel, ref, subj, from, cl) \
    t ",192.0.2.11," cl ",192.0.2.11," srv ",,," src "," ev "," iid "," mid ",," rc "," rs \
    ",100,1," rel "," ref "," subj "," from "," from ",,Originating,,,,,Email,0,15"

static const case_t cases[] = {
    { "submission to To, Cc and a Bcc recipient over LMTP", MT_FORMAT_POSTFIX, {
      "Nov 20 09:15:03 mx1 postfix/submission/smtpd[2101]: 4C1D52B1F3A: client=ws-alice.example.org[192.0.2.101], sasl_method=PLAIN, sasl_username=alice@example.org",
      "Nov 20 09:15:03 mx1 postfix/submission/cleanup[2104]: 4C1D52B1F3A: message-id=<a1@example.org>",
      "Nov 20 09:15:03 mx1 postfix/submission/cleanup[2104]: 4C1D52B1F3A: info: header To: Bob Example <bob@example.org> from ws-alice.example.org[192.0.2.101]; from=<alice@example.org> to=<dave@example.org> proto=ESMTP helo=<[192.0.2.101]>",
      "Nov 20 09:15:03 mx1 postfix/submission/cleanup[2104]: 4C1D52B1F3A: info: header Cc: \"Example, Carol\" <Carol@Example.org> from ws-alice.example.org[192.0.2.101]; from=<alice@example.org> to=<dave@example.org> proto=ESMTP helo=<[192.0.2.101]>",
      "Nov 20 09:15:03 mx1 postfix/submission/cleanup[2104]: 4C1D52B1F3A: info: header Subject: Q3 results from ws-alice.example.org[192.0.2.101]; from=<alice@example.org> to=<dave@example.org> proto=ESMTP helo=<[192.0.2.101]>",
      "Nov 20 09:15:03 mx1 postfix/qmgr[1187]: 4C1D52B1F3A: from=<alice@example.org>, size=48213, nrcpt=3 (queue active)",
      "Nov 20 09:15:03 mx1 postfix/lmtp[2105]: 4C1D52B1F3A: to=<bob@example.org>, relay=imap.example.org[192.0.2.20]:24, delay=0.47, delays=0.21/0.01/0.04/0.21, dsn=2.0.0, status=sent (250 2.0.0 <bob@example.org> Wq0VH3sFQ2V3XwAAq3Gd2A Saved)",
      "Nov 20 09:15:03 mx1 postfix/lmtp[2105]: 4C1D52B1F3A: to=<carol@example.org>, relay=imap.example.org[192.0.2.20]:24, delay=0.47, delays=0.21/0.01/0.04/0.21, dsn=2.0.0, status=sent (250 2.0.0 <carol@example.org> Wq0VH3sFQ2V3XwAAq3Gd2A:R2 Saved)",
      "Nov 20 09:15:03 mx1 postfix/lmtp[2105]: 4C1D52B1F3A: to=<dave@example.org>, relay=imap.example.org[192.0.2.20]:24, delay=0.47, delays=0.21/0.01/0.04/0.21, dsn=2.0.0, status=sent (250 2.0.0 <dave@example.org> Wq0VH3sFQ2V3XwAAq3Gd2A:R3 Saved)",
      "Nov 20 09:15:03 mx1 postfix/qmgr[1187]: 4C1D52B1F3A: removed" },
      "P mx1 4C1D52B1F3A from=alice@example.org msgid=<a1@example.org> subj=Q3 results "
      "client=ws-alice.example.org[192.0.2.101] auth=alice@example.org flags=SURH "
      "rcpts=bob@example.org:D,carol@example.org:D,dave@example.org:D "
      "hdr=bob@example.org,carol@example.org | submit,deliver:bob@example.org~Wq0VH3sFQ2V3XwAAq3Gd2A,"
      "deliver:carol@example.org~Wq0VH3sFQ2V3XwAAq3Gd2A:R2,"
      "deliver:dave@example.org~Wq0VH3sFQ2V3XwAAq3Gd2A:R3" },

    { "alias expansion, a relay with queued as, and a duplicate recipient", MT_FORMAT_POSTFIX, {
      "Nov 20 09:18:11 mx1 postfix/smtpd[2109]: 7E2A91C40D2: client=mail.example.net[198.51.100.40]",
      "Nov 20 09:18:11 mx1 postfix/cleanup[2115]: 7E2A91C40D2: message-id=<b@example.net>",
      "Nov 20 09:18:11 mx1 postfix/qmgr[1187]: 7E2A91C40D2: from=<paula@example.net>, size=6124, nrcpt=3 (queue active)",
      "Nov 20 09:18:11 mx1 postfix/lmtp[2116]: 7E2A91C40D2: to=<bob@example.org>, orig_to=<team@example.org>, relay=imap.example.org[192.0.2.20]:24, delay=0.36, delays=0.18/0.01/0.03/0.14, dsn=2.0.0, status=sent (250 2.0.0 <bob@example.org> 8N1vNH4IQ2WzYAAAq3Gd2A Saved)",
      "Nov 20 09:18:11 mx1 postfix/lmtp[2116]: 7E2A91C40D2: to=<bob@example.org>, relay=imap.example.org[192.0.2.20]:24, delay=0.36, delays=0.18/0.01/0.03/0.14, dsn=2.0.0, status=sent (250 2.0.0 <bob@example.org> 8N1vNH4IQ2WzYAAAq3Gd2A Saved)",
      "Nov 20 09:18:12 mx1 postfix/smtp[2117]: 7E2A91C40D2: to=<ivan@example.org>, relay=mx2.example.org[192.0.2.12]:25, delay=1.1, delays=0.1/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 3B7D4A02E6)",
      "Nov 20 09:18:12 mx1 postfix/qmgr[1187]: 7E2A91C40D2: removed" },
      "P mx1 7E2A91C40D2 from=paula@example.net msgid=<b@example.net> "
      "client=mail.example.net[198.51.100.40] flags=SR "
      "rcpts=bob@example.org<team@example.org:D,bob@example.org:D,ivan@example.org:D | receive,"
      "expand:bob@example.org<team@example.org,deliver:bob@example.org<team@example.org~8N1vNH4IQ2WzYAAAq3Gd2A,"
      "deliver:bob@example.org~8N1vNH4IQ2WzYAAAq3Gd2A,relay:ivan@example.org>3B7D4A02E6" },

    { "a queue id reused after removed starts a new hop", MT_FORMAT_POSTFIX, {
      "Nov 20 10:00:00 mx1 postfix/pickup[900]: 1A2B3C4D5E: uid=1000 from=<cron@mx1.example.org>",
      "Nov 20 10:00:00 mx1 postfix/cleanup[901]: 1A2B3C4D5E: message-id=<c1@mx1.example.org>",
      "Nov 20 10:00:00 mx1 postfix/qmgr[1187]: 1A2B3C4D5E: from=<cron@mx1.example.org>, size=500, nrcpt=1 (queue active)",
      "Nov 20 10:00:01 mx1 postfix/local[902]: 1A2B3C4D5E: to=<root@mx1.example.org>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)",
      "Nov 20 10:00:01 mx1 postfix/qmgr[1187]: 1A2B3C4D5E: removed",
      "Nov 20 11:00:00 mx1 postfix/pickup[900]: 1A2B3C4D5E: uid=1000 from=<cron@mx1.example.org>",
      "Nov 20 11:00:00 mx1 postfix/cleanup[901]: 1A2B3C4D5E: message-id=<c2@mx1.example.org>",
      "Nov 20 11:00:00 mx2 postfix/cleanup[901]: 1A2B3C4D5E: message-id=<other-host@mx2.example.org>" },
      "P mx1 1A2B3C4D5E from=cron@mx1.example.org msgid=<c1@mx1.example.org> auth=uid=1000 "
      "flags=SUR rcpts=root@mx1.example.org:D | submit,deliver:root@mx1.example.org\n"
      "P mx1 1A2B3C4D5E from=cron@mx1.example.org msgid=<c2@mx1.example.org> auth=uid=1000 "
      "flags=SU rcpts= | submit\n"
      "P mx2 1A2B3C4D5E msgid=<other-host@mx2.example.org> flags= rcpts=" },

    { "deferrals, then expiry ends the deferred recipient only", MT_FORMAT_POSTFIX, {
      "Nov 20 09:40:00 mx1 postfix/smtpd[2200]: 0C47B2C1E8D: client=ws-alice.example.org[192.0.2.101], sasl_method=PLAIN, sasl_username=alice@example.org",
      "Nov 20 09:40:00 mx1 postfix/qmgr[1187]: 0C47B2C1E8D: from=<alice@example.org>, size=900, nrcpt=2 (queue active)",
      "Nov 20 09:40:01 mx1 postfix/smtp[2201]: 0C47B2C1E8D: to=<greg@example.com>, relay=mx.example.com[203.0.113.5]:25, delay=1, delays=0/0/0.5/0.5, dsn=4.2.2, status=deferred (host mx.example.com[203.0.113.5] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command))",
      "Nov 20 09:40:01 mx1 postfix/smtp[2201]: 0C47B2C1E8D: to=<hal@example.com>, relay=mx.example.com[203.0.113.5]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as XYZ123)",
      "Nov 20 13:40:02 mx1 postfix/smtp[2202]: 0C47B2C1E8D: to=<greg@example.com>, relay=mx.example.com[203.0.113.5]:25, delay=14402, delays=14401/0/0.5/0.5, dsn=4.2.2, status=deferred (host mx.example.com[203.0.113.5] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command))",
      "Nov 20 13:40:02 mx1 postfix/qmgr[1187]: 0C47B2C1E8D: from=<alice@example.org>, status=expired, returned to sender",
      "Nov 20 13:40:02 mx1 postfix/bounce[2203]: 0C47B2C1E8D: sender non-delivery notification: D31A8C6A4F2",
      "Nov 20 13:40:02 mx1 postfix/qmgr[1187]: 0C47B2C1E8D: removed" },
      "P mx1 0C47B2C1E8D from=alice@example.org client=ws-alice.example.org[192.0.2.101] "
      "auth=alice@example.org flags=SURE rcpts=greg@example.com:D,hal@example.com:D | submit,"
      "defer:greg@example.com#4.2.2,relay:hal@example.com>XYZ123,defer:greg@example.com#4.2.2,"
      "fail:greg@example.com#4.4.7\n"
      "P mx1 D31A8C6A4F2 ndr_of=#1 notify=non-delivery flags=N rcpts=" },

    { "a bounce whose NDR's own lines come first", MT_FORMAT_POSTFIX, {
      "Nov 20 09:30:00 mx1 postfix/smtpd[2300]: 5F0C37C2E19: client=ws-alice.example.org[192.0.2.101], sasl_method=PLAIN, sasl_username=alice@example.org",
      "Nov 20 09:30:00 mx1 postfix/cleanup[2301]: 5F0C37C2E19: message-id=<e@example.org>",
      "Nov 20 09:30:00 mx1 postfix/qmgr[1187]: 5F0C37C2E19: from=<alice@example.org>, size=900, nrcpt=1 (queue active)",
      "Nov 20 09:30:01 mx1 postfix/smtp[2302]: 5F0C37C2E19: to=<nobody@example.net>, relay=mx.example.net[198.51.100.7]:25, delay=0.5, delays=0/0/0.2/0.3, dsn=5.1.1, status=bounced (host mx.example.net[198.51.100.7] said: 550 5.1.1 <nobody@example.net>: Recipient address rejected (in reply to RCPT TO command))",
      "Nov 20 09:30:01 mx1 postfix/cleanup[2301]: 6D4B10C30F4: message-id=<ndr-e@mx1.example.org>",
      "Nov 20 09:30:01 mx1 postfix/qmgr[1187]: 6D4B10C30F4: from=<>, size=2900, nrcpt=1 (queue active)",
      "Nov 20 09:30:01 mx1 postfix/bounce[2303]: 5F0C37C2E19: sender non-delivery notification: 6D4B10C30F4",
      "Nov 20 09:30:01 mx1 postfix/qmgr[1187]: 5F0C37C2E19: removed",
      "Nov 20 09:30:01 mx1 postfix/lmtp[2304]: 6D4B10C30F4: to=<alice@example.org>, relay=imap.example.org[192.0.2.20]:24, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <alice@example.org> Xy Saved)",
      "Nov 20 09:30:01 mx1 postfix/qmgr[1187]: 6D4B10C30F4: removed" },
      "P mx1 5F0C37C2E19 from=alice@example.org msgid=<e@example.org> "
      "client=ws-alice.example.org[192.0.2.101] auth=alice@example.org flags=SUR "
      "rcpts=nobody@example.net:D | submit,fail:nobody@example.net#5.1.1\n"
      "P mx1 6D4B10C30F4 from= msgid=<ndr-e@mx1.example.org> ref=<e@example.org> ndr_of=#1 "
      "notify=non-delivery flags=RN rcpts=alice@example.org:D | deliver:alice@example.org~Xy" },

    { "a NOQUEUE reject is a hop of its own", MT_FORMAT_POSTFIX, {
      "Nov 20 09:16:41 mx1 postfix/smtpd[2109]: NOQUEUE: reject: RCPT from bulk.example.com[203.0.113.90]: 550 5.1.1 <nosuch@example.org>: Recipient address rejected: User unknown in virtual mailbox table; from=<news@bulk.example.com> to=<nosuch@example.org> proto=ESMTP helo=<bulk.example.com>" },
      "P mx1 NOQUEUE from=news@bulk.example.com client=bulk.example.com[203.0.113.90] flags=SR "
      "rcpts=nosuch@example.org | receive,fail:nosuch@example.org#5.1.1" },

    { "Dovecot: delivery, Sieve filing, read, deleted unread, moved to Trash", MT_FORMAT_DOVECOT, {
      "Nov 20 09:15:03 lmtp(bob@example.org)<3301><Wq0VH3sFQ2V3XwAAq3Gd2A>: Info: msgid=<a1@example.org>: saved mail to INBOX",
      "Nov 20 09:15:03 lmtp(carol@example.org)<3301><Wq0VH3sFQ2V3XwAAq3Gd2A:R2>: Info: sieve: msgid=<a1@example.org>: stored mail into mailbox 'INBOX'",
      "Nov 20 09:15:03 lmtp(dave@example.org)<3301><Wq0VH3sFQ2V3XwAAq3Gd2A:R3>: Info: msgid=<a1@example.org>: saved mail to INBOX",
      "Nov 20 09:18:11 lmtp(erin@example.org)<3307><8N1vNH4IQ2WzYAAAq3Gd2A:R2>: Info: sieve: msgid=<b@example.net>: fileinto action: stored mail into mailbox 'Lists'",
      "Nov 20 09:22:14 imap(bob@example.org)<4102><kd8s7FsHxIHAqAAC>: Info: flag_change: box=INBOX, uid=1187, msgid=<a1@example.org>, size=48702, vsize=49577, from=Alice <alice@example.org>, subject=Q3, flags=(\\Seen)",
      "Nov 20 09:22:15 imap(bob@example.org)<4102><kd8s7FsHxIHAqAAC>: Info: flag_change: box=INBOX, uid=1187, msgid=<a1@example.org>, size=48702, vsize=49577, from=Alice <alice@example.org>, subject=Q3, flags=(\\Seen \\Flagged)",
      "Nov 20 09:22:16 imap(bob@example.org)<4102><kd8s7FsHxIHAqAAC>: Info: delete: box=INBOX, uid=1187, msgid=<a1@example.org>, size=48702, vsize=49577, from=Alice <alice@example.org>, subject=Q3, flags=(\\Seen \\Deleted)",
      "Nov 20 09:25:00 imap(carol@example.org)<4110><aaaa>: Info: delete: box=INBOX, uid=77, msgid=<a1@example.org>, size=48702, vsize=49577, from=Alice <alice@example.org>, subject=Q3, flags=(\\Deleted)",
      "Nov 20 09:25:01 imap(carol@example.org)<4110><aaaa>: Info: expunge: box=INBOX, uid=77, msgid=<a1@example.org>, size=48702, vsize=49577, from=Alice <alice@example.org>, subject=Q3, flags=(\\Deleted)",
      "Nov 20 09:26:00 imap(dave@example.org)<4111><bbbb>: Info: copy from INBOX: box=Trash, uid=5, msgid=<a1@example.org>, size=48702, vsize=49577, from=Alice <alice@example.org>, subject=Q3, flags=()" },
      "M imap.example.org bob@example.org msgid=<a1@example.org> flags=r rcpts=bob@example.org | "
      "deliver:bob@example.org@INBOX~Wq0VH3sFQ2V3XwAAq3Gd2A,read:bob@example.org@INBOX~kd8s7FsHxIHAqAAC\n"
      "M imap.example.org carol@example.org msgid=<a1@example.org> flags=n rcpts=carol@example.org | "
      "deliver:carol@example.org@INBOX~Wq0VH3sFQ2V3XwAAq3Gd2A:R2,notread:carol@example.org@INBOX~aaaa\n"
      "M imap.example.org dave@example.org msgid=<a1@example.org> flags=n rcpts=dave@example.org | "
      "deliver:dave@example.org@INBOX~Wq0VH3sFQ2V3XwAAq3Gd2A:R3,notread:dave@example.org@Trash~bbbb\n"
      "M imap.example.org erin@example.org msgid=<b@example.net> flags= rcpts=erin@example.org | "
      "filed:erin@example.org@Lists~8N1vNH4IQ2WzYAAAq3Gd2A:R2" },

    { "Exchange: submit with To/Cc/Bcc, resolve, expand, send, deliver, duplicate, fail, DSN", MT_FORMAT_MSGTRK, {
      MSGTRK_FIELDS,
      ROW("2026-11-20T09:15:01.702Z", "MBX01.corp.example.org", "STOREDRIVER", "SUBMIT", "0",
          "<q4@MBX01>", "", "", "", "", "Q4 budget", "alice@example.org", "MBX01.corp.example.org"),
      ROW("2026-11-20T09:15:01.812Z", "MBX01.corp.example.org", "STOREDRIVER", "RECEIVE", "24051",
          "<q4@MBX01>", "bob.jones@example.org;finance@example.org;lee@example.net", "To;Cc;Bcc",
          "", "", "Q4 budget", "alice@example.org", "MBX01.corp.example.org"),
      ROW("2026-11-20T09:15:01.840Z", "MBX01.corp.example.org", "ROUTING", "RESOLVE", "24051",
          "<q4@MBX01>", "bob@example.org", "", "bob.jones@example.org", "", "Q4 budget",
          "alice@example.org", "MBX01.corp.example.org"),
      ROW("2026-11-20T09:15:01.850Z", "MBX01.corp.example.org", "ROUTING", "EXPAND", "24051",
          "<q4@MBX01>", "fin1@example.org;fin2@example.org", "", "finance@example.org", "",
          "Q4 budget", "alice@example.org", "MBX01.corp.example.org"),
      ROW("2026-11-20T09:15:02.000Z", "mx.example.net", "SMTP", "SENDEXTERNAL", "24051",
          "<q4@MBX01>", "lee@example.net", "250 2.6.0 queued", "", "", "Q4 budget",
          "alice@example.org", "MBX01.corp.example.org"),
      ROW("2026-11-20T09:15:02.100Z", "MBX01.corp.example.org", "STOREDRIVER", "DELIVER", "24051",
          "<q4@MBX01>", "bob@example.org;fin1@example.org", "", "", "", "Q4 budget",
          "alice@example.org", "MBX01.corp.example.org"),
      /* the store dropped a second copy: no second Delivered */
      ROW("2026-11-20T09:15:02.150Z", "MBX01.corp.example.org", "STOREDRIVER", "DUPLICATEDELIVER",
          "24051", "<q4@MBX01>", "bob@example.org", "", "", "", "Q4 budget", "alice@example.org",
          "MBX01.corp.example.org"),
      ROW("2026-11-20T09:15:02.200Z", "MBX01.corp.example.org", "ROUTING", "FAIL", "24051",
          "<q4@MBX01>", "fin2@example.org", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found",
          "", "", "Q4 budget", "alice@example.org", "MBX01.corp.example.org"),
      ROW("2026-11-20T09:15:02.300Z", "MBX01.corp.example.org", "DSN", "DSN", "24052",
          "<dsn1@MBX01>", "alice@example.org", "", "", "<q4@MBX01>", "Undeliverable: Q4 budget",
          "", "MBX01.corp.example.org") },
      "X mbx01.corp.example.org msgid:<q4@MBX01> from=alice@example.org msgid=<q4@MBX01> "
      "subj=Q4 budget flags=SU rcpts= | submit\n"
      "X mbx01.corp.example.org 24051 from=alice@example.org msgid=<q4@MBX01> subj=Q4 budget "
      "flags=SU rcpts=bob.jones@example.org:to,finance@example.org:cc,lee@example.net:bcc,"
      "bob@example.org<bob.jones@example.org,fin1@example.org<finance@example.org,"
      "fin2@example.org<finance@example.org | submit,resolve:bob@example.org<bob.jones@example.org,"
      "expand:fin1@example.org<finance@example.org,expand:fin2@example.org<finance@example.org,"
      "relay-external:lee@example.net,deliver:bob@example.org<bob.jones@example.org,"
      "deliver:fin1@example.org<finance@example.org,fail:fin2@example.org<finance@example.org#5.1.10\n"
      "X mbx01.corp.example.org 24052 msgid=<dsn1@MBX01> ref=<q4@MBX01> subj=Undeliverable: Q4 budget "
      "notify=delivery status flags=N rcpts=alice@example.org" },
};

int main(void)
{
    apr_pool_t *p;
    int i;

    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
        const char *one = NULL, *each = NULL, *err;
        err = run(p, &cases[i], 0, &one);
        if (!ok(!err, "%s: runs in one transaction", cases[i].name))
            printf("#   %s\n", err);
        err = run(p, &cases[i], 1, &each);
        if (!ok(!err, "%s: runs a transaction per line", cases[i].name))
            printf("#   %s\n", err);
        is_str(one, cases[i].want, "%s: hops and events", cases[i].name);
        is_str(each, one, "%s: the same when state lives only in the index", cases[i].name);
    }
    {
        static const struct { const char *text, *want; } s[] = {
            { "250 2.0.0 <bob@example.org> Wq0VH3sFQ2V3XwAAq3Gd2A Saved", "Wq0VH3sFQ2V3XwAAq3Gd2A" },
            { "250 2.0.0 <c@example.org> Wq0VH3sFQ2V3XwAAq3Gd2A:R2 Saved", "Wq0VH3sFQ2V3XwAAq3Gd2A:R2" },
            { "250 2.0.0 Ok: queued as 4Fk2Zr3q1Jz9tXY", NULL },
            { "delivered to mailbox", NULL },
            { "Saved", NULL },
            { "250 <x> Saved", NULL },
        };
        for (i = 0; i < (int)(sizeof(s) / sizeof(s[0])); i++)
            is_str(mt_corr_lmtp_session(p, s[i].text), s[i].want, "LMTP session of '%s'", s[i].text);
    }
    {
        static const struct { const char *value, *want; } h[] = {
            { "Bob Example <bob@example.org>", "bob@example.org" },
            { "bob@example.org, Carol <CAROL@example.org>", "bob@example.org carol@example.org" },
            { "\"Doe, John <x@y>\" <john@example.org>", "john@example.org" },
            { "undisclosed-recipients:;", "" },
            { "a@x (comment, with@at), b@y", "a@x b@y" },
            { "Team: a@x, b@y;", "a@x b@y" },
            { "bob@example.org, bob@example.org", "bob@example.org" },
        };
        for (i = 0; i < (int)(sizeof(h) / sizeof(h[0])); i++) {
            apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
            const char *got = "";
            int j;
            mt_corr_header_addresses(p, h[i].value, a);
            for (j = 0; j < a->nelts; j++)
                got = apr_pstrcat(p, got, j ? " " : "", APR_ARRAY_IDX(a, j, const char *), NULL);
            is_str(got, h[i].want, "addresses in header '%s'", h[i].value);
        }
    }
    printf("1..%d\n", tap_count);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_failures != 0;
}
