/* test_index.c: the module's shared handle on the index: start-up checks,
 * joining late, retiring a failed store, a replaced directory, maintenance,
 * watching for stuck work, closing, one failchk at a time, threads (TAP) */
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <db.h>
#include "tap.h"
#include "tmpdir.h"
#include "mt_dirlock.h"
#include "mt_index.h"
#include "mt_log.h"
#include "mt_store.h"

/* test_recovered() keeps, on purpose, the environments that a recovery made
 * impossible to close (the store's known leak, mt_store_close()): what it
 * allocates is not LeakSanitizer's to report. */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#define LSAN_DISABLE() __lsan_disable()
#define LSAN_ENABLE() __lsan_enable()
#else
#define LSAN_DISABLE() ((void)0)
#define LSAN_ENABLE() ((void)0)
#endif

/* What the core logged last, and how often; nothing while threads run. */
static char last_log[512];
static int log_count, log_off, abandoned_logs;

static void log_cb(void *baton, const char *file, int line, mt_log_level_e level,
                   const char *msg)
{
    (void)baton; (void)file; (void)line; (void)level;
    if (log_off)
        return;
    apr_cpystrn(last_log, msg, sizeof(last_log));
    log_count++;
    if (strstr(msg, "cannot be closed"))
        abandoned_logs++;
}

static int log_enabled(void *baton, mt_log_level_e level)
{
    (void)baton;
    return level <= MT_LOG_INFO;
}

/* ------------------------------------------------------------------ fixture */

/* An index in @a dir holding one hop with Message-ID @a msgid. */
static int build(apr_pool_t *p, const char *dir, const char *msgid)
{
    apr_pool_t *sp;
    mt_store_t *st;
    mt_txn_t *t;
    mt_msg_t m;
    const char *err;

    apr_pool_create(&sp, p);
    err = mt_store_open(sp, dir, MT_STORE_WRITER, &st);
    if (!err)
        err = mt_store_begin(st, sp, &t);
    if (!err) {
        memset(&m, 0, sizeof(m));
        m.kind = MT_HOP_POSTFIX;
        m.first = m.last = apr_time_from_sec(1795000000);
        m.host = "mx1";
        m.local_id = "ABC";
        m.message_id = msgid;
        m.sender = "alice@example.org";
        m.size = -1;
        m.nrcpt = -1;
        m.rcpts = apr_array_make(sp, 1, sizeof(mt_rcpt_t));
        m.hdr_rcpts = apr_array_make(sp, 1, sizeof(const char *));
        if (!(err = mt_store_msg_new(t, &m)) && !(err = mt_store_msg_put(t, &m)))
            err = mt_store_commit(t);
    }
    if (err)
        printf("# build %s: %s\n", dir, err);
    apr_pool_destroy(sp);
    return err ? -1 : 0;
}

/* Does the store of @a ref hold a hop with @a msgid? 1, 0, -1 on error. */
typedef struct {
    int n;
} count_t;

static int count_cb(void *baton, apr_uint64_t key, apr_time_t first)
{
    (void)key; (void)first;
    ((count_t *)baton)->n++;
    return 0;
}

static int holds(apr_pool_t *p, const mt_index_ref_t *ref, const char *msgid)
{
    mt_txn_t *t;
    count_t c = { 0 };
    const char *err = mt_store_begin(mt_index_store(ref), p, &t);
    if (!err)
        err = mt_store_scan(t, p, MT_IX_MSGID, msgid, APR_INT64_MIN, APR_INT64_MAX, count_cb,
                            &c);
    mt_store_abort(t);
    if (err) {
        printf("# holds: %s\n", err);
        return -1;
    }
    return c.n > 0;
}

/* Rewrite the index's format record, the way an index of another version
 * would have it (big-endian 8 bytes, as the store writes it). */
static int set_format(const char *dir, unsigned long long v)
{
    DB_ENV *env = NULL;
    DB *db = NULL;
    DBT k, d;
    unsigned char buf[8];
    int rc, i;

    for (i = 7; i >= 0; i--, v >>= 8)
        buf[i] = (unsigned char)(v & 0xff);
    if ((rc = db_env_create(&env, 0)) != 0)
        return rc;
    rc = env->open(env, dir, DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN, 0);
    if (rc == 0)
        rc = db_create(&db, env, 0);
    if (rc == 0)
        rc = db->open(db, NULL, "meta", NULL, DB_BTREE, DB_AUTO_COMMIT, 0);
    if (rc == 0) {
        memset(&k, 0, sizeof(k));
        memset(&d, 0, sizeof(d));
        k.data = (void *)"format";
        k.size = 6;
        d.data = buf;
        d.size = 8;
        rc = db->put(db, NULL, &k, &d, DB_AUTO_COMMIT);
    }
    if (db)
        db->close(db, 0);
    env->close(env, 0);
    return rc;
}

