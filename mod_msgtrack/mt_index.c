/* mt_index.c: the module's shared, reopenable handle on the index */
#include <string.h>
#include <apr_allocator.h>
#include <apr_file_info.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include "mt_index.h"
#include "mt_log.h"

/* One opened store and the requests using it. */
typedef struct handle_t {
    apr_pool_t *pool;           /* the store lives here */
    mt_store_t *store;
    int refs;
    int retired;                /* closed once refs drops to 0 */
    apr_time_t checked;         /* last failchk */
    apr_ino_t inode;            /* the directory that was opened */
    apr_dev_t device;
} handle_t;

struct mt_index_t {
    /* Handles' pools are made here, under the mutex, from an allocator of
     * its own: request threads never touch the child pool's allocator. */
    apr_pool_t *pool;
    const char *dir;
    apr_interval_time_t interval;
#if APR_HAS_THREADS
    apr_thread_mutex_t *mutex;
#endif
    handle_t *cur;              /* the handle new requests get, NULL */
};

struct mt_index_ref_t {
    mt_index_t *ix;
    handle_t *h;
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

const char *mt_index_create(apr_pool_t *p, const char *dir,
                            apr_interval_time_t check_interval, mt_index_t **out)
{
    mt_index_t *ix = apr_pcalloc(p, sizeof(*ix));
    apr_allocator_t *alloc;
    apr_status_t rv;

    *out = NULL;
    if ((rv = apr_allocator_create(&alloc)) != APR_SUCCESS)
        return "cannot create an allocator";
    if ((rv = apr_pool_create_ex(&ix->pool, p, NULL, alloc)) != APR_SUCCESS) {
        apr_allocator_destroy(alloc);
        return "cannot create a pool";
    }
    apr_allocator_owner_set(alloc, ix->pool);
#if APR_HAS_THREADS
    if ((rv = apr_thread_mutex_create(&ix->mutex, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS)
        return apr_psprintf(p, "index %s: cannot create its mutex", dir);
#endif
    ix->dir = apr_pstrdup(p, dir);
    ix->interval = check_interval;
    *out = ix;
    return NULL;
}

const char *mt_index_dir(const mt_index_t *ix)
{
    return ix->dir;
}

/* Under the mutex. */
static void handle_destroy(handle_t *h)
{
    apr_pool_destroy(h->pool);      /* closes the store */
}

/* Under the mutex: no new request gets @a h; the last one using it closes it. */
static void retire(mt_index_t *ix, handle_t *h)
{
    if (ix->cur == h)
        ix->cur = NULL;
    h->retired = 1;
    if (h->refs == 0)
        handle_destroy(h);
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

/* Under the mutex: open the index as ix->cur; the error in @a p. */
static const char *handle_open(mt_index_t *ix, apr_pool_t *p)
{
    handle_t *h;
    apr_pool_t *hp;
    const char *err;
    mt_store_t *st;

    apr_pool_create(&hp, ix->pool);
    if ((err = mt_store_open(hp, ix->dir, MT_STORE_READER, &st)) != NULL) {
        err = apr_pstrdup(p, err);
        apr_pool_destroy(hp);
        return err;
    }
    h = apr_pcalloc(hp, sizeof(*h));
    h->pool = hp;
    h->store = st;
    h->checked = apr_time_now();
    if (dir_identity(p, ix->dir, &h->device, &h->inode) != 0)
        h->device = 0, h->inode = 0;
    ix->cur = h;
    MT_LOG(MT_LOG_INFO, "index %s: opened for reading", ix->dir);
    return NULL;
}

/* Under the mutex: is the current handle still good? Retires it if not. */
static void handle_check(mt_index_t *ix, apr_pool_t *p)
{
    handle_t *h = ix->cur;
    apr_time_t now = apr_time_now();
    const char *err;
    apr_dev_t dev;
    apr_ino_t ino;

    if (now - h->checked < ix->interval)
        return;
    h->checked = now;
    if ((err = mt_store_failchk(h->store)) != NULL) {
        MT_LOG(MT_LOG_WARNING, "%s; closing the index to open it again", err);
        retire(ix, h);
        return;
    }
    if (dir_identity(p, ix->dir, &dev, &ino) != 0 || dev != h->device || ino != h->inode) {
        MT_LOG(MT_LOG_NOTICE, "index %s: the directory was replaced; opening it again",
               ix->dir);
        retire(ix, h);
    }
}

const char *mt_index_acquire(mt_index_t *ix, apr_pool_t *p, mt_index_ref_t **out)
{
    mt_index_ref_t *ref;
    const char *err = NULL;

    *out = NULL;
    lock(ix);
    if (ix->cur)
        handle_check(ix, p);
    if (!ix->cur)
        err = handle_open(ix, p);
    if (err) {
        unlock(ix);
        return err;
    }
    ix->cur->refs++;
    ref = apr_palloc(p, sizeof(*ref));
    ref->ix = ix;
    ref->h = ix->cur;
    unlock(ix);
    *out = ref;
    return NULL;
}

mt_store_t *mt_index_store(const mt_index_ref_t *ref)
{
    return ref->h->store;
}

void mt_index_release(mt_index_ref_t *ref, int failed)
{
    mt_index_t *ix;
    handle_t *h;

    if (!ref || !ref->h)
        return;
    ix = ref->ix;
    h = ref->h;
    ref->h = NULL;
    lock(ix);
    h->refs--;
    if (failed && !h->retired) {
        MT_LOG(MT_LOG_NOTICE, "index %s: a read failed; the index is opened again for the "
               "next request", ix->dir);
        retire(ix, h);
    }
    else if (h->retired && h->refs == 0) {
        handle_destroy(h);
    }
    unlock(ix);
}

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
