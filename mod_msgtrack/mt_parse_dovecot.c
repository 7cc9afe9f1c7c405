/* mt_parse_dovecot.c: Dovecot LMTP/LDA deliveries, Sieve filing, mail_log plugin
 *
 * Lines come in two shapes, both split by mt_syslog_parse():
 *  - through syslog: "TIME HOST dovecot[PID]: TAG: [LEVEL: ]TEXT"
 *    (the service tag starts the syslog message);
 *  - Dovecot's own log_path/info_log_path files: "TIME TAG: LEVEL: TEXT"
 *    (the service tag is what mt_syslog_parse calls the program).
 * Service tags accepted (any service name: lmtp, lda, imap, pop3, doveadm,
 * indexer-worker, ...):
 *    service(user)<pid><session>    Dovecot 2.3
 *    service(user)<session>         a one-group form; an all-digit group is a pid
 *    service(user)
 *    service(pid, user)             Dovecot 2.0-2.2
 *    service(pid)                   no user yet (digits, no <> groups)
 * With two or more <> groups the first is the pid (when digits) and the last
 * the session. Dovecot 2.2 LMTP put the session at the start of the text
 * instead ("lmtp(123, u): SESSION: msgid=..."); that is taken as well.
 * "Info: " is optional (syslog lines may lack it); lines at the other levels
 * (Debug, Warning, Error, Fatal, Panic) state no delivery fact and give 0.
 *
 * Facts:
 *  - "msgid=ID: saved mail to BOX" (LMTP/LDA), "sieve: msgid=ID: stored mail
 *    into mailbox 'BOX'", "sieve: msgid=ID: WORD action: stored mail into
 *    mailbox 'BOX'" -> MT_REC_DV_DELIVERED. The msgid is everything up to
 *    the phrase, so it may hold spaces and ':'; a msgid beginning with '<'
 *    must end with '>' (or with "...", Dovecot's truncation mark) just before
 *    the phrase. "unspecified" (no Message-ID header) gives message_id NULL.
 *    BOX is the rest of the line (spaces and quotes allowed); Sieve's
 *    surrounding '...' are removed.
 *  - mail_log: "EVENT: box=B, uid=N, msgid=ID, size=N, vsize=N, from=F,
 *    subject=S, flags=(...)" -> MT_REC_DV_MAILLOG. Dovecot writes the
 *    configured subset of these fields always in this order, from and
 *    subject unquoted (they may hold ", "): a value ends at the first ", K="
 *    whose K is a key that may still follow; flags, always last, is anchored
 *    at the last ", flags=(". EVENT: save (and "append", an older name),
 *    "copy from SRC" (status "copy", source_mailbox SRC), expunge,
 *    autoexpunge, flag_change, delete, undelete. "error" for uid/size (what
 *    Dovecot logs when it could not tell) leaves the field unknown. A line
 *    needs box= or msgid= to say anything. Mailbox events ("Mailbox
 *    created: ...", mailbox_create/delete/rename) concern no message: 0.
 *    The header From has no record field and is not kept; vsize neither.
 * rec->program is the Dovecot service ("lmtp", "imap", ...) in both shapes;
 * rec->pid the pid in the tag, else the syslog one; rec->host --host, else
 * the syslog host, else NULL. rec->line is left as the caller set it. A line
 * without a recognisable syslog prefix is -1 (mt_syslog_parse's reason).
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "mt_parse.h"

#define LIT(s) s, (sizeof(s) - 1)

static int starts(const char *s, const char *lit, apr_size_t n)
{
    return strncmp(s, lit, n) == 0;
}

static int all_digits(const char *s, apr_size_t n)
{
    apr_size_t i;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!apr_isdigit(s[i]))
            return 0;
    return 1;
}

/* Split a service tag t[0..n) into rec->program, user, pid, session.
 * Returns 0, or -1 when it is not a service(...) tag. */
