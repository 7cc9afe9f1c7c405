/* fuzz_soap.c: libFuzzer target for the SOAP request path
 *
 * Input: a request body. It takes the steps of handle_soap() in
 * mod_msgtrack.c, in its order, with the schemas of schemas/ (or
 * $MSGTRACK_SCHEMA_DIR) compiled once at start-up:
 *   mt_soap_parser_feed (in pieces, as the body arrives) -> _finish ->
 *   mt_soap_open -> mt_request_check_op -> mt_schema_validate (the
 *   RequestServerVersion header) -> mt_request_check_version ->
 *   mt_schema_validate (the operation) -> mt_request_decode.
 * The pieces' sizes come from the input's length, so inputs of different
 * lengths are cut differently (the first piece is under 7 bytes: the parser
 * holds back the first 4 for encoding detection). A request that fails gets
 * its fault rendered by mt_soap_write_fault(), which must be well-formed XML
 * with a SOAP Envelope at the root; a request that passes has every string
 * of its decoded form read. Each input runs in a pool cleared after it,
 * which frees the parsed document and the parser. With FUZZ_SOAP_VERBOSE=1
 * in the environment each input's outcome is printed (for reading a crash
 * or choosing seeds). */
#include <string.h>
#include <libxml/parser.h>
#include "fuzz.h"
#include "mt_out.h"
#include "mt_request.h"
#include "mt_schema.h"
#include "mt_soap.h"

#ifndef FUZZ_SCHEMA_DIR
#define FUZZ_SCHEMA_DIR "schemas"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);

static mt_schema_set_t *schemas;
static int verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("MSGTRACK_SCHEMA_DIR"), *err;
    (void)argc; (void)argv;

    fuzz_init();
    xmlInitParser();
    verbose = getenv("FUZZ_SOAP_VERBOSE") && atoi(getenv("FUZZ_SOAP_VERBOSE"));
    if (!dir || !*dir)
        dir = FUZZ_SCHEMA_DIR;
    if ((err = mt_schema_set_load(fuzz_global_pool(), dir, &schemas)) != NULL) {
        fprintf(stderr, "fuzz_soap: %s\n", err);
        exit(1);
    }
    return 0;
}

/* ------------------------------------------------------------------ the path */

static mt_error_t *feed(mt_soap_parser_t *sp, const uint8_t *data, size_t size)
{
    size_t first = size % 7, step = size % 3 == 0 ? 8192 : 1 + size % 509, off = 0;
    mt_error_t *err = NULL;

    while (off < size && !err) {
        size_t n = off == 0 && first ? first : step;
        if (n > size - off)
            n = size - off;
        err = mt_soap_parser_feed(sp, (const char *)data + off, n);
        off += n;
    }
    return err;
}

static void touch(const char *s)
{
    if (s)
        (void)strlen(s);
}

static void touch_address(const mt_address_t *a)
{
    if (a) {
        touch(a->name); touch(a->address); touch(a->routing_type); touch(a->mailbox_type);
    }
}

static void touch_properties(const apr_array_header_t *arr)
{
    int i;
    for (i = 0; arr && i < arr->nelts; i++) {
        const mt_property_t *pr = &APR_ARRAY_IDX(arr, i, mt_property_t);
        touch(pr->name);
        touch(pr->value);
    }
}

static void touch_request(const mt_request_t *req)
{
    touch(req->server_version);
    if (req->op == MT_OP_FIND) {
        const mt_find_request_t *f = &req->find;
        touch(f->scope); touch(f->domain); touch(f->subject); touch(f->message_id);
        touch(f->diagnostics_level); touch(f->server_hint);
        touch_address(f->sender); touch_address(f->purported_sender);
        touch_address(f->recipient); touch_address(f->federated_delivery_mailbox);
        touch_properties(f->properties);
    }
    else {
        const mt_get_request_t *g = &req->get;
        FUZZ_ASSERT(req->op == MT_OP_GET, "decoded op %d", (int)req->op);
        touch(g->scope); touch(g->report_id); touch(g->diagnostics_level);
        touch_address(g->recipient_filter);
        touch_properties(g->properties);
    }
}

/* handle_soap() up to the operation, as mod_msgtrack.c runs it. */
static mt_error_t *request(apr_pool_t *p, const uint8_t *data, size_t size)
{
    mt_soap_parser_t *sp = mt_soap_parser_create(p);
    mt_soap_request_t env;
    mt_request_t req;
    mt_error_t *err = feed(sp, data, size);
    xmlDocPtr doc;

    if (err || (err = mt_soap_parser_finish(sp, &doc)))
        return err;
    if ((err = mt_soap_open(p, doc, &env)))
        return err;
    memset(&req, 0, sizeof(req));
    if ((err = mt_request_check_op(p, env.operation)))
        return err;
    if (env.version && (err = mt_schema_validate(schemas, p, env.version)))
        return err;
    if ((err = mt_request_check_version(p, env.version, &req.server_version)))
        return err;
    if ((err = mt_schema_validate(schemas, p, env.operation)))
        return err;
    if ((err = mt_request_decode(p, env.operation, &req)))
        return err;
    touch_request(&req);
    return NULL;
}

/* ------------------------------------------------------------------ the fault */

static void check_fault(apr_pool_t *p, const mt_error_t *err)
{
    mt_out_t *out = mt_out_buffer_make(p);
    const char *xml;
    apr_size_t len;
    xmlDocPtr doc;
    xmlNodePtr root;

    FUZZ_ASSERT(err->code && *err->code && err->message && *err->message,
                "an error without code or message");
    FUZZ_ASSERT(err->kind != MT_FAULT_NONE, "an operation-level error before the operation: %s",
                err->code);
    mt_soap_write_fault(out, err);
    xml = mt_out_buffer_get(out, &len);
    doc = xmlReadMemory(xml, (int)len, "fault", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    FUZZ_ASSERT(doc != NULL, "the fault is not well-formed XML:\n%s", xml);
    root = xmlDocGetRootElement(doc);
    FUZZ_ASSERT(mt_soap_is(root, MT_NS_SOAP11, "Envelope"), "the fault's root:\n%s", xml);
    xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_input_begin();
    mt_error_t *err = request(p, data, size);

    if (verbose)
        fprintf(stderr, "fuzz_soap: %s%s%s\n", err ? err->code : "accepted", err ? ": " : "",
                err ? err->message : "");
    if (err)
        check_fault(p, err);
    fuzz_input_end();
    return 0;
}
