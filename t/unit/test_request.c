/* test_request.c: decoding requests, server versions, xs:dateTime (TAP) */
#include <apr_general.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include "tap.h"
#include "mt_request.h"
#include "mt_soap.h"
#include "mt_time.h"

#define ENV_OPEN "<s:Envelope xmlns:s=\"" MT_NS_SOAP11 "\" xmlns:m=\"" MT_NS_MESSAGES \
                 "\" xmlns:t=\"" MT_NS_TYPES "\">"

static const struct { const char *in; int ok; const char *out; } time_cases[] = {
    { "2026-11-21T10:20:30Z", 1, "2026-11-21T10:20:30Z" },
    { "2026-11-21T10:20:30", 1, "2026-11-21T10:20:30Z" },
    { "2026-11-21T10:20:30.5Z", 1, "2026-11-21T10:20:30.5Z" },
    { "2026-11-21T10:20:30.1234567Z", 1, "2026-11-21T10:20:30.123456Z" },
    { "2026-11-21T10:20:30.000001Z", 1, "2026-11-21T10:20:30.000001Z" },
    { "2026-11-21T10:20:30.120Z", 1, "2026-11-21T10:20:30.12Z" },
    { "0999-03-04T05:06:07.089Z", 1, "0999-03-04T05:06:07.089Z" },
    { "2026-11-21T10:20:30+02:00", 1, "2026-11-21T08:20:30Z" },
    { "2026-11-21T00:20:30-05:30", 1, "2026-11-21T05:50:30Z" },
    { "2026-01-01T01:00:00+02:00", 1, "2025-12-31T23:00:00Z" },
    { "2024-02-29T00:00:00Z", 1, "2024-02-29T00:00:00Z" },
    { "2023-02-29T00:00:00Z", 0, NULL },
    { "2026-11-21T24:00:00Z", 1, "2026-11-22T00:00:00Z" },
    { "2026-11-21T24:00:01Z", 0, NULL },
    { "0001-01-01T00:00:00Z", 1, "0001-01-01T00:00:00Z" },
    { "9999-12-31T23:59:59Z", 1, "9999-12-31T23:59:59Z" },
    { "1969-12-31T23:59:59.999999Z", 1, "1969-12-31T23:59:59.999999Z" },
    { "0000-01-01T00:00:00Z", 0, NULL },
    { "2026-13-01T00:00:00Z", 0, NULL },
    { "2026-11-21", 0, NULL },
    { "2026-11-21T10:20Z", 0, NULL },
    { "2026-11-21T10:20:30+15:00", 0, NULL },
    { "2026-11-21T10:20:30.Z", 0, NULL },
    { "  2026-11-21T10:20:30Z  ", 1, "2026-11-21T10:20:30Z" },
    { "2026-11-21T10:20:30Zjunk", 0, NULL },
};

static const struct { const char *version; const char *code; } version_cases[] = {
    { "Exchange2007", "ErrorInvalidServerVersion" },
    { "Exchange2007_SP1", "ErrorInvalidServerVersion" },
    { "Exchange2010", NULL }, { "Exchange2010_SP1", NULL }, { "Exchange2010_SP2", NULL },
    { "Exchange2013", NULL }, { "Exchange2013_SP1", NULL }, { "Exchange2016", NULL },
};

