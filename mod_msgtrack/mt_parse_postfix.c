/* mt_parse_postfix.c: one Postfix log line -> one mt_logrec_t
 *
 * Which lines are Postfix's. The syslog program (mt_syslog.c) is split at
 * its last '/': the part after it must be a Postfix daemon or command name
 * (the daemons[] list below), and the part before it must contain
 * "postfix" -- "postfix/smtpd", "postfix/submission/smtpd",
 * "postfix-in/smtpd", "postfix/relay/smtp". Anything else (no '/', another
 * program, a syslog_name without "postfix") is not ours: 0.
 *
 * Return values (mt_parse.h):
 *  -1  a line containing "postfix/" whose syslog prefix does not parse
 *      ("syslog prefix: <why>"); other unparseable lines are someone else's: 0.
 *  -1  a Postfix line "QID: BODY" whose BODY starts with one of the keyword
 *      forms below but is broken: the why names the form and the fault,
 *      e.g. "delivery line with an unterminated to=<...>".
 *   1  a Postfix line of one of these forms:
 *        QID: client=NAME[ADDR][:PORT][, sasl_method=M][, sasl_username=U]...
 *                                                          MT_REC_PF_CLIENT
 *        QID: uid=N from=<S>                               MT_REC_PF_PICKUP
 *        QID: message-id=ID (as logged, possibly "")       MT_REC_PF_MESSAGE_ID
 *        QID: info: header NAME: VALUE from CLIENT; from=<S> to=<R> ...
 *                                                          MT_REC_PF_HEADER
 *        QID: from=<S>, size=N, nrcpt=N (queue active)     MT_REC_PF_QUEUED
 *        QID: from=<S>, status=[force-]expired, returned to sender
 *                                                          MT_REC_PF_EXPIRED
 *        QID: to=<R>, [orig_to=<O>, ]relay=..., status=S (TEXT)
 *                                                          MT_REC_PF_DELIVERY
 *        QID: sender|postmaster KIND notification: NQID    MT_REC_PF_NOTIFY
 *        QID: removed                                      MT_REC_PF_REMOVED
 *        NOQUEUE|QID: [milter-]reject: STAGE from NAME[ADDR]: REPLY; from=<S> to=<R> ...
 *        QID: [milter-]reject: header|body ... from CLIENT; from=<S> ...: TEXT
 *                                                          MT_REC_PF_REJECT
 *   0  everything else: connect/disconnect, warning:, TLS and postscreen
 *      chatter, statistics, daemon start/stop, and "QID: BODY" lines whose
 *      BODY is none of the forms above (e.g. "QID: host ... said: ...",
 *      "QID: lost connection ...", "QID: warning: header ...").
 *
 * Decisions:
 *  - A queue id is [0-9A-Za-z]{5,20} followed by ": ", and not all lower
 *    case (so "warning:", "statistics:" and "error:" are not queue ids);
 *    "NOQUEUE" is taken first.
 *  - "resent-message-id=" is not a message id: Postfix logs it besides the
 *    Message-Id line for the same queue id, and the Message-Id is what links
 *    servers and what clients search by. 0.
 *  - "message-id=" with nothing after it gives message_id "" (the line says
 *    so); correlation treats "" as no id.
 *  - HEADER: only the "header" class (not mime-header, nested-header, body).
 *    The header value may contain " from " and ';', so the client is found at
 *    the LAST " from CLIENT;" whose remainder parses as Postfix's own tail
 *    (from=<S> to=<R> proto=P helo=<H> [: TEXT]). client/client_addr are set
 *    for "NAME[ADDR]" (not for "local"). subject is set (RFC 2047 decoded)
 *    only when the header name is Subject (any case).
 *  - REJECT: also for the queue-id forms ("QID: reject: RCPT ...", milter and
 *    header_checks rejects), with queue_id set; text is the whole reply
 *    ("550 5.1.1 <...>: ..."), dsn the X.Y.Z in it. postscreen's own NOQUEUE
 *    rejects ("RCPT from [ADDR]:PORT: ...; from=<S>, to=<R>, ...") count too
 *    (client NULL). reject_warning, discard, hold, ... lines: 0.
 *  - DELIVERY: fields are read by key, so conn_use= or a future key between
 *    relay and status is skipped; relay, delay and dsn are kept. The status
 *    word ends at ' ' or ','; its text is everything after " (" to the end
 *    of the line, less the final ')'. When that ')' is missing (a line
 *    truncated by syslog) the rest is still taken: the status is the fact
 *    that matters. next_queue_id comes from the last "queued as QID" or
 *    "forwarded as QID" (local(8) forwarding) in the text.
 *  - QUEUED: size and nrcpt must be decimal numbers, else -1.
 *  - CLIENT: orig_queue_id=, orig_client=, sasl_sender= and the like are
 *    read past; a value ends at the next ", key=".
 *  - Addresses lose their angle brackets ("" for <>); an address ends at the
 *    first '>' followed by the end, ' ', ',', ';', ':' or ')'.
 *  - host is opts->host when set, else the syslog host.
 */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include "mt_parse.h"
