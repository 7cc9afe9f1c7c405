/* mt_request.c: validated request elements into C structures */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "mt_request.h"
#include "mt_soap.h"
#include "mt_time.h"

mt_op_e mt_request_op(xmlNodePtr op)
{
    if (mt_soap_is(op, MT_NS_MESSAGES, "FindMessageTrackingReport"))
        return MT_OP_FIND;
    if (mt_soap_is(op, MT_NS_MESSAGES, "GetMessageTrackingReport"))
        return MT_OP_GET;
    return MT_OP_UNKNOWN;
}

mt_error_t *mt_request_check_op(apr_pool_t *p, xmlNodePtr op)
{
    mt_error_t *err;

    if (mt_request_op(op) != MT_OP_UNKNOWN)
        return NULL;
    err = mt_error_make(p, MT_FAULT_EWS, "ErrorInvalidRequest",
                        "The request is invalid: the operation %s is not supported here; "
                        "this endpoint answers FindMessageTrackingReport and "
                        "GetMessageTrackingReport.", op ? mt_soap_qname(p, op) : "(none)");
    return mt_error_at(err, NULL, mt_soap_node_line(op), mt_soap_node_column(op));
}

const char *mt_request_op_name(mt_op_e op)
{
    switch (op) {
    case MT_OP_FIND: return "FindMessageTrackingReport";
    case MT_OP_GET: return "GetMessageTrackingReport";
    default: return "unknown";
    }
}

/* Text content of @a n, copied into @a p. */
static const char *text(apr_pool_t *p, xmlNodePtr n)
{
    xmlChar *c = xmlNodeGetContent(n);
    const char *s = apr_pstrdup(p, c ? (const char *)c : "");
    xmlFree(c);
    return s;
}

/* Text content with XML Schema whitespace collapsing at both ends. */
static const char *token(apr_pool_t *p, xmlNodePtr n)
{
    const char *s = text(p, n), *e;
    while (apr_isspace(*s))
        s++;
    e = s + strlen(s);
    while (e > s && apr_isspace(e[-1]))
        e--;
    return apr_pstrmemdup(p, s, (apr_size_t)(e - s));
}

static int named(xmlNodePtr n, const char *ns, const char *local)
{
    return mt_soap_is(n, ns, local);
}

static const mt_address_t *address(apr_pool_t *p, xmlNodePtr el)
{
    mt_address_t *a = apr_pcalloc(p, sizeof(*a));
    xmlNodePtr n;

    for (n = el->children; n; n = n->next) {
        if (named(n, MT_NS_TYPES, "Name"))
            a->name = text(p, n);
        else if (named(n, MT_NS_TYPES, "EmailAddress"))
            a->address = token(p, n);
        else if (named(n, MT_NS_TYPES, "RoutingType"))
            a->routing_type = token(p, n);
        else if (named(n, MT_NS_TYPES, "MailboxType"))
            a->mailbox_type = token(p, n);
    }
    return a;
}

static apr_array_header_t *properties(apr_pool_t *p, xmlNodePtr el)
{
    apr_array_header_t *arr = apr_array_make(p, 4, sizeof(mt_property_t));
    xmlNodePtr n, c;

    for (n = el->children; n; n = n->next) {
        mt_property_t *prop;
        if (!named(n, MT_NS_TYPES, "TrackingPropertyType"))
            continue;
        prop = apr_array_push(arr);
        prop->name = prop->value = NULL;
        for (c = n->children; c; c = c->next) {
            if (named(c, MT_NS_TYPES, "Name"))
                prop->name = text(p, c);
            else if (named(c, MT_NS_TYPES, "Value"))
                prop->value = text(p, c);
        }
    }
    return arr;
}

static mt_error_t *bad_value(apr_pool_t *p, xmlNodePtr n, const char *what)
{
    mt_error_t *err = mt_error_make(p, MT_FAULT_EWS, "ErrorSchemaValidation",
                                    "The request failed schema validation: %s", what);
    return mt_error_at(err, what, mt_soap_node_line(n), mt_soap_node_column(n));
}

static mt_error_t *datetime(apr_pool_t *p, xmlNodePtr n, apr_time_t *t, int *has)
{
    const char *v = token(p, n);
    if (mt_time_parse_xs(v, t) != 0)
        return bad_value(p, n, apr_psprintf(p, "'%s' is not a dateTime this server can "
                                            "represent (years 0001 to 9999).", v));
    *has = 1;
    return NULL;
}

