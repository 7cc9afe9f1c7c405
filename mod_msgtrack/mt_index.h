/**
 * @file mt_index.h
 * @brief The module's shared handle on the index: joined lazily, shared by
 *        threads, reopened after failures.
 *
 * httpd children read the index msgtrack-index writes (mt_store.h). A child
 * may start before the index exists or while it is being recovered, and the
 * index may be rebuilt under it. An mt_index_t hides this. Each request
 * acquires a reference to an open store, opening it first when there is
 * none (so an index created after httpd started is found by the next
 * request), and releases it saying whether the store failed. A store that
 * failed is retired: requests already using it finish with it, the last one
 * closes it, and the next acquire opens the index again. Every
 * check_interval an acquire also runs failchk (which releases what dead
 * processes held, or says the environment needs recovery) and checks that
 * the directory is still the one that was opened (an index rebuilt
 * elsewhere and renamed into place is opened anew).
 *
 * One mutex, created with the handle, guards the handle's state; no
 * Berkeley DB call is ever made holding it (opening, failchk and closing
 * included), because a process killed inside Berkeley DB may die holding
 * one of the environment's mutexes, and then any call may wait forever:
 * such a thread must not hold up the others. Those calls and every request
 * are recorded while they last, so that mt_index_watch() can see work stuck
 * in the index. Core code: APR only, no httpd.
 *
 * In httpd each child runs two threads besides its workers: one calls
 * mt_index_maintain() once a check interval (so that a dead environment is
 * noticed even when every worker is stuck in it), the other
 * mt_index_watch(), and ends the process when told to: threads waiting on
 * a dead process's mutex can be freed no other way, and recovery (which
 * msgtrack-index runs) makes a new environment they never see.
 */
#ifndef MT_INDEX_H
#define MT_INDEX_H

#include <apr_pools.h>
#include <apr_time.h>
#include "mt_store.h"

typedef struct mt_index_t mt_index_t;
typedef struct mt_index_ref_t mt_index_ref_t;

/** A handle on the index in @a dir; nothing is opened yet. It lives in @a p
 *  (the child's pool: destroying it closes the store) and must be created
 *  before the threads that use it. Returns NULL, or why the mutex could not
 *  be made. */
const char *mt_index_create(apr_pool_t *p, const char *dir,
                            apr_interval_time_t check_interval, mt_index_t **ix);

/** The directory the handle reads. */
const char *mt_index_dir(const mt_index_t *ix);

/** A reference to the open store for one request, in @a p. Returns NULL
 *  and @a *ref, or why the index cannot be read now (in @a p; it names the
 *  directory and the cause: for the log, never for a client). */
const char *mt_index_acquire(mt_index_t *ix, apr_pool_t *p, mt_index_ref_t **ref);

/** The store of @a ref, valid until mt_index_release(). */
mt_store_t *mt_index_store(const mt_index_ref_t *ref);

/** Done with @a ref. @a failed: the store returned an error (begin, read):
 *  retire it, so the next acquire opens the index again. The last request
 *  using a retired store closes it, unless the store failed (see
 *  mt_index_close()). */
void mt_index_release(mt_index_ref_t *ref, int failed);

/** The periodic check (failchk, directory identity) if it is due, and the
 *  closing of stores that failed long enough ago (see mt_index_close());
 *  for a thread that calls it once a check interval. @a p: scratch. */
void mt_index_maintain(mt_index_t *ix, apr_pool_t *p);

/** Look for work stuck in the index: a request that has held a store that
 *  failed, or an open, a failure check or a close that has run, for longer
 *  than @a stuck_after; or a request that has held any store for six times
 *  as long. Once some is found the handle refuses new requests
 *  (acquire returns an error) and retires its store; this returns 1, with
 *  @a *why (owned by the handle), when what began shortly before has ended
 *  or @a stuck_after later at most: the process should then exit at once
 *  (_exit), leaving the stuck threads behind. Otherwise 0. Never waits on
 *  Berkeley DB: call it from a thread of its own, once a second. */
int mt_index_watch(mt_index_t *ix, apr_interval_time_t stuck_after, const char **why);

/** Refuse new requests and close every store no request uses (the process
 *  is ending). Stores that failed are closed only if @a failed_too: closing
 *  one waits forever while a dead process holds one of its environment's
 *  mutexes, which is why a store that fails is not closed by the request
 *  that saw it fail but by mt_index_maintain(), 30 check intervals later,
 *  when msgtrack-index has recovered the index (a recovered environment
 *  closes at once). A store still in use can only be held by a thread stuck
 *  in it, and is left alone. Destroying the handle's pool does
 *  mt_index_close(ix, 1). */
void mt_index_close(mt_index_t *ix, int failed_too);

/** What a start-up check found. */
typedef enum {
    MT_INDEX_READY = 0,   /**< an index this build reads */
    MT_INDEX_NOT_READY,   /**< not there yet or not readable now (missing directory, no
                               index in it yet, recovery needed): requests are answered
                               with a transient error until it is */
    MT_INDEX_UNUSABLE     /**< a misconfiguration: not a directory, an index of another
                               format version */
} mt_index_state_e;

/** Check MsgTrackDatabase @a dir at start-up (opens the index read-only and
 *  closes it); @a *msg says what was found, naming the directory. */
mt_index_state_e mt_index_check(apr_pool_t *p, const char *dir, const char **msg);

#endif
