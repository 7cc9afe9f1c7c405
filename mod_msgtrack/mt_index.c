/* mt_index.c: the module's shared, reopenable handle on the index */
#include <string.h>
#include <apr_file_info.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include "mt_dirlock.h"
#include "mt_index.h"
#include "mt_log.h"

/* How long a request waits for another thread that is opening the index. */
#define OPEN_WAIT apr_time_from_sec(2)
/* A store that failed is closed this many check intervals after it failed
 * (see maybe_close()). */
#define FAILED_CLOSE_CHECKS 30
/* A request that has run this many times mt_index_watch()'s stuck_after
 * counts as stuck even in a store that has not failed: a Find or Get takes
 * milliseconds, and a thread of a killed process can die pinning a page
 * that readers then wait for without any error (seen under bench/stress.sh). */
#define REQUEST_STUCK_FACTOR 6

typedef struct handle_t handle_t;

typedef enum { ACT_REQUEST, ACT_OPEN, ACT_CHECK, ACT_CLOSE } act_kind_e;

static const char *const act_name[] = {
    "a request", "opening the index", "a failure check", "closing the index"
};

/* Something a thread is doing inside the index, linked in ix->active while
 * it lasts: a thread stuck in Berkeley DB never unlinks it, which is how
 * mt_index_watch() sees it. */
typedef struct act_t {
    act_kind_e kind;
    apr_time_t since;
    handle_t *h;                /* the store it uses; NULL while opening */
    struct act_t *prev, *next;
} act_t;

/* One opened store. Its pool is unmanaged (an allocator of its own, no
 * parent), so that it can be destroyed without the mutex. */
struct handle_t {
    apr_pool_t *pool;           /* the store lives here */
    mt_store_t *store;
    int refs;                   /* requests and checks using it */
    int retired;                /* no new requests; closed once refs drops to 0 */
    int failed;                 /* retired because the store failed */
    apr_time_t failed_at;
    int checking;               /* a failure check is running */
    apr_time_t checked;         /* last failure check */
    apr_ino_t inode;            /* the directory that was opened */
    apr_dev_t device;
    handle_t *next;             /* ix->handles */
    handle_t *next_close;       /* ix->to_close */
};

struct mt_index_t {
    const char *dir;
    apr_interval_time_t interval;
#if APR_HAS_THREADS
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *opened;  /* signalled when an open ends */
#endif
    handle_t *cur;              /* the handle new requests get, NULL */
    handle_t *handles;          /* every handle not yet closed */
    handle_t *to_close;         /* retired, unused: closed after the mutex is released */
    int opening;                /* a thread is opening the index */
    act_t *active;
    int leaving;                /* mt_index_watch() found work stuck: no new requests */
    apr_time_t leaving_since;
    char leaving_why[512];
    int closed;                 /* mt_index_close(): no new requests */
    int abandoned;              /* stores that could not be closed (mt_store_close()) */
};

struct mt_index_ref_t {
    mt_index_t *ix;
    act_t act;
    int done;
};

static void lock(mt_index_t *ix)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(ix->mutex);
#else
    (void)ix;
#endif
}

static void unlock(mt_index_t *ix)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(ix->mutex);
#else
    (void)ix;
#endif
}

/* ------------------------------------------------------------------ bookkeeping (under the mutex) */

static void act_add(mt_index_t *ix, act_t *a, act_kind_e kind, handle_t *h)
{
    a->kind = kind;
    a->since = apr_time_now();
    a->h = h;
    a->prev = NULL;
    a->next = ix->active;
    if (ix->active)
        ix->active->prev = a;
    ix->active = a;
}

static void act_remove(mt_index_t *ix, act_t *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        ix->active = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
}

/* Unused and retired: to be closed once the mutex is released. A store
 * that failed is closed only by mt_index_maintain(), FAILED_CLOSE_CHECKS
 * check intervals later (@a late): closing it at once would wait forever
 * when a dead process holds one of the environment's mutexes (the usual
 * reason it failed), whereas by then msgtrack-index has recovered the
 * index, which marks the old environment dead (panic), and closing a dead
 * environment only releases this process's file handles and memory. */
static void maybe_close(mt_index_t *ix, handle_t *h, int late)
{
    handle_t **pp;
    if (!h->retired || h->refs > 0)
        return;
    if (h->failed && (!late || apr_time_now() - h->failed_at
                                   < FAILED_CLOSE_CHECKS * ix->interval))
        return;
    for (pp = &ix->handles; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            h->next_close = ix->to_close;
            ix->to_close = h;
            return;
        }
}

