/* test_store.c: the index environment, format record, file offsets, crashes,
 * hops, events and their indexes (TAP) */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <db.h>
#include "tap.h"
#include "tmpdir.h"
#include "mt_store.h"

/* Rewrite the format record behind the store's back. */
static int set_format(const char *dir, unsigned long long v)
{
    DB_ENV *env;
    DB *db;
    DBT k, d;
    unsigned char b[8];
    int i, rc;

    if (db_env_create(&env, 0) || env->open(env, dir, DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL
                                            | DB_INIT_TXN, 0))
        return -1;
    db_create(&db, env, 0);
    rc = db->open(db, NULL, "meta", NULL, DB_BTREE, DB_AUTO_COMMIT, 0);
    for (i = 7; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)v;
    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    k.data = (void *)"format";
    k.size = 6;
    d.data = b;
    d.size = 8;
    if (!rc)
        rc = db->put(db, NULL, &k, &d, DB_AUTO_COMMIT);
    db->close(db, 0);
    env->close(env, 0);
    return rc;
}

static mt_store_file_t sample_file(unsigned long long ino, unsigned long long offset)
{
    mt_store_file_t f;
    memset(&f, 0, sizeof(f));
    f.dev = 2049;
    f.ino = ino;
    f.head_len = 5;
    f.head_hash = mt_store_head_hash("Jun 3", 5);
    f.offset = offset;
    f.lines = offset / 100;
    f.format = 2;
    f.updated = 1234567;
    f.path = "/var/log/mail.log";
    return f;
}

/* ------------------------------------------------------------------ hops */

/* Run one libdb operation on database @a name of the index in @a dir behind
 * the store's back (the store must be closed): put when @a data is given,
 * get into @a out (@a *olen: its size, then the record's), otherwise delete.
 * No secondaries are associated here, so they do not follow. */
/* How verify names a value in by_sender, by_recipient, by_msgid: its hash. */
static const char *hx(apr_pool_t *p, const char *v, int lower)
{
    return apr_psprintf(p, "#%016" APR_UINT64_T_HEX_FMT,
                        (apr_uint64_t)mt_store_value_hash(v, strlen(v), lower));
}

static int raw_op(const char *dir, const char *name, const void *key, unsigned klen,
                  const void *data, unsigned dlen, void *out, unsigned *olen)
{
    DB_ENV *env;
    DB *db;
    DBT k, d;
    int rc;

    if (db_env_create(&env, 0) || env->open(env, dir, DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL
                                            | DB_INIT_TXN, 0))
        return -1;
    db_create(&db, env, 0);
    rc = db->open(db, NULL, name, NULL, DB_BTREE, DB_AUTO_COMMIT, 0);
    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    k.data = (void *)key;
    k.size = klen;
    if (!rc && data) {
        d.data = (void *)data;
        d.size = dlen;
        rc = db->put(db, NULL, &k, &d, DB_AUTO_COMMIT);
    }
    else if (!rc && out) {
        d.data = out;
        d.ulen = *olen;
        d.flags = DB_DBT_USERMEM;
        rc = db->get(db, NULL, &k, &d, 0);
        *olen = d.size;
    }
    else if (!rc) {
        rc = db->del(db, NULL, &k, DB_AUTO_COMMIT);
    }
    db->close(db, 0);
    env->close(env, 0);
    return rc;
}

static void be64(unsigned char *b, apr_uint64_t v)
{
    int i;
    for (i = 7; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)v;
}

static mt_msg_t mkhop(apr_pool_t *p, int kind, const char *host, const char *local,
                      const char *msgid, const char *sender, apr_time_t first, apr_time_t last)
{
    mt_msg_t m;
    memset(&m, 0, sizeof(m));
    m.kind = kind;
    m.host = host;
    m.local_id = local;
    m.message_id = msgid;
    m.sender = sender;
    m.first = first;
    m.last = last;
    m.size = -1;
    m.nrcpt = -1;
    m.rcpts = apr_array_make(p, 4, sizeof(mt_rcpt_t));
    m.hdr_rcpts = apr_array_make(p, 2, sizeof(const char *));
    return m;
}

static void add_rcpt(mt_msg_t *m, const char *addr, const char *orig, unsigned flags)
{
    mt_rcpt_t *r = apr_array_push(m->rcpts);
    r->addr = addr;
    r->orig = orig;
    r->flags = flags;
}

/* The next event of @a m (its seq: m->nevents, which counts it). */
static mt_event_t next_event(mt_msg_t *m, int fact, apr_time_t time, const char *recipient)
{
    mt_event_t e;
    memset(&e, 0, sizeof(e));
    e.msg = m->key;
    e.seq = m->nevents++;
    e.fact = fact;
    e.time = time;
    e.recipient = recipient;
    return e;
}

/* Assign a key to @a m and write it with @a nev events, in one transaction. */
static apr_uint64_t store_hop(mt_store_t *st, apr_pool_t *p, mt_msg_t *m, int nev,
                              const char **err)
{
    mt_txn_t *t;
    mt_event_t e;
    int i;

    *err = mt_store_begin(st, p, &t);
    if (!*err)
        *err = mt_store_msg_new(t, m);
    for (i = 0; !*err && i < nev; i++) {
        e = next_event(m, MT_FACT_DELIVER, m->first + i, "x@example.org");
        *err = mt_store_event_put(t, &e);
    }
    if (!*err)
        *err = mt_store_msg_put(t, m);
    if (!*err)
        *err = mt_store_commit(t);
    mt_store_abort(t);
    return *err ? 0 : m->key;
}

/* Write @a m (already keyed) again. */
static const char *restore_hop(mt_store_t *st, apr_pool_t *p, const mt_msg_t *m)
{
    mt_txn_t *t;
    const char *err = mt_store_begin(st, p, &t);
    if (!err)
        err = mt_store_msg_put(t, m);
    if (!err)
        err = mt_store_commit(t);
    mt_store_abort(t);
    return err;
}

/* Hop keys named, for readable expectations. */
typedef struct {
    apr_uint64_t key;
    const char *name;
} label_t;

typedef struct {
    apr_pool_t *p;
    const label_t *labels;
    int nlabels, stop_after, calls, ordered;
    apr_time_t prev, first0;
    char *out;
} collect_t;

static int collect(void *baton, apr_uint64_t key, apr_time_t first)
{
    collect_t *c = baton;
    const char *name = NULL;
    int i;
    for (i = 0; i < c->nlabels; i++)
        if (c->labels[i].key == key)
            name = c->labels[i].name;
    if (!name)
        name = apr_psprintf(c->p, "#%" APR_UINT64_T_FMT, key);
    if (c->calls++ && first < c->prev)
        c->ordered = 0;
    else if (c->calls == 1)
        c->first0 = first;
    c->prev = first;
    c->out = apr_pstrcat(c->p, c->out, *c->out ? "," : "", name, NULL);
    return c->stop_after && c->calls >= c->stop_after;
}

static void collect_init(collect_t *c, apr_pool_t *p, const label_t *labels, int n)
{
    memset(c, 0, sizeof(*c));
    c->p = p;
    c->labels = labels;
    c->nlabels = n;
    c->ordered = 1;
    c->out = "";
}

/* The hops a scan finds, by name, comma-separated; "ERR: ..." on error,
 * "UNORDERED" when first times go back. */
static const char *scan_names(mt_txn_t *t, apr_pool_t *p, const label_t *labels, int n,
                              mt_index_e ix, const char *value, apr_time_t start,
                              apr_time_t end, int stop_after)
{
    collect_t c;
    const char *err;
    collect_init(&c, p, labels, n);
    c.stop_after = stop_after;
    err = mt_store_scan(t, p, ix, value, start, end, collect, &c);
    if (err)
        return apr_pstrcat(p, "ERR: ", err, NULL);
    return c.ordered ? c.out : "UNORDERED";
}

static const char *key_name(apr_pool_t *p, apr_uint64_t key)
{
    return apr_psprintf(p, "#%" APR_UINT64_T_FMT, key);
}

/* Events of one hop, kept whole. */
typedef struct {
    mt_event_t ev[8];
    int n;
    char *seqs;
    apr_pool_t *p;
} events_t;

static int collect_event(void *baton, const mt_event_t *e)
{
    events_t *c = baton;
    if (c->n < 8)
        c->ev[c->n] = *e;
    c->n++;
    c->seqs = apr_psprintf(c->p, "%s%s%" APR_UINT64_T_FMT "/%u", c->seqs, *c->seqs ? "," : "",
                           e->msg, e->seq);
    return 0;
}

static const char *get_events(mt_txn_t *t, apr_pool_t *p, apr_uint64_t msg, events_t *c)
{
    const char *err;
    memset(c, 0, sizeof(*c));
    c->p = p;
    c->seqs = "";
    err = mt_store_events(t, p, msg, collect_event, c);
    return err ? apr_pstrcat(p, "ERR: ", err, NULL) : c->seqs;
}

typedef struct {
    int n;
    mt_store_file_t last;
} files_t;

static int collect_file(void *baton, const mt_store_file_t *f)
{
    files_t *c = baton;
    c->n++;
    c->last = *f;
    return 0;
}

typedef struct {
    apr_pool_t *p;
    apr_uint64_t n;
    char *all;
} probs_t;

static void on_problem(void *baton, const char *line)
{
    probs_t *pr = baton;
    pr->n++;
    pr->all = apr_pstrcat(pr->p, pr->all, line, "\n", NULL);
}

/* Every problem verify reports, one a line; "ERR: ..." on error. */
static const char *verify_all(mt_store_t *st, apr_pool_t *p, apr_uint64_t *count)
{
    probs_t pr;
    const char *err;
    pr.p = p;
    pr.n = 0;
    pr.all = "";
    err = mt_store_verify(st, p, on_problem, &pr, count);
    if (err)
        return apr_pstrcat(p, "ERR: ", err, NULL);
    if (pr.n != *count)
        return "ERR: the count differs from the problems reported";
    return pr.all;
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const char *nul(const char *s)
{
    return s ? s : "(null)";
}

/* The string fields of a hop and of an event, for table-driven round trips. */
typedef struct {
    const char *name;
    size_t off;
} field_t;

static const field_t msg_strings[] = {
    { "host", offsetof(mt_msg_t, host) },
    { "local_id", offsetof(mt_msg_t, local_id) },
    { "message_id", offsetof(mt_msg_t, message_id) },
    { "ref_message_id", offsetof(mt_msg_t, ref_message_id) },
    { "sender", offsetof(mt_msg_t, sender) },
    { "subject", offsetof(mt_msg_t, subject) },
    { "client", offsetof(mt_msg_t, client) },
    { "auth_user", offsetof(mt_msg_t, auth_user) },
    { "notify_kind", offsetof(mt_msg_t, notify_kind) },
};

static const field_t ev_strings[] = {
    { "recipient", offsetof(mt_event_t, recipient) },
    { "root", offsetof(mt_event_t, root) },
    { "relay", offsetof(mt_event_t, relay) },
    { "next_id", offsetof(mt_event_t, next_id) },
    { "dsn", offsetof(mt_event_t, dsn) },
    { "text", offsetof(mt_event_t, text) },
    { "folder", offsetof(mt_event_t, folder) },
    { "session", offsetof(mt_event_t, session) },
};

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))
#define FIELD(base, off) (*(const char **)(void *)((char *)(base) + (off)))

/* Do the string fields of @a a and @a b match? Prints the first mismatch. */
static int fields_eq(const field_t *f, size_t n, const void *a, const void *b)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!str_eq(FIELD(a, f[i].off), FIELD(b, f[i].off))) {
            printf("# %s: '%s' vs '%s'\n", f[i].name, nul(FIELD(a, f[i].off)),
                   nul(FIELD(b, f[i].off)));
            return 0;
        }
    return 1;
}

/* String values: NULL, "", and UTF-8 text. */
static const char *const str_values[] = { NULL, "", "Gr\xc3\xbc\xc3\x9f" "e <a@b> 250 2.0.0 Ok" };

