/* mt_ops.c: FindMessageTrackingReport and GetMessageTrackingReport */
#include <string.h>
#include <apr_strings.h>
#include "mt_ascii.h"
#include "mt_log.h"
#include "mt_ops.h"
#include "mt_query.h"
#include "mt_soap.h"
#include "mt_time.h"

/* ------------------------------------------------------------------ errors */

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

static int is_transient(const mt_error_t *e)
{
    return e && e->code && strcmp(e->code, "ErrorMessageTrackingTransientError") == 0;
}

/* The index could not be read: the reason to the log, a generic text to
 * the client (neither the directory nor Berkeley DB's words). */
static mt_error_t *unavailable(apr_pool_t *p, mt_op_e op, const char *why)
{
    MT_LOG(MT_LOG_WARNING, "%s: the index is not available: %s", mt_request_op_name(op), why);
    return mt_error_make(p, MT_FAULT_NONE, "ErrorMessageTrackingTransientError", "%s",
                         MT_OPS_TRANSIENT_TEXT);
}

/* ------------------------------------------------------------------ the index */

/* One read of the index: a reference and a snapshot transaction. */
typedef struct {
    mt_index_ref_t *ref;
    mt_txn_t *txn;
} reading_t;

/* A store that cannot begin a transaction is retired and the index opened
 * again, once: after msgtrack-index ran recovery the old environment is
 * dead (DB_RUNRECOVERY) and the new one is there to join. */
static mt_error_t *reading_begin(apr_pool_t *p, const mt_ops_ctx_t *ctx, mt_op_e op,
                                 reading_t *rd)
{
    const char *err = NULL;
    int attempt;

    memset(rd, 0, sizeof(*rd));
    if (!ctx->index)
        return unavailable(p, op, "MsgTrackDatabase is not set for this server");
    for (attempt = 0; attempt < 2; attempt++) {
        if ((err = mt_index_acquire(ctx->index, p, &rd->ref)))
            return unavailable(p, op, err);
        if (!(err = mt_store_begin(mt_index_store(rd->ref), p, &rd->txn)))
            return NULL;
        mt_index_release(rd->ref, 1);
        rd->ref = NULL;
    }
    return unavailable(p, op, err);
}

/* End the read; a transient error from the query means the store failed:
 * the log says why, the client gets the generic text. */
static mt_error_t *reading_end(apr_pool_t *p, mt_op_e op, reading_t *rd, mt_error_t *e)
{
    mt_store_abort(rd->txn);
    mt_index_release(rd->ref, is_transient(e));
    return is_transient(e) ? unavailable(p, op, e->message) : e;
}

/* ------------------------------------------------------------------ common */

/* Scope: the three values of MessageTrackingScopeType, in any case; the
 * canonical spelling, or NULL. */
static const char *scope_name(const char *s)
{
    static const char *const scopes[] = { "Organization", "Forest", "Site" };
    size_t i;
    for (i = 0; s && i < sizeof(scopes) / sizeof(scopes[0]); i++)
        if (mt_ascii_ieq(s, scopes[i]))
            return scopes[i];
    return NULL;
}

static mt_error_t *check_scope(apr_pool_t *p, const char *scope, const char **name)
{
    if ((*name = scope_name(scope)))
        return NULL;
    return mt_error_make(p, MT_FAULT_NONE, "ErrorInvalidArgument",
                         "Scope '%s' is not one of Organization, Forest, Site",
                         scope ? scope : "");
}

static mt_error_t *check_domain(apr_pool_t *p, const mt_server_config_t *srv,
                                const char *domain)
{
    int i;
    if (!srv->domains)
        return NULL;
    for (i = 0; i < srv->domains->nelts; i++)
        if (domain && mt_ascii_ieq(domain, APR_ARRAY_IDX(srv->domains, i, const char *)))
            return NULL;
    return mt_error_make(p, MT_FAULT_NONE, "ErrorMessageTrackingNoSuchDomain",
                         "this server does not track messages for the domain '%s'",
                         domain ? domain : "");
}

static int diagnostics_wanted(const char *level)
{
    return level && *level && !mt_ascii_ieq(level, "None");
}

static const char *address_of(const mt_address_t *a)
{
    return a && a->address && *a->address ? a->address : NULL;
}

static mt_viewer_t viewer(const mt_ops_ctx_t *ctx)
{
    mt_viewer_t who;
    who.mailbox = ctx->mailbox;
    who.privileged = ctx->privileged;
    who.read_tracking = mt_dir_config_read_tracking(ctx->dir);
    return who;
}

static double ms_since(apr_time_t t0)
{
    return (double)(apr_time_now() - t0) / 1000.0;
}

/* ------------------------------------------------------------------ writing */

/* An EmailAddressType; an empty address (the null sender) is an element
 * without children. ADDRESS("t:Sender") spells out the markup. */
