/* test_schema.c: loading, validating against and serving the bundled schemas (TAP) */
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <libxml/parser.h>
#include "tap.h"
#include "mt_schema.h"
#include "mt_soap.h"

#define ENV_OPEN "<s:Envelope xmlns:s=\"" MT_NS_SOAP11 "\" xmlns:m=\"" MT_NS_MESSAGES \
                 "\" xmlns:t=\"" MT_NS_TYPES "\"><s:Body>"
#define ENV_CLOSE "</s:Body></s:Envelope>"

typedef struct {
    const char *name;
    const char *body;       /* the operation element */
    int valid;
    int line, column;       /* expected error position when invalid (0: don't check) */
    const char *violation;  /* substring */
} case_t;

static const case_t cases[] = {
    { "minimal Find", "<m:FindMessageTrackingReport><m:Scope>Organization</m:Scope>"
      "<m:Domain>example.org</m:Domain></m:FindMessageTrackingReport>", 1, 0, 0, NULL },
    { "full Find, any order",
      "<m:FindMessageTrackingReport><m:Domain>example.org</m:Domain>"
      "<m:Subject>hello</m:Subject><m:Scope>Site</m:Scope>"
      "<m:Sender><t:EmailAddress>a@example.org</t:EmailAddress></m:Sender>"
      "<m:Recipient><t:Name>B</t:Name><t:EmailAddress>b@example.org</t:EmailAddress></m:Recipient>"
      "<m:StartDateTime>2026-11-01T00:00:00Z</m:StartDateTime>"
      "<m:EndDateTime>2026-11-21T00:00:00.5+01:00</m:EndDateTime>"
      "<m:MessageId>&lt;x@y&gt;</m:MessageId><m:DiagnosticsLevel>Verbose</m:DiagnosticsLevel>"
      "<m:ServerHint>mx1</m:ServerHint><m:PurportedSender><t:EmailAddress>c@d</t:EmailAddress>"
      "</m:PurportedSender><m:FederatedDeliveryMailbox><t:EmailAddress>f@g</t:EmailAddress>"
      "</m:FederatedDeliveryMailbox><m:Properties><t:TrackingPropertyType><t:Name>k</t:Name>"
      "<t:Value>v</t:Value></t:TrackingPropertyType></m:Properties>"
      "</m:FindMessageTrackingReport>", 1, 0, 0, NULL },
    { "Find without Domain", "<m:FindMessageTrackingReport><m:Scope>Organization</m:Scope>"
      "</m:FindMessageTrackingReport>", 0, 1, 0, "Domain" },
    { "Find with empty Scope",
      "<m:FindMessageTrackingReport>\n<m:Scope></m:Scope><m:Domain>x</m:Domain>"
      "</m:FindMessageTrackingReport>", 0, 2, 1, "Scope" },
    { "Find with unknown element",
      "<m:FindMessageTrackingReport><m:Scope>O</m:Scope><m:Domain>x</m:Domain>\n"
      "   <m:Bogus/></m:FindMessageTrackingReport>", 0, 2, 4, "Bogus" },
    { "Find with bad dateTime", "<m:FindMessageTrackingReport><m:Scope>O</m:Scope>"
      "<m:Domain>x</m:Domain><m:StartDateTime>yesterday</m:StartDateTime>"
      "</m:FindMessageTrackingReport>", 0, 0, 0, "StartDateTime" },
    { "Find with unqualified child", "<m:FindMessageTrackingReport><Scope>O</Scope>"
      "<m:Domain>x</m:Domain></m:FindMessageTrackingReport>", 0, 0, 0, "Scope" },
    { "minimal Get", "<m:GetMessageTrackingReport><m:Scope>Organization</m:Scope>"
      "<m:ReportTemplate>Summary</m:ReportTemplate>"
      "<m:MessageTrackingReportId>Message-Id=&lt;a@b&gt;</m:MessageTrackingReportId>"
      "</m:GetMessageTrackingReport>", 1, 0, 0, NULL },
    { "Get RecipientPath with filter",
      "<m:GetMessageTrackingReport><m:ReturnQueueEvents>true</m:ReturnQueueEvents>"
      "<m:RecipientFilter><t:EmailAddress>b@example.org</t:EmailAddress></m:RecipientFilter>"
      "<m:MessageTrackingReportId>id</m:MessageTrackingReportId><m:Scope>Forest</m:Scope>"
      "<m:ReportTemplate>RecipientPath</m:ReportTemplate></m:GetMessageTrackingReport>",
      1, 0, 0, NULL },
    { "Get with bad template", "<m:GetMessageTrackingReport><m:Scope>O</m:Scope>"
      "<m:ReportTemplate>Everything</m:ReportTemplate>"
      "<m:MessageTrackingReportId>id</m:MessageTrackingReportId>"
      "</m:GetMessageTrackingReport>", 0, 0, 0, "ReportTemplate" },
    { "Get with bad boolean", "<m:GetMessageTrackingReport><m:Scope>O</m:Scope>"
      "<m:ReportTemplate>Summary</m:ReportTemplate><m:ReturnQueueEvents>yes</m:ReturnQueueEvents>"
      "<m:MessageTrackingReportId>id</m:MessageTrackingReportId>"
      "</m:GetMessageTrackingReport>", 0, 0, 0, "ReturnQueueEvents" },
    { "Get without report id", "<m:GetMessageTrackingReport><m:Scope>O</m:Scope>"
      "<m:ReportTemplate>Summary</m:ReportTemplate></m:GetMessageTrackingReport>",
      0, 0, 0, "MessageTrackingReportId" },
};