#include "mt_rfc2047.h"

/* Last component of a Postfix program name: daemons and commands that log. */
static const char *const daemons[] = {
    "smtpd", "smtp", "lmtp", "local", "virtual", "pipe", "cleanup", "qmgr", "oqmgr",
    "nqmgr", "pickup", "bounce", "defer", "trace", "error", "retry", "discard", "relay",
    "postscreen", "dnsblog", "tlsproxy", "anvil", "master", "scache", "tlsmgr",
    "verify", "proxymap", "proxywrite", "trivial-rewrite", "flush", "showq", "spawn",
    "qmqpd", "postlogd", "postdrop", "sendmail", "postsuper", "postqueue", "postlog",
    "postfix-script", "postmulti", "postmap", "postalias", "postconf", "postcat",
    "postkick", "postlock", "postfix", NULL
};

static int is_postfix_program(const char *prog)
{
    const char *slash = strrchr(prog, '/'), *q;
    int i;

    if (!slash)
        return 0;
    for (i = 0; daemons[i]; i++)
        if (daemons[i][0] == slash[1] && strcmp(daemons[i], slash + 1) == 0)
            break;
    if (!daemons[i])
        return 0;
    for (q = prog; q + 7 <= slash; q++)
        if (*q == 'p' && memcmp(q, "postfix", 7) == 0)
            return 1;
    return 0;
}

static int is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the queue id at @a s: [0-9A-Za-z]{5,20}, not all lower case; else 0. */
static apr_size_t qid_len(const char *s)
{
    apr_size_t n;
    int lower = 1;

    for (n = 0; n <= 20 && is_alnum(s[n]); n++)
        if (s[n] < 'a')
            lower = 0;
    return n >= 5 && n <= 20 && !lower ? n : 0;
}

#define STARTS(s, lit) (strncmp((s), lit, sizeof(lit) - 1) == 0)
#define SKIP(s, lit) (STARTS((s), lit) ? ((s) += sizeof(lit) - 1, 1) : 0)

static const char *span(apr_pool_t *p, const char *b, const char *e)
{
    return apr_pstrmemdup(p, b, (apr_size_t)(e - b));
}

/* "<ADDR>" at @a s: sets *addr without the brackets and returns the position
 * after '>'; NULL when @a s has no '<' or no closing '>'. */
static const char *angle(apr_pool_t *p, const char *s, const char **addr)
{
    const char *q;

    if (*s != '<')
        return NULL;
    for (q = s + 1; (q = strchr(q, '>')) != NULL; q++)
        if (!q[1] || q[1] == ' ' || q[1] == ',' || q[1] == ';' || q[1] == ':' || q[1] == ')')
            break;
    if (!q)
        return NULL;
    *addr = span(p, s + 1, q);
    return q + 1;
}

