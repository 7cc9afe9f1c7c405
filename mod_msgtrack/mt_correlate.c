/* mt_correlate.c: parsed log records into hops and events (see mt_correlate.h) */
#include <string.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include "mt_ascii.h"
#include "mt_correlate.h"

/* A queue id seen again this long after its hop's last line starts a new hop
 * even without a "removed" line (the log holding it was lost). Postfix keeps
 * a message for 5 days by default; twice that leaves room for longer queues. */
#define REUSE_GAP (apr_time_from_sec(10 * 86400))

typedef struct {
    mt_msg_t m;
    int dirty;
} hop_t;

struct mt_corr_t {
    apr_pool_t *pool;
    apr_pool_t *bp;            /* the batch: cached hops and their strings */
    mt_txn_t *txn;
    apr_hash_t *by_id;         /* identity -> hop_t * (the newest hop) */
    apr_hash_t *by_key;        /* 8-byte key -> hop_t * */
    apr_array_header_t *dirty; /* hop_t * */
    mt_corr_stats_t st;
};

mt_corr_t *mt_corr_create(apr_pool_t *p)
{
    mt_corr_t *c = apr_pcalloc(p, sizeof(*c));
    c->pool = p;
    apr_pool_create(&c->bp, p);
    return c;
}

void mt_corr_begin(mt_corr_t *c, mt_txn_t *txn)
{
    apr_pool_clear(c->bp);
    c->txn = txn;
    c->by_id = apr_hash_make(c->bp);
    c->by_key = apr_hash_make(c->bp);
    c->dirty = apr_array_make(c->bp, 256, sizeof(hop_t *));
}

void mt_corr_end(mt_corr_t *c)
{
    c->txn = NULL;
    c->by_id = c->by_key = NULL;
    c->dirty = NULL;
    apr_pool_clear(c->bp);
}

const mt_corr_stats_t *mt_corr_stats(const mt_corr_t *c)
{
    return &c->st;
}

const char *mt_corr_flush(mt_corr_t *c)
{
    int i;
    for (i = 0; i < c->dirty->nelts; i++) {
        hop_t *h = APR_ARRAY_IDX(c->dirty, i, hop_t *);
        const char *err;
        if (h->dirty && (err = mt_store_msg_put(c->txn, &h->m)) != NULL)
            return err;
        h->dirty = 0;
    }
    apr_array_clear(c->dirty);
    return NULL;
}

/* ------------------------------------------------------------------ helpers */

static const char *sdup(mt_corr_t *c, const char *s)
{
    return s ? apr_pstrdup(c->bp, s) : NULL;
}

static int same(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return mt_ascii_ieq(a, b);
}

static void dirty(mt_corr_t *c, hop_t *h)
{
    if (!h->dirty) {
        h->dirty = 1;
        APR_ARRAY_PUSH(c->dirty, hop_t *) = h;
    }
}

/* Identity of a hop in the batch cache: the prefix of its by_hop key,
 * kind, lower(host) NUL, local-id NUL [, message-id NUL for a mailbox]. So
 * id + 1 is the lower-cased host and id_local() the local id. */
static const char *identity(mt_corr_t *c, int kind, const char *host, const char *local_id,
                            const char *message_id, apr_size_t *len)
{
    apr_size_t hl = strlen(host), ll = strlen(local_id), ml = message_id ? strlen(message_id) : 0;
    char *k = apr_palloc(c->bp, 1 + hl + 1 + ll + 1 + ml + 1), *q = k;

    *q++ = (char)kind;
    q = mt_ascii_lower_to(q, host, hl);
    *q++ = '\0';
    memcpy(q, local_id, ll + 1);
    q += ll + 1;
    if (kind == MT_HOP_MAILBOX) {
        memcpy(q, message_id ? message_id : "", ml + 1);
        q += ml + 1;
    }
    *len = (apr_size_t)(q - k);
    return k;
}

static const char *id_local(const char *id)
{
    return id + 1 + strlen(id + 1) + 1;
}

static void cache(mt_corr_t *c, hop_t *h, const char *id, apr_size_t idlen)
{
    apr_uint64_t *k = apr_palloc(c->bp, sizeof(*k));
    *k = h->m.key;
    apr_hash_set(c->by_key, k, sizeof(*k), h);
    if (id)
        apr_hash_set(c->by_id, id, (apr_ssize_t)idlen, h);
}

