/**
 * @file mt_ops.h
 * @brief The two operations: from a decoded request to a response document.
 */
#ifndef MT_OPS_H
#define MT_OPS_H

#include <apr_pools.h>
#include "mt_config.h"
#include "mt_error.h"
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

#endif