static int parse_tag(apr_pool_t *rp, const char *t, apr_size_t n, mt_logrec_t *rec)
{
    const char *grp[8], *open;
    apr_size_t glen[8], e = n, i;
    int ng = 0;

    /* <...> groups from the end */
    while (e > 0 && t[e - 1] == '>') {
        apr_size_t b = e - 1;
        while (b > 0 && t[b - 1] != '<')
            b--;
        if (b == 0)
            return -1;
        if (ng < 8) {
            grp[ng] = t + b;
            glen[ng] = e - 1 - b;
            ng++;
        }
        e = b - 1;
    }
    if (e < 3 || t[e - 1] != ')')
        return -1;
    open = memchr(t, '(', e);
    if (!open || open == t)
        return -1;
    for (i = 0; t + i < open; i++)
        if (!apr_isalnum(t[i]) && t[i] != '-' && t[i] != '_')
            return -1;
    rec->program = apr_pstrmemdup(rp, t, (apr_size_t)(open - t));

    {   /* inside the parentheses */
        const char *in = open + 1;
        apr_size_t inlen = (apr_size_t)(t + e - 1 - in), d = 0;
        while (d < inlen && apr_isdigit(in[d]))
            d++;
        if (d > 0 && d + 2 <= inlen && in[d] == ',' && in[d + 1] == ' ') {
            rec->pid = atol(in);
            in += d + 2;
            inlen -= d + 2;
        }
        else if (d == inlen && d > 0 && ng == 0) {
            rec->pid = atol(in);
            inlen = 0;
        }
        if (inlen > 0)
            rec->user = apr_pstrmemdup(rp, in, inlen);
    }

    /* grp[] holds the groups last first */
    if (ng == 1) {
        if (all_digits(grp[0], glen[0]))
            rec->pid = atol(grp[0]);
        else if (glen[0] > 0)
            rec->session = apr_pstrmemdup(rp, grp[0], glen[0]);
    }
    else if (ng >= 2) {
        if (glen[0] > 0)
            rec->session = apr_pstrmemdup(rp, grp[0], glen[0]);
        if (all_digits(grp[ng - 1], glen[ng - 1]))
            rec->pid = atol(grp[ng - 1]);
    }
    return 0;
}

/* Does s[0..n) end with ": WORD action" (Sieve's "fileinto action")?
 * Returns the length without it, or n. */
static apr_size_t strip_action(const char *s, apr_size_t n)
{
    apr_size_t e, w;
    if (n < 9 || memcmp(s + n - 7, " action", 7) != 0)
        return n;
    e = n - 7;
    for (w = e; w > 0 && (apr_isalpha(s[w - 1]) || s[w - 1] == '_' || s[w - 1] == '-'); w--)
        ;
    if (w == e || w < 2 || s[w - 1] != ' ' || s[w - 2] != ':')
        return n;
    return w - 2;
}

/* The msgid "ID" before a delivery phrase may be taken as a whole. */
static int msgid_closed(const char *id, apr_size_t n)
{
    if (n == 0 || id[0] != '<')
        return 1;
    return (n >= 2 && id[n - 1] == '>') || (n >= 4 && memcmp(id + n - 3, "...", 3) == 0);
}

/* After "msgid=": "ID: saved mail to BOX" or, for Sieve, "ID: [W action: ]
 * stored mail into mailbox 'BOX'". */
static int parse_delivery(apr_pool_t *rp, const char *s, int sieve, mt_logrec_t *rec,
                          const char **why)
{
    const char *phrase = sieve ? ": stored mail into mailbox " : ": saved mail to ";
    apr_size_t plen = strlen(phrase), idlen = 0, boxlen;
    const char *at, *box = NULL;
    int seen = 0;

    for (at = strstr(s, phrase); at; at = strstr(at + 1, phrase)) {
        idlen = (apr_size_t)(at - s);
        if (sieve)
            idlen = strip_action(s, idlen);
        seen = 1;
        if (msgid_closed(s, idlen)) {
            box = at + plen;
            break;
        }
    }
    if (!box) {
        if (seen)
            return *why = sieve ? "sieve: msgid=<... not closed before 'stored mail into'"
                                : "msgid=<... not closed before 'saved mail to'", -1;
        return 0;       /* another msgid line: forwarded, rejected, save failed, ... */
    }
    boxlen = strlen(box);
    if (sieve && boxlen >= 2 && box[0] == '\'' && box[boxlen - 1] == '\'') {
        box++;
        boxlen -= 2;
    }
    if (boxlen == 0)
        return *why = sieve ? "no mailbox after 'stored mail into mailbox'"
                            : "no mailbox after 'saved mail to'", -1;
    rec->kind = MT_REC_DV_DELIVERED;
    rec->sieve = sieve;
    rec->mailbox = apr_pstrmemdup(rp, box, boxlen);
    if (idlen > 0 && !(idlen == 11 && memcmp(s, "unspecified", 11) == 0))
        rec->message_id = apr_pstrmemdup(rp, s, idlen);
    return 1;
}