static void test_roundtrip(mt_store_t *st, apr_pool_t *p)
{
    static const struct {
        apr_time_t first, last;
    } times[] = {
        { 0, 0 },
        { -1, 1 },
        { -86400000000LL, -1 },
        { INT64_MIN, INT64_MAX },
        { INT64_MAX, INT64_MIN },
        { 1717400000123456LL, 1717400999000000LL },
    };
    const char *err = NULL;
    mt_msg_t m, g;
    mt_txn_t *t;
    size_t v, i;
    int all;

    /* Every string field NULL, "", text. */
    for (v = 0; v < NELTS(str_values); v++) {
        m = mkhop(p, MT_HOP_POSTFIX, "mx1", "4Abc", NULL, NULL, 1000, 2000);
        for (i = 0; i < NELTS(msg_strings); i++)
            FIELD(&m, msg_strings[i].off) = str_values[v];
        store_hop(st, p, &m, 0, &err);
        ok(!err, "hop with strings '%s' stored%s%s", nul(str_values[v]), err ? ": " : "",
           err ? err : "");
        mt_store_begin(st, p, &t);
        memset(&g, 0, sizeof(g));
        is_int(mt_store_msg_get(t, p, m.key, &g, &err), 1, "hop with strings '%s' found",
               nul(str_values[v]));
        ok(fields_eq(msg_strings, NELTS(msg_strings), &m, &g),
           "every string field round-trips as '%s'", nul(str_values[v]));
        ok(g.rcpts && g.rcpts->nelts == 0 && g.hdr_rcpts && g.hdr_rcpts->nelts == 0,
           "empty arrays come back empty, not NULL");
        ok(g.key == m.key && g.kind == MT_HOP_POSTFIX && g.size == -1 && g.nrcpt == -1,
           "key, kind, unknown size and count");
        mt_store_abort(t);
    }

    /* Times, negative and extreme. */
    for (i = 0; i < NELTS(times); i++) {
        m = mkhop(p, MT_HOP_MSGTRK, "ex1", "123", NULL, "a@example.org",
                  times[i].first, times[i].last);
        store_hop(st, p, &m, 0, &err);
        mt_store_begin(st, p, &t);
        memset(&g, 0, sizeof(g));
        mt_store_msg_get(t, p, m.key, &g, &err);
        ok(g.first == times[i].first && g.last == times[i].last,
           "times %" APR_INT64_T_FMT " .. %" APR_INT64_T_FMT " round-trip",
           (apr_int64_t)times[i].first, (apr_int64_t)times[i].last);
        mt_store_abort(t);
    }

    /* Scalars at their limits, NULL arrays. */
    m = mkhop(p, MT_HOP_MAILBOX, "imap1", "alice", "<m@x>", NULL, 5, 6);
    m.ndr_of = UINT64_MAX;
    m.size = INT64_MAX;
    m.nrcpt = INT_MIN;
    m.flags = MT_MSG_READ | MT_MSG_NOTIFICATION | 0x80000000u;
    m.rcpts = NULL;
    m.hdr_rcpts = NULL;
    store_hop(st, p, &m, 0, &err);
    mt_store_begin(st, p, &t);
    is_int(mt_store_msg_get(t, p, m.key, &g, &err), 1, "hop with NULL arrays stored and found");
    ok(g.ndr_of == UINT64_MAX && g.size == INT64_MAX && g.nrcpt == INT_MIN
       && g.flags == m.flags && g.kind == MT_HOP_MAILBOX, "scalars at their limits round-trip");
    ok(g.rcpts && g.rcpts->nelts == 0 && g.hdr_rcpts && g.hdr_rcpts->nelts == 0,
       "NULL arrays come back empty");
    mt_store_abort(t);

    /* Many recipients. */
    m = mkhop(p, MT_HOP_POSTFIX, "mx1", "MANY", "<many@x>", "s@x", 7, 8);
    m.size = 0;
    m.nrcpt = 500;
    for (i = 0; i < 500; i++)
        add_rcpt(&m, apr_psprintf(p, "user%u@example.org", (unsigned)i), i % 3 ? NULL
                 : i % 2 ? "" : "list@example.org", (unsigned)i % 8);
    APR_ARRAY_PUSH(m.hdr_rcpts, const char *) = "to@example.org";
    APR_ARRAY_PUSH(m.hdr_rcpts, const char *) = "";
    store_hop(st, p, &m, 0, &err);
    ok(!err, "hop with 500 recipients stored%s%s", err ? ": " : "", err ? err : "");
    mt_store_begin(st, p, &t);
    mt_store_msg_get(t, p, m.key, &g, &err);
    is_int(g.rcpts->nelts, 500, "500 recipients come back");
    for (i = 0, all = 1; i < 500 && g.rcpts->nelts == 500; i++) {
        const mt_rcpt_t *a = &APR_ARRAY_IDX(m.rcpts, i, mt_rcpt_t);
        const mt_rcpt_t *b = &APR_ARRAY_IDX(g.rcpts, i, mt_rcpt_t);
        if (!str_eq(a->addr, b->addr) || !str_eq(a->orig, b->orig) || a->flags != b->flags)
            all = 0;
    }
    ok(all, "recipients in order, with orig (NULL, \"\", text) and flags");
    ok(g.hdr_rcpts->nelts == 2
       && !strcmp(APR_ARRAY_IDX(g.hdr_rcpts, 0, const char *), "to@example.org")
       && !strcmp(APR_ARRAY_IDX(g.hdr_rcpts, 1, const char *), ""), "header recipients");
    ok(g.size == 0 && g.nrcpt == 500, "size 0 and nrcpt round-trip");
    is_str(scan_names(t, p, NULL, 0, MT_IX_RECIPIENT, "USER499@example.org", 0, 100, 0),
           key_name(p, m.key), "the 500th recipient is indexed");
    is_str(scan_names(t, p, NULL, 0, MT_IX_RECIPIENT, "list@example.org", 0, 100, 0),
           key_name(p, m.key), "a root address shared by many recipients: the hop once");
    is_str(scan_names(t, p, NULL, 0, MT_IX_RECIPIENT, "", 0, 100, 0),
           key_name(p, m.key), "an empty root address is an address too");
    is_int(mt_store_msg_get(t, p, 987654321, &g, &err), 0, "an unknown hop is not found");
    mt_store_abort(t);

    /* Invalid kinds are refused. */
    m = mkhop(p, 0, "mx1", "X", NULL, NULL, 1, 1);
    store_hop(st, p, &m, 0, &err);
    like(err, "no valid kind", "a hop without a kind is refused");
}

static void test_events(mt_store_t *st, apr_pool_t *p)
{
    const char *err = NULL;
    mt_msg_t m, a, b;
    mt_event_t e[3];
    events_t got;
    mt_txn_t *t;
    size_t v;
    int i;

    /* Field round trips: one event per string value. */
    m = mkhop(p, MT_HOP_POSTFIX, "mx1", "EV1", NULL, "a@x", 100, 200);
    mt_store_begin(st, p, &t);
    mt_store_msg_new(t, &m);
    for (v = 0; v < NELTS(str_values); v++) {
        size_t i2;
        static const apr_time_t evtimes[] = { -5, INT64_MIN, INT64_MAX };
        e[v] = next_event(&m, MT_FACT_NOTREAD - (int)v, evtimes[v], NULL);
        for (i2 = 0; i2 < NELTS(ev_strings); i2++)
            FIELD(&e[v], ev_strings[i2].off) = str_values[v];
    }
    /* out of order: seq orders them */
    for (i = 2; i >= 0 && !err; i--)
        err = mt_store_event_put(t, &e[i]);
    if (!err)
        err = mt_store_msg_put(t, &m);
    ok(!err && !mt_store_commit(t), "three events stored");
    mt_store_begin(st, p, &t);
    is_str(get_events(t, p, m.key, &got), apr_psprintf(p, "%s/0,%s/1,%s/2", key_name(p, m.key) + 1,
                                                      key_name(p, m.key) + 1,
                                                      key_name(p, m.key) + 1),
           "events come in seq order");
    for (v = 0; v < NELTS(str_values) && got.n == 3; v++) {
        ok(fields_eq(ev_strings, NELTS(ev_strings), &e[v], &got.ev[v])
           && got.ev[v].time == e[v].time && got.ev[v].fact == e[v].fact,
           "event fields round-trip as '%s'", nul(str_values[v]));
    }
    mt_store_abort(t);

    /* Adjacent hop keys 255 and 256 (their keys differ in two bytes). */
    mt_store_begin(st, p, &t);
    a = mkhop(p, MT_HOP_POSTFIX, "mx1", "K255", NULL, NULL, 1, 1);
    b = mkhop(p, MT_HOP_POSTFIX, "mx1", "K256", NULL, NULL, 1, 1);
    a.key = 255;
    b.key = 256;
    for (i = 0; i < 3; i++) {
        mt_event_t x = next_event(&a, MT_FACT_DEFER, i, NULL);
        mt_event_t y = next_event(&b, MT_FACT_DEFER, i, NULL);
        if (i < 2)
            mt_store_event_put(t, &y);
        mt_store_event_put(t, &x);
    }
    mt_store_msg_put(t, &a);
    mt_store_msg_put(t, &b);
    ok(!mt_store_commit(t), "events of hops 255 and 256");
    mt_store_begin(st, p, &t);
    is_str(get_events(t, p, 255, &got), "255/0,255/1,255/2", "hop 255 has its 3 events only");
    is_str(get_events(t, p, 256, &got), "256/0,256/1", "hop 256 has its 2 events only");
    is_str(get_events(t, p, 254, &got), "", "hop 254 has none");
    is_str(get_events(t, p, 257, &got), "", "hop 257 has none");
    mt_store_abort(t);
    /* the counter keeps clear of these hand-made keys */
    mt_store_begin(st, p, &t);
    {
        unsigned long long c = 0;
        mt_store_counter_get(t, "message", &c);
        ok(c < 255, "hand-made keys are above the counter (%llu)", c);
    }
    mt_store_abort(t);
}

static void test_scans(mt_store_t *st, apr_pool_t *p)
{
    enum { S1, S2, S3, SN, NDR, BOX, MOVE, NL };
    label_t l[NL];
    const char *err;
    mt_msg_t m[NL];
    mt_txn_t *t;
    int i, e = 0;

    m[S1] = mkhop(p, MT_HOP_POSTFIX, "mx1", "S1", "<one@example.org>", "Scan@Example.org",
                  -100, 10);
    add_rcpt(&m[S1], "Carol@Example.ORG", "Team@Example.org", MT_RCPT_TO);
    add_rcpt(&m[S1], "carol@example.org", NULL, 0);        /* same, once */
    m[S2] = mkhop(p, MT_HOP_POSTFIX, "mx1", "S2", "<two@example.org>", "scan@example.org",
                  200, 300);
    add_rcpt(&m[S2], "dave@example.org", "dave@example.org", 0);
    m[S3] = mkhop(p, MT_HOP_MSGTRK, "ex1", "S3", "<three@example.org>", "SCAN@EXAMPLE.ORG",
                  300, 300);
    add_rcpt(&m[S3], "carol@example.org", NULL, MT_RCPT_CC);
    m[SN] = mkhop(p, MT_HOP_POSTFIX, "mx1", "SN", "<null@example.org>", "", 250, 250);
    add_rcpt(&m[SN], "scan@example.org", NULL, 0);
    m[NDR] = mkhop(p, MT_HOP_POSTFIX, "mx1", "NDR", "<ndr@mx1>", "", 260, 260);
    m[NDR].ref_message_id = "<one@example.org>";
    m[NDR].flags = MT_MSG_NOTIFICATION;
    add_rcpt(&m[NDR], "scan@example.org", NULL, 0);
    m[BOX] = mkhop(p, MT_HOP_MAILBOX, "imap1", "carol", "<one@example.org>",
                   "scan@example.org", 270, 280);
    add_rcpt(&m[BOX], "carol@example.org", NULL, 0);
    m[MOVE] = mkhop(p, MT_HOP_POSTFIX, "mx2", "MOVE", "<move@example.org>", "old@example.org",
                    150, 150);
    add_rcpt(&m[MOVE], "old-rcpt@example.org", NULL, 0);
    for (i = 0; i < NL; i++) {
        store_hop(st, p, &m[i], 0, &err);
        e += err != NULL;
    }
    ok(!e, "scan hops stored");
    l[S1].name = "S1"; l[S2].name = "S2"; l[S3].name = "S3"; l[SN].name = "SN";
    l[NDR].name = "NDR"; l[BOX].name = "BOX"; l[MOVE].name = "MOVE";
    for (i = 0; i < NL; i++)
        l[i].key = m[i].key;

    mt_store_begin(st, p, &t);
    {
        static const struct {
            mt_index_e ix;
            const char *value;
            apr_time_t start, end;
            int stop;
            const char *want, *name;
        } cases[] = {
            { MT_IX_SENDER, "scan@example.org", INT64_MIN, INT64_MAX, 0, "S1,S2,S3",
              "sender, any case, ascending time; mailbox hops not indexed" },
            { MT_IX_SENDER, "SCAN@example.ORG", -100, 300, 0, "S1,S2,S3", "bounds are inclusive" },
            { MT_IX_SENDER, "scan@example.org", -99, 299, 0, "S2", "outside the bounds excluded" },
            { MT_IX_SENDER, "scan@example.org", 200, 200, 0, "S2", "one instant" },
            { MT_IX_SENDER, "scan@example.org", 301, INT64_MAX, 0, "", "after every hop" },
            { MT_IX_SENDER, "scan@example.org", 300, 200, 0, "", "start after end" },
            { MT_IX_SENDER, "scan@example.org", INT64_MIN, INT64_MAX, 2, "S1,S2",
              "a non-zero return stops" },
            { MT_IX_SENDER, "scan@example.or", INT64_MIN, INT64_MAX, 0, "", "no prefix match" },
            { MT_IX_SENDER, "scan@example.orgx", INT64_MIN, INT64_MAX, 0, "", "no longer match" },
            { MT_IX_SENDER, "", INT64_MIN, 999, 0, "SN,NDR", "the null sender" },
            { MT_IX_RECIPIENT, "CAROL@example.org", INT64_MIN, INT64_MAX, 0, "S1,S3",
              "recipient, any case, once per hop; not the mailbox hop" },
            { MT_IX_RECIPIENT, "team@example.org", INT64_MIN, INT64_MAX, 0, "S1",
              "root address" },
            { MT_IX_RECIPIENT, "dave@example.org", INT64_MIN, INT64_MAX, 0, "S2",
              "address equal to its root: once" },
            { MT_IX_RECIPIENT, "scan@example.org", 255, 265, 0, "NDR", "recipient in bounds" },
            { MT_IX_MSGID, "<one@example.org>", INT64_MIN, INT64_MAX, 0, "S1,BOX",
              "message-id, mailbox hops included" },
            { MT_IX_MSGID, "<ONE@example.org>", INT64_MIN, INT64_MAX, 0, "",
              "message-id is exact" },
            { MT_IX_REF, "<one@example.org>", INT64_MIN, INT64_MAX, 0, "NDR",
              "notifications about a message-id" },
            { MT_IX_MSGID, "<ndr@mx1>", INT64_MIN, INT64_MAX, 0, "NDR",
              "a notification's own message-id" },
            { MT_IX_REF, "<ndr@mx1>", INT64_MIN, INT64_MAX, 0, "", "not a reference" },
            { MT_IX_TIME, NULL, 250, 270, 0, "SN,NDR,BOX", "time range" },
            { MT_IX_TIME, "ignored", -100, -100, 0, "S1", "time: value ignored, negative time" },
            { MT_IX_SENDER, "old@example.org", INT64_MIN, INT64_MAX, 0, "MOVE",
              "sender before the change" },
        };
        size_t c;
        for (c = 0; c < NELTS(cases); c++)
            is_str(scan_names(t, p, l, NL, cases[c].ix, cases[c].value, cases[c].start,
                              cases[c].end, cases[c].stop), cases[c].want,
                   "scan: %s", cases[c].name);
        like(scan_names(t, p, l, NL, MT_IX_SENDER, NULL, 0, 1, 0), "needs a value",
             "scan: a value is required");
    }
    mt_store_abort(t);

    /* Replacing a hop moves its secondary entries. */
    m[MOVE].sender = "New@Example.org";
    m[MOVE].first = 160;
    m[MOVE].local_id = "MOVED";
    apr_array_clear(m[MOVE].rcpts);
    add_rcpt(&m[MOVE], "new-rcpt@example.org", NULL, 0);
    m[MOVE].message_id = NULL;
    err = restore_hop(st, p, &m[MOVE]);
    ok(!err, "hop replaced%s%s", err ? ": " : "", err ? err : "");
    mt_store_begin(st, p, &t);
    {
        static const struct {
            mt_index_e ix;
            const char *value, *want, *name;
        } cases[] = {
            { MT_IX_SENDER, "old@example.org", "", "old sender gone" },
            { MT_IX_SENDER, "new@example.org", "MOVE", "new sender found" },
            { MT_IX_RECIPIENT, "old-rcpt@example.org", "", "old recipient gone" },
            { MT_IX_RECIPIENT, "new-rcpt@example.org", "MOVE", "new recipient found" },
            { MT_IX_MSGID, "<move@example.org>", "", "message-id gone with NULL" },
        };
        size_t c;
        apr_uint64_t k = 0;
        for (c = 0; c < NELTS(cases); c++)
            is_str(scan_names(t, p, l, NL, cases[c].ix, cases[c].value, INT64_MIN, INT64_MAX,
                              0), cases[c].want, "replace: %s", cases[c].name);
        is_str(scan_names(t, p, l, NL, MT_IX_TIME, NULL, 150, 160, 0), "MOVE",
               "replace: by_time follows the new first time, once");
        is_int(mt_store_hop_find(t, p, MT_HOP_POSTFIX, "mx2", "MOVE", NULL, &k, &err), 0,
               "replace: the old queue id is gone");
        is_int(mt_store_hop_find(t, p, MT_HOP_POSTFIX, "mx2", "MOVED", NULL, &k, &err), 1,
               "replace: the new queue id is found");
    }
    mt_store_abort(t);

    /* msgs: every hop in key order. */
    mt_store_begin(st, p, &t);
    {
        collect_t c;
        collect_init(&c, p, l, NL);
        err = mt_store_msgs(t, p, collect, &c);
        ok(!err && strstr(c.out, "S1,S2,S3,SN,NDR,BOX,MOVE"), "msgs walks the hops in key order");
        collect_init(&c, p, l, NL);
        c.stop_after = 1;
        mt_store_msgs(t, p, collect, &c);
        is_int(c.calls, 1, "msgs stops on a non-zero return");
    }
    mt_store_abort(t);
}

