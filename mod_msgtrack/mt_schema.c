/* mt_schema.c: bundled schemas, compiled once, validated against, served */
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlerror.h>
#include "mt_schema.h"
#include "mt_soap.h"

static const char *const file_names[MT_SCHEMA_FILE_COUNT] = {
    "Services.wsdl", "messages.xsd", "types.xsd"
};

#define ADDRESS_MARK "<soap:address location=\""

struct mt_schema_set_t {
    const char *dir;
    xmlSchemaPtr schema;
    struct {
        const char *data;
        apr_size_t len;
        apr_time_t mtime;
    } files[MT_SCHEMA_FILE_COUNT];
    /* the WSDL split around the value of its soap:address location */
    apr_size_t addr_start, addr_end;
};

const char *mt_schema_file_name(mt_schema_file_e f)
{
    return (unsigned)f < MT_SCHEMA_FILE_COUNT ? file_names[f] : NULL;
}

int mt_schema_file_lookup(const char *name)
{
    int i;
    for (i = 0; i < MT_SCHEMA_FILE_COUNT; i++)
        if (name && strcasecmp(name, file_names[i]) == 0)
            return i;
    return -1;
}

const char *mt_schema_set_dir(const mt_schema_set_t *set)
{
    return set->dir;
}

const char *mt_schema_file_data(const mt_schema_set_t *set, mt_schema_file_e f,
                                apr_size_t *len, apr_time_t *mtime)
{
    if (len)
        *len = set->files[f].len;
    if (mtime)
        *mtime = set->files[f].mtime;
    return set->files[f].data;
}

static const char *read_file(apr_pool_t *p, const char *path, const char **data,
                             apr_size_t *len, apr_time_t *mtime)
{
    apr_file_t *fd;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t n;
    char *buf, err[120];

    rv = apr_file_open(&fd, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv == APR_SUCCESS)
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_MTIME | APR_FINFO_TYPE, fd);
    if (rv != APR_SUCCESS)
        return apr_psprintf(p, "cannot read %s: %s", path, apr_strerror(rv, err, sizeof(err)));
    if (fi.filetype != APR_REG || fi.size <= 0 || fi.size > 16 * 1024 * 1024) {
        apr_file_close(fd);
        return apr_psprintf(p, "%s is not a regular, non-empty file under 16 MiB", path);
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = apr_file_read_full(fd, buf, n, &n);
    apr_file_close(fd);
    if (rv != APR_SUCCESS)
        return apr_psprintf(p, "cannot read %s: %s", path, apr_strerror(rv, err, sizeof(err)));
    buf[n] = '\0';
    *data = buf;
    *len = n;
    *mtime = fi.mtime;
    return NULL;
}

/* Collects the first error of a schema parser or validator. */
typedef struct {
    apr_pool_t *pool;
    int have;
    int line, column;
    const char *file;
    const char *message;
    xmlNodePtr node;
} first_error_t;

static void collect_error(void *ctx, xmlErrorPtr e)
{
    first_error_t *fe = ctx;
    apr_size_t n;
    char *msg;

    if (fe->have || !e || e->level < XML_ERR_ERROR)
        return;
    fe->have = 1;
    fe->line = e->line;
    fe->column = e->int2;
    fe->file = e->file ? apr_pstrdup(fe->pool, e->file) : NULL;
    fe->node = e->node;
    msg = apr_pstrdup(fe->pool, e->message ? e->message : "invalid");
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    fe->message = msg;
}

static apr_status_t schema_cleanup(void *data)
{
    xmlSchemaFree(data);
    return APR_SUCCESS;
}