/* No new request gets @a h; the last one using it closes it. */
static void retire(mt_index_t *ix, handle_t *h, int failed)
{
    if (ix->cur == h)
        ix->cur = NULL;
    if (!h->retired) {
        h->retired = 1;
        h->failed = failed;
        h->failed_at = apr_time_now();
        maybe_close(ix, h, 0);
    }
}

/* ------------------------------------------------------------------ Berkeley DB calls (never under the mutex) */

/* Under the mutex: a store that mt_store_close() could not release (the
 * index was recovered under this process). Said once, at WARNING, with what
 * frees it; later ones (one per recovery) at DEBUG, and at DEBUG too when
 * the process is ending anyway. */
static void abandoned(mt_index_t *ix, const char *why)
{
    ix->abandoned++;
    MT_LOG(ix->abandoned == 1 && !ix->closed ? MT_LOG_WARNING : MT_LOG_DEBUG,
           "index %s: closing the index opened before a recovery: %s; stores kept so "
           "far: %d (later ones are logged at debug level). apachectl -k graceful "
           "replaces the processes and frees them", ix->dir, why, ix->abandoned);
}

/* Closes what retire() left to close, then releases the mutex. A close
 * that waits forever (a dead process held one of the environment's
 * mutexes) stays visible as an activity. */
static void unlock_and_close(mt_index_t *ix)
{
    while (ix->to_close) {
        handle_t *h = ix->to_close;
        const char *why;
        act_t a;

        ix->to_close = h->next_close;
        act_add(ix, &a, ACT_CLOSE, NULL);
        unlock(ix);
        why = mt_store_close(h->store);
        apr_pool_destroy(h->pool);
        lock(ix);
        act_remove(ix, &a);
        if (why)
            abandoned(ix, why);
    }
    unlock(ix);
}

static int dir_identity(apr_pool_t *p, const char *dir, apr_dev_t *dev, apr_ino_t *ino)
{
    apr_finfo_t fi;
    if (apr_stat(&fi, dir, APR_FINFO_IDENT, p) != APR_SUCCESS)
        return -1;
    *dev = fi.device;
    *ino = fi.inode;
    return 0;
}

/* Under the mutex, released meanwhile: open the index as ix->cur; the
 * error in @a p. */
static const char *handle_open(mt_index_t *ix, apr_pool_t *p)
{
    handle_t *h = NULL;
    apr_pool_t *hp;
    const char *err;
    mt_store_t *st;
    act_t a;

    ix->opening = 1;
    act_add(ix, &a, ACT_OPEN, NULL);
    unlock(ix);
    if (apr_pool_create_unmanaged_ex(&hp, NULL, NULL) != APR_SUCCESS) {
        err = apr_psprintf(p, "index %s: cannot create a pool", ix->dir);
    }
    else {
        /* mt_store_open() takes the failchk lock (mt_dirlock.h) itself. */
        if ((err = mt_store_open(hp, ix->dir, MT_STORE_READER, &st)) != NULL)
            err = apr_pstrdup(p, err);
        if (err) {
            apr_pool_destroy(hp);
        }
        else {
            h = apr_pcalloc(hp, sizeof(*h));
            h->pool = hp;
            h->store = st;
            h->checked = apr_time_now();
            if (dir_identity(p, ix->dir, &h->device, &h->inode) != 0)
                h->device = 0, h->inode = 0;
        }
    }
    lock(ix);
    act_remove(ix, &a);
    ix->opening = 0;
#if APR_HAS_THREADS
    apr_thread_cond_broadcast(ix->opened);
#endif
    if (h) {
        h->next = ix->handles;
        ix->handles = h;
        if (ix->leaving || ix->closed) {
            h->retired = 1;
            maybe_close(ix, h, 0);
        }
        else {
            ix->cur = h;
            MT_LOG(MT_LOG_INFO, "index %s: opened for reading", ix->dir);
        }
    }
    return err;
}

/* Under the mutex, released meanwhile: failchk and the directory's
 * identity, if due. */