/* ------------------------------------------------------------------ start-up checks */

static void test_check(apr_pool_t *p, const char *root)
{
    const char *msg = NULL, *dir;
    FILE *f;

    dir = apr_pstrcat(p, root, "/missing", NULL);
    is_int(mt_index_check(p, dir, &msg), MT_INDEX_NOT_READY, "check: a missing directory");
    like(msg, dir, "check: a missing directory is named");

    dir = apr_pstrcat(p, root, "/file", NULL);
    if ((f = fopen(dir, "w")))
        fclose(f);
    is_int(mt_index_check(p, dir, &msg), MT_INDEX_UNUSABLE, "check: a file");
    like(msg, "is not a directory", "check: a file is not a directory");
    like(msg, dir, "check: the file is named");

    dir = apr_pstrcat(p, root, "/empty", NULL);
    apr_dir_make(dir, APR_FPROT_OS_DEFAULT, p);
    is_int(mt_index_check(p, dir, &msg), MT_INDEX_NOT_READY, "check: an empty directory");
    like(msg, "no Berkeley DB environment", "check: an empty directory holds no index yet");
    like(msg, dir, "check: the empty directory is named");

    dir = apr_pstrcat(p, root, "/good", NULL);
    ok(build(p, dir, "<one@example.org>") == 0, "check: index built");
    is_int(mt_index_check(p, dir, &msg), MT_INDEX_READY, "check: an index");

    dir = apr_pstrcat(p, root, "/other-format", NULL);
    ok(build(p, dir, "<one@example.org>") == 0, "check: second index built");
    is_int(set_format(dir, 99), 0, "check: format record rewritten");
    is_int(mt_index_check(p, dir, &msg), MT_INDEX_UNUSABLE, "check: an index of another format");
    like(msg, "format 99", "check: the format is said");
    like(msg, dir, "check: the index is named");
}

/* ------------------------------------------------------------------ joining late */

static void test_late(apr_pool_t *p, const char *root)
{
    const char *dir = apr_pstrcat(p, root, "/late", NULL), *err;
    mt_index_t *ix;
    mt_index_ref_t *ref;

    ok(!mt_index_create(p, dir, apr_time_from_sec(60), &ix), "late: handle created");
    is_str(mt_index_dir(ix), dir, "late: its directory");
    err = mt_index_acquire(ix, p, &ref);
    ok(err && !ref, "late: no index yet");
    like(err, dir, "late: the reason names the directory");
    like(err, "does not exist", "late: the reason says what is wrong");
    err = mt_index_acquire(ix, p, &ref);
    ok(err && !ref, "late: still none");

    ok(build(p, dir, "<late@example.org>") == 0, "late: the index appears");
    err = mt_index_acquire(ix, p, &ref);
    ok(!err && ref, "late: the next request joins it%s%s", err ? ": " : "", err ? err : "");
    if (ref) {
        is_int(holds(p, ref, "<late@example.org>"), 1, "late: and reads it");
        mt_index_release(ref, 0);
    }
}

/* ------------------------------------------------------------------ retiring */

static void test_retire(apr_pool_t *p, const char *root)
{
    const char *dir = apr_pstrcat(p, root, "/retire", NULL), *err;
    mt_index_t *ix;
    mt_index_ref_t *a, *b, *c, *d;

    ok(build(p, dir, "<r@example.org>") == 0, "retire: index built");
    ok(!mt_index_create(p, dir, apr_time_from_sec(60), &ix), "retire: handle created");
    ok(!mt_index_acquire(ix, p, &a) && !mt_index_acquire(ix, p, &b), "retire: two requests");
    ok(mt_index_store(a) == mt_index_store(b), "retire: they share one store");
    mt_index_release(a, 1);
    like(last_log, "a read failed; the index is opened again", "retire: said in the log");
    is_int(holds(p, b, "<r@example.org>"), 1,
           "retire: a request using a retired store finishes with it");
    err = mt_index_acquire(ix, p, &c);
    ok(!err && c && mt_index_store(c) != mt_index_store(b),
       "retire: the next request gets a store opened again");
    mt_index_release(b, 0);
    is_int(holds(p, c, "<r@example.org>"), 1, "retire: the new store reads");
    mt_index_release(c, 0);
    ok(!mt_index_acquire(ix, p, &d) && mt_index_store(d) != NULL, "retire: and is kept");
    mt_index_release(d, 0);
    mt_index_release(NULL, 1);
    ok(1, "retire: releasing nothing is harmless");
}