const char *mt_schema_set_load(apr_pool_t *p, const char *dir, mt_schema_set_t **out)
{
    mt_schema_set_t *set = apr_pcalloc(p, sizeof(*set));
    xmlSchemaParserCtxtPtr pctxt;
    first_error_t fe = { p, 0, 0, 0, NULL, NULL, NULL };
    const char *err, *path, *wsdl, *mark, *end;
    apr_finfo_t fi;
    int i;

    *out = NULL;
    if (apr_stat(&fi, dir, APR_FINFO_TYPE, p) != APR_SUCCESS || fi.filetype != APR_DIR)
        return apr_psprintf(p, "schema directory %s does not exist or is not a directory", dir);
    set->dir = apr_pstrdup(p, dir);
    for (i = 0; i < MT_SCHEMA_FILE_COUNT; i++) {
        path = apr_pstrcat(p, dir, "/", file_names[i], NULL);
        err = read_file(p, path, &set->files[i].data, &set->files[i].len, &set->files[i].mtime);
        if (err)
            return err;
    }

    wsdl = set->files[MT_SCHEMA_FILE_WSDL].data;
    mark = strstr(wsdl, ADDRESS_MARK);
    end = mark ? strchr(mark + sizeof(ADDRESS_MARK) - 1, '"') : NULL;
    if (!end)
        return apr_psprintf(p, "%s/%s has no %s...\"/> element to point at this server",
                            dir, file_names[MT_SCHEMA_FILE_WSDL], ADDRESS_MARK);
    set->addr_start = (apr_size_t)(mark - wsdl) + sizeof(ADDRESS_MARK) - 1;
    set->addr_end = (apr_size_t)(end - wsdl);

    /* The WSDL must at least be well-formed XML. */
    {
        xmlDocPtr doc = xmlReadMemory(wsdl, (int)set->files[MT_SCHEMA_FILE_WSDL].len,
                                      file_names[MT_SCHEMA_FILE_WSDL], NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
            return apr_psprintf(p, "%s/%s is not well-formed XML", dir,
                                file_names[MT_SCHEMA_FILE_WSDL]);
        xmlFreeDoc(doc);
    }

    path = apr_pstrcat(p, dir, "/", file_names[MT_SCHEMA_FILE_MESSAGES], NULL);
    pctxt = xmlSchemaNewParserCtxt(path);
    if (!pctxt)
        return apr_psprintf(p, "cannot compile %s: out of memory", path);
    xmlSchemaSetParserStructuredErrors(pctxt, collect_error, &fe);
    {
        /* Files the schema imports are read by parsers of libxml2's own, whose
         * errors reach only the thread's handler: collect them too, rather
         * than let libxml2 print them. */
        xmlStructuredErrorFunc saved = xmlStructuredError;
        void *saved_ctx = xmlStructuredErrorContext;
        xmlSetStructuredErrorFunc(&fe, collect_error);
        set->schema = xmlSchemaParse(pctxt);
        xmlSetStructuredErrorFunc(saved_ctx, saved);
    }
    xmlSchemaFreeParserCtxt(pctxt);
    if (!set->schema || fe.have) {
        if (set->schema)
            xmlSchemaFree(set->schema);
        return apr_psprintf(p, "cannot compile schema %s%s%s: %s",
                            fe.file ? fe.file : path,
                            fe.line ? apr_psprintf(p, " line %d", fe.line) : "",
                            fe.file && strcmp(fe.file, path) ? apr_psprintf(p, " (from %s)", path) : "",
                            fe.message ? fe.message : "the schema is not valid");
    }
    apr_pool_cleanup_register(p, set->schema, schema_cleanup, apr_pool_cleanup_null);
    *out = set;
    return NULL;
}

void mt_schema_write_wsdl(const mt_schema_set_t *set, mt_out_t *out, const char *endpoint_url)
{
    const char *wsdl = set->files[MT_SCHEMA_FILE_WSDL].data;

    mt_out_write(out, wsdl, set->addr_start);
    mt_out_attr(out, endpoint_url);
    mt_out_write(out, wsdl + set->addr_end, set->files[MT_SCHEMA_FILE_WSDL].len - set->addr_end);
}

mt_error_t *mt_schema_validate(const mt_schema_set_t *set, apr_pool_t *p, xmlNodePtr elem)
{
    xmlSchemaValidCtxtPtr vctxt;
    first_error_t fe = { p, 0, 0, 0, NULL, NULL, NULL };
    mt_error_t *err;
    int rc;

    vctxt = xmlSchemaNewValidCtxt(set->schema);
    if (!vctxt)
        return mt_error_make(p, MT_FAULT_EWS, "ErrorInternalServerError",
                             "Out of memory creating the schema validator.");
    xmlSchemaSetValidStructuredErrors(vctxt, collect_error, &fe);
    rc = xmlSchemaValidateOneElement(vctxt, elem);
    xmlSchemaFreeValidCtxt(vctxt);
    if (rc == 0)
        return NULL;
    err = mt_error_make(p, MT_FAULT_EWS, "ErrorSchemaValidation",
                        "The request failed schema validation: %s",
                        fe.message ? fe.message : "the element is not valid");
    if (fe.have) {
        xmlNodePtr at = fe.node;
        if (at && at->type == XML_ATTRIBUTE_NODE)
            at = at->parent;
        if (at && at->type == XML_ELEMENT_NODE)
            mt_error_at(err, fe.message, mt_soap_node_line(at), mt_soap_node_column(at));
        else
            mt_error_at(err, fe.message, fe.line, fe.column);
    }
    else {
        mt_error_at(err, "the element is not valid", mt_soap_node_line(elem),
                    mt_soap_node_column(elem));
    }
    return err;
}