/* "NAME[ADDR]" or "[ADDR]" with an optional ":PORT": returns the end, or NULL. */
static const char *client_spec(apr_pool_t *p, const char *s, const char *stop, mt_logrec_t *rec)
{
    const char *lb, *rb;

    for (lb = s; lb < stop && *lb != '[' && *lb != ' ' && *lb != ','; lb++)
        ;
    if (lb >= stop || *lb != '[')
        return NULL;
    for (rb = lb + 1; rb < stop && *rb != ']' && *rb != ' '; rb++)
        ;
    if (rb >= stop || *rb != ']' || rb == lb + 1)
        return NULL;
    rec->client = lb > s ? span(p, s, lb) : NULL;
    rec->client_addr = span(p, lb + 1, rb);
    s = rb + 1;
    if (*s == ':' && is_digit(s[1]))
        for (s++; is_digit(*s); s++)
            ;
    return s;
}

/* End of a "key=value" value: the next ", key=" or the end of the line. */
static const char *value_end(const char *v)
{
    const char *q, *k;

    for (q = v; (q = strchr(q, ',')) != NULL; q++) {
        if (q[1] != ' ')
            continue;
        for (k = q + 2; (*k >= 'a' && *k <= 'z') || *k == '_'; k++)
            ;
        if (*k == '=' && k > q + 2)
            return q;
    }
    return v + strlen(v);
}

/* "X.Y.Z" (an enhanced status code) at @a s, ending at a space or the end. */
static apr_size_t dsn_len(const char *s)
{
    const char *q = s;
    int part, n;

    for (part = 0; part < 3; part++) {
        if (part && *q++ != '.')
            return 0;
        for (n = 0; is_digit(*q); q++)
            n++;
        if (n < 1 || n > 3)
            return 0;
    }
    return (*q == ' ' || !*q) && (*s == '2' || *s == '4' || *s == '5') ? (apr_size_t)(q - s) : 0;
}

/* The enhanced status code of a reply "550 5.1.1 ..." or a text "5.7.1 ...". */
static const char *reply_dsn(apr_pool_t *p, const char *r)
{
    apr_size_t n;

    if (is_digit(r[0]) && is_digit(r[1]) && is_digit(r[2]) && (r[3] == ' ' || r[3] == '-'))
        r += 4;
    n = dsn_len(r);
    return n ? apr_pstrmemdup(p, r, n) : NULL;
}

/* The queue id after the last "queued as " or "forwarded as " in @a text. */
static const char *next_qid(apr_pool_t *p, const char *text)
{
    const char *q, *best = NULL;
    apr_size_t n;

    for (q = text; (q = strstr(q, " as ")) != NULL; q += 4)
        if ((q - text >= 6 && memcmp(q - 6, "queued", 6) == 0)
            || (q - text >= 9 && memcmp(q - 9, "forwarded", 9) == 0))
            best = q + 4;
    if (!best)
        return NULL;
    for (n = 0; n <= 20 && is_alnum(best[n]); n++)
        ;
    if (n < 5 || n > 20)
        return NULL;
    if (best[n] && best[n] != ' ' && best[n] != ')' && best[n] != ',' && best[n] != ';'
        && !(best[n] == '.' && (!best[n + 1] || best[n + 1] == ' ')))
        return NULL;
    return apr_pstrmemdup(p, best, n);
}

/* ------------------------------------------------------------ the forms */

/* client=NAME[ADDR][:PORT][, key=value]... */
static int parse_client(apr_pool_t *p, const char *s, mt_logrec_t *rec, const char **why)
{
    s = client_spec(p, s, s + strlen(s), rec);
    if (!s || (*s && *s != ','))
        return *why = "client line with a malformed client=NAME[ADDR]", -1;
    while (*s == ',' && s[1] == ' ') {
        const char *k = s + 2, *v = strchr(k, '='), *e;
        if (!v)
            return *why = "client line with a malformed field", -1;
        e = value_end(v + 1);
        if (v - k == 13 && memcmp(k, "sasl_username", 13) == 0)
            rec->sasl_user = span(p, v + 1, e);
        s = e;
    }
    if (*s)
        return *why = "client line with a malformed field", -1;
    rec->kind = MT_REC_PF_CLIENT;
    return 1;
}