typedef struct {
    const char *open, *close, *empty;
} address_markup_t;

#define ADDRESS(q) (&(const address_markup_t){ \
    "<" q "><t:EmailAddress>", \
    "</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></" q ">", "<" q "/>" })

static void write_address(mt_out_t *out, const address_markup_t *m, const char *addr)
{
    if (!addr || !*addr)
        mt_out_puts(out, m->empty);
    else
        mt_out_enclosed(out, m->open, addr, m->close);
}

static void write_time(mt_out_t *out, apr_pool_t *p, const char *qname, apr_time_t t)
{
    mt_out_element(out, qname, mt_time_format_xs(p, t));
}

static void write_strings(mt_out_t *out, const char *qname, const apr_array_header_t *a)
{
    apr_size_t n = strlen(qname);
    int i;
    mt_out_write(out, "<", 1);
    mt_out_write(out, qname, n);
    mt_out_write(out, ">", 1);
    for (i = 0; a && i < a->nelts; i++)
        mt_out_element(out, "t:String", APR_ARRAY_IDX(a, i, const char *));
    mt_out_write(out, "</", 2);
    mt_out_write(out, qname, n);
    mt_out_write(out, ">", 1);
}

/* A non-empty string element (t:NonEmptyStringType) when @a s has text. */
static void write_nonempty(mt_out_t *out, const char *qname, const char *s)
{
    if (s && *s)
        mt_out_element(out, qname, s);
}

/* PreviousHopServer from the client as logged: "name[addr]" gives the
 * name, or the address when the name is unknown; a plain name (Exchange)
 * is itself. */
static const char *hop_server(apr_pool_t *p, const char *client)
{
    const char *br, *end;
    if (!client || !*client)
        return NULL;
    if (!(br = strchr(client, '[')))
        return client;
    if (br > client && !(br - client == 7 && strncasecmp(client, "unknown", 7) == 0))
        return apr_pstrmemdup(p, client, (apr_size_t)(br - client));
    end = strchr(br + 1, ']');
    return end && end > br + 1 ? apr_pstrmemdup(p, br + 1, (apr_size_t)(end - br - 1)) : NULL;
}

static const char *time_or(apr_pool_t *p, apr_time_t t, const char *none)
{
    return t == APR_INT64_MAX || t == APR_INT64_MIN ? none : mt_time_format_xs(p, t);
}

/* ------------------------------------------------------------------ Find */

/* The protocol's Find as the query layer takes it. The one place where the
 * exclusive EndDateTime becomes the query's inclusive end, where the
 * default window applies, and where newest-first is asked for. */
static void find_query(const mt_ops_ctx_t *ctx, const mt_find_request_t *f, mt_find_t *q)
{
    apr_time_t window = (apr_time_t)mt_dir_config_search_days(ctx->dir) * 86400
                        * APR_USEC_PER_SEC;

    memset(q, 0, sizeof(*q));
    q->sender = address_of(f->sender);
    q->recipient = address_of(f->recipient);
    q->recipient2 = address_of(f->federated_delivery_mailbox);
    q->subject = f->subject;
    q->message_id = f->message_id;
    if (f->has_end) {
        /* [start, EndDateTime) is [start, EndDateTime - 1 µs]; the query
         * reads an end of 0 as "no end", so the epoch's first microsecond
         * gives -1 (nothing is lost: the bound stays below the epoch). */
        q->end = f->end - 1;
        if (q->end == 0)
            q->end = -1;
    }
    else {
        q->end = 0;
    }
    q->start = f->has_start ? f->start : (f->has_end ? f->end : ctx->now) - window;
    q->max_results = mt_dir_config_max_results(ctx->dir);
    q->newest_first = 1;
}

static void write_found(mt_out_t *out, apr_pool_t *p, const mt_found_t *f)
{
    int i;
    mt_out_puts(out, "<t:MessageTrackingSearchResult>");
    mt_out_element(out, "t:Subject", f->subject ? f->subject : "");
    write_address(out, ADDRESS("t:Sender"), f->sender);
    mt_out_puts(out, "<t:Recipients>");
    for (i = 0; f->recipients && i < f->recipients->nelts; i++)
        write_address(out, ADDRESS("t:Mailbox"), APR_ARRAY_IDX(f->recipients, i, const char *));
    mt_out_puts(out, "</t:Recipients>");
    write_time(out, p, "t:SubmittedTime", f->submitted);
    mt_out_element(out, "t:MessageTrackingReportId", f->report_id);
    write_nonempty(out, "t:PreviousHopServer", hop_server(p, f->previous_hop));
    write_nonempty(out, "t:FirstHopServer", f->first_hop);
    mt_out_puts(out, "</t:MessageTrackingSearchResult>");
}

