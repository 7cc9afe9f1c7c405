/* test_sample_data.c: the sample logs in t/data, line by line (TAP)
 *
 * Every line of t/data/postfix/mail.log, t/data/dovecot/dovecot.log, the logs
 * real daemons wrote in t/data/e2e/ and the Exchange files in t/data/msgtrk/
 * goes through its parser. No line may be
 * refused, and the records of each kind are counted against the table
 * below: a change to the samples or to what a parser makes of them shows
 * up here (update the table knowingly). A few records are then checked
 * field by field, and the two open-source logs against each other: every
 * LMTP delivery Postfix reports as sent names a Dovecot session whose
 * delivery carries the same Message-ID, and the other way round.
 *
 * The directory is $MSGTRACK_DATA_DIR (set by Makefile.am), else "t/data". */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_tables.h>
#include "tap.h"
#include "mt_parse.h"

#define NKINDS ((int)MT_REC_MSGTRK + 1)

static const char *kind_name(int k)
{
    static const char *const names[NKINDS] = {
        "NONE", "PF_CLIENT", "PF_PICKUP", "PF_MESSAGE_ID", "PF_HEADER", "PF_QUEUED",
        "PF_DELIVERY", "PF_EXPIRED", "PF_NOTIFY", "PF_REMOVED", "PF_REJECT",
        "DV_DELIVERED", "DV_MAILLOG", "MSGTRK"
    };
    return k >= 0 && k < NKINDS ? names[k] : "?";
}

typedef enum { PARSE_POSTFIX, PARSE_DOVECOT, PARSE_MSGTRK } parser_e;

typedef struct {
    mt_rec_kind_e kind;
    int n;
} count_t;

/* What each file holds: its lines, the lines of no interest (0) and the
 * records per kind (kinds not listed: none). */
typedef struct {
    const char *file;
    parser_e parser;
    int lines, skipped;
    count_t kinds[12];
} expect_t;

static const expect_t expected[] = {
    { "postfix/mail.log", PARSE_POSTFIX, 193, 83, {
        { MT_REC_PF_CLIENT, 9 }, { MT_REC_PF_PICKUP, 1 }, { MT_REC_PF_MESSAGE_ID, 14 },
        { MT_REC_PF_HEADER, 15 }, { MT_REC_PF_QUEUED, 23 }, { MT_REC_PF_DELIVERY, 28 },
        { MT_REC_PF_EXPIRED, 1 }, { MT_REC_PF_NOTIFY, 4 }, { MT_REC_PF_REMOVED, 14 },
        { MT_REC_PF_REJECT, 1 } } },
    { "dovecot/dovecot.log", PARSE_DOVECOT, 47, 27, {
        { MT_REC_DV_DELIVERED, 12 }, { MT_REC_DV_MAILLOG, 8 } } },
    { "e2e/maillog", PARSE_POSTFIX, 80, 21, {
        { MT_REC_PF_CLIENT, 5 }, { MT_REC_PF_PICKUP, 1 }, { MT_REC_PF_MESSAGE_ID, 8 },
        { MT_REC_PF_HEADER, 13 }, { MT_REC_PF_QUEUED, 9 }, { MT_REC_PF_DELIVERY, 12 },
        { MT_REC_PF_NOTIFY, 2 }, { MT_REC_PF_REMOVED, 8 }, { MT_REC_PF_REJECT, 1 } } },
    { "e2e/dovecot.log", PARSE_DOVECOT, 43, 31, {
        { MT_REC_DV_DELIVERED, 7 }, { MT_REC_DV_MAILLOG, 5 } } },
    { "msgtrk/MSGTRK-2010.LOG", PARSE_MSGTRK, 15, 5, { { MT_REC_MSGTRK, 10 } } },
    { "msgtrk/MSGTRK20261120-1.LOG", PARSE_MSGTRK, 46, 5, { { MT_REC_MSGTRK, 41 } } },
};
#define NFILES (sizeof(expected) / sizeof(expected[0]))

