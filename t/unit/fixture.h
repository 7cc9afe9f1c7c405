/* fixture.h: a small index written by hand, for the query and operation
 * tests (t/unit/test_query.c, t/unit/test_ops.c). */
#ifndef MT_TEST_FIXTURE_H
#define MT_TEST_FIXTURE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "mt_store.h"

/** A write transaction and what was written in it. */
typedef struct {
    apr_pool_t *p;
    mt_txn_t *t;
    apr_array_header_t *hops;   /**< mt_msg_t *, every hop written; NULL: not kept */
    int failed;                 /**< writes that failed (each said on stdout) */
} fx_t;

/** Optional fields of an event. */
typedef struct {
    const char *relay, *next_id, *dsn, *text, *folder;
} fx_evx_t;

/** 2026-11-DAY hh:mm:ss UTC. */
apr_time_t fx_td(int day, int h, int m, int s);

/** Recipients from "addr[=orig][/B|/T|/C] ..." (separated by spaces): orig
 *  is the root address, B, T and C flag Bcc, To and Cc. */
apr_array_header_t *fx_rcpts(apr_pool_t *p, const char *spec);

/** Write a new hop; @a rcpt_spec as fx_rcpts(), @a hdr the To/Cc header
 *  addresses logged (separated by spaces), or NULL. */
mt_msg_t *fx_hop(fx_t *fx, int kind, apr_time_t first, const char *host, const char *lid,
                 const char *msgid, const char *sender, const char *subject,
                 const char *client, unsigned flags, const char *rcpt_spec, const char *hdr);

/** Write the next event of hop @a m (@a x may be NULL); m->last follows
 *  it, and with @a put_msg the hop is written again with it. */
void fx_event(fx_t *fx, mt_msg_t *m, apr_time_t t, int fact, const char *rcpt, const char *root,
              const fx_evx_t *x, int put_msg);

/** A new store in @a dir, a write transaction in @a fx (hops kept when
 *  @a keep_hops). NULL, or why not. */
const char *fx_open(apr_pool_t *p, const char *dir, int keep_hops, mt_store_t **st, fx_t *fx);

/** Commit @a fx's transaction: NULL, or what failed (a write or the commit). */
const char *fx_commit(fx_t *fx);

#endif