static mt_error_t *run_find(apr_pool_t *p, const mt_ops_ctx_t *ctx, const mt_request_t *req,
                            mt_out_t *out)
{
    const mt_find_request_t *fr = &req->find;
    mt_viewer_t who = viewer(ctx);
    mt_query_stats_t st;
    apr_array_header_t *res = NULL;
    const char *scope;
    apr_time_t t0 = apr_time_now();
    reading_t rd;
    mt_find_t q;
    mt_error_t *e;
    int truncated = 0, i;

    find_query(ctx, fr, &q);
    q.stats = &st;
    if ((e = mt_query_find_check(p, &who, &q)) || (e = check_scope(p, fr->scope, &scope))
        || (e = check_domain(p, ctx->server, fr->domain)))
        goto fail;
    if ((e = reading_begin(p, ctx, MT_OP_FIND, &rd)))
        goto fail;
    e = mt_query_find(rd.txn, p, &who, &q, &res, &truncated);
    if ((e = reading_end(p, MT_OP_FIND, &rd, e)))
        goto fail;

    MT_LOG(MT_LOG_DEBUG, "FindMessageTrackingReport: %s index, %ld rows, %d results%s, %.3f ms",
           st.plan ? st.plan : "no", st.probed + st.scanned, res->nelts,
           truncated ? " (cut at MsgTrackMaxResults)" : "", ms_since(t0));
    mt_soap_write_envelope_start(out);
    mt_out_puts(out, "<m:FindMessageTrackingReportResponse ResponseClass=\"Success\">"
                     "<m:ResponseCode>NoError</m:ResponseCode>");
    if (diagnostics_wanted(fr->diagnostics_level)) {
        apr_array_header_t *d = apr_array_make(p, 4, sizeof(const char *));
        APR_ARRAY_PUSH(d, const char *) = apr_psprintf(
            p, "plan: %s index%s%s%s, submitted from %s to %s", st.plan ? st.plan : "no",
            st.value ? " (" : "", st.value ? st.value : "", st.value ? ")" : "",
            time_or(p, st.start, "the beginning"), time_or(p, st.end, "now and later"));
        APR_ARRAY_PUSH(d, const char *) = apr_psprintf(
            p, "rows scanned: %ld (%ld to choose the index, %ld by the scan); hops read: %ld",
            st.probed + st.scanned, st.probed, st.scanned, st.hops);
        APR_ARRAY_PUSH(d, const char *) = apr_psprintf(
            p, "messages: %ld matched, %d returned%s", st.matched, res->nelts,
            truncated ? apr_psprintf(p, " (MsgTrackMaxResults %d)", q.max_results) : "");
        APR_ARRAY_PUSH(d, const char *) = apr_psprintf(p, "milliseconds: %.3f", ms_since(t0));
        write_strings(out, "m:Diagnostics", d);
    }
    mt_out_puts(out, "<m:MessageTrackingSearchResults>");
    for (i = 0; i < res->nelts; i++)
        write_found(out, p, &APR_ARRAY_IDX(res, i, mt_found_t));
    mt_out_puts(out, "</m:MessageTrackingSearchResults>");
    mt_out_element(out, "m:ExecutedSearchScope", scope);
    mt_out_puts(out, "</m:FindMessageTrackingReportResponse>");
    mt_soap_write_envelope_end(out);
    return NULL;

fail:
    MT_LOG(MT_LOG_DEBUG, "FindMessageTrackingReport: %s: %s", e->code, e->message);
    mt_ops_write_error(out, MT_OP_FIND, e);
    return NULL;
}

/* ------------------------------------------------------------------ Get */

static void write_event(mt_out_t *out, apr_pool_t *p, const mt_report_event_t *e,
                        int privileged)
{
    mt_out_puts(out, "<t:RecipientTrackingEvent>");
    write_time(out, p, "t:Date", e->date);
    write_address(out, ADDRESS("t:Recipient"), e->recipient);
    mt_out_element(out, "t:DeliveryStatus", e->delivery_status);
    mt_out_element(out, "t:EventDescription", e->description);
    if (e->data && e->data->nelts)
        write_strings(out, "t:EventData", e->data);
    mt_out_element(out, "t:Server", e->server && *e->server ? e->server : "unknown");
    mt_out_puts(out, "<t:InternalId>");
    mt_out_uint(out, e->hop);
    mt_out_puts(out, "</t:InternalId>");
    mt_out_element(out, "t:BccRecipient", e->bcc ? "true" : "false");
    if (privileged)
        mt_out_element(out, "t:HiddenRecipient", e->hidden ? "true" : "false");
    write_nonempty(out, "t:UniquePathId", e->path_id);
    write_nonempty(out, "t:RootAddress", e->root);
    mt_out_puts(out, "</t:RecipientTrackingEvent>");
}