/* The records of one file, in line order. */
typedef struct {
    apr_array_header_t *recs;   /* mt_logrec_t */
    int lines, skipped, refused;
    int counts[NKINDS];
} parsed_t;

static char *slurp(apr_pool_t *p, const char *path)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *buf;

    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p) != APR_SUCCESS)
        return NULL;
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        apr_file_close(f);
        return NULL;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    if (n && apr_file_read_full(f, buf, n, &n) != APR_SUCCESS) {
        apr_file_close(f);
        return NULL;
    }
    buf[n] = '\0';
    apr_file_close(f);
    return buf;
}

static int parse_file(apr_pool_t *p, const char *dir, const expect_t *e, parsed_t *out)
{
    const char *path = apr_pstrcat(p, dir, "/", e->file, NULL);
    char *buf = slurp(p, path), *line, *nl;
    mt_msgtrk_state_t *st = mt_msgtrk_state_create(p);
    mt_parse_opts_t opts;

    memset(out, 0, sizeof(*out));
    out->recs = apr_array_make(p, 256, sizeof(mt_logrec_t));
    if (!buf) {
        ok(0, "%s: read %s", e->file, path);
        return -1;
    }
    memset(&opts, 0, sizeof(opts));
    opts.clock.year = 2026;

    for (line = buf; *line; line = nl ? nl + 1 : line + strlen(line)) {
        mt_logrec_t rec;
        const char *why = NULL;
        int rc;

        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        out->lines++;
        rec.line = out->lines;
        switch (e->parser) {
        case PARSE_POSTFIX:
            rc = mt_parse_postfix_line(&opts, line, p, &rec, &why);
            break;
        case PARSE_DOVECOT:
            rc = mt_parse_dovecot_line(&opts, line, p, &rec, &why);
            break;
        default:
            rc = mt_parse_msgtrk_line(st, &opts, line, p, &rec, &why);
            break;
        }
        if (rc < 0) {
            out->refused++;
            printf("# %s:%d: %s\n", e->file, out->lines, why ? why : "(no reason given)");
        }
        else if (rc == 0) {
            out->skipped++;
        }
        else {
            if (rec.kind > MT_REC_NONE && (int)rec.kind < NKINDS)
                out->counts[rec.kind]++;
            if (rec.line != out->lines)
                printf("# %s:%d: record says line %ld\n", e->file, out->lines, rec.line);
            *(mt_logrec_t *)apr_array_push(out->recs) = rec;
        }
    }
    return 0;
}

static void check_counts(const expect_t *e, const parsed_t *got)
{
    int want[NKINDS], k;
    size_t i;

    memset(want, 0, sizeof(want));
    for (i = 0; i < sizeof(e->kinds) / sizeof(e->kinds[0]) && e->kinds[i].kind; i++)
        want[e->kinds[i].kind] = e->kinds[i].n;

    is_int(got->refused, 0, "%s: no line refused", e->file);
    is_int(got->lines, e->lines, "%s: %d lines", e->file, e->lines);
    is_int(got->skipped, e->skipped, "%s: %d lines of no interest", e->file, e->skipped);
    for (k = MT_REC_NONE + 1; k < NKINDS; k++)
        if (want[k] || got->counts[k])
            is_int(got->counts[k], want[k], "%s: %d %s", e->file, want[k], kind_name(k));
}

#define REC(pd, i) (&APR_ARRAY_IDX((pd)->recs, (i), mt_logrec_t))

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* The first record of @a kind from @a from on with queue id @a qid (NULL: any)
 * and recipient @a rcpt (NULL: any); its index, or -1. */
static int find_pf(const parsed_t *pd, int from, mt_rec_kind_e kind, const char *qid,
                   const char *rcpt)
{
    int i;
    for (i = from; i < pd->recs->nelts; i++) {
        const mt_logrec_t *r = REC(pd, i);
        if (r->kind == kind && (!qid || streq(r->queue_id, qid))
            && (!rcpt || streq(r->recipient, rcpt)))
            return i;
    }
    return -1;
}