static void test_hop_find(mt_store_t *st, apr_pool_t *p)
{
    enum { OLD, NEW, MID, TIE1, TIE2, OTHERHOST, X1, MB1, MB2, NL };
    label_t l[NL];
    mt_msg_t m[NL];
    const char *err;
    mt_txn_t *t;
    int i, e = 0;

    m[OLD] = mkhop(p, MT_HOP_POSTFIX, "mx1", "QID1", NULL, NULL, 100, 100);
    m[NEW] = mkhop(p, MT_HOP_POSTFIX, "mx1", "QID1", NULL, NULL, 300, 300);
    m[MID] = mkhop(p, MT_HOP_POSTFIX, "mx1", "QID1", NULL, NULL, 200, 200);
    m[TIE1] = mkhop(p, MT_HOP_POSTFIX, "mx1", "TIE", NULL, NULL, 50, 50);
    m[TIE2] = mkhop(p, MT_HOP_POSTFIX, "mx1", "TIE", NULL, NULL, 50, 50);
    m[OTHERHOST] = mkhop(p, MT_HOP_POSTFIX, "mx9", "QID1", NULL, NULL, 10, 10);
    m[X1] = mkhop(p, MT_HOP_MSGTRK, "mx1", "QID1", NULL, NULL, 5, 5);
    m[MB1] = mkhop(p, MT_HOP_MAILBOX, "imap1", "carol", "<a@x>", NULL, 500, 500);
    m[MB2] = mkhop(p, MT_HOP_MAILBOX, "imap1", "carol", "<b@x>", NULL, 600, 600);
    for (i = 0; i < NL; i++) {
        store_hop(st, p, &m[i], 0, &err);
        e += err != NULL;
        l[i].key = m[i].key;
    }
    ok(!e, "hop_find hops stored");
    l[OLD].name = "OLD"; l[NEW].name = "NEW"; l[MID].name = "MID"; l[TIE1].name = "TIE1";
    l[TIE2].name = "TIE2"; l[OTHERHOST].name = "OTHERHOST"; l[X1].name = "X1";
    l[MB1].name = "MB1"; l[MB2].name = "MB2";

    mt_store_begin(st, p, &t);
    {
        static const struct {
            int kind;
            const char *host, *local, *msgid, *want, *name;
        } cases[] = {
            { MT_HOP_POSTFIX, "mx1", "QID1", NULL, "NEW", "the newest of three" },
            { MT_HOP_POSTFIX, "MX1", "QID1", NULL, "NEW", "host in any case" },
            { MT_HOP_POSTFIX, "mx1", "qid1", NULL, "", "queue id exact" },
            { MT_HOP_POSTFIX, "mx1", "QID", NULL, "", "no prefix match" },
            { MT_HOP_POSTFIX, "mx1", "TIE", NULL, "TIE2", "same first: the greater key" },
            { MT_HOP_POSTFIX, "mx9", "QID1", NULL, "OTHERHOST", "host" },
            { MT_HOP_POSTFIX, "mx1", "QID1", "<ignored@x>", "NEW", "message-id ignored" },
            { MT_HOP_MSGTRK, "mx1", "QID1", NULL, "X1", "kind" },
            { MT_HOP_MSGTRK, "mx9", "QID1", NULL, "", "kind and host" },
            { MT_HOP_MAILBOX, "imap1", "carol", "<a@x>", "MB1", "mailbox by message-id" },
            { MT_HOP_MAILBOX, "imap1", "carol", "<b@x>", "MB2", "the other message" },
            { MT_HOP_MAILBOX, "imap1", "carol", "<c@x>", "", "unknown message" },
            { MT_HOP_MAILBOX, "imap1", "carol", NULL, "", "mailbox without message-id" },
            { MT_HOP_MAILBOX, "imap1", "dave", "<a@x>", "", "other user" },
            { MT_HOP_POSTFIX, "zz", "QID1", NULL, "", "after every key" },
            { MT_HOP_POSTFIX, "", "", NULL, "", "empty" },
        };
        size_t c;
        for (c = 0; c < NELTS(cases); c++) {
            apr_uint64_t k = 0;
            const char *got = "";
            int rc = mt_store_hop_find(t, p, cases[c].kind, cases[c].host, cases[c].local,
                                       cases[c].msgid, &k, &err);
            if (rc < 0)
                got = apr_pstrcat(p, "ERR: ", err, NULL);
            for (i = 0; rc == 1 && i < NL; i++)
                if (l[i].key == k)
                    got = l[i].name;
            is_str(got, cases[c].want, "hop_find: %s", cases[c].name);
        }
    }
    mt_store_abort(t);
}

static void test_del(mt_store_t *st, apr_pool_t *p)
{
    mt_msg_t m, n;
    const char *err;
    mt_txn_t *t;
    events_t got;
    apr_uint64_t k;

    m = mkhop(p, MT_HOP_POSTFIX, "mx1", "DEL", "<del@x>", "del@example.org", 900, 901);
    add_rcpt(&m, "del-rcpt@example.org", "del-root@example.org", 0);
    store_hop(st, p, &m, 3, &err);
    n = mkhop(p, MT_HOP_POSTFIX, "mx1", "KEEP", "<keep@x>", "del@example.org", 902, 902);
    store_hop(st, p, &n, 2, &err);
    mt_store_begin(st, p, &t);
    err = mt_store_msg_del(t, m.key);
    ok(!err && !mt_store_commit(t), "hop deleted%s%s", err ? ": " : "", err ? err : "");
    mt_store_begin(st, p, &t);
    is_int(mt_store_msg_get(t, p, m.key, &m, &err), 0, "del: the hop is gone");
    is_str(get_events(t, p, m.key, &got), "", "del: its events are gone");
    is_int(got.n, 0, "del: no events");
    get_events(t, p, n.key, &got);
    is_int(got.n, 2, "del: the next hop keeps its events");
    is_str(scan_names(t, p, NULL, 0, MT_IX_SENDER, "del@example.org", 0, 1000, 0),
           key_name(p, n.key), "del: sender entry gone, the other hop's kept");
    is_str(scan_names(t, p, NULL, 0, MT_IX_RECIPIENT, "del-rcpt@example.org", 0, 1000, 0), "",
           "del: recipient entry gone");
    is_str(scan_names(t, p, NULL, 0, MT_IX_RECIPIENT, "del-root@example.org", 0, 1000, 0), "",
           "del: root entry gone");
    is_str(scan_names(t, p, NULL, 0, MT_IX_MSGID, "<del@x>", 0, 1000, 0), "",
           "del: message-id entry gone");
    is_str(scan_names(t, p, NULL, 0, MT_IX_TIME, NULL, 900, 901, 0), "", "del: time entry gone");
    is_int(mt_store_hop_find(t, p, MT_HOP_POSTFIX, "mx1", "DEL", NULL, &k, &err), 0,
           "del: hop entry gone");
    mt_store_abort(t);
    mt_store_begin(st, p, &t);
    ok(!mt_store_msg_del(t, 123456789) && !mt_store_commit(t), "deleting an unknown hop is fine");
}

static void test_misc(mt_store_t *st, apr_pool_t *p)
{
    static const struct {
        int fact;
        const char *name;
    } facts[] = {
        { MT_FACT_NONE, "none" }, { MT_FACT_RECEIVE, "receive" }, { MT_FACT_DELIVER, "deliver" },
        { MT_FACT_RELAY_EXTERNAL, "relay-external" }, { MT_FACT_NOTREAD, "notread" },
        { MT_FACT_LAST_, "unknown" }, { -1, "unknown" },
    };
    unsigned long long c = 0;
    mt_txn_t *t;
    size_t i;
    const char *err;
    mt_event_t e;

    for (i = 0; i < NELTS(facts); i++)
        is_str(mt_fact_name(facts[i].fact), facts[i].name, "fact %d is %s", facts[i].fact,
               facts[i].name);
    for (i = 0; i < MT_FACT_LAST_; i++)
        if (!strcmp(mt_fact_name((int)i), "unknown"))
            break;
    is_int(i, MT_FACT_LAST_, "every fact has a name");

    mt_store_begin(st, p, &t);
    mt_store_counter_add(t, "lines", 5);
    mt_store_counter_add(t, "lines", -2);
    mt_store_counter_get(t, "lines", &c);
    is_int(c, 3, "counter_add adds and subtracts");
    mt_store_counter_add(t, "lines", -10);
    mt_store_counter_get(t, "lines", &c);
    is_int(c, 0, "counter_add stops at 0");
    mt_store_counter_add(t, "lines", INT64_MAX);
    mt_store_counter_add(t, "lines", INT64_MIN);
    mt_store_counter_get(t, "lines", &c);
    is_int(c, 0, "counter_add with the extreme deltas");
    memset(&e, 0, sizeof(e));
    e.fact = -1;
    err = mt_store_event_put(t, &e);
    like(err, "no valid fact", "an event with a negative fact is refused");
    mt_store_abort(t);
}

/* Stats on a store whose content the caller knows. */
static void test_stats(mt_store_t *st, apr_pool_t *p, const apr_uint64_t hops[4],
                       apr_uint64_t events, apr_uint64_t files, apr_time_t oldest,
                       apr_time_t newest, const char *what)
{
    mt_store_stats_t s;
    mt_txn_t *t;
    const char *err;

    mt_store_begin(st, p, &t);
    memset(&s, 0xff, sizeof(s));
    err = mt_store_stats(t, p, &s);
    ok(!err, "%s: stats%s%s", what, err ? ": " : "", err ? err : "");
    ok(s.hops[0] == hops[0] && s.hops[1] == hops[1] && s.hops[2] == hops[2]
       && s.hops[3] == hops[3], "%s: hops by kind", what);
    is_int(s.events, events, "%s: events", what);
    is_int(s.files, files, "%s: files", what);
    ok(s.bytes > 0, "%s: bytes", what);
    is_int(s.oldest, oldest, "%s: oldest", what);
    is_int(s.newest, newest, "%s: newest", what);
    mt_store_abort(t);
}