static const char *hop_by_key(mt_corr_t *c, apr_uint64_t key, hop_t **out)
{
    hop_t *h = apr_hash_get(c->by_key, &key, sizeof(key));
    const char *err = NULL;
    int rc;

    *out = NULL;
    if (h) {
        *out = h;
        return NULL;
    }
    h = apr_pcalloc(c->bp, sizeof(*h));
    rc = mt_store_msg_get(c->txn, c->bp, key, &h->m, &err);
    if (rc < 0)
        return err;
    if (rc == 0)
        return NULL;
    cache(c, h, NULL, 0);
    *out = h;
    return NULL;
}

/* The newest hop with this identity, from the batch or the index; NULL when none. */
static const char *hop_lookup(mt_corr_t *c, int kind, const char *host, const char *local_id,
                              const char *message_id, hop_t **out)
{
    apr_size_t idlen;
    const char *id = identity(c, kind, host, local_id, message_id, &idlen);
    hop_t *h = apr_hash_get(c->by_id, id, (apr_ssize_t)idlen);
    apr_uint64_t key;
    const char *err = NULL;
    int rc;

    *out = NULL;
    if (h) {
        *out = h;
        return NULL;
    }
    rc = mt_store_hop_find(c->txn, c->bp, kind, id + 1, local_id, message_id, &key, &err);
    if (rc < 0)
        return err;
    if (rc == 0)
        return NULL;
    if ((err = hop_by_key(c, key, &h)) != NULL)
        return err;
    if (h)
        apr_hash_set(c->by_id, id, (apr_ssize_t)idlen, h);
    *out = h;
    return NULL;
}

static const char *hop_create(mt_corr_t *c, int kind, const char *host, const char *local_id,
                              const char *message_id, apr_time_t t, hop_t **out)
{
    hop_t *h = apr_pcalloc(c->bp, sizeof(*h));
    apr_size_t idlen;
    const char *id = identity(c, kind, host, local_id, message_id, &idlen);
    const char *err;

    h->m.kind = kind;
    h->m.first = h->m.last = t;
    h->m.host = id + 1;
    h->m.local_id = id_local(id);
    h->m.message_id = sdup(c, message_id);
    h->m.size = -1;
    h->m.nrcpt = -1;
    h->m.rcpts = apr_array_make(c->bp, 4, sizeof(mt_rcpt_t));
    h->m.hdr_rcpts = apr_array_make(c->bp, 4, sizeof(const char *));
    if ((err = mt_store_msg_new(c->txn, &h->m)) != NULL)
        return err;
    cache(c, h, id, idlen);
    dirty(c, h);
    c->st.hops++;
    *out = h;
    return NULL;
}

static void touch(mt_corr_t *c, hop_t *h, apr_time_t t)
{
    if (t > h->m.last)
        h->m.last = t;
    dirty(c, h);
}

/* Write one event of @a h; @a ev holds the fact and its details. */
static const char *event(mt_corr_t *c, hop_t *h, apr_time_t t, mt_event_t *ev)
{
    const char *err;
    ev->msg = h->m.key;
    ev->seq = h->m.nevents++;
    ev->time = t;
    if ((err = mt_store_event_put(c->txn, ev)) != NULL)
        return err;
    c->st.events++;
    dirty(c, h);
    return NULL;
}

static const char *simple_event(mt_corr_t *c, hop_t *h, apr_time_t t, int fact,
                                const char *rcpt, const char *root)
{
    mt_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.fact = fact;
    ev.recipient = rcpt;
    ev.root = root;
    return event(c, h, t, &ev);
}

/* The recipient (addr, orig) of @a h, added when new; *fresh says so.
 * Postfix names the original address on every line (orig_to, or none when
 * the recipient was addressed directly): the pair must match. Exchange rows
 * other than RESOLVE/EXPAND/REDIRECT do not say, so there a NULL @a orig
 * matches the address whatever its root (@a loose). */