/* ------------------------------------------------------------------ replaced directory */

static void test_replaced(apr_pool_t *p, const char *root)
{
    const char *dir = apr_pstrcat(p, root, "/replaced", NULL);
    const char *fresh = apr_pstrcat(p, root, "/replaced.new", NULL);
    const char *old = apr_pstrcat(p, root, "/replaced.old", NULL);
    mt_index_t *ix;
    mt_index_ref_t *ref;

    ok(build(p, dir, "<before@example.org>") == 0, "replaced: index built");
    ok(!mt_index_create(p, dir, 0, &ix), "replaced: handle checking every time");
    ok(!mt_index_acquire(ix, p, &ref), "replaced: opened");
    is_int(holds(p, ref, "<before@example.org>"), 1, "replaced: reads the first index");
    mt_index_release(ref, 0);

    ok(build(p, fresh, "<after@example.org>") == 0, "replaced: another index built");
    ok(rename(dir, old) == 0 && rename(fresh, dir) == 0, "replaced: renamed into place");
    log_count = 0;
    ok(!mt_index_acquire(ix, p, &ref), "replaced: opened again");
    like(last_log, "opened for reading", "replaced: the log says the index was opened");
    is_int(holds(p, ref, "<after@example.org>"), 1, "replaced: reads the new index");
    is_int(holds(p, ref, "<before@example.org>"), 0, "replaced: not the old one");
    is_int(log_count, 2, "replaced: logged the replacement and the new open");
    mt_index_release(ref, 0);
}

/* ------------------------------------------------------------------ maintenance and watch */

/* mt_index_maintain() runs the periodic check without a request: a
 * replaced directory is noticed by it. */
static void test_maintain(apr_pool_t *p, const char *root)
{
    const char *dir = apr_pstrcat(p, root, "/maintain", NULL);
    const char *fresh = apr_pstrcat(p, root, "/maintain.new", NULL);
    const char *old = apr_pstrcat(p, root, "/maintain.old", NULL);
    mt_index_t *ix;
    mt_index_ref_t *ref;
    const char *why = NULL;

    ok(build(p, dir, "<m1@example.org>") == 0, "maintain: index built");
    ok(!mt_index_create(p, dir, 0, &ix), "maintain: handle created");
    ok(!mt_index_acquire(ix, p, &ref), "maintain: opened");
    mt_index_release(ref, 0);
    ok(build(p, fresh, "<m2@example.org>") == 0 && rename(dir, old) == 0
       && rename(fresh, dir) == 0, "maintain: another index renamed into place");
    last_log[0] = '\0';
    mt_index_maintain(ix, p);
    like(last_log, "the directory was replaced", "maintain: notices it without a request");
    is_int(mt_index_watch(ix, 0, &why), 0, "watch: nothing in progress, nothing stuck");
    ok(!mt_index_acquire(ix, p, &ref), "maintain: the next request opens the new index");
    is_int(holds(p, ref, "<m2@example.org>"), 1, "maintain: and reads it");
    apr_sleep(2000);
    is_int(mt_index_watch(ix, 1000, &why), 0,
           "watch: a long request on a store that did not fail is not stuck");
    apr_sleep(6000);
    is_int(mt_index_watch(ix, 1000, &why), 1,
           "watch: six times the limit, it is stuck even on a store that did not fail");
    like(why ? why : "", "/maintain, which has not failed (a process probably died",
         "watch: saying so");
    mt_index_release(ref, 0);
}

/* A request that holds a store that failed, longer than the limit, is
 * stuck: the handle refuses new requests and says to leave. */
