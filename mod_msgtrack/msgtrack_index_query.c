/* msgtrack_index_query.c: msgtrack-index find and report output (table, JSON) */
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "msgtrack_index_query.h"
#include "mt_time.h"
#include "mt_utf8.h"

#define PROG "msgtrack-index"

/* ------------------------------------------------------------------ JSON */

void mtx_json_string(FILE *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u;
    apr_size_t left;

    if (!s) {
        fputs("null", out);
        return;
    }
    putc('"', out);
    left = strlen(s);
    for (u = (const unsigned char *)s; *u;) {
        unsigned char c = *u;
        if (c < 0x80) {
            switch (c) {
            case '"': fputs("\\\"", out); break;
            case '\\': fputs("\\\\", out); break;
            case '\b': fputs("\\b", out); break;
            case '\f': fputs("\\f", out); break;
            case '\n': fputs("\\n", out); break;
            case '\r': fputs("\\r", out); break;
            case '\t': fputs("\\t", out); break;
            default:
                if (c < 0x20 || c == 0x7F)
                    fprintf(out, "\\u00%c%c", hex[c >> 4], hex[c & 0xF]);
                else
                    putc(c, out);
            }
            u++;
            left--;
        }
        else {
            apr_size_t n = mt_utf8_seq(u, left);
            if (n) {
                fwrite(u, 1, n, out);
                u += n;
                left -= n;
            }
            else {
                fputs("\xEF\xBF\xBD", out);   /* U+FFFD */
                u++;
                left--;
            }
        }
    }
    putc('"', out);
}

/* Object members: @a sep (nothing before the first), the key, the value. */
static void json_key(FILE *out, const char *sep, const char *key)
{
    fputs(sep, out);
    mtx_json_string(out, key);
    fputs(": ", out);
}

static void json_str(FILE *out, const char *sep, const char *key, const char *v)
{
    json_key(out, sep, key);
    mtx_json_string(out, v);
}

static void json_time(FILE *out, apr_pool_t *p, const char *sep, const char *key, apr_time_t t)
{
    json_str(out, sep, key, mt_time_format_xs(p, t));
}

static void json_strings(FILE *out, const char *sep, const char *key,
                         const apr_array_header_t *a)
{
    int i;
    json_key(out, sep, key);
    putc('[', out);
    for (i = 0; a && i < a->nelts; i++) {
        if (i)
            fputs(", ", out);
        mtx_json_string(out, APR_ARRAY_IDX(a, i, const char *));
    }
    putc(']', out);
}

static void json_bool(FILE *out, const char *sep, const char *key, int v)
{
    json_key(out, sep, key);
    fputs(v ? "true" : "false", out);
}

/* ------------------------------------------------------------------ tables */

/* A cell as a terminal may show it: "-" for nothing, control characters as
 * '?', invalid UTF-8 as U+FFFD. */
static const char *cell(apr_pool_t *p, const char *s)
{
    apr_size_t left, n;
    const unsigned char *u;
    char *r, *o;

    if (!s || !*s)
        return "-";
    left = strlen(s);
    o = r = apr_palloc(p, left * 3 + 1);
    for (u = (const unsigned char *)s; *u;) {
        if (*u < 0x80) {
            *o++ = *u < 0x20 || *u == 0x7F ? '?' : (char)*u;
            u++;
            left--;
        }
        else if ((n = mt_utf8_seq(u, left))) {
            memcpy(o, u, n);
            o += n;
            u += n;
            left -= n;
        }
        else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            u++;
            left--;
        }
    }
    *o = '\0';
    return r;
}

/* Columns a string takes: its code points (of a cell()-cleaned string). */
static int width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static const char *join(apr_pool_t *p, const apr_array_header_t *a, const char *sep)
{
    const char *r = NULL;
    int i;
    for (i = 0; a && i < a->nelts; i++) {
        const char *s = APR_ARRAY_IDX(a, i, const char *);
        r = r ? apr_pstrcat(p, r, sep, s, NULL) : s;
    }
    return r;
}

/* "2026-11-20 09:15:03" (UTC), "-" for no time. */
static const char *table_time(apr_pool_t *p, apr_time_t t)
{
    char *s;
    if (t == MT_TIME_MIN)
        return "-";
    s = apr_pstrndup(p, mt_time_format_xs(p, t), 19);
    if (strlen(s) == 19)
        s[10] = ' ';
    return s;
}

typedef struct {
    int ncols;
    apr_array_header_t *rows;   /* const char ** (ncols cells, cleaned) */
    apr_array_header_t *notes;  /* const char *: a line under the row, or NULL */
} table_t;

static table_t *table_make(apr_pool_t *p, int ncols)
{
    table_t *t = apr_pcalloc(p, sizeof(*t));
    t->ncols = ncols;
    t->rows = apr_array_make(p, 8, sizeof(const char **));
    t->notes = apr_array_make(p, 8, sizeof(const char *));
    return t;
}