static void test_purge(apr_pool_t *p, const char *dir)
{
    static const struct {
        apr_time_t first, last;
        int events;
    } hops[] = {
        { 10, 20, 2 }, { 15, 50, 1 }, { 30, 40, 3 }, { 60, 70, 0 }, { -5, 44, 1 }, { 44, 45, 2 },
    };
    static const struct {
        apr_time_t before;
        unsigned batch;
        apr_uint64_t hops, events;
        apr_time_t oldest;
    } runs[] = {
        { 10, 1, 0, 0, -5 },          /* nothing ended before 10 */
        { 45, 1, 3, 6, 15 },          /* (10,20) (30,40) (-5,44): batches of 1 */
        { 45, 1, 0, 0, 15 },          /* again: nothing left */
        { 71, 100, 3, 3, 0 },         /* everything else in one batch */
    };
    apr_uint64_t nh, ne, zero[4] = { 0, 0, 0, 0 }, cnt;
    mt_store_t *st;
    mt_msg_t m;
    const char *err;
    size_t i;
    int e = 0;

    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(!err, "purge: store%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return;
    for (i = 0; i < NELTS(hops); i++) {
        m = mkhop(p, MT_HOP_POSTFIX, "mx1", apr_psprintf(p, "P%u", (unsigned)i), "<p@x>",
                  "p@example.org", hops[i].first, hops[i].last);
        add_rcpt(&m, "q@example.org", NULL, 0);
        store_hop(st, p, &m, hops[i].events, &err);
        e += err != NULL;
    }
    ok(!e, "purge: hops stored");
    for (i = 0; i < NELTS(runs); i++) {
        mt_txn_t *t;
        collect_t c;
        nh = ne = 99;
        err = mt_store_purge(st, p, runs[i].before, runs[i].batch, &nh, &ne);
        ok(!err, "purge before %d%s%s", (int)runs[i].before, err ? ": " : "", err ? err : "");
        ok(nh == runs[i].hops && ne == runs[i].events,
           "purge before %d, batch %u: %d hops, %d events (got %d, %d)", (int)runs[i].before,
           runs[i].batch, (int)runs[i].hops, (int)runs[i].events, (int)nh, (int)ne);
        mt_store_begin(st, p, &t);
        collect_init(&c, p, NULL, 0);
        mt_store_scan(t, p, MT_IX_TIME, NULL, INT64_MIN, INT64_MAX, collect, &c);
        ok(c.calls == 0 ? runs[i].oldest == 0 : c.first0 == runs[i].oldest,
           "purge before %d: the oldest hop left starts at %d", (int)runs[i].before,
           (int)runs[i].oldest);
        mt_store_abort(t);
    }
    {
        const char *v = verify_all(st, p, &cnt);
        is_str(v, "", "purge: verify finds nothing wrong after purges");
    }
    test_stats(st, p, zero, 0, 0, 0, 0, "purged store");
    mt_store_close(st);

    /* A reader cannot purge. */
    err = mt_store_open(p, dir, MT_STORE_READER, &st);
    if (!err) {
        err = mt_store_purge(st, p, 100, 1, &nh, &ne);
        like(err, "read-only", "a reader cannot purge");
        mt_store_close(st);
    }
}

static void test_verify(apr_pool_t *p, const char *dir)
{
    mt_store_t *st;
    mt_msg_t m, gone, bad;
    mt_txn_t *t;
    const char *err, *v;
    apr_uint64_t cnt = 99, hops[4] = { 0, 2, 0, 1 };
    unsigned char k[40], pk[8], rec[4096];
    unsigned rlen;
    mt_event_t e;
    events_t got;

    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(!err, "verify: store%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return;
    m = mkhop(p, MT_HOP_POSTFIX, "mx1", "GOOD", "<good@x>", "good@example.org", 100, 150);
    add_rcpt(&m, "r1@example.org", "root@example.org", 0);
    add_rcpt(&m, "r2@example.org", NULL, 0);
    store_hop(st, p, &m, 2, &err);
    gone = mkhop(p, MT_HOP_POSTFIX, "mx1", "GONE", "<gone@x>", "gone@example.org", 200, 250);
    gone.ref_message_id = "<good@x>";
    add_rcpt(&gone, "g1@example.org", NULL, 0);
    store_hop(st, p, &gone, 2, &err);
    bad = mkhop(p, MT_HOP_MAILBOX, "imap1", "carol", "<bad@x>", NULL, 300, 350);
    store_hop(st, p, &bad, 1, &err);
    {
        mt_store_file_t f = sample_file(42, 100);
        mt_store_begin(st, p, &t);
        mt_store_file_put(t, &f);
        mt_store_commit(t);
    }
    v = verify_all(st, p, &cnt);
    is_str(v, "", "verify: a good store has no problems");
    {
        files_t fc;
        memset(&fc, 0, sizeof(fc));
        mt_store_begin(st, p, &t);
        err = mt_store_files(t, p, collect_file, &fc);
        ok(!err && fc.n == 1 && fc.last.ino == 42 && fc.last.offset == 100
           && !strcmp(fc.last.path, "/var/log/mail.log"), "files walks the file records");
        mt_store_abort(t);
    }
    is_int(cnt, 0, "verify: count 0");
    test_stats(st, p, hops, 5, 1, 100, 350, "verify store");

    /* An event beyond the hop's nevents. */
    mt_store_begin(st, p, &t);
    m.nevents = 5;
    e = next_event(&m, MT_FACT_DEFER, 1, NULL);    /* seq 5 */
    m.nevents = 2;
    mt_store_event_put(t, &e);
    mt_store_commit(t);
    v = verify_all(st, p, &cnt);
    like(v, apr_psprintf(p, "events: event %" APR_UINT64_T_FMT "/5 is beyond the hop's 2 events",
                         m.key), "verify: an event beyond nevents");
    is_int(cnt, 1, "verify: one problem");
    mt_store_close(st);

    /* A bogus entry in by_sender; a hop deleted behind its secondaries' back;
     * garbage in place of a hop. */
    be64(k, mt_store_value_hash("Bogus@example.org", 17, 1));
    be64(k + 8, 0x8000000000000000ULL + 5);
    be64(k + 16, 999);
    be64(pk, 999);
    ok(raw_op(dir, "by_sender", k, 24, "", 0, NULL, NULL) == 0, "verify: bogus entry planted");
    be64(k, mt_store_value_hash("wrong@example.org", 17, 1));
    be64(k + 8, 0x8000000000000000ULL + 100);
    be64(k + 16, m.key);
    be64(pk, m.key);
    ok(raw_op(dir, "by_sender", k, 24, pk, 8, NULL, NULL) == 0,
       "verify: an entry for a hop that does not derive it, with data");
    be64(k, 0x8000000000000000ULL + 100);
    be64(k + 8, m.key);
    ok(raw_op(dir, "by_time", k, 16, NULL, 0, NULL, NULL) == 0,
       "verify: a hop's by_time entry deleted");
    be64(pk, gone.key);
    ok(raw_op(dir, "messages", pk, 8, NULL, 0, NULL, NULL) == 0,
       "verify: a hop deleted without its secondaries");
    be64(pk, bad.key);
    ok(raw_op(dir, "messages", pk, 8, "\x01\x03garbage", 9, NULL, NULL) == 0,
       "verify: a hop replaced by garbage (its head decodes)");
    be64(pk, 777);
    ok(raw_op(dir, "messages", pk, 8, "\x09", 1, NULL, NULL) == 0,
       "verify: a hop of another layout version");
    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(!err, "verify: store reopened%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return;
    v = verify_all(st, p, &cnt);
    {
        const char *l;
        for (l = v; *l; l = strchr(l, '\n') + 1)
            printf("# %.*s\n", (int)(strchr(l, '\n') - l), l);
    }
    {
        const char *want[] = {
            apr_psprintf(p, "by_sender: entry for hop 999 (%s) has no hop",
                         hx(p, "bogus@example.org", 1)),
            apr_psprintf(p, "by_sender: entry for hop %" APR_UINT64_T_FMT
                         " (%s) does not match the hop", m.key, hx(p, "wrong@example.org", 1)),
            apr_psprintf(p, "by_sender: entry for hop %" APR_UINT64_T_FMT
                         " (%s) has data", m.key, hx(p, "wrong@example.org", 1)),
            apr_psprintf(p, "by_time: hop %" APR_UINT64_T_FMT " has no entry (first 100)",
                         m.key),
            apr_psprintf(p, "by_sender: entry for hop %" APR_UINT64_T_FMT
                         " (%s) has no hop", gone.key, hx(p, "gone@example.org", 1)),
            apr_psprintf(p, "by_recipient: entry for hop %" APR_UINT64_T_FMT
                         " (%s) has no hop", gone.key, hx(p, "g1@example.org", 1)),
            apr_psprintf(p, "by_msgid: entry for hop %" APR_UINT64_T_FMT
                         " (m %s) has no hop", gone.key, hx(p, "<gone@x>", 0)),
            apr_psprintf(p, "by_msgid: entry for hop %" APR_UINT64_T_FMT
                         " (r %s) has no hop", gone.key, hx(p, "<good@x>", 0)),
            apr_psprintf(p, "by_time: entry for hop %" APR_UINT64_T_FMT
                         " (first 200) has no hop", gone.key),
            apr_psprintf(p, "by_hop: entry for hop %" APR_UINT64_T_FMT
                         " (postfix mx1 GONE) has no hop", gone.key),
            apr_psprintf(p, "events: event %" APR_UINT64_T_FMT "/0 belongs to no hop", gone.key),
            apr_psprintf(p, "events: event %" APR_UINT64_T_FMT "/1 belongs to no hop", gone.key),
            apr_psprintf(p, "messages: hop %" APR_UINT64_T_FMT " is damaged", bad.key),
            "messages: hop 777 is damaged",
            apr_psprintf(p, "events: event %" APR_UINT64_T_FMT "/5 is beyond", m.key),
        };
        size_t w;
        for (w = 0; w < NELTS(want); w++)
            like(v, want[w], "verify finds: %s", want[w]);
        is_int(cnt, NELTS(want), "verify: every problem counted once");
    }

    /* The damaged hop: an error, never a crash; and it can be deleted. */
    mt_store_begin(st, p, &t);
    is_int(mt_store_msg_get(t, p, bad.key, &m, &err), -1, "damaged hop: get fails");
    like(err, apr_psprintf(p, "index %s: hop %" APR_UINT64_T_FMT " is damaged (run verify)",
                           dir, bad.key), "damaged hop: the error names index and hop");
    is_int(mt_store_msg_get(t, p, 777, &m, &err), -1, "damaged head: get fails");
    {
        collect_t c;
        mt_store_stats_t s;
        collect_init(&c, p, NULL, 0);
        like(mt_store_msgs(t, p, collect, &c), "hop 777 is damaged",
             "damaged head: msgs reports it");
        like(mt_store_stats(t, p, &s), "hop 777 is damaged", "damaged head: stats reports it");
        ok(!mt_store_msg_del(t, 777), "damaged head: deleted");
        collect_init(&c, p, NULL, 0);
        ok(!mt_store_msgs(t, p, collect, &c) && c.calls == 2, "msgs: the two other hops");
    }
    err = mt_store_msg_del(t, bad.key);
    ok(!err, "damaged hop: deleted%s%s", err ? ": " : "", err ? err : "");
    ok(!mt_store_commit(t), "damaged hop: committed");
    mt_store_abort(t);
    mt_store_begin(st, p, &t);
    is_int(mt_store_msg_get(t, p, bad.key, &m, &err), 0, "damaged hop: gone");
    is_str(get_events(t, p, bad.key, &got), "", "damaged hop: its events gone");
    mt_store_abort(t);
    v = verify_all(st, p, &cnt);
    like(v, apr_psprintf(p, "by_hop: entry for hop %" APR_UINT64_T_FMT
                         " (mailbox imap1 carol <bad@x>) has no hop", bad.key),
         "damaged hop: verify reports the entries left behind");
    mt_store_close(st);

    /* Damaged variants of a good record: every truncation, trailing bytes,
     * each byte flipped. None crashes; truncations and trailing bytes fail. */
    be64(pk, m.key);
    rlen = sizeof(rec);
    ok(raw_op(dir, "messages", pk, 8, NULL, 0, rec, &rlen) == 0 && rlen < 200,
       "a hop with 2 recipients is small (%u bytes)", rlen);
    {
        DB_ENV *env;
        DB *db;
        DBT dk, dd;
        unsigned char buf[4200];
        unsigned n = 0, j;
        int fails = 0, crashes = 0, rc;

        db_env_create(&env, 0);
        env->open(env, dir, DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN, 0);
        db_create(&db, env, 0);
        db->open(db, NULL, "messages", NULL, DB_BTREE, DB_AUTO_COMMIT, 0);
        memset(&dk, 0, sizeof(dk));
        memset(&dd, 0, sizeof(dd));
        dk.data = pk;
        dk.size = 8;
        dd.data = buf;
        /* keys 1000000 + n: truncations (n < rlen), trailing bytes, flips */
        for (j = 0; j < rlen; j++, n++) {
            be64(pk, 1000000 + n);
            memcpy(buf, rec, j);
            dd.size = j;
            db->put(db, NULL, &dk, &dd, DB_AUTO_COMMIT);
        }
        be64(pk, 1000000 + n++);
        memcpy(buf, rec, rlen);
        buf[rlen] = 0;
        dd.size = rlen + 1;
        db->put(db, NULL, &dk, &dd, DB_AUTO_COMMIT);
        for (j = 0; j < rlen; j++) {
            be64(pk, 1000000 + n++);
            memcpy(buf, rec, rlen);
            buf[j] ^= 0xff;
            dd.size = rlen;
            db->put(db, NULL, &dk, &dd, DB_AUTO_COMMIT);
        }
        db->close(db, 0);
        env->close(env, 0);

        err = mt_store_open(p, dir, MT_STORE_READER, &st);
        ok(!err, "damaged variants: reader%s%s", err ? ": " : "", err ? err : "");
        if (st) {
            apr_pool_t *ip;
            apr_pool_create(&ip, p);
            mt_store_begin(st, p, &t);
            for (j = 0; j < rlen + 1; j++) {
                apr_pool_clear(ip);
                rc = mt_store_msg_get(t, ip, 1000000 + j, &m, &err);
                fails += rc == -1 && strstr(err, "is damaged (run verify)") != NULL;
            }
            is_int(fails, rlen + 1, "every truncation and trailing byte is damage");
            for (; j < n; j++) {
                apr_pool_clear(ip);
                rc = mt_store_msg_get(t, ip, 1000000 + j, &m, &err);
                crashes += rc != -1 && rc != 1;
            }
            is_int(crashes, 0, "flipped bytes: found or damaged, nothing else");
            mt_store_abort(t);
            v = verify_all(st, p, &cnt);
            ok(cnt >= rlen + 1, "verify on a reader reports the damaged hops (%d)", (int)cnt);
            apr_pool_destroy(ip);
            mt_store_close(st);
        }
    }
}

static void test_reader(mt_store_t *st, apr_pool_t *p, const char *dir)
{
    mt_store_t *rd;
    mt_txn_t *rt, *old;
    mt_msg_t m, g;
    const char *err;
    events_t got;
    apr_uint64_t k = 0;

    err = mt_store_open(p, dir, MT_STORE_READER, &rd);
    ok(!err && rd, "hops: a reader joins the writer%s%s", err ? ": " : "", err ? err : "");
    if (!rd)
        return;
    /* A snapshot starts at its first read. */
    mt_store_begin(rd, p, &old);
    scan_names(old, p, NULL, 0, MT_IX_TIME, NULL, 0, 0, 0);
    m = mkhop(p, MT_HOP_POSTFIX, "mx7", "LIVE", "<live@x>", "live@example.org", 7000, 7001);
    add_rcpt(&m, "live-rcpt@example.org", NULL, 0);
    store_hop(st, p, &m, 2, &err);
    ok(!err, "writer commits a hop while a reader is open");
    ok(!mt_store_begin(rd, p, &rt), "reader snapshot");
    is_str(scan_names(rt, p, NULL, 0, MT_IX_SENDER, "LIVE@example.org", 0, 10000, 0),
           key_name(p, m.key), "reader: scan by sender sees committed data");
    is_str(scan_names(rt, p, NULL, 0, MT_IX_RECIPIENT, "live-rcpt@example.org", 0, 10000, 0),
           key_name(p, m.key), "reader: scan by recipient");
    is_str(scan_names(rt, p, NULL, 0, MT_IX_MSGID, "<live@x>", 0, 10000, 0),
           key_name(p, m.key), "reader: scan by message-id");
    is_int(mt_store_hop_find(rt, p, MT_HOP_POSTFIX, "mx7", "LIVE", NULL, &k, &err), 1,
           "reader: hop_find");
    is_int(k, m.key, "reader: hop_find's key");
    is_int(mt_store_msg_get(rt, p, m.key, &g, &err), 1, "reader: msg_get");
    is_str(g.sender, "live@example.org", "reader: the hop's sender");
    get_events(rt, p, m.key, &got);
    is_int(got.n, 2, "reader: events");
    is_str(scan_names(old, p, NULL, 0, MT_IX_SENDER, "live@example.org", 0, 10000, 0), "",
           "reader: an older snapshot does not see it");
    like(mt_store_msg_put(rt, &m), "read-only", "reader: cannot write hops");
    like(mt_store_event_put(rt, &got.ev[0]), "read-only", "reader: cannot write events");
    like(mt_store_msg_del(rt, m.key), "read-only", "reader: cannot delete");
    mt_store_abort(rt);
    mt_store_abort(old);
    mt_store_close(rd);
}

/* ------------------------------------------------------------------ chunks */

/* Records of database @a name whose key starts with @a prefix (the store
 * must be closed); -1 on error. */
static int raw_count(const char *dir, const char *name, const void *prefix, unsigned plen)
{
    DB_ENV *env;
    DB *db;
    DBC *c = NULL;
    DBT k, d;
    int rc, n = 0;

    if (db_env_create(&env, 0) || env->open(env, dir, DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL
                                            | DB_INIT_TXN, 0))
        return -1;
    db_create(&db, env, 0);
    rc = db->open(db, NULL, name, NULL, DB_BTREE, DB_AUTO_COMMIT, 0);
    if (!rc)
        rc = db->cursor(db, NULL, &c, 0);
    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    d.flags = DB_DBT_PARTIAL;
    for (rc = rc ? rc : c->get(c, &k, &d, DB_FIRST); !rc; rc = c->get(c, &k, &d, DB_NEXT))
        n += k.size >= plen && memcmp(k.data, prefix, plen) == 0;
    if (c)
        c->close(c);
    db->close(db, 0);
    env->close(env, 0);
    return rc == DB_NOTFOUND ? n : -1;
}

typedef struct {
    apr_pool_t *p;
    char *out;
} seqs_t;

static int collect_seq(void *baton, const mt_event_t *e)
{
    seqs_t *s = baton;
    s->out = apr_psprintf(s->p, "%s%s%u", s->out, *s->out ? "," : "", e->seq);
    return 0;
}

/* The seqs of hop @a msg's events, "0,1,2"; "ERR: ..." on error. */
static const char *seqs_of(mt_txn_t *t, apr_pool_t *p, apr_uint64_t msg)
{
    seqs_t s;
    const char *err;
    s.p = p;
    s.out = "";
    err = mt_store_events(t, p, msg, collect_seq, &s);
    return err ? apr_pstrcat(p, "ERR: ", err, NULL) : s.out;
}

static int cmp_seq(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* @a n seqs, sorted, "0,1,2". */
static const char *seq_list(apr_pool_t *p, const unsigned *seqs, int n)
{
    unsigned *s = apr_palloc(p, (n ? (size_t)n : 1) * sizeof(*s));
    const char *out = "";
    int i;
    if (n)
        memcpy(s, seqs, (size_t)n * sizeof(*s));
    qsort(s, (size_t)n, sizeof(*s), cmp_seq);
    for (i = 0; i < n; i++)
        out = apr_psprintf(p, "%s%s%u", out, i ? "," : "", s[i]);
    return out;
}

/* @a s with every '@' replaced by @a key. */
static const char *with_key(apr_pool_t *p, const char *s, apr_uint64_t key)
{
    const char *k = apr_psprintf(p, "%" APR_UINT64_T_FMT, key), *at;
    const char *out = "";
    while ((at = strchr(s, '@')) != NULL) {
        out = apr_psprintf(p, "%s%.*s%s", out, (int)(at - s), s, k);
        s = at + 1;
    }
    return apr_pstrcat(p, out, s, NULL);
}

/* The lines of @a all that name hop @a key ("KEY/"), each ending in \n. */
static const char *lines_of(apr_pool_t *p, const char *all, apr_uint64_t key)
{
    const char *k = apr_psprintf(p, " %" APR_UINT64_T_FMT "/", key), *nl;
    const char *out = "";
    for (; *all; all = nl + 1) {
        nl = strchr(all, '\n');
        if (strstr(apr_pstrndup(p, all, (apr_size_t)(nl - all)), k))
            out = apr_psprintf(p, "%s%.*s", out, (int)(nl - all + 1), all);
    }
    return out;
}

/* An event in a chunk: its length, then fact 8, time 0 and eight NULL strings. */
#define EV_RAW "\x0a\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"

static void test_chunks(apr_pool_t *p, const char *dir)
{
    /* Each transaction: seqs put in that order; "?" reads the hop's events
     * back inside the transaction; a final "!" aborts it. */
    static const struct {
        const char *name;
        const char *txns[4];
        const char *want;
        int records;
    } cases[] = {
        { "one transaction", { "0 1 2" }, "0,1,2", 1 },
        { "three transactions", { "0 1", "2", "3 4 5" }, "0,1,2,3,4,5", 3 },
        { "a seq left out starts another chunk", { "0 1 3 4" }, "0,1,3,4", 2 },
        { "descending seqs", { "2 1 0" }, "0,1,2", 3 },
        { "a gap filled by a later transaction", { "0 2", "1" }, "0,1,2", 3 },
        { "an abort discards its events", { "0 1", "2 3 !", "2" }, "0,1,2", 2 },
        { "read back inside each transaction", { "0 1 ?", "2 3 ?" }, "0,1,2,3", 2 },
        { "events put after a read: another chunk", { "0 1 ? 2 3 ?" }, "0,1,2,3", 2 },
        { "written for a read, then aborted", { "0", "1 ? !" }, "0", 1 },
        { "a hop with no events", { "" }, "", 0 },
        { "the highest seqs", { "4294967293", "4294967294" }, "4294967293,4294967294", 2 },
    };
    enum { NC = sizeof(cases) / sizeof(cases[0]) };
    mt_msg_t m[NC], h;
    apr_uint64_t hops[4] = { 0, NC, 0, 0 }, total = 0, cnt, nh, ne;
    const char *err, *v;
    mt_store_t *st;
    mt_txn_t *t;
    size_t c;
    int i, e = 0;

    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(!err, "chunks: store%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return;
    for (c = 0; c < NC; c++) {
        unsigned done[16] = { 0 }, now[16], max = 0;
        int nd = 0, tx;

        /* The hop first, with as many events as its highest seq says. */
        for (tx = 0; tx < 4 && cases[c].txns[tx]; tx++) {
            const char *s = cases[c].txns[tx];
            char *end;
            for (; *s; s = end) {
                unsigned long n = strtoul(s, &end, 10);
                if (end == s) {
                    end++;
                    continue;
                }
                if (n + 1 > max)
                    max = (unsigned)(n + 1);
            }
        }
        m[c] = mkhop(p, MT_HOP_POSTFIX, "mx1", apr_psprintf(p, "C%u", (unsigned)c), NULL, NULL,
                     10, 20);
        m[c].nevents = max;
        store_hop(st, p, &m[c], 0, &err);
        e += err != NULL;
        for (tx = 0; tx < 4 && cases[c].txns[tx]; tx++) {
            const char *s = cases[c].txns[tx];
            int nn = nd, abort_it = 0, reads = 0;
            char *end;

            memcpy(now, done, sizeof(done));
            mt_store_begin(st, p, &t);
            for (; *s; s = end) {
                unsigned long n = strtoul(s, &end, 10);
                if (end != s) {
                    mt_event_t ev = next_event(&m[c], MT_FACT_DELIVER, 100 + (apr_time_t)n,
                                               apr_psprintf(p, "r%lu@example.org", n));
                    if (nn == 16) {
                        e++;        /* a case with more seqs than this test keeps */
                        continue;
                    }
                    ev.seq = (unsigned)n;
                    now[nn++] = (unsigned)n;
                    if ((err = mt_store_event_put(t, &ev)) != NULL) {
                        printf("# %s\n", err);
                        e++;
                    }
                    continue;
                }
                if (*end == '?')
                    is_str(seqs_of(t, p, m[c].key), seq_list(p, now, nn),
                           "chunks: %s: transaction %d reads its own events (%d)",
                           cases[c].name, tx + 1, ++reads);
                abort_it |= *end == '!';
                end++;
            }
            if (abort_it) {
                mt_store_abort(t);
            }
            else {
                e += mt_store_commit(t) != NULL;
                memcpy(done, now, sizeof(now));
                nd = nn;
            }
        }
        mt_store_begin(st, p, &t);
        is_str(seqs_of(t, p, m[c].key), cases[c].want, "chunks: %s: the events in seq order",
               cases[c].name);
        mt_store_abort(t);
        total += (apr_uint64_t)nd;
    }
    ok(!e, "chunks: every transaction went through");

    /* The fields of events from several chunks. */
    mt_store_begin(st, p, &t);
    {
        events_t got;
        get_events(t, p, m[1].key, &got);
        ok(got.n == 6 && got.ev[4].time == 104 && got.ev[4].fact == MT_FACT_DELIVER
           && str_eq(got.ev[4].recipient, "r4@example.org") && got.ev[4].msg == m[1].key
           && got.ev[4].seq == 4 && got.ev[4].relay == NULL,
           "chunks: an event of a later chunk comes back whole");
    }
    mt_store_abort(t);
    test_stats(st, p, hops, total, 0, 10, 20, "chunks");
    v = verify_all(st, p, &cnt);
    is_str(v, "", "chunks: verify finds nothing wrong");

    /* Stats and delete inside the transaction that put the events. */
    h = mkhop(p, MT_HOP_POSTFIX, "mx1", "INTXN", NULL, NULL, 10, 20);
    mt_store_begin(st, p, &t);
    mt_store_msg_new(t, &h);
    for (i = 0; i < 3; i++) {
        mt_event_t ev = next_event(&h, MT_FACT_DEFER, 10 + i, NULL);
        mt_store_event_put(t, &ev);
    }
    mt_store_msg_put(t, &h);
    {
        mt_store_stats_t s;
        err = mt_store_stats(t, p, &s);
        ok(!err && s.events == total + 3, "chunks: stats inside the transaction counts its "
           "events (%d)", (int)s.events);
    }
    err = mt_store_msg_del(t, h.key);
    ok(!err && !mt_store_commit(t), "chunks: a hop deleted in the transaction that put its events");
    mt_store_begin(st, p, &t);
    is_str(seqs_of(t, p, h.key), "", "chunks: its events are gone");
    mt_store_abort(t);
    is_str(verify_all(st, p, &cnt), "", "chunks: and none is left behind");

    /* A seq put twice in one transaction. */
    mt_store_begin(st, p, &t);
    {
        mt_event_t ev = next_event(&m[0], MT_FACT_DEFER, 1, NULL);
        ev.seq = 7;
        err = mt_store_event_put(t, &ev);
        ev.seq = 8;
        if (!err)
            err = mt_store_event_put(t, &ev);
        ok(!err, "chunks: seqs 7 and 8 put");
        ev.seq = 7;
        like(mt_store_event_put(t, &ev), apr_psprintf(p, "event %" APR_UINT64_T_FMT "/7 is "
             "written twice in one transaction", m[0].key), "chunks: seq 7 again is refused");
        ev.seq = 6;
        ok(!mt_store_event_put(t, &ev), "chunks: seq 6 is another chunk");
        ev.seq = 8;
        like(mt_store_event_put(t, &ev), "/8 is written twice",
             "chunks: seq 8 again, behind another chunk, is refused");
    }
    mt_store_abort(t);
    mt_store_close(st);

    /* One record per hop per transaction and per run of seqs. */
    for (c = 0; c < NC; c++) {
        unsigned char pk[8];
        be64(pk, m[c].key);
        is_int(raw_count(dir, "events", pk, 8), cases[c].records, "chunks: %s: records: %d",
               cases[c].name, cases[c].records);
    }

    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    if (!st)
        return;
    err = mt_store_purge(st, p, INT64_MAX, 4, &nh, &ne);
    ok(!err && nh == NC && ne == total, "chunks: purge counts %d hops, %d events (got %d, %d)",
       (int)NC, (int)total, (int)nh, (int)ne);
    hops[1] = 0;
    test_stats(st, p, hops, 0, 0, 0, 0, "chunks purged");
    mt_store_close(st);
}

/* Chunks planted behind the store's back: verify names what is wrong with
 * each, mt_store_events refuses them, nothing crashes. */
static void test_chunk_damage(apr_pool_t *p, const char *dir)
{
    /* Records of hop @ (nevents 5), at seqs first and, for two, first2. */
    static const struct {
        const char *name;
        unsigned first;
        const char *rec;
        unsigned len;
        unsigned first2;
        const char *rec2;
        unsigned len2;
        const char *problems, *refused;
    } cases[] = {
        { "a count above the events held", 0, "\x01\x03" EV_RAW EV_RAW, 24, 0, NULL, 0,
          "events: the chunk of events from @/0 says 3 events, its bytes hold 2\n",
          "event @/2 is damaged (run verify)" },
        { "a truncated event", 0, "\x01\x02" EV_RAW "\x0a\x08\x00", 16, 0, NULL, 0,
          "events: event @/1 is damaged\n", "event @/1 is damaged (run verify)" },
        { "an event that does not decode", 2, "\x01\x02" EV_RAW "\x03\x08\x00\x05", 17, 0,
          NULL, 0, "events: event @/3 is damaged\n", "event @/3 is damaged (run verify)" },
        { "bytes after the events", 0, "\x01\x01" EV_RAW "\x00", 14, 0, NULL, 0,
          "events: the chunk of events from @/0 has 1 bytes after its 1 events\n",
          "event @/0 is damaged (run verify)" },
        { "a huge count", 0, "\x01\xff\xff\xff\xff\x0f" EV_RAW, 17, 0, NULL, 0,
          "events: the chunk of events from @/0 says 4294967295 events, its bytes hold 1\n",
          "event @/1 is damaged (run verify)" },
        { "a count of 0", 1, "\x01\x00", 2, 0, NULL, 0,
          "events: the chunk of events from @/1 is damaged\n",
          "event @/1 is damaged (run verify)" },
        { "another chunk version", 0, "\x02\x01" EV_RAW, 13, 0, NULL, 0,
          "events: the chunk of events from @/0 is damaged\n",
          "event @/0 is damaged (run verify)" },
        { "an empty record", 0, "", 0, 0, NULL, 0,
          "events: the chunk of events from @/0 is damaged\n",
          "event @/0 is damaged (run verify)" },
        { "seqs past 2^32", 4294967295u, "\x01\x02" EV_RAW EV_RAW, 24, 0, NULL, 0,
          "events: the chunk of events from @/4294967295 is damaged\n"
          "events: event @/4294967295 is beyond the hop's 5 events\n",
          "event @/4294967295 is damaged (run verify)" },
        { "overlapping chunks", 0, "\x01\x02" EV_RAW EV_RAW, 24, 1, "\x01\x01" EV_RAW, 13,
          "events: the chunk of events from @/1 overlaps the one before, which ends at 1\n",
          "event @/1 is damaged (run verify)" },
        { "a good chunk after a damaged one", 0, "\x01\x03" EV_RAW, 13, 3, "\x01\x02" EV_RAW
          EV_RAW, 24, "events: the chunk of events from @/0 says 3 events, its bytes hold 1\n",
          "event @/1 is damaged (run verify)" },
    };
    enum { NC = sizeof(cases) / sizeof(cases[0]) };
    apr_uint64_t keys[NC], cnt;
    unsigned char k[12], rec[4096];
    unsigned rlen, j, n = 0;
    const char *err, *v;
    mt_store_t *st;
    mt_txn_t *t;
    mt_msg_t m;
    size_t c;
    int e = 0, fails = 0, crashes = 0;

    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(!err, "chunk damage: store%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return;
    for (c = 0; c < NC; c++) {
        m = mkhop(p, MT_HOP_POSTFIX, "mx1", apr_psprintf(p, "D%u", (unsigned)c), NULL, NULL, 1, 2);
        m.nevents = 5;
        keys[c] = store_hop(st, p, &m, 0, &err);
        e += err != NULL;
    }
    /* A good chunk of three events to damage: every truncation, a byte
     * more, each byte flipped; under hop keys 3000000 + n. */
    m = mkhop(p, MT_HOP_POSTFIX, "mx1", "FUZZ", NULL, NULL, 1, 2);
    store_hop(st, p, &m, 3, &err);
    e += err != NULL;
    ok(!e, "chunk damage: hops stored");
    mt_store_close(st);

    for (c = 0; c < NC; c++) {
        be64(k, keys[c]);
        k[8] = (unsigned char)(cases[c].first >> 24);
        k[9] = (unsigned char)(cases[c].first >> 16);
        k[10] = (unsigned char)(cases[c].first >> 8);
        k[11] = (unsigned char)cases[c].first;
        e += raw_op(dir, "events", k, 12, cases[c].rec, cases[c].len, NULL, NULL) != 0;
        if (cases[c].rec2) {
            k[8] = k[9] = k[10] = 0;
            k[11] = (unsigned char)cases[c].first2;
            e += raw_op(dir, "events", k, 12, cases[c].rec2, cases[c].len2, NULL, NULL) != 0;
        }
    }
    be64(k, m.key);
    memset(k + 8, 0, 4);
    rlen = sizeof(rec);
    e += raw_op(dir, "events", k, 12, NULL, 0, rec, &rlen) != 0;
    ok(!e && rlen > 40 && rlen < 200, "chunk damage: planted; a chunk of 3 events is %u bytes",
       rlen);
    {
        unsigned char buf[256];
        for (j = 0; j <= rlen; j++, n++) {         /* truncations, then one byte more */
            be64(k, 3000000 + n);
            memcpy(buf, rec, rlen);
            buf[rlen] = 0;
            e += raw_op(dir, "events", k, 12, buf, j < rlen ? j : rlen + 1, NULL, NULL) != 0;
        }
        for (j = 0; j < rlen; j++, n++) {
            be64(k, 3000000 + n);
            memcpy(buf, rec, rlen);
            buf[j] ^= 0xff;
            e += raw_op(dir, "events", k, 12, buf, rlen, NULL, NULL) != 0;
        }
    }
    ok(!e, "chunk damage: %u damaged variants planted", n);

    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    if (!st)
        return;
    v = verify_all(st, p, &cnt);
    mt_store_begin(st, p, &t);
    for (c = 0; c < NC; c++) {
        is_str(lines_of(p, v, keys[c]), with_key(p, cases[c].problems, keys[c]),
               "chunk damage: %s: verify says so", cases[c].name);
        like(seqs_of(t, p, keys[c]), with_key(p, cases[c].refused, keys[c]),
             "chunk damage: %s: the events are refused", cases[c].name);
    }
    {
        apr_pool_t *ip;
        mt_store_stats_t s;
        apr_pool_create(&ip, p);
        for (j = 0; j < n; j++) {
            const char *got;
            apr_pool_clear(ip);
            got = seqs_of(t, ip, 3000000 + j);
            if (j < rlen + 1)
                fails += strstr(got, "is damaged (run verify)") != NULL;
            else
                crashes += strcmp(got, "0,1,2") != 0 && !strstr(got, "is damaged (run verify)");
        }
        is_int(fails, rlen + 1, "chunk damage: every truncation and a byte more are refused");
        is_int(crashes, 0, "chunk damage: flipped bytes: the events or refused, nothing else");
        like(mt_store_stats(t, p, &s), "is damaged (run verify)",
             "chunk damage: stats refuses a chunk whose head does not decode");
        apr_pool_destroy(ip);
    }
    mt_store_abort(t);
    ok(cnt >= NC + rlen + 1, "chunk damage: verify reports the variants (%d problems)", (int)cnt);
    mt_store_close(st);
}

/* A directory for an index whose durability is not under test: commits do
 * not wait for the disk (Berkeley DB reads DB_CONFIG when it opens). */
static const char *fast_tmpdir(apr_pool_t *p)
{
    const char *dir = tmpdir_make(p, "mt-store");
    FILE *f = fopen(apr_pstrcat(p, dir, "/DB_CONFIG", NULL), "w");
    if (f) {
        fputs("set_flags DB_TXN_NOSYNC\n", f);
        fclose(f);
    }
    return dir;
}

/* Runs @a test in a directory and a pool of its own, removed afterwards. */
/* Index changes are made when the transaction reads an index or commits
 * (sx_apply): within one transaction every read sees the changes before
 * it, in the order they were made, and the commit keeps the last. */
static void test_same_txn(apr_pool_t *p, const char *dir)
{
    enum { A, B, NH };
    static const struct {
        int hop;                      /* which hop the step writes */
        int del;                      /* delete it instead */
        const char *sender, *rcpt, *rcpt2;
        apr_time_t first;
        const char *s1, *s2, *r2, *time;   /* scans after the step; s1 NULL: none */
        const char *name;
    } steps[] = {
        { A, 0, "s1@example.org", "r1@example.org", NULL, 100, NULL, NULL, NULL, NULL,
          "a new hop, not read" },
        { A, 0, "s2@example.org", "r1@example.org", "r2@example.org", 100, "", "A", "A", "A",
          "written again before a read: the last write counts" },
        { B, 0, "s1@example.org", "r2@example.org", NULL, 50, "B", "A", "B,A", "B,A",
          "a second hop, found at once" },
        { A, 0, "s1@example.org", "r1@example.org", NULL, 100, "B,A", "", "B", "B,A",
          "the first hop back to its first sender" },
        { B, 1, NULL, NULL, NULL, 0, "A", "", "", "A", "the second hop deleted" },
        { A, 0, "s2@example.org", "r1@example.org", "r2@example.org", 100, "", "A", "A", "A",
          "the first hop to the second sender again" },
    };
    label_t l[NH];
    mt_msg_t m[NH];
    mt_store_t *st;
    mt_txn_t *t;
    const char *err;
    apr_uint64_t k, cnt = 0;
    size_t i;

    if ((err = mt_store_open(p, dir, MT_STORE_WRITER, &st)) != NULL) {
        ok(0, "same transaction: writer: %s", err);
        return;
    }
    l[A].name = "A";
    l[B].name = "B";
    memset(m, 0, sizeof(m));
    mt_store_begin(st, p, &t);
    for (i = 0; i < NELTS(steps); i++) {
        int h = steps[i].hop;
        err = NULL;
        if (steps[i].del) {
            err = mt_store_msg_del(t, m[h].key);
        }
        else {
            apr_uint64_t key = m[h].key;
            m[h] = mkhop(p, MT_HOP_POSTFIX, "mx9", h == A ? "TXNA" : "TXNB", NULL,
                         steps[i].sender, steps[i].first, steps[i].first);
            add_rcpt(&m[h], steps[i].rcpt, NULL, 0);
            if (steps[i].rcpt2)
                add_rcpt(&m[h], steps[i].rcpt2, NULL, 0);
            m[h].key = key;
            if (!key)
                err = mt_store_msg_new(t, &m[h]);
            l[h].key = m[h].key;
            if (!err)
                err = mt_store_msg_put(t, &m[h]);
        }
        ok(!err, "same transaction: %s: written%s%s", steps[i].name, err ? ": " : "",
           err ? err : "");
        if (!steps[i].s1)
            continue;
        is_str(scan_names(t, p, l, NH, MT_IX_SENDER, "s1@example.org", 0, 1000, 0), steps[i].s1,
               "same transaction: %s: sender s1", steps[i].name);
        is_str(scan_names(t, p, l, NH, MT_IX_SENDER, "s2@example.org", 0, 1000, 0), steps[i].s2,
               "same transaction: %s: sender s2", steps[i].name);
        is_str(scan_names(t, p, l, NH, MT_IX_RECIPIENT, "r2@example.org", 0, 1000, 0),
               steps[i].r2, "same transaction: %s: recipient r2", steps[i].name);
        is_str(scan_names(t, p, l, NH, MT_IX_TIME, NULL, 0, 1000, 0), steps[i].time,
               "same transaction: %s: time", steps[i].name);
    }
    is_int(mt_store_hop_find(t, p, MT_HOP_POSTFIX, "mx9", "TXNA", NULL, &k, &err), 1,
           "same transaction: hop A found by its queue id");
    is_int(mt_store_hop_find(t, p, MT_HOP_POSTFIX, "mx9", "TXNB", NULL, &k, &err), 0,
           "same transaction: deleted hop B not found");
    err = mt_store_commit(t);
    ok(!err, "same transaction: committed%s%s", err ? ": " : "", err ? err : "");

    mt_store_begin(st, p, &t);
    is_str(scan_names(t, p, l, NH, MT_IX_SENDER, "s1@example.org", 0, 1000, 0), "",
           "same transaction, after the commit: sender s1");
    is_str(scan_names(t, p, l, NH, MT_IX_SENDER, "s2@example.org", 0, 1000, 0), "A",
           "same transaction, after the commit: sender s2");
    is_str(scan_names(t, p, l, NH, MT_IX_RECIPIENT, "r1@example.org", 0, 1000, 0), "A",
           "same transaction, after the commit: recipient r1");
    is_str(scan_names(t, p, l, NH, MT_IX_TIME, NULL, 0, 1000, 0), "A",
           "same transaction, after the commit: time");
    mt_store_abort(t);
    is_str(verify_all(st, p, &cnt), "", "same transaction: verify finds nothing wrong");

    /* An aborted transaction leaves nothing of its queued changes. */
    mt_store_begin(st, p, &t);
    m[A].sender = "s3@example.org";
    err = mt_store_msg_put(t, &m[A]);
    mt_store_abort(t);
    mt_store_begin(st, p, &t);
    is_str(scan_names(t, p, l, NH, MT_IX_SENDER, "s3@example.org", 0, 1000, 0), "",
           "same transaction: an aborted change is not made");
    is_str(scan_names(t, p, l, NH, MT_IX_SENDER, "s2@example.org", 0, 1000, 0), "A",
           "same transaction: nor is the entry it would have replaced removed");
    mt_store_abort(t);
    mt_store_close(st);
}

static void in_scratch(apr_pool_t *p, void (*test)(apr_pool_t *, const char *))
{
    const char *dir = fast_tmpdir(p);
    apr_pool_t *sp;

    apr_pool_create(&sp, p);
    test(sp, dir);
    apr_pool_destroy(sp);
    tmpdir_remove(p, dir);
}

/* Scans over several pages of an index, with callbacks that move the
 * scan's cursor (a lookup or a scan of the same index), that read another
 * index, or that read nothing: every entry once, in order. */
typedef struct {
    mt_txn_t *t;
    apr_pool_t *p;
    int how;                    /* 0 nothing, 1 keys of the same index, 2 of another,
                                 * 3 a scan of the same index */
    char *out;
    int n;
} long_scan_t;

static int count_cb(void *baton, apr_uint64_t key, apr_time_t first)
{
    (void)key; (void)first;
    ++*(int *)baton;
    return 0;
}

static int long_scan_cb(void *baton, apr_uint64_t key, apr_time_t first)
{
    long_scan_t *ls = baton;
    apr_array_header_t *keys = apr_array_make(ls->p, 2, sizeof(apr_uint64_t));
    int n = 0;
    (void)first;
    if (ls->how == 1)
        mt_store_keys(ls->t, ls->p, MT_IX_MSGID, "<other@x>", keys);
    else if (ls->how == 2)
        mt_store_keys(ls->t, ls->p, MT_IX_SENDER, "other@x", keys);
    else if (ls->how == 3)
        mt_store_scan(ls->t, ls->p, MT_IX_MSGID, "<other@x>", 0, 1000000, count_cb, &n);
    ls->out = apr_psprintf(ls->p, "%s %" APR_UINT64_T_FMT, ls->out, key);
    ls->n++;
    return 0;
}

static void test_long_scans(apr_pool_t *p, const char *dir)
{
    enum { N = 300 };
    const char *want = "", *err;
    mt_store_t *st;
    mt_txn_t *t;
    mt_msg_t m;
    int i, how, e = 0;

    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(!err, "long scans: store%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return;

    m = mkhop(p, MT_HOP_POSTFIX, "mx1", "OTHER", "<other@x>", "other@x", 5, 5);
    store_hop(st, p, &m, 0, &err);
    e += err != NULL;
    for (i = 0; i < N; i++) {
        m = mkhop(p, MT_HOP_POSTFIX, "mx1", apr_psprintf(p, "L%d", i), "<long@x>", "long@x",
                  1000 + i, 1000 + i);
        store_hop(st, p, &m, 0, &err);
        e += err != NULL;
        want = apr_psprintf(p, "%s %" APR_UINT64_T_FMT, want, m.key);
    }
    ok(!e, "long scans: %d hops of one Message-ID and sender stored", N);
    mt_store_begin(st, p, &t);
    for (how = 0; how < 4; how++) {
        long_scan_t ls = { t, p, how, "", 0 };
        err = mt_store_scan(t, p, MT_IX_MSGID, "<long@x>", 0, 1000000, long_scan_cb, &ls);
        ok(!err && ls.n == N && strcmp(ls.out, want) == 0,
           "long scan of by_msgid, callbacks %s: %d entries, each once, in order",
           how == 0 ? "reading nothing" : how == 1 ? "looking up by_msgid"
           : how == 2 ? "looking up by_sender" : "scanning by_msgid", ls.n);
        ls.out = "";
        ls.n = 0;
        err = mt_store_scan(t, p, MT_IX_SENDER, "long@x", 0, 1000000, long_scan_cb, &ls);
        ok(!err && ls.n == N && strcmp(ls.out, want) == 0,
           "long scan of by_sender, callbacks %s: %d entries, each once, in order",
           how == 0 ? "reading nothing" : how == 1 ? "looking up by_msgid"
           : how == 2 ? "looking up by_sender" : "scanning by_msgid", ls.n);
    }
    mt_store_abort(t);
    mt_store_close(st);
}

/* The store compares keys with a routine of its own: the order must be
 * Berkeley DB's default one, which db5.3_verify, db5.3_dump and older
 * builds use. Hop keys past one and two bytes, and values that begin
 * other values: libdb's own verify (its comparator) finds every database
 * in order, and every hop key a cursor walks is found again by a search. */
static void test_key_order(apr_pool_t *p, const char *dir)
{
    static const char *const dbs[] = { "messages", "events", "by_time", "by_hop",
                                       "by_msgid", "by_sender", "by_recipient", "files",
                                       "meta" };
    static const char *const senders[] = { "a@x", "a@xy", "a@x.org", "A@X", "b", "" };
    enum { N = 700 };
    const char *err;
    mt_store_t *st;
    mt_txn_t *t;
    DB_ENV *env;
    DB *db;
    DBC *c = NULL;
    DBT k, d;
    apr_uint64_t prev = 0;
    int i, rc, e = 0, n = 0, unordered = 0, lost = 0;

    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(!err, "key order: store%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return;
    for (i = 0; i < N; i++) {
        mt_msg_t m;
        mt_event_t ev;
        if (i % 100 == 0 && (err = mt_store_begin(st, p, &t)) != NULL)
            break;
        m = mkhop(p, i % 7 ? MT_HOP_POSTFIX : MT_HOP_MSGTRK, i % 2 ? "mx1" : "mx1.example.org",
                  apr_psprintf(p, "Q%d", i), apr_psprintf(p, "<%d@x>", i % 300),
                  senders[i % 6], 1000 + (i * 37) % 5000, 1000 + (i * 37) % 5000);
        add_rcpt(&m, senders[(i + 1) % 6], NULL, 0);
        e += mt_store_msg_new(t, &m) != NULL;
        ev = next_event(&m, MT_FACT_DELIVER, m.first, senders[(i + 1) % 6]);
        e += mt_store_event_put(t, &ev) != NULL;
        e += mt_store_msg_put(t, &m) != NULL;
        if (i % 100 == 99)
            e += mt_store_commit(t) != NULL;
    }
    ok(!err && !e, "key order: %d hops stored", N);
    mt_store_close(st);

    if (db_env_create(&env, 0) || env->open(env, dir, DB_INIT_LOCK | DB_INIT_LOG
                                            | DB_INIT_MPOOL | DB_INIT_TXN, 0)) {
        ok(0, "key order: the environment opens");
        return;
    }
    for (i = 0; i < (int)(sizeof(dbs) / sizeof(dbs[0])); i++) {
        db_create(&db, env, 0);
        rc = db->verify(db, dbs[i], NULL, NULL, 0);    /* closes db */
        ok(rc == 0, "key order: Berkeley DB's verify finds %s in order (%s)", dbs[i],
           db_strerror(rc));
    }
    db_create(&db, env, 0);
    rc = db->open(db, NULL, "messages", NULL, DB_BTREE, DB_AUTO_COMMIT, 0);
    if (!rc)
        rc = db->cursor(db, NULL, &c, 0);
    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    for (rc = rc ? rc : c->get(c, &k, &d, DB_FIRST); !rc; rc = c->get(c, &k, &d, DB_NEXT)) {
        unsigned char kb[8];
        DBT d2;
        apr_uint64_t key = 0;
        int j;
        for (j = 0; j < 8 && k.size == 8; j++)
            key = key << 8 | ((unsigned char *)k.data)[j];
        unordered += key <= prev;
        prev = key;
        memcpy(kb, k.data, 8);
        memset(&d2, 0, sizeof(d2));
        k.data = kb;
        lost += db->get(db, NULL, &k, &d2, 0) != 0;
        n++;
    }
    if (c)
        c->close(c);
    ok(rc == DB_NOTFOUND && n == N && !unordered && !lost,
       "key order: a cursor walks the %d hops in key order, and a search finds each "
       "(%d out of order, %d not found)", n, unordered, lost);
    db->close(db, 0);
    env->close(env, 0);
}

/* ------------------------------------------------------------------ peers */

/* One step of a story of hops and their peers (MT_MSG_PEERS): in
 * transaction @a txn (steps with the same number share one), put hop
 * @a name (new the first time it is named, a rewrite after) of @a kind
 * with Message-ID @a msgid (NULL: none) and first time @a first; 'd'
 * deletes it; 'f' rewrites it claiming MT_MSG_PEERS and peers itself. */
typedef struct {
    int txn;
    char op;                    /* 'p', 'd', 'f' */
    char name;                  /* 'A' .. 'F' */
    int kind;
    const char *msgid;
    int first;
} peer_step_t;

typedef struct {
    const char *what;
    peer_step_t steps[8];
    const char *want;           /* at the end, in name order, each hop with MT_MSG_PEERS
                                 * and its peers: "A(B) B(A)" */
} peer_case_t;

#define PF MT_HOP_POSTFIX
#define MB MT_HOP_MAILBOX
#define XT MT_HOP_MSGTRK

static const peer_case_t peer_cases[] = {
    { "one hop", { { 1, 'p', 'A', PF, "<m1>", 10 } }, "A()" },
    { "an Exchange hop", { { 1, 'p', 'A', XT, "<m1>", 10 } }, "A()" },
    { "no Message-ID", { { 1, 'p', 'A', PF, NULL, 10 } }, "" },
    { "a mailbox hop lists none", { { 1, 'p', 'A', MB, "<m1>", 10 } }, "" },
    { "other Message-IDs", { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', PF, "<m2>", 11 },
                             { 2, 'p', 'C', PF, "<m3>", 5 } }, "A() B() C()" },
    { "its mailbox hops do not count",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', MB, "<m1>", 11 },
        { 2, 'p', 'C', MB, "<m1>", 12 }, { 3, 'p', 'D', MB, "<m1>", 5 } }, "A()" },
    { "relay in the same transaction",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', PF, "<m1>", 11 } }, "A(B) B(A)" },
    { "relay in the same transaction, written in reverse",
      { { 1, 'p', 'B', PF, "<m1>", 11 }, { 1, 'p', 'A', PF, "<m1>", 10 } }, "A(B) B(A)" },
    { "relay in a later transaction",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 2, 'p', 'B', PF, "<m1>", 11 } }, "A(B) B(A)" },
    { "relay at the same second, later transaction",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 2, 'p', 'B', PF, "<m1>", 10 } }, "A(B) B(A)" },
    { "the later hop indexed first (its log read first)",
      { { 1, 'p', 'B', PF, "<m1>", 50 }, { 2, 'p', 'A', PF, "<m1>", 10 } }, "A(B) B(A)" },
    { "the later hop indexed first, newer hops between",
      { { 1, 'p', 'B', PF, "<m1>", 50 }, { 1, 'p', 'C', PF, "<m2>", 90 },
        { 2, 'p', 'A', PF, "<m1>", 10 } }, "A(B) B(A) C()" },
    { "newest hop of all, an older one with its Message-ID",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'C', PF, "<m2>", 20 },
        { 2, 'p', 'B', PF, "<m1>", 30 } }, "A(B) B(A) C()" },
    { "three hops and a mailbox, one transaction each",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 2, 'p', 'M', MB, "<m1>", 12 },
        { 3, 'p', 'B', XT, "<m1>", 11 } }, "A(B) B(A)" },
    { "Message-ID logged later, another hop has it",
      { { 1, 'p', 'A', PF, NULL, 10 }, { 2, 'p', 'B', PF, "<m1>", 30 },
        { 3, 'p', 'A', PF, "<m1>", 10 } }, "A(B) B(A)" },
    { "Message-ID logged later, alone",
      { { 1, 'p', 'A', PF, NULL, 10 }, { 2, 'p', 'A', PF, "<m1>", 10 } }, "A()" },
    { "Message-ID set and rewritten in one transaction",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'A', PF, "<m1>", 10 },
        { 1, 'p', 'B', PF, "<m2>", 10 } }, "A() B()" },
    { "a hop moves to a Message-ID of its own",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', PF, "<m1>", 11 },
        { 2, 'p', 'B', PF, "<m2>", 11 } }, "A(B) B()" },
    { "a hop moves to a Message-ID another has",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', PF, "<m2>", 11 },
        { 2, 'p', 'B', PF, "<m1>", 11 } }, "A(B) B(A)" },
    { "its first time moves (a new entry): still alone",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 2, 'p', 'A', PF, "<m1>", 8 } }, "A()" },
    { "its first time moves: past another hop",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', PF, "<m1>", 20 },
        { 2, 'p', 'A', PF, "<m1>", 30 } }, "A(B) B(A)" },
    { "a rewrite keeps the peers whatever the caller says",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 2, 'p', 'A', PF, "<m1>", 10 } }, "A()" },
    { "a caller cannot set the peers",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', PF, "<m1>", 11 },
        { 2, 'f', 'B', PF, "<m1>", 11 }, { 3, 'f', 'C', PF, NULL, 12 } }, "A(B) B(A)" },
    { "the other hop deleted: still listed (readers check)",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', PF, "<m1>", 11 },
        { 2, 'd', 'B', PF, NULL, 0 } }, "A(B)" },
    { "deleted in the transaction that wrote it",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 2, 'p', 'B', PF, "<m1>", 11 },
        { 2, 'd', 'B', PF, NULL, 0 } }, "A(B)" },
    { "five hops: four peers each",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', PF, "<m1>", 11 },
        { 2, 'p', 'C', XT, "<m1>", 12 }, { 2, 'p', 'M', MB, "<m1>", 13 },
        { 3, 'p', 'D', XT, "<m1>", 5 }, { 4, 'p', 'E', PF, "<m1>", 14 } },
      "A(BCDE) B(ACDE) C(ABDE) D(ABCE) E(ABCD)" },
    { "six hops: too many to list",
      { { 1, 'p', 'A', PF, "<m1>", 10 }, { 1, 'p', 'B', PF, "<m1>", 11 },
        { 2, 'p', 'C', XT, "<m1>", 12 }, { 2, 'p', 'D', XT, "<m1>", 5 },
        { 3, 'p', 'E', PF, "<m1>", 14 }, { 4, 'p', 'F', PF, "<m1>", 1 },
        { 5, 'p', 'G', PF, "<m2>", 1 } }, "G()" },
};