static const struct { const char *name; const char *el; int valid; } header_cases[] = {
    { "version 2010", "<t:RequestServerVersion xmlns:t=\"" MT_NS_TYPES
      "\" Version=\"Exchange2010\"/>", 1 },
    { "version with mustUnderstand", "<t:RequestServerVersion xmlns:t=\"" MT_NS_TYPES
      "\" xmlns:s=\"" MT_NS_SOAP11 "\" s:mustUnderstand=\"1\" Version=\"Exchange2013_SP1\"/>", 1 },
    { "version 2007 is schema-valid", "<t:RequestServerVersion xmlns:t=\"" MT_NS_TYPES
      "\" Version=\"Exchange2007\"/>", 1 },
    { "unknown version", "<t:RequestServerVersion xmlns:t=\"" MT_NS_TYPES
      "\" Version=\"Exchange2099\"/>", 0 },
    { "no version", "<t:RequestServerVersion xmlns:t=\"" MT_NS_TYPES "\"/>", 0 },
};

static void write_file(apr_pool_t *p, const char *dir, const char *name, const char *data)
{
    FILE *f = fopen(apr_pstrcat(p, dir, "/", name, NULL), "w");
    fputs(data, f);
    fclose(f);
}

static void copy_file(apr_pool_t *p, const char *from_dir, const char *to_dir, const char *name)
{
    apr_file_copy(apr_pstrcat(p, from_dir, "/", name, NULL), apr_pstrcat(p, to_dir, "/", name, NULL),
                  APR_FPROT_FILE_SOURCE_PERMS, p);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    mt_schema_set_t *set = NULL;
    const char *dir = getenv("MSGTRACK_SCHEMA_DIR"), *err;
    size_t i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    xmlInitParser();
    if (!dir)
        dir = "schemas";

    err = mt_schema_set_load(p, dir, &set);
    if (!ok(err == NULL && set, "bundled schemas load from %s%s%s", dir, err ? ": " : "",
            err ? err : "")) {
        return tap_done();
    }

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *doc = apr_pstrcat(p, ENV_OPEN, cases[i].body, ENV_CLOSE, NULL);
        xmlDocPtr d;
        mt_soap_request_t req;
        mt_error_t *e;
        if (!ok(mt_soap_parse(p, doc, strlen(doc), &d) == NULL && !mt_soap_open(p, d, &req),
                "%s: parses", cases[i].name))
            continue;
        e = mt_schema_validate(set, p, req.operation);
        if (cases[i].valid) {
            ok(e == NULL, "%s: valid%s%s", cases[i].name, e ? ": " : "", e ? e->message : "");
            continue;
        }
        is_str(e ? e->code : NULL, "ErrorSchemaValidation", "%s: ErrorSchemaValidation",
               cases[i].name);
        like(e ? e->violation : NULL, cases[i].violation, "%s: violation names the problem",
             cases[i].name);
        ok(e && e->line > 0, "%s: has a line", cases[i].name);
        if (cases[i].line)
            is_int(e ? e->line : 0, cases[i].line, "%s: line", cases[i].name);
        if (cases[i].column)
            is_int(e ? e->column : 0, cases[i].column, "%s: column", cases[i].name);
    }

    for (i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
        xmlDocPtr d;
        const char *src = header_cases[i].el;
        mt_error_t *e = mt_soap_parse(p, src, strlen(src), &d);
        ok(e == NULL, "%s: parses", header_cases[i].name);
        if (e)
            continue;
        e = mt_schema_validate(set, p, xmlDocGetRootElement(d));
        is_int(e == NULL, header_cases[i].valid, "%s: %s", header_cases[i].name,
               header_cases[i].valid ? "valid" : "invalid");
    }

    /* Files served and the WSDL's address rewritten. */
    {
        apr_size_t len;
        mt_out_t *out = mt_out_buffer_make(p);
        const char *wsdl;
        xmlDocPtr d;
        ok(mt_schema_file_data(set, MT_SCHEMA_FILE_TYPES, &len, NULL) && len > 1000,
           "types.xsd bytes available");
        is_int(mt_schema_file_lookup("services.WSDL"), MT_SCHEMA_FILE_WSDL, "lookup is case-insensitive");
        is_int(mt_schema_file_lookup("MESSAGES.xsd"), MT_SCHEMA_FILE_MESSAGES, "lookup messages.xsd");
        is_int(mt_schema_file_lookup("other.xsd"), -1, "unknown file");
        mt_schema_write_wsdl(set, out, "https://mail.example.org:8443/EWS/Exchange.asmx?a&b");
        wsdl = mt_out_buffer_get(out, &len);
        like(wsdl, "<soap:address location=\"https://mail.example.org:8443/EWS/Exchange.asmx?a&amp;b\"",
             "WSDL address rewritten and escaped");
        ok(strstr(wsdl, "https://localhost/EWS/Exchange.asmx") == NULL, "original address gone");
        d = xmlReadMemory(wsdl, (int)len, "wsdl", NULL, XML_PARSE_NONET);
        ok(d != NULL, "rewritten WSDL is well-formed");
        xmlFreeDoc(d);
    }

    /* Broken schema directories give a message naming the file. */
    {
        char tmpl[] = "/tmp/mt-schema-XXXXXX";
        const char *tmp = mkdtemp(tmpl);
        mt_schema_set_t *s2;

        err = mt_schema_set_load(p, "/nonexistent/schemas", &s2);
        like(err, "/nonexistent/schemas", "missing directory named");
        ok(s2 == NULL, "no set on error");

        err = mt_schema_set_load(p, tmp, &s2);
        like(err, "Services.wsdl", "missing WSDL named");

        copy_file(p, dir, tmp, "Services.wsdl");
        err = mt_schema_set_load(p, tmp, &s2);
        like(err, "messages.xsd", "missing messages.xsd named");

        copy_file(p, dir, tmp, "messages.xsd");
        copy_file(p, dir, tmp, "types.xsd");
        ok(mt_schema_set_load(p, tmp, &s2) == NULL, "a complete copy loads");

        write_file(p, tmp, "types.xsd", "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\""
                   " targetNamespace=\"" MT_NS_TYPES "\"><xs:element name=\"x\" type=\"nope\"/>"
                   "</xs:schema>");
        err = mt_schema_set_load(p, tmp, &s2);
        like(err, "types.xsd", "broken types.xsd named");

        write_file(p, tmp, "types.xsd", "<not-xml");
        err = mt_schema_set_load(p, tmp, &s2);
        like(err, "types.xsd", "malformed types.xsd named");

        copy_file(p, dir, tmp, "types.xsd");
        write_file(p, tmp, "Services.wsdl", "<definitions/>");
        err = mt_schema_set_load(p, tmp, &s2);
        like(err, "soap:address", "WSDL without an address refused");

        write_file(p, tmp, "Services.wsdl", "<x><soap:address location=\"a\"/>");
        err = mt_schema_set_load(p, tmp, &s2);
        like(err, "not well-formed", "malformed WSDL refused");

        unlink(apr_pstrcat(p, tmp, "/Services.wsdl", NULL));
        unlink(apr_pstrcat(p, tmp, "/messages.xsd", NULL));
        unlink(apr_pstrcat(p, tmp, "/types.xsd", NULL));
        rmdir(tmp);
    }

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
