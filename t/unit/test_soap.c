/* test_soap.c: request parsing, envelope checks, faults (TAP) */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include "tap.h"
#include "mt_soap.h"

#define ENV_OPEN "<s:Envelope xmlns:s=\"" MT_NS_SOAP11 "\" xmlns:m=\"" MT_NS_MESSAGES \
                 "\" xmlns:t=\"" MT_NS_TYPES "\">"
#define FIND "<m:FindMessageTrackingReport><m:Scope>Organization</m:Scope>" \
             "<m:Domain>example.org</m:Domain></m:FindMessageTrackingReport>"
#define VALID ENV_OPEN "<s:Body>" FIND "</s:Body></s:Envelope>"

typedef struct {
    const char *name;
    const char *doc;
    apr_size_t len;          /* 0: strlen */
    const char *code;        /* expected error code from parsing, NULL: parses */
    const char *in_message;  /* substring of message or violation */
} parse_case_t;

static const parse_case_t parse_cases[] = {
    { "valid envelope", VALID, 0, NULL, NULL },
    { "XML declaration, utf-8", "<?xml version=\"1.0\" encoding=\"utf-8\"?>" VALID, 0, NULL, NULL },
    { "not well-formed", ENV_OPEN "<s:Body>", 0, "ErrorSchemaValidation", "" },
    { "mismatched tag", ENV_OPEN "<s:Body></s:Bod></s:Envelope>", 0, "ErrorSchemaValidation",
      "mismatch" },
    { "undeclared prefix", "<x:Envelope/>", 0, "ErrorSchemaValidation", "x" },
    { "DOCTYPE", "<!DOCTYPE s:Envelope>" VALID, 0, "ErrorInvalidRequest", "DTD" },
    { "billion laughs",
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
      "<lolz>&lol3;</lolz>", 0, "ErrorInvalidRequest", "DTD" },
    { "external entity",
      "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<r>&x;</r>", 0, "ErrorInvalidRequest", "DTD" },
    { "undeclared entity", ENV_OPEN "<s:Body>&x;</s:Body></s:Envelope>", 0,
      "ErrorSchemaValidation", "" },
    { "invalid UTF-8", ENV_OPEN "<s:Body><m:x>\xC3\x28</m:x></s:Body></s:Envelope>", 0,
      "ErrorSchemaValidation", "" },
    { "NUL byte", ENV_OPEN "<s:Body><m:x>a\0b</m:x></s:Body></s:Envelope>",
      sizeof(ENV_OPEN "<s:Body><m:x>a\0b</m:x></s:Body></s:Envelope>") - 1,
      "ErrorSchemaValidation", "" },
    { "unsupported encoding", "<?xml version=\"1.0\" encoding=\"x-no-such-charset\"?>" VALID, 0,
      "ErrorSchemaValidation", "ncoding" },
    { "ISO-8859-1 declared", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" VALID, 0, NULL, NULL },
    { "empty body", "", 0, "ErrorInvalidRequest", "empty" },
    { "whitespace only", "  \n", 0, "ErrorSchemaValidation", "" },
    { "three bytes", "<a>", 0, "ErrorSchemaValidation", "" },
    /* All of it held back for encoding detection, parsed by finish() alone
     * (which feeds libxml2 a NULL chunk: found by t/fuzz/fuzz_soap). */
    { "four bytes, a whole document", "<x/>", 0, NULL, NULL },
};

typedef struct {
    const char *name;
    const char *doc;
    mt_fault_kind_e kind;     /* expected, or -1 for success */
    const char *code;
    const char *in_message;
    const char *op_name;      /* local name of the operation on success */
    int has_version;
} open_case_t;

static const open_case_t open_cases[] = {
    { "prefixed", VALID, (mt_fault_kind_e)-1, NULL, NULL, "FindMessageTrackingReport", 0 },
    { "default namespaces",
      "<Envelope xmlns=\"" MT_NS_SOAP11 "\"><Body><FindMessageTrackingReport xmlns=\""
      MT_NS_MESSAGES "\"/></Body></Envelope>", (mt_fault_kind_e)-1, NULL, NULL,
      "FindMessageTrackingReport", 0 },
    { "other prefixes, header with version",
      "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"" MT_NS_SOAP11 "\"><SOAP-ENV:Header>"
      "<ns2:RequestServerVersion xmlns:ns2=\"" MT_NS_TYPES "\" Version=\"Exchange2010\" "
      "SOAP-ENV:mustUnderstand=\"1\"/></SOAP-ENV:Header><SOAP-ENV:Body>"
      "<ns1:GetMessageTrackingReport xmlns:ns1=\"" MT_NS_MESSAGES "\"/></SOAP-ENV:Body>"
      "</SOAP-ENV:Envelope>", (mt_fault_kind_e)-1, NULL, NULL, "GetMessageTrackingReport", 1 },
    { "unknown header ignored",
      ENV_OPEN "<s:Header><t:MailboxCulture>en-US</t:MailboxCulture></s:Header><s:Body>" FIND
      "</s:Body></s:Envelope>", (mt_fault_kind_e)-1, NULL, NULL, "FindMessageTrackingReport", 0 },
    { "SOAP 1.2", "<e:Envelope xmlns:e=\"" MT_NS_SOAP12 "\"><e:Body/></e:Envelope>",
      MT_FAULT_VERSION_MISMATCH, "ErrorInvalidRequest", "SOAP 1.2", NULL, 0 },
    { "not an envelope", "<foo/>", MT_FAULT_VERSION_MISMATCH, "ErrorInvalidRequest",
      "not a SOAP 1.1 Envelope", NULL, 0 },
    { "no body", ENV_OPEN "<s:Header/></s:Envelope>", MT_FAULT_EWS, "ErrorInvalidRequest",
      "no Body", NULL, 0 },
    { "empty body", ENV_OPEN "<s:Body>  </s:Body></s:Envelope>", MT_FAULT_EWS,
      "ErrorInvalidRequest", "Body is empty", NULL, 0 },
    { "two operations", ENV_OPEN "<s:Body>" FIND FIND "</s:Body></s:Envelope>", MT_FAULT_EWS,
      "ErrorInvalidRequest", "exactly one", NULL, 0 },
    { "text in body", ENV_OPEN "<s:Body>hello" FIND "</s:Body></s:Envelope>", MT_FAULT_EWS,
      "ErrorInvalidRequest", "text", NULL, 0 },
    { "element before body", ENV_OPEN "<x/><s:Body>" FIND "</s:Body></s:Envelope>",
      MT_FAULT_EWS, "ErrorInvalidRequest", "unexpected element", NULL, 0 },
    { "mustUnderstand unknown header",
      ENV_OPEN "<s:Header><t:ExchangeImpersonation s:mustUnderstand=\"1\"/></s:Header><s:Body>"
      FIND "</s:Body></s:Envelope>", MT_FAULT_MUST_UNDERSTAND, "ErrorInvalidRequest",
      "ExchangeImpersonation", NULL, 0 },
    { "mustUnderstand=true unknown header",
      ENV_OPEN "<s:Header><x:Y xmlns:x=\"urn:x\" s:mustUnderstand=\"true\"/></s:Header><s:Body>"
      FIND "</s:Body></s:Envelope>", MT_FAULT_MUST_UNDERSTAND, "ErrorInvalidRequest",
      "{urn:x}Y", NULL, 0 },
    { "mustUnderstand=0 ignored",
      ENV_OPEN "<s:Header><x:Y xmlns:x=\"urn:x\" s:mustUnderstand=\"0\"/></s:Header><s:Body>"
      FIND "</s:Body></s:Envelope>", (mt_fault_kind_e)-1, NULL, NULL,
      "FindMessageTrackingReport", 0 },
    { "two versions",
      ENV_OPEN "<s:Header><t:RequestServerVersion Version=\"Exchange2010\"/>"
      "<t:RequestServerVersion Version=\"Exchange2010\"/></s:Header><s:Body>" FIND
      "</s:Body></s:Envelope>", MT_FAULT_EWS, "ErrorInvalidRequest", "twice", NULL, 0 },
};

static const struct { const char *ct; int ok; } ct_cases[] = {
    { "text/xml", 1 }, { "text/xml; charset=utf-8", 1 }, { "TEXT/XML;charset=\"UTF-8\"", 1 },
    { "  text/xml ; charset=utf-8", 1 }, { "application/soap+xml", 0 },
    { "application/xml", 0 }, { "text/xmlx", 0 }, { "text/html", 0 }, { "", 0 }, { NULL, 0 },
};

static mt_error_t *parse_bytewise(apr_pool_t *p, const char *s, apr_size_t len, xmlDocPtr *doc)
{
    mt_soap_parser_t *sp = mt_soap_parser_create(p);
    apr_size_t i;
    mt_error_t *err;
    for (i = 0; i < len; i++)
        if ((err = mt_soap_parser_feed(sp, s + i, 1)))
            return err;
    return mt_soap_parser_finish(sp, doc);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *pool;
    size_t i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&pool, NULL);
    xmlInitParser();

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const parse_case_t *c = &parse_cases[i];
        apr_size_t len = c->len ? c->len : strlen(c->doc);
        int pass;
        for (pass = 0; pass < 2; pass++) {
            xmlDocPtr doc = NULL;
            mt_error_t *err = pass ? parse_bytewise(pool, c->doc, len, &doc)
                                   : mt_soap_parse(pool, c->doc, len, &doc);
            const char *how = pass ? "byte by byte" : "one chunk";
            if (!c->code) {
                ok(err == NULL && doc != NULL, "parse %s (%s): accepted%s%s", c->name, how,
                   err ? ": " : "", err ? err->message : "");
            }
            else {
                is_str(err ? err->code : NULL, c->code, "parse %s (%s): code", c->name, how);
                if (err && c->in_message[0]) {
                    const char *text = apr_pstrcat(pool, err->message, " | ",
                                                   err->violation ? err->violation : "", NULL);
                    like(text, c->in_message, "parse %s (%s): message", c->name, how);
                }
                ok(doc == NULL, "parse %s (%s): no document", c->name, how);
            }
        }
    }

    /* White space between elements is layout and dropped; every leaf's
     * value, white space, comments, CDATA and references kept, fed in one
     * chunk or byte by byte. */
    {
        static const char doc_s[] =
            "<a>\n  <b>  </b>\n  <c> <!--x--> </c>\n\t<d>x <e/> y</d>\r\n"
            "  <f><![CDATA[ ]]><g/></f><h>&#32;<i/></h> <!--y--> <j/>\n</a>";
        static const struct { const char *name, *content; } want[] = {
            { "b", "  " }, { "c", "  " }, { "d", "x  y" }, { "f", " " }, { "h", " " },
        };
        int pass;
        for (pass = 0; pass < 2; pass++) {
            const char *how = pass ? "byte by byte" : "one chunk";
            xmlDocPtr doc = NULL;
            mt_error_t *err = pass ? parse_bytewise(pool, doc_s, strlen(doc_s), &doc)
                                   : mt_soap_parse(pool, doc_s, strlen(doc_s), &doc);
            xmlNodePtr n, root = doc ? xmlDocGetRootElement(doc) : NULL;
            size_t k;
            int texts = 0;
            ok(!err && root, "layout (%s): parses", how);
            if (!root)
                continue;
            for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
                const char *got = NULL;
                for (n = root->children; n; n = n->next)
                    if (n->type == XML_ELEMENT_NODE
                        && !strcmp((const char *)n->name, want[k].name)) {
                        xmlChar *c = xmlNodeGetContent(n);
                        got = apr_pstrdup(pool, (const char *)c);
                        xmlFree(c);
                    }
                is_str(got, want[k].content, "layout (%s): the value of <%s> kept", how,
                       want[k].name);
            }
            for (n = root->children; n; n = n->next)
                texts += n->type == XML_TEXT_NODE;
            if (!pass)
                is_int(texts, 1, "layout (one chunk): only the text before a comment stays");
        }
    }

    /* Deep nesting stops at libxml2's depth limit. */
    {
        int depth = 10000, k;
        char *deep = malloc((size_t)depth * 7 + 1), *w = deep;
        xmlDocPtr doc;
        mt_error_t *err;
        for (k = 0; k < depth; k++) { memcpy(w, "<a>", 3); w += 3; }
        for (k = 0; k < depth; k++) { memcpy(w, "</a>", 4); w += 4; }
        *w = '\0';
        err = mt_soap_parse(pool, deep, strlen(deep), &doc);
        is_str(err ? err->code : NULL, "ErrorSchemaValidation", "10000-deep nesting refused");
        free(deep);
    }

    /* UTF-16 with BOM is valid XML and accepted. */
    {
        const char *src = VALID;
        apr_size_t n = strlen(src), k;
        char *u16 = apr_palloc(pool, 2 * n + 2);
        xmlDocPtr doc;
        mt_error_t *err;
        u16[0] = (char)0xFF; u16[1] = (char)0xFE;
        for (k = 0; k < n; k++) { u16[2 + 2 * k] = src[k]; u16[3 + 2 * k] = 0; }
        err = mt_soap_parse(pool, u16, 2 * n + 2, &doc);
        ok(err == NULL && doc, "UTF-16LE with BOM accepted");
        err = parse_bytewise(pool, u16, 2 * n + 2, &doc);
        ok(err == NULL && doc, "UTF-16LE with BOM accepted byte by byte");
    }

    /* Positions: element start line and column, tags spanning lines. */
    {
        const char *src = ENV_OPEN "\n  <s:Body>\n    <m:FindMessageTrackingReport\n"
                          "       >x</m:FindMessageTrackingReport></s:Body></s:Envelope>";
        xmlDocPtr doc;
        mt_soap_request_t req;
        mt_error_t *err = mt_soap_parse(pool, src, strlen(src), &doc);
        ok(err == NULL, "positions document parses");
        if (!err && !mt_soap_open(pool, doc, &req)) {
            xmlNodePtr body = req.operation->parent;
            is_int(mt_soap_node_line(body), 2, "Body on line 2");
            is_int(mt_soap_node_column(body), 3, "Body at column 3");
            is_int(mt_soap_node_line(req.operation), 3, "operation starts on line 3");
            is_int(mt_soap_node_column(req.operation), 5, "operation at column 5");
            is_int(mt_soap_node_column(req.envelope), 1, "Envelope at column 1");
        }
        else {
            ok(0, "positions document opens");
        }
        err = mt_soap_parse(pool, "<a>\n  <b>\n</a>", 14, &doc);
        is_int(err ? err->line : 0, 3, "well-formedness error reports its line");
        ok(err && err->column > 0, "well-formedness error reports a column");
        err = mt_soap_parse(pool, "\n\n<!DOCTYPE x>", 13, &doc);
        is_int(err ? err->line : 0, 3, "DOCTYPE error reports its line");
        is_int(err ? err->column : 0, 1, "DOCTYPE error reports its column");
    }

    for (i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]); i++) {
        const open_case_t *c = &open_cases[i];
        xmlDocPtr doc;
        mt_soap_request_t req;
        mt_error_t *err = mt_soap_parse(pool, c->doc, strlen(c->doc), &doc);
        if (!ok(err == NULL, "open %s: well-formed", c->name))
            continue;
        err = mt_soap_open(pool, doc, &req);
        if ((int)c->kind == -1) {
            ok(err == NULL, "open %s: accepted%s%s", c->name, err ? ": " : "",
               err ? err->message : "");
            is_str(req.operation ? (const char *)req.operation->name : NULL, c->op_name,
                   "open %s: operation", c->name);
            is_int(req.version != NULL, c->has_version, "open %s: version header", c->name);
        }
        else {
            is_int(err ? (int)err->kind : -1, c->kind, "open %s: fault kind", c->name);
            is_str(err ? err->code : NULL, c->code, "open %s: code", c->name);
            like(err ? err->message : NULL, c->in_message, "open %s: message", c->name);
        }
    }

    for (i = 0; i < sizeof(ct_cases) / sizeof(ct_cases[0]); i++)
        is_int(mt_soap_content_type_ok(ct_cases[i].ct), ct_cases[i].ok, "content type '%s'",
               ct_cases[i].ct ? ct_cases[i].ct : "(none)");

    /* The fault renderer produces well-formed XML with the EWS detail. */
    {
        static const struct { mt_fault_kind_e kind; const char *faultcode; } kinds[] = {
            { MT_FAULT_EWS, "a:ErrorSchemaValidation" },
            { MT_FAULT_VERSION_MISMATCH, "s:VersionMismatch" },
            { MT_FAULT_MUST_UNDERSTAND, "s:MustUnderstand" },
        };
        size_t k;
        for (k = 0; k < 3; k++) {
            mt_out_t *out = mt_out_buffer_make(pool);
            mt_error_t *err = mt_error_make(pool, kinds[k].kind, "ErrorSchemaValidation",
                                            "bad <thing> & \"more\"");
            const char *xml;
            xmlDocPtr doc;
            mt_error_at(err, "violation <x>", 4, 7);
            mt_soap_write_fault(out, err);
            xml = mt_out_buffer_get(out, NULL);
            doc = xmlReadMemory(xml, (int)strlen(xml), "fault", NULL, XML_PARSE_NONET);
            ok(doc != NULL, "fault %s is well-formed", kinds[k].faultcode);
            xmlFreeDoc(doc);
            like(xml, kinds[k].faultcode, "fault code %s", kinds[k].faultcode);
            like(xml, "<e:ResponseCode xmlns:e=\"" MT_NS_ERRORS "\">ErrorSchemaValidation<",
                 "fault detail ResponseCode");
            like(xml, "<t:LineNumber>4</t:LineNumber><t:LinePosition>7</t:LinePosition>",
                 "fault position");
            like(xml, "<t:Violation>violation &lt;x&gt;</t:Violation>", "fault violation escaped");
            like(xml, "<t:ServerVersionInfo MajorVersion=\"14\"", "fault carries ServerVersionInfo");
        }
    }

    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
