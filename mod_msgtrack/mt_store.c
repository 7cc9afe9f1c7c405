/* mt_store.c: the Berkeley DB environment, its format record, file offsets,
 * hops, events and their secondary indexes */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <db.h>
#include "mt_log.h"
#include "mt_ascii.h"
#include "mt_dirlock.h"
#include "mt_store.h"

/* The secondary indexes of messages. */
enum { SX_SENDER, SX_RECIPIENT, SX_MSGID, SX_TIME, SX_HOP, SX_N };

static const char *const sx_name[SX_N] = {
    "by_sender", "by_recipient", "by_msgid", "by_time", "by_hop"
};

struct mt_store_t {
    apr_pool_t *pool;
    const char *dir;
    mt_store_mode_e mode;
    DB_ENV *env;
    DB *meta;
    DB *files;
    DB *messages;
    DB *events;
    /* The secondary indexes: plain B-trees whose keys end with the hop's
     * key, with the hop's key as data. The writer keeps them in step with
     * messages itself (sx_update): it knows which hops are new in the
     * transaction and which keys did not change, which DB->associate does
     * not (it reads the old record for every put and rewrites every key). */
    DB *ix[SX_N];
};

/* Events a transaction put and has not written yet. Each hop's events of
 * one transaction become one record of the events database, a chunk: a
 * run of consecutive seqs (a seq that does not follow the hop's last one
 * starts another chunk). */
typedef struct ev_node_t ev_node_t;
struct ev_node_t {
    ev_node_t *next;
    apr_size_t len;         /* then len bytes: varint(length) event */
};

typedef struct chunk_t chunk_t;
struct chunk_t {
    apr_uint64_t msg;
    unsigned first, count;  /* seqs first .. first + count - 1 */
    apr_size_t bytes;       /* of the nodes */
    ev_node_t *head, *tail;
    chunk_t *older;         /* the hop's chunk before this one, in this transaction */
    int written;
};

struct mt_txn_t {
    mt_store_t *store;
    apr_pool_t *pool;
    DB_TXN *txn;
    unsigned char *buf;     /* encoding and reading buffer, reused */
    apr_size_t cap;
    unsigned char *obuf;    /* the record a put replaces */
    apr_size_t ocap;
    /* Hops handed out in this transaction that were written already: one
     * bit per key in (key_base, key_next]. A hop not written yet has no
     * record to replace. */
    unsigned char *written;
    apr_size_t wcap;
    /* Hop keys handed out in this transaction: the "message" counter is
     * read once (locked) and written back once, at commit. */
    int keys_taken;
    unsigned long long key_base, key_next;
    /* Buffered events (mt_store_event_put), in the transaction's pool:
     * the newest chunk of each hop by hop key, the chunks not written yet,
     * and the chunk the last event went to. */
    apr_hash_t *chunk_of;
    apr_array_header_t *unwritten;
    chunk_t *last;
    /* Reading: a cursor on each secondary index, opened on first use and
     * closed when the transaction ends (bulk_scan(), mt_store_keys()), and
     * the size of the buffers scans read into. */
    DBC *rcur[SX_N];
    u_int32_t bulk_cap;
    /* Bumped each time a read moves rcur[i]: a scan whose callbacks left
     * it as it was goes on from where its cursor is. */
    unsigned rmoves[SX_N];
    /* The by_hop cursor of mt_store_hop_find, opened once and closed
     * before the transaction ends (cursors_close). */
    struct cur_t *hop_cur;
    /* Secondary index changes not made yet (sx_op_t, in the transaction's
     * pool): sx_apply() makes them, index by index in key order, before the
     * transaction commits and before it reads an index. */
    apr_array_header_t *sx_ops;
    /* Hop records not written yet (pend_t by key, in the transaction's
     * pool): mt_store_msg_put() leaves them for sx_apply(), which writes
     * them after the index changes, once their peers are known (a hop
     * found to have some is written once, with them), and in key order.
     * mt_store_msg_get() reads them first. */
    apr_hash_t *pend;
    /* A bound on the first time (8 bytes as in keys) of every by_msgid
     * entry in the databases: by_time's last key, read when sx_apply()
     * first puts a Message-ID entry in the transaction (its read lock,
     * kept until the end, holds off another writer's newer hops), then
     * raised by sx_apply()'s own entries. A Message-ID entry above it has none of its Message-ID
     * after it (peers_put()). */
    unsigned char hwm[8];
    int hwm_known;
};

typedef struct {
    unsigned char key[8];
    unsigned char *rec;
    apr_size_t len, cap;
} pend_t;

static int u64_cmp(const void *a, const void *b)
{
    apr_uint64_t x = *(const apr_uint64_t *)a, y = *(const apr_uint64_t *)b;
    return (x > y) - (x < y);
}

static int pend_cmp(const void *a, const void *b)
{
    return memcmp((*(pend_t *const *)a)->key, (*(pend_t *const *)b)->key, 8);
}

#define FORMAT_KEY "format"
/* How long mt_store_open() waits for the lock (mt_dirlock.h) to join the
 * environment and run failchk, which take milliseconds: a holder for longer
 * is stuck (or recovering a large log, for a writer). httpd's children
 * ask again at their next request; msgtrack-index waits longer
 * (mt_store_open_wait()). */
#define OPEN_LOCK_WAIT_READER apr_time_from_sec(5)
#define OPEN_LOCK_WAIT_WRITER apr_time_from_sec(10)

/* ------------------------------------------------------------------ byte order */

static void put_u64(unsigned char *b, unsigned long long v)
{
    int i;
    for (i = 7; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
}

static unsigned long long get_u64(const unsigned char *b)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* One load and one byte swap: key_cmp() runs hundreds of times a request. */
    apr_uint64_t v;
    memcpy(&v, b, sizeof(v));
    return __builtin_bswap64(v);
#else
    unsigned long long v = 0;
    int i;
    for (i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
#endif
}

/* ------------------------------------------------------------------ environment */

static void on_db_error(const DB_ENV *env, const char *prefix, const char *msg)
{
    (void)env; (void)prefix;
    MT_LOG(MT_LOG_ERR, "Berkeley DB: %s", msg);
}

static void on_db_message(const DB_ENV *env, const char *msg)
{
    (void)env;
    MT_LOG(MT_LOG_INFO, "Berkeley DB: %s", msg);
}

/* A process is alive if it exists; threads of our own process are. */
static int is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
    (void)env; (void)tid; (void)flags;
    if (pid == getpid())
        return 1;
    return kill(pid, 0) == 0 || errno == EPERM;
}

static const char *db_err_p(apr_pool_t *p, mt_store_t *st, const char *what, int rc)
{
    return apr_psprintf(p, "index %s: %s: %s", st->dir, what, db_strerror(rc));
}

/* Errors while opening: the store's own pool. */
static const char *db_err(mt_store_t *st, const char *what, int rc)
{
    return db_err_p(st->pool, st, what, rc);
}

static apr_status_t store_cleanup(void *data)
{
    mt_store_close(data);
    return APR_SUCCESS;
}

const char *mt_store_close(mt_store_t *st)
{
    int i, rc = 0;
    if (!st)
        return NULL;
    /* Secondaries before their primary. */
    for (i = 0; i < SX_N; i++) {
        if (st->ix[i])
            st->ix[i]->close(st->ix[i], 0);
        st->ix[i] = NULL;
    }
    if (st->events)
        st->events->close(st->events, 0);
    if (st->messages)
        st->messages->close(st->messages, 0);
    st->events = st->messages = NULL;
    if (st->files)
        st->files->close(st->files, 0);
    if (st->meta)
        st->meta->close(st->meta, 0);
    if (st->env)
        rc = st->env->close(st->env, 0);
    st->files = st->meta = NULL;
    st->env = NULL;
    /* A panicked environment (another process recovered the index) refuses
     * to close and frees nothing: say so, it is this process's to carry. */
    if (rc == DB_RUNRECOVERY)
        return "the environment was recovered by another process and cannot be closed "
               "(Berkeley DB: DB_RUNRECOVERY): its handles (tens of KiB) and its old "
               "region files (deleted, mapped: the cache and the log buffer) stay in "
               "this process until it exits";
    return rc ? db_strerror(rc) : NULL;
}

/* Berkeley DB's own order of keys: bytes compared unsigned, a key before
 * the longer ones it begins. */
static int dbt_cmp(const void *a, const void *b)
{
    const DBT *x = a, *y = b;
    u_int32_t n = x->size < y->size ? x->size : y->size;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->size > y->size) - (x->size < y->size);
}

/* The order every database has: dbt_cmp()'s, with two 8-byte keys (hop
 * keys, most of a Find's hundreds of comparisons) read as one big-endian
 * word each. Berkeley DB's default routine compares a byte at a time; the
 * order is the same, so an index is the same whichever routine wrote it. */
static int key_cmp(DB *db, const DBT *a, const DBT *b)
{
    (void)db;
    if (a->size == 8 && b->size == 8) {
        unsigned long long x = get_u64(a->data), y = get_u64(b->data);
        return (x > y) - (x < y);
    }
    return dbt_cmp(a, b);
}

/* A DBT for the key @a k (@a n bytes, writable) of DB->get(). With a
 * routine of our own (key_cmp), Berkeley DB hands the key it found back,
 * and a DB_THREAD handle wants memory for it: @a k itself, as the key
 * found is the same. */
static void get_key(DBT *key, void *k, apr_size_t n)
{
    memset(key, 0, sizeof(*key));
    key->data = k;
    key->size = key->ulen = (u_int32_t)n;
    key->flags = DB_DBT_USERMEM;
}

/* With key_cmp, Berkeley DB keeps no prefix routine of its own: this is
 * its default one (how many bytes of @a b tell it from @a a, which sorts
 * before it), so internal pages keep their shortened keys. */
static size_t key_prefix(DB *db, const DBT *a, const DBT *b)
{
    const unsigned char *p = a->data, *q = b->data;
    size_t n = a->size < b->size ? a->size : b->size, i;

    (void)db;
    for (i = 0; i < n; i++)
        if (p[i] != q[i])
            return i + 1;
    if (a->size != b->size)
        return n + 1;
    return b->size;
}

static const char *open_db(mt_store_t *st, DB **db, const char *name)
{
    u_int32_t flags = DB_THREAD | DB_AUTO_COMMIT | DB_MULTIVERSION;
    int rc;

    if ((rc = db_create(db, st->env, 0)) != 0)
        return db_err(st, name, rc);
    if ((rc = (*db)->set_bt_compare(*db, key_cmp)) != 0
        || (rc = (*db)->set_bt_prefix(*db, key_prefix)) != 0) {
        (*db)->close(*db, 0);
        *db = NULL;
        return db_err(st, apr_psprintf(st->pool, "setting up %s", name), rc);
    }
    if (st->mode == MT_STORE_WRITER)
        flags |= DB_CREATE;
    rc = (*db)->open(*db, NULL, name, NULL, DB_BTREE, flags, 0660);
    if (rc != 0) {
        (*db)->close(*db, 0);
        *db = NULL;
        if (rc == ENOENT)
            return apr_psprintf(st->pool, "index %s has no database %s: it is not a "
                                "msgtrack index, or was never written", st->dir, name);
        return db_err(st, apr_psprintf(st->pool, "opening %s", name), rc);
    }
    return NULL;
}

static const char *check_format(mt_store_t *st)
{
    DBT key, val;
    unsigned char buf[8];
    char k[] = FORMAT_KEY;
    int rc;

    get_key(&key, k, sizeof(k) - 1);
    memset(&val, 0, sizeof(val));
    val.data = buf;
    val.ulen = sizeof(buf);
    val.flags = DB_DBT_USERMEM;
    rc = st->meta->get(st->meta, NULL, &key, &val, 0);
    if (rc == DB_NOTFOUND) {
        if (st->mode != MT_STORE_WRITER)
            return apr_psprintf(st->pool, "index %s has no format record: it is not a "
                                "msgtrack index, or was never written", st->dir);
        put_u64(buf, MT_STORE_FORMAT);
        val.size = 8;
        rc = st->meta->put(st->meta, NULL, &key, &val, 0);
        return rc ? db_err(st, "writing the format record", rc) : NULL;
    }
    if (rc != 0)
        return db_err(st, "reading the format record", rc);
    if (val.size != 8 || get_u64(buf) < MT_STORE_FORMAT_OLDEST
        || get_u64(buf) > MT_STORE_FORMAT)
        return apr_psprintf(st->pool, "index %s is in format %" APR_UINT64_T_FMT "; this "
                            "build reads formats %d to %d: rebuild it with this version of "
                            "msgtrack-index", st->dir,
                            (apr_uint64_t)(val.size == 8 ? get_u64(buf) : 0),
                            MT_STORE_FORMAT_OLDEST, MT_STORE_FORMAT);
    /* What format 4 adds, a format 3 index lacks without harm (mt_store.h):
     * the writer marks it format 4, and older builds leave it alone. */
    if (get_u64(buf) != MT_STORE_FORMAT && st->mode == MT_STORE_WRITER) {
        put_u64(buf, MT_STORE_FORMAT);
        rc = st->meta->put(st->meta, NULL, &key, &val, 0);
        if (rc)
            return db_err(st, "writing the format record", rc);
    }
    return NULL;
}

static const char *open_hops(mt_store_t *st);

const char *mt_store_open(apr_pool_t *p, const char *dir, mt_store_mode_e mode,
                          mt_store_t **out)
{
    return mt_store_open_wait(p, dir, mode, mode == MT_STORE_WRITER ? OPEN_LOCK_WAIT_WRITER
                                                                    : OPEN_LOCK_WAIT_READER,
                              out);
}

const char *mt_store_open_wait(apr_pool_t *p, const char *dir, mt_store_mode_e mode,
                               apr_interval_time_t lock_wait, mt_store_t **out)
{
    mt_store_t *st = apr_pcalloc(p, sizeof(*st));
    u_int32_t flags = DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN | DB_THREAD;
    apr_finfo_t fi;
    const char *err;
    int rc, lk;

    *out = NULL;
    st->pool = p;
    st->dir = apr_pstrdup(p, dir);
    st->mode = mode;

    if (apr_stat(&fi, dir, APR_FINFO_TYPE, p) != APR_SUCCESS) {
        if (mode != MT_STORE_WRITER)
            return apr_psprintf(p, "index %s does not exist (build it with msgtrack-index "
                                "--db %s ingest FILE...)", dir, dir);
        if (apr_dir_make_recursive(dir, APR_FPROT_OS_DEFAULT, p) != APR_SUCCESS)
            return apr_psprintf(p, "index %s: cannot create the directory", dir);
    }
    else if (fi.filetype != APR_DIR) {
        return apr_psprintf(p, "index %s is not a directory", dir);
    }

    if ((rc = db_env_create(&st->env, 0)) != 0)
        return db_err(st, "creating the environment handle", rc);
    apr_pool_cleanup_register(p, st, store_cleanup, apr_pool_cleanup_null);
    st->env->set_errcall(st->env, on_db_error);
    st->env->set_msgcall(st->env, on_db_message);
    st->env->set_thread_count(st->env, 1024);
    st->env->set_isalive(st->env, is_alive);
    st->env->set_lk_max_lockers(st->env, 20000);
    st->env->set_lk_max_locks(st->env, 20000);
    st->env->set_lk_max_objects(st->env, 20000);
    st->env->set_lk_detect(st->env, DB_LOCK_DEFAULT);
    /* The cache, the log buffer and the lock tables live in the region
     * files (__db.001-003), which every process using the index maps and
     * which stay at their largest size on disk: Berkeley DB adds a quarter
     * to the cache, so 36 MiB make a 45 MB region, and the regions come to
     * 57 MB in all once an ingest has filled the cache. With a 48 MiB cache
     * and a 4 MiB log buffer they came to 80 MB, and the directory of the
     * index of a million Postfix lines (113 MB of databases and log) was
     * larger than the log itself (169 MB). For that million lines 36 MiB
     * took 0.4% more instructions than 48 (callgrind), for ten million 3%
     * more CPU time: once the indexes outgrow the cache, their pages are
     * read and written again whatever its size. Log files go at the next
     * checkpoint but the last, whose size is set here. A DB_CONFIG file in
     * the directory overrides all this when the environment is created. */
    st->env->set_cachesize(st->env, 0, 36 * 1024 * 1024, 1);
    st->env->log_set_config(st->env, DB_LOG_AUTO_REMOVE, 1);
    st->env->set_lg_bsize(st->env, 1024 * 1024);
    st->env->set_lg_max(st->env, 4 * 1024 * 1024);
    /* A commit writes the log but does not wait for the disk: a killed
     * process loses nothing (the log is in the kernel), and a machine that
     * loses power loses whole batches together with their file offsets, so
     * the next ingest reads them again. mt_store_checkpoint() syncs. */
    if (mode == MT_STORE_WRITER)
        st->env->set_flags(st->env, DB_TXN_WRITE_NOSYNC, 1);

    if (mode == MT_STORE_WRITER)
        flags |= DB_CREATE | DB_REGISTER | DB_RECOVER;
    /* Joining the environment (or recovering it) and failchk, one process at
     * a time (mt_dirlock.h): a reader must not map the regions a writer's
     * recovery is making anew, and two failchks must not run at once. The
     * lock covers those alone: what follows may wait for a Berkeley DB lock
     * of a dead process, which only another process's failchk releases. A
     * holder for longer than OPEN_LOCK_WAIT_* is stuck: a reader gives up,
     * a writer (whose recovery is what frees the others) goes on. */
    lk = mt_dirlock_take(dir, lock_wait);
    if (lk == -1 && mode != MT_STORE_WRITER) {
        st->env->close(st->env, 0);
        st->env = NULL;
        return apr_psprintf(p, "index %s: another process has been opening or checking it "
                            "for %" APR_TIME_T_FMT " s", dir, apr_time_sec(lock_wait));
    }
    rc = st->env->open(st->env, st->dir, flags, 0660);
    if (rc != 0) {
        mt_dirlock_release(lk);
        const char *msg;
        if (rc == ENOENT)
            msg = apr_psprintf(p, "index %s holds no Berkeley DB environment (build it "
                               "with msgtrack-index --db %s ingest FILE...)", dir, dir);
        else if (rc == EACCES)
            msg = apr_psprintf(p, "index %s: permission denied: the environment's files "
                               "must be readable and writable by this user", dir);
        else
            msg = db_err(st, "opening the environment", rc);
        st->env->close(st->env, 0);
        st->env = NULL;
        return msg;
    }
    err = mt_store_failchk(st);
    mt_dirlock_release(lk);
    if (err
        || (err = open_db(st, &st->meta, "meta")) != NULL
        || (err = open_db(st, &st->files, "files")) != NULL
        || (err = check_format(st)) != NULL
        || (err = open_hops(st)) != NULL) {
        mt_store_close(st);
        return err;
    }
    *out = st;
    return NULL;
}

