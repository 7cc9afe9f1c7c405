/**
 * @file mt_correlate.h
 * @brief Correlation: parsed log records into hops and events in the index.
 *
 * Records are applied one at a time inside the ingester's write transaction.
 * A hop touched in the batch is kept decoded in memory until mt_corr_flush()
 * writes it once; events are written as they come. Everything needed to
 * continue a message that is still in flight (queue id -> hop, recipients
 * still deferred, whether a mailbox message was read) is in the hop record
 * itself, so nothing is kept between batches: memory is bounded by the batch,
 * and `follow` resumes correlation after a restart.
 *
 * Joins made here: Postfix lines per (host, queue id, first seen), with a
 * new hop when the queue id is reused (after "removed", or a second start
 * line); a notification (NDR, delay, delivery status) to the hop it reports
 * on (ndr_of, ref_message_id); Exchange rows per (server,
 * internal-message-id); Dovecot events per (host, user, Message-ID). Joins
 * across hosts and between the MTA and the mailbox are by Message-ID when a
 * report is built (mt_query.c), so they do not depend on the order in which
 * logs are ingested.
 */
#ifndef MT_CORRELATE_H
#define MT_CORRELATE_H

#include <apr_pools.h>
#include "mt_logrec.h"
#include "mt_store.h"

typedef struct mt_corr_t mt_corr_t;

/** What correlation did, summed over its life. */
typedef struct {
    apr_uint64_t hops;       /**< hops created */
    apr_uint64_t events;     /**< events written */
    apr_uint64_t unjoined;   /**< records that could not be tied to a message (no id) */
} mt_corr_stats_t;

mt_corr_t *mt_corr_create(apr_pool_t *p);

/** Start a batch in @a txn. */
void mt_corr_begin(mt_corr_t *c, mt_txn_t *txn);

/** Apply one record. Returns NULL, or a store error (the batch must then be
 *  aborted). */
const char *mt_corr_apply(mt_corr_t *c, const mt_logrec_t *rec);

/** Write the hops changed in this batch; call before committing. */
const char *mt_corr_flush(mt_corr_t *c);

/** Forget the batch (after commit or abort). */
void mt_corr_end(mt_corr_t *c);

const mt_corr_stats_t *mt_corr_stats(const mt_corr_t *c);

/** The Dovecot session id in an LMTP reply such as
 *  "250 2.0.0 <bob@example.org> Wq0VH3sFQ2V3XwAAq3Gd2A:R2 Saved", or NULL. */
const char *mt_corr_lmtp_session(apr_pool_t *p, const char *text);

/** Append the addresses named in a To/Cc header value to @a out (lower
 *  case, without duplicates): "Bob <bob@x>, carol@y" -> bob@x, carol@y. */
void mt_corr_header_addresses(apr_pool_t *p, const char *value, apr_array_header_t *out);

#endif