static mt_request_t *decode(apr_pool_t *p, const char *op)
{
    const char *doc = apr_pstrcat(p, ENV_OPEN "<s:Body>", op, "</s:Body></s:Envelope>", NULL);
    xmlDocPtr d;
    mt_soap_request_t env;
    mt_request_t *req = apr_pcalloc(p, sizeof(*req));
    if (mt_soap_parse(p, doc, strlen(doc), &d) || mt_soap_open(p, d, &env)
        || mt_request_decode(p, env.operation, req))
        return NULL;
    return req;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    size_t i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    xmlInitParser();

    for (i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]); i++) {
        apr_time_t t = 0;
        int rc = mt_time_parse_xs(time_cases[i].in, &t);
        is_int(rc == 0, time_cases[i].ok, "time '%s' %s", time_cases[i].in,
               time_cases[i].ok ? "parses" : "refused");
        if (time_cases[i].ok && rc == 0)
            is_str(mt_time_format_xs(p, t), time_cases[i].out, "time '%s' formats",
                   time_cases[i].in);
    }
    {
        apr_time_t t;
        mt_time_parse_xs("1970-01-01T00:00:00Z", &t);
        is_int(t, 0, "epoch is 0");
        mt_time_parse_xs("2001-09-09T01:46:40Z", &t);
        is_int(t, 1000000000LL * APR_USEC_PER_SEC, "1e9 seconds");
        mt_time_parse_xs("0001-01-01T00:00:00Z", &t);
        is_int(t, MT_TIME_MIN, "MT_TIME_MIN is 0001-01-01");
    }

    for (i = 0; i < sizeof(version_cases) / sizeof(version_cases[0]); i++) {
        const char *src = apr_psprintf(p, "<t:RequestServerVersion xmlns:t=\"" MT_NS_TYPES
                                       "\" Version=\"%s\"/>", version_cases[i].version);
        xmlDocPtr d;
        const char *v = NULL;
        mt_error_t *e;
        mt_soap_parse(p, src, strlen(src), &d);
        e = mt_request_check_version(p, xmlDocGetRootElement(d), &v);
        is_str(e ? e->code : NULL, version_cases[i].code, "version %s", version_cases[i].version);
        is_str(v, version_cases[i].version, "version %s reported", version_cases[i].version);
    }
    {
        const char *v = "x";
        ok(mt_request_check_version(p, NULL, &v) == NULL && v == NULL, "absent version accepted");
    }

    {
        mt_request_t *r = decode(p,
            "<m:FindMessageTrackingReport><m:Domain> example.org </m:Domain>"
            "<m:Subject>  Quarterly &amp; more </m:Subject><m:Scope>Organization</m:Scope>"
            "<m:Sender><t:Name>Alice A.</t:Name><t:EmailAddress>alice@example.org</t:EmailAddress>"
            "<t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox</t:MailboxType></m:Sender>"
            "<m:Recipient><t:EmailAddress>bob@example.org</t:EmailAddress></m:Recipient>"
            "<m:StartDateTime>2026-11-01T00:00:00Z</m:StartDateTime>"
            "<m:EndDateTime>2026-11-02T00:00:00+01:00</m:EndDateTime>"
            "<m:MessageId>&lt;abc@example.org&gt;</m:MessageId>"
            "<m:PurportedSender><t:EmailAddress>p@x</t:EmailAddress></m:PurportedSender>"
            "<m:FederatedDeliveryMailbox><t:EmailAddress>f@x</t:EmailAddress></m:FederatedDeliveryMailbox>"
            "<m:DiagnosticsLevel>Verbose</m:DiagnosticsLevel><m:ServerHint>mx</m:ServerHint>"
            "<m:Properties><t:TrackingPropertyType><t:Name>a</t:Name><t:Value>1</t:Value>"
            "</t:TrackingPropertyType><t:TrackingPropertyType><t:Name>b</t:Name>"
            "</t:TrackingPropertyType></m:Properties></m:FindMessageTrackingReport>");
        if (ok(r != NULL, "full Find decodes")) {
            const mt_find_request_t *f = &r->find;
            apr_time_t t;
            is_int(r->op, MT_OP_FIND, "op is Find");
            is_str(f->scope, "Organization", "Scope");
            is_str(f->domain, "example.org", "Domain trimmed");
            is_str(f->subject, "  Quarterly & more ", "Subject kept verbatim");
            is_str(f->sender ? f->sender->address : NULL, "alice@example.org", "Sender address");
            is_str(f->sender ? f->sender->name : NULL, "Alice A.", "Sender name");
            is_str(f->sender ? f->sender->routing_type : NULL, "SMTP", "Sender routing type");
            is_str(f->sender ? f->sender->mailbox_type : NULL, "Mailbox", "Sender mailbox type");
            is_str(f->recipient ? f->recipient->address : NULL, "bob@example.org", "Recipient");
            ok(f->recipient && f->recipient->name == NULL, "absent Name is NULL");
            mt_time_parse_xs("2026-11-01T00:00:00Z", &t);
            ok(f->has_start && f->start == t, "StartDateTime");
            mt_time_parse_xs("2026-11-01T23:00:00Z", &t);
            ok(f->has_end && f->end == t, "EndDateTime with zone");
            is_str(f->message_id, "<abc@example.org>", "MessageId");
            is_str(f->purported_sender ? f->purported_sender->address : NULL, "p@x", "PurportedSender");
            is_str(f->federated_delivery_mailbox ? f->federated_delivery_mailbox->address : NULL,
                   "f@x", "FederatedDeliveryMailbox");
            is_str(f->diagnostics_level, "Verbose", "DiagnosticsLevel");
            is_str(f->server_hint, "mx", "ServerHint");
            is_int(f->properties ? f->properties->nelts : 0, 2, "two Properties");
            if (f->properties && f->properties->nelts == 2) {
                mt_property_t *pr = (mt_property_t *)f->properties->elts;
                is_str(pr[0].name, "a", "property name");
                is_str(pr[0].value, "1", "property value");
                ok(pr[1].value == NULL, "absent property value is NULL");
            }
        }
    }
    {
        mt_request_t *r = decode(p, "<m:FindMessageTrackingReport><m:Scope>Site</m:Scope>"
                                    "<m:Domain>d</m:Domain></m:FindMessageTrackingReport>");
        ok(r && !r->find.has_start && !r->find.has_end && !r->find.sender && !r->find.subject
           && !r->find.properties, "minimal Find leaves the rest unset");
    }
    {
        mt_request_t *r = decode(p, "<m:GetMessageTrackingReport><m:Scope>Forest</m:Scope>"
            "<m:ReportTemplate> RecipientPath </m:ReportTemplate>"
            "<m:RecipientFilter><t:EmailAddress>bob@example.org</t:EmailAddress></m:RecipientFilter>"
            "<m:MessageTrackingReportId>Message-Id=&lt;a+2Cb@x&gt;,Server=mx</m:MessageTrackingReportId>"
            "<m:ReturnQueueEvents>1</m:ReturnQueueEvents></m:GetMessageTrackingReport>");
        if (ok(r != NULL, "Get decodes")) {
            is_int(r->op, MT_OP_GET, "op is Get");
            is_int(r->get.report_template, MT_TEMPLATE_RECIPIENT_PATH, "RecipientPath");
            is_str(r->get.recipient_filter ? r->get.recipient_filter->address : NULL,
                   "bob@example.org", "RecipientFilter");
            is_str(r->get.report_id, "Message-Id=<a+2Cb@x>,Server=mx", "report id");
            is_int(r->get.return_queue_events, 1, "ReturnQueueEvents 1");
        }
        r = decode(p, "<m:GetMessageTrackingReport><m:Scope>O</m:Scope>"
                      "<m:ReportTemplate>Summary</m:ReportTemplate>"
                      "<m:MessageTrackingReportId>x</m:MessageTrackingReportId>"
                      "</m:GetMessageTrackingReport>");
        ok(r && r->get.report_template == MT_TEMPLATE_SUMMARY && r->get.return_queue_events == -1
           && r->get.recipient_filter == NULL, "Summary without options");
        r = decode(p, "<m:GetMessageTrackingReport><m:ReturnQueueEvents>false</m:ReturnQueueEvents>"
                      "</m:GetMessageTrackingReport>");
        ok(r && r->get.return_queue_events == 0, "ReturnQueueEvents false");
    }
    {
        mt_request_t *r = decode(p, "<m:FindMessageTrackingReport><m:StartDateTime>0000-01-01T00:00:00Z"
                                    "</m:StartDateTime></m:FindMessageTrackingReport>");
        ok(r == NULL, "unrepresentable dateTime refused by the decoder");
    }
    {
        const char *src = ENV_OPEN "<s:Body>\n  <x:GetUserAvailabilityRequest xmlns:x=\"urn:x\"/>"
                          "</s:Body></s:Envelope>";
        xmlDocPtr d;
        mt_soap_request_t env;
        mt_request_t req;
        mt_error_t *e;
        mt_soap_parse(p, src, strlen(src), &d);
        mt_soap_open(p, d, &env);
        e = mt_request_check_op(p, env.operation);
        is_str(e ? e->code : NULL, "ErrorInvalidRequest", "unknown operation refused");
        like(e ? e->message : NULL, "{urn:x}GetUserAvailabilityRequest", "... and named");
        ok(e && e->line == 2 && e->column == 3, "... at its position");
        e = mt_request_decode(p, env.operation, &req);
        like(e ? e->message : NULL, "{urn:x}GetUserAvailabilityRequest",
             "decode refuses it the same way");
        mt_soap_parse(p, ENV_OPEN "<s:Body><m:GetMessageTrackingReport/></s:Body></s:Envelope>",
                      strlen(ENV_OPEN "<s:Body><m:GetMessageTrackingReport/></s:Body></s:Envelope>"),
                      &d);
        mt_soap_open(p, d, &env);
        ok(mt_request_check_op(p, env.operation) == NULL, "a known operation passes");
    }
    is_int(mt_request_op(NULL), MT_OP_UNKNOWN, "no element is no operation");
    is_str(mt_request_op_name(MT_OP_GET), "GetMessageTrackingReport", "op name");

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