const char *mt_store_failchk(mt_store_t *st)
{
    int rc = st->env->failchk(st->env, 0);
    if (rc == 0)
        return NULL;
    return db_err(st, rc == DB_RUNRECOVERY ? "a process died inside the database library; "
                  "recovery runs when msgtrack-index next starts" : "failure check", rc);
}

const char *mt_store_checkpoint(mt_store_t *st, int force)
{
    int rc = st->env->txn_checkpoint(st->env, force ? 0 : 32 * 1024, 0, 0);
    if (rc == 0)
        rc = st->env->log_flush(st->env, NULL);
    return rc ? db_err(st, "checkpoint", rc) : NULL;
}

const char *mt_store_dir(const mt_store_t *st)
{
    return st->dir;
}

/* ------------------------------------------------------------------ transactions */

static apr_status_t txn_cleanup(void *data)
{
    mt_store_abort(data);
    return APR_SUCCESS;
}

const char *mt_store_begin(mt_store_t *st, apr_pool_t *p, mt_txn_t **out)
{
    mt_txn_t *t = apr_pcalloc(p, sizeof(*t));
    u_int32_t flags = st->mode == MT_STORE_WRITER ? 0 : DB_TXN_SNAPSHOT;
    int rc;

    *out = NULL;
    t->store = st;
    t->pool = p;
    if ((rc = st->env->txn_begin(st->env, NULL, &t->txn, flags)) != 0)
        return db_err_p(p, st, "beginning a transaction", rc);
    apr_pool_cleanup_register(p, t, txn_cleanup, apr_pool_cleanup_null);
    *out = t;
    return NULL;
}

static const char *counter(mt_txn_t *t, const char *name, unsigned long long *value, int bump,
                           apr_int64_t delta);
static const char *events_flush(mt_txn_t *t, int all, apr_uint64_t msg);
static void cursors_close(mt_txn_t *t);
static const char *sx_apply(mt_txn_t *t);

/* Forget the buffered events (their memory goes with the pool). */
static void events_drop(mt_txn_t *t)
{
    t->chunk_of = NULL;
    t->unwritten = NULL;
    t->last = NULL;
}

const char *mt_store_commit(mt_txn_t *t)
{
    const char *err;
    int rc;
    if (!t || !t->txn)
        return NULL;
    if ((err = sx_apply(t)) != NULL || (err = events_flush(t, 1, 0)) != NULL) {
        mt_store_abort(t);
        return err;
    }
    events_drop(t);
    if (t->keys_taken && t->key_next != t->key_base) {
        unsigned long long v;
        err = counter(t, "message", &v, 1, (apr_int64_t)(t->key_next - t->key_base));
        if (err) {
            mt_store_abort(t);
            return err;
        }
    }
    t->keys_taken = 0;
    cursors_close(t);
    rc = t->txn->commit(t->txn, 0);
    t->txn = NULL;
    return rc ? db_err_p(t->pool, t->store, "committing", rc) : NULL;
}

void mt_store_abort(mt_txn_t *t)
{
    if (t) {
        events_drop(t);
        t->sx_ops = NULL;
    }
    if (t && t->txn) {
        cursors_close(t);
        t->txn->abort(t->txn);
        t->txn = NULL;
    }
}

/* ------------------------------------------------------------------ files */