/* uid=N from=<S> */
static int parse_pickup(apr_pool_t *p, const char *s, mt_logrec_t *rec, const char **why)
{
    const char *e;

    for (e = s; is_digit(*e); e++)
        ;
    if (e == s || *e != ' ')
        return *why = "pickup line with a malformed uid", -1;
    rec->uid = span(p, s, e);
    s = e + 1;
    if (!SKIP(s, "from=") || *s != '<')
        return *why = "pickup line without from=<...>", -1;
    if (!angle(p, s, &rec->sender))
        return *why = "pickup line with an unterminated from=<...>", -1;
    rec->kind = MT_REC_PF_PICKUP;
    return 1;
}

static int parse_number(const char *s, const char **end, long long max, long long *v)
{
    long long n = 0;
    const char *q;

    for (q = s; is_digit(*q); q++) {
        if (n > (max - (*q - '0')) / 10)
            return -1;
        n = n * 10 + (*q - '0');
    }
    if (q == s || (*q && *q != ',' && *q != ' '))
        return -1;
    *end = q;
    *v = n;
    return 0;
}

/* from=<S>, size=N, nrcpt=N (queue active) | from=<S>, status=expired, returned to sender */
static int parse_qmgr(apr_pool_t *p, const char *s, mt_logrec_t *rec, const char **why)
{
    long long v;
    const char *e;

    if (*s != '<')
        return *why = "qmgr line without from=<...>", -1;
    if (!(s = angle(p, s, &rec->sender)))
        return *why = "qmgr line with an unterminated from=<...>", -1;
    if (SKIP(s, ", size=")) {
        if (parse_number(s, &s, 999999999999999999LL, &v) != 0)
            return *why = "qmgr line with a malformed size", -1;
        rec->size = v;
        if (!SKIP(s, ", nrcpt=") || parse_number(s, &s, 2147483647LL, &v) != 0)
            return *why = "qmgr line with a malformed nrcpt", -1;
        rec->nrcpt = (int)v;
        rec->kind = MT_REC_PF_QUEUED;
        return 1;
    }
    if (SKIP(s, ", status=")) {
        for (e = s; *e && *e != ',' && *e != ' '; e++)
            ;
        if (!(e - s == 7 && memcmp(s, "expired", 7) == 0)
            && !(e - s == 13 && memcmp(s, "force-expired", 13) == 0))
            return *why = "qmgr line with an unknown status", -1;
        rec->status = span(p, s, e);
        rec->kind = MT_REC_PF_EXPIRED;
        return 1;
    }
    return *why = "qmgr line with neither size= nor status=", -1;
}

