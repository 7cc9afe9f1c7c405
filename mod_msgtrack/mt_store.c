/* mt_store.c: the Berkeley DB environment, its format record and file offsets */
#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <db.h>
#include "mt_log.h"
#include "mt_store.h"

struct mt_store_t {
    apr_pool_t *pool;
    const char *dir;
    mt_store_mode_e mode;
    DB_ENV *env;
    DB *meta;
    DB *files;
};

struct mt_txn_t {
    mt_store_t *store;
    apr_pool_t *pool;
    DB_TXN *txn;
};

#define FORMAT_KEY "format"

/* ------------------------------------------------------------------ byte order */

static void put_u64(unsigned char *b, unsigned long long v)
{
    int i;
    for (i = 7; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
}

static unsigned long long get_u64(const unsigned char *b)
{
    unsigned long long v = 0;
    int i;
    for (i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
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

void mt_store_close(mt_store_t *st)
{
    if (!st)
        return;
    if (st->files)
        st->files->close(st->files, 0);
    if (st->meta)
        st->meta->close(st->meta, 0);
    if (st->env)
        st->env->close(st->env, 0);
    st->files = st->meta = NULL;
    st->env = NULL;
}

static const char *open_db(mt_store_t *st, DB **db, const char *name)
{
    u_int32_t flags = DB_THREAD | DB_AUTO_COMMIT | DB_MULTIVERSION;
    int rc;

    if ((rc = db_create(db, st->env, 0)) != 0)
        return db_err(st, name, rc);
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
    int rc;

    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = (void *)FORMAT_KEY;
    key.size = sizeof(FORMAT_KEY) - 1;
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
    if (val.size != 8 || get_u64(buf) != MT_STORE_FORMAT)
        return apr_psprintf(st->pool, "index %s is in format %" APR_UINT64_T_FMT "; this "
                            "build reads format %d: rebuild it with this version of "
                            "msgtrack-index", st->dir,
                            (apr_uint64_t)(val.size == 8 ? get_u64(buf) : 0), MT_STORE_FORMAT);
    return NULL;
}

const char *mt_store_open(apr_pool_t *p, const char *dir, mt_store_mode_e mode,
                          mt_store_t **out)
{
    mt_store_t *st = apr_pcalloc(p, sizeof(*st));
    u_int32_t flags = DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN | DB_THREAD;
    apr_finfo_t fi;
    const char *err;
    int rc;

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
    st->env->set_cachesize(st->env, 0, 32 * 1024 * 1024, 1);
    st->env->log_set_config(st->env, DB_LOG_AUTO_REMOVE, 1);

    if (mode == MT_STORE_WRITER)
        flags |= DB_CREATE | DB_REGISTER | DB_RECOVER;
    rc = st->env->open(st->env, st->dir, flags, 0660);
    if (rc != 0) {
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
    if ((err = mt_store_failchk(st)) != NULL
        || (err = open_db(st, &st->meta, "meta")) != NULL
        || (err = open_db(st, &st->files, "files")) != NULL
        || (err = check_format(st)) != NULL) {
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

const char *mt_store_commit(mt_txn_t *t)
{
    int rc;
    if (!t || !t->txn)
        return NULL;
    rc = t->txn->commit(t->txn, 0);
    t->txn = NULL;
    return rc ? db_err_p(t->pool, t->store, "committing", rc) : NULL;
}

void mt_store_abort(mt_txn_t *t)
{
    if (t && t->txn) {
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

int mt_store_file_get(mt_txn_t *t, apr_pool_t *p, unsigned long long dev,
                      unsigned long long ino, mt_store_file_t *f, const char **err)
{
    unsigned char k[16];
    DBT key, val;
    int rc;

    put_u64(k, dev);
    put_u64(k + 8, ino);
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = k;
    key.size = sizeof(k);
    val.flags = DB_DBT_MALLOC;
    rc = t->store->files->get(t->store->files, t->txn, &key, &val, 0);
    if (rc == DB_NOTFOUND)
        return 0;
    if (rc != 0) {
        *err = db_err_p(p, t->store, "reading a file record", rc);
        return -1;
    }
    if (val.size < FILE_FIXED) {
        free(val.data);
        *err = apr_psprintf(p, "index %s: a file record is damaged (run verify)", t->store->dir);
        return -1;
    }
    {
        const unsigned char *b = val.data;
        memset(f, 0, sizeof(*f));
        f->dev = dev;
        f->ino = ino;
        f->head_len = (unsigned)get_u64(b);
        f->head_hash = get_u64(b + 8);
        f->offset = get_u64(b + 16);
        f->lines = get_u64(b + 24);
        f->format = (int)get_u64(b + 32);
        f->updated = (apr_time_t)get_u64(b + 40);
        f->path = apr_pstrmemdup(p, (const char *)b + FILE_FIXED, val.size - FILE_FIXED);
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

static const char *counter(mt_txn_t *t, const char *name, unsigned long long *value, int bump)
{
    DBT key, val;
    unsigned char buf[8];
    char k[80];
    int rc;

    apr_snprintf(k, sizeof(k), "counter:%s", name);
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = k;
    key.size = (u_int32_t)strlen(k);
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
    *value += 1;
    put_u64(buf, *value);
    val.size = 8;
    rc = t->store->meta->put(t->store->meta, t->txn, &key, &val, 0);
    return rc ? db_err_p(t->pool, t->store, "writing a counter", rc) : NULL;
}

const char *mt_store_counter_next(mt_txn_t *t, const char *name, unsigned long long *value)
{
    return counter(t, name, value, 1);
}

const char *mt_store_counter_get(mt_txn_t *t, const char *name, unsigned long long *value)
{
    return counter(t, name, value, 0);
}
