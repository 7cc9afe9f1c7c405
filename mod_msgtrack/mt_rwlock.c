/* mt_rwlock.c: writer-preferring read-write locks for the Berkeley DB
 * environments msgtrack-index creates.
 *
 * Linked into msgtrack-index only (never into the module): this file
 * defines pthread_rwlock_init(), which the executable's symbols take
 * precedence for over the C library's, for every library the program
 * loads, Berkeley DB among them.
 *
 * Why. Berkeley DB (5.3, built with POSIX shared latches as Debian builds
 * it) guards each buffer of its cache and each bucket of the cache's hash
 * table with a process-shared pthread read-write lock, initialised when
 * the environment's regions are created, which msgtrack-index does. The C
 * library's default lets a new reader in while a writer waits. With
 * multiversion readers that is a livelock:
 *
 *   - the writer makes a new version of a B-tree root: it latches the
 *     current version exclusively, copies it, then waits to lock the
 *     page's hash bucket exclusively to link the copy in;
 *   - every snapshot reader that starts a search there fetches the root
 *     with DB_MPOOL_TRY (bt_search.c): it read-locks the bucket, finds the
 *     latched buffer, fails to latch it, and, taking no page lock (snapshot
 *     readers do not lock), tries again at once;
 *   - with a dozen such readers on two CPUs, one of them nearly always
 *     holds the bucket's read lock, so the writer waits, and the readers
 *     spin, for as long as they keep coming: tens of seconds were seen
 *     under bench/stress.sh, the writer's transactions stopped and the
 *     httpd children's request threads spun until their watch ended them.
 *
 * With writer preference a reader that finds a writer waiting blocks
 * instead, the writer gets the bucket, links its copy and lets the
 * readers go. Berkeley DB does not read-lock a latch it already holds
 * (cursors release their pages after each call), so the non-recursive
 * kind is safe. The kind is stored in the lock itself, in the shared
 * region, so it holds for every process that uses the environment,
 * httpd's children included; buffers that a reading process adds to the
 * cache later get that process's default, which is not where the readers
 * spin. t/unit/test_contention runs the writer against spinning readers.
 *
 * Where the C library has no writer-preferring kind, nothing is defined
 * and the default stays. */
#include "mt_rwlock.h"

#ifdef MT_HAVE_RWLOCK_PREFER_WRITER
#include <dlfcn.h>

typedef int (*rwlock_init_fn)(pthread_rwlock_t *, const pthread_rwlockattr_t *);

int pthread_rwlock_init(pthread_rwlock_t *restrict lock, const pthread_rwlockattr_t *restrict attr)
{
    /* The C library's own, looked up each time: locks are initialised when
     * regions are created, not on any path that counts. */
    rwlock_init_fn next = (rwlock_init_fn)(void (*)(void))dlsym(RTLD_NEXT, "pthread_rwlock_init");
    pthread_rwlockattr_t a;
    int pshared = PTHREAD_PROCESS_PRIVATE, rc;

    if (!next)
        return ENOSYS;
    if (attr && pthread_rwlockattr_getpshared(attr, &pshared) != 0)
        return next(lock, attr);
    if (pthread_rwlockattr_init(&a) != 0)
        return next(lock, attr);
    if (pthread_rwlockattr_setpshared(&a, pshared) != 0
        || pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) != 0)
        rc = next(lock, attr);
    else
        rc = next(lock, &a);
    pthread_rwlockattr_destroy(&a);
    return rc;
}

int mt_rwlock_prefers_writers(void)
{
    return 1;
}

#else

int mt_rwlock_prefers_writers(void)
{
    return 0;
}

#endif