static void test_watch(apr_pool_t *p, const char *root)
{
    const char *dir = apr_pstrcat(p, root, "/watch", NULL), *why = NULL, *err;
    mt_index_t *ix;
    mt_index_ref_t *a, *b, *c;

    ok(build(p, dir, "<w@example.org>") == 0, "watch: index built");
    ok(!mt_index_create(p, dir, apr_time_from_sec(60), &ix), "watch: handle created");
    ok(!mt_index_acquire(ix, p, &a) && !mt_index_acquire(ix, p, &b), "watch: two requests");
    mt_index_release(b, 1);                 /* the store failed under a */
    is_int(mt_index_watch(ix, apr_time_from_sec(60), &why), 0,
           "watch: a request on a failed store is not stuck before the limit");
    ok(!mt_index_acquire(ix, p, &c), "watch: new requests get a new store");
    apr_sleep(2000);
    is_int(mt_index_watch(ix, 1000, &why), 1,
           "watch: past the limit it is stuck, and nothing else began shortly before");
    like(why ? why : "", "/watch, which failed (a process probably died inside Berkeley DB",
         "watch: says what is stuck, where");
    err = mt_index_acquire(ix, p, &b);
    ok(err && !b, "watch: then new requests are refused");
    like(err ? err : "", "this process stops reading it and exits",
         "watch: saying why");
    is_int(holds(p, c, "<w@example.org>"), 1, "watch: a request already running goes on");
    mt_index_release(c, 0);
    mt_index_release(a, 0);
    is_int(mt_index_watch(ix, 1000, &why), 1, "watch: and it stays so");
}

/* A writer killed with the index open, then another writer: it recovers
 * the index, which panics the environment the handle's store is in. */
static int kill_writer_and_recover(apr_pool_t *p, const char *dir, const char *msgid)
{
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        apr_pool_t *cp;
        mt_store_t *st;
        apr_pool_create(&cp, NULL);
        if (mt_store_open(cp, dir, MT_STORE_WRITER, &st) == NULL)
            kill(getpid(), SIGKILL);
        _exit(1);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
        return -1;
    return build(p, dir, msgid);
}

/* After a recovery the old store cannot be closed (mt_store_close() says
 * so); the handle says it once, with what to do, and goes on reading. */
static void test_recovered(apr_pool_t *p, const char *root)
{
    const char *dir = apr_pstrcat(p, root, "/recovered", NULL);
    mt_index_t *ix;
    mt_index_ref_t *ref;
    int round;

    LSAN_DISABLE();
    ok(build(p, dir, "<r0@example.org>") == 0, "recovered: index built");
    ok(!mt_index_create(p, dir, 0, &ix), "recovered: handle checking every time");
    abandoned_logs = 0;
    for (round = 1; round <= 2; round++) {
        const char *id = apr_psprintf(p, "<r%d@example.org>", round);
        ok(!mt_index_acquire(ix, p, &ref), "recovered %d: opened", round);
        mt_index_release(ref, 0);
        ok(kill_writer_and_recover(p, dir, id) == 0,
           "recovered %d: a writer killed, the next one recovers the index", round);
        ok(!mt_index_acquire(ix, p, &ref), "recovered %d: the next request opens it again",
           round);
        is_int(holds(p, ref, id), 1, "recovered %d: and reads what was written since", round);
        mt_index_release(ref, 0);
        last_log[0] = '\0';
        mt_index_maintain(ix, p);
        if (round == 1) {
            like(last_log, "cannot be closed", "recovered: closing the old store says it "
                 "could not be released");
            like(last_log, "until it exits", "recovered: and until when it is kept");
            like(last_log, "apachectl -k graceful", "recovered: and what frees it");
        }
    }
    is_int(abandoned_logs, 1, "recovered: said once, not at each recovery");
    mt_index_close(ix, 1);
    LSAN_ENABLE();
}

/* mt_index_close(): stores nobody uses are closed, new requests refused. */
static void test_close(apr_pool_t *p, const char *root)
{
    const char *dir = apr_pstrcat(p, root, "/close", NULL);
    mt_index_t *ix;
    mt_index_ref_t *ref;

    ok(build(p, dir, "<c@example.org>") == 0, "close: index built");
    ok(!mt_index_create(p, dir, apr_time_from_sec(60), &ix), "close: handle created");
    ok(!mt_index_acquire(ix, p, &ref), "close: opened");
    mt_index_release(ref, 0);
    mt_index_close(ix, 0);
    ok(mt_index_acquire(ix, p, &ref) != NULL && !ref, "close: no request afterwards");
    mt_index_close(ix, 1);
    ok(1, "close: twice is harmless");
}