#undef PF
#undef MB
#undef XT

/* Play @a c in a store of its own in @a dir: the hops with MT_MSG_PEERS
 * and their peers, in name order, or "ERR: ..."; verify must find nothing
 * wrong. */
static const char *peer_play(apr_pool_t *p, const char *dir, const peer_case_t *c)
{
    mt_msg_t hops[26];
    int known[26] = { 0 }, i, j, n = 0;
    const char *err, *out = "";
    mt_store_t *st;
    mt_txn_t *t = NULL;
    apr_uint64_t cnt = 0;

    while (n < 8 && c->steps[n].txn)
        n++;
    if ((err = mt_store_open(p, dir, MT_STORE_WRITER, &st)) != NULL)
        return apr_pstrcat(p, "ERR: ", err, NULL);
    for (i = 0; i < n && !err; i++) {
        const peer_step_t *s = &c->steps[i];
        mt_msg_t *m = &hops[s->name - 'A'];
        if (!t && (err = mt_store_begin(st, p, &t)) != NULL)
            break;
        if (s->op == 'd') {
            err = mt_store_msg_del(t, m->key);
        }
        else {
            apr_uint64_t key = m->key;
            *m = mkhop(p, s->kind, "mx1", apr_psprintf(p, "Q%c", s->name), s->msgid,
                       "a@example.org", apr_time_from_sec(s->first), apr_time_from_sec(s->first));
            if (known[s->name - 'A'])
                m->key = key;
            else if ((err = mt_store_msg_new(t, m)) != NULL)
                break;
            known[s->name - 'A'] = 1;
            if (s->op == 'f') {
                m->flags |= MT_MSG_PEERS;
                m->npeers = 2;
                m->peers[0] = 998;
                m->peers[1] = 999;
            }
            err = mt_store_msg_put(t, m);
        }
        if (!err && (i + 1 == n || c->steps[i + 1].txn != s->txn)) {
            err = mt_store_commit(t);
            t = NULL;
        }
    }
    mt_store_abort(t);
    for (j = 0; j < 26 && !err; j++) {
        mt_msg_t g;
        int rc;
        if (!known[j])
            continue;
        if ((err = mt_store_begin(st, p, &t)) != NULL)
            break;
        rc = mt_store_msg_get(t, p, hops[j].key, &g, &err);
        mt_store_abort(t);
        if (rc > 0 && (g.flags & MT_MSG_PEERS)) {
            int k, x;
            out = apr_psprintf(p, "%s%s%c(", out, *out ? " " : "", 'A' + j);
            for (k = 0; k < g.npeers; k++)
                for (x = 0; x < 26; x++)
                    if (known[x] && hops[x].key == g.peers[k])
                        out = apr_psprintf(p, "%s%c", out, 'A' + x);
            out = apr_pstrcat(p, out, ")", NULL);
        }
    }
    if (!err) {
        const char *v = verify_all(st, p, &cnt);
        if (*v)
            err = apr_pstrcat(p, "verify: ", v, NULL);
    }
    mt_store_close(st);
    return err ? apr_pstrcat(p, "ERR: ", err, NULL) : out;
}

