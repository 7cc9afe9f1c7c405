/* mt_query.c: Find and Get over the index: messages, visibility, report building */
#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include "mt_ascii.h"
#include "mt_query.h"
#include "mt_time.h"

/* A relay is to an indexed server when a hop of the message on another host
 * starts no earlier than this before the relay event (clocks drift). */
#define RELAY_SKEW (60 * APR_USEC_PER_SEC)
/* See rcpt_scan_end(). */
#define FIND_RCPT_SLACK ((apr_time_t)7 * 86400 * APR_USEC_PER_SEC)

/* ------------------------------------------------------------------ strings */

static int ieq(const char *a, const char *b)
{
    /* Most addresses compared are equal as written. */
    return a && b && (strcmp(a, b) == 0 || mt_ascii_ieq(a, b));
}

static char *lower(apr_pool_t *p, const char *s)
{
    return s ? mt_ascii_lower(p, s, strlen(s)) : apr_pstrdup(p, "");
}

/* @a s in ASCII lower case to look it up with: @a s itself when it has no
 * upper-case letter (most addresses), else a copy in @a p. Not for a key
 * a hash keeps: lower() copies those. */
static const char *lower_lookup(apr_pool_t *p, const char *s)
{
    const char *q;
    if (!s)
        return "";
    for (q = s; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            return mt_ascii_lower(p, s, strlen(s));
    return s;
}

/* Case-insensitive (ASCII) substring: non-ASCII bytes must match exactly. */
static int icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (!hay)
        return n == 0;
    for (; *hay; hay++) {
        size_t i;
        for (i = 0; i < n && mt_ascii_lc((unsigned char)hay[i]) == mt_ascii_lc((unsigned char)needle[i]); i++)
            ;
        if (i == n)
            return 1;
    }
    return n == 0;
}

/* An absent filter: NULL or empty. */
static const char *nz(const char *s)
{
    return s && *s ? s : NULL;
}

static const char *trim(apr_pool_t *p, const char *s)
{
    const char *e;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    return apr_pstrmemdup(p, s, (apr_size_t)(e - s));
}

/* A Message-ID as the index keeps it: with its angle brackets. */
static const char *norm_msgid(apr_pool_t *p, const char *id)
{
    id = trim(p, id);
    if (!*id)
        return NULL;
    if (id[0] == '<' && id[strlen(id) - 1] == '>')
        return id;
    return apr_pstrcat(p, "<", id, ">", NULL);
}

static apr_array_header_t *strings(apr_pool_t *p)
{
    return apr_array_make(p, 4, sizeof(const char *));
}

static void push_str(apr_array_header_t *a, const char *s)
{
    APR_ARRAY_PUSH(a, const char *) = s;
}

static mt_error_t *transient(apr_pool_t *p, const char *why)
{
    return mt_error_make(p, MT_FAULT_NONE, "ErrorMessageTrackingTransientError",
                         "the message tracking index could not be read: %s",
                         why ? why : "unknown error");
}

/* ------------------------------------------------------------------ report ids */

/* The bytes a report id escapes: RFC 3461 xtext (outside '!'..'~', '+', '=')
 * and ',', the field separator. */
static const unsigned char id_escaped[256] = {
#define E16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
    E16, E16,                                            /* 0x00-0x1F */
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0,      /* 0x20: space + , */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,      /* 0x30: = */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,      /* 0x70: DEL */
    E16, E16, E16, E16, E16, E16, E16, E16               /* 0x80-0xFF */
#undef E16
};

/* Copy @a s escaped to @a o (room for three times its length); returns the
 * end. The bytes kept as they are go four at a time while they can. */
static char *id_copy(char *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)(s ? s : "");

    for (;;) {
        /* The NUL is among the escaped bytes: no group reads past it. */
        while (!id_escaped[u[0]] && !id_escaped[u[1]] && !id_escaped[u[2]]
               && !id_escaped[u[3]]) {
            memcpy(o, u, 4);
            o += 4;
            u += 4;
        }
        if (!*u)
            return o;
        if (id_escaped[*u]) {
            *o++ = '+';
            *o++ = hex[*u >> 4];
            *o++ = hex[*u & 0xF];
        }
        else
            *o++ = (char)*u;
        u++;
    }
}
static apr_size_t len0(const char *s)
{
    return s ? strlen(s) : 0;
}