/* Add a row of @a ncols raw strings; @a note is printed indented below. */
static void table_row(apr_pool_t *p, table_t *t, const char *const *cells, const char *note)
{
    const char **row = apr_palloc(p, sizeof(*row) * (apr_size_t)t->ncols);
    int i;
    for (i = 0; i < t->ncols; i++)
        row[i] = cell(p, cells[i]);
    APR_ARRAY_PUSH(t->rows, const char **) = row;
    APR_ARRAY_PUSH(t->notes, const char *) = note ? cell(p, note) : NULL;
}

static void table_print(apr_pool_t *p, const table_t *t, FILE *out)
{
    int *w = apr_pcalloc(p, sizeof(int) * (apr_size_t)t->ncols);
    int i, c;

    for (i = 0; i < t->rows->nelts; i++) {
        const char **row = APR_ARRAY_IDX(t->rows, i, const char **);
        for (c = 0; c < t->ncols; c++)
            if (width(row[c]) > w[c])
                w[c] = width(row[c]);
    }
    for (i = 0; i < t->rows->nelts; i++) {
        const char **row = APR_ARRAY_IDX(t->rows, i, const char **);
        const char *note = APR_ARRAY_IDX(t->notes, i, const char *);
        for (c = 0; c < t->ncols; c++) {
            fputs(row[c], out);
            if (c + 1 < t->ncols)
                fprintf(out, "%*s", w[c] - width(row[c]) + 2, "");
        }
        putc('\n', out);
        if (note)
            fprintf(out, "    %s\n", note);
    }
}

/* ------------------------------------------------------------------ common */

static int op_error(FILE *err, const mt_error_t *e)
{
    fprintf(err, PROG ": %s: %s\n", e->code ? e->code : "Error", e->message ? e->message : "");
    return 1;
}

static int finish(FILE *out, FILE *err)
{
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(err, PROG ": cannot write the output\n");
        return 1;
    }
    return 0;
}

static const mt_viewer_t operator_view = { NULL, 1, 1 };

/* ------------------------------------------------------------------ find */

static void find_json(apr_pool_t *p, const apr_array_header_t *res, FILE *out)
{
    int i;
    fputs("[", out);
    for (i = 0; i < res->nelts; i++) {
        const mt_found_t *f = &APR_ARRAY_IDX(res, i, mt_found_t);
        fputs(i ? ",\n  {" : "\n  {", out);
        json_time(out, p, "", "submitted", f->submitted);
        json_str(out, ", ", "sender", f->sender);
        json_strings(out, ", ", "recipients", f->recipients);
        json_str(out, ", ", "subject", f->subject);
        json_str(out, ", ", "message_id", f->message_id);
        json_str(out, ", ", "report_id", f->report_id);
        json_str(out, ", ", "first_hop", f->first_hop);
        json_str(out, ", ", "previous_hop", f->previous_hop);
        fputs("}", out);
    }
    fputs(res->nelts ? "\n]\n" : "]\n", out);
}

static void find_table(apr_pool_t *p, const apr_array_header_t *res, FILE *out)
{
    static const char *const head[] = { "SUBMITTED", "SENDER", "RECIPIENTS", "SUBJECT" };
    table_t *t = table_make(p, 4);
    int i;

    table_row(p, t, head, NULL);
    for (i = 0; i < res->nelts; i++) {
        const mt_found_t *f = &APR_ARRAY_IDX(res, i, mt_found_t);
        const char *row[4];
        row[0] = table_time(p, f->submitted);
        row[1] = f->sender && !*f->sender ? "<>" : f->sender;
        row[2] = join(p, f->recipients, ", ");
        row[3] = f->subject;
        table_row(p, t, row, f->report_id);
    }
    table_print(p, t, out);
}

int mtx_find(apr_pool_t *p, mt_store_t *st, const mt_find_t *q, int json, FILE *out,
             FILE *err)
{
    apr_pool_t *tp;
    mt_txn_t *txn;
    apr_array_header_t *res;
    mt_error_t *e;
    const char *msg;
    int truncated = 0, rc;

    apr_pool_create(&tp, p);
    if ((msg = mt_store_begin(st, tp, &txn))) {
        fprintf(err, PROG ": cannot read the index: %s\n", msg);
        apr_pool_destroy(tp);
        return 1;
    }
    e = mt_query_find(txn, tp, &operator_view, q, &res, &truncated);
    if (e) {
        rc = op_error(err, e);
    }
    else {
        if (json)
            find_json(tp, res, out);
        else
            find_table(tp, res, out);
        if (truncated)
            fprintf(err, PROG ": showing the first %d matching messages only; "
                    "narrow the search to see the rest\n", res->nelts);
        rc = finish(out, err);
    }
    mt_store_abort(txn);
    apr_pool_destroy(tp);
    return rc;
}

/* ------------------------------------------------------------------ report */