/* Hop record @a rec (as raw_op() read it) with MT_MSG_PEERS set and no
 * peers (they come last), or cleared from one without peers: the
 * version, the kind and the flags come first, as varints. */
static unsigned raw_flag(unsigned char *rec, unsigned len, unsigned flag, int on)
{
    unsigned char out[4096], *w = out;
    unsigned flags = 0, shift = 0, i = 2;

    if (len < 3 || len > sizeof(out) - 4)
        return 0;
    do
        flags |= (unsigned)(rec[i] & 0x7f) << shift, shift += 7;
    while (rec[i++] & 0x80);
    flags = on ? flags | flag : flags & ~flag;
    *w++ = rec[0];
    *w++ = rec[1];
    for (; flags >= 0x80; flags >>= 7)
        *w++ = (unsigned char)(flags | 0x80);
    *w++ = (unsigned char)flags;
    memcpy(w, rec + i, len - i);
    w += len - i;
    if (on)
        *w++ = 0;               /* no peers */
    else
        w--;                    /* the count of none */
    memcpy(rec, out, (size_t)(w - out));
    return (unsigned)(w - out);
}

/* A hop's by_msgid key ('m', the Message-ID's hash, first, key). */
static void msgid_key(unsigned char *k, const char *msgid, apr_time_t first, apr_uint64_t key)
{
    k[0] = 'm';
    be64(k + 1, mt_store_value_hash(msgid, strlen(msgid), 0));
    be64(k + 9, 0x8000000000000000ULL + (apr_uint64_t)first);
    be64(k + 17, key);
}