static void handle_check(mt_index_t *ix, apr_pool_t *p, int force)
{
    handle_t *h = ix->cur;
    apr_time_t now = apr_time_now();
    const char *err;
    apr_dev_t dev;
    apr_ino_t ino;
    int replaced = 0;
    act_t a;

    if (!h || h->checking || (!force && now - h->checked < ix->interval))
        return;
    h->checked = now;
    h->checking = 1;
    h->refs++;
    act_add(ix, &a, ACT_CHECK, h);
    unlock(ix);
    /* One failchk at a time (mt_dirlock.h); when another process holds the
     * lock for long, this check is skipped: it runs again next interval. */
    {
        int lk = mt_dirlock_take(ix->dir, apr_time_from_sec(1));
        err = NULL;
        if (lk != -1 && (err = mt_store_failchk(h->store)) != NULL)
            err = apr_pstrdup(p, err);
        mt_dirlock_release(lk);
    }
    if (!err && (dir_identity(p, ix->dir, &dev, &ino) != 0 || dev != h->device
                 || ino != h->inode))
        replaced = 1;
    lock(ix);
    act_remove(ix, &a);
    h->checking = 0;
    h->refs--;
    if (err) {
        MT_LOG(MT_LOG_WARNING, "%s; closing the index to open it again", err);
        retire(ix, h, 1);
    }
    else if (replaced) {
        MT_LOG(MT_LOG_NOTICE, "index %s: the directory was replaced; opening it again",
               ix->dir);
        retire(ix, h, 0);
    }
    maybe_close(ix, h, 0);
}

/* ------------------------------------------------------------------ the handle */

void mt_index_close(mt_index_t *ix, int failed_too)
{
    handle_t *h;

    lock(ix);
    ix->closed = 1;
    ix->cur = NULL;
    while ((h = ix->handles) != NULL) {
        ix->handles = h->next;
        if (h->refs == 0 && (failed_too || !h->failed)) {
            h->retired = 1;
            h->next_close = ix->to_close;
            ix->to_close = h;
        }
    }
    unlock_and_close(ix);
}

static apr_status_t index_cleanup(void *data)
{
    mt_index_close(data, 1);
    return APR_SUCCESS;
}

const char *mt_index_create(apr_pool_t *p, const char *dir,
                            apr_interval_time_t check_interval, mt_index_t **out)
{
    mt_index_t *ix = apr_pcalloc(p, sizeof(*ix));

    *out = NULL;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&ix->mutex, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS
        || apr_thread_cond_create(&ix->opened, p) != APR_SUCCESS)
        return apr_psprintf(p, "index %s: cannot create its mutex", dir);
#endif
    ix->dir = apr_pstrdup(p, dir);
    ix->interval = check_interval;
    /* Registered after the mutex's own cleanup: runs before it. */
    apr_pool_cleanup_register(p, ix, index_cleanup, apr_pool_cleanup_null);
    *out = ix;
    return NULL;
}

const char *mt_index_dir(const mt_index_t *ix)
{
    return ix->dir;
}

const char *mt_index_acquire(mt_index_t *ix, apr_pool_t *p, mt_index_ref_t **out)
{
    mt_index_ref_t *ref;
    const char *err = NULL;
    apr_time_t deadline = apr_time_now() + OPEN_WAIT;
    int checked = 0;

    *out = NULL;
    lock(ix);
    for (;;) {
        if (ix->closed) {
            err = apr_psprintf(p, "index %s: closed", ix->dir);
            break;
        }
        if (ix->leaving) {
            err = apr_psprintf(p, "index %s: this process stops reading it and exits: %s",
                               ix->dir, ix->leaving_why);
            break;
        }
        if (ix->cur && !checked) {
            checked = 1;
            handle_check(ix, p, 0);
            continue;
        }
        if (ix->cur)
            break;
        if (!ix->opening) {
            if ((err = handle_open(ix, p)) != NULL)
                break;
            continue;
        }
        /* Another thread is opening it: wait for that, a while. */
        if (apr_time_now() >= deadline) {
            err = apr_psprintf(p, "index %s: another thread is still opening it", ix->dir);
            break;
        }
#if APR_HAS_THREADS
        apr_thread_cond_timedwait(ix->opened, ix->mutex, deadline - apr_time_now());
#endif
    }
    if (!err) {
        ref = apr_pcalloc(p, sizeof(*ref));
        ref->ix = ix;
        ix->cur->refs++;
        act_add(ix, &ref->act, ACT_REQUEST, ix->cur);
        *out = ref;
    }
    unlock_and_close(ix);
    return err;
}