const char *mt_query_report_id(apr_pool_t *p, const mt_msg_t *m)
{
    const char *sender = m->sender ? m->sender : "";
    const char *at = strrchr(sender, '@');
    const char *domain = at ? at + 1 : "";
    char key[24], *kd = mt_ascii_u64_before(key + sizeof(key), m->key), *r, *o;
    apr_size_t klen = (apr_size_t)(key + sizeof(key) - kd);

    /* Room for every byte escaped: one allocation, one pass. */
    o = r = apr_palloc(p, sizeof("Message-Id=,Server=,Internal-Id=,Sender=,Domain=") + klen
                          + 3 * (len0(m->message_id) + len0(m->host) + len0(sender)
                                 + len0(domain)));
    memcpy(o, "Message-Id=", 11);
    o = id_copy(o + 11, m->message_id);
    memcpy(o, ",Server=", 8);
    o = id_copy(o + 8, m->host);
    memcpy(o, ",Internal-Id=", 13);
    memcpy(o + 13, kd, klen);
    o += 13 + klen;
    memcpy(o, ",Sender=", 8);
    o = id_copy(o + 8, sender);
    memcpy(o, ",Domain=", 8);
    o = id_copy(o + 8, domain);
    *o = '\0';
    return r;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = mt_ascii_lc(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Unescape [s, e) into a new string; NULL when an escape is malformed. */
static char *id_unescape(apr_pool_t *p, const char *s, const char *e)
{
    char *r = apr_palloc(p, (apr_size_t)(e - s) + 1), *o = r;
    while (s < e) {
        if (*s == '+') {
            int h, l;
            if (e - s < 3 || (h = hexval((unsigned char)s[1])) < 0
                || (l = hexval((unsigned char)s[2])) < 0 || (h == 0 && l == 0))
                return NULL;
            *o++ = (char)(h * 16 + l);
            s += 3;
        }
        else
            *o++ = *s++;
    }
    *o = '\0';
    return r;
}

int mt_query_parse_report_id(apr_pool_t *p, const char *id, mt_report_id_t *out)
{
    const char *s, *internal = NULL;
    int seen[5] = { 0, 0, 0, 0, 0 };
    static const char *const names[5] = { "Message-Id", "Server", "Internal-Id", "Sender",
                                          "Domain" };
    apr_uint64_t key = 0;

    memset(out, 0, sizeof(*out));
    if (!id || !*id)
        return -1;
    for (s = id;;) {
        const char *end = strchr(s, ','), *eq;
        const char *v;
        int i;
        if (!end)
            end = s + strlen(s);
        eq = memchr(s, '=', (apr_size_t)(end - s));
        if (!eq || eq == s)
            return -1;
        if (!(v = id_unescape(p, eq + 1, end)))
            return -1;
        for (i = 0; i < 5; i++)
            if ((apr_size_t)(eq - s) == strlen(names[i])
                && strncasecmp(s, names[i], (apr_size_t)(eq - s)) == 0)
                break;
        if (i < 5) {
            if (seen[i]++)
                return -1;     /* ambiguous: the same field twice */
            switch (i) {
            case 0: out->message_id = *v ? v : NULL; break;
            case 1: out->server = v; break;
            case 2: internal = v; break;
            case 3: out->sender = v; break;
            case 4: out->domain = v; break;
            }
        }
        if (!*end)
            break;
        s = end + 1;
    }
    if (!internal || !*internal)
        return -1;
    for (s = internal; *s; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (d > 9 || key > (APR_UINT64_MAX - d) / 10)
            return -1;
        key = key * 10 + d;
    }
    out->key = key;
    return 0;
}

/* ------------------------------------------------------------------ messages */

typedef struct {
    apr_array_header_t *hops;   /* mt_msg_t *, by hop_cmp() */
    const mt_msg_t *origin;     /* earliest non-mailbox hop, NULL if none */
    /* Where the recipients the sender used are known: the origin, or when it
     * lists none (an Exchange mailbox-server SUBMIT logs no recipients) the
     * first hop that lists some, on the origin's server if possible. */
    const mt_msg_t *rorigin;
    /* The subject: the origin's, else the first hop's that logged one (the
     * first server may not log Subject headers). */
    const mt_msg_t *sorigin;
} message_t;

/* By first appearance; at the same time (logs have seconds) an MTA's hop
 * before a mailbox's, which it delivers to, whichever log was indexed first
 * (keys follow the order of indexing); then by key. */
static int hop_cmp(const void *a, const void *b)
{
    const mt_msg_t *x = *(const mt_msg_t *const *)a, *y = *(const mt_msg_t *const *)b;
    int xm = x->kind == MT_HOP_MAILBOX, ym = y->kind == MT_HOP_MAILBOX;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    if (xm != ym)
        return xm - ym;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* The message @a hit belongs to: every hop with its Message-ID, or with
 * @a mta_only, enough of them to know the hops that are not mailbox ones
 * (Find's): those the index lists as @a hit's peers when it does
 * (MT_MSG_PEERS), without looking for them. */
static mt_error_t *gather(mt_txn_t *txn, apr_pool_t *p, const mt_msg_t *hit, int mta_only,
                          message_t *msg)
{
    int i, have_hit = 0, listed = mta_only && (hit->flags & MT_MSG_PEERS);

    msg->hops = apr_array_make(p, 4, sizeof(const mt_msg_t *));
    msg->origin = NULL;
    if (hit->message_id) {
        apr_array_header_t *keys = apr_array_make(p, 8, sizeof(apr_uint64_t));
        const char *err = NULL;
        if (listed)
            for (i = 0; i < hit->npeers; i++)
                APR_ARRAY_PUSH(keys, apr_uint64_t) = hit->peers[i];
        else
            err = mt_store_keys(txn, p, MT_IX_MSGID, hit->message_id, keys);
        if (err)
            return transient(p, err);
        for (i = 0; i < keys->nelts; i++) {
            apr_uint64_t key = APR_ARRAY_IDX(keys, i, apr_uint64_t);
            mt_msg_t *m;
            int rc;
            if (key == hit->key) {
                if (!have_hit++)
                    APR_ARRAY_PUSH(msg->hops, const mt_msg_t *) = hit;
                continue;
            }
            m = apr_pcalloc(p, sizeof(*m));
            rc = mt_store_msg_get(txn, p, key, m, &err);
            if (rc < 0)
                return transient(p, err);
            /* Skip entries that are gone or name another id (a peer whose
             * Message-ID changed since, or a hash's other value). */
            if (rc == 0 || !m->message_id || strcmp(m->message_id, hit->message_id) != 0)
                continue;
            APR_ARRAY_PUSH(msg->hops, const mt_msg_t *) = m;
        }
    }
    if (!have_hit)
        APR_ARRAY_PUSH(msg->hops, const mt_msg_t *) = hit;
    qsort(msg->hops->elts, (size_t)msg->hops->nelts, sizeof(const mt_msg_t *), hop_cmp);
    for (i = 0; i < msg->hops->nelts && !msg->origin; i++) {
        const mt_msg_t *m = APR_ARRAY_IDX(msg->hops, i, const mt_msg_t *);
        if (m->kind != MT_HOP_MAILBOX)
            msg->origin = m;
    }
    msg->rorigin = msg->origin;
    if (msg->origin && (!msg->origin->rcpts || msg->origin->rcpts->nelts == 0)) {
        const mt_msg_t *any = NULL, *same = NULL;
        for (i = 0; i < msg->hops->nelts && !same; i++) {
            const mt_msg_t *m = APR_ARRAY_IDX(msg->hops, i, const mt_msg_t *);
            if (m->kind == MT_HOP_MAILBOX || !m->rcpts || m->rcpts->nelts == 0)
                continue;
            if (!any)
                any = m;
            if (ieq(m->host ? m->host : "", msg->origin->host ? msg->origin->host : ""))
                same = m;
        }
        msg->rorigin = same ? same : any ? any : msg->origin;
    }
    msg->sorigin = msg->origin;
    for (i = 0; msg->origin && !msg->origin->subject && i < msg->hops->nelts; i++) {
        const mt_msg_t *m = APR_ARRAY_IDX(msg->hops, i, const mt_msg_t *);
        if (m->kind != MT_HOP_MAILBOX && m->subject) {
            msg->sorigin = m;
            break;
        }
    }
    return NULL;
}

/* Is @a addr a recipient (address or root address) of a hop of the message?
 * @a any_kind: mailbox hops count too. */
static int msg_has_rcpt(const message_t *msg, const char *addr, int any_kind)
{
    int i, j;
    for (i = 0; i < msg->hops->nelts; i++) {
        const mt_msg_t *m = APR_ARRAY_IDX(msg->hops, i, const mt_msg_t *);
        if ((m->kind == MT_HOP_MAILBOX && !any_kind) || !m->rcpts)
            continue;
        for (j = 0; j < m->rcpts->nelts; j++) {
            const mt_rcpt_t *r = &APR_ARRAY_IDX(m->rcpts, j, mt_rcpt_t);
            if (ieq(r->addr, addr) || ieq(r->orig, addr))
                return 1;
        }
    }
    return 0;
}

#define RCPT_HEADER_FLAGS (MT_RCPT_TO | MT_RCPT_CC | MT_RCPT_BCC)

/* sender_rcpts() finds what it has taken already by a linear search up to
 * this many addresses, then by a hash. */
#define RCPTS_LINEAR 16

/* The addresses the sender used (from @a origin, a message's rorigin): each
 * recipient's root address, else its address, once each (case-insensitive),
 * in order. Exchange says which recipients the sender addressed (To, Cc,
 * Bcc): when it does, the others on the hop are resolved or expanded ones. */
static apr_array_header_t *sender_rcpts(apr_pool_t *p, apr_pool_t *tp, const mt_msg_t *origin)
{
    apr_array_header_t *a = strings(p);
    apr_hash_t *seen = NULL, *expanded = NULL;
    int i, j, flagged = 0;
    if (!origin->rcpts)
        return a;
    for (i = 0; origin->kind == MT_HOP_MSGTRK && i < origin->rcpts->nelts; i++)
        if (APR_ARRAY_IDX(origin->rcpts, i, mt_rcpt_t).flags & RCPT_HEADER_FLAGS)
            flagged = 1;
    for (i = 0; i < origin->rcpts->nelts; i++) {
        const mt_rcpt_t *r = &APR_ARRAY_IDX(origin->rcpts, i, mt_rcpt_t);
        const char *s = r->orig && *r->orig ? r->orig : r->addr;
        if (flagged && !(r->flags & RCPT_HEADER_FLAGS))
            continue;
        /* Exchange names an expanded address again, without its root address,
         * on its delivery rows: after its expansion, it is that one (before
         * it, the sender also addressed it directly). */
        if (origin->kind == MT_HOP_MSGTRK && r->addr) {
            if (!expanded)
                expanded = apr_hash_make(tp);
            if (s != r->addr) {
                apr_hash_set(expanded, lower(tp, r->addr), APR_HASH_KEY_STRING, "");
            }
            else if (apr_hash_get(expanded, lower(tp, r->addr), APR_HASH_KEY_STRING)) {
                continue;
            }
        }
        if (!s)
            continue;
        if (!seen && a->nelts < RCPTS_LINEAR) {
            for (j = 0; j < a->nelts && !ieq(APR_ARRAY_IDX(a, j, const char *), s); j++)
                ;
            if (j == a->nelts)
                push_str(a, apr_pstrdup(p, s));
            continue;
        }
        if (!seen) {
            seen = apr_hash_make(tp);
            for (j = 0; j < a->nelts; j++)
                apr_hash_set(seen, lower(tp, APR_ARRAY_IDX(a, j, const char *)),
                             APR_HASH_KEY_STRING, "");
        }
        {
            const char *k = lower(tp, s);
            if (!apr_hash_get(seen, k, APR_HASH_KEY_STRING)) {
                apr_hash_set(seen, k, APR_HASH_KEY_STRING, "");
                push_str(a, apr_pstrdup(p, s));
            }
        }
    }
    return a;
}

/* ------------------------------------------------------------------ find */

/* The planner counts at most this many entries of each candidate index. */
#define PROBE_MAX 256

typedef struct {
    apr_time_t first;
    apr_uint64_t key;           /* the origin hop */
    mt_found_t *found;          /* the result, in find_t.res_pool */
} cand_t;

static int cand_cmp(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int cand_cmp_newest(const void *a, const void *b)
{
    return cand_cmp(b, a);
}

typedef struct {
    mt_txn_t *txn;
    apr_pool_t *scan_pool;       /* the dedupe set */
    apr_pool_t *hit_pool;        /* cleared for every hit */
    const mt_viewer_t *who;
    const char *sender, *recipient, *recipient2, *subject, *message_id;
    apr_time_t start, end;
    int cap;
    int (*cmp)(const void *, const void *);
    apr_hash_t *seen;            /* the messages done: their Message-IDs ("#key" without) */
    apr_hash_t *seen_hops;       /* hops read for a message done (apr_uint64_t keys) */
    apr_array_header_t *cands;   /* cand_t */
    /* The results of cands (a subpool of the caller's pool). Built when a
     * message matches, from the hops already read, so that no hop is read
     * twice; when the cap trims cands, the survivors move to a new pool and
     * the old one goes. */
    apr_pool_t *res_pool, *res_parent;
    /* Once the cap trimmed cands: the last candidate kept. A match that
     * sorts after it cannot be among the results (nor the one after them). */
    cand_t cutoff;
    int have_cutoff;
    long matches, scanned, hops;
    mt_error_t *err;
    apr_pool_t *err_pool;
} find_t;

/* The hash of find's sets (Message-IDs, hop keys): eight bytes at a time,
 * where APR's default hash takes one. */
static unsigned int set_hash(const char *key, apr_ssize_t *klen)
{
    apr_size_t n = *klen == APR_HASH_KEY_STRING ? strlen(key) : (apr_size_t)*klen;
    apr_uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;

    *klen = (apr_ssize_t)n;
    for (; n >= 8; n -= 8, key += 8) {
        memcpy(&w, key, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    if (n) {
        w = 0;
        memcpy(&w, key, n);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    h ^= h >> 29;
    return (unsigned int)h;
}

mt_error_t *mt_query_find_check(apr_pool_t *p, const mt_viewer_t *who, const mt_find_t *q)
{
    const char *me = nz(who->mailbox);
    if (who->privileged)
        return NULL;
    if (!me)
        return mt_error_make(p, MT_FAULT_NONE, "ErrorAccessDenied",
                             "the caller has no mailbox to search messages for");
    if (nz(q->sender) && ieq(q->sender, me))
        return NULL;
    if (nz(q->sender) && (ieq(nz(q->recipient), me) || ieq(nz(q->recipient2), me)))
        return NULL;
    return mt_error_make(p, MT_FAULT_NONE, "ErrorAccessDenied",
                         "%s may search for messages it sent (Sender %s) or for messages "
                         "sent to it by a named sender (a Sender, and Recipient %s)",
                         me, me, me);
}

static int visible_in_find(const find_t *f, const message_t *msg)
{
    const mt_viewer_t *who = f->who;
    if (who->privileged)
        return 1;
    if (ieq(msg->origin->sender, who->mailbox))
        return 1;
    /* Messages sent to the caller by the sender the search names. */
    return f->sender != NULL && msg_has_rcpt(msg, who->mailbox, 0);
}

/* The result for the message @a msg (in @a p; scratch in @a tp), from the
 * hops gather() read. A caller that found a message sent to it (not
 * privileged, not the sender) sees only itself among the recipients. */
static mt_found_t *found_make(apr_pool_t *p, apr_pool_t *tp, const mt_viewer_t *who,
                              const message_t *msg)
{
    const mt_msg_t *o = msg->origin;
    mt_found_t *r = apr_pcalloc(p, sizeof(*r));

    if (!who->privileged && !ieq(o->sender, who->mailbox)) {
        r->recipients = strings(p);
        push_str(r->recipients, apr_pstrdup(p, who->mailbox));
    }
    else {
        r->recipients = sender_rcpts(p, tp, msg->rorigin);
    }
    r->report_id = mt_query_report_id(p, o);
    r->message_id = apr_pstrdup(p, o->message_id);
    r->sender = apr_pstrdup(p, o->sender);
    r->subject = apr_pstrdup(p, msg->sorigin->subject);
    r->submitted = o->first;
    r->first_hop = apr_pstrdup(p, o->host);
    r->previous_hop = apr_pstrdup(p, nz(o->client));
    return r;
}

static mt_found_t *found_copy(apr_pool_t *p, const mt_found_t *f)
{
    mt_found_t *r = apr_pmemdup(p, f, sizeof(*f));
    int i;

    r->report_id = apr_pstrdup(p, f->report_id);
    r->message_id = apr_pstrdup(p, f->message_id);
    r->sender = apr_pstrdup(p, f->sender);
    r->subject = apr_pstrdup(p, f->subject);
    r->first_hop = apr_pstrdup(p, f->first_hop);
    r->previous_hop = apr_pstrdup(p, f->previous_hop);
    r->recipients = apr_array_make(p, f->recipients->nelts, sizeof(const char *));
    for (i = 0; i < f->recipients->nelts; i++)
        push_str(r->recipients, apr_pstrdup(p, APR_ARRAY_IDX(f->recipients, i, const char *)));
    return r;
}

/* Keep the candidates that come first, their results in a new pool: the
 * cap's worth and one more, which tells whether the cap cuts the list
 * (scan_newest()). */
static void cands_trim(find_t *f)
{
    apr_pool_t *np;
    int i;

    qsort(f->cands->elts, (size_t)f->cands->nelts, sizeof(cand_t), f->cmp);
    f->cands->nelts = f->cap + 1;
    f->cutoff = APR_ARRAY_IDX(f->cands, f->cap, cand_t);
    f->have_cutoff = 1;
    apr_pool_create(&np, f->res_parent);
    for (i = 0; i < f->cands->nelts; i++) {
        cand_t *c = &APR_ARRAY_IDX(f->cands, i, cand_t);
        c->found = found_copy(np, c->found);
    }
    apr_pool_destroy(f->res_pool);
    f->res_pool = np;
}

static int find_hit(void *baton, apr_uint64_t key, apr_time_t first)
{
    find_t *f = baton;
    apr_pool_t *hp = f->hit_pool;
    mt_msg_t *m;
    const mt_msg_t *o;
    message_t msg;
    cand_t c;
    const char *err = NULL, *dkey;
    mt_error_t *e;
    int rc, i;
    (void)first;

    f->scanned++;
    /* Another hop of a message done (a relay's next hop, scanned later):
     * no need to read it to learn that. */
    if (apr_hash_get(f->seen_hops, &key, sizeof(key)))
        return 0;
    apr_pool_clear(hp);
    m = apr_pcalloc(hp, sizeof(*m));
    rc = mt_store_msg_get(f->txn, hp, key, m, &err);
    f->hops++;
    if (rc < 0) {
        f->err = transient(f->err_pool, err);
        return 1;
    }
    if (rc == 0 || m->kind == MT_HOP_MAILBOX)
        return 0;
    dkey = m->message_id ? m->message_id : apr_psprintf(hp, "#%" APR_UINT64_T_FMT, m->key);
    if (apr_hash_get(f->seen, dkey, APR_HASH_KEY_STRING))
        return 0;
    dkey = apr_pstrdup(f->scan_pool, dkey);
    apr_hash_set(f->seen, dkey, APR_HASH_KEY_STRING, dkey);

    if ((e = gather(f->txn, hp, m, 1, &msg))) {
        f->err = mt_error_make(f->err_pool, e->kind, e->code, "%s", e->message);
        return 1;
    }
    f->hops += msg.hops->nelts - 1;
    for (i = 0; i < msg.hops->nelts; i++) {
        const mt_msg_t *h = APR_ARRAY_IDX(msg.hops, i, const mt_msg_t *);
        if (h != m)
            apr_hash_set(f->seen_hops, apr_pmemdup(f->scan_pool, &h->key, sizeof(h->key)),
                         sizeof(h->key), "");
    }
    if (!(o = msg.origin))
        return 0;
    if (o->first < f->start || o->first > f->end)
        return 0;
    if (f->message_id && (!o->message_id || strcmp(o->message_id, f->message_id) != 0))
        return 0;
    if (f->sender && !ieq(o->sender, f->sender))
        return 0;
    if (f->recipient && !msg_has_rcpt(&msg, f->recipient, 0))
        return 0;
    if (f->recipient2 && !msg_has_rcpt(&msg, f->recipient2, 0))
        return 0;
    if (f->subject && !icontains(msg.sorigin->subject, f->subject))
        return 0;
    if (!visible_in_find(f, &msg))
        return 0;

    f->matches++;
    c = (cand_t){ o->first, o->key, NULL };
    if (f->have_cutoff && f->cmp(&c, &f->cutoff) > 0)
        return 0;
    c.found = found_make(f->res_pool, hp, f->who, &msg);
    APR_ARRAY_PUSH(f->cands, cand_t) = c;
    /* Keep memory bounded by the cap, not by the number of matches. */
    if (f->cap > 0 && f->cands->nelts >= 2 * f->cap + 8)
        cands_trim(f);
    return 0;
}

/* One index the planner may scan. */
typedef struct {
    const char *plan;
    mt_index_e ix;
    const char *value;
    apr_time_t end;             /* the scan's upper bound */
} access_t;

typedef struct {
    long n, max;
} probe_t;

static int probe_count(void *baton, apr_uint64_t key, apr_time_t first)
{
    probe_t *pr = baton;
    (void)key; (void)first;
    return ++pr->n >= pr->max;
}

/* A scan by recipient goes this far beyond the end bound: the recipient may
 * appear only on a later hop (expansion on the next server) of a message
 * submitted before it. */
static apr_time_t rcpt_scan_end(apr_time_t end)
{
    return end > APR_INT64_MAX - FIND_RCPT_SLACK ? APR_INT64_MAX : end + FIND_RCPT_SLACK;
}

/* Choose the index to scan: the Message-ID's, else the one of the address
 * indexes with the fewest entries in the range (counted up to PROBE_MAX,
 * and never beyond the best so far), else time. */
static const char *plan_find(find_t *f, apr_pool_t *sp, access_t *best, long *probed)
{
    access_t c[3];
    int n = 0, i;
    long best_n = PROBE_MAX;

    *probed = 0;
    if (f->message_id) {
        *best = (access_t){ "message-id", MT_IX_MSGID, f->message_id, f->end };
        return NULL;
    }
    if (f->sender)
        c[n++] = (access_t){ "sender", MT_IX_SENDER, lower(sp, f->sender), f->end };
    if (f->recipient)
        c[n++] = (access_t){ "recipient", MT_IX_RECIPIENT, lower(sp, f->recipient),
                             rcpt_scan_end(f->end) };
    if (f->recipient2 && !ieq(f->recipient2, f->recipient ? f->recipient : ""))
        c[n++] = (access_t){ "recipient", MT_IX_RECIPIENT, lower(sp, f->recipient2),
                             rcpt_scan_end(f->end) };
    if (n == 0) {
        *best = (access_t){ "time", MT_IX_TIME, NULL, f->end };
        return NULL;
    }
    *best = c[0];
    if (n == 1)
        return NULL;
    for (i = 0; i < n; i++) {
        probe_t pr = { 0, best_n };
        const char *err = mt_store_scan(f->txn, sp, c[i].ix, c[i].value, f->start, c[i].end,
                                        probe_count, &pr);
        if (err)
            return err;
        *probed += pr.n;
        if (i == 0 || pr.n < best_n) {
            best_n = pr.n;
            *best = c[i];
        }
        if (best_n == 0)
            break;
    }
    return NULL;
}

/* Newest first with a cap, the scan goes down the range in windows, each
 * an ascending scan of the index, and stops as soon as the cap is reached
 * by messages that no message still unseen can be newer than: a message
 * none of whose hops lies in the windows done has its origin (its earliest
 * hop) below them. Then a search matching far more messages than the cap
 * reads a little more than the cap's worth, not all of them. The first
 * window is short, and each next one sized from the matches so far. */
#define FIND_WINDOW_FIRST APR_USEC_PER_SEC

/* Candidates whose origin is at or after @a t. */
static int cands_since(const find_t *f, apr_time_t t)
{
    int i, n = 0;
    for (i = 0; i < f->cands->nelts; i++)
        n += APR_ARRAY_IDX(f->cands, i, cand_t).first >= t;
    return n;
}

/* The entries of a range, up to a limit: their keys and times. */
typedef struct {
    apr_array_header_t *keys, *firsts;
    int max;
} entries_t;

static int collect_entry(void *baton, apr_uint64_t key, apr_time_t first)
{
    entries_t *e = baton;
    APR_ARRAY_PUSH(e->keys, apr_uint64_t) = key;
    APR_ARRAY_PUSH(e->firsts, apr_time_t) = first;
    return e->keys->nelts > e->max;
}

/* A range of no more entries than the cap (and a probe's worth) is read in
 * one scan: every window would be read, one index call each. Returns 1
 * when it did the search, 0 when the range holds more (the windows then
 * read it; the probe cost one scan of PROBE_MAX entries at most). */
static int scan_few(find_t *f, apr_pool_t *sp, const access_t *plan, const char **err)
{
    entries_t e;
    int i;

    e.max = f->cap < PROBE_MAX ? f->cap : PROBE_MAX;
    e.keys = apr_array_make(sp, e.max + 1, sizeof(apr_uint64_t));
    e.firsts = apr_array_make(sp, e.max + 1, sizeof(apr_time_t));
    *err = mt_store_scan(f->txn, sp, plan->ix, plan->value, f->start, plan->end,
                         collect_entry, &e);
    if (*err)
        return 1;
    if (e.keys->nelts > e.max)
        return 0;
    for (i = 0; i < e.keys->nelts; i++)
        if (find_hit(f, APR_ARRAY_IDX(e.keys, i, apr_uint64_t),
                     APR_ARRAY_IDX(e.firsts, i, apr_time_t)))
            break;
    return 1;
}

static const char *scan_newest(find_t *f, apr_pool_t *sp, const access_t *plan)
{
    apr_time_t hi = plan->end;
    /* The first window reaches from the search's end (now when it has
     * none) back, and up to the scan's end: the future, and what a
     * recipient scan reads beyond the end. */
    apr_time_t top = f->end == APR_INT64_MAX ? apr_time_now() : f->end, end, lo;
    apr_uint64_t w = FIND_WINDOW_FIRST;

    if (top > hi)
        top = hi;
    end = top;
    {
        const char *err;
        if (scan_few(f, sp, plan, &err))
            return err;
    }

    for (;;) {
        const char *err;
        double next;
        int have;

        if (top < f->start || (apr_uint64_t)top - (apr_uint64_t)f->start <= w)
            lo = f->start;
        else
            lo = top - (apr_time_t)w;
        err = mt_store_scan(f->txn, sp, plan->ix, plan->value, lo, hi, find_hit, f);
        if (err || f->err || lo == f->start)
            return err;
        /* More than the cap: the results are known, and that they are cut. */
        have = cands_since(f, lo);
        if (have > f->cap)
            return NULL;
        /* As much more as the matches so far suggest (four times as much
         * after nothing), at least twice as much, at most 16 times. */
        next = have ? (double)((apr_uint64_t)end - (apr_uint64_t)lo) * (f->cap + 1 - have)
                      / have * 1.25 : 4.0 * (double)w;
        if (next < 2.0 * (double)w)
            next = 2.0 * (double)w;
        if (next > 16.0 * (double)w)
            next = 16.0 * (double)w;
        w = next > 4e18 ? (apr_uint64_t)4e18 : (apr_uint64_t)next;
        hi = lo - 1;
        top = hi;
    }
}

mt_error_t *mt_query_find(mt_txn_t *txn, apr_pool_t *p, const mt_viewer_t *who,
                          const mt_find_t *q, apr_array_header_t **results, int *truncated)
{
    find_t f;
    access_t plan;
    const char *err;
    apr_pool_t *sp;
    mt_error_t *e;
    long probed = 0;
    int i, n;

    *results = apr_array_make(p, 8, sizeof(mt_found_t));
    *truncated = 0;
    if (q->stats)
        memset(q->stats, 0, sizeof(*q->stats));
    if ((e = mt_query_find_check(p, who, q)))
        return e;

    memset(&f, 0, sizeof(f));
    f.txn = txn;
    f.who = who;
    f.err_pool = p;
    f.sender = nz(q->sender);
    f.recipient = nz(q->recipient);
    f.recipient2 = nz(q->recipient2);
    f.subject = nz(q->subject);
    f.start = q->start;
    f.end = q->end == 0 ? APR_INT64_MAX : q->end;
    f.cap = q->max_results > 0 ? q->max_results : 0;
    f.cmp = q->newest_first ? cand_cmp_newest : cand_cmp;
    if (q->stats) {
        q->stats->start = f.start;
        q->stats->end = f.end;
    }
    if (f.start > f.end)
        return NULL;

    apr_pool_create(&sp, p);
    apr_pool_create(&f.hit_pool, sp);
    f.res_parent = p;
    apr_pool_create(&f.res_pool, p);
    f.scan_pool = sp;
    f.seen = apr_hash_make_custom(sp, set_hash);
    f.seen_hops = apr_hash_make_custom(sp, set_hash);
    f.cands = apr_array_make(sp, 64, sizeof(cand_t));
    if (nz(q->message_id))
        f.message_id = norm_msgid(sp, q->message_id);

    err = plan_find(&f, sp, &plan, &probed);
    if (!err && q->newest_first && f.cap > 0)
        err = scan_newest(&f, sp, &plan);
    else if (!err)
        err = mt_store_scan(txn, sp, plan.ix, plan.value, f.start, plan.end, find_hit, &f);
    if (q->stats) {
        q->stats->plan = plan.plan;
        q->stats->value = plan.value ? apr_pstrdup(p, plan.value) : NULL;
        q->stats->probed = probed;
        q->stats->scanned = f.scanned;
        q->stats->hops = f.hops;
        q->stats->matched = f.matches;
    }
    if (f.err || err) {
        e = f.err ? f.err : transient(p, err);
        apr_pool_destroy(f.res_pool);
        apr_pool_destroy(sp);
        return e;
    }

    qsort(f.cands->elts, (size_t)f.cands->nelts, sizeof(cand_t), f.cmp);
    n = f.cands->nelts;
    if (f.cap > 0 && f.matches > f.cap) {
        *truncated = 1;
        n = f.cap;
    }
    for (i = 0; i < n; i++)
        APR_ARRAY_PUSH(*results, mt_found_t) = *APR_ARRAY_IDX(f.cands, i, cand_t).found;
    apr_pool_destroy(sp);
    return NULL;
}

/* ------------------------------------------------------------------ report */

/* One recipient of the report. */
typedef struct {
    const char *addr;       /* as first seen */
    const char *orig;       /* root address, NULL */
    int bcc;
    int mta_delivered;      /* an MTA hop delivered to it */
    int last;               /* Summary: index of its last visible event, -1 */
    const char *path_id;    /* UniquePathId, set once the root address is final */
} rr_t;

/* One event with its sort key. */
typedef struct {
    mt_report_event_t ev;
    rr_t *r;
    int fact;
    int hop_ix;
    unsigned seq;
    int sub;
} rev_t;

typedef struct {
    mt_txn_t *txn;
    apr_pool_t *p;
    const message_t *msg;
    apr_array_header_t *rrs;   /* rr_t * in order of first appearance */
    apr_hash_t *by_addr;       /* lower(addr) -> rr_t * */
    apr_array_header_t *revs;  /* rev_t */
    apr_array_header_t *evbuf; /* mt_event_t of the hop being read */
    struct rix_t *rx_origin;   /* the recipients of msg->rorigin */
} build_t;

/* The recipients of one hop by address (ASCII lower case): a report may
 * cover a list expanded to thousands, so no linear lookups per event. */
typedef struct rix_t {
    apr_pool_t *p;
    apr_hash_t *first;         /* -> const mt_rcpt_t *: the first entry */
    apr_hash_t *rooted;        /* -> const mt_rcpt_t *: the first entry with a root address */
    apr_hash_t *hdr;           /* hdr_rcpts */
} rix_t;

static int has_root(const mt_rcpt_t *rc)
{
    return rc->orig && *rc->orig && !ieq(rc->orig, rc->addr);
}

static rix_t *rix_make(apr_pool_t *p, const mt_msg_t *m)
{
    rix_t *x = apr_pcalloc(p, sizeof(*x));
    int i;
    x->p = p;
    x->first = apr_hash_make(p);
    x->rooted = apr_hash_make(p);
    x->hdr = apr_hash_make(p);
    for (i = 0; m && m->rcpts && i < m->rcpts->nelts; i++) {
        const mt_rcpt_t *rc = &APR_ARRAY_IDX(m->rcpts, i, mt_rcpt_t);
        const char *k;
        if (!rc->addr)
            continue;
        k = lower(p, rc->addr);
        if (!apr_hash_get(x->first, k, APR_HASH_KEY_STRING))
            apr_hash_set(x->first, k, APR_HASH_KEY_STRING, rc);
        if (has_root(rc) && !apr_hash_get(x->rooted, k, APR_HASH_KEY_STRING))
            apr_hash_set(x->rooted, k, APR_HASH_KEY_STRING, rc);
    }
    for (i = 0; m && m->hdr_rcpts && i < m->hdr_rcpts->nelts; i++) {
        const char *a = APR_ARRAY_IDX(m->hdr_rcpts, i, const char *);
        if (a)
            apr_hash_set(x->hdr, lower(p, a), APR_HASH_KEY_STRING, "");
    }
    return x;
}

static const mt_rcpt_t *rix_first(const rix_t *x, const char *addr)
{
    return addr ? apr_hash_get(x->first, lower_lookup(x->p, addr), APR_HASH_KEY_STRING) : NULL;
}

static const mt_rcpt_t *rix_rooted(const rix_t *x, const char *addr)
{
    return addr ? apr_hash_get(x->rooted, lower_lookup(x->p, addr), APR_HASH_KEY_STRING) : NULL;
}

static int rix_hdr(const rix_t *x, const char *addr)
{
    return addr && apr_hash_get(x->hdr, lower_lookup(x->p, addr), APR_HASH_KEY_STRING) != NULL;
}

/* BccRecipient: known from the hop where the sender's recipients are (a
 * Bcc flag on the recipient or on the root address it was expanded from,
 * or logged To/Cc headers that name neither); a recipient that only later
 * hops know inherits from the recipient it came from (its root address). */
static int bcc_of(const mt_msg_t *origin, const rix_t *x, const char *addr, const char *orig,
                  unsigned flags)
{
    const mt_rcpt_t *o = rix_first(x, addr), *oo;
    const char *root;
    if (o && (o->flags & MT_RCPT_BCC))
        return 1;
    root = o && o->orig && *o->orig ? o->orig : orig;
    oo = root && !ieq(root, addr) ? rix_first(x, root) : NULL;
    if (oo && (oo->flags & MT_RCPT_BCC))
        return 1;
    if (!o && !oo)
        return (flags & MT_RCPT_BCC) != 0;
    if (origin->flags & MT_MSG_HDR_RCPTS)
        return !rix_hdr(x, addr) && !rix_hdr(x, root);
    return 0;
}

static rr_t *get_rr(build_t *b, const char *addr, const char *orig, unsigned flags)
{
    const char *k = lower_lookup(b->p, addr);
    rr_t *r = apr_hash_get(b->by_addr, k, APR_HASH_KEY_STRING);
    if (r) {
        if (!r->orig && orig && !ieq(orig, addr))
            r->orig = orig;
        return r;
    }
    r = apr_pcalloc(b->p, sizeof(*r));
    r->addr = addr;
    r->orig = orig && !ieq(orig, addr) ? orig : NULL;
    r->bcc = b->msg->rorigin ? bcc_of(b->msg->rorigin, b->rx_origin, addr, orig, flags)
                             : (flags & MT_RCPT_BCC) != 0;
    apr_hash_set(b->by_addr, k == addr ? apr_pstrdup(b->p, k) : k, APR_HASH_KEY_STRING, r);
    APR_ARRAY_PUSH(b->rrs, rr_t *) = r;
    return r;
}

/* Does mailbox user @a user (an address, or a local part) name @a addr? */
static int user_is(const char *user, const char *addr)
{
    const char *at;
    if (ieq(user, addr))
        return 1;
    if (!addr || strchr(user, '@') || !(at = strchr(addr, '@')))
        return 0;
    return (apr_size_t)(at - addr) == strlen(user) && strncasecmp(addr, user, strlen(user)) == 0;
}

/* The recipient a mailbox user stands for; NULL when the mailbox is the
 * sender's own (a copy saved to Sent is no delivery). */
static rr_t *mailbox_rr(build_t *b, const char *user)
{
    int i, pass;
    rr_t *r;
    if (!user || !*user)
        return NULL;
    if ((r = apr_hash_get(b->by_addr, lower_lookup(b->p, user), APR_HASH_KEY_STRING)))
        return r;
    for (pass = 1; pass < 3; pass++) {
        for (i = 0; i < b->rrs->nelts; i++) {
            r = APR_ARRAY_IDX(b->rrs, i, rr_t *);
            if (pass == 1 && ieq(r->orig, user))
                return r;
            if (pass == 2 && user_is(user, r->addr))
                return r;
        }
    }
    if (b->msg->origin && user_is(user, b->msg->origin->sender))
        return NULL;
    return get_rr(b, user, NULL, 0);
}

static int copy_event(void *baton, const mt_event_t *ev)
{
    build_t *b = baton;
    mt_event_t *c = &APR_ARRAY_PUSH(b->evbuf, mt_event_t);
    apr_pool_t *p = b->p;
    *c = *ev;
#define DUP(f) c->f = ev->f ? apr_pstrdup(p, ev->f) : NULL
    DUP(recipient);
    DUP(root);
    DUP(relay);
    DUP(next_id);
    DUP(dsn);
    DUP(text);
    DUP(folder);
    DUP(session);
#undef DUP
    return 0;
}

/* The host part of a relay as logged: "name[addr]:port" -> "name"; NULL
 * when it names no host (an address literal, "none", "local"). */
static const char *relay_name(apr_pool_t *p, const char *relay)
{
    apr_size_t n;
    const char *s;
    if (!relay)
        return NULL;
    n = strcspn(relay, "[:");
    if (n == 0)
        return NULL;
    s = apr_pstrmemdup(p, relay, n);
    if (ieq(s, "none") || ieq(s, "local") || ieq(s, "private") || strspn(s, "0123456789.") == n)
        return NULL;
    return s;
}

/* "mx2" and "mx2.example.org" name the same host. */
static int same_host(const char *a, const char *b)
{
    apr_size_t na, nb;
    if (!a || !b || !*a || !*b)
        return 0;
    if (ieq(a, b))
        return 1;
    na = strlen(a);
    nb = strlen(b);
    if (na < nb && b[na] == '.' && strncasecmp(a, b, na) == 0)
        return 1;
    if (nb < na && a[nb] == '.' && strncasecmp(a, b, nb) == 0)
        return 1;
    return 0;
}

/* Was this relay to a server whose logs are indexed? */
static int relay_internal(build_t *b, const mt_msg_t *h, const mt_event_t *ev)
{
    const char *name = relay_name(b->p, ev->relay);
    int i;
    for (i = 0; i < b->msg->hops->nelts; i++) {
        const mt_msg_t *o = APR_ARRAY_IDX(b->msg->hops, i, const mt_msg_t *);
        if (o->kind == MT_HOP_MAILBOX || o->key == h->key)
            continue;
        if (ev->next_id && o->local_id && strcmp(o->local_id, ev->next_id) == 0)
            return 1;
    }
    for (i = 0; i < b->msg->hops->nelts; i++) {
        const mt_msg_t *o = APR_ARRAY_IDX(b->msg->hops, i, const mt_msg_t *);
        if (o->kind == MT_HOP_MAILBOX || o->key == h->key)
            continue;
        if (ieq(o->host ? o->host : "", h->host ? h->host : ""))
            continue;
        if (ev->time > APR_INT64_MIN + RELAY_SKEW && o->first < ev->time - RELAY_SKEW)
            continue;
        /* When the relay names a host, the later hop must be on it: a copy
         * sent out of the organization is not SmtpSend because another copy
         * went to an indexed server. */
        if (name && !same_host(name, o->host))
            continue;
        return 1;
    }
    return 0;
}

static void add_data(apr_pool_t *p, mt_report_event_t *e, const char *s)
{
    if (s && *s)
        push_str(e->data, s);
}

/* Fact -> EventDescription / DeliveryStatus (NOTES.md). Returns 0 for
 * facts that make no event. */
static int map_fact(build_t *b, const mt_msg_t *h, const mt_event_t *ev, mt_report_event_t *e)
{
    apr_pool_t *p = b->p;
    switch (ev->fact) {
    case MT_FACT_RECEIVE: e->description = "SmtpReceive"; e->delivery_status = "Pending"; break;
    case MT_FACT_SUBMIT: e->description = "Submitted"; e->delivery_status = "Pending"; break;
    case MT_FACT_RESOLVE: e->description = "Resolved"; e->delivery_status = "Pending"; break;
    case MT_FACT_EXPAND: e->description = "Expanded"; e->delivery_status = "Pending"; break;
    case MT_FACT_REDIRECT: e->description = "Forwarded"; e->delivery_status = "Pending"; break;
    case MT_FACT_RELAY:
        if (relay_internal(b, h, ev)) {
            e->description = "SmtpSend";
            e->delivery_status = "Pending";
        }
        else {
            e->description = "TransferredToForeignOrg";
            e->delivery_status = "Transferred";
        }
        add_data(p, e, ev->relay);
        break;
    case MT_FACT_RELAY_EXTERNAL:
        e->description = "TransferredToForeignOrg";
        e->delivery_status = "Transferred";
        add_data(p, e, ev->relay);
        break;
    case MT_FACT_DELIVER: e->description = "Delivered"; e->delivery_status = "Delivered"; break;
    case MT_FACT_FILED:
        e->description = "MovedToFolderByInboxRule";
        e->delivery_status = "Delivered";
        add_data(p, e, ev->folder);
        break;
    case MT_FACT_DEFER:
        e->description = "MessageDefer";
        e->delivery_status = "Pending";
        e->queue_event = 1;
        add_data(p, e, ev->dsn);
        add_data(p, e, ev->text);
        break;
    case MT_FACT_FAIL:
        e->description = "FailedGeneral";
        e->delivery_status = "Unsuccessful";
        add_data(p, e, ev->dsn);
        add_data(p, e, ev->text);
        break;
    case MT_FACT_FAIL_RULES:
        e->description = "FailedTransportRules";
        e->delivery_status = "Unsuccessful";
        break;
    case MT_FACT_MOD_PENDING:
        e->description = "PendingModeration"; e->delivery_status = "Pending"; break;
    case MT_FACT_MOD_APPROVED:
        e->description = "ApprovedModeration"; e->delivery_status = "Pending"; break;
    case MT_FACT_MOD_REJECTED:
        e->description = "FailedModeration"; e->delivery_status = "Unsuccessful"; break;
    case MT_FACT_READ: e->description = "Read"; e->delivery_status = "Read"; break;
    case MT_FACT_NOTREAD: e->description = "NotRead"; e->delivery_status = "Delivered"; break;
    default:
        return 0;
    }
    return 1;
}

static void add_rev(build_t *b, const mt_msg_t *h, int hop_ix, const mt_event_t *ev, rr_t *r,
                    const char *root, int sub)
{
    rev_t *v = &APR_ARRAY_PUSH(b->revs, rev_t);
    memset(v, 0, sizeof(*v));
    v->ev.data = strings(b->p);
    if (!map_fact(b, h, ev, &v->ev)) {
        b->revs->nelts--;
        return;
    }
    v->ev.date = ev->time;
    v->ev.recipient = r->addr;
    v->ev.server = h->host;
    v->ev.internal_id = h->local_id;
    v->ev.hop = h->key;
    v->ev.bcc = r->bcc;
    /* HiddenRecipient: no log source marks hidden recipients yet (Exchange
     * hides them by address-book properties the logs do not carry). */
    v->ev.hidden = 0;
    v->ev.root = root && !ieq(root, r->addr) ? root : NULL;
    v->r = r;
    v->fact = ev->fact;
    v->hop_ix = hop_ix;
    v->seq = ev->seq;
    v->sub = sub;
    if (ev->fact == MT_FACT_DELIVER && h->kind != MT_HOP_MAILBOX)
        r->mta_delivered = 1;
}

static mt_error_t *read_events(build_t *b, const mt_msg_t *h)
{
    const char *err;
    b->evbuf->nelts = 0;
    if ((err = mt_store_events(b->txn, b->p, h->key, copy_event, b)))
        return transient(b->p, err);
    return NULL;
}

/* Who a hop-level event (receive, submit) of hop @a h is about: each
 * recipient once; an address that the hop expanded or resolved (the root
 * address of another recipient there) and that has no event of its own on
 * the hop (@a evs) is represented by its expansions; of an address listed
 * twice (directly and through an alias), the entry with the root address. */
static apr_array_header_t *hop_level_rcpts(apr_pool_t *p, const mt_msg_t *h,
                                           const apr_array_header_t *evs)
{
    apr_array_header_t *out = apr_array_make(p, h->rcpts ? h->rcpts->nelts : 1,
                                             sizeof(const mt_rcpt_t *));
    apr_hash_t *roots = apr_hash_make(p), *pos = apr_hash_make(p);
    int k;
    if (!h->rcpts)
        return out;
    for (k = 0; k < h->rcpts->nelts; k++) {
        const mt_rcpt_t *rc = &APR_ARRAY_IDX(h->rcpts, k, mt_rcpt_t);
        if (rc->addr && has_root(rc))
            apr_hash_set(roots, lower(p, rc->orig), APR_HASH_KEY_STRING, "");
    }
    for (k = 0; k < evs->nelts; k++) {
        const mt_event_t *ev = &APR_ARRAY_IDX(evs, k, mt_event_t);
        if (ev->recipient)
            apr_hash_set(roots, lower(p, ev->recipient), APR_HASH_KEY_STRING, NULL);
    }
    for (k = 0; k < h->rcpts->nelts; k++) {
        const mt_rcpt_t *rc = &APR_ARRAY_IDX(h->rcpts, k, mt_rcpt_t);
        const char *lk;
        int *ix;
        if (!rc->addr || !*rc->addr)
            continue;
        lk = lower(p, rc->addr);
        if (apr_hash_get(roots, lk, APR_HASH_KEY_STRING))
            continue;
        if ((ix = apr_hash_get(pos, lk, APR_HASH_KEY_STRING))) {
            const mt_rcpt_t **slot = &APR_ARRAY_IDX(out, *ix, const mt_rcpt_t *);
            if (!has_root(*slot) && has_root(rc))
                *slot = rc;
            continue;
        }
        ix = apr_palloc(p, sizeof(*ix));
        *ix = out->nelts;
        apr_hash_set(pos, lk, APR_HASH_KEY_STRING, ix);
        APR_ARRAY_PUSH(out, const mt_rcpt_t *) = rc;
    }
    return out;
}

/* RootAddress of an event of hop @a h for recipient @a r at @a addr: the
 * event's own, else the hop's (first) entry for the address; when the hop
 * does not tell (no entry with a root address), the root address the
 * recipient has on other hops (expanded on the first server, delivered on
 * the next). */
static const char *root_for(const rix_t *hx, const mt_event_t *ev, const char *addr,
                            const rr_t *r)
{
    const mt_rcpt_t *rc = rix_first(hx, addr);
    if (ev->root && *ev->root)
        return ev->root;
    if (rc && has_root(rc))
        return rc->orig;
    if (rc && rix_rooted(hx, addr))
        return NULL;    /* listed directly and through an alias: this one is direct */
    return r->orig;
}

static mt_error_t *build_events(build_t *b)
{
    const message_t *msg = b->msg;
    mt_error_t *e;
    int i, j, k, pass;

    /* Recipients in order of first appearance: hop by hop. */
    for (i = 0; i < msg->hops->nelts; i++) {
        const mt_msg_t *h = APR_ARRAY_IDX(msg->hops, i, const mt_msg_t *);
        if (h->kind == MT_HOP_MAILBOX || !h->rcpts)
            continue;
        for (j = 0; j < h->rcpts->nelts; j++) {
            const mt_rcpt_t *rc = &APR_ARRAY_IDX(h->rcpts, j, mt_rcpt_t);
            if (rc->addr && *rc->addr)
                get_rr(b, rc->addr, rc->orig, rc->flags);
        }
    }

    /* MTA hops first (they decide whether a mailbox delivery adds anything),
     * then mailbox hops. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < msg->hops->nelts; i++) {
            const mt_msg_t *h = APR_ARRAY_IDX(msg->hops, i, const mt_msg_t *);
            int mailbox = h->kind == MT_HOP_MAILBOX;
            rr_t *mr = NULL;
            if (mailbox != pass)
                continue;
            if (mailbox && !(mr = mailbox_rr(b, h->local_id)))
                continue;
            apr_array_header_t *hl = NULL;
            rix_t *hx = NULL;
            if ((e = read_events(b, h)))
                return e;
            for (j = 0; j < b->evbuf->nelts; j++) {
                const mt_event_t *ev = &APR_ARRAY_IDX(b->evbuf, j, mt_event_t);
                if (mailbox) {
                    rr_t *r = mr;
                    if (ev->fact == MT_FACT_DELIVER && r->mta_delivered)
                        continue;
                    add_rev(b, h, i, ev, r, ev->root ? ev->root : r->orig, 0);
                }
                else if (!ev->recipient) {
                    /* Hop level: one event per recipient of this hop. */
                    if (!hl)
                        hl = hop_level_rcpts(b->p, h, b->evbuf);
                    for (k = 0; k < hl->nelts; k++) {
                        const mt_rcpt_t *rc = APR_ARRAY_IDX(hl, k, const mt_rcpt_t *);
                        rr_t *r = get_rr(b, rc->addr, rc->orig, rc->flags);
                        add_rev(b, h, i, ev, r,
                                ev->root && *ev->root ? ev->root
                                : has_root(rc) ? rc->orig : r->orig, k);
                    }
                }
                else {
                    const mt_rcpt_t *rc;
                    rr_t *r;
                    if (!hx)
                        hx = h == msg->rorigin ? b->rx_origin : rix_make(b->p, h);
                    rc = rix_first(hx, ev->recipient);
                    r = get_rr(b, ev->recipient, rc ? rc->orig : NULL, rc ? rc->flags : 0);
                    add_rev(b, h, i, ev, r, root_for(hx, ev, ev->recipient, r), 0);
                }
            }
        }
    }
    return NULL;
}

static int rev_cmp(const void *a, const void *b)
{
    const rev_t *x = a, *y = b;
    if (x->ev.date != y->ev.date)
        return x->ev.date < y->ev.date ? -1 : 1;
    if (x->hop_ix != y->hop_ix)
        return x->hop_ix < y->hop_ix ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->sub < y->sub ? -1 : x->sub > y->sub;
}

static mt_report_t *empty_report(apr_pool_t *p)
{
    mt_report_t *r = apr_pcalloc(p, sizeof(*r));
    r->submitted = MT_TIME_MIN;
    r->original_recipients = strings(p);
    r->events = apr_array_make(p, 1, sizeof(mt_report_event_t));
    return r;
}

/* Does event @a v concern address @a a (the recipient or its root)? */
static int rev_is(const rev_t *v, const char *a)
{
    return ieq(v->ev.recipient, a) || ieq(v->ev.root, a);
}

/* UniquePathId of each recipient, once build_events() has learnt every
 * root address, and copied to the recipient's events. */
static void set_path_ids(build_t *b)
{
    int i;
    for (i = 0; i < b->rrs->nelts; i++) {
        rr_t *r = APR_ARRAY_IDX(b->rrs, i, rr_t *);
        r->path_id = r->orig ? apr_pstrcat(b->p, lower(b->p, r->orig), "/",
                                           lower(b->p, r->addr), NULL)
                             : lower(b->p, r->addr);
    }
    for (i = 0; i < b->revs->nelts; i++) {
        rev_t *v = &APR_ARRAY_IDX(b->revs, i, rev_t);
        v->ev.path_id = v->r->path_id;
    }
}

/* Non-delivery notifications about the message (MT_IX_REF), by time. */
typedef struct {
    apr_time_t first;
    const char *what;       /* "non-delivery notification <id> to <rcpt>" */
} notice_t;

typedef struct {
    build_t *b;
    apr_array_header_t *keys;
} notices_t;

static int notice_cmp(const void *a, const void *b)
{
    const notice_t *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* A notification that reports a failure (not a delay or a success). */
static int reports_failure(const mt_msg_t *n)
{
    const char *k = n->notify_kind ? n->notify_kind : "";
    return !(strncasecmp(k, "delay", 5) == 0 || strncasecmp(k, "success", 7) == 0
             || strncasecmp(k, "delivery success", 16) == 0);
}

static mt_error_t *read_notices(build_t *b, long *hops, apr_array_header_t **out)
{
    const message_t *msg = b->msg;
    apr_array_header_t *keys = apr_array_make(b->p, 4, sizeof(apr_uint64_t));
    const char *err;
    int i, j;

    *out = apr_array_make(b->p, 2, sizeof(notice_t));
    if (!msg->origin->message_id)
        return NULL;
    err = mt_store_keys(b->txn, b->p, MT_IX_REF, msg->origin->message_id, keys);
    if (err)
        return transient(b->p, err);
    for (i = 0; i < keys->nelts; i++) {
        mt_msg_t *n = apr_pcalloc(b->p, sizeof(*n));
        int rc = mt_store_msg_get(b->txn, b->p, APR_ARRAY_IDX(keys, i, apr_uint64_t), n, &err);
        const char *to = "";
        (*hops)++;
        if (rc < 0)
            return transient(b->p, err);
        /* Gone, a mailbox's copy, or (defensively) about another message. */
        if (rc == 0 || n->kind == MT_HOP_MAILBOX || !reports_failure(n)
            || !n->ref_message_id || strcmp(n->ref_message_id, msg->origin->message_id))
            continue;
        for (j = 0; n->rcpts && j < n->rcpts->nelts; j++) {
            const char *a = APR_ARRAY_IDX(n->rcpts, j, mt_rcpt_t).addr;
            if (a && *a) {
                to = apr_pstrcat(b->p, " to ", a, NULL);
                break;
            }
        }
        APR_ARRAY_PUSH(*out, notice_t) = (notice_t){
            n->first, apr_pstrcat(b->p, n->notify_kind ? n->notify_kind : "delivery status",
                                  " notification ", n->message_id ? n->message_id : "", to,
                                  NULL) };
    }
    qsort((*out)->elts, (size_t)(*out)->nelts, sizeof(notice_t), notice_cmp);
    return NULL;
}

/* Each failure event names the first failure notification sent after it. */
static void add_notices(build_t *b, const apr_array_header_t *notices)
{
    int i, j;
    for (i = 0; notices->nelts && i < b->revs->nelts; i++) {
        rev_t *v = &APR_ARRAY_IDX(b->revs, i, rev_t);
        if (strcmp(v->ev.delivery_status, "Unsuccessful") != 0)
            continue;
        for (j = 0; j < notices->nelts; j++) {
            const notice_t *n = &APR_ARRAY_IDX(notices, j, notice_t);
            if (n->first < v->ev.date - RELAY_SKEW)
                continue;
            push_str(v->ev.data, n->what);
            break;
        }
    }
}

mt_error_t *mt_query_report_check(apr_pool_t *p, const mt_viewer_t *who, const mt_get_t *q)
{
    mt_report_id_t id;
    if (!who->privileged && !nz(who->mailbox))
        return mt_error_make(p, MT_FAULT_NONE, "ErrorAccessDenied",
                             "the caller has no mailbox to track messages for");
    if (!q->report_id || mt_query_parse_report_id(p, q->report_id, &id) != 0)
        return mt_error_make(p, MT_FAULT_NONE, "ErrorInvalidArgument",
                             "the report id '%s' does not parse",
                             q->report_id ? q->report_id : "");
    if (q->recipient_path && !nz(q->recipient))
        return mt_error_make(p, MT_FAULT_NONE, "ErrorInvalidArgument",
                             "a RecipientPath report needs a RecipientFilter");
    return NULL;
}

mt_error_t *mt_query_report(mt_txn_t *txn, apr_pool_t *p, const mt_viewer_t *who,
                            const mt_get_t *q, mt_report_t **report)
{
    mt_report_id_t id;
    mt_msg_t *hop;
    message_t msg;
    build_t b;
    mt_report_t *r;
    mt_error_t *e;
    const char *err = NULL;
    const mt_msg_t *o;
    long hops;
    int rc, i, is_sender, own_only, qev;

    *report = NULL;
    if (q->stats) {
        memset(q->stats, 0, sizeof(*q->stats));
        q->stats->plan = "report-id";
    }
    if ((e = mt_query_report_check(p, who, q)))
        return e;
    mt_query_parse_report_id(p, q->report_id, &id);

    hop = apr_pcalloc(p, sizeof(*hop));
    rc = mt_store_msg_get(txn, p, id.key, hop, &err);
    hops = 1;
    if (rc < 0)
        return transient(p, err);
    /* Never trust the id: it must describe the hop it names. */
    if (rc == 0 || hop->kind == MT_HOP_MAILBOX
        || strcmp(id.message_id ? id.message_id : "", hop->message_id ? hop->message_id : "")
        || !ieq(id.server ? id.server : "", hop->host ? hop->host : "")
        || !ieq(id.sender ? id.sender : "", hop->sender ? hop->sender : ""))
        return mt_error_make(p, MT_FAULT_NONE, "ErrorMessageTrackingPermanentError",
                             "no message matches the report id");
    if ((e = gather(txn, p, hop, 0, &msg)))
        return e;
    hops += msg.hops->nelts - 1;
    o = msg.origin;     /* not NULL: hop itself is not a mailbox hop */

    /* Who may see what. */
    is_sender = who->privileged || ieq(o->sender, who->mailbox);
    if (!is_sender && !msg_has_rcpt(&msg, who->mailbox, 1))
        return mt_error_make(p, MT_FAULT_NONE, "ErrorAccessDenied",
                             "the caller neither sent nor received this message");
    own_only = !is_sender;
    qev = who->privileged && q->queue_events;

    memset(&b, 0, sizeof(b));
    b.txn = txn;
    b.p = p;
    b.msg = &msg;
    b.rrs = apr_array_make(p, 8, sizeof(rr_t *));
    b.by_addr = apr_hash_make(p);
    b.revs = apr_array_make(p, 16, sizeof(rev_t));
    b.evbuf = apr_array_make(p, 16, sizeof(mt_event_t));
    b.rx_origin = rix_make(p, msg.rorigin);
    if ((e = build_events(&b)))
        return e;
    set_path_ids(&b);
    qsort(b.revs->elts, (size_t)b.revs->nelts, sizeof(rev_t), rev_cmp);
    if (!own_only) {
        apr_array_header_t *notices;
        if ((e = read_notices(&b, &hops, &notices)))
            return e;
        add_notices(&b, notices);
    }
    if (q->stats)
        q->stats->hops = hops;

    /* Visibility of each event. */
    {
        apr_array_header_t *vis = apr_array_make(p, b.revs->nelts + 1, sizeof(rev_t));
        for (i = 0; i < b.revs->nelts; i++) {
            const rev_t *v = &APR_ARRAY_IDX(b.revs, i, rev_t);
            if (v->ev.queue_event && !qev)
                continue;
            if (v->ev.hidden && !who->privileged)
                continue;
            if ((v->fact == MT_FACT_READ || v->fact == MT_FACT_NOTREAD) && !who->read_tracking)
                continue;
            if (own_only && !rev_is(v, who->mailbox) && !ieq(v->r->orig, who->mailbox))
                continue;
            if (q->recipient_path && !rev_is(v, q->recipient))
                continue;
            APR_ARRAY_PUSH(vis, rev_t) = *v;
        }
        b.revs = vis;
    }

    if (q->recipient_path && b.revs->nelts == 0) {
        *report = empty_report(p);
        return NULL;
    }


    r = apr_pcalloc(p, sizeof(*r));
    r->message_id = o->message_id;
    r->sender = o->sender;
    r->subject = msg.sorigin->subject;
    r->submitted = o->first;
    if (own_only) {
        r->original_recipients = strings(p);
        push_str(r->original_recipients, who->mailbox);
    }
    else
        r->original_recipients = sender_rcpts(p, p, msg.rorigin);
    r->events = apr_array_make(p, b.revs->nelts + 1, sizeof(mt_report_event_t));

    if (q->recipient_path) {
        for (i = 0; i < b.revs->nelts; i++)
            APR_ARRAY_PUSH(r->events, mt_report_event_t) = APR_ARRAY_IDX(b.revs, i, rev_t).ev;
    }
    else {
        /* Summary: the last visible event of each recipient, recipients in
         * order of first appearance. */
        for (i = 0; i < b.rrs->nelts; i++)
            APR_ARRAY_IDX(b.rrs, i, rr_t *)->last = -1;
        for (i = 0; i < b.revs->nelts; i++)
            APR_ARRAY_IDX(b.revs, i, rev_t).r->last = i;
        for (i = 0; i < b.rrs->nelts; i++) {
            const rr_t *rr = APR_ARRAY_IDX(b.rrs, i, rr_t *);
            if (rr->last >= 0)
                APR_ARRAY_PUSH(r->events, mt_report_event_t)
                    = APR_ARRAY_IDX(b.revs, rr->last, rev_t).ev;
        }
    }
    if (q->stats)
        q->stats->matched = r->events->nelts;
    *report = r;
    return NULL;
}
