/**
 * @file mt_ops.h
 * @brief The two operations: from a decoded request to a response document.
 *
 * FindMessageTrackingReport and GetMessageTrackingReport over the index
 * (mt_index.h), with the query layer (mt_query.h) deciding what each caller
 * may see. This file is where the protocol meets the query:
 *
 * Find
 * - Scope must be Organization, Forest or Site (any case); the index serves
 *   one site, so all three search all of it, and ExecutedSearchScope echoes
 *   the scope asked for. Anything else: ErrorInvalidArgument.
 * - Domain must be one of MsgTrackDomains (any case), else
 *   ErrorMessageTrackingNoSuchDomain; without MsgTrackDomains every domain
 *   is accepted.
 * - Sender, Recipient, FederatedDeliveryMailbox (a second recipient filter),
 *   Subject and MessageId become the query's filters; PurportedSender,
 *   ServerHint and Properties are accepted and ignored.
 * - The window: EndDateTime is exclusive (the query's end bound is one
 *   microsecond before it) and absent means no end; StartDateTime absent
 *   means MsgTrackSearchDays days before EndDateTime, or before the
 *   request's time. Every search is therefore bounded in time.
 * - Results newest first, at most MsgTrackMaxResults (the newest).
 * - DiagnosticsLevel, when present and not "None": Diagnostics says the
 *   plan (index, value, range), the rows scanned, the messages matched and
 *   returned, and the milliseconds spent.
 *
 * Get
 * - Summary or RecipientPath (RecipientFilter), ReturnQueueEvents (honoured
 *   for privileged callers only), Read/NotRead with MsgTrackReadTracking.
 * - InternalId is the event's hop key in the index (the Internal-Id of
 *   report ids); HiddenRecipient is written for privileged callers only.
 * - RecipientPath for someone the message did not go to: the normative
 *   empty report (SubmitTime 0001-01-01T00:00:00, no events).
 *
 * Errors are operation-level responses (ResponseClass="Error", HTTP 200).
 * When the index cannot be read the response is
 * ErrorMessageTrackingTransientError with a generic MessageText; why (the
 * directory, Berkeley DB's words) goes to the log only.
 */
#ifndef MT_OPS_H
#define MT_OPS_H

#include <apr_pools.h>
#include <apr_time.h>
#include "mt_config.h"
#include "mt_error.h"
#include "mt_index.h"
#include "mt_out.h"
#include "mt_request.h"

/** Everything an operation needs besides the request. */
typedef struct {
    const mt_dir_config_t *dir;
    const mt_server_config_t *server;
    /** The caller's SMTP address from MsgTrackMailbox, or NULL when unknown. */
    const char *mailbox;
    /** MsgTrackPrivileged's result. */
    int privileged;
    /** The index of MsgTrackDatabase; NULL when none is configured. */
    mt_index_t *index;
    /** When the request arrived: the default search window ends there. */
    apr_time_t now;
} mt_ops_ctx_t;

/** Run the operation of @a req and write its complete response document
 *  (HTTP 200). Operation-level errors are written as responses with
 *  ResponseClass="Error"; the function returns an error only for what must
 *  be a SOAP fault, in which case nothing has been written. */
mt_error_t *mt_ops_run(apr_pool_t *p, const mt_ops_ctx_t *ctx, const mt_request_t *req,
                       mt_out_t *out);

/** Write the response of @a op with ResponseClass="Error" for @a err: the one
 *  renderer of operation-level errors. */
void mt_ops_write_error(mt_out_t *out, mt_op_e op, const mt_error_t *err);

/** The MessageText of ErrorMessageTrackingTransientError. */
#define MT_OPS_TRANSIENT_TEXT \
    "Message tracking is temporarily unavailable: the tracking index cannot be read " \
    "right now. Try again later."

#endif
