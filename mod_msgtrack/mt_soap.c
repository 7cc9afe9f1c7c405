/* mt_soap.c: SOAP 1.1 envelope parsing, envelope checks and the fault renderer */
#include <stdint.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include "mt_soap.h"
#include "mt_version.h"

/* ------------------------------------------------------------------ parser */

struct mt_soap_parser_t {
    apr_pool_t *pool;
    xmlParserCtxtPtr ctxt;
    char head[4];              /* first bytes, held back for encoding detection */
    apr_size_t head_len;
    mt_error_t *err;
    int saw_doctype, doctype_line, doctype_column;
    int saw_error, error_line, error_column;
    char error_msg[256];
};

/* Column (1-based, in characters) of the '<' that starts the construct the
 * parser is inside of; *line is corrected when the tag spans lines. */
static int tag_start(xmlParserCtxtPtr ctxt, int *line)
{
    xmlParserInputPtr in = ctxt->input;
    const xmlChar *p, *q;
    int chars = 0, newlines = 0;

    *line = in ? in->line : 0;
    if (!in || !in->cur || !in->base || in->cur <= in->base)
        return 0;
    for (p = in->cur - 1; p > in->base && *p != '<'; p--)
        ;
    if (*p != '<')
        return 0;
    for (q = p; q < in->cur; q++) {
        if (*q == '\n')
            newlines++;
        if ((*q & 0xC0) != 0x80)
            chars++;
    }
    if (!newlines)
        return in->col - chars > 0 ? in->col - chars : 0;
    *line = in->line - newlines;
    chars = 1;
    for (q = p; q > in->base && q[-1] != '\n'; q--)
        if ((q[-1] & 0xC0) != 0x80)
            chars++;
    return (q > in->base || in->consumed == 0) ? chars : 0;
}

static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *eid,
                       const xmlChar *sid)
{
    xmlParserCtxtPtr ctxt = ctx;
    mt_soap_parser_t *sp = ctxt->_private;
    (void)name; (void)eid; (void)sid;
    if (!sp->saw_doctype) {
        sp->saw_doctype = 1;
        sp->doctype_column = tag_start(ctxt, &sp->doctype_line);
    }
    xmlStopParser(ctxt);
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    int line, column = tag_start(ctxt, &line);
    xmlNodePtr parent = ctxt->node;

    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
                          nb_attributes, nb_defaulted, attributes);
    if (ctxt->node && ctxt->node != parent) {
        ctxt->node->_private = (void *)(intptr_t)column;
        if (line > 0 && line < 65535)
            ctxt->node->line = (unsigned short)line;
    }
}

/* White space between a start or end tag and a child's start tag, or
 * after a child's end tag before its parent's: layout, in content where
 * elements are children (the schemas have no mixed content; the value of
 * a leaf, white space included, is never layout). Not kept as a text node:
 * nothing reads it. Text copied out of the input (non-ASCII, or split)
 * and text whose next bytes are not in the buffer yet are kept. */
static int is_layout(xmlParserCtxtPtr ctxt, const xmlChar *ch, int len)
{
    xmlParserInputPtr in = ctxt->input;
    const xmlChar *next = ch + len;
    int i;

    if (!ctxt->node || !in || !in->base || !in->end || ch < in->base
        || next + 2 > in->end || next[0] != '<')
        return 0;
    if (next[1] == '/') {
        if (!ctxt->node->last || ctxt->node->last->type != XML_ELEMENT_NODE)
            return 0;
    }
    else if (next[1] == '!' || next[1] == '?') {
        return 0;
    }
    for (i = 0; i < len; i++)
        if (ch[i] != ' ' && ch[i] != '\n' && ch[i] != '\t' && ch[i] != '\r')
            return 0;
    return 1;
}

static void on_characters(void *ctx, const xmlChar *ch, int len)
{
    if (!is_layout(ctx, ch, len))
        xmlSAX2Characters(ctx, ch, len);
}