/* Format 3 indexes (no mark, no kind in by_msgid entries) are read and
 * written; verify reports marks that are wrong. */
static void test_peers_format(apr_pool_t *p, const char *dir)
{
    mt_store_t *st;
    mt_msg_t a, b;
    const char *err, *v;
    unsigned char k[25], pk[8], rec[4096], fmt[8];
    unsigned rlen = sizeof(rec), flen = sizeof(fmt);
    apr_uint64_t cnt = 0;

    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(!err, "peers, format 3: store%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return;
    a = mkhop(p, MT_HOP_POSTFIX, "mx1", "QA", "<m1>", "a@example.org", 10, 10);
    store_hop(st, p, &a, 0, &err);
    mt_store_close(st);
    /* Make it a hop format 3 wrote: no kind in its entry, no mark. */
    msgid_key(k, "<m1>", 10, a.key);
    be64(pk, a.key);
    ok(raw_op(dir, "by_msgid", k, 25, "", 0, NULL, NULL) == 0, "peers, format 3: entry");
    ok(raw_op(dir, "messages", pk, 8, NULL, 0, rec, &rlen) == 0, "peers, format 3: record read");
    rlen = raw_flag(rec, rlen, MT_MSG_PEERS, 0);
    ok(rlen && raw_op(dir, "messages", pk, 8, rec, rlen, NULL, NULL) == 0,
       "peers, format 3: record without the mark");
    ok(set_format(dir, 3) == 0, "peers, format 3: format record 3");
    err = mt_store_open(p, dir, MT_STORE_READER, &st);
    ok(!err, "peers, format 3: a reader opens it%s%s", err ? ": " : "", err ? err : "");
    mt_store_close(st);
    ok(raw_op(dir, "meta", "format", 6, NULL, 0, fmt, &flen) == 0 && flen == 8 && fmt[7] == 3,
       "peers, format 3: a reader leaves the format record alone");
    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(!err, "peers, format 3: a writer opens it%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return;
    is_str(verify_all(st, p, &cnt), "", "peers, format 3: verify accepts its entries");
    b = mkhop(p, MT_HOP_POSTFIX, "mx2", "QB", "<m1>", "a@example.org", 20, 20);
    store_hop(st, p, &b, 0, &err);
    {
        mt_txn_t *t;
        mt_msg_t g;
        mt_store_begin(st, p, &t);
        ok(mt_store_msg_get(t, p, b.key, &g, &err) == 1 && !(g.flags & MT_MSG_PEERS),
           "peers, format 3: a new hop with the Message-ID of a format 3 one has no peers");
        mt_store_abort(t);
    }
    is_str(verify_all(st, p, &cnt), "", "peers, format 3: verify after");
    mt_store_close(st);
    flen = sizeof(fmt);
    ok(raw_op(dir, "meta", "format", 6, NULL, 0, fmt, &flen) == 0 && flen == 8
       && fmt[7] == MT_STORE_FORMAT, "peers, format 3: the writer made it format %d",
       MT_STORE_FORMAT);

    /* Wrong marks and kinds, planted. */
    be64(pk, b.key);
    rlen = sizeof(rec);
    ok(raw_op(dir, "messages", pk, 8, NULL, 0, rec, &rlen) == 0
       && (rlen = raw_flag(rec, rlen, MT_MSG_PEERS, 1)) != 0
       && raw_op(dir, "messages", pk, 8, rec, rlen, NULL, NULL) == 0,
       "peers: a mark planted on a hop that shares its Message-ID");
    msgid_key(k, "<m1>", 20, b.key);
    ok(raw_op(dir, "by_msgid", k, 25, "\003", 1, NULL, NULL) == 0,
       "peers: its entry says mailbox");
    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    if (!st)
        return;
    v = verify_all(st, p, &cnt);
    like(v, apr_psprintf(p, "messages: hop %" APR_UINT64_T_FMT " does not list hop %"
                         APR_UINT64_T_FMT ", which has its Message-ID, among its peers", b.key,
                         a.key), "peers: verify reports the peer missing");
    like(v, apr_psprintf(p, "by_msgid: entry for hop %" APR_UINT64_T_FMT " (m %s) names "
                         "another kind of hop", b.key, hx(p, "<m1>", 0)),
         "peers: verify reports the wrong kind");
    is_int(cnt, 2, "peers: two problems");
    mt_store_close(st);
    rlen = sizeof(rec);
    /* A mark on a hop without a Message-ID. */
    {
        mt_msg_t c = mkhop(p, MT_HOP_POSTFIX, "mx1", "QC", NULL, "a@example.org", 30, 30);
        err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
        if (!st)
            return;
        store_hop(st, p, &c, 0, &err);
        mt_store_close(st);
        be64(pk, c.key);
        ok(raw_op(dir, "messages", pk, 8, NULL, 0, rec, &rlen) == 0
           && (rlen = raw_flag(rec, rlen, MT_MSG_PEERS, 1)) != 0
           && raw_op(dir, "messages", pk, 8, rec, rlen, NULL, NULL) == 0,
           "peers: a mark planted on a hop without a Message-ID");
        err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
        if (!st)
            return;
        v = verify_all(st, p, &cnt);
        like(v, apr_psprintf(p, "messages: hop %" APR_UINT64_T_FMT " lists the hops of its "
                             "Message-ID, but is without one", c.key),
             "peers: verify reports peers without a Message-ID");
        mt_store_close(st);
    }
}

static void test_peers(apr_pool_t *p)
{
    size_t i;

    for (i = 0; i < sizeof(peer_cases) / sizeof(peer_cases[0]); i++) {
        const char *dir = fast_tmpdir(p);
        apr_pool_t *sp;
        apr_pool_create(&sp, p);
        is_str(peer_play(sp, dir, &peer_cases[i]), peer_cases[i].want, "peers: %s",
               peer_cases[i].what);
        apr_pool_destroy(sp);
        tmpdir_remove(p, dir);
    }
}

static void test_hops(apr_pool_t *p)
{
    const char *dir = fast_tmpdir(p), *err;
    apr_pool_t *sp;
    mt_store_t *st;
    apr_uint64_t cnt = 0;

    apr_pool_create(&sp, p);
    err = mt_store_open(sp, dir, MT_STORE_WRITER, &st);
    ok(!err, "hops: writer%s%s", err ? ": " : "", err ? err : "");
    if (st) {
        test_roundtrip(st, sp);
        test_events(st, sp);
        test_scans(st, sp);
        test_hop_find(st, sp);
        test_del(st, sp);
        test_misc(st, sp);
        test_reader(st, sp, dir);
        is_str(verify_all(st, sp, &cnt), "", "hops: verify finds nothing wrong");
        mt_store_close(st);
    }
    apr_pool_destroy(sp);
    tmpdir_remove(p, dir);

    test_peers(p);
    in_scratch(p, test_peers_format);
    in_scratch(p, test_purge);
    in_scratch(p, test_long_scans);
    in_scratch(p, test_key_order);
    in_scratch(p, test_same_txn);
    in_scratch(p, test_verify);
    in_scratch(p, test_chunks);
    in_scratch(p, test_chunk_damage);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    mt_store_t *st = NULL, *rd = NULL;
    mt_txn_t *t = NULL;
    const char *err, *dir;
    mt_store_file_t f, g;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    dir = tmpdir_make(p, "mt-store");

    /* The value hash is part of the on-disk format: pinned. */
    {
        static const struct {
            const char *v;
            int lower;
            unsigned long long h;
        } vh[] = {
            { "", 0, 0xefd01f60ba992926ULL },
            { "alice@example.org", 0, 0x2562c6bf020af5e0ULL },
            { "Alice@Example.ORG", 1, 0x2562c6bf020af5e0ULL },
            { "<a@b>", 0, 0x5727b93e3b1d84a3ULL },
        };
        size_t i;
        for (i = 0; i < NELTS(vh); i++)
            ok(mt_store_value_hash(vh[i].v, strlen(vh[i].v), vh[i].lower) == vh[i].h,
               "value hash of '%s'%s", vh[i].v, vh[i].lower ? " lower-cased" : "");
        ok(mt_store_value_hash("Alice@Example.ORG", 17, 0) != 0x2562c6bf020af5e0ULL,
           "value hash: case counts unless lower-cased");
    }

    /* Readers never create. */
    err = mt_store_open(p, apr_pstrcat(p, dir, "/none", NULL), MT_STORE_READER, &rd);
    like(err, "does not exist", "reader: a missing directory is named");
    ok(rd == NULL, "reader: no store on error");
    err = mt_store_open(p, dir, MT_STORE_READER, &rd);
    like(err, "holds no Berkeley DB environment", "reader: an empty directory is not an index");

    /* The writer creates. */
    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(err == NULL && st, "writer creates the index%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return tap_done();
    is_str(mt_store_dir(st), dir, "store directory");

    /* Files: put, get, absent, overwrite. */
    ok(!mt_store_begin(st, p, &t), "write transaction");
    f = sample_file(42, 1000);
    ok(!mt_store_file_put(t, &f), "file record written");
    ok(!mt_store_commit(t), "committed");
    ok(!mt_store_begin(st, p, &t), "second transaction");
    is_int(mt_store_file_get(t, p, 2049, 42, &g, &err), 1, "file record found");
    is_int(g.offset, 1000, "offset round-trips");
    is_int(g.lines, 10, "lines round-trip");
    is_int(g.head_len, 5, "head length round-trips");
    ok(g.head_hash == mt_store_head_hash("Jun 3", 5), "head hash round-trips");
    is_int(g.format, 2, "format round-trips");
    is_int(g.updated, 1234567, "update time round-trips");
    is_str(g.path, "/var/log/mail.log", "path round-trips");
    is_int(mt_store_file_get(t, p, 2049, 43, &g, &err), 0, "other inode unknown");
    is_int(mt_store_file_get(t, p, 2050, 42, &g, &err), 0, "other device unknown");
    ok(mt_store_head_hash("Jun 3", 5) != mt_store_head_hash("Jun 4", 5), "heads differ by hash");
    mt_store_abort(t);

    /* Counters. */
    {
        unsigned long long a = 0, b = 0, c = 0;
        ok(!mt_store_begin(st, p, &t), "counter transaction");
        mt_store_counter_next(t, "message", &a);
        mt_store_counter_next(t, "message", &b);
        mt_store_counter_get(t, "message", &c);
        ok(a == 1 && b == 2 && c == 2, "counter counts 1, 2 and reads 2");
        mt_store_counter_get(t, "other", &c);
        is_int(c, 0, "an unused counter reads 0");
        mt_store_abort(t);
        ok(!mt_store_begin(st, p, &t), "after abort");
        mt_store_counter_get(t, "message", &c);
        is_int(c, 0, "an aborted counter is not kept");
        mt_store_abort(t);
    }

    /* A reader joins and reads in a snapshot that later commits don't change,
     * and the writer is not blocked by it. */
    err = mt_store_open(p, dir, MT_STORE_READER, &rd);
    ok(err == NULL && rd, "reader joins%s%s", err ? ": " : "", err ? err : "");
    if (rd) {
        mt_txn_t *rt, *wt;
        ok(!mt_store_begin(rd, p, &rt), "snapshot transaction");
        is_int(mt_store_file_get(rt, p, 2049, 42, &g, &err), 1, "reader sees committed data");
        ok(!mt_store_begin(st, p, &wt), "writer transaction while a reader reads");
        f = sample_file(42, 2000);
        ok(!mt_store_file_put(wt, &f), "writer updates the record under the reader");
        ok(!mt_store_commit(wt), "writer commits while the snapshot is open");
        mt_store_file_get(rt, p, 2049, 42, &g, &err);
        is_int(g.offset, 1000, "the snapshot still sees the old offset");
        mt_store_abort(rt);
        ok(!mt_store_begin(rd, p, &rt), "new snapshot");
        mt_store_file_get(rt, p, 2049, 42, &g, &err);
        is_int(g.offset, 2000, "a new snapshot sees the new offset");
        mt_store_abort(rt);
        mt_store_close(rd);
    }

    /* A reader process killed inside a snapshot: failchk releases it. */
    {
        int fds[2], status;
        char c;
        pid_t pid;
        if (pipe(fds) != 0)
            return tap_done();
        pid = fork();
        if (pid == 0) {
            apr_pool_t *cp;
            mt_store_t *cs;
            mt_txn_t *ct;
            apr_pool_create(&cp, NULL);
            if (mt_store_open(cp, dir, MT_STORE_READER, &cs) || mt_store_begin(cs, cp, &ct))
                _exit(3);
            mt_store_file_get(ct, cp, 2049, 42, &g, &err);
            if (write(fds[1], "x", 1) != 1)
                _exit(4);
            pause();
            _exit(0);
        }
        close(fds[1]);
        ok(read(fds[0], &c, 1) == 1, "reader child inside a snapshot");
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ok(WIFSIGNALED(status), "reader child killed with SIGKILL");
        err = mt_store_failchk(st);
        ok(err == NULL, "failchk cleans up after the dead reader%s%s", err ? ": " : "",
           err ? err : "");
        ok(!mt_store_begin(st, p, &t), "writer goes on");
        f = sample_file(42, 3000);
        ok(!mt_store_file_put(t, &f) && !mt_store_commit(t), "and commits");
        close(fds[0]);
    }
    mt_store_close(st);

    /* A writer killed mid-transaction: nothing of it survives, everything
     * committed before does, and the next writer recovers. */
    {
        int status;
        pid_t pid = fork();
        if (pid == 0) {
            apr_pool_t *cp;
            mt_store_t *cs;
            mt_txn_t *ct;
            mt_store_file_t cf = sample_file(77, 500);
            apr_pool_create(&cp, NULL);
            if (mt_store_open(cp, dir, MT_STORE_WRITER, &cs) || mt_store_begin(cs, cp, &ct)
                || mt_store_file_put(ct, &cf) || mt_store_commit(ct))
                _exit(3);
            cf = sample_file(78, 600);
            if (mt_store_begin(cs, cp, &ct) || mt_store_file_put(ct, &cf))
                _exit(3);
            cf = sample_file(42, 999999);
            mt_store_file_put(ct, &cf);
            raise(SIGKILL);
            _exit(5);
        }
        waitpid(pid, &status, 0);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "writer child killed mid-transaction");
        err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
        ok(err == NULL && st, "next writer opens (recovery)%s%s", err ? ": " : "", err ? err : "");
        if (st) {
            ok(!mt_store_begin(st, p, &t), "transaction after recovery");
            is_int(mt_store_file_get(t, p, 2049, 77, &g, &err), 1, "committed record kept");
            is_int(mt_store_file_get(t, p, 2049, 78, &g, &err), 0, "uncommitted record gone");
            mt_store_file_get(t, p, 2049, 42, &g, &err);
            is_int(g.offset, 3000, "uncommitted update gone");
            mt_store_abort(t);
            mt_store_close(st);
        }
    }

    /* Another format version is refused, by name, for writers and readers. */
    ok(set_format(dir, 1) == 0, "format record rewritten to 1");
    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    like(err, "is in format 1; this build reads formats 3 to 4",
         "an index of format 1 (a record per event) is refused");
    ok(set_format(dir, 2) == 0, "format record rewritten to 2");
    err = mt_store_open(p, dir, MT_STORE_READER, &rd);
    like(err, "is in format 2; this build reads formats 3 to 4",
         "an index of format 2 (values in the clear in its index keys) is refused");
    ok(set_format(dir, MT_STORE_FORMAT + 1) == 0, "format record rewritten");
    err = mt_store_open(p, dir, MT_STORE_READER, &rd);
    like(err, "this build reads format", "reader refuses another format");
    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    like(err, "rebuild it", "writer refuses another format");
    ok(st == NULL, "no store for another format");

    tmpdir_remove(p, dir);

    test_hops(p);

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