/* to=<R>, [orig_to=<O>, ]relay=X, [conn_use=N, ]delay=D, delays=..., dsn=X.Y.Z, status=S (TEXT) */
static int parse_delivery(apr_pool_t *p, const char *s, mt_logrec_t *rec, const char **why)
{
    if (*s != '<')
        return *why = "delivery line without to=<...>", -1;
    if (!(s = angle(p, s, &rec->recipient)))
        return *why = "delivery line with an unterminated to=<...>", -1;
    while (*s == ',' && s[1] == ' ') {
        const char *k = s + 2, *v, *e;
        apr_size_t klen;

        for (v = k; (*v >= 'a' && *v <= 'z') || *v == '_'; v++)
            ;
        if (*v != '=' || v == k)
            return *why = "delivery line with a malformed field", -1;
        klen = (apr_size_t)(v - k);
        v++;
        if (klen == 7 && memcmp(k, "orig_to", 7) == 0) {
            if (*v != '<')
                return *why = "delivery line with a malformed orig_to=<...>", -1;
            if (!(s = angle(p, v, &rec->orig_recipient)))
                return *why = "delivery line with an unterminated orig_to=<...>", -1;
            continue;
        }
        if (klen == 6 && memcmp(k, "status", 6) == 0) {
            for (e = v; *e && *e != ' ' && *e != ','; e++)
                ;
            if (e == v)
                return *why = "delivery line with an empty status", -1;
            rec->status = span(p, v, e);
            if (e[0] == ' ' && e[1] == '(') {
                const char *t = e + 2, *te = t + strlen(t);
                if (te > t && te[-1] == ')')
                    te--;
                rec->text = span(p, t, te);
                rec->next_queue_id = next_qid(p, rec->text);
            }
            rec->kind = MT_REC_PF_DELIVERY;
            return 1;
        }
        for (e = v; *e && !(*e == ',' && e[1] == ' '); e++)
            ;
        if (klen == 5 && memcmp(k, "relay", 5) == 0)
            rec->relay = span(p, v, e);
        else if (klen == 5 && memcmp(k, "delay", 5) == 0)
            rec->delay = span(p, v, e);
        else if (klen == 3 && memcmp(k, "dsn", 3) == 0)
            rec->dsn = span(p, v, e);
        s = e;
    }
    return *why = "delivery line without status=", -1;
}

/* sender non-delivery notification: NQID (and delay, delivery status,
 * success; postmaster ...) */
static int parse_notify(apr_pool_t *p, const char *s, mt_logrec_t *rec, const char **why)
{
    const char *what = strchr(s, ' '), *e;
    apr_size_t n;

    /* the caller saw "sender " or "postmaster " */
    e = strstr(what, " notification: ");
    if (!e || e <= what + 1)
        return *why = "notification line without a kind", -1;
    what++;
    rec->notify_kind = STARTS(s, "sender ") ? span(p, what, e) : span(p, s, e);
    e += sizeof(" notification: ") - 1;
    n = qid_len(e);
    if (!n || e[n])
        return *why = "notification line without a queue id", -1;
    rec->next_queue_id = apr_pstrmemdup(p, e, n);
    rec->kind = MT_REC_PF_NOTIFY;
    return 1;
}

/* Postfix's tail after "from CLIENT;": [ from=<S>][ to=<R>][ proto=P][ helo=<H>][: TEXT].
 * Returns 0 when it makes up the rest of the line. */
static int act_tail(apr_pool_t *p, const char *s, mt_logrec_t *rec, const char **text)
{
    const char *sender = NULL, *rcpt = NULL, *e;

    *text = NULL;
    if (SKIP(s, " from=")) {
        if (!(s = angle(p, s, &sender)))
            return -1;
    }
    if (SKIP(s, " to=")) {
        if (!(s = angle(p, s, &rcpt)))
            return -1;
    }
    if (SKIP(s, " proto=")) {
        for (; *s && *s != ' ' && *s != ':'; s++)
            ;
    }
    if (SKIP(s, " helo=<")) {
        /* the first '>' before the end or ": TEXT" */
        for (e = s; *e && !(*e == '>' && (!e[1] || (e[1] == ':' && e[2] == ' '))); e++)
            ;
        if (!*e)
            return -1;
        s = e + 1;
        if (*s) {
            s += 2;
            *text = s;
            s += strlen(s);
        }
    }
    if (*s == ':' && s[1] == ' ') {
        *text = s + 2;
        s += strlen(s);
    }
    if (*s)
        return -1;
    rec->sender = sender;
    rec->recipient = rcpt;
    return 0;
}

/* header NAME: VALUE from CLIENT; TAIL  (also "body TEXT from ...") after
 * "info: " or "reject: ". */