static const char *pf_message_id(const parsed_t *pf, const char *host, const char *qid)
{
    int i;
    for (i = 0; i < pf->recs->nelts; i++) {
        const mt_logrec_t *r = REC(pf, i);
        if (r->kind == MT_REC_PF_MESSAGE_ID && streq(r->queue_id, qid) && streq(r->host, host))
            return r->message_id;
    }
    return NULL;
}

/* The session id in Dovecot's LMTP reply "250 2.0.0 <rcpt> SESSION Saved". */
static const char *lmtp_session(apr_pool_t *p, const char *text)
{
    const char *s, *e;
    if (!text || strncmp(text, "250 2.0.0 <", 11) != 0 || !(s = strstr(text, "> ")))
        return NULL;
    s += 2;
    e = strchr(s, ' ');
    return e && strcmp(e, " Saved") == 0 ? apr_pstrmemdup(p, s, (apr_size_t)(e - s)) : NULL;
}

static void check_postfix(apr_pool_t *p, const parsed_t *pf)
{
    const mt_logrec_t *r;
    int i, j, last;
    apr_time_exp_t tm;

    /* (a): dave, the Bcc recipient, in the same LMTP transaction as bob and carol */
    i = find_pf(pf, 0, MT_REC_PF_DELIVERY, "4C1D52B1F3A", "dave@example.org");
    ok(i >= 0, "postfix: LMTP delivery for dave");
    if (i >= 0) {
        r = REC(pf, i);
        is_str(r->status, "sent", "postfix: dave: status sent");
        is_str(r->dsn, "2.0.0", "postfix: dave: dsn");
        is_str(r->relay, "imap.example.org[192.0.2.20]:24", "postfix: dave: relay");
        is_str(r->host, "mx1", "postfix: dave: host");
        like(r->text, "Wq0VH3sFQ2V3XwAAq3Gd2A:R3", "postfix: dave: Dovecot session with :R3");
        ok(apr_time_exp_gmt(&tm, r->time) == APR_SUCCESS && tm.tm_year == 126
           && tm.tm_mon == 10 && tm.tm_mday == 20 && tm.tm_hour == 9 && tm.tm_min == 15
           && tm.tm_sec == 3, "postfix: dave: Nov 20 09:15:03 in 2026 (TZ=UTC)");
    }
    /* the header_checks lines name To and Cc but not dave: Bcc */
    i = find_pf(pf, 0, MT_REC_PF_HEADER, "4C1D52B1F3A", NULL);
    ok(i >= 0 && i + 2 < pf->recs->nelts && streq(REC(pf, i)->header_name, "To") && streq(REC(pf, i)->recipient, "dave@example.org")
       && REC(pf, i + 1)->kind == MT_REC_PF_HEADER && streq(REC(pf, i + 1)->header_name, "Cc")
       && REC(pf, i + 2)->kind == MT_REC_PF_HEADER && streq(REC(pf, i + 2)->subject, "Q3 results, final figures"),
       "postfix: (a) logs To, Cc and Subject, each with to=<dave@example.org>");
    i = find_pf(pf, 0, MT_REC_PF_CLIENT, "4C1D52B1F3A", NULL);
    ok(i >= 0 && streq(REC(pf, i)->sasl_user, "alice@example.org")
       && streq(REC(pf, i)->program, "postfix/submission/smtpd"), "postfix: (a) submitted by alice");

    /* (e): the NDR's own cleanup and qmgr lines come before the notification */
    i = find_pf(pf, 0, MT_REC_PF_NOTIFY, "5F0C37C2E19", NULL);
    ok(i >= 0, "postfix: (e) has a notification");
    if (i >= 0) {
        r = REC(pf, i);
        is_str(r->notify_kind, "non-delivery", "postfix: (e) notification kind");
        is_str(r->next_queue_id, "6D4B10C30F4", "postfix: (e) notification links to the NDR");
        j = find_pf(pf, 0, MT_REC_PF_QUEUED, "6D4B10C30F4", NULL);
        ok(j >= 0 && j < i && streq(REC(pf, j)->sender, ""), "postfix: (e) NDR queued from=<> before the notification line");
        is_str(pf_message_id(pf, "mx1", "6D4B10C30F4"), "<20261120094212.6D4B10C30F4@mx1.example.org>",
               "postfix: (e) NDR message-id");
    }
    i = find_pf(pf, 0, MT_REC_PF_DELIVERY, "5F0C37C2E19", "nobody@example.net");
    ok(i >= 0 && streq(REC(pf, i)->status, "bounced") && streq(REC(pf, i)->dsn, "5.1.1"),
       "postfix: (e) bounced 5.1.1");

    /* (i): deferred until it expires, with a delay warning on the way */
    i = find_pf(pf, 0, MT_REC_PF_EXPIRED, "0C47B2C1E8D", NULL);
    ok(i >= 0, "postfix: (i) has MT_REC_PF_EXPIRED");
    if (i >= 0) {
        r = REC(pf, i);
        is_str(r->sender, "alice@example.org", "postfix: (i) expired: sender");
        is_str(r->status, "expired", "postfix: (i) expired: status");
        for (last = -1, j = 0; (j = find_pf(pf, j, MT_REC_PF_DELIVERY, "0C47B2C1E8D", NULL)) >= 0; j++)
            last = j;
        ok(last >= 0 && last < i && streq(REC(pf, last)->status, "deferred"),
           "postfix: (i) last recipient line says deferred, before the expiry");
        j = find_pf(pf, i, MT_REC_PF_NOTIFY, "0C47B2C1E8D", NULL);
        ok(j > i && streq(REC(pf, j)->notify_kind, "non-delivery")
           && streq(REC(pf, j)->next_queue_id, "D31A8C6A4F2"), "postfix: (i) returned to sender as D31A8C6A4F2");
    }
    i = find_pf(pf, 0, MT_REC_PF_NOTIFY, "0C47B2C1E8D", NULL);
    ok(i >= 0 && streq(REC(pf, i)->notify_kind, "delay") && streq(REC(pf, i)->next_queue_id, "B5E21C5F06"),
       "postfix: (i) delay notification B5E21C5F06");

    /* (f): mx1 -> mx2, joined by "queued as" and the Message-ID */
    i = find_pf(pf, 0, MT_REC_PF_DELIVERY, "8A61E2C3B57", "ivan@example.org");
    ok(i >= 0 && streq(REC(pf, i)->next_queue_id, "3B7D4A02E6")
       && streq(REC(pf, i)->relay, "mx2.example.org[192.0.2.12]:25"), "postfix: (f) relayed to mx2 as 3B7D4A02E6");
    i = find_pf(pf, 0, MT_REC_PF_CLIENT, "3B7D4A02E6", NULL);
    ok(i >= 0 && streq(REC(pf, i)->host, "mx2") && streq(REC(pf, i)->client_addr, "192.0.2.10"),
       "postfix: (f) received on mx2 from mx1");
    ok(streq(pf_message_id(pf, "mx1", "8A61E2C3B57"), pf_message_id(pf, "mx2", "3B7D4A02E6"))
       && pf_message_id(pf, "mx1", "8A61E2C3B57"), "postfix: (f) same Message-ID on both hosts");
    i = find_pf(pf, 0, MT_REC_PF_HEADER, "8A61E2C3B57", NULL);
    ok(i >= 0 && streq(REC(pf, i)->subject, "Zahlungserinnerung: Rechnung 2026-1183 f\xc3\xa4llig am 30.11.")
       && strstr(REC(pf, i)->header_value, "?=? =?UTF-8?B?"), "postfix: (f) folded B-encoded subject decoded");
    i = find_pf(pf, 0, MT_REC_PF_HEADER, "7E2A91C40D2", NULL);
    ok(i >= 0 && streq(REC(pf, i)->subject, "Caf\xc3\xa9 menu for Friday\xe2\x80\x99s offsite"),
       "postfix: (b) Q-encoded subject decoded");

    /* (g): pickup, LMTP refuses the recipient, NDR to the sender */
    i = find_pf(pf, 0, MT_REC_PF_PICKUP, "1E9F83C4A25", NULL);
    ok(i >= 0 && streq(REC(pf, i)->uid, "1000") && streq(REC(pf, i)->sender, "ops"), "postfix: (g) pickup uid=1000");
    i = find_pf(pf, 0, MT_REC_PF_DELIVERY, "1E9F83C4A25", "reports@example.org");
    ok(i >= 0 && streq(REC(pf, i)->status, "bounced") && strstr(REC(pf, i)->text, "User doesn't exist"),
       "postfix: (g) bounced by LMTP");

    /* (h): NOQUEUE reject */
    i = find_pf(pf, 0, MT_REC_PF_REJECT, NULL, NULL);
    ok(i >= 0 && !REC(pf, i)->queue_id && streq(REC(pf, i)->recipient, "nosuch@example.org")
       && streq(REC(pf, i)->dsn, "5.1.1"), "postfix: (h) NOQUEUE reject at RCPT");

    /* (j): bob directly and through team@: two lines, one Dovecot session */
    i = find_pf(pf, 0, MT_REC_PF_DELIVERY, "E0F29C4B7A3", "bob@example.org");
    j = i >= 0 ? find_pf(pf, i + 1, MT_REC_PF_DELIVERY, "E0F29C4B7A3", "bob@example.org") : -1;
    ok(i >= 0 && j > i && !REC(pf, i)->orig_recipient && streq(REC(pf, j)->orig_recipient, "team@example.org")
       && streq(lmtp_session(p, REC(pf, i)->text), lmtp_session(p, REC(pf, j)->text)),
       "postfix: (j) bob twice, the same Dovecot session");
}