static void record_error(mt_soap_parser_t *sp, xmlErrorPtr e)
{
    apr_size_t n;

    if (!e || e->level < XML_ERR_ERROR || sp->saw_error)
        return;
    sp->saw_error = 1;
    sp->error_line = e->line;
    sp->error_column = e->int2;
    apr_cpystrn(sp->error_msg, e->message ? e->message : "malformed XML",
                sizeof(sp->error_msg));
    n = strlen(sp->error_msg);
    while (n > 0 && apr_isspace(sp->error_msg[n - 1]))
        sp->error_msg[--n] = '\0';
}

static void on_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ctx;
    record_error(ctxt->_private, e);
}

/* Errors raised without a parser context (encoding conversion) reach the
 * thread's structured handler, set around each parse call. */
static void on_global_error(void *ctx, xmlErrorPtr e)
{
    record_error(ctx, e);
}

static apr_status_t parser_cleanup(void *data)
{
    mt_soap_parser_t *sp = data;
    if (sp->ctxt) {
        if (sp->ctxt->myDoc)
            xmlFreeDoc(sp->ctxt->myDoc);
        sp->ctxt->myDoc = NULL;
        xmlFreeParserCtxt(sp->ctxt);
        sp->ctxt = NULL;
    }
    return APR_SUCCESS;
}

static apr_status_t doc_cleanup(void *data)
{
    xmlFreeDoc(data);
    return APR_SUCCESS;
}

mt_soap_parser_t *mt_soap_parser_create(apr_pool_t *p)
{
    mt_soap_parser_t *sp = apr_pcalloc(p, sizeof(*sp));
    sp->pool = p;
    apr_pool_cleanup_register(p, sp, parser_cleanup, apr_pool_cleanup_null);
    return sp;
}

static mt_error_t *check(mt_soap_parser_t *sp)
{
    if (sp->err)
        return sp->err;
    if (sp->saw_doctype) {
        sp->err = mt_error_make(sp->pool, MT_FAULT_EWS, "ErrorInvalidRequest",
                                "The request is invalid: a SOAP message must not "
                                "contain a document type declaration.");
        mt_error_at(sp->err, "DTDs (<!DOCTYPE ...>) are not allowed in SOAP messages.",
                    sp->doctype_line, sp->doctype_column);
    }
    else if (sp->saw_error || (sp->ctxt && (!sp->ctxt->wellFormed || !sp->ctxt->nsWellFormed))) {
        const char *msg = sp->saw_error ? sp->error_msg : "the request is not well-formed XML";
        sp->err = mt_error_make(sp->pool, MT_FAULT_EWS, "ErrorSchemaValidation",
                                "The request failed schema validation: %s", msg);
        mt_error_at(sp->err, apr_pstrdup(sp->pool, msg), sp->error_line, sp->error_column);
    }
    if (sp->err && sp->ctxt)
        xmlStopParser(sp->ctxt);
    return sp->err;
}

static int create_ctxt(mt_soap_parser_t *sp)
{
    xmlParserCtxtPtr ctxt;

    ctxt = xmlCreatePushParserCtxt(NULL, NULL, sp->head, (int)sp->head_len, NULL);
    if (!ctxt)
        return -1;
    /* No network, no DTD loading or defaulting, no entity substitution, and
     * line numbers past 65535. XML_PARSE_HUGE stays off: libxml2's depth and
     * size limits apply. */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA);
    ctxt->linenumbers = 1;
    ctxt->_private = sp;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->externalSubset = on_doctype;
    ctxt->sax->startElementNs = on_start;
    /* One handler for all text: libxml2 then never guesses which white
     * space is ignorable. */
    ctxt->sax->characters = on_characters;
    ctxt->sax->ignorableWhitespace = on_characters;
    ctxt->sax->serror = on_error;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    ctxt->sax->initialized = XML_SAX2_MAGIC;
    ctxt->vctxt.error = NULL;
    ctxt->vctxt.warning = NULL;
    sp->ctxt = ctxt;
    return 0;
}