static int parse_act(apr_pool_t *p, const char *s, int reject, mt_logrec_t *rec,
                     const char **why)
{
    const char *cls = s, *content, *c, *q, *semi = NULL, *text = NULL;
    int header;

    content = strchr(s, ' ');
    if (!content)
        return 0;
    header = content - cls == 6 && memcmp(cls, "header", 6) == 0;
    if (!header && !reject)
        return 0;   /* info: body/mime-header/nested-header: not tracked */
    content++;

    /* The last " from CLIENT;" followed by Postfix's own tail: each
     * " from " in turn (mostly there is one), the last that fits kept;
     * act_tail() sets the record's sender and recipient only when it fits. */
    for (c = strstr(content, " from "), q = NULL; c; c = strstr(c + 1, " from ")) {
        const char *ctext, *csemi;
        for (csemi = c + 6; *csemi && *csemi != ';' && *csemi != ' '; csemi++)
            ;
        if (*csemi != ';' || csemi == c + 6 || act_tail(p, csemi + 1, rec, &ctext) != 0)
            continue;
        q = c;
        semi = csemi;
        text = ctext;
    }
    if (!q)
        return *why = reject ? "reject line without from CLIENT;" : "header line without from CLIENT;", -1;

    if (semi - (q + 6) != 5 || memcmp(q + 6, "local", 5) != 0) {
        if (client_spec(p, q + 6, semi, rec) != semi)
            rec->client = rec->client_addr = NULL;
    }
    if (header) {
        const char *colon = memchr(content, ':', (apr_size_t)(q - content)), *v;
        if (!colon || colon == content)
            return *why = reject ? "reject line with a malformed header" : "header line with a malformed header", -1;
        rec->header_name = span(p, content, colon);
        for (v = colon + 1; v < q && (*v == ' ' || *v == '\t'); v++)
            ;
        rec->header_value = span(p, v, q);
        if (!reject && strcasecmp(rec->header_name, "subject") == 0)
            rec->subject = mt_rfc2047_decode(p, rec->header_value);
    }
    if (text) {
        rec->text = apr_pstrdup(p, text);
        rec->dsn = reply_dsn(p, text);
    }
    rec->kind = reject ? MT_REC_PF_REJECT : MT_REC_PF_HEADER;
    return 1;
}

/* After "reject: " (smtpd, milter, postscreen):
 * STAGE from NAME[ADDR][:PORT]: REPLY; from=<S> to=<R> proto=P helo=<H>
 * (postscreen: "...; from=<S>, to=<R>, proto=P, helo=<H>").
 * header_checks rejects ("header ..."/"body ...") go to parse_act(). */
static int parse_reject(apr_pool_t *p, const char *s, mt_logrec_t *rec, const char **why)
{
    const char *q, *reply, *tail = NULL;

    for (q = s; (*q >= 'A' && *q <= 'Z') || *q == '-'; q++)
        ;
    if (q == s || !STARTS(q, " from ")) {
        if (STARTS(s, "header ") || STARTS(s, "body ") || STARTS(s, "mime-header ")
            || STARTS(s, "nested-header "))
            return parse_act(p, s, 1, rec, why);
        return *why = "reject line without STAGE from CLIENT", -1;
    }
    q += 6;
    if (!(q = client_spec(p, q, q + strlen(q), rec)) || q[0] != ':' || q[1] != ' ')
        return *why = "reject line with a malformed client", -1;
    reply = q + 2;

    /* the reply ends at the last "; " that starts Postfix's tail */
    for (q = reply; (q = strstr(q, "; ")) != NULL; q += 2)
        if (STARTS(q + 2, "from=<") || STARTS(q + 2, "to=<") || STARTS(q + 2, "proto=")
            || STARTS(q + 2, "helo=<"))
            tail = q;
    rec->text = tail ? span(p, reply, tail) : apr_pstrdup(p, reply);
    rec->dsn = reply_dsn(p, rec->text);
    if (tail) {
        for (q = tail + 2; *q;) {
            const char *e;
            if (SKIP(q, "from=")) {
                if (!(e = angle(p, q, &rec->sender)))
                    return *why = "reject line with an unterminated from=<...>", -1;
            }
            else if (SKIP(q, "to=")) {
                if (!(e = angle(p, q, &rec->recipient)))
                    return *why = "reject line with an unterminated to=<...>", -1;
            }
            else if (SKIP(q, "helo=")) {
                break;  /* the client's word, last: nothing after it we need */
            }
            else {
                for (e = q; *e && *e != ' ' && *e != ','; e++)
                    ;
            }
            q = e;
            while (*q == ',' || *q == ' ')
                q++;
        }
    }
    rec->kind = MT_REC_PF_REJECT;
    return 1;
}