static int find_dv(const parsed_t *dv, mt_rec_kind_e kind, const char *user, const char *session)
{
    int i;
    for (i = 0; i < dv->recs->nelts; i++) {
        const mt_logrec_t *r = REC(dv, i);
        if (r->kind == kind && (!user || streq(r->user, user)) && (!session || streq(r->session, session)))
            return i;
    }
    return -1;
}

static void check_dovecot(const parsed_t *dv)
{
    const mt_logrec_t *r;
    int i;

    i = find_dv(dv, MT_REC_DV_DELIVERED, "erin@example.org", "8N1vNH4IQ2WzYAAAq3Gd2A:R2");
    ok(i >= 0, "dovecot: erin's delivery of (b)");
    if (i >= 0) {
        r = REC(dv, i);
        is_int(r->sieve, 1, "dovecot: erin: by Sieve");
        is_str(r->mailbox, "Lists", "dovecot: erin: fileinto Lists");
        is_str(r->message_id, "<1f6a9d2e-83c4-4b57-a0e1-6c9d3b2f7e45@mail.example.net>", "dovecot: erin: msgid");
        is_str(r->program, "lmtp", "dovecot: erin: lmtp");
        ok(r->host == NULL, "dovecot: erin: no host in Dovecot's own log");
    }
    i = find_dv(dv, MT_REC_DV_DELIVERED, "carol@example.org", NULL);
    ok(i >= 0 && REC(dv, i)->sieve == 1 && streq(REC(dv, i)->mailbox, "INBOX"),
       "dovecot: carol: Sieve keeps in INBOX");
    i = find_dv(dv, MT_REC_DV_DELIVERED, "dave@example.org", NULL);
    ok(i >= 0 && REC(dv, i)->sieve == 0 && streq(REC(dv, i)->mailbox, "INBOX")
       && streq(REC(dv, i)->session, "Wq0VH3sFQ2V3XwAAq3Gd2A:R3"), "dovecot: dave: saved to INBOX, session :R3");

    i = find_dv(dv, MT_REC_DV_MAILLOG, "bob@example.org", NULL);
    ok(i >= 0 && streq(REC(dv, i)->status, "flag_change") && streq(REC(dv, i)->flags, "\\Seen")
       && streq(REC(dv, i)->subject, "Q3 results, final figures") && streq(REC(dv, i)->uid, "1187"),
       "dovecot: bob reads (a)");
    i = find_dv(dv, MT_REC_DV_MAILLOG, "carol@example.org", NULL);
    ok(i >= 0 && i + 1 < dv->recs->nelts && streq(REC(dv, i)->status, "delete")
       && streq(REC(dv, i)->flags, "\\Deleted")
       && REC(dv, i + 1)->kind == MT_REC_DV_MAILLOG && streq(REC(dv, i + 1)->status, "expunge"),
       "dovecot: carol deletes (a) unread, then expunges it");
    i = find_dv(dv, MT_REC_DV_MAILLOG, "dave@example.org", NULL);
    ok(i >= 0 && streq(REC(dv, i)->status, "copy") && streq(REC(dv, i)->source_mailbox, "INBOX")
       && streq(REC(dv, i)->mailbox, "Trash") && streq(REC(dv, i)->flags, ""),
       "dovecot: dave moves (a) to Trash unread");
}