static mt_error_t *decode_find(apr_pool_t *p, xmlNodePtr op, mt_find_request_t *f)
{
    xmlNodePtr n;
    mt_error_t *err;

    for (n = op->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (named(n, MT_NS_MESSAGES, "Scope"))
            f->scope = token(p, n);
        else if (named(n, MT_NS_MESSAGES, "Domain"))
            f->domain = token(p, n);
        else if (named(n, MT_NS_MESSAGES, "Sender"))
            f->sender = address(p, n);
        else if (named(n, MT_NS_MESSAGES, "PurportedSender"))
            f->purported_sender = address(p, n);
        else if (named(n, MT_NS_MESSAGES, "Recipient"))
            f->recipient = address(p, n);
        else if (named(n, MT_NS_MESSAGES, "Subject"))
            f->subject = text(p, n);
        else if (named(n, MT_NS_MESSAGES, "StartDateTime")) {
            if ((err = datetime(p, n, &f->start, &f->has_start)))
                return err;
        }
        else if (named(n, MT_NS_MESSAGES, "EndDateTime")) {
            if ((err = datetime(p, n, &f->end, &f->has_end)))
                return err;
        }
        else if (named(n, MT_NS_MESSAGES, "MessageId"))
            f->message_id = token(p, n);
        else if (named(n, MT_NS_MESSAGES, "FederatedDeliveryMailbox"))
            f->federated_delivery_mailbox = address(p, n);
        else if (named(n, MT_NS_MESSAGES, "DiagnosticsLevel"))
            f->diagnostics_level = token(p, n);
        else if (named(n, MT_NS_MESSAGES, "ServerHint"))
            f->server_hint = token(p, n);
        else if (named(n, MT_NS_MESSAGES, "Properties"))
            f->properties = properties(p, n);
    }
    return NULL;
}

static mt_error_t *decode_get(apr_pool_t *p, xmlNodePtr op, mt_get_request_t *g)
{
    xmlNodePtr n;

    g->return_queue_events = -1;
    for (n = op->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (named(n, MT_NS_MESSAGES, "Scope"))
            g->scope = token(p, n);
        else if (named(n, MT_NS_MESSAGES, "ReportTemplate")) {
            const char *v = token(p, n);
            if (strcmp(v, "Summary") == 0)
                g->report_template = MT_TEMPLATE_SUMMARY;
            else if (strcmp(v, "RecipientPath") == 0)
                g->report_template = MT_TEMPLATE_RECIPIENT_PATH;
            else
                return bad_value(p, n, "ReportTemplate must be Summary or RecipientPath.");
        }
        else if (named(n, MT_NS_MESSAGES, "RecipientFilter"))
            g->recipient_filter = address(p, n);
        else if (named(n, MT_NS_MESSAGES, "MessageTrackingReportId"))
            g->report_id = token(p, n);
        else if (named(n, MT_NS_MESSAGES, "ReturnQueueEvents")) {
            const char *v = token(p, n);
            g->return_queue_events = (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
        }
        else if (named(n, MT_NS_MESSAGES, "DiagnosticsLevel"))
            g->diagnostics_level = token(p, n);
        else if (named(n, MT_NS_MESSAGES, "Properties"))
            g->properties = properties(p, n);
    }
    return NULL;
}

mt_error_t *mt_request_check_version(apr_pool_t *p, xmlNodePtr version, const char **value)
{
    xmlChar *v;
    const char *s;

    *value = NULL;
    if (!version)
        return NULL;
    v = xmlGetNoNsProp(version, BAD_CAST "Version");
    s = apr_pstrdup(p, v ? (const char *)v : "");
    xmlFree(v);
    *value = s;
    if (strcmp(s, "Exchange2007") == 0 || strcmp(s, "Exchange2007_SP1") == 0) {
        mt_error_t *err = mt_error_make(
            p, MT_FAULT_EWS, "ErrorInvalidServerVersion",
            "The specified server version is invalid: message tracking requires "
            "RequestServerVersion Exchange2010 or later, the request names %s.", s);
        return mt_error_at(err, NULL, mt_soap_node_line(version), mt_soap_node_column(version));
    }
    return NULL;
}

mt_error_t *mt_request_decode(apr_pool_t *p, xmlNodePtr op, mt_request_t *req)
{
    req->op = mt_request_op(op);
    switch (req->op) {
    case MT_OP_FIND:
        return decode_find(p, op, &req->find);
    case MT_OP_GET:
        return decode_get(p, op, &req->get);
    default:
        return mt_request_check_op(p, op);
    }
}