static void parse_chunk(mt_soap_parser_t *sp, const char *data, apr_size_t len, int last)
{
    xmlStructuredErrorFunc saved = xmlStructuredError;
    void *saved_ctx = xmlStructuredErrorContext;

    xmlSetStructuredErrorFunc(sp, on_global_error);
    for (;;) {
        int n = len > (1 << 20) ? (1 << 20) : (int)len;
        xmlParseChunk(sp->ctxt, data, n, last && (apr_size_t)n == len);
        len -= (apr_size_t)n;
        if (len == 0 || sp->saw_doctype || sp->saw_error)
            break;
        data += n;      /* only now: data is NULL at the end of the body */
    }
    xmlSetStructuredErrorFunc(saved_ctx, saved);
}

mt_error_t *mt_soap_parser_feed(mt_soap_parser_t *sp, const char *data, apr_size_t len)
{
    if (sp->err)
        return sp->err;
    if (!sp->ctxt) {
        while (sp->head_len < sizeof(sp->head) && len > 0) {
            sp->head[sp->head_len++] = *data++;
            len--;
        }
        if (sp->head_len < sizeof(sp->head))
            return NULL;
        if (create_ctxt(sp) != 0)
            return sp->err = mt_error_make(sp->pool, MT_FAULT_EWS, "ErrorInternalServerError",
                                           "Out of memory creating the XML parser.");
        if (check(sp))
            return sp->err;
    }
    if (len > 0)
        parse_chunk(sp, data, len, 0);
    return check(sp);
}

mt_error_t *mt_soap_parser_finish(mt_soap_parser_t *sp, xmlDocPtr *doc)
{
    *doc = NULL;
    if (sp->err)
        return sp->err;
    if (!sp->ctxt) {
        if (sp->head_len == 0)
            return sp->err = mt_error_make(sp->pool, MT_FAULT_EWS, "ErrorInvalidRequest",
                                           "The request is invalid: the request body is empty.");
        if (create_ctxt(sp) != 0)
            return sp->err = mt_error_make(sp->pool, MT_FAULT_EWS, "ErrorInternalServerError",
                                           "Out of memory creating the XML parser.");
    }
    parse_chunk(sp, NULL, 0, 1);
    if (check(sp))
        return sp->err;
    if (!sp->ctxt->myDoc || !xmlDocGetRootElement(sp->ctxt->myDoc)) {
        sp->err = mt_error_make(sp->pool, MT_FAULT_EWS, "ErrorSchemaValidation",
                                "The request failed schema validation: the root element is missing.");
        return sp->err;
    }
    *doc = sp->ctxt->myDoc;
    sp->ctxt->myDoc = NULL;
    apr_pool_cleanup_register(sp->pool, *doc, doc_cleanup, apr_pool_cleanup_null);
    return NULL;
}

mt_error_t *mt_soap_parse(apr_pool_t *p, const char *data, apr_size_t len, xmlDocPtr *doc)
{
    mt_soap_parser_t *sp = mt_soap_parser_create(p);
    mt_error_t *err = mt_soap_parser_feed(sp, data, len);
    if (err) {
        *doc = NULL;
        return err;
    }
    return mt_soap_parser_finish(sp, doc);
}

int mt_soap_node_line(xmlNodePtr node)
{
    return node ? (int)xmlGetLineNo(node) : 0;
}

int mt_soap_node_column(xmlNodePtr node)
{
    return node && node->type == XML_ELEMENT_NODE ? (int)(intptr_t)node->_private : 0;
}

/* ------------------------------------------------------------------ envelope */

int mt_soap_is(xmlNodePtr node, const char *ns, const char *local)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns && node->ns->href
        && strcmp((const char *)node->ns->href, ns) == 0
        && strcmp((const char *)node->name, local) == 0;
}