static mt_rcpt_t *rcpt_ex(mt_corr_t *c, hop_t *h, const char *addr, const char *orig,
                          int loose, int *fresh)
{
    mt_rcpt_t *r;
    int i;

    if (orig && same(orig, addr))
        orig = NULL;
    for (i = 0; i < h->m.rcpts->nelts; i++) {
        r = &APR_ARRAY_IDX(h->m.rcpts, i, mt_rcpt_t);
        if (same(r->addr, addr) && (same(r->orig, orig) || (loose && !orig))) {
            if (fresh)
                *fresh = 0;
            return r;
        }
    }
    r = apr_array_push(h->m.rcpts);
    r->addr = apr_pstrdup(c->bp, addr);
    r->orig = sdup(c, orig);
    r->flags = 0;
    if (fresh)
        *fresh = 1;
    dirty(c, h);
    return r;
}

static mt_rcpt_t *rcpt(mt_corr_t *c, hop_t *h, const char *addr, const char *orig, int *fresh)
{
    return rcpt_ex(c, h, addr, orig, 0, fresh);
}

static void set_str(mt_corr_t *c, hop_t *h, const char **field, const char *value)
{
    if (value && (!*field || strcmp(*field, value) != 0)) {
        *field = apr_pstrdup(c->bp, value);
        dirty(c, h);
    }
}

/* ------------------------------------------------------------------ text helpers */

const char *mt_corr_lmtp_session(apr_pool_t *p, const char *text)
{
    /* "250 2.0.0 <rcpt> SESSION Saved" */
    const char *end, *start;
    apr_size_t n;

    if (!text)
        return NULL;
    n = strlen(text);
    if (n < 7 || strcmp(text + n - 6, " Saved") != 0)
        return NULL;
    end = text + n - 6;
    for (start = end; start > text && start[-1] != ' '; start--)
        ;
    if (start == end || start == text || *start == '<')
        return NULL;
    return apr_pstrmemdup(p, start, (apr_size_t)(end - start));
}

static void push_unique(apr_pool_t *p, apr_array_header_t *out, const char *s, apr_size_t n)
{
    const char *a = mt_ascii_lower(p, s, n);
    int i;
    for (i = 0; i < out->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(out, i, const char *), a) == 0)
            return;
    APR_ARRAY_PUSH(out, const char *) = a;
}

void mt_corr_header_addresses(apr_pool_t *p, const char *value, apr_array_header_t *out)
{
    /* Addresses are either <inside brackets> or bare words holding '@'.
     * Quoted display names may hold commas and '@': skip quoted strings. */
    const char *s = value;

    while (s && *s) {
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++)
                if (*s == '\\' && s[1])
                    s++;
            if (*s)
                s++;
        }
        else if (*s == '(') {               /* comment */
            int depth = 1;
            for (s++; *s && depth; s++)
                depth += *s == '(' ? 1 : *s == ')' ? -1 : 0;
        }
        else if (*s == '<') {
            const char *e = strchr(s + 1, '>');
            if (!e)
                return;
            if (memchr(s + 1, '@', (apr_size_t)(e - s - 1)))
                push_unique(p, out, s + 1, (apr_size_t)(e - s - 1));
            s = e + 1;
        }
        else if (*s == ',' || *s == ' ' || *s == '\t' || *s == ';' || *s == ':') {
            s++;
        }
        else {
            /* A word: an address when it holds '@' and no '<' follows
             * before the next comma (else it is a display name). */
            const char *e = s;
            const char *next;
            while (*e && !strchr(" \t,;<\"(", *e))
                e++;
            next = e;
            while (*next == ' ' || *next == '\t')
                next++;
            if (memchr(s, '@', (apr_size_t)(e - s)) && *next != '<')
                push_unique(p, out, s, (apr_size_t)(e - s));
            s = e;
        }
    }
}

/* A DSN code ("5.1.1") inside @a text, or NULL. */
static const char *find_dsn(apr_pool_t *p, const char *text)
{
    const char *s;
    for (s = text; s && *s; s++) {
        if ((*s == '2' || *s == '4' || *s == '5') && s[1] == '.'
            && (s == text || s[-1] == ' ' || s[-1] == '#' || s[-1] == '[')
            && apr_isdigit(s[2])) {
            const char *e = s + 2;
            while (apr_isdigit(*e))
                e++;
            if (*e == '.' && apr_isdigit(e[1])) {
                e++;
                while (apr_isdigit(*e))
                    e++;
                if (!*e || *e == ' ' || *e == ';' || *e == ']')
                    return apr_pstrmemdup(p, s, (apr_size_t)(e - s));
            }
        }
    }
    return NULL;
}