/* ------------------------------------------------------------ entry */

int mt_parse_postfix_line(const mt_parse_opts_t *opts, const char *line, apr_pool_t *rp,
                          mt_logrec_t *rec, const char **why)
{
    mt_syslog_line_t sl;
    const char *sw, *m, *b;
    long lineno = rec->line;
    apr_size_t n;
    int rc;

    *why = NULL;
    mt_logrec_clear(rec);
    rec->line = lineno;

    /* The program name must contain "postfix": most other lines stop here,
     * before the (costlier) timestamp conversion. */
    if (!strstr(line, "postfix"))
        return 0;
    if (mt_syslog_parse(rp, line, opts ? &opts->clock : NULL, &sl, &sw) != 0) {
        if (strstr(line, "postfix/")) {
            *why = apr_pstrcat(rp, "syslog prefix: ", sw, NULL);
            return -1;
        }
        return 0;
    }
    if (!sl.program || !is_postfix_program(sl.program))
        return 0;

    rec->format = MT_FORMAT_POSTFIX;
    rec->time = sl.time;
    rec->host = opts && opts->host && *opts->host ? opts->host : sl.host;
    rec->program = sl.program;
    rec->pid = sl.pid;

    m = sl.message;
    if (SKIP(m, "NOQUEUE: ")) {
        if (SKIP(m, "reject: ") || SKIP(m, "milter-reject: "))
            return parse_reject(rp, m, rec, why);
        return 0;
    }
    n = qid_len(m);
    if (!n || m[n] != ':' || m[n + 1] != ' ')
        return 0;
    b = m + n + 2;
    rc = 0;
    switch (*b) {
    case 'c':
        if (SKIP(b, "client="))
            rc = parse_client(rp, b, rec, why);
        break;
    case 'f':
        if (SKIP(b, "from="))
            rc = parse_qmgr(rp, b, rec, why);
        break;
    case 'i':
        if (SKIP(b, "info: "))
            rc = parse_act(rp, b, 0, rec, why);
        break;
    case 'm':
        if (SKIP(b, "message-id=")) {
            rec->message_id = apr_pstrdup(rp, b);
            rec->kind = MT_REC_PF_MESSAGE_ID;
            rc = 1;
        }
        else if (SKIP(b, "milter-reject: "))
            rc = parse_reject(rp, b, rec, why);
        break;
    case 'p':
    case 's':
        if ((STARTS(b, "sender ") || STARTS(b, "postmaster ")) && strstr(b, " notification: "))
            rc = parse_notify(rp, b, rec, why);
        break;
    case 'r':
        if (strcmp(b, "removed") == 0) {
            rec->kind = MT_REC_PF_REMOVED;
            rc = 1;
        }
        else if (SKIP(b, "reject: "))
            rc = parse_reject(rp, b, rec, why);
        break;
    case 't':
        if (SKIP(b, "to="))
            rc = parse_delivery(rp, b, rec, why);
        break;
    case 'u':
        if (SKIP(b, "uid="))
            rc = parse_pickup(rp, b, rec, why);
        break;
    default:
        break;
    }
    if (rc == 1)
        rec->queue_id = apr_pstrmemdup(rp, m, n);
    else
        rec->kind = MT_REC_NONE;
    return rc;
}