/* mail_log fields, in the order Dovecot writes them. */
enum { K_BOX, K_UID, K_MSGID, K_SIZE, K_VSIZE, K_FROM, K_SUBJECT, K_FLAGS, K_COUNT };
static const struct { const char *name; apr_size_t len; } keys[K_COUNT] = {
    { LIT("box=") }, { LIT("uid=") }, { LIT("msgid=") }, { LIT("size=") },
    { LIT("vsize=") }, { LIT("from=") }, { LIT("subject=") }, { LIT("flags=") }
};

/* The key at s among keys[from..], or -1. */
static int key_at(const char *s, int from)
{
    int k;
    for (k = from; k < K_COUNT; k++)
        if (strncmp(s, keys[k].name, keys[k].len) == 0)
            return k;
    return -1;
}

/* Where the value that starts at v (of key k) ends. */
static const char *value_end(const char *v, int k)
{
    const char *c, *last = NULL;
    if (k == K_FLAGS)
        return v + strlen(v);
    for (c = strstr(v, ", "); c; c = strstr(c + 2, ", ")) {
        int nk = key_at(c + 2, k + 1);
        if (nk == K_FLAGS) {
            /* flags is last: take its last announcement (S may hold it) */
            const char *f;
            for (f = c; f; f = strstr(f + 2, ", flags=("))
                last = f;
            return last;
        }
        if (nk >= 0)
            return c;
    }
    return v + strlen(v);
}

static int parse_maillog(apr_pool_t *rp, const char *event, apr_size_t evlen,
                         const char *src, apr_size_t srclen, const char *s, mt_logrec_t *rec,
                         const char **why)
{
    const char *val[K_COUNT];
    apr_size_t vlen[K_COUNT];
    int k = 0, nk;
    const char *ev = apr_pstrmemdup(rp, event, evlen);

    memset(val, 0, sizeof(val));
    memset(vlen, 0, sizeof(vlen));
    if (key_at(s, 0) < 0)
        return *why = apr_psprintf(rp, "%s: no fields", ev), -1;
    while (*s) {
        const char *v, *e;
        nk = key_at(s, k);
        if (nk < 0)
            return *why = apr_psprintf(rp, "%s: unexpected text at '%.20s'", ev, s), -1;
        v = s + keys[nk].len;
        e = value_end(v, nk);
        val[nk] = v;
        vlen[nk] = (apr_size_t)(e - v);
        k = nk + 1;
        s = *e ? e + 2 : e;
    }
    if (!val[K_BOX] && !val[K_MSGID])
        return *why = apr_psprintf(rp, "%s: neither box= nor msgid=", ev), -1;

    rec->kind = MT_REC_DV_MAILLOG;
    rec->status = strcmp(ev, "append") == 0 ? "save" : ev;
    if (src)
        rec->source_mailbox = apr_pstrmemdup(rp, src, srclen);
    if (vlen[K_BOX])
        rec->mailbox = apr_pstrmemdup(rp, val[K_BOX], vlen[K_BOX]);
    if (vlen[K_UID] && !(vlen[K_UID] == 5 && memcmp(val[K_UID], "error", 5) == 0)) {
        if (!all_digits(val[K_UID], vlen[K_UID]))
            return *why = apr_psprintf(rp, "%s: uid= is not a number", ev), -1;
        rec->uid = apr_pstrmemdup(rp, val[K_UID], vlen[K_UID]);
    }
    if (vlen[K_MSGID])
        rec->message_id = apr_pstrmemdup(rp, val[K_MSGID], vlen[K_MSGID]);
    if (vlen[K_SIZE] && !(vlen[K_SIZE] == 5 && memcmp(val[K_SIZE], "error", 5) == 0)) {
        if (!all_digits(val[K_SIZE], vlen[K_SIZE]) || vlen[K_SIZE] > 18)
            return *why = apr_psprintf(rp, "%s: size= is not a number", ev), -1;
        rec->size = apr_atoi64(apr_pstrmemdup(rp, val[K_SIZE], vlen[K_SIZE]));
    }
    if (vlen[K_SUBJECT])
        rec->subject = apr_pstrmemdup(rp, val[K_SUBJECT], vlen[K_SUBJECT]);
    if (val[K_FLAGS]) {
        if (vlen[K_FLAGS] < 2 || val[K_FLAGS][0] != '(' || val[K_FLAGS][vlen[K_FLAGS] - 1] != ')')
            return *why = apr_psprintf(rp, "%s: flags= not in parentheses", ev), -1;
        rec->flags = apr_pstrmemdup(rp, val[K_FLAGS] + 1, vlen[K_FLAGS] - 2);
    }
    return 1;
}