mt_store_t *mt_index_store(const mt_index_ref_t *ref)
{
    return ref->act.h->store;
}

void mt_index_release(mt_index_ref_t *ref, int failed)
{
    mt_index_t *ix;
    handle_t *h;

    if (!ref || ref->done)
        return;
    ix = ref->ix;
    h = ref->act.h;
    ref->done = 1;
    lock(ix);
    act_remove(ix, &ref->act);
    h->refs--;
    if (failed && !h->retired)
        MT_LOG(MT_LOG_NOTICE, "index %s: a read failed; the index is opened again for the "
               "next request", ix->dir);
    if (failed)
        retire(ix, h, 1);
    maybe_close(ix, h, 0);
    unlock_and_close(ix);
}

void mt_index_maintain(mt_index_t *ix, apr_pool_t *p)
{
    handle_t *h, *next;

    lock(ix);
    if (!ix->leaving && !ix->closed) {
        handle_check(ix, p, 0);
        for (h = ix->handles; h; h = next) {
            next = h->next;
            if (h->failed)
                maybe_close(ix, h, 1);
        }
    }
    unlock_and_close(ix);
}

int mt_index_watch(mt_index_t *ix, apr_interval_time_t stuck_after, const char **why)
{
    apr_time_t now = apr_time_now();
    act_t *a, *stuck = NULL;
    int leave = 0;

    lock(ix);
    if (!ix->leaving) {
        for (a = ix->active; a && !stuck; a = a->next)
            if (now - a->since > stuck_after
                && (a->kind != ACT_REQUEST || a->h->failed
                    || now - a->since > REQUEST_STUCK_FACTOR * stuck_after))
                stuck = a;
        if (stuck) {
            ix->leaving = 1;
            ix->leaving_since = now;
            apr_snprintf(
                ix->leaving_why, sizeof(ix->leaving_why), "%s has waited %" APR_TIME_T_FMT
                " s in index %s%s (a process "
                "probably died inside Berkeley DB holding one of its mutexes, and only "
                "ending this process frees what waits for it)", act_name[stuck->kind],
                apr_time_sec(now - stuck->since), ix->dir,
                stuck->kind != ACT_REQUEST ? "" : stuck->h->failed ? ", which failed"
                : ", which has not failed");
            if (ix->cur)
                retire(ix, ix->cur, 0);     /* closed by its last request */
        }
    }
    if (ix->leaving) {
        /* Leave once what began shortly before is done (what is stuck
         * never will be), or after another stuck_after at most. */
        int young = 0;
        for (a = ix->active; a; a = a->next)
            if (a->since > ix->leaving_since - stuck_after)
                young++;
        leave = young == 0 || now - ix->leaving_since > stuck_after;
        *why = ix->leaving_why;
    }
    unlock(ix);
    return leave;
}

/* ------------------------------------------------------------------ start-up check */

mt_index_state_e mt_index_check(apr_pool_t *p, const char *dir, const char **msg)
{
    apr_finfo_t fi;
    apr_pool_t *sp;
    mt_store_t *st;
    const char *err;
    mt_index_state_e state;

    if (apr_stat(&fi, dir, APR_FINFO_TYPE, p) != APR_SUCCESS) {
        *msg = apr_psprintf(p, "%s does not exist (yet): requests get "
                            "ErrorMessageTrackingTransientError until msgtrack-index "
                            "creates the index there", dir);
        return MT_INDEX_NOT_READY;
    }
    if (fi.filetype != APR_DIR) {
        *msg = apr_psprintf(p, "%s is not a directory", dir);
        return MT_INDEX_UNUSABLE;
    }
    apr_pool_create(&sp, p);
    err = mt_store_open(sp, dir, MT_STORE_READER, &st);
    if (!err) {
        *msg = apr_psprintf(p, "%s: index ready", dir);
        state = MT_INDEX_READY;
    }
    else {
        /* The store names no error classes: an index of another format is
         * the one failure that no later ingest or recovery repairs, and
         * mt_store_open() says it with these words. */
        state = strstr(err, " is in format ") ? MT_INDEX_UNUSABLE : MT_INDEX_NOT_READY;
        *msg = apr_psprintf(p, "%s%s", err, state == MT_INDEX_UNUSABLE ? ""
                            : "; requests get ErrorMessageTrackingTransientError until "
                              "it can be read");
    }
    apr_pool_destroy(sp);
    return state;
}