unsigned long long mt_store_head_hash(const void *head, unsigned len)
{
    const unsigned char *b = head;
    unsigned long long h = 1469598103934665603ULL;   /* FNV-1a 64 */
    unsigned i;
    for (i = 0; i < len; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* value: head_len(8) head_hash(8) offset(8) lines(8) format(8) updated(8) path */
#define FILE_FIXED (6 * 8)

/* A file record from its key (dev, ino) and value: 1, or 0 when damaged. */
static int file_decode(apr_pool_t *p, const void *key, apr_size_t klen, const void *val,
                       apr_size_t vlen, mt_store_file_t *f)
{
    const unsigned char *b = val;
    if (klen != 16 || vlen < FILE_FIXED)
        return 0;
    memset(f, 0, sizeof(*f));
    f->dev = get_u64(key);
    f->ino = get_u64((const unsigned char *)key + 8);
    f->head_len = (unsigned)get_u64(b);
    f->head_hash = get_u64(b + 8);
    f->offset = get_u64(b + 16);
    f->lines = get_u64(b + 24);
    f->format = (int)get_u64(b + 32);
    f->updated = (apr_time_t)get_u64(b + 40);
    f->path = apr_pstrmemdup(p, (const char *)b + FILE_FIXED, vlen - FILE_FIXED);
    return 1;
}

int mt_store_file_get(mt_txn_t *t, apr_pool_t *p, unsigned long long dev,
                      unsigned long long ino, mt_store_file_t *f, const char **err)
{
    unsigned char k[16];
    DBT key, val;
    int rc;

    put_u64(k, dev);
    put_u64(k + 8, ino);
    get_key(&key, k, sizeof(k));
    memset(&val, 0, sizeof(val));
    val.flags = DB_DBT_MALLOC;
    rc = t->store->files->get(t->store->files, t->txn, &key, &val, 0);
    if (rc == DB_NOTFOUND)
        return 0;
    if (rc != 0) {
        *err = db_err_p(p, t->store, "reading a file record", rc);
        return -1;
    }
    if (!file_decode(p, k, sizeof(k), val.data, val.size, f)) {
        free(val.data);
        *err = apr_psprintf(p, "index %s: a file record is damaged (run verify)", t->store->dir);
        return -1;
    }
    free(val.data);
    return 1;
}

const char *mt_store_file_put(mt_txn_t *t, const mt_store_file_t *f)
{
    unsigned char k[16];
    apr_size_t plen = f->path ? strlen(f->path) : 0;
    unsigned char *b = apr_palloc(t->pool, FILE_FIXED + plen);
    DBT key, val;
    int rc;

    put_u64(k, f->dev);
    put_u64(k + 8, f->ino);
    put_u64(b, f->head_len);
    put_u64(b + 8, f->head_hash);
    put_u64(b + 16, f->offset);
    put_u64(b + 24, f->lines);
    put_u64(b + 32, (unsigned long long)f->format);
    put_u64(b + 40, (unsigned long long)f->updated);
    if (plen)
        memcpy(b + FILE_FIXED, f->path, plen);
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = k;
    key.size = sizeof(k);
    val.data = b;
    val.size = (u_int32_t)(FILE_FIXED + plen);
    rc = t->store->files->put(t->store->files, t->txn, &key, &val, 0);
    return rc ? db_err_p(t->pool, t->store, "writing a file record", rc) : NULL;
}

/* ------------------------------------------------------------------ counters */

/* Read counter @a name into @a value; with @a bump, add @a delta (the result
 * is clamped at 0) and write it back. */
static const char *counter(mt_txn_t *t, const char *name, unsigned long long *value, int bump,
                           apr_int64_t delta)
{
    DBT key, val;
    unsigned char buf[8];
    char k[80];
    int rc;

    apr_snprintf(k, sizeof(k), "counter:%s", name);
    get_key(&key, k, strlen(k));
    memset(&val, 0, sizeof(val));
    val.data = buf;
    val.ulen = sizeof(buf);
    val.flags = DB_DBT_USERMEM;
    rc = t->store->meta->get(t->store->meta, t->txn, &key, &val, bump ? DB_RMW : 0);
    if (rc == DB_NOTFOUND)
        *value = 0;
    else if (rc != 0)
        return db_err_p(t->pool, t->store, "reading a counter", rc);
    else
        *value = val.size == 8 ? get_u64(buf) : 0;
    if (!bump)
        return NULL;
    if (delta >= 0)
        *value += (unsigned long long)delta;
    else if (*value >= (unsigned long long)-(delta + 1) + 1)
        *value -= (unsigned long long)-(delta + 1) + 1;
    else
        *value = 0;
    put_u64(buf, *value);
    val.size = 8;
    rc = t->store->meta->put(t->store->meta, t->txn, &key, &val, 0);
    return rc ? db_err_p(t->pool, t->store, "writing a counter", rc) : NULL;
}

const char *mt_store_counter_next(mt_txn_t *t, const char *name, unsigned long long *value)
{
    return counter(t, name, value, 1, 1);
}

const char *mt_store_counter_get(mt_txn_t *t, const char *name, unsigned long long *value)
{
    return counter(t, name, value, 0, 0);
}

const char *mt_store_counter_add(mt_txn_t *t, const char *name, apr_int64_t delta)
{
    unsigned long long v;
    if (t->store->mode != MT_STORE_WRITER)
        return apr_psprintf(t->pool, "index %s is open read-only", t->store->dir);
    return counter(t, name, &v, 1, delta);
}

/* ------------------------------------------------------------------ facts */

const char *mt_fact_name(int fact)
{
    static const char *const names[MT_FACT_LAST_] = {
        "none", "receive", "submit", "resolve", "expand", "redirect", "relay",
        "relay-external", "deliver", "filed", "defer", "fail", "fail-rules",
        "mod-pending", "mod-approved", "mod-rejected", "read", "notread"
    };
    return fact >= 0 && fact < MT_FACT_LAST_ ? names[fact] : "unknown";
}

/* ------------------------------------------------------------------ record encoding
 *
 * Records are a layout version byte, then fields in a fixed order:
 *   unsigned integers  LEB128 varint (7 bits a byte, low first, at most 10 bytes)
 *   signed integers    zig-zag, then varint
 *   strings            varint(length + 1), then the bytes; 0 is NULL
 *   arrays             varint(count), then the elements
 *
 * hop (messages):
 *   version(1)=1 kind flags first(signed) last-first(signed, mod 2^64)
 *   host local_id message_id ref_message_id sender
 *   ndr_of subject client auth_user notify_kind size(signed) nrcpt(signed)
 *   nevents rcpts[addr orig flags] hdr_rcpts[string]
 * The fields the secondary indexes need come first, so that the associate
 * callbacks stop decoding early (DEC_HEAD, DEC_KEYS).
 *
 * events: one record per hop per transaction that wrote events of it, a
 * chunk of consecutive seqs; key hop(8) first-seq(4), so that a hop's
 * chunks follow each other in seq order:
 *   version(1)=1 count, then count times: length event
 * event: fact time(signed) recipient root relay next_id dsn text folder
 *   session
 */

#define REC_VERSION 1
#define TIME_BIAS 0x8000000000000000ULL
/* version, kind, flags, first, last: what DEC_HEAD reads, at most this long */
#define HEAD_MAX (1 + 4 * 10)
#define VARINT_MAX 10

static apr_int64_t u2s(apr_uint64_t u)
{
    return u <= (apr_uint64_t)INT64_MAX ? (apr_int64_t)u : -(apr_int64_t)(~u) - 1;
}

static apr_uint64_t zz_enc(apr_int64_t v)
{
    apr_uint64_t u = (apr_uint64_t)v;
    return (u << 1) ^ (0 - (u >> 63));
}

static apr_uint64_t zz_dec(apr_uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

static unsigned char *w_uv(unsigned char *b, apr_uint64_t v)
{
    while (v >= 0x80) {
        *b++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *b++ = (unsigned char)v;
    return b;
}

static unsigned char *w_sv(unsigned char *b, apr_int64_t v)
{
    return w_uv(b, zz_enc(v));
}

static unsigned char *w_str(unsigned char *b, const char *s, apr_size_t n)
{
    if (!s) {
        *b++ = 0;
        return b;
    }
    b = w_uv(b, (apr_uint64_t)n + 1);
    memcpy(b, s, n);
    return b + n;
}

/* A hop's peers, last in its record: their count, then their keys. */
static unsigned char *w_peers(unsigned char *b, const apr_uint64_t *peers, int n)
{
    int i;
    b = w_uv(b, (apr_uint64_t)n);
    for (i = 0; i < n; i++)
        b = w_uv(b, peers[i]);
    return b;
}

static apr_size_t slen(const char *s)
{
    return s ? strlen(s) : 0;
}

/* A bounds-checked reader: once bad, it stays bad and reads nothing. */
typedef struct {
    const unsigned char *p, *end;
    int bad;
} rd_t;

/* A string in a record: p NULL for NULL. Not NUL-terminated. */
typedef struct {
    const char *p;
    apr_size_t n;
} str_t;

static void rd_init(rd_t *r, const void *data, apr_size_t size)
{
    r->p = data;
    r->end = r->p + size;
    r->bad = 0;
}

static apr_uint64_t rd_uv_long(rd_t *r)
{
    apr_uint64_t v = 0;
    unsigned shift = 0;
    while (!r->bad) {
        unsigned char c;
        if (r->p >= r->end || (shift == 63 && *r->p > 1)) {
            r->bad = 1;
            break;
        }
        c = *r->p++;
        v |= (apr_uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
        shift += 7;
    }
    return 0;
}

/* Most numbers in a record (lengths, counts, flags) take one byte: those
 * inline, the rest in rd_uv_long(). */
static inline apr_uint64_t rd_uv(rd_t *r)
{
    if (!r->bad && r->p < r->end && *r->p < 0x80)
        return *r->p++;
    return rd_uv_long(r);
}

static inline unsigned rd_u32(rd_t *r)
{
    apr_uint64_t v = rd_uv(r);
    if (v > UINT_MAX) {
        r->bad = 1;
        return 0;
    }
    return (unsigned)v;
}

static int rd_int(rd_t *r)
{
    apr_int64_t v = u2s(zz_dec(rd_uv(r)));
    if (v < INT_MIN || v > INT_MAX) {
        r->bad = 1;
        return 0;
    }
    return (int)v;
}

static inline str_t rd_str(rd_t *r)
{
    str_t s = { NULL, 0 };
    apr_uint64_t n = rd_uv(r);
    if (r->bad || n == 0)
        return s;
    if (n - 1 > (apr_uint64_t)(r->end - r->p)) {
        r->bad = 1;
        return s;
    }
    s.p = (const char *)r->p;
    s.n = (apr_size_t)(n - 1);
    r->p += s.n;
    return s;
}

/* Copy @a s NUL-terminated to *@a w (a block at least as big as the record
 * it comes from: a string takes at least its length + 1 there). */
static const char *cstr(char **w, str_t s)
{
    char *r;
    if (!s.p)
        return NULL;
    r = *w;
    memcpy(r, s.p, s.n);
    r[s.n] = '\0';
    *w += s.n + 1;
    return r;
}

/* A decoded hop, pointing into the record. */
typedef struct {
    int kind;
    unsigned flags;
    apr_time_t first, last;
    str_t host, local_id, message_id, ref_message_id, sender;
    apr_uint64_t ndr_of;
    str_t subject, client, auth_user, notify_kind;
    apr_int64_t size;
    int nrcpt;
    unsigned nevents;
    unsigned nrcpts, nhdr;
    rd_t rcpts, hdr;        /* the arrays, checked: read them with rd_rcpt, rd_str */
    int npeers;             /* with MT_MSG_PEERS */
    apr_uint64_t peers[MT_MSG_PEERS_MAX];
} msg_view_t;

enum { DEC_HEAD, DEC_KEYS, DEC_ALL };

static inline void rd_rcpt(rd_t *r, str_t *addr, str_t *orig, unsigned *flags)
{
    *addr = rd_str(r);
    *orig = rd_str(r);
    *flags = rd_u32(r);
}

/* Decode a hop up to @a level: 0, or -1 when the record is damaged. */
static int msg_decode(msg_view_t *v, const void *data, apr_size_t size, int level)
{
    rd_t r;
    unsigned i;
    str_t a, o;
    unsigned f;

    rd_init(&r, data, size);
    if (size < 1 || *r.p++ != REC_VERSION)
        return -1;
    v->kind = (int)rd_u32(&r);
    v->flags = rd_u32(&r);
    v->first = u2s(zz_dec(rd_uv(&r)));
    v->last = u2s((apr_uint64_t)v->first + zz_dec(rd_uv(&r)));
    if (r.bad || v->kind < MT_HOP_POSTFIX || v->kind > MT_HOP_MAILBOX)
        return -1;
    if (level == DEC_HEAD)
        return 0;
    v->host = rd_str(&r);
    v->local_id = rd_str(&r);
    v->message_id = rd_str(&r);
    v->ref_message_id = rd_str(&r);
    v->sender = rd_str(&r);
    if (level == DEC_KEYS)
        return r.bad ? -1 : 0;
    v->ndr_of = rd_uv(&r);
    v->subject = rd_str(&r);
    v->client = rd_str(&r);
    v->auth_user = rd_str(&r);
    v->notify_kind = rd_str(&r);
    v->size = u2s(zz_dec(rd_uv(&r)));
    v->nrcpt = rd_int(&r);
    v->nevents = rd_u32(&r);
    /* A recipient takes at least 3 bytes, a header address 1: a damaged
     * count cannot make the caller allocate much. */
    v->nrcpts = rd_u32(&r);
    if (r.bad || v->nrcpts > (apr_size_t)(r.end - r.p) / 3)
        return -1;
    v->rcpts = r;
    for (i = 0; i < v->nrcpts && !r.bad; i++)
        rd_rcpt(&r, &a, &o, &f);
    v->rcpts.end = r.p;
    v->nhdr = rd_u32(&r);
    if (r.bad || v->nhdr > (apr_size_t)(r.end - r.p))
        return -1;
    v->hdr = r;
    for (i = 0; i < v->nhdr && !r.bad; i++)
        rd_str(&r);
    v->hdr.end = r.p;
    v->npeers = 0;
    if (v->flags & MT_MSG_PEERS) {
        unsigned n = rd_u32(&r);
        if (n > MT_MSG_PEERS_MAX)
            return -1;
        for (i = 0; i < n; i++)
            v->peers[i] = rd_uv(&r);
        v->npeers = (int)n;
    }
    return r.bad || r.p != r.end ? -1 : 0;
}

/* Make sure *@a buf (of *@a cap bytes) holds @a need bytes: a new one, in
 * the transaction's pool, twice as large as needed, when it does not; what
 * it held is not kept. */
static unsigned char *room(mt_txn_t *t, unsigned char **buf, apr_size_t *cap, apr_size_t need)
{
    if (*cap < need) {
        apr_size_t c = *cap ? *cap : 512;
        while (c < need)
            c *= 2;
        *buf = apr_palloc(t->pool, c);
        *cap = c;
    }
    return *buf;
}

/* Make sure the transaction's buffer holds @a need bytes. */
static unsigned char *txn_buf(mt_txn_t *t, apr_size_t need)
{
    return room(t, &t->buf, &t->cap, need);
}

#define MSG_NSTR 9

/* Encode @a m into the transaction's buffer; returns its length. */
static apr_size_t msg_encode(mt_txn_t *t, const mt_msg_t *m, const unsigned char **out)
{
    const char *s[MSG_NSTR];
    apr_size_t n[MSG_NSTR], need = 1 + (13 + MT_MSG_PEERS_MAX) * VARINT_MAX;
    const apr_array_header_t *rc = m->rcpts, *hd = m->hdr_rcpts;
    int nr = rc ? rc->nelts : 0, nh = hd ? hd->nelts : 0, i;
    unsigned char *b, *w;

    s[0] = m->host; s[1] = m->local_id; s[2] = m->message_id; s[3] = m->ref_message_id;
    s[4] = m->sender; s[5] = m->subject; s[6] = m->client; s[7] = m->auth_user;
    s[8] = m->notify_kind;
    for (i = 0; i < MSG_NSTR; i++) {
        n[i] = slen(s[i]);
        need += n[i] + VARINT_MAX;
    }
    for (i = 0; i < nr; i++) {
        const mt_rcpt_t *r = &APR_ARRAY_IDX(rc, i, mt_rcpt_t);
        need += slen(r->addr) + slen(r->orig) + 3 * VARINT_MAX;
    }
    for (i = 0; i < nh; i++)
        need += slen(APR_ARRAY_IDX(hd, i, const char *)) + VARINT_MAX;

    w = b = txn_buf(t, need);
    *w++ = REC_VERSION;
    w = w_uv(w, (unsigned)m->kind);
    w = w_uv(w, m->flags);
    w = w_sv(w, m->first);
    w = w_sv(w, u2s((apr_uint64_t)m->last - (apr_uint64_t)m->first));
    for (i = 0; i < 5; i++)
        w = w_str(w, s[i], n[i]);
    w = w_uv(w, m->ndr_of);
    for (i = 5; i < MSG_NSTR; i++)
        w = w_str(w, s[i], n[i]);
    w = w_sv(w, m->size);
    w = w_sv(w, m->nrcpt);
    w = w_uv(w, m->nevents);
    w = w_uv(w, (apr_uint64_t)nr);
    for (i = 0; i < nr; i++) {
        const mt_rcpt_t *r = &APR_ARRAY_IDX(rc, i, mt_rcpt_t);
        w = w_str(w, r->addr, slen(r->addr));
        w = w_str(w, r->orig, slen(r->orig));
        w = w_uv(w, r->flags);
    }
    w = w_uv(w, (apr_uint64_t)nh);
    for (i = 0; i < nh; i++) {
        const char *h = APR_ARRAY_IDX(hd, i, const char *);
        w = w_str(w, h, slen(h));
    }
    if (m->flags & MT_MSG_PEERS) {
        int np = m->npeers < 0 ? 0 : m->npeers > MT_MSG_PEERS_MAX ? MT_MSG_PEERS_MAX : m->npeers;
        w = w_peers(w, m->peers, np);
    }
    *out = b;
    return (apr_size_t)(w - b);
}

/* An array of @a n elements of @a size bytes at @a elts (room for at least
 * one), as apr_array_make() would have made it: pushes grow it in @a p. */
static apr_array_header_t *array_at(apr_pool_t *p, apr_array_header_t *a, void *elts,
                                    int n, int size)
{
    a->pool = p;
    a->elt_size = size;
    a->nelts = n;
    a->nalloc = n ? n : 1;
    a->elts = elts;
    return a;
}

/* Fill @a m from a decoded (DEC_ALL) hop, strings and arrays in @a p: one
 * allocation holds the two arrays, their elements and the strings. */
static void msg_fill(apr_pool_t *p, const msg_view_t *v, apr_size_t size, apr_uint64_t key,
                     mt_msg_t *m)
{
    apr_size_t nr = v->nrcpts ? v->nrcpts : 1, nh = v->nhdr ? v->nhdr : 1;
    apr_size_t heads = APR_ALIGN_DEFAULT(2 * sizeof(apr_array_header_t));
    apr_size_t relts = APR_ALIGN_DEFAULT(nr * sizeof(mt_rcpt_t));
    apr_size_t helts = APR_ALIGN_DEFAULT(nh * sizeof(const char *));
    char *block = apr_palloc(p, heads + relts + helts + size + 1);
    apr_array_header_t *ah = (apr_array_header_t *)block;
    mt_rcpt_t *rc = (mt_rcpt_t *)(block + heads);
    const char **hd = (const char **)(block + heads + relts);
    char *w = block + heads + relts + helts;
    rd_t r;
    unsigned i;

    m->key = key;
    m->kind = v->kind;
    m->first = v->first;
    m->last = v->last;
    m->host = cstr(&w, v->host);
    m->local_id = cstr(&w, v->local_id);
    m->message_id = cstr(&w, v->message_id);
    m->ref_message_id = cstr(&w, v->ref_message_id);
    m->ndr_of = v->ndr_of;
    m->sender = cstr(&w, v->sender);
    m->subject = cstr(&w, v->subject);
    m->client = cstr(&w, v->client);
    m->auth_user = cstr(&w, v->auth_user);
    m->notify_kind = cstr(&w, v->notify_kind);
    m->size = v->size;
    m->nrcpt = v->nrcpt;
    m->flags = v->flags;
    m->nevents = v->nevents;
    m->npeers = v->npeers;
    memcpy(m->peers, v->peers, sizeof(m->peers));
    if (!v->nrcpts)
        memset(rc, 0, sizeof(*rc));
    if (!v->nhdr)
        hd[0] = NULL;
    r = v->rcpts;
    for (i = 0; i < v->nrcpts; i++) {
        str_t a, o;
        rd_rcpt(&r, &a, &o, &rc[i].flags);
        rc[i].addr = cstr(&w, a);
        rc[i].orig = cstr(&w, o);
    }
    r = v->hdr;
    for (i = 0; i < v->nhdr; i++)
        hd[i] = cstr(&w, rd_str(&r));
    m->rcpts = array_at(p, &ah[0], rc, (int)v->nrcpts, (int)sizeof(mt_rcpt_t));
    m->hdr_rcpts = array_at(p, &ah[1], hd, (int)v->nhdr, (int)sizeof(const char *));
}

#define EV_NSTR 8
#define CHUNK_VERSION 1

/* Encode @a e (without msg and seq: the chunk's key says them) into the
 * transaction's buffer; returns its length. */
static apr_size_t event_encode(mt_txn_t *t, const mt_event_t *e, const unsigned char **out)
{
    const char *s[EV_NSTR];
    apr_size_t n[EV_NSTR], need = 2 * VARINT_MAX;
    unsigned char *b, *w;
    int i;

    s[0] = e->recipient; s[1] = e->root; s[2] = e->relay; s[3] = e->next_id;
    s[4] = e->dsn; s[5] = e->text; s[6] = e->folder; s[7] = e->session;
    for (i = 0; i < EV_NSTR; i++) {
        n[i] = slen(s[i]);
        need += n[i] + VARINT_MAX;
    }
    w = b = txn_buf(t, need);
    w = w_uv(w, (unsigned)e->fact);
    w = w_sv(w, e->time);
    for (i = 0; i < EV_NSTR; i++)
        w = w_str(w, s[i], n[i]);
    *out = b;
    return (apr_size_t)(w - b);
}

/* Decode event @a msg / @a seq from its bytes; with @a p NULL only check
 * them. 0, or -1 when damaged. */
static int event_decode(apr_pool_t *p, apr_uint64_t msg, unsigned seq, const rd_t *bytes,
                        mt_event_t *e)
{
    str_t s[EV_NSTR];
    apr_uint64_t fact;
    apr_time_t time;
    rd_t r = *bytes;
    char *w;
    int i;

    fact = rd_uv(&r);
    time = u2s(zz_dec(rd_uv(&r)));
    for (i = 0; i < EV_NSTR; i++)
        s[i] = rd_str(&r);
    if (r.bad || r.p != r.end || fact > INT_MAX)
        return -1;
    if (!p)
        return 0;
    w = apr_palloc(p, (apr_size_t)(bytes->end - bytes->p) + 1);
    e->msg = msg;
    e->seq = seq;
    e->time = time;
    e->fact = (int)fact;
    e->recipient = cstr(&w, s[0]);
    e->root = cstr(&w, s[1]);
    e->relay = cstr(&w, s[2]);
    e->next_id = cstr(&w, s[3]);
    e->dsn = cstr(&w, s[4]);
    e->text = cstr(&w, s[5]);
    e->folder = cstr(&w, s[6]);
    e->session = cstr(&w, s[7]);
    return 0;
}

static void event_key(unsigned char *k, apr_uint64_t msg, unsigned seq)
{
    put_u64(k, msg);
    k[8] = (unsigned char)(seq >> 24);
    k[9] = (unsigned char)(seq >> 16);
    k[10] = (unsigned char)(seq >> 8);
    k[11] = (unsigned char)seq;
}

static unsigned get_u32(const unsigned char *b)
{
    return ((unsigned)b[0] << 24) | ((unsigned)b[1] << 16) | ((unsigned)b[2] << 8) | b[3];
}

/* A chunk of events read from the database. */
typedef struct {
    apr_uint64_t msg;
    unsigned first, count;
    rd_t rest;              /* the events, read them with chunk_next */
} chunk_view_t;

/* Decode the head of a chunk (key, version and count; @a data may be just
 * the first bytes of the record): 0, or -1 when damaged. */
static int chunk_head(chunk_view_t *cv, const void *key, apr_size_t klen, const void *data,
                      apr_size_t size)
{
    rd_init(&cv->rest, data, size);
    if (klen != 12 || size < 1 || *cv->rest.p++ != CHUNK_VERSION)
        return -1;
    cv->msg = get_u64(key);
    cv->first = get_u32((const unsigned char *)key + 8);
    cv->count = rd_u32(&cv->rest);
    if (cv->rest.bad || cv->count == 0
        || (apr_uint64_t)cv->first + cv->count > (apr_uint64_t)UINT_MAX + 1)
        return -1;
    return 0;
}

/* The next event of a chunk into @a ev: 0, or -1 when its length goes
 * past the record's end (or none is left). */
static int chunk_next(chunk_view_t *cv, rd_t *ev)
{
    apr_uint64_t n = rd_uv(&cv->rest);
    if (cv->rest.bad || n > (apr_uint64_t)(cv->rest.end - cv->rest.p)) {
        cv->rest.bad = 1;
        return -1;
    }
    rd_init(ev, cv->rest.p, (apr_size_t)n);
    cv->rest.p += n;
    return 0;
}

/* Does a whole chunk hold exactly its count of events, each of them
 * decoding? 0, or -1 with the seq of the first bad or missing one (or the
 * first seq, when bytes follow the last) in @a *bad. Nothing is allocated:
 * a damaged count ends the walk where the bytes end. */
static int chunk_check(const chunk_view_t *cv, unsigned *bad)
{
    chunk_view_t c = *cv;
    unsigned i;
    rd_t ev;

    for (i = 0; i < cv->count; i++) {
        *bad = cv->first + i;
        if (chunk_next(&c, &ev) != 0 || event_decode(NULL, 0, 0, &ev, NULL) != 0)
            return -1;
    }
    *bad = cv->first;
    return c.rest.p == c.rest.end ? 0 : -1;
}

/* ------------------------------------------------------------------ secondary keys */

static void put_time(unsigned char *b, apr_time_t t)
{
    put_u64(b, (apr_uint64_t)t ^ TIME_BIAS);
}

static apr_time_t get_time(const unsigned char *b)
{
    return u2s(get_u64(b) ^ TIME_BIAS);
}

static unsigned char *w_lower(unsigned char *b, const char *s, apr_size_t n)
{
    return (unsigned char *)mt_ascii_lower_to((char *)b, s, n);
}

unsigned long long mt_store_value_hash(const char *s, apr_size_t n, int lower)
{
    /* FNV-1a, then MurmurHash3's finaliser so that every bit of the value
     * moves every bit of the hash. */
    apr_uint64_t h = 0xcbf29ce484222325ULL;
    apr_size_t i;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        h = (h ^ (apr_uint64_t)(lower ? mt_ascii_lc(c) : c)) * 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* The value part of a by_sender, by_recipient or by_msgid key: [tag]
 * hash(8) of the value, lower-cased when asked (mt_store_value_hash).
 * Returns its length; writes it when @a b is not NULL. */
static apr_size_t val_prefix(unsigned char *b, int tag, const char *s, apr_size_t n, int lower)
{
    if (b) {
        if (tag)
            *b++ = (unsigned char)tag;
        put_u64(b, mt_store_value_hash(s, n, lower));
    }
    return (tag ? 1 : 0) + 8;
}

/* The value part of a by_hop key: kind lower(host) NUL local-id NUL, and
 * message-id NUL for a mailbox hop. NULL strings count as "". */
static apr_size_t hop_prefix(unsigned char *b, int kind, str_t host, str_t local, str_t msgid)
{
    int mbox = kind == MT_HOP_MAILBOX;
    if (b) {
        *b++ = (unsigned char)kind;
        b = w_lower(b, host.p, host.n);
        *b++ = '\0';
        if (local.n)
            memcpy(b, local.p, local.n), b += local.n;
        *b++ = '\0';
        if (mbox) {
            if (msgid.n)
                memcpy(b, msgid.p, msgid.n), b += msgid.n;
            *b = '\0';
        }
    }
    return 1 + host.n + 1 + local.n + 1 + (mbox ? msgid.n + 1 : 0);
}

/* The length of a by_msgid key for a Message-ID: 'm' hash(8) first(8) key(8). */
#define MSGID_KEY_LEN 25
#define MSGID_PREFIX_LEN 9

/* Is @a key (@a size bytes) of index @a ix a hop's entry for its
 * Message-ID (not one for the Message-ID a notification reports on)? Its
 * data is the hop's kind. */
static int msgid_entry(int ix, const unsigned char *key, apr_size_t size)
{
    return ix == SX_MSGID && size == MSGID_KEY_LEN && key[0] == 'm';
}

/* first(8) key(8), which ends every secondary key. */
static void key_suffix(unsigned char *b, apr_time_t first, const unsigned char *pk)
{
    put_time(b, first);
    memcpy(b + 8, pk, 8);
}

/* Several keys in one allocation: DBTs, then their bytes. Counting pass when
 * dbt is NULL. */
typedef struct {
    unsigned n;
    apr_size_t bytes;
    DBT *dbt;
    unsigned char *w;
    apr_time_t first;
    const unsigned char *pk;
} keyset_t;

static void ks_add(keyset_t *ks, int tag, str_t s, int lower)
{
    apr_size_t len;
    DBT *d;
    if (!s.p)
        return;
    len = val_prefix(NULL, tag, s.p, s.n, lower) + 16;
    if (!ks->dbt) {
        ks->n++;
        ks->bytes += len;
        return;
    }
    d = &ks->dbt[ks->n++];
    memset(d, 0, sizeof(*d));
    d->data = ks->w;
    d->size = (u_int32_t)len;
    val_prefix(ks->w, tag, s.p, s.n, lower);
    key_suffix(ks->w + len - 16, ks->first, ks->pk);
    ks->w += len;
}

static void ks_components(int ix, const msg_view_t *v, keyset_t *ks)
{
    if (ix == SX_MSGID) {
        ks_add(ks, 'm', v->message_id, 0);
        ks_add(ks, 'r', v->ref_message_id, 0);
    }
    else {
        rd_t r = v->rcpts;
        unsigned i, f;
        str_t a, o;
        for (i = 0; i < v->nrcpts; i++) {
            rd_rcpt(&r, &a, &o, &f);
            ks_add(ks, 0, a, 1);
            ks_add(ks, 0, o, 1);
        }
    }
}

static int dbt_eq(const DBT *x, const void *data, u_int32_t size)
{
    return x->size == size && memcmp(x->data, data, size) == 0;
}

/* The keys of index @a ix for hop @a pk (@a v decoded with DEC_ALL): one
 * malloc'd key, or DB_DBT_MULTIPLE (one allocation) in ascending order
 * without duplicates; DB_DONOTINDEX when none; ENOMEM. */
static int hop_keys(int ix, const unsigned char *pk, const msg_view_t *v, DBT *res)
{
    keyset_t ks;
    apr_size_t len;
    unsigned char *b;
    unsigned i, n;

    memset(res, 0, sizeof(*res));
    switch (ix) {
    case SX_TIME:
        len = 16;
        break;
    case SX_SENDER:
        if (v->kind == MT_HOP_MAILBOX || !v->sender.p)
            return DB_DONOTINDEX;
        len = val_prefix(NULL, 0, v->sender.p, v->sender.n, 1) + 16;
        break;
    case SX_HOP:
        len = hop_prefix(NULL, v->kind, v->host, v->local_id, v->message_id) + 16;
        break;
    case SX_RECIPIENT:
        if (v->kind == MT_HOP_MAILBOX)
            return DB_DONOTINDEX;
        /* fall through */
    default:
        memset(&ks, 0, sizeof(ks));
        ks_components(ix, v, &ks);
        if (ks.n == 0)
            return DB_DONOTINDEX;
        if ((b = malloc(ks.n * sizeof(DBT) + ks.bytes)) == NULL)
            return ENOMEM;
        ks.dbt = (DBT *)(void *)b;
        ks.w = b + ks.n * sizeof(DBT);
        ks.n = 0;
        ks.first = v->first;
        ks.pk = pk;
        ks_components(ix, v, &ks);
        if (ks.n > 1)
            qsort(ks.dbt, ks.n, sizeof(DBT), dbt_cmp);
        for (i = n = 1; i < ks.n; i++)
            if (dbt_cmp(&ks.dbt[i], &ks.dbt[n - 1]) != 0)
                ks.dbt[n++] = ks.dbt[i];
        res->data = b;
        res->size = n;
        res->flags = DB_DBT_MULTIPLE | DB_DBT_APPMALLOC;
        return 0;
    }
    if ((b = malloc(len)) == NULL)
        return ENOMEM;
    if (ix == SX_SENDER)
        val_prefix(b, 0, v->sender.p, v->sender.n, 1);
    else if (ix == SX_HOP)
        hop_prefix(b, v->kind, v->host, v->local_id, v->message_id);
    key_suffix(b + len - 16, v->first, pk);
    res->data = b;
    res->size = (u_int32_t)len;
    res->flags = DB_DBT_APPMALLOC;
    return 0;
}

static void keys_free(DBT *res)
{
    free(res->data);
    memset(res, 0, sizeof(*res));
}

static int keys_count(const DBT *res)
{
    return res->flags & DB_DBT_MULTIPLE ? (int)res->size : res->data ? 1 : 0;
}

static const DBT *keys_at(const DBT *res, int i)
{
    return res->flags & DB_DBT_MULTIPLE ? &((const DBT *)res->data)[i] : res;
}

/* The writer's pages go first when the cache is full, those of every
 * database alike (a page's own priority then decides nothing: the least
 * recently used goes). Index keys land anywhere in their B-tree, so once an
 * index outgrows the cache most of the pages a batch changes are not
 * changed again soon. At the default priority, libdb 5.3's allocator then
 * keeps their superseded MVCC versions and ends up freezing them to
 * __db.freezer.* files instead of dropping them: a million Postfix lines
 * took 100 s instead of 14 s. With only the indexes so, the pages of
 * messages and events, written once in key order, stayed and the indexes'
 * went: a million lines flushed the log 1966 times to write a page out
 * before its transaction ended, 799 times with every database so, and took
 * 9% less CPU. */
static const char *cache_last(mt_store_t *st, DB *db, const char *name)
{
    int rc;
    if (st->mode != MT_STORE_WRITER)
        return NULL;
    rc = db->get_mpf(db)->set_priority(db->get_mpf(db), DB_PRIORITY_VERY_LOW);
    return rc ? db_err(st, apr_psprintf(st->pool, "setting the cache priority of %s", name),
                       rc) : NULL;
}

static const char *open_hops(mt_store_t *st)
{
    const char *err;
    int i;

    if ((err = open_db(st, &st->messages, "messages")) != NULL
        || (err = cache_last(st, st->messages, "messages")) != NULL
        || (err = open_db(st, &st->events, "events")) != NULL
        || (err = cache_last(st, st->events, "events")) != NULL)
        return err;
    for (i = 0; i < SX_N; i++)
        if ((err = open_db(st, &st->ix[i], sx_name[i])) != NULL
            || (err = cache_last(st, st->ix[i], sx_name[i])) != NULL)
            return err;
    return NULL;
}

/* A secondary index change waiting for sx_apply(): a put, or a delete. */
typedef struct {
    apr_uint64_t head;          /* the key's first 8 bytes, big-endian, zero-padded */
    unsigned char ix, del;
    u_int32_t seq;              /* order of queueing: the last change of a key wins */
    u_int32_t ksize, dsize;
    unsigned char *key, *data;
} sx_op_t;

static void sx_queue(mt_txn_t *t, int ix, int del, const DBT *k, const DBT *d)
{
    sx_op_t *op;

    if (!t->sx_ops)
        t->sx_ops = apr_array_make(t->pool, 1024, sizeof(sx_op_t));
    op = apr_array_push(t->sx_ops);
    op->ix = (unsigned char)ix;
    op->del = (unsigned char)del;
    op->seq = (u_int32_t)t->sx_ops->nelts;
    op->ksize = k->size;
    op->key = apr_pmemdup(t->pool, k->data, k->size);
    if (k->size >= 8) {
        op->head = get_u64(op->key);
    }
    else {
        unsigned char b[8] = { 0 };
        memcpy(b, op->key, k->size);
        op->head = get_u64(b);
    }
    op->dsize = d ? d->size : 0;
    op->data = d && d->size ? apr_pmemdup(t->pool, d->data, d->size) : NULL;
}

static int sx_op_cmp(const void *a, const void *b)
{
    const sx_op_t *x = a, *y = b;
    u_int32_t n = x->ksize < y->ksize ? x->ksize : y->ksize;
    int c;

    if (x->ix != y->ix)
        return x->ix < y->ix ? -1 : 1;
    /* Keys that differ in their first 8 bytes sort as those do. */
    if (x->head != y->head)
        return x->head < y->head ? -1 : 1;
    if ((c = memcmp(x->key, y->key, n)) != 0)
        return c;
    if (x->ksize != y->ksize)
        return x->ksize < y->ksize ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Bring index @a ix from the keys of @a oldv to those of @a newv (either may
 * be NULL: no record): delete the keys that went, add the ones that came,
 * leave the others alone (queued: sx_apply() makes the changes). 0 or a
 * Berkeley DB error. */
static int sx_update(mt_txn_t *t, int ix, const unsigned char *pk, const msg_view_t *oldv,
                     const msg_view_t *newv)
{
    DBT ok, nk, k, dv, kv;
    int rc = 0, i = 0, j = 0, no, nn;
    unsigned char kind = 0;

    memset(&ok, 0, sizeof(ok));
    memset(&nk, 0, sizeof(nk));
    if (oldv && (rc = hop_keys(ix, pk, oldv, &ok)) == DB_DONOTINDEX)
        rc = 0;
    if (rc == 0 && newv && (rc = hop_keys(ix, pk, newv, &nk)) == DB_DONOTINDEX)
        rc = 0;
    /* The key ends with the hop's key: the data is empty, but for a
     * Message-ID entry's, the hop's kind (peers_put()). */
    memset(&dv, 0, sizeof(dv));
    dv.data = (void *)"";
    if (newv)
        kind = (unsigned char)newv->kind;
    kv = dv;
    kv.data = &kind;
    kv.size = 1;
    no = keys_count(&ok);
    nn = keys_count(&nk);
    while (rc == 0 && (i < no || j < nn)) {
        int c = i >= no ? 1 : j >= nn ? -1 : dbt_cmp(keys_at(&ok, i), keys_at(&nk, j));
        memset(&k, 0, sizeof(k));
        if (c < 0) {
            k.data = keys_at(&ok, i)->data;
            k.size = keys_at(&ok, i++)->size;
            sx_queue(t, ix, 1, &k, NULL);
        }
        else if (c > 0) {
            k.data = keys_at(&nk, j)->data;
            k.size = keys_at(&nk, j++)->size;
            sx_queue(t, ix, 0, &k, msgid_entry(ix, k.data, k.size) ? &kv : &dv);
        }
        else {
            i++;
            j++;
        }
    }
    keys_free(&ok);
    keys_free(&nk);
    return rc;
}

/* Keep every index in step with hop @a pk going from @a oldv to @a newv. */
static const char *sx_update_all(mt_txn_t *t, const unsigned char *pk, const msg_view_t *oldv,
                                 const msg_view_t *newv)
{
    int i, rc;
    for (i = 0; i < SX_N; i++)
        if ((rc = sx_update(t, i, pk, oldv, newv)) != 0)
            return db_err_p(t->pool, t->store, apr_psprintf(t->pool, "updating %s for hop %"
                            APR_UINT64_T_FMT, sx_name[i], (apr_uint64_t)get_u64(pk)), rc);
    return NULL;
}

/* ------------------------------------------------------------------ cursors */

/* A cursor whose key and data libdb (re)allocates, or, with CUR_KEYS, whose
 * data is not read at all, or with CUR_HEAD only the first HEAD_MAX bytes. */
enum { CUR_ALL, CUR_KEYS, CUR_HEAD };

typedef struct cur_t {
    DBC *c;
    DBT k, d;
    unsigned char head[HEAD_MAX];
} cur_t;

static int cur_open_flags(mt_txn_t *t, DB *db, cur_t *c, int what, u_int32_t flags);
static int cur_open(mt_txn_t *t, DB *db, cur_t *c, int what)
{
    return cur_open_flags(t, db, c, what, 0);
}

static int cur_open_flags(mt_txn_t *t, DB *db, cur_t *c, int what, u_int32_t flags)
{
    memset(&c->k, 0, sizeof(c->k));
    memset(&c->d, 0, sizeof(c->d));
    c->k.flags = DB_DBT_REALLOC;
    if (what == CUR_KEYS) {
        c->d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
    }
    else if (what == CUR_HEAD) {
        c->d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
        c->d.data = c->head;
        c->d.ulen = c->d.dlen = HEAD_MAX;
    }
    else {
        c->d.flags = DB_DBT_REALLOC;
    }
    c->c = NULL;
    return db->cursor(db, t->txn, &c->c, flags);
}

/* Position at the first key >= @a key. */
static int cur_seek(cur_t *c, const void *key, apr_size_t n)
{
    void *k = realloc(c->k.data, n ? n : 1);
    if (!k)
        return ENOMEM;
    memcpy(k, key, n);
    c->k.data = k;
    c->k.size = (u_int32_t)n;
    return c->c->get(c->c, &c->k, &c->d, DB_SET_RANGE);
}

static int cur_get(cur_t *c, u_int32_t flags)
{
    return c->c->get(c->c, &c->k, &c->d, flags);
}

static void cur_close(cur_t *c)
{
    if (c->c)
        c->c->close(c->c);
    c->c = NULL;
    free(c->k.data);
    if (c->d.flags & DB_DBT_REALLOC)
        free(c->d.data);
    c->k.data = c->d.data = NULL;
}

/* Does the cursor's key start with @a prefix and hold exactly first and key after it? */
static int has_prefix(const cur_t *c, const unsigned char *prefix, apr_size_t plen)
{
    return c->k.size == plen + 16 && memcmp(c->k.data, prefix, plen) == 0;
}

/* ------------------------------------------------------------------ hops */

static const char *read_only(mt_txn_t *t)
{
    return t->store->mode == MT_STORE_WRITER ? NULL
        : apr_psprintf(t->pool, "index %s is open read-only", t->store->dir);
}

static const char *damaged_hop(apr_pool_t *p, mt_store_t *st, apr_uint64_t key)
{
    return apr_psprintf(p, "index %s: hop %" APR_UINT64_T_FMT " is damaged (run verify)",
                        st->dir, key);
}

const char *mt_store_msg_new(mt_txn_t *t, mt_msg_t *m)
{
    const char *err = read_only(t);
    if (!err && !t->keys_taken) {
        /* Read with a write lock: no other writer hands out the same keys. */
        DBT key, val;
        unsigned char buf[8];
        char k[] = "counter:message";
        int rc;
        get_key(&key, k, sizeof(k) - 1);
        memset(&val, 0, sizeof(val));
        val.data = buf;
        val.ulen = sizeof(buf);
        val.flags = DB_DBT_USERMEM;
        rc = t->store->meta->get(t->store->meta, t->txn, &key, &val, DB_RMW);
        if (rc != 0 && rc != DB_NOTFOUND)
            return db_err_p(t->pool, t->store, "reading a counter", rc);
        t->key_base = t->key_next = rc == 0 && val.size == 8 ? get_u64(buf) : 0;
        t->keys_taken = 1;
    }
    if (!err)
        m->key = ++t->key_next;
    return err;
}

/* Read hop @a k's whole record into *@a buf (of *@a cap bytes, grown in
 * the transaction's pool as needed): 0, DB_NOTFOUND, or an error. */
static int get_rec_into(mt_txn_t *t, const unsigned char *k, DBT *val, unsigned char **buf,
                        apr_size_t *cap)
{
    DB *db = t->store->messages;
    unsigned char kb[8];
    DBT key;
    int rc;

    memcpy(kb, k, sizeof(kb));
    get_key(&key, kb, sizeof(kb));
    memset(val, 0, sizeof(*val));
    val->flags = DB_DBT_USERMEM;
    val->data = room(t, buf, cap, 512);
    val->ulen = (u_int32_t)*cap;
    rc = db->get(db, t->txn, &key, val, 0);
    if (rc == DB_BUFFER_SMALL) {
        val->data = room(t, buf, cap, val->size);
        val->ulen = (u_int32_t)*cap;
        rc = db->get(db, t->txn, &key, val, 0);
    }
    return rc;
}

/* Read hop @a k's whole record into the transaction's buffer. */
static int get_rec(mt_txn_t *t, const unsigned char *k, DBT *val)
{
    return get_rec_into(t, k, val, &t->buf, &t->cap);
}

/* Hop @a k's record as the transaction has it: the one waiting in t->pend
 * (then *@a pd), or the one written. 0, DB_NOTFOUND or an error. */
static int rec_read(mt_txn_t *t, const unsigned char *k, DBT *val, pend_t **pd)
{
    *pd = t->pend ? apr_hash_get(t->pend, k, 8) : NULL;
    if (!*pd)
        return get_rec(t, k, val);
    memset(val, 0, sizeof(*val));
    val->data = (*pd)->rec;
    val->size = (u_int32_t)(*pd)->len;
    return 0;
}

/* Hop record @a rec (@a v, decoded from it) with the peers @a peers (@a n
 * of them), or with @a n -1 without MT_MSG_PEERS, into @a out (room for
 * the record and 2 + MT_MSG_PEERS_MAX varints): its length. The flags come
 * first but for the version and the kind, the peers last. */
static apr_size_t rec_with_peers(const unsigned char *rec, apr_size_t len, const msg_view_t *v,
                                 const apr_uint64_t *peers, int n, unsigned char *out)
{
    unsigned char head[1 + 2 * VARINT_MAX], *w = head;
    apr_size_t mid, hl;
    rd_t r;

    rd_init(&r, rec, len);
    r.p++;
    rd_u32(&r);
    rd_u32(&r);
    mid = (apr_size_t)(v->hdr.end - r.p);
    *w++ = REC_VERSION;
    w = w_uv(w, (unsigned)v->kind);
    w = w_uv(w, n < 0 ? v->flags & ~(unsigned)MT_MSG_PEERS : v->flags | MT_MSG_PEERS);
    hl = (apr_size_t)(w - head);
    /* @a out may be @a rec: the middle moves first (memmove), then the
     * head, which may have grown, goes before it. */
    memmove(out + hl, r.p, mid);
    memcpy(out, head, hl);
    w = out + hl + mid;
    if (n >= 0)
        w = w_peers(w, peers, n);
    return (apr_size_t)(w - out);
}

/* Give hop @a key the peers @a peers (@a n of them), or with @a n -1 take
 * MT_MSG_PEERS from it: its record waiting in t->pend, or the one written.
 * 0 or an error. */
static int peers_set(mt_txn_t *t, apr_uint64_t key, const apr_uint64_t *peers, int n)
{
    unsigned char k[8];
    pend_t *pd;
    msg_view_t v;
    DBT kt, val;
    apr_size_t len, need;
    int rc;

    put_u64(k, key);
    if ((rc = rec_read(t, k, &val, &pd)) != 0)
        return rc == DB_NOTFOUND ? 0 : rc;
    if (msg_decode(&v, val.data, val.size, DEC_ALL) != 0)
        return 0;               /* damaged: verify says so */
    if (n < 0 ? !(v.flags & MT_MSG_PEERS)
        : (v.flags & MT_MSG_PEERS) && v.npeers == n
          && memcmp(v.peers, peers, (size_t)n * sizeof(*peers)) == 0)
        return 0;
    need = val.size + (2 + MT_MSG_PEERS_MAX) * VARINT_MAX;
    if (pd) {
        /* In place when it holds the new one (rec_with_peers() allows it). */
        const unsigned char *old = pd->rec;
        pd->len = rec_with_peers(old, pd->len, &v, peers, n,
                                 room(t, &pd->rec, &pd->cap, need));
        return 0;
    }
    len = rec_with_peers(val.data, val.size, &v, peers, n, room(t, &t->obuf, &t->ocap, need));
    memset(&kt, 0, sizeof(kt));
    memset(&val, 0, sizeof(val));
    kt.data = k;
    kt.size = 8;
    val.data = t->obuf;
    val.size = (u_int32_t)len;
    return t->store->messages->put(t->store->messages, t->txn, &kt, &val, 0);
}

/* Write the hop records waiting in t->pend, in key order: 0 or an error
 * (@a *failed the hop). */
static int pend_flush(mt_txn_t *t, apr_uint64_t *failed)
{
    apr_array_header_t *all;
    apr_hash_index_t *hi;
    DBC *c = NULL;
    int rc = 0, i;

    if (!t->pend || apr_hash_count(t->pend) == 0)
        return 0;
    all = apr_array_make(t->pool, (int)apr_hash_count(t->pend), sizeof(pend_t *));
    for (hi = apr_hash_first(NULL, t->pend); hi; hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(all, pend_t *) = apr_hash_this_val(hi);
    qsort(all->elts, (size_t)all->nelts, sizeof(pend_t *), pend_cmp);
    rc = t->store->messages->cursor(t->store->messages, t->txn, &c, DB_CURSOR_BULK);
    for (i = 0; i < all->nelts && rc == 0; i++) {
        pend_t *pd = APR_ARRAY_IDX(all, i, pend_t *);
        DBT k, d;
        memset(&k, 0, sizeof(k));
        memset(&d, 0, sizeof(d));
        k.data = pd->key;
        k.size = 8;
        d.data = pd->rec;
        d.size = (u_int32_t)pd->len;
        if ((rc = c->put(c, &k, &d, DB_KEYFIRST)) != 0)
            *failed = get_u64(pd->key);
    }
    if (c)
        c->close(c);
    apr_hash_clear(t->pend);
    return rc;
}

/* The hops of one Message-ID's by_msgid entries that are not mailbox ones,
 * as peers_put() walks them: their keys (those past MT_MSG_PEERS_MAX in
 * @a more), and how many have no kind in their entry (format 3). */
typedef struct {
    apr_uint64_t keys[MT_MSG_PEERS_MAX + 1];
    int n, unknown;
    apr_array_header_t *more;
} peer_group_t;

/* Count the entry @a c stands on in @a g, unless it is a mailbox hop's or
 * hop @a self's (under its old first time, which sx_apply() has not
 * deleted yet). */
static void peer_note(apr_pool_t *p, const cur_t *c, apr_uint64_t self, peer_group_t *g)
{
    apr_uint64_t key = get_u64((const unsigned char *)c->k.data + MSGID_KEY_LEN - 8);
    if ((c->d.size == 1 && c->head[0] == MT_HOP_MAILBOX) || key == self)
        return;
    if (c->d.size != 1) {
        g->unknown++;
    }
    else if (g->n < MT_MSG_PEERS_MAX) {
        g->keys[g->n++] = key;
    }
    else {
        if (!g->more)
            g->more = apr_array_make(p, 8, sizeof(apr_uint64_t));
        APR_ARRAY_PUSH(g->more, apr_uint64_t) = key;
    }
}

/* Put the Message-ID entry @a k of a hop that is not a mailbox one, which
 * mt_store_msg_put() gave MT_MSG_PEERS and no peers, with cursor @a c, and
 * look at the entries next to it, where the other hops of its Message-ID
 * (of its hash) are: if there are any but mailbox ones, each of them gets
 * the others as its peers, or loses the flag. The entries after it need a
 * look only when @a ahead: sx_apply() puts its entries in key order (one it
 * puts later looks back at this one), so only entries already in the
 * databases can follow it, and none can when its time is above all of
 * theirs. 0 or a Berkeley DB error. */
static int peers_put(mt_txn_t *t, cur_t *c, DBT *k, DBT *d, int ahead)
{
    const unsigned char *prefix = k->data;
    apr_uint64_t self = get_u64(prefix + MSGID_KEY_LEN - 8), peers[MT_MSG_PEERS_MAX];
    peer_group_t g;
    int rc, after = 0, i, j, n;

    if ((rc = c->c->put(c->c, k, d, DB_KEYFIRST)) != 0)
        return rc;
    memset(&g, 0, sizeof(g));
    /* The cursor is on the new entry: the ones after it, then back (a
     * cursor that finds no next entry stays where it is), then the ones
     * before it. */
    if (ahead) {
        while ((rc = cur_get(c, DB_NEXT)) == 0 && has_prefix(c, prefix, MSGID_PREFIX_LEN)) {
            after++;
            peer_note(t->pool, c, self, &g);
        }
        if (rc != 0 && rc != DB_NOTFOUND)
            return rc;
        for (i = 0, after += rc == 0, rc = 0; i < after && rc == 0; i++)
            rc = cur_get(c, DB_PREV);
    }
    else {
        rc = 0;
    }
    while (rc == 0 && (rc = cur_get(c, DB_PREV)) == 0 && has_prefix(c, prefix, MSGID_PREFIX_LEN))
        peer_note(t->pool, c, self, &g);
    if (rc != 0 && rc != DB_NOTFOUND)
        return rc;
    if (g.n == 0 && g.unknown == 0)
        return 0;
    g.keys[g.n++] = self;
    rc = 0;
    /* Too many to list, or some unknown: none has peers. */
    for (i = 0; g.more && i < g.more->nelts && rc == 0; i++)
        rc = peers_set(t, APR_ARRAY_IDX(g.more, i, apr_uint64_t), NULL, -1);
    for (i = 0; i < g.n && rc == 0; i++) {
        if (g.unknown || g.more) {
            rc = peers_set(t, g.keys[i], NULL, -1);
            continue;
        }
        for (j = n = 0; j < g.n; j++)
            if (j != i)
                peers[n++] = g.keys[j];
        qsort(peers, (size_t)n, sizeof(*peers), u64_cmp);
        rc = peers_set(t, g.keys[i], peers, n);
    }
    return rc;
}

/* The first time of the newest hop (by_time's last key), where t->hwm
 * starts. 0 or a Berkeley DB error. */
static int hwm_load(mt_txn_t *t)
{
    cur_t c;
    int rc;

    if ((rc = cur_open(t, t->store->ix[SX_TIME], &c, CUR_KEYS)) == 0) {
        rc = cur_get(&c, DB_LAST);
        memset(t->hwm, 0, 8);
        if (rc == 0 && c.k.size >= 8)
            memcpy(t->hwm, c.k.data, 8);
        if (rc == DB_NOTFOUND)
            rc = 0;
    }
    cur_close(&c);
    if (rc == 0)
        t->hwm_known = 1;
    return rc;
}

/* Make the queued index changes, then write the hop records waiting for
 * them (t->pend). Sorted, each index's changes go to neighbouring keys one
 * after the other, so a page is fetched and changed once for all its
 * entries of the transaction instead of once per hop; the puts go through
 * a cursor per index made for that (DB_CURSOR_BULK: it stays on its page
 * when the next key belongs there, instead of searching from the root). */
static const char *sx_apply(mt_txn_t *t)
{
    int i = 0, rc = 0, x, have_hwm = 0;
    const char *what = NULL;
    sx_op_t *ops = NULL;
    apr_uint64_t failed = 0;
    unsigned char hwm[8];
    cur_t bc[SX_N];

    for (x = 0; x < SX_N; x++)
        bc[x].c = NULL;
    if (t->sx_ops && t->sx_ops->nelts > 0) {
        ops = (sx_op_t *)(void *)t->sx_ops->elts;
        qsort(ops, (size_t)t->sx_ops->nelts, sizeof(sx_op_t), sx_op_cmp);
    }
    for (i = 0; ops && i < t->sx_ops->nelts; i++) {
        DB *db = t->store->ix[ops[i].ix];
        cur_t *c = &bc[ops[i].ix];
        DBT k, d;
        memset(&k, 0, sizeof(k));
        memset(&d, 0, sizeof(d));
        k.data = ops[i].key;
        k.size = ops[i].ksize;
        d.data = ops[i].data ? (void *)ops[i].data : (void *)"";
        d.size = ops[i].dsize;
        if (ops[i].del) {
            if ((rc = db->del(db, t->txn, &k, 0)) == DB_NOTFOUND)
                rc = 0;
            if (rc != 0)
                break;
            continue;
        }
        if (!c->c && (rc = cur_open_flags(t, db, c, CUR_HEAD, DB_CURSOR_BULK)) != 0)
            break;
        if (!msgid_entry(ops[i].ix, ops[i].key, ops[i].ksize)) {
            rc = c->c->put(c->c, &k, &d, DB_KEYFIRST);
        }
        else {
            const unsigned char *first = ops[i].key + MSGID_PREFIX_LEN;
            /* The bound as it was before this call's entries, read (and
             * its read lock taken) only by transactions that put some. */
            if (!have_hwm) {
                if (!t->hwm_known && (rc = hwm_load(t)) != 0) {
                    what = "reading by_time";
                    break;
                }
                memcpy(hwm, t->hwm, 8);
                have_hwm = 1;
            }
            if (memcmp(first, t->hwm, 8) > 0)
                memcpy(t->hwm, first, 8);
            if (ops[i].dsize == 1 && ops[i].data[0] != MT_HOP_MAILBOX)
                rc = peers_put(t, c, &k, &d, memcmp(first, hwm, 8) <= 0);
            else
                rc = c->c->put(c->c, &k, &d, DB_KEYFIRST);
        }
        if (rc != 0)
            break;
    }
    for (x = 0; x < SX_N; x++)
        if (bc[x].c)
            cur_close(&bc[x]);
    if (ops)
        apr_array_clear(t->sx_ops);
    if (rc != 0) {
        if (t->pend)
            apr_hash_clear(t->pend);
        return db_err_p(t->pool, t->store, what ? what : apr_psprintf(t->pool, "updating %s",
                                                                    sx_name[ops[i].ix]), rc);
    }
    if ((rc = pend_flush(t, &failed)) != 0)
        return db_err_p(t->pool, t->store, apr_psprintf(t->pool, "writing hop %"
                                                       APR_UINT64_T_FMT, failed), rc);
    return NULL;
}

/* Was hop @a key, handed out in this transaction, written in it already?
 * Marks it written. Hops from earlier transactions answer 1. */
static int written_before(mt_txn_t *t, apr_uint64_t key)
{
    apr_uint64_t i;
    int was;

    if (!t->keys_taken || key <= t->key_base || key > t->key_next)
        return 1;
    i = key - t->key_base - 1;
    if (i / 8 >= t->wcap) {
        apr_size_t cap = t->wcap ? t->wcap : 256;
        unsigned char *w;
        while (cap <= i / 8)
            cap *= 2;
        w = apr_pcalloc(t->pool, cap);
        if (t->wcap)
            memcpy(w, t->written, t->wcap);
        t->written = w;
        t->wcap = cap;
    }
    was = (t->written[i / 8] >> (i % 8)) & 1;
    t->written[i / 8] |= (unsigned char)(1u << (i % 8));
    return was;
}

/* Is the by_msgid entry of hop @a m the one @a old (NULL: none) had? */
static int same_msgid_entry(const mt_msg_t *m, const msg_view_t *old)
{
    return old && old->message_id.p && m->message_id && old->first == m->first
        && old->message_id.n == strlen(m->message_id)
        && memcmp(old->message_id.p, m->message_id, old->message_id.n) == 0;
}

const char *mt_store_msg_put(mt_txn_t *t, const mt_msg_t *m)
{
    const unsigned char *b;
    unsigned char k[8];
    msg_view_t nv, ov;
    const msg_view_t *old = NULL;
    mt_msg_t w;
    pend_t *pd;
    DBT val, oval;
    const char *err;
    int rc;

    if ((err = read_only(t)) != NULL)
        return err;
    if (m->kind < MT_HOP_POSTFIX || m->kind > MT_HOP_MAILBOX)
        return apr_psprintf(t->pool, "index %s: hop %" APR_UINT64_T_FMT " has no valid kind "
                            "(%d)", t->store->dir, m->key, m->kind);
    memset(&val, 0, sizeof(val));
    put_u64(k, m->key);
    /* The record this one replaces decides which index entries change. One
     * that does not decode cannot say which entries it had: verify reports
     * those left behind. */
    pd = t->pend ? apr_hash_get(t->pend, k, 8) : NULL;
    if (pd) {
        if (msg_decode(&ov, pd->rec, pd->len, DEC_ALL) == 0)
            old = &ov;
    }
    else if (written_before(t, m->key)) {
        rc = get_rec_into(t, k, &oval, &t->obuf, &t->ocap);
        if (rc == 0 && msg_decode(&ov, oval.data, oval.size, DEC_ALL) == 0)
            old = &ov;
        else if (rc != 0 && rc != DB_NOTFOUND)
            return db_err_p(t->pool, t->store, apr_psprintf(t->pool, "reading hop %"
                            APR_UINT64_T_FMT, m->key), rc);
    }
    /* MT_MSG_PEERS and the peers are the store's: as they were while the
     * hop's by_msgid entry stays; a new entry gets the flag and no peers,
     * and peers_put() gives it those it finds. */
    w = *m;
    w.flags &= ~(unsigned)MT_MSG_PEERS;
    w.npeers = 0;
    if (same_msgid_entry(m, old)) {
        w.flags |= old->flags & MT_MSG_PEERS;
        w.npeers = old->npeers;
        memcpy(w.peers, old->peers, sizeof(w.peers));
    }
    else if (m->message_id && m->kind != MT_HOP_MAILBOX) {
        w.flags |= MT_MSG_PEERS;
    }
    val.size = (u_int32_t)msg_encode(t, &w, &b);
    val.data = (void *)b;
    if (msg_decode(&nv, b, val.size, DEC_ALL) != 0)
        return damaged_hop(t->pool, t->store, m->key);
    if ((err = sx_update_all(t, k, old, &nv)) != NULL)
        return err;
    /* The record waits for sx_apply() (t->pend), which writes it after its
     * index changes, once whatever the transaction puts of it, and in key
     * order: a new hop's record then goes at the end of messages, not
     * between records written before it, which would split full pages. */
    if (!pd) {
        if (!t->pend)
            t->pend = apr_hash_make(t->pool);
        pd = apr_pcalloc(t->pool, sizeof(*pd));
        memcpy(pd->key, k, 8);
        apr_hash_set(t->pend, pd->key, 8, pd);
    }
    memcpy(room(t, &pd->rec, &pd->cap, val.size), b, val.size);
    pd->len = val.size;
    return NULL;
}

int mt_store_msg_get(mt_txn_t *t, apr_pool_t *p, apr_uint64_t key, mt_msg_t *m,
                     const char **err)
{
    unsigned char k[8];
    pend_t *pd;
    msg_view_t v;
    DBT val;
    int rc;

    put_u64(k, key);
    rc = rec_read(t, k, &val, &pd);
    if (rc == DB_NOTFOUND)
        return 0;
    if (rc != 0) {
        *err = db_err_p(p, t->store, apr_psprintf(p, "reading hop %" APR_UINT64_T_FMT, key), rc);
        return -1;
    }
    if (msg_decode(&v, val.data, val.size, DEC_ALL) != 0) {
        *err = damaged_hop(p, t->store, key);
        return -1;
    }
    msg_fill(p, &v, val.size, key, m);
    return 1;
}

/* Delete hop @a key (if there) and its events; count the events. */
static const char *del_hop(mt_txn_t *t, apr_pool_t *p, apr_uint64_t key, apr_uint64_t *nev)
{
    mt_store_t *st = t->store;
    unsigned char k[12];
    msg_view_t v;
    DBT dk, val;
    const char *err;
    cur_t c;
    int rc;

    *nev = 0;
    event_key(k, key, 0);
    /* The records waiting for their index changes are written first. */
    if (t->pend && apr_hash_count(t->pend) && (err = sx_apply(t)) != NULL)
        return err;
    /* A hop that does not decode cannot say which index entries it had:
     * delete it alone; verify reports the entries left behind. */
    rc = get_rec(t, k, &val);
    if (rc == 0 && msg_decode(&v, val.data, val.size, DEC_ALL) == 0
        && (err = sx_update_all(t, k, &v, NULL)) != NULL)
        return err;
    if (rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(p, st, apr_psprintf(p, "reading hop %" APR_UINT64_T_FMT, key), rc);
    memset(&dk, 0, sizeof(dk));
    dk.data = k;
    dk.size = 8;
    rc = rc == DB_NOTFOUND ? DB_NOTFOUND : st->messages->del(st->messages, t->txn, &dk, 0);
    if (rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(p, st, apr_psprintf(p, "deleting hop %" APR_UINT64_T_FMT, key), rc);
    if ((err = events_flush(t, 0, key)) != NULL)
        return err;
    /* Count the events by the heads of the chunks; a chunk whose head does
     * not decode goes too, uncounted. */
    if ((rc = cur_open(t, st->events, &c, CUR_HEAD)) == 0) {
        for (rc = cur_seek(&c, k, 12); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            chunk_view_t cv;
            if (c.k.size < 8 || memcmp(c.k.data, k, 8) != 0)
                break;
            if ((rc = c.c->del(c.c, 0)) != 0)
                break;
            if (chunk_head(&cv, c.k.data, c.k.size, c.d.data, c.d.size) == 0)
                *nev += cv.count;
        }
    }
    cur_close(&c);
    if (rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(p, st, apr_psprintf(p, "deleting the events of hop %"
                                            APR_UINT64_T_FMT, key), rc);
    return NULL;
}

const char *mt_store_msg_del(mt_txn_t *t, apr_uint64_t key)
{
    apr_uint64_t n;
    const char *err = read_only(t);
    return err ? err : del_hop(t, t->pool, key, &n);
}

/* Does chunk @a c, or one of its hop's older chunks, hold @a seq? */
static int chunk_has(const chunk_t *c, unsigned seq)
{
    for (; c; c = c->older)
        if (seq >= c->first && seq - c->first < c->count)
            return 1;
    return 0;
}

const char *mt_store_event_put(mt_txn_t *t, const mt_event_t *ev)
{
    unsigned char pre[VARINT_MAX];
    const unsigned char *b;
    apr_size_t n, pn;
    ev_node_t *node;
    chunk_t *c;
    const char *err;

    if ((err = read_only(t)) != NULL)
        return err;
    if (ev->fact < 0)
        return apr_psprintf(t->pool, "index %s: event %" APR_UINT64_T_FMT "/%u has no valid "
                            "fact (%d)", t->store->dir, ev->msg, ev->seq, ev->fact);
    if (!t->chunk_of) {
        t->chunk_of = apr_hash_make(t->pool);
        t->unwritten = apr_array_make(t->pool, 256, sizeof(chunk_t *));
    }
    c = t->last && t->last->msg == ev->msg ? t->last
        : apr_hash_get(t->chunk_of, &ev->msg, sizeof(ev->msg));
    if (!c || c->written || (apr_uint64_t)c->first + c->count != ev->seq) {
        chunk_t *o;
        /* A second chunk with the same key would replace the first. */
        if (chunk_has(c, ev->seq))
            return apr_psprintf(t->pool, "index %s: event %" APR_UINT64_T_FMT "/%u is "
                                "written twice in one transaction", t->store->dir, ev->msg,
                                ev->seq);
        o = apr_pcalloc(t->pool, sizeof(*o));
        o->msg = ev->msg;
        o->first = ev->seq;
        o->older = c;
        apr_hash_set(t->chunk_of, &o->msg, sizeof(o->msg), o);
        APR_ARRAY_PUSH(t->unwritten, chunk_t *) = o;
        c = o;
    }
    t->last = c;
    n = event_encode(t, ev, &b);
    pn = (apr_size_t)(w_uv(pre, n) - pre);
    node = apr_palloc(t->pool, sizeof(*node) + pn + n);
    node->next = NULL;
    node->len = pn + n;
    memcpy(node + 1, pre, pn);
    memcpy((unsigned char *)(node + 1) + pn, b, n);
    if (c->tail)
        c->tail->next = node;
    else
        c->head = node;
    c->tail = node;
    c->count++;
    c->bytes += node->len;
    return NULL;
}

/* Write chunk @a c. */
static const char *chunk_write(mt_txn_t *t, chunk_t *c)
{
    unsigned char k[12], *b, *w;
    const ev_node_t *n;
    DBT key, val;
    int rc;

    w = b = txn_buf(t, 1 + VARINT_MAX + c->bytes);
    *w++ = CHUNK_VERSION;
    w = w_uv(w, c->count);
    for (n = c->head; n; n = n->next) {
        memcpy(w, n + 1, n->len);
        w += n->len;
    }
    event_key(k, c->msg, c->first);
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = k;
    key.size = 12;
    val.data = b;
    val.size = (u_int32_t)(w - b);
    rc = t->store->events->put(t->store->events, t->txn, &key, &val, 0);
    c->written = 1;
    return rc ? db_err_p(t->pool, t->store, apr_psprintf(t->pool, "writing events %"
                         APR_UINT64_T_FMT "/%u-%u", c->msg, c->first,
                         c->first + (c->count - 1)), rc) : NULL;
}

static int chunk_cmp(const void *a, const void *b)
{
    const chunk_t *x = *(chunk_t *const *)a, *y = *(chunk_t *const *)b;
    if (x->msg != y->msg)
        return x->msg < y->msg ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

/* Write the buffered events: of every hop (@a all), or of hop @a msg. In
 * key order: neighbouring puts touch neighbouring pages. */
static const char *events_flush(mt_txn_t *t, int all, apr_uint64_t msg)
{
    const char *err = NULL;
    chunk_t *c;
    int i;

    if (!t->unwritten)
        return NULL;
    if (!all) {
        for (c = apr_hash_get(t->chunk_of, &msg, sizeof(msg)); c && !err; c = c->older)
            if (!c->written)
                err = chunk_write(t, c);
        return err;
    }
    if (t->unwritten->nelts > 1)
        qsort(t->unwritten->elts, (size_t)t->unwritten->nelts, sizeof(chunk_t *), chunk_cmp);
    for (i = 0; i < t->unwritten->nelts && !err; i++) {
        c = APR_ARRAY_IDX(t->unwritten, i, chunk_t *);
        if (!c->written)
            err = chunk_write(t, c);
    }
    apr_array_clear(t->unwritten);
    return err;
}

static const char *damaged_event(apr_pool_t *p, mt_store_t *st, apr_uint64_t msg, unsigned seq)
{
    return apr_psprintf(p, "index %s: event %" APR_UINT64_T_FMT "/%u is damaged (run verify)",
                        st->dir, msg, seq);
}

const char *mt_store_events(mt_txn_t *t, apr_pool_t *p, apr_uint64_t msg,
                            mt_event_cb cb, void *baton)
{
    unsigned char k[12];
    const char *err;
    apr_uint64_t next = 0;      /* the seq after the chunk before */
    chunk_view_t cv;
    mt_event_t ev;
    unsigned i, bad;
    rd_t eb;
    cur_t c;
    int rc, stop = 0;

    if ((err = events_flush(t, 0, msg)) != NULL)
        return err;
    event_key(k, msg, 0);
    if ((rc = cur_open(t, t->store->events, &c, CUR_ALL)) == 0) {
        for (rc = cur_seek(&c, k, 12); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            if (c.k.size < 8 || memcmp(c.k.data, k, 8) != 0)
                break;
            if (chunk_head(&cv, c.k.data, c.k.size, c.d.data, c.d.size) != 0
                || cv.first < next) {
                err = damaged_event(p, t->store, msg, c.k.size == 12
                                    ? get_u32((const unsigned char *)c.k.data + 8) : 0);
                break;
            }
            if (chunk_check(&cv, &bad) != 0) {
                err = damaged_event(p, t->store, msg, bad);
                break;
            }
            for (i = 0; i < cv.count && !stop; i++) {
                chunk_next(&cv, &eb);
                event_decode(p, msg, cv.first + i, &eb, &ev);
                stop = cb(baton, &ev);
            }
            if (stop)
                break;
            next = (apr_uint64_t)cv.first + cv.count;
        }
    }
    cur_close(&c);
    if (!err && rc != 0 && rc != DB_NOTFOUND)
        err = db_err_p(p, t->store, apr_psprintf(p, "reading the events of hop %"
                                                 APR_UINT64_T_FMT, msg), rc);
    return err;
}

static void hop_cur_close(mt_txn_t *t)
{
    if (t->hop_cur)
        cur_close(t->hop_cur);
    t->hop_cur = NULL;
}

int mt_store_hop_find(mt_txn_t *t, apr_pool_t *p, int kind, const char *host,
                      const char *local_id, const char *message_id, apr_uint64_t *key,
                      const char **err)
{
    str_t h, l, m;
    apr_size_t plen;
    unsigned char *b;
    int rc = 0, found = 0;
    cur_t *c = t->hop_cur;

    if ((*err = sx_apply(t)) != NULL)
        return -1;
    h.p = host ? host : ""; h.n = strlen(h.p);
    l.p = local_id ? local_id : ""; l.n = strlen(l.p);
    m.p = message_id ? message_id : ""; m.n = strlen(m.p);
    plen = hop_prefix(NULL, kind, h, l, m);
    b = apr_palloc(p, plen + 16);
    hop_prefix(b, kind, h, l, m);
    /* Entries sort by first, then key: the newest is the last one with the
     * prefix. From the first one on (prefix + 00...00): a queue id not
     * seen before, what the writer mostly looks up, takes one seek. The
     * writer looks up every new hop: one cursor serves the whole
     * transaction. */
    memset(b + plen, 0, 16);
    if (!c) {
        c = apr_palloc(t->pool, sizeof(*c));
        if ((rc = cur_open(t, t->store->ix[SX_HOP], c, CUR_KEYS)) == 0)
            t->hop_cur = c;
        else
            cur_close(c);
    }
    if (rc == 0) {
        for (rc = cur_seek(c, b, plen + 16);
             rc == 0 && c->k.size >= plen && memcmp(c->k.data, b, plen) == 0;
             rc = cur_get(c, DB_NEXT)) {
            if (has_prefix(c, b, plen)) {
                *key = get_u64((const unsigned char *)c->k.data + plen + 8);
                found = 1;
            }
        }
        if (rc == DB_NOTFOUND)
            rc = 0;
    }
    if (rc != 0 && rc != DB_NOTFOUND) {
        hop_cur_close(t);
        *err = db_err_p(p, t->store, "looking up a hop", rc);
        return -1;
    }
    return found;
}

/* ------------------------------------------------------------------ reading in bulk */

/* A scan reads its range of an index a buffer at a time (DB_MULTIPLE_KEY):
 * one Berkeley DB call per buffer (libdb returns the rest of a page)
 * instead of one per entry, with a cursor that stays open for the
 * transaction (a newest-first Find may scan an index in several windows,
 * and looks up a Message-ID per result). The callback may read the store,
 * the same index too: a scan never relies on where the cursor is after a
 * callback ran, it seeks. */

/* The smallest buffer: Berkeley DB wants one at least a page large; more
 * when the pages are larger (DB_BUFFER_SMALL says how much). */
#define BULK_MIN 4096

/* Every cursor the transaction kept (the writer's by_hop cursor, the
 * readers' index cursors): closed before it commits or aborts. */
static void cursors_close(mt_txn_t *t)
{
    int i;
    for (i = 0; i < SX_N; i++) {
        if (t->rcur[i])
            t->rcur[i]->close(t->rcur[i]);
        t->rcur[i] = NULL;
    }
    hop_cur_close(t);
}

/* Read entries into @a d (its buffer grown as needed, in @a p): with @a key
 * (@a klen bytes), from the first entry >= it; without, from the one after
 * the cursor's. */
static int bulk_get(mt_txn_t *t, apr_pool_t *p, DBC *c, const unsigned char *key,
                    apr_size_t klen, DBT *d)
{
    DBT k;
    int rc;

    for (;;) {
        memset(&k, 0, sizeof(k));
        /* Berkeley DB may return the key it found: memory it can resize. */
        if (!(k.data = malloc(klen ? klen : 1)))
            return ENOMEM;
        if (key)
            memcpy(k.data, key, klen);
        k.size = (u_int32_t)klen;
        k.flags = DB_DBT_REALLOC;
        rc = c->get(c, &k, d, (key ? DB_SET_RANGE : DB_NEXT) | DB_MULTIPLE_KEY);
        free(k.data);
        if (rc != DB_BUFFER_SMALL || d->size <= d->ulen)
            return rc;
        t->bulk_cap = (d->size + 1023) & ~(u_int32_t)1023;
        d->data = apr_palloc(p, t->bulk_cap);
        d->ulen = t->bulk_cap;
    }
}

/* Walk index @a ix from the entry @a from (a key) on while entries have
 * @a plen bytes of it as prefix and a first time <= @a end. */
static const char *bulk_scan(mt_txn_t *t, apr_pool_t *p, int ix, const unsigned char *from,
                             apr_size_t plen, apr_time_t end, mt_hop_cb cb, void *baton)
{
    const unsigned char *seek = from;
    apr_size_t slen = plen + 16;
    int rc = 0, again = 0, done = 0;
    DBT d;

    if (!t->bulk_cap)
        t->bulk_cap = BULK_MIN;
    memset(&d, 0, sizeof(d));
    d.data = apr_palloc(p, t->bulk_cap);
    d.ulen = t->bulk_cap;
    d.flags = DB_DBT_USERMEM;
    if (!t->rcur[ix])
        rc = t->store->ix[ix]->cursor(t->store->ix[ix], t->txn, &t->rcur[ix], 0);
    while (rc == 0 && !done && (rc = bulk_get(t, p, t->rcur[ix], seek, slen, &d)) == 0) {
        unsigned char *kb, *last = NULL, *vb;
        u_int32_t ks, lks = 0, vs;
        unsigned moves = ++t->rmoves[ix];
        int fresh = 0;
        void *it;

        DB_MULTIPLE_INIT(it, &d);
        for (;;) {
            DB_MULTIPLE_KEY_NEXT(it, &d, kb, ks, vb, vs);
            if (!it)
                break;
            last = kb;
            lks = ks;
            /* On from a buffer before: the entry it ended with. */
            if (again && seek && ks == slen && memcmp(kb, seek, slen) == 0)
                continue;
            fresh++;
            if (ks != plen + 16 || memcmp(kb, from, plen) != 0) {
                if (ks >= plen && memcmp(kb, from, plen) == 0)
                    continue;       /* damaged; verify reports it */
                done = 1;
                break;
            }
            if (get_time(kb + plen) > end || cb(baton, get_u64(kb + plen + 8),
                                                get_time(kb + plen))) {
                done = 1;
                break;
            }
        }
        (void)vb;
        (void)vs;
        if (done || !last)
            break;
        if (!fresh && !seek)
            break;
        /* The range may go on past the buffer. A buffer ends where a page
         * does: when it held nothing but the entry sought from (no callback
         * ran), or when no callback moved the cursor (they read other
         * indexes, or nothing), the cursor is still on the last entry and
         * the next page follows; else the scan seeks that entry again. */
        if (!fresh || t->rmoves[ix] == moves) {
            seek = NULL;
            again = 0;
            continue;
        }
        seek = apr_pmemdup(p, last, lks);
        slen = lks;
        again = 1;
    }
    if (rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(p, t->store, apr_psprintf(p, "reading %s", sx_name[ix]), rc);
    return NULL;
}

/* The index of @a which and, in @a p, the key its scan from @a start for
 * @a value starts at: @a plen bytes of prefix, the time, a zero hop key. */
static const char *scan_from(mt_txn_t *t, apr_pool_t *p, mt_index_e which, const char *value,
                             apr_time_t start, int *ix, unsigned char **b, apr_size_t *plen)
{
    int tag = 0, lower = 0;
    apr_size_t n;

    switch (which) {
    case MT_IX_SENDER:    *ix = SX_SENDER; lower = 1; break;
    case MT_IX_RECIPIENT: *ix = SX_RECIPIENT; lower = 1; break;
    case MT_IX_MSGID:     *ix = SX_MSGID; tag = 'm'; break;
    case MT_IX_REF:       *ix = SX_MSGID; tag = 'r'; break;
    case MT_IX_TIME:      *ix = SX_TIME; break;
    default:
        return apr_psprintf(p, "index %s: no index %d", t->store->dir, (int)which);
    }
    if (*ix == SX_TIME) {
        *plen = 0;
        *b = apr_palloc(p, 16);
    }
    else {
        if (!value)
            return apr_psprintf(p, "index %s: a scan of %s needs a value", t->store->dir,
                                sx_name[*ix]);
        n = strlen(value);
        *plen = val_prefix(NULL, tag, value, n, lower);
        *b = apr_palloc(p, *plen + 16);
        val_prefix(*b, tag, value, n, lower);
    }
    put_time(*b + *plen, start);
    memset(*b + *plen + 8, 0, 8);
    return NULL;
}

const char *mt_store_scan(mt_txn_t *t, apr_pool_t *p, mt_index_e which, const char *value,
                          apr_time_t start, apr_time_t end, mt_hop_cb cb, void *baton)
{
    unsigned char *b;
    apr_size_t plen;
    const char *err;
    int ix;

    if (start > end)
        return NULL;
    if ((err = sx_apply(t)) != NULL
        || (err = scan_from(t, p, which, value, start, &ix, &b, &plen)) != NULL)
        return err;
    return bulk_scan(t, p, ix, b, plen, end, cb, baton);
}

const char *mt_store_keys(mt_txn_t *t, apr_pool_t *p, mt_index_e which, const char *value,
                          apr_array_header_t *keys)
{
    unsigned char *b;
    apr_size_t plen;
    const char *err;
    DBT k, d;
    int ix, rc = 0;

    if ((err = sx_apply(t)) != NULL
        || (err = scan_from(t, p, which, value, APR_INT64_MIN, &ix, &b, &plen)) != NULL)
        return err;
    if (!t->rcur[ix])
        rc = t->store->ix[ix]->cursor(t->store->ix[ix], t->txn, &t->rcur[ix], 0);
    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    if (rc == 0 && !(k.data = malloc(plen + 16)))
        rc = ENOMEM;
    if (rc == 0) {
        DBC *c = t->rcur[ix];
        t->rmoves[ix]++;
        memcpy(k.data, b, plen + 16);
        k.size = (u_int32_t)(plen + 16);
        k.flags = DB_DBT_REALLOC;
        d.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;     /* the key says it all */
        /* No callback between the calls: the cursor stays where it was. */
        for (rc = c->get(c, &k, &d, DB_SET_RANGE); rc == 0; rc = c->get(c, &k, &d, DB_NEXT)) {
            const unsigned char *kb = k.data;
            if (k.size != plen + 16 || memcmp(kb, b, plen) != 0) {
                if (k.size >= plen && memcmp(kb, b, plen) == 0)
                    continue;       /* damaged; verify reports it */
                break;
            }
            APR_ARRAY_PUSH(keys, apr_uint64_t) = get_u64(kb + plen + 8);
        }
    }
    free(k.data);
    if (rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(p, t->store, apr_psprintf(p, "reading %s", sx_name[ix]), rc);
    return NULL;
}

const char *mt_store_msgs(mt_txn_t *t, apr_pool_t *p, mt_hop_cb cb, void *baton)
{
    const char *err = NULL;
    msg_view_t v;
    cur_t c;
    int rc;

    if ((err = sx_apply(t)) != NULL)
        return err;
    if ((rc = cur_open(t, t->store->messages, &c, CUR_HEAD)) == 0) {
        for (rc = cur_get(&c, DB_FIRST); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            apr_uint64_t key = c.k.size == 8 ? get_u64(c.k.data) : 0;
            if (c.k.size != 8 || msg_decode(&v, c.d.data, c.d.size, DEC_HEAD) != 0) {
                err = damaged_hop(p, t->store, key);
                break;
            }
            if (cb(baton, key, v.first))
                break;
        }
    }
    cur_close(&c);
    if (!err && rc != 0 && rc != DB_NOTFOUND)
        err = db_err_p(p, t->store, "reading the hops", rc);
    return err;
}

const char *mt_store_files(mt_txn_t *t, apr_pool_t *p, mt_file_cb cb, void *baton)
{
    const char *err = NULL;
    mt_store_file_t f;
    cur_t c;
    int rc;

    if ((rc = cur_open(t, t->store->files, &c, CUR_ALL)) == 0) {
        for (rc = cur_get(&c, DB_FIRST); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            if (!file_decode(p, c.k.data, c.k.size, c.d.data, c.d.size, &f)) {
                err = apr_psprintf(p, "index %s: a file record is damaged (run verify)",
                                   t->store->dir);
                break;
            }
            if (cb(baton, &f))
                break;
        }
    }
    cur_close(&c);
    if (!err && rc != 0 && rc != DB_NOTFOUND)
        err = db_err_p(p, t->store, "reading the file records", rc);
    return err;
}

/* ------------------------------------------------------------------ purge */

/* Add 1 to a 16-byte big-endian key; 0 when it wraps. */
static int key_inc(unsigned char *k, int n)
{
    while (n-- > 0)
        if (++k[n] != 0)
            return 1;
    return 0;
}

const char *mt_store_purge(mt_store_t *st, apr_pool_t *p, apr_time_t before,
                           unsigned batch, apr_uint64_t *hops, apr_uint64_t *events)
{
    unsigned char pos[16];
    apr_pool_t *bp;
    const char *err = NULL;
    int more = 1;

    *hops = *events = 0;
    if (st->mode != MT_STORE_WRITER)
        return apr_psprintf(p, "index %s is open read-only", st->dir);
    if (batch == 0)
        batch = 1000;
    memset(pos, 0, sizeof(pos));
    apr_pool_create(&bp, p);
    while (more && !err) {
        apr_array_header_t *keys;
        apr_uint64_t nh = 0, ne = 0, n;
        mt_txn_t *t;
        msg_view_t v;
        cur_t c;
        DBT dk, dv;
        unsigned char head[HEAD_MAX];
        int rc, i;

        apr_pool_clear(bp);
        more = 0;
        if ((err = mt_store_begin(st, bp, &t)) != NULL) {
            err = apr_pstrdup(p, err);
            break;
        }
        /* Collect up to batch hops that went before @a before, then delete them. */
        keys = apr_array_make(bp, 64, sizeof(apr_uint64_t));
        if ((rc = cur_open(t, st->ix[SX_TIME], &c, CUR_KEYS)) == 0) {
            for (rc = cur_seek(&c, pos, 16); rc == 0; rc = cur_get(&c, DB_NEXT)) {
                unsigned char pk[8];
                if (c.k.size != 16)
                    continue;
                if (get_time(c.k.data) >= before)
                    break;
                memcpy(pos, c.k.data, 16);
                memcpy(pk, pos + 8, 8);
                get_key(&dk, pk, sizeof(pk));
                memset(&dv, 0, sizeof(dv));
                dv.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
                dv.data = head;
                dv.ulen = dv.dlen = HEAD_MAX;
                rc = st->messages->get(st->messages, t->txn, &dk, &dv, 0);
                if (rc == DB_NOTFOUND)
                    continue;       /* a stale entry: verify reports it */
                if (rc != 0)
                    break;
                if (msg_decode(&v, head, dv.size, DEC_HEAD) != 0) {
                    err = damaged_hop(p, st, get_u64(pk));
                    break;
                }
                if (v.last < before) {
                    APR_ARRAY_PUSH(keys, apr_uint64_t) = get_u64(pk);
                    if ((unsigned)keys->nelts >= batch) {
                        more = key_inc(pos, 16);
                        break;
                    }
                }
            }
        }
        cur_close(&c);
        if (!err && rc != 0 && rc != DB_NOTFOUND)
            err = db_err_p(p, st, "purging: reading by_time", rc);
        for (i = 0; !err && i < keys->nelts; i++) {
            if ((err = del_hop(t, p, APR_ARRAY_IDX(keys, i, apr_uint64_t), &n)) == NULL) {
                nh++;
                ne += n;
            }
        }
        if (!err && (err = mt_store_commit(t)) == NULL) {
            *hops += nh;
            *events += ne;
        }
        if (err)
            err = apr_pstrdup(p, err);
        mt_store_abort(t);
    }
    apr_pool_destroy(bp);
    return err;
}

/* ------------------------------------------------------------------ verify */

typedef struct {
    mt_problem_cb cb;
    void *baton;
    apr_uint64_t count;
} problems_t;

static void problem(problems_t *pr, const char *line)
{
    pr->count++;
    pr->cb(pr->baton, line);
}

/* Printable text of a secondary key's value part. */
static const char *key_text(apr_pool_t *p, int ix, const unsigned char *k, apr_size_t n)
{
    static const char *const kinds[4] = { "?", "postfix", "msgtrk", "mailbox" };
    char *out = apr_palloc(p, n * 4 + 16), *w = out;
    apr_size_t i = 0;

    n = n >= 16 ? n - 16 : 0;
    if (ix == SX_TIME || n == 0)
        return apr_psprintf(p, "first %" APR_INT64_T_FMT, (apr_int64_t)get_time(k));
    if (ix == SX_HOP) {
        w += sprintf(w, "%s ", kinds[k[0] <= MT_HOP_MAILBOX ? k[0] : 0]);
        i = 1;
    }
    else if (ix == SX_MSGID) {
        w += sprintf(w, "%c ", k[0] >= 0x20 && k[0] < 0x7f ? k[0] : '?');
        i = 1;
    }
    /* A value's hash: its hex digits. */
    if (ix != SX_HOP && n == i + 8) {
        sprintf(w, "#%016" APR_UINT64_T_HEX_FMT, (apr_uint64_t)get_u64(k + i));
        return out;
    }
    if (n && k[n - 1] == '\0')
        n--;
    for (; i < n; i++) {
        if (k[i] == '\0')
            *w++ = ' ';
        else if (k[i] < 0x20 || k[i] == 0x7f)
            w += sprintf(w, "\\x%02x", k[i]);
        else
            *w++ = (char)k[i];
    }
    *w = '\0';
    return out;
}

/* The hops of one Message-ID (by_msgid prefix) that are not mailbox ones,
 * as verify_index() meets them: does each one with MT_MSG_PEERS list the
 * others? */
typedef struct {
    unsigned char prefix[MSGID_PREFIX_LEN];
    apr_pool_t *pool;
    apr_array_header_t *hops;   /* group_hop_t */
} peer_check_t;

typedef struct {
    apr_uint64_t key;
    int peered, npeers;
    apr_uint64_t peers[MT_MSG_PEERS_MAX];
} group_hop_t;

static void peer_count(peer_check_t *g, apr_uint64_t key, const msg_view_t *v)
{
    group_hop_t *h;
    if (!g->hops)
        g->hops = apr_array_make(g->pool, 4, sizeof(group_hop_t));
    h = apr_array_push(g->hops);
    h->key = key;
    h->peered = (v->flags & MT_MSG_PEERS) != 0;
    h->npeers = v->npeers;
    memcpy(h->peers, v->peers, sizeof(h->peers));
}

static void peer_verdict(peer_check_t *g, problems_t *pr)
{
    int i, j, k;
    for (i = 0; g->hops && i < g->hops->nelts; i++) {
        const group_hop_t *h = &APR_ARRAY_IDX(g->hops, i, group_hop_t);
        for (j = 0; h->peered && j < g->hops->nelts; j++) {
            apr_uint64_t o = APR_ARRAY_IDX(g->hops, j, group_hop_t).key;
            for (k = 0; k < h->npeers && h->peers[k] != o; k++)
                ;
            if (j != i && k == h->npeers) {
                problem(pr, apr_psprintf(g->pool, "messages: hop %" APR_UINT64_T_FMT " does "
                                         "not list hop %" APR_UINT64_T_FMT ", which has its "
                                         "Message-ID, among its peers", h->key, o));
                break;
            }
        }
    }
    if (g->hops)
        apr_array_clear(g->hops);
}

/* Every entry of secondary @a ix points to a hop that derives it. */
static const char *verify_index(mt_txn_t *t, apr_pool_t *ip, int ix, problems_t *pr)
{
    mt_store_t *st = t->store;
    const char *err = NULL, *what;
    msg_view_t v;
    DBT val, keys;
    cur_t c;
    int rc, i, in, kinded, started = 0;
    peer_check_t group;

    memset(&group, 0, sizeof(group));
    group.pool = t->pool;
    if ((rc = cur_open(t, st->ix[ix], &c, CUR_ALL)) == 0) {
        for (rc = cur_get(&c, DB_FIRST); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            const unsigned char *kb = c.k.data;
            apr_uint64_t pk;

            apr_pool_clear(ip);
            if (c.k.size < 16) {
                problem(pr, apr_psprintf(ip, "%s: an entry has a key of %u bytes",
                                         sx_name[ix], (unsigned)c.k.size));
                continue;
            }
            pk = get_u64(kb + c.k.size - 8);
            what = apr_psprintf(ip, "%s: entry for hop %" APR_UINT64_T_FMT " (%s)",
                                sx_name[ix], pk, key_text(ip, ix, kb, c.k.size));
            kinded = msgid_entry(ix, kb, c.k.size);
            if (c.d.size != 0 && !(kinded && c.d.size == 1))
                problem(pr, apr_pstrcat(ip, what, " has data", NULL));
            if (kinded && (!started || memcmp(group.prefix, kb, MSGID_PREFIX_LEN) != 0)) {
                peer_verdict(&group, pr);
                memcpy(group.prefix, kb, MSGID_PREFIX_LEN);
                started = 1;
            }
            rc = get_rec(t, kb + c.k.size - 8, &val);
            if (rc == DB_NOTFOUND) {
                problem(pr, apr_pstrcat(ip, what, " has no hop", NULL));
                continue;
            }
            if (rc != 0)
                break;
            if (msg_decode(&v, val.data, val.size, DEC_ALL) != 0)
                continue;           /* reported once, with the hop */
            if (kinded && c.d.size == 1 && ((const unsigned char *)c.d.data)[0] != v.kind)
                problem(pr, apr_pstrcat(ip, what, " names another kind of hop", NULL));
            if (kinded && v.kind != MT_HOP_MAILBOX)
                peer_count(&group, pk, &v);
            rc = hop_keys(ix, kb + c.k.size - 8, &v, &keys);
            if (rc != 0 && rc != DB_DONOTINDEX)
                break;
            for (i = in = 0; i < keys_count(&keys); i++)
                in |= dbt_eq(keys_at(&keys, i), kb, c.k.size);
            keys_free(&keys);
            rc = 0;
            if (!in)
                problem(pr, apr_pstrcat(ip, what, " does not match the hop", NULL));
        }
    }
    cur_close(&c);
    peer_verdict(&group, pr);
    if (rc != 0 && rc != DB_NOTFOUND)
        err = db_err_p(ip, st, apr_psprintf(ip, "verifying %s", sx_name[ix]), rc);
    return err;
}

/* Every hop decodes and has its secondary entries. */
static const char *verify_hops(mt_txn_t *t, apr_pool_t *ip, problems_t *pr)
{
    mt_store_t *st = t->store;
    msg_view_t v;
    DBT keys, dv;
    cur_t c;
    int rc, ix, i;

    if ((rc = cur_open(t, st->messages, &c, CUR_ALL)) == 0) {
        for (rc = cur_get(&c, DB_FIRST); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            apr_uint64_t pk;
            apr_pool_clear(ip);
            if (c.k.size != 8) {
                problem(pr, apr_psprintf(ip, "messages: a hop has a key of %u bytes",
                                         (unsigned)c.k.size));
                continue;
            }
            pk = get_u64(c.k.data);
            if (msg_decode(&v, c.d.data, c.d.size, DEC_ALL) != 0) {
                problem(pr, apr_psprintf(ip, "messages: hop %" APR_UINT64_T_FMT
                                         " is damaged", pk));
                continue;
            }
            if ((v.flags & MT_MSG_PEERS) && (v.kind == MT_HOP_MAILBOX || !v.message_id.p))
                problem(pr, apr_psprintf(ip, "messages: hop %" APR_UINT64_T_FMT " lists the "
                                         "hops of its Message-ID, but is %s", pk,
                                         v.message_id.p ? "a mailbox hop" : "without one"));
            for (ix = 0; ix < SX_N && rc == 0; ix++) {
                rc = hop_keys(ix, c.k.data, &v, &keys);
                if (rc == DB_DONOTINDEX) {
                    rc = 0;
                    continue;
                }
                for (i = 0; rc == 0 && i < keys_count(&keys); i++) {
                    DBT k;
                    get_key(&k, keys_at(&keys, i)->data, keys_at(&keys, i)->size);
                    memset(&dv, 0, sizeof(dv));
                    dv.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
                    rc = st->ix[ix]->get(st->ix[ix], t->txn, &k, &dv, 0);
                    if (rc == DB_NOTFOUND) {
                        problem(pr, apr_psprintf(ip, "%s: hop %" APR_UINT64_T_FMT " has no "
                                                 "entry (%s)", sx_name[ix], pk,
                                                 key_text(ip, ix, k.data, k.size)));
                        rc = 0;
                    }
                }
                keys_free(&keys);
            }
            if (rc != 0)
                break;
        }
    }
    cur_close(&c);
    if (rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(ip, st, "verifying the hops", rc);
    return NULL;
}

/* What verify knows of the hop whose chunks it reads. */
typedef struct {
    apr_uint64_t key;
    int have, state;        /* state: 0 no hop, 1 ok, 2 damaged */
    unsigned nevents;
    apr_uint64_t next;      /* the seq after its chunks so far */
} ev_hop_t;

/* Event @a seq of hop @a h belongs to it and is below its nevents. */
static void verify_event_hop(apr_pool_t *ip, problems_t *pr, const ev_hop_t *h, unsigned seq)
{
    if (h->state == 0)
        problem(pr, apr_psprintf(ip, "events: event %" APR_UINT64_T_FMT "/%u belongs to no hop",
                                 h->key, seq));
    else if (h->state == 1 && seq >= h->nevents)
        problem(pr, apr_psprintf(ip, "events: event %" APR_UINT64_T_FMT "/%u is beyond the "
                                 "hop's %u events", h->key, seq, h->nevents));
}

static void chunk_problem(apr_pool_t *ip, problems_t *pr, const ev_hop_t *h, unsigned first,
                          const char *what)
{
    problem(pr, apr_psprintf(ip, "events: the chunk of events from %" APR_UINT64_T_FMT "/%u %s",
                             h->key, first, what));
}

/* Every chunk holds what its head says; every event decodes, belongs to a
 * hop and has seq < its nevents; a hop's chunks do not overlap. */
static const char *verify_events(mt_txn_t *t, apr_pool_t *ip, problems_t *pr)
{
    mt_store_t *st = t->store;
    ev_hop_t h;
    chunk_view_t cv;
    msg_view_t v;
    DBT val;
    cur_t c;
    int rc;

    memset(&h, 0, sizeof(h));
    if ((rc = cur_open(t, st->events, &c, CUR_ALL)) == 0) {
        for (rc = cur_get(&c, DB_FIRST); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            const unsigned char *kb = c.k.data;
            unsigned first, i;
            int cut = 0;
            rd_t eb;

            apr_pool_clear(ip);
            if (c.k.size != 12) {
                problem(pr, apr_psprintf(ip, "events: an event has a key of %u bytes",
                                         (unsigned)c.k.size));
                continue;
            }
            if (!h.have || get_u64(kb) != h.key) {
                h.have = 1;
                h.key = get_u64(kb);
                h.next = 0;
                rc = get_rec(t, kb, &val);
                if (rc == DB_NOTFOUND)
                    h.state = 0;
                else if (rc != 0)
                    break;
                else if (msg_decode(&v, val.data, val.size, DEC_ALL) != 0)
                    h.state = 2;
                else
                    h.state = 1, h.nevents = v.nevents;
                rc = 0;
            }
            first = get_u32(kb + 8);
            if (chunk_head(&cv, kb, c.k.size, c.d.data, c.d.size) != 0) {
                chunk_problem(ip, pr, &h, first, "is damaged");
                verify_event_hop(ip, pr, &h, first);
                continue;
            }
            if (first < h.next)
                chunk_problem(ip, pr, &h, first, apr_psprintf(ip, "overlaps the one before, "
                              "which ends at %u", (unsigned)(h.next - 1)));
            for (i = 0; i < cv.count && cv.rest.p < cv.rest.end; i++) {
                if (chunk_next(&cv, &eb) != 0 || event_decode(NULL, 0, 0, &eb, NULL) != 0)
                    problem(pr, apr_psprintf(ip, "events: event %" APR_UINT64_T_FMT "/%u is "
                                             "damaged", h.key, first + i));
                verify_event_hop(ip, pr, &h, first + i);
                if (cv.rest.bad) {
                    cut = 1;        /* its length goes past the end: nothing follows */
                    break;
                }
            }
            if (!cut && i < cv.count)
                chunk_problem(ip, pr, &h, first, apr_psprintf(ip, "says %u events, its bytes "
                              "hold %u", cv.count, i));
            else if (!cut && cv.rest.p < cv.rest.end)
                chunk_problem(ip, pr, &h, first, apr_psprintf(ip, "has %u bytes after its %u "
                              "events", (unsigned)(cv.rest.end - cv.rest.p), cv.count));
            if ((apr_uint64_t)first + cv.count > h.next)
                h.next = (apr_uint64_t)first + cv.count;
        }
    }
    cur_close(&c);
    if (rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(ip, st, "verifying the events", rc);
    return NULL;
}

/* Every file record decodes. */
static const char *verify_files(mt_txn_t *t, apr_pool_t *ip, problems_t *pr)
{
    mt_store_file_t f;
    cur_t c;
    int rc;

    if ((rc = cur_open(t, t->store->files, &c, CUR_ALL)) == 0) {
        for (rc = cur_get(&c, DB_FIRST); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            apr_pool_clear(ip);
            if (!file_decode(ip, c.k.data, c.k.size, c.d.data, c.d.size, &f))
                problem(pr, "files: a file record is damaged");
        }
    }
    cur_close(&c);
    if (rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(ip, t->store, "verifying the file records", rc);
    return NULL;
}

const char *mt_store_verify(mt_store_t *st, apr_pool_t *p, mt_problem_cb cb, void *baton,
                            apr_uint64_t *count)
{
    problems_t pr;
    apr_pool_t *tp, *ip;
    const char *err;
    mt_txn_t *t;
    int ix;

    pr.cb = cb;
    pr.baton = baton;
    pr.count = 0;
    *count = 0;
    apr_pool_create(&tp, p);
    apr_pool_create(&ip, tp);
    err = mt_store_begin(st, tp, &t);
    for (ix = 0; !err && ix < SX_N; ix++)
        err = verify_index(t, ip, ix, &pr);
    if (!err)
        err = verify_hops(t, ip, &pr);
    if (!err)
        err = verify_events(t, ip, &pr);
    if (!err)
        err = verify_files(t, ip, &pr);
    if (err)
        err = apr_pstrdup(p, err);
    mt_store_abort(t);
    apr_pool_destroy(tp);
    *count = pr.count;
    return err;
}

/* ------------------------------------------------------------------ stats */

/* Count the records of @a db. */
static int count_keys(mt_txn_t *t, DB *db, apr_uint64_t *n)
{
    cur_t c;
    int rc;

    *n = 0;
    if ((rc = cur_open(t, db, &c, CUR_KEYS)) == 0)
        for (rc = cur_get(&c, DB_FIRST); rc == 0; rc = cur_get(&c, DB_NEXT))
            ++*n;
    cur_close(&c);
    return rc == DB_NOTFOUND ? 0 : rc;
}

const char *mt_store_stats(mt_txn_t *t, apr_pool_t *p, mt_store_stats_t *s)
{
    mt_store_t *st = t->store;
    const char *err = NULL;
    msg_view_t v;
    apr_dir_t *d;
    apr_finfo_t fi;
    cur_t c;
    int rc, any = 0;

    memset(s, 0, sizeof(*s));
    if ((err = sx_apply(t)) != NULL)
        return err;
    /* Hops by kind and the newest last time: the head of every hop. */
    if ((rc = cur_open(t, st->messages, &c, CUR_HEAD)) == 0) {
        for (rc = cur_get(&c, DB_FIRST); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            if (c.k.size != 8 || msg_decode(&v, c.d.data, c.d.size, DEC_HEAD) != 0) {
                err = damaged_hop(p, st, c.k.size == 8 ? get_u64(c.k.data) : 0);
                break;
            }
            s->hops[v.kind]++;
            if (!any || v.last > s->newest)
                s->newest = v.last;
            any = 1;
        }
    }
    cur_close(&c);
    if (!err && rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(p, st, "counting the hops", rc);
    if (err)
        return err;
    /* The oldest first time: the first entry of by_time. */
    if ((rc = cur_open(t, st->ix[SX_TIME], &c, CUR_KEYS)) == 0) {
        rc = cur_get(&c, DB_FIRST);
        if (rc == 0 && c.k.size == 16)
            s->oldest = get_time(c.k.data);
    }
    cur_close(&c);
    if (rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(p, st, "reading by_time", rc);
    /* Events: the counts in the heads of the chunks. */
    if ((err = events_flush(t, 1, 0)) != NULL)
        return err;
    if ((rc = cur_open(t, st->events, &c, CUR_HEAD)) == 0) {
        for (rc = cur_get(&c, DB_FIRST); rc == 0; rc = cur_get(&c, DB_NEXT)) {
            chunk_view_t cv;
            if (chunk_head(&cv, c.k.data, c.k.size, c.d.data, c.d.size) != 0) {
                err = damaged_event(p, st, c.k.size >= 8 ? get_u64(c.k.data) : 0,
                                    c.k.size == 12
                                    ? get_u32((const unsigned char *)c.k.data + 8) : 0);
                break;
            }
            s->events += cv.count;
        }
    }
    cur_close(&c);
    if (!err && rc != 0 && rc != DB_NOTFOUND)
        return db_err_p(p, st, "counting the events", rc);
    if (err)
        return err;
    if ((rc = count_keys(t, st->files, &s->files)) != 0)
        return db_err_p(p, st, "counting the file records", rc);
    if (apr_dir_open(&d, st->dir, p) != APR_SUCCESS)
        return apr_psprintf(p, "index %s: cannot read the directory", st->dir);
    for (;;) {
        apr_status_t rv = apr_dir_read(&fi, APR_FINFO_TYPE | APR_FINFO_SIZE, d);
        if (rv != APR_SUCCESS && rv != APR_INCOMPLETE)
            break;
        if ((fi.valid & APR_FINFO_TYPE) && fi.filetype == APR_REG && (fi.valid & APR_FINFO_SIZE))
            s->bytes += (apr_uint64_t)fi.size;
    }
    apr_dir_close(d);
    return NULL;
}
