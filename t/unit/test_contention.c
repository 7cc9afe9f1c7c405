/* test_contention.c: the writer keeps committing while snapshot readers in
 * other processes search the B-tree roots it rewrites (mt_rwlock.c), and
 * the read-write locks msgtrack-index makes prefer writers (TAP) */
#include "mt_rwlock.h"          /* first: it asks for the GNU extensions */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "tmpdir.h"
#include "fixture.h"
#include "mt_store.h"

/* ------------------------------------------------------------------ the lock kind */

typedef struct {
    pthread_rwlock_t *lock;
    volatile int state;         /* 1 waiting for the write lock, 2 got it */
} wr_t;

static void *take_write(void *data)
{
    wr_t *w = data;
    w->state = 1;
    pthread_rwlock_wrlock(w->lock);
    w->state = 2;
    pthread_rwlock_unlock(w->lock);
    return NULL;
}

/* While this thread holds a read lock and another waits to write, a new
 * reader is turned away (writer preference), within 5 s of the writer
 * starting to wait. 1 turned away, 0 let in every time, -1 setup failed. */
static int reader_turned_away(pthread_rwlock_t *lock)
{
    wr_t w = { lock, 0 };
    pthread_t th;
    int i, away = 0;

    if (pthread_rwlock_rdlock(lock) != 0)
        return -1;
    if (pthread_create(&th, NULL, take_write, &w) != 0) {
        pthread_rwlock_unlock(lock);
        return -1;
    }
    for (i = 0; i < 500 && !away; i++) {
        int rc = pthread_rwlock_tryrdlock(lock);
        if (rc == EBUSY && w.state == 1)
            away = 1;
        else {
            if (rc == 0)
                pthread_rwlock_unlock(lock);
            nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
        }
    }
    pthread_rwlock_unlock(lock);
    pthread_join(th, NULL);
    return w.state == 2 ? away : -1;
}