/* Postfix's LMTP replies and Dovecot's deliveries name each other. */
static void check_join(apr_pool_t *p, const parsed_t *pf, const parsed_t *dv)
{
    int i, j, lmtp = 0, matched = 0, back = 0, delivered = 0;

    for (i = 0; i < pf->recs->nelts; i++) {
        const mt_logrec_t *r = REC(pf, i);
        const char *sess, *mid;
        if (r->kind != MT_REC_PF_DELIVERY || !streq(r->status, "sent")
            || !r->relay || strncmp(r->relay, "imap.example.org[", 17) != 0)
            continue;
        lmtp++;
        sess = lmtp_session(p, r->text);
        mid = pf_message_id(pf, r->host, r->queue_id);
        j = sess ? find_dv(dv, MT_REC_DV_DELIVERED, r->recipient, sess) : -1;
        if (j >= 0 && mid && streq(REC(dv, j)->message_id, mid))
            matched++;
        else
            printf("# %s:%ld: no Dovecot delivery for session %s, msgid %s\n", "postfix/mail.log",
                   r->line, sess ? sess : "(none)", mid ? mid : "(none)");
    }
    is_int(lmtp, 13, "join: 13 LMTP deliveries reported sent by Postfix");
    is_int(matched, lmtp, "join: each has its Dovecot delivery (session, user, Message-ID)");

    for (j = 0; j < dv->recs->nelts; j++) {
        const mt_logrec_t *d = REC(dv, j);
        if (d->kind != MT_REC_DV_DELIVERED)
            continue;
        delivered++;
        for (i = 0; i < pf->recs->nelts; i++) {
            const mt_logrec_t *r = REC(pf, i);
            if (r->kind == MT_REC_PF_DELIVERY && streq(r->recipient, d->user)
                && streq(lmtp_session(p, r->text), d->session)) {
                back++;
                break;
            }
        }
        if (i == pf->recs->nelts)
            printf("# dovecot/dovecot.log:%ld: no Postfix delivery for session %s\n", d->line, d->session);
    }
    is_int(back, delivered, "join: each Dovecot delivery has its Postfix line");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    const char *dir = getenv("MSGTRACK_DATA_DIR");
    parsed_t parsed[NFILES];
    size_t f;

    apr_app_initialize(&argc, &argv, NULL);
    setenv("TZ", "UTC", 1);
    tzset();
    apr_pool_create(&p, NULL);
    if (!dir || !*dir)
        dir = "t/data";

    for (f = 0; f < NFILES; f++) {
        if (parse_file(p, dir, &expected[f], &parsed[f]) == 0)
            check_counts(&expected[f], &parsed[f]);
    }
    if (parsed[0].recs->nelts && parsed[1].recs->nelts) {
        check_postfix(p, &parsed[0]);
        check_dovecot(&parsed[1]);
        check_join(p, &parsed[0], &parsed[1]);
    }

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