const char *mt_soap_qname(apr_pool_t *p, xmlNodePtr node)
{
    if (node->ns && node->ns->href)
        return apr_psprintf(p, "{%s}%s", node->ns->href, node->name);
    return (const char *)node->name;
}

static int is_blank_text(xmlNodePtr n)
{
    return (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
        ? xmlIsBlankNode(n) : (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE);
}

static mt_error_t *invalid_at(apr_pool_t *p, xmlNodePtr node, const char *what)
{
    mt_error_t *err = mt_error_make(p, MT_FAULT_EWS, "ErrorInvalidRequest",
                                    "The request is invalid: %s", what);
    return mt_error_at(err, NULL, mt_soap_node_line(node), mt_soap_node_column(node));
}

static int must_understand(xmlNodePtr node)
{
    xmlChar *v = xmlGetNsProp(node, BAD_CAST "mustUnderstand", BAD_CAST MT_NS_SOAP11);
    int yes = 0;
    if (v) {
        const char *s = (const char *)v;
        while (apr_isspace(*s))
            s++;
        yes = (strncmp(s, "1", 1) == 0 || strncmp(s, "true", 4) == 0);
        xmlFree(v);
    }
    return yes;
}

mt_error_t *mt_soap_open(apr_pool_t *p, xmlDocPtr doc, mt_soap_request_t *req)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), n, body = NULL;

    memset(req, 0, sizeof(*req));
    if (!mt_soap_is(root, MT_NS_SOAP11, "Envelope")) {
        mt_error_t *err;
        if (mt_soap_is(root, MT_NS_SOAP12, "Envelope"))
            err = mt_error_make(p, MT_FAULT_VERSION_MISMATCH, "ErrorInvalidRequest",
                                "SOAP 1.2 is not supported at this endpoint: send a SOAP 1.1 "
                                "envelope (namespace " MT_NS_SOAP11 ") as text/xml.");
        else
            err = mt_error_make(p, MT_FAULT_VERSION_MISMATCH, "ErrorInvalidRequest",
                                "The root element %s is not a SOAP 1.1 Envelope.",
                                root ? mt_soap_qname(p, root) : "(none)");
        return mt_error_at(err, NULL, mt_soap_node_line(root), mt_soap_node_column(root));
    }
    req->envelope = root;
    for (n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) {
            if (!is_blank_text(n))
                return invalid_at(p, root, "the SOAP Envelope contains text.");
            continue;
        }
        if (!req->header && !body && mt_soap_is(n, MT_NS_SOAP11, "Header")) {
            req->header = n;
        }
        else if (!body && mt_soap_is(n, MT_NS_SOAP11, "Body")) {
            body = n;
        }
        else if (!body) {
            return invalid_at(p, n, apr_psprintf(p, "unexpected element %s in the SOAP Envelope.",
                                                 mt_soap_qname(p, n)));
        }
        /* SOAP 1.1 allows further elements after the Body: ignored. */
    }
    if (!body)
        return invalid_at(p, root, "the SOAP Envelope has no Body.");

    if (req->header) {
        for (n = req->header->children; n; n = n->next) {
            if (n->type != XML_ELEMENT_NODE)
                continue;
            if (mt_soap_is(n, MT_NS_TYPES, "RequestServerVersion")) {
                if (req->version)
                    return invalid_at(p, n, "RequestServerVersion appears twice.");
                req->version = n;
            }
            else if (must_understand(n)) {
                mt_error_t *err = mt_error_make(
                    p, MT_FAULT_MUST_UNDERSTAND, "ErrorInvalidRequest",
                    "The SOAP header %s is marked mustUnderstand but is not understood "
                    "by this server.", mt_soap_qname(p, n));
                return mt_error_at(err, NULL, mt_soap_node_line(n), mt_soap_node_column(n));
            }
        }
    }

    for (n = body->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) {
            if (!is_blank_text(n))
                return invalid_at(p, body, "the SOAP Body contains text.");
            continue;
        }
        if (req->operation)
            return invalid_at(p, n, "the SOAP Body must contain exactly one element, "
                              "the operation; it contains more.");
        req->operation = n;
    }
    if (!req->operation)
        return invalid_at(p, body, "the SOAP Body is empty.");
    return NULL;
}