/* mail_log events that concern a message; the others (mailbox_*) give 0. */
static const char *const msg_events[] = {
    "save", "append", "expunge", "autoexpunge", "flag_change", "delete", "undelete", "copy",
    NULL
};

/* The text after the tag (and level). */
static int parse_text(apr_pool_t *rp, const char *s, mt_logrec_t *rec, const char **why)
{
    apr_size_t n;
    int i;

    /* Dovecot 2.2 LMTP: "SESSION: msgid=..." */
    n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/:");
    while (n > 0 && s[n - 1] == ':')
        n--;
    if (n >= 16 && s[n] == ':' && s[n + 1] == ' '
        && (starts(s + n + 2, LIT("msgid=")) || starts(s + n + 2, LIT("sieve: msgid=")))) {
        if (!rec->session)
            rec->session = apr_pstrmemdup(rp, s, n);
        s += n + 2;
    }

    if (starts(s, LIT("msgid=")))
        return parse_delivery(rp, s + 6, 0, rec, why);
    if (starts(s, LIT("sieve: msgid=")))
        return parse_delivery(rp, s + 13, 1, rec, why);

    if (starts(s, LIT("copy from "))) {
        /* "copy from SRC: K=...": SRC ends at the first ": " before a key */
        const char *src = s + 10, *c;
        for (c = strstr(src, ": "); c; c = strstr(c + 2, ": "))
            if (key_at(c + 2, 0) >= 0)
                return parse_maillog(rp, LIT("copy"), src, (apr_size_t)(c - src), c + 2,
                                     rec, why);
        return *why = "copy: no fields", -1;
    }
    n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
    if (n == 0 || s[n] != ':' || (s[n + 1] != ' ' && s[n + 1] != '\0'))
        return 0;
    for (i = 0; msg_events[i]; i++)
        if (strlen(msg_events[i]) == n && memcmp(s, msg_events[i], n) == 0)
            return parse_maillog(rp, s, n, NULL, 0, s + n + (s[n + 1] ? 2 : 1), rec, why);
    return 0;
}

int mt_parse_dovecot_line(const mt_parse_opts_t *opts, const char *line, apr_pool_t *rp,
                          mt_logrec_t *rec, const char **why)
{
    static const char *const levels[] = {
        "Debug: ", "Warning: ", "Error: ", "Fatal: ", "Panic: ", NULL
    };
    mt_syslog_line_t sl;
    const char *tag, *text, *swhy;
    apr_size_t taglen;
    long keep_line = rec->line, syslog_pid;
    int i, rc;

    *why = NULL;
    mt_logrec_clear(rec);
    rec->line = keep_line;
    if (!*line)
        return 0;
    if (mt_syslog_parse(rp, line, opts ? &opts->clock : NULL, &sl, &swhy) != 0) {
        *why = swhy;
        return -1;
    }
    if (strchr(sl.program, '(')) {            /* log_path: the program is the tag */
        tag = sl.program;
        taglen = strlen(tag);
        text = sl.message;
    }
    else if (strcmp(sl.program, "dovecot") == 0) {
        const char *c = strstr(sl.message, ": ");
        if (!c)
            return 0;
        tag = sl.message;
        taglen = (apr_size_t)(c - tag);
        text = c + 2;
    }
    else {
        return 0;
    }
    syslog_pid = sl.pid;
    if (parse_tag(rp, tag, taglen, rec) != 0)
        return 0;                             /* master, auth, imap-login, ... */
    if (rec->pid < 0)
        rec->pid = syslog_pid;

    rc = -2;
    if (starts(text, LIT("Info: ")))
        text += 6;
    else
        for (i = 0; levels[i]; i++)
            if (starts(text, levels[i], strlen(levels[i])))
                rc = 0;
    if (rc != 0)
        rc = parse_text(rp, text, rec, why);
    if (rc != 1) {              /* leave nothing behind from the tag or the fields */
        mt_logrec_clear(rec);
        rec->line = keep_line;
        return rc;
    }
    rec->format = MT_FORMAT_DOVECOT;
    rec->time = sl.time;
    rec->host = opts && opts->host ? opts->host : sl.host;
    return 1;
}