/* Last component of a syslog program name: "postfix/submission/smtpd" -> "smtpd". */
static const char *agent(const char *program)
{
    const char *s;
    if (!program)
        return "";
    s = strrchr(program, '/');
    return s ? s + 1 : program;
}

static int is_trash(const char *box)
{
    static const char *const names[] = { "Trash", "Deleted Items", "Deleted Messages",
                                         "Bin", NULL };
    const char *leaf;
    int i;
    if (!box)
        return 0;
    leaf = box + strlen(box);
    while (leaf > box && leaf[-1] != '/' && leaf[-1] != '.')
        leaf--;
    for (i = 0; names[i]; i++)
        if (strcasecmp(box, names[i]) == 0 || strcasecmp(leaf, names[i]) == 0)
            return 1;
    return 0;
}

static int has_seen(const char *flags)
{
    return flags && strstr(flags, "\\Seen") != NULL;
}

/* ------------------------------------------------------------------ Postfix */

static int is_start(const mt_logrec_t *rec)
{
    return rec->kind == MT_REC_PF_CLIENT || rec->kind == MT_REC_PF_PICKUP;
}

static const char *pf_hop(mt_corr_t *c, const mt_logrec_t *rec, hop_t **out)
{
    const char *host = rec->host ? rec->host : "";
    hop_t *h;
    const char *err = hop_lookup(c, MT_HOP_POSTFIX, host, rec->queue_id, NULL, &h);

    if (err)
        return err;
    if (h && ((h->m.flags & MT_MSG_REMOVED)
              || (is_start(rec) && (h->m.flags & MT_MSG_STARTED))
              || rec->time - h->m.last > REUSE_GAP))
        h = NULL;                 /* the queue id was reused: a new message */
    if (!h && (err = hop_create(c, MT_HOP_POSTFIX, host, rec->queue_id, NULL, rec->time, &h)))
        return err;
    touch(c, h, rec->time);
    *out = h;
    return NULL;
}

static const char *pf_delivery(mt_corr_t *c, hop_t *h, const mt_logrec_t *rec)
{
    const char *a = agent(rec->program);
    const char *status = rec->status ? rec->status : "";
    int fresh;
    mt_rcpt_t *r = rcpt(c, h, rec->recipient, rec->orig_recipient, &fresh);
    const char *root = r->orig;
    mt_event_t ev;
    const char *err;

    if (fresh && root
        && (err = simple_event(c, h, rec->time, MT_FACT_EXPAND, r->addr, root)) != NULL)
        return err;

    memset(&ev, 0, sizeof(ev));
    ev.recipient = rec->recipient;
    ev.root = root;
    ev.relay = rec->relay;
    ev.dsn = rec->dsn;
    ev.text = rec->text;
    if (strcmp(status, "sent") == 0) {
        if (!strcmp(a, "lmtp") || !strcmp(a, "local") || !strcmp(a, "virtual")
            || !strcmp(a, "pipe")) {
            ev.fact = MT_FACT_DELIVER;
            ev.session = mt_corr_lmtp_session(c->bp, rec->text);
        }
        else if (!strcmp(a, "discard")) {
            ev.fact = MT_FACT_FAIL;
        }
        else {
            ev.fact = MT_FACT_RELAY;
            ev.next_id = rec->next_queue_id;
        }
        r->flags = (r->flags & ~(unsigned)MT_RCPT_PENDING) | MT_RCPT_DONE;
        /* Success needs no reply text: the joins (session, next queue id)
         * are kept, the rest would only grow the index. */
        if (ev.fact != MT_FACT_FAIL) {
            ev.dsn = ev.text = NULL;
            if (ev.fact == MT_FACT_DELIVER)
                ev.relay = NULL;
        }
    }
    else if (strcmp(status, "deferred") == 0
             || (strcmp(status, "bounced") != 0 && strcmp(status, "expired") != 0
                 && !(rec->dsn && rec->dsn[0] == '5'))) {
        ev.fact = MT_FACT_DEFER;
        r->flags |= MT_RCPT_PENDING;
    }
    else {
        ev.fact = MT_FACT_FAIL;
        r->flags = (r->flags & ~(unsigned)MT_RCPT_PENDING) | MT_RCPT_DONE;
    }
    dirty(c, h);
    return event(c, h, rec->time, &ev);
}