static void test_lock_kind(void)
{
    static const struct {
        const char *name;
        int attr;               /* 0 none, 1 process-private, 2 process-shared */
    } cases[] = {
        { "no attributes", 0 },
        { "process-private attributes", 1 },
        { "process-shared attributes (as Berkeley DB's)", 2 },
    };
    size_t i;

    if (!mt_rwlock_prefers_writers()) {
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            ok(1, "# SKIP this C library has no writer-preferring read-write locks");
        return;
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Shared memory, as the environment's regions are. */
        pthread_rwlock_t *lock = mmap(NULL, sizeof(*lock), PROT_READ | PROT_WRITE,
                                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        pthread_rwlockattr_t a;
        int rc;

        if (lock == MAP_FAILED) {
            ok(0, "%s: shared memory", cases[i].name);
            continue;
        }
        pthread_rwlockattr_init(&a);
        if (cases[i].attr)
            pthread_rwlockattr_setpshared(&a, cases[i].attr == 2 ? PTHREAD_PROCESS_SHARED
                                                                 : PTHREAD_PROCESS_PRIVATE);
        rc = pthread_rwlock_init(lock, cases[i].attr ? &a : NULL);
        pthread_rwlockattr_destroy(&a);
        if (rc != 0) {
            ok(0, "%s: pthread_rwlock_init: %s", cases[i].name, strerror(rc));
        }
        else {
            is_int(reader_turned_away(lock), 1,
                   "%s: a new reader waits while a writer waits", cases[i].name);
            pthread_rwlock_destroy(lock);
        }
        munmap(lock, sizeof(*lock));
    }
}

/* ------------------------------------------------------------------ the writer against spinning readers */

#define SENDERS 16
#define HOPS_KEPT 48            /* few enough that each index is one page: its root */
#define HOPS_PER_TXN 8
#define READER_PROCS 3
#define READER_THREADS 6
#define COMMITS 100
#define WRITE_SECONDS 60        /* for COMMITS: a few seconds, even on a busy machine */
#define STALL_SECONDS 10        /* normally milliseconds; minutes in the livelock */

typedef struct {
    volatile long reads;        /* in shared memory: every reader adds */
    volatile long read_errors;
    volatile int stop;
} shared_t;

typedef struct {
    mt_store_t *st;
    shared_t *sh;
    unsigned seed;
} reader_t;

static const char *sender(apr_pool_t *p, unsigned i)
{
    return apr_psprintf(p, "sender%u@example.org", i % SENDERS);
}

static int count_hit(void *baton, apr_uint64_t key, apr_time_t first)
{
    (void)key; (void)first;
    ++*(long *)baton;
    return 0;
}

static void *reader_run(void *data)
{
    reader_t *r = data;
    apr_pool_t *p;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    while (!r->sh->stop) {
        mt_txn_t *t;
        const char *err;
        long hits = 0;

        apr_pool_clear(p);
        err = mt_store_begin(r->st, p, &t);
        if (!err) {
            err = mt_store_scan(t, p, MT_IX_SENDER, sender(p, (unsigned)rand_r(&r->seed)), 0,
                                fx_td(30, 0, 0, 0), count_hit, &hits);
            mt_store_abort(t);
        }
        if (err) {
            if (__atomic_add_fetch(&r->sh->read_errors, 1, __ATOMIC_RELAXED) == 1)
                printf("# reader: %s\n", err);
        }
        __atomic_add_fetch(&r->sh->reads, 1, __ATOMIC_RELAXED);
    }
    apr_pool_destroy(p);
    return NULL;
}

/* A reading process: READER_THREADS threads searching by sender, in
 * snapshot transactions, as the module's request threads do. */
static void reader_process(const char *dir, shared_t *sh, int n)
{
    apr_pool_t *p;
    mt_store_t *st;
    pthread_t th[READER_THREADS];
    reader_t r[READER_THREADS];
    const char *err;
    int i;

    apr_pool_create(&p, NULL);
    if ((err = mt_store_open(p, dir, MT_STORE_READER, &st)) != NULL) {
        printf("# reader %d: %s\n", n, err);
        sh->read_errors++;
        _exit(1);
    }
    for (i = 0; i < READER_THREADS; i++) {
        r[i].st = st;
        r[i].sh = sh;
        r[i].seed = (unsigned)(n * 100 + i + 1);
        pthread_create(&th[i], NULL, reader_run, &r[i]);
    }
    for (i = 0; i < READER_THREADS; i++)
        pthread_join(th[i], NULL);
    mt_store_close(st);
    _exit(0);
}

typedef struct {
    volatile long commits;
    volatile int done;
    pid_t readers[READER_PROCS];
} watch_t;

/* Ends the test, and the readers, if the writer stops for STALL_SECONDS:
 * without it a livelock would hang the suite. */
static void *watch_run(void *data)
{
    watch_t *w = data;
    long seen = -1;
    int still = 0, i;
    while (!w->done) {
        sleep(1);
        if (w->commits != seen) {
            seen = w->commits;
            still = 0;
        }
        else if (++still > STALL_SECONDS + 5) {
            printf("not ok - the writer has committed nothing for %d s (after %ld commits): "
                   "it and the readers are stuck\n", still, seen);
            fflush(stdout);
            for (i = 0; i < READER_PROCS; i++)
                kill(w->readers[i], SIGKILL);
            _exit(1);
        }
    }
    return NULL;
}

/* Hop @a n of the writer (sender n % SENDERS), written in @a fx's
 * transaction; its key. */
static apr_uint64_t put_hop(fx_t *fx, unsigned n)
{
    return fx_hop(fx, MT_HOP_POSTFIX, fx_td(10, 8, 0, (int)(n % 60)), "mx1",
                  apr_psprintf(fx->p, "Q%u", n), apr_psprintf(fx->p, "<%u@t>", n),
                  sender(fx->p, n), "s", NULL, 0, "r@example.org", NULL)->key;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_writer_lives(apr_pool_t *p)
{
    char *dir = tmpdir_make(p, "mt-contention");
    shared_t *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
    apr_uint64_t kept[HOPS_KEPT];
    watch_t w;
    pthread_t wt;
    mt_store_t *st;
    fx_t fx;
    const char *err;
    double start, last, gap = 0;
    unsigned n = 0;
    int i, status, clean = 1;

    memset(&w, 0, sizeof(w));
    if (sh == MAP_FAILED || !dir) {
        ok(0, "scratch directory and shared memory");
        return;
    }
    memset(sh, 0, sizeof(*sh));
    /* The index, created here as msgtrack-index creates it. */
    err = fx_open(p, dir, 0, &st, &fx);
    for (; !err && n < HOPS_KEPT; n++)
        kept[n % HOPS_KEPT] = put_hop(&fx, n);
    if (!err)
        err = fx_commit(&fx);
    if (st)
        mt_store_close(st);
    if (err) {
        ok(0, "the index: %s", err);
        return;
    }

    fflush(stdout);
    for (i = 0; i < READER_PROCS; i++) {
        if ((w.readers[i] = fork()) == 0)
            reader_process(dir, sh, i);
    }
    pthread_create(&wt, NULL, watch_run, &w);

    /* The writer: each transaction replaces HOPS_PER_TXN hops, so every
     * index stays one page, its root, and every transaction makes a new
     * version of each root, which the readers are searching. */
    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    start = last = now_ms();
    while (!err && w.commits < COMMITS && now_ms() - start < WRITE_SECONDS * 1e3) {
        apr_pool_t *tp;
        double t;
        int j;

        apr_pool_create(&tp, p);
        memset(&fx, 0, sizeof(fx));
        fx.p = tp;
        err = mt_store_begin(st, tp, &fx.t);
        for (j = 0; !err && j < HOPS_PER_TXN; j++, n++) {
            err = mt_store_msg_del(fx.t, kept[n % HOPS_KEPT]);
            if (!err)
                kept[n % HOPS_KEPT] = put_hop(&fx, n);
        }
        if (!err)
            err = fx_commit(&fx);
        apr_pool_destroy(tp);
        t = now_ms();
        if (t - last > gap)
            gap = t - last;
        last = t;
        w.commits++;
    }
    if (st)
        mt_store_close(st);
    sh->stop = 1;
    w.done = 1;
    pthread_join(wt, NULL);
    for (i = 0; i < READER_PROCS; i++)
        if (waitpid(w.readers[i], &status, 0) != w.readers[i] || !WIFEXITED(status)
            || WEXITSTATUS(status) != 0)
            clean = 0;

    ok(!err, "the writer's transactions succeed%s%s", err ? ": " : "", err ? err : "");
    /* Liveness, not speed: the bounds are two orders of magnitude above
     * what the writer needs, and what a livelock takes. */
    ok(w.commits == COMMITS && gap < STALL_SECONDS * 1e3,
       "the writer committed %ld of %d transactions while %d snapshot readers in %d "
       "processes searched the roots it rewrote (in %.1f s, at most %d; longest wait "
       "between commits %.0f ms, at most %d s)", w.commits, COMMITS,
       READER_PROCS * READER_THREADS, READER_PROCS, (last - start) / 1e3, WRITE_SECONDS, gap,
       STALL_SECONDS);
    ok(sh->reads > 0 && sh->read_errors == 0, "the readers searched %ld times, %ld errors",
       sh->reads, sh->read_errors);
    ok(clean, "every reading process closed the index and ended cleanly");
    munmap(sh, sizeof(*sh));
    tmpdir_remove(p, dir);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_lock_kind();
    test_writer_lives(p);
    printf("1..%d\n", tap_count);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_failures ? 1 : 0;
}