/* ------------------------------------------------------------------ content type */

int mt_soap_content_type_ok(const char *ct)
{
    const char *end;
    apr_size_t n;

    if (!ct)
        return 0;
    while (apr_isspace(*ct))
        ct++;
    end = ct + strcspn(ct, ";");
    while (end > ct && apr_isspace(end[-1]))
        end--;
    n = (apr_size_t)(end - ct);
    return n == 8 && strncasecmp(ct, "text/xml", 8) == 0;
}

/* ------------------------------------------------------------------ writers */

void mt_soap_write_envelope_start(mt_out_t *out)
{
    /* Every response starts so: the numbers written as they are, no format. */
    mt_out_puts(out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<s:Envelope xmlns:s=\"" MT_NS_SOAP11 "\" xmlns:m=\"" MT_NS_MESSAGES "\""
        " xmlns:t=\"" MT_NS_TYPES "\">"
        "<s:Header><t:ServerVersionInfo MajorVersion=\"");
    mt_out_uint(out, MT_SERVER_MAJOR_VERSION);
    mt_out_puts(out, "\" MinorVersion=\"");
    mt_out_uint(out, MT_SERVER_MINOR_VERSION);
    mt_out_puts(out, "\" MajorBuildNumber=\"");
    mt_out_uint(out, MT_VERSION_MAJOR * 100 + MT_VERSION_MINOR);
    mt_out_puts(out, "\" MinorBuildNumber=\"");
    mt_out_uint(out, MT_VERSION_PATCH);
    mt_out_puts(out, "\" Version=\"" MT_SERVER_VERSION_NAME "\"/></s:Header><s:Body>");
}

void mt_soap_write_envelope_end(mt_out_t *out)
{
    mt_out_puts(out, "</s:Body></s:Envelope>\n");
}

void mt_soap_write_fault(mt_out_t *out, const mt_error_t *err)
{
    mt_soap_write_envelope_start(out);
    mt_out_puts(out, "<s:Fault>");
    switch (err->kind) {
    case MT_FAULT_VERSION_MISMATCH:
        mt_out_puts(out, "<faultcode>s:VersionMismatch</faultcode>");
        break;
    case MT_FAULT_MUST_UNDERSTAND:
        mt_out_puts(out, "<faultcode>s:MustUnderstand</faultcode>");
        break;
    default:
        mt_out_puts(out, "<faultcode xmlns:a=\"" MT_NS_TYPES "\">a:");
        mt_out_text(out, err->code);
        mt_out_puts(out, "</faultcode>");
    }
    mt_out_puts(out, "<faultstring xml:lang=\"en-US\">");
    mt_out_text(out, err->message);
    mt_out_puts(out, "</faultstring><detail>"
                     "<e:ResponseCode xmlns:e=\"" MT_NS_ERRORS "\">");
    mt_out_text(out, err->code);
    mt_out_puts(out, "</e:ResponseCode><e:Message xmlns:e=\"" MT_NS_ERRORS "\">");
    mt_out_text(out, err->message);
    mt_out_puts(out, "</e:Message>");
    if (err->line > 0 || err->violation) {
        mt_out_puts(out, "<t:MessageXml>");
        if (err->line > 0)
            mt_out_printf(out, "<t:LineNumber>%d</t:LineNumber>"
                          "<t:LinePosition>%d</t:LinePosition>", err->line, err->column);
        if (err->violation)
            mt_out_element(out, "t:Violation", err->violation);
        mt_out_puts(out, "</t:MessageXml>");
    }
    mt_out_puts(out, "</detail></s:Fault>");
    mt_soap_write_envelope_end(out);
}