/* ------------------------------------------------------------------ one failchk at a time */

/* Opening runs failchk, which must not run in two processes at once: while
 * another holds the directory's lock, an open waits for it, then gives up. */
static void test_dirlock(apr_pool_t *p, const char *root)
{
    const char *dir = apr_pstrcat(p, root, "/dirlock", NULL), *err;
    mt_index_t *ix;
    mt_index_ref_t *ref;
    apr_time_t t0;
    int lk, again;

    ok(build(p, dir, "<d@example.org>") == 0, "dirlock: index built");
    ok(!mt_index_create(p, dir, apr_time_from_sec(60), &ix), "dirlock: handle created");
    lk = mt_dirlock_take(dir, 0);
    ok(lk >= 0, "dirlock: taken");
    again = mt_dirlock_take(dir, apr_time_from_msec(100));
    is_int(again, -1, "dirlock: not twice, even in one process");
    t0 = apr_time_now();
    err = mt_index_acquire(ix, p, &ref);
    ok(err && !ref && apr_time_now() - t0 >= apr_time_from_sec(1),
       "dirlock: an open waits while another holds it, then gives up");
    like(err ? err : "", "another process has been opening or checking it",
         "dirlock: saying why");
    mt_dirlock_release(lk);
    err = mt_index_acquire(ix, p, &ref);
    ok(!err && ref, "dirlock: once it is released, the index opens");
    if (ref)
        mt_index_release(ref, 0);
    is_int(mt_dirlock_take(apr_pstrcat(p, root, "/none", NULL), 0), -2,
           "dirlock: a directory that does not exist is said so");
}

/* ------------------------------------------------------------------ threads */

#define THREADS 6
#define ROUNDS 200

typedef struct {
    mt_index_t *ix;
    int failures;
} worker_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *th, void *data)
{
    worker_t *w = data;
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < ROUNDS; i++) {
        mt_index_ref_t *ref;
        if (mt_index_acquire(w->ix, p, &ref) != NULL) {
            w->failures++;
            continue;
        }
        if (holds(p, ref, "<t@example.org>") != 1)
            w->failures++;
        /* Now and then a request says the store failed, and the stores
         * that failed are closed (the interval is 0: at once). */
        mt_index_release(ref, i % 17 == 0);
        if (i % 17 == 1)
            mt_index_maintain(w->ix, p);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    /* Returning, not apr_thread_exit(): pthread_exit's unwinding upsets
     * AddressSanitizer's bookkeeping of the thread's stack. */
    (void)th;
    return NULL;
}

static void test_threads(apr_pool_t *p, const char *root)
{
    const char *dir = apr_pstrcat(p, root, "/threads", NULL);
    apr_thread_t *th[THREADS];
    worker_t w[THREADS];
    mt_index_t *ix;
    int i, started = 0, failures = 0;

    ok(build(p, dir, "<t@example.org>") == 0, "threads: index built");
    ok(!mt_index_create(p, dir, 0, &ix), "threads: handle created");
    log_off = 1;
    for (i = 0; i < THREADS; i++) {
        w[i].ix = ix;
        w[i].failures = 0;
        if (apr_thread_create(&th[i], NULL, worker, &w[i], p) == APR_SUCCESS)
            started++;
    }
    is_int(started, THREADS, "threads: started");
    for (i = 0; i < started; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, th[i]);
        failures += w[i].failures;
    }
    log_off = 0;
    is_int(failures, 0, "threads: %d x %d requests read the index while stores were retired "
           "and reopened", THREADS, ROUNDS);
}

/* ------------------------------------------------------------------ main */

int main(int argc, const char *const *argv)
{
    apr_pool_t *p, *cp;
    char *root;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    mt_log_set(log_cb, log_enabled, NULL);
    root = tmpdir_make(p, "mt-index");
    ok(root != NULL, "scratch directory");
    if (!root)
        return tap_done();

    /* The handles live in a pool of their own, like a child's. */
    apr_pool_create(&cp, p);
    test_check(cp, root);
    test_late(cp, root);
    test_retire(cp, root);
    test_replaced(cp, root);
    test_maintain(cp, root);
    test_watch(cp, root);
    test_close(cp, root);
    test_recovered(cp, root);
    test_dirlock(cp, root);
    test_threads(cp, root);
    apr_pool_destroy(cp);
    ok(1, "handles destroyed with their pool");

    tmpdir_remove(p, root);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