static const char *pf_expired(mt_corr_t *c, hop_t *h, const mt_logrec_t *rec)
{
    int i;
    h->m.flags |= MT_MSG_EXPIRED;
    set_str(c, h, &h->m.sender, rec->sender);
    /* Expiry names no recipient: it ends every one still deferred. */
    for (i = 0; i < h->m.rcpts->nelts; i++) {
        mt_rcpt_t *r = &APR_ARRAY_IDX(h->m.rcpts, i, mt_rcpt_t);
        mt_event_t ev;
        const char *err;
        if (!(r->flags & MT_RCPT_PENDING))
            continue;
        r->flags = (r->flags & ~(unsigned)MT_RCPT_PENDING) | MT_RCPT_DONE;
        memset(&ev, 0, sizeof(ev));
        ev.fact = MT_FACT_FAIL;
        ev.recipient = r->addr;
        ev.root = r->orig;
        ev.dsn = "4.4.7";
        ev.text = "message expired in the queue, returned to sender";
        if ((err = event(c, h, rec->time, &ev)) != NULL)
            return err;
    }
    return NULL;
}

static const char *pf_notify(mt_corr_t *c, hop_t *h, const mt_logrec_t *rec)
{
    mt_logrec_t nrec = *rec;
    hop_t *n;
    const char *err;

    if (!rec->next_queue_id)
        return NULL;
    nrec.kind = MT_REC_PF_QUEUED;    /* not a start line */
    nrec.queue_id = rec->next_queue_id;
    if ((err = pf_hop(c, &nrec, &n)) != NULL)
        return err;
    n->m.flags |= MT_MSG_NOTIFICATION;
    n->m.ndr_of = h->m.key;
    set_str(c, n, &n->m.ref_message_id, h->m.message_id);
    set_str(c, n, &n->m.notify_kind, rec->notify_kind);
    return NULL;
}

static const char *pf_reject(mt_corr_t *c, const mt_logrec_t *rec)
{
    hop_t *h;
    mt_event_t ev;
    const char *err;

    if (rec->queue_id) {
        if ((err = pf_hop(c, rec, &h)) != NULL)
            return err;
    }
    else {
        /* NOQUEUE: the message never got a queue file; it is a hop of its own. */
        if ((err = hop_create(c, MT_HOP_POSTFIX, rec->host ? rec->host : "", "NOQUEUE", NULL,
                              rec->time, &h)) != NULL)
            return err;
        h->m.flags |= MT_MSG_STARTED | MT_MSG_REMOVED;
        if (rec->client)
            h->m.client = apr_psprintf(c->bp, "%s[%s]", rec->client,
                                       rec->client_addr ? rec->client_addr : "");
        if ((err = simple_event(c, h, rec->time, MT_FACT_RECEIVE, NULL, NULL)) != NULL)
            return err;
    }
    if (!h->m.sender)
        set_str(c, h, &h->m.sender, rec->sender);
    if (rec->recipient)
        (void)rcpt(c, h, rec->recipient, NULL, NULL);
    memset(&ev, 0, sizeof(ev));
    ev.fact = MT_FACT_FAIL;
    ev.recipient = rec->recipient;
    ev.dsn = rec->dsn;
    ev.text = rec->text;
    return event(c, h, rec->time, &ev);
}