static void write_report(mt_out_t *out, apr_pool_t *p, const mt_report_t *r, int privileged)
{
    int i;
    mt_out_puts(out, "<m:MessageTrackingReport>");
    if (r->submitted == MT_TIME_MIN && !r->sender) {
        /* The normative empty report: a RecipientPath for someone the
         * message did not go to. */
        mt_out_puts(out, "<t:SubmitTime>0001-01-01T00:00:00</t:SubmitTime>"
                         "<t:RecipientTrackingEvents/></m:MessageTrackingReport>");
        return;
    }
    write_address(out, ADDRESS("t:Sender"), r->sender);
    if (r->subject)
        mt_out_element(out, "t:Subject", r->subject);
    write_time(out, p, "t:SubmitTime", r->submitted);
    mt_out_puts(out, "<t:OriginalRecipients>");
    for (i = 0; r->original_recipients && i < r->original_recipients->nelts; i++)
        write_address(out, ADDRESS("t:Address"),
                      APR_ARRAY_IDX(r->original_recipients, i, const char *));
    mt_out_puts(out, "</t:OriginalRecipients><t:RecipientTrackingEvents>");
    for (i = 0; i < r->events->nelts; i++)
        write_event(out, p, &APR_ARRAY_IDX(r->events, i, mt_report_event_t), privileged);
    mt_out_puts(out, "</t:RecipientTrackingEvents></m:MessageTrackingReport>");
}

static mt_error_t *run_get(apr_pool_t *p, const mt_ops_ctx_t *ctx, const mt_request_t *req,
                           mt_out_t *out)
{
    const mt_get_request_t *gr = &req->get;
    mt_viewer_t who = viewer(ctx);
    mt_query_stats_t st;
    mt_report_t *r = NULL;
    const char *scope;
    apr_time_t t0 = apr_time_now();
    reading_t rd;
    mt_get_t q;
    mt_error_t *e;

    memset(&q, 0, sizeof(q));
    q.report_id = gr->report_id;
    q.recipient_path = gr->report_template == MT_TEMPLATE_RECIPIENT_PATH;
    q.recipient = address_of(gr->recipient_filter);
    q.queue_events = gr->return_queue_events > 0;
    q.stats = &st;
    if ((e = mt_query_report_check(p, &who, &q)) || (e = check_scope(p, gr->scope, &scope)))
        goto fail;
    if ((e = reading_begin(p, ctx, MT_OP_GET, &rd)))
        goto fail;
    e = mt_query_report(rd.txn, p, &who, &q, &r);
    if ((e = reading_end(p, MT_OP_GET, &rd, e)))
        goto fail;

    MT_LOG(MT_LOG_DEBUG, "GetMessageTrackingReport: %s, %ld hops, %d events, %.3f ms",
           q.recipient_path ? "RecipientPath" : "Summary", st.hops, r->events->nelts,
           ms_since(t0));
    mt_soap_write_envelope_start(out);
    mt_out_puts(out, "<m:GetMessageTrackingReportResponse ResponseClass=\"Success\">"
                     "<m:ResponseCode>NoError</m:ResponseCode>");
    write_report(out, p, r, ctx->privileged);
    if (diagnostics_wanted(gr->diagnostics_level)) {
        apr_array_header_t *d = apr_array_make(p, 3, sizeof(const char *));
        APR_ARRAY_PUSH(d, const char *) = apr_psprintf(
            p, "plan: the report id's hop, then the hops sharing its Message-ID; "
               "hops read: %ld", st.hops);
        APR_ARRAY_PUSH(d, const char *) = apr_psprintf(p, "events: %d returned",
                                                       r->events->nelts);
        APR_ARRAY_PUSH(d, const char *) = apr_psprintf(p, "milliseconds: %.3f", ms_since(t0));
        write_strings(out, "m:Diagnostics", d);
    }
    mt_out_puts(out, "</m:GetMessageTrackingReportResponse>");
    mt_soap_write_envelope_end(out);
    return NULL;

fail:
    MT_LOG(MT_LOG_DEBUG, "GetMessageTrackingReport: %s: %s", e->code, e->message);
    mt_ops_write_error(out, MT_OP_GET, e);
    return NULL;
}

/* ------------------------------------------------------------------ dispatch */

mt_error_t *mt_ops_run(apr_pool_t *p, const mt_ops_ctx_t *ctx, const mt_request_t *req,
                       mt_out_t *out)
{
    switch (req->op) {
    case MT_OP_FIND:
        return run_find(p, ctx, req, out);
    case MT_OP_GET:
        return run_get(p, ctx, req, out);
    default:
        return mt_error_make(p, MT_FAULT_EWS, "ErrorInvalidRequest",
                             "The request is invalid: no operation to run.");
    }
}
