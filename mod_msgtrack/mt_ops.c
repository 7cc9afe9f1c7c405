/* mt_ops.c: FindMessageTrackingReport and GetMessageTrackingReport */
#include "mt_ops.h"
#include "mt_log.h"
#include "mt_soap.h"

void mt_ops_write_error(mt_out_t *out, mt_op_e op, const mt_error_t *err)
{
    const char *name = op == MT_OP_GET ? "m:GetMessageTrackingReportResponse"
                                       : "m:FindMessageTrackingReportResponse";

    mt_soap_write_envelope_start(out);
    mt_out_printf(out, "<%s ResponseClass=\"Error\">", name);
    mt_out_element(out, "m:MessageText", err->message);
    mt_out_element(out, "m:ResponseCode", err->code);
    mt_out_puts(out, "<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>");
    /* The schema requires the operation's result element even on error. */
    if (op == MT_OP_GET)
        mt_out_puts(out, "<m:MessageTrackingReport><t:RecipientTrackingEvents/>"
                         "</m:MessageTrackingReport>");
    else
        mt_out_puts(out, "<m:MessageTrackingSearchResults/>");
    mt_out_printf(out, "</%s>", name);
    mt_soap_write_envelope_end(out);
}

mt_error_t *mt_ops_run(apr_pool_t *p, const mt_ops_ctx_t *ctx, const mt_request_t *req,
                       mt_out_t *out)
{
    /* No index store exists in this version: every valid request is told,
     * truthfully, that the index is not available, and may retry later. */
    mt_error_t *err = mt_error_make(p, MT_FAULT_NONE, "ErrorMessageTrackingTransientError",
                                    "Message tracking is temporarily unavailable: "
                                    "index not available.");
    MT_LOG(MT_LOG_DEBUG, "%s: index not available (MsgTrackDatabase %s)",
           mt_request_op_name(req->op),
           ctx->server->database_dir ? ctx->server->database_dir : "not set");
    mt_ops_write_error(out, req->op, err);
    return NULL;
}