static const char *apply_postfix(mt_corr_t *c, const mt_logrec_t *rec)
{
    hop_t *h;
    const char *err;

    if (rec->kind == MT_REC_PF_REJECT)
        return pf_reject(c, rec);
    if (!rec->queue_id) {
        c->st.unjoined++;
        return NULL;
    }
    if ((err = pf_hop(c, rec, &h)) != NULL)
        return err;

    switch (rec->kind) {
    case MT_REC_PF_CLIENT:
        h->m.flags |= MT_MSG_STARTED;
        if (rec->client)
            h->m.client = apr_psprintf(c->bp, "%s[%s]", rec->client,
                                       rec->client_addr ? rec->client_addr : "");
        if (rec->sasl_user) {
            h->m.flags |= MT_MSG_SUBMITTED;
            set_str(c, h, &h->m.auth_user, rec->sasl_user);
        }
        return simple_event(c, h, rec->time, rec->sasl_user ? MT_FACT_SUBMIT : MT_FACT_RECEIVE,
                            NULL, NULL);
    case MT_REC_PF_PICKUP:
        h->m.flags |= MT_MSG_STARTED | MT_MSG_SUBMITTED;
        set_str(c, h, &h->m.sender, rec->sender);
        if (rec->uid)
            set_str(c, h, &h->m.auth_user, apr_pstrcat(c->bp, "uid=", rec->uid, NULL));
        return simple_event(c, h, rec->time, MT_FACT_SUBMIT, NULL, NULL);
    case MT_REC_PF_MESSAGE_ID:
        set_str(c, h, &h->m.message_id, rec->message_id);
        return NULL;
    case MT_REC_PF_HEADER:
        if (!h->m.sender)
            set_str(c, h, &h->m.sender, rec->sender);
        if (rec->header_name && strcasecmp(rec->header_name, "Subject") == 0)
            set_str(c, h, &h->m.subject, rec->subject ? rec->subject : rec->header_value);
        else if (rec->header_name && (strcasecmp(rec->header_name, "To") == 0
                                      || strcasecmp(rec->header_name, "Cc") == 0)) {
            apr_array_header_t *addrs = apr_array_make(c->bp, 4, sizeof(const char *));
            int i;
            mt_corr_header_addresses(c->bp, rec->header_value, addrs);
            h->m.flags |= MT_MSG_HDR_RCPTS;
            for (i = 0; i < addrs->nelts; i++) {
                const char *a = APR_ARRAY_IDX(addrs, i, const char *);
                push_unique(c->bp, h->m.hdr_rcpts, a, strlen(a));
            }
            dirty(c, h);
        }
        return NULL;
    case MT_REC_PF_QUEUED:
        set_str(c, h, &h->m.sender, rec->sender);
        if (rec->size >= 0)
            h->m.size = rec->size;
        if (rec->nrcpt >= 0)
            h->m.nrcpt = rec->nrcpt;
        return NULL;
    case MT_REC_PF_DELIVERY:
        if (!rec->recipient) {
            c->st.unjoined++;
            return NULL;
        }
        return pf_delivery(c, h, rec);
    case MT_REC_PF_EXPIRED:
        return pf_expired(c, h, rec);
    case MT_REC_PF_NOTIFY:
        return pf_notify(c, h, rec);
    case MT_REC_PF_REMOVED:
        h->m.flags |= MT_MSG_REMOVED;
        return NULL;
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------------ Dovecot */

static const char *apply_dovecot(mt_corr_t *c, const mt_logrec_t *rec)
{
    const char *host = rec->host ? rec->host : "";
    hop_t *h;
    mt_event_t ev;
    const char *err;
    int read;

    if (!rec->user || !rec->message_id) {
        c->st.unjoined++;
        return NULL;
    }
    if ((err = hop_lookup(c, MT_HOP_MAILBOX, host, rec->user, rec->message_id, &h)) != NULL)
        return err;
    if (!h) {
        if ((err = hop_create(c, MT_HOP_MAILBOX, host, rec->user, rec->message_id,
                              rec->time, &h)) != NULL)
            return err;
        (void)rcpt(c, h, rec->user, NULL, NULL);
    }
    touch(c, h, rec->time);
    memset(&ev, 0, sizeof(ev));
    ev.recipient = rec->user;
    ev.session = rec->session;
    ev.folder = rec->mailbox;

    if (rec->kind == MT_REC_DV_DELIVERED) {
        ev.fact = rec->mailbox && strcasecmp(rec->mailbox, "INBOX") != 0
                  ? MT_FACT_FILED : MT_FACT_DELIVER;
        return event(c, h, rec->time, &ev);
    }
    /* mail_log */
    read = (h->m.flags & MT_MSG_READ) != 0;
    if (!rec->status)
        return NULL;
    if (strcmp(rec->status, "flag_change") == 0) {
        if (read || !has_seen(rec->flags))
            return NULL;
        h->m.flags |= MT_MSG_READ;
        ev.fact = MT_FACT_READ;
        return event(c, h, rec->time, &ev);
    }
    if (strcmp(rec->status, "delete") == 0 || strcmp(rec->status, "expunge") == 0
        || (strcmp(rec->status, "copy") == 0 && is_trash(rec->mailbox))) {
        if (has_seen(rec->flags) && !read) {
            /* Read before we saw it (the flag change was not logged). */
            h->m.flags |= MT_MSG_READ;
            return NULL;
        }
        if (read || (h->m.flags & MT_MSG_NOTREAD))
            return NULL;
        h->m.flags |= MT_MSG_NOTREAD;
        ev.fact = MT_FACT_NOTREAD;
        return event(c, h, rec->time, &ev);
    }
    return NULL;
}

/* ------------------------------------------------------------------ Exchange */

static int ieq(const char *a, const char *b)
{
    return a && mt_ascii_ieq(a, b);
}

static const char *apply_msgtrk(mt_corr_t *c, const mt_logrec_t *rec)
{
    const char *id = rec->msgtrk_event_id ? rec->msgtrk_event_id : "";
    const char *src = rec->msgtrk_source;
    const char *host = rec->host ? rec->host : "";
    const char *lid;
    int per_rcpt = MT_FACT_NONE, hop_fact = MT_FACT_NONE;
    int i, n;
    hop_t *h;
    const char *err;

    /* The mailbox server's SUBMIT rows carry internal-message-id 0: there
     * the Message-ID is what tells messages apart. */
    if (rec->msgtrk_internal_id && *rec->msgtrk_internal_id
        && strcmp(rec->msgtrk_internal_id, "0") != 0)
        lid = rec->msgtrk_internal_id;
    else if (rec->message_id && *rec->message_id)
        lid = apr_pstrcat(c->bp, "msgid:", rec->message_id, NULL);
    else {
        c->st.unjoined++;
        return NULL;
    }
    if ((err = hop_lookup(c, MT_HOP_MSGTRK, host, lid, NULL, &h)) != NULL)
        return err;
    if (!h && (err = hop_create(c, MT_HOP_MSGTRK, host, lid, NULL, rec->time, &h)) != NULL)
        return err;
    touch(c, h, rec->time);
    set_str(c, h, &h->m.message_id, rec->message_id && *rec->message_id ? rec->message_id
                                                                        : NULL);
    if (rec->sender && (!h->m.sender || !*h->m.sender))
        set_str(c, h, &h->m.sender, rec->sender);
    if (rec->subject && *rec->subject && !h->m.subject)
        set_str(c, h, &h->m.subject, rec->subject);
    if (rec->size >= 0 && h->m.size < 0)
        h->m.size = rec->size;

    if (!strcasecmp(id, "RECEIVE")) {
        h->m.flags |= MT_MSG_STARTED;
        if (ieq(src, "STOREDRIVER")) {
            h->m.flags |= MT_MSG_SUBMITTED;
            hop_fact = MT_FACT_SUBMIT;
        }
        else {
            hop_fact = MT_FACT_RECEIVE;
            if (rec->client && *rec->client)
                h->m.client = rec->client_addr && *rec->client_addr
                              ? apr_psprintf(c->bp, "%s[%s]", rec->client, rec->client_addr)
                              : apr_pstrdup(c->bp, rec->client);
        }
    }
    else if (!strcasecmp(id, "SUBMIT")) {
        h->m.flags |= MT_MSG_STARTED | MT_MSG_SUBMITTED;
        hop_fact = MT_FACT_SUBMIT;
    }
    else if (!strcasecmp(id, "RESOLVE"))
        per_rcpt = MT_FACT_RESOLVE;
    else if (!strcasecmp(id, "EXPAND"))
        per_rcpt = MT_FACT_EXPAND;
    else if (!strcasecmp(id, "REDIRECT"))
        per_rcpt = MT_FACT_REDIRECT;
    else if (!strcasecmp(id, "SEND"))
        per_rcpt = MT_FACT_RELAY;
    else if (!strcasecmp(id, "SENDEXTERNAL"))
        per_rcpt = MT_FACT_RELAY_EXTERNAL;
    else if (!strcasecmp(id, "DELIVER"))
        per_rcpt = MT_FACT_DELIVER;
    /* DUPLICATEDELIVER: the store dropped a second copy (a recipient reached
     * through two groups); the recipient was delivered once, by DELIVER. */
    else if (!strcasecmp(id, "DEFER"))
        per_rcpt = MT_FACT_DEFER;
    else if (!strcasecmp(id, "FAIL"))
        per_rcpt = ieq(src, "AGENT") && rec->msgtrk_source_context
                   && strstr(rec->msgtrk_source_context, "Transport Rule")
                   ? MT_FACT_FAIL_RULES : MT_FACT_FAIL;
    else if (!strcasecmp(id, "BADMAIL") || !strcasecmp(id, "POISONMESSAGE"))
        per_rcpt = MT_FACT_FAIL;
    else if (!strcasecmp(id, "INITMESSAGECREATED"))
        per_rcpt = MT_FACT_MOD_PENDING;
    else if (!strcasecmp(id, "MODERATORAPPROVE"))
        per_rcpt = MT_FACT_MOD_APPROVED;
    else if (!strcasecmp(id, "MODERATORREJECT") || !strcasecmp(id, "MODERATIONEXPIRE"))
        per_rcpt = MT_FACT_MOD_REJECTED;
    else if (!strcasecmp(id, "DSN")) {
        h->m.flags |= MT_MSG_NOTIFICATION;
        if (rec->msgtrk_reference && *rec->msgtrk_reference)
            set_str(c, h, &h->m.ref_message_id, rec->msgtrk_reference);
        set_str(c, h, &h->m.notify_kind, "delivery status");
    }

    n = rec->recipients ? rec->recipients->nelts : 0;
    for (i = 0; i < n; i++) {
        const char *addr = APR_ARRAY_IDX(rec->recipients, i, const char *);
        const char *status = rec->recipient_status && i < rec->recipient_status->nelts
                             ? APR_ARRAY_IDX(rec->recipient_status, i, const char *) : NULL;
        const char *related = rec->msgtrk_related_recipient && *rec->msgtrk_related_recipient
                              ? rec->msgtrk_related_recipient : NULL;
        const char *root = per_rcpt == MT_FACT_RESOLVE || per_rcpt == MT_FACT_EXPAND
                           || per_rcpt == MT_FACT_REDIRECT ? related : NULL;
        mt_rcpt_t *r;
        mt_event_t ev;

        if (!addr || !*addr)
            continue;
        r = rcpt_ex(c, h, addr, root, 1, NULL);
        if (hop_fact == MT_FACT_SUBMIT && status) {
            unsigned f = ieq(status, "To") ? MT_RCPT_TO : ieq(status, "Cc") ? MT_RCPT_CC
                       : ieq(status, "Bcc") ? MT_RCPT_BCC : 0;
            if (f && !(r->flags & f)) {
                r->flags |= f;
                dirty(c, h);
            }
        }
        if (per_rcpt == MT_FACT_NONE)
            continue;
        memset(&ev, 0, sizeof(ev));
        ev.fact = per_rcpt;
        ev.recipient = addr;
        ev.root = root ? root : r->orig;
        if (per_rcpt == MT_FACT_RELAY || per_rcpt == MT_FACT_RELAY_EXTERNAL)
            ev.relay = rec->relay;
        if (per_rcpt == MT_FACT_DEFER || per_rcpt == MT_FACT_FAIL
            || per_rcpt == MT_FACT_FAIL_RULES) {
            ev.text = status;
            ev.dsn = find_dsn(c->bp, status);
        }
        if ((err = event(c, h, rec->time, &ev)) != NULL)
            return err;
    }
    if (hop_fact != MT_FACT_NONE)
        return simple_event(c, h, rec->time, hop_fact, NULL, NULL);
    return NULL;
}

/* ------------------------------------------------------------------ entry */

const char *mt_corr_apply(mt_corr_t *c, const mt_logrec_t *rec)
{
    switch (rec->format) {
    case MT_FORMAT_POSTFIX:
        return apply_postfix(c, rec);
    case MT_FORMAT_DOVECOT:
        return apply_dovecot(c, rec);
    case MT_FORMAT_MSGTRK:
        return apply_msgtrk(c, rec);
    default:
        return NULL;
    }
}