static void report_json(apr_pool_t *p, const mt_report_t *r, FILE *out)
{
    int i;
    fputs("{", out);
    json_str(out, "", "message_id", r->message_id);
    json_str(out, ",\n ", "sender", r->sender);
    json_str(out, ",\n ", "subject", r->subject);
    json_time(out, p, ",\n ", "submitted", r->submitted);
    json_strings(out, ",\n ", "original_recipients", r->original_recipients);
    json_key(out, ",\n ", "events");
    fputs("[", out);
    for (i = 0; i < r->events->nelts; i++) {
        const mt_report_event_t *e = &APR_ARRAY_IDX(r->events, i, mt_report_event_t);
        fputs(i ? ",\n  {" : "\n  {", out);
        json_time(out, p, "", "date", e->date);
        json_str(out, ", ", "recipient", e->recipient);
        json_str(out, ", ", "delivery_status", e->delivery_status);
        json_str(out, ", ", "event_description", e->description);
        json_strings(out, ", ", "event_data", e->data);
        json_str(out, ", ", "server", e->server);
        json_str(out, ", ", "internal_id", e->internal_id);
        json_bool(out, ", ", "bcc", e->bcc);
        json_bool(out, ", ", "hidden", e->hidden);
        json_str(out, ", ", "root_address", e->root);
        json_bool(out, ", ", "queue_event", e->queue_event);
        fputs("}", out);
    }
    fputs(r->events->nelts ? "\n ]}\n" : "]}\n", out);
}

static void report_table(apr_pool_t *p, const mt_report_t *r, FILE *out)
{
    static const char *const head[] = { "DATE", "RECIPIENT", "STATUS", "EVENT", "SERVER",
                                        "DATA" };
    table_t *t = table_make(p, 6);
    int i;

    fprintf(out, "Message-ID: %s\n", cell(p, r->message_id));
    fprintf(out, "Sender:     %s\n", r->sender && !*r->sender ? "<>" : cell(p, r->sender));
    fprintf(out, "Subject:    %s\n", cell(p, r->subject));
    fprintf(out, "Submitted:  %s\n", table_time(p, r->submitted));
    fprintf(out, "Recipients: %s\n\n", cell(p, join(p, r->original_recipients, ", ")));
    if (r->events->nelts == 0) {
        fputs("(no events)\n", out);
        return;
    }
    table_row(p, t, head, NULL);
    for (i = 0; i < r->events->nelts; i++) {
        const mt_report_event_t *e = &APR_ARRAY_IDX(r->events, i, mt_report_event_t);
        const char *row[6], *rcpt = e->recipient ? e->recipient : "-";
        if (e->root)
            rcpt = apr_pstrcat(p, rcpt, " (via ", e->root, ")", NULL);
        if (e->bcc)
            rcpt = apr_pstrcat(p, rcpt, " (Bcc)", NULL);
        row[0] = table_time(p, e->date);
        row[1] = rcpt;
        row[2] = e->delivery_status;
        row[3] = e->description;
        row[4] = e->server;
        row[5] = join(p, e->data, "; ");
        table_row(p, t, row, NULL);
    }
    table_print(p, t, out);
}

/* A bare Message-ID rather than a report id? */
static int is_message_id(apr_pool_t *p, const char *id)
{
    mt_report_id_t rid;
    if (id[0] == '<')
        return 1;
    if (mt_query_parse_report_id(p, id, &rid) == 0)
        return 0;
    return strchr(id, '@') != NULL;
}

int mtx_report(apr_pool_t *p, mt_store_t *st, const char *id, const char *recipient, int json,
               FILE *out, FILE *err)
{
    apr_pool_t *tp;
    mt_txn_t *txn;
    mt_get_t g;
    mt_report_t *r = NULL;
    mt_error_t *e = NULL;
    const char *msg;
    int rc = 1;

    apr_pool_create(&tp, p);
    if ((msg = mt_store_begin(st, tp, &txn))) {
        fprintf(err, PROG ": cannot read the index: %s\n", msg);
        apr_pool_destroy(tp);
        return 1;
    }
    memset(&g, 0, sizeof(g));
    g.report_id = id;
    g.recipient = recipient;
    g.recipient_path = recipient != NULL;
    g.queue_events = 1;

    if (id && is_message_id(tp, id)) {
        /* The message's origin hop: a Find by Message-ID over all time. */
        mt_find_t q;
        apr_array_header_t *res;
        int truncated;
        memset(&q, 0, sizeof(q));
        q.message_id = id;
        q.start = APR_INT64_MIN;
        q.end = APR_INT64_MAX;
        e = mt_query_find(txn, tp, &operator_view, &q, &res, &truncated);
        if (!e && res->nelts == 0) {
            fprintf(err, PROG ": no message with Message-ID %s%s%s\n", id[0] == '<' ? "" : "<",
                    id, id[0] == '<' ? "" : ">");
            goto done;
        }
        if (!e)
            g.report_id = APR_ARRAY_IDX(res, 0, mt_found_t).report_id;
    }
    if (!e)
        e = mt_query_report(txn, tp, &operator_view, &g, &r);
    if (e) {
        rc = op_error(err, e);
        goto done;
    }
    if (json)
        report_json(tp, r, out);
    else
        report_table(tp, r, out);
    rc = finish(out, err);
done:
    mt_store_abort(txn);
    apr_pool_destroy(tp);
    return rc;
}
