/* mt_parse_msgtrk.c: Exchange message tracking logs (MSGTRK*.LOG, CSV)
 *
 * A file is a few '#' header lines (#Software, #Version, #Log-type, #Date,
 * #Fields) and then one CSV row per event. Column positions differ between
 * Exchange versions (21 fields in 2007, 26 in 2010, 27 in 2013, 30 in
 * 2016/2019), so they are always taken from the last #Fields line seen: the
 * state maps each column to the record field it fills, or to nothing.
 *
 * CSV as Exchange writes it: a field holding ',' or '"' is wrapped in '"'
 * with inner '"' doubled; CR and LF inside values are written as the two
 * characters "\r" / "\n" and are left so. A '"' inside an unquoted field is
 * taken literally.
 *
 * Multi-valued recipient-address / recipient-status: members separated by
 * ';', in the same order in both columns. A member that begins with '\''
 * is quoted: it runs to the next '\'' that is not doubled ("''" stands for
 * one '\''), and the closing quote must end the member (be followed by ';'
 * or the end of the field). A member that begins with '\'' but is not
 * closed that way is taken literally up to the next ';'. Empty members are
 * kept as "" so both lists stay aligned. When the two lists have different
 * lengths both are kept as logged: correlation decides.
 *
 * rec->host is the server that wrote the row: --host when given, else
 * server-hostname, except on SEND / SENDEXTERNAL rows, where server-hostname
 * is the remote end (kept in rec->relay) and the writer is client-hostname.
 *
 * Values are as logged (message-id keeps its brackets); an empty field is
 * NULL; total-bytes / recipient-count that are not decimal numbers are -1.
 * In #Fields, names are trimmed, unknown names are read past, and a name
 * given twice counts at its first place. rec->line is left as the caller
 * set it.
 *
 * Speed: one pass over the row. The row is copied once into the record
 * pool, and only the columns that fill a record field: values are unquoted
 * and NUL-terminated in that copy, and the record points into it.
 */
#include <string.h>
#include <apr_strings.h>
#include "mt_parse.h"
#include "mt_time.h"

/* The record fields a column can fill. */
enum {
    F_DATE_TIME, F_CLIENT_IP, F_CLIENT_HOSTNAME, F_SERVER_IP, F_SERVER_HOSTNAME,
    F_SOURCE_CONTEXT, F_CONNECTOR_ID, F_SOURCE, F_EVENT_ID, F_INTERNAL_ID, F_MESSAGE_ID,
    F_NETWORK_ID, F_RCPT_ADDRESS, F_RCPT_STATUS, F_TOTAL_BYTES, F_RCPT_COUNT,
    F_RELATED_RCPT, F_REFERENCE, F_SUBJECT, F_SENDER, F_RETURN_PATH, F_MESSAGE_INFO,
    F_DIRECTIONALITY,
    F_COUNT
};

/* #Fields names of the columns above; others (tenant-id, original-client-ip,
 * original-server-ip, custom-data, transport-traffic-type, log-id,
 * schema-version, ...) are read past. */
static const char *const field_names[F_COUNT] = {
    "date-time", "client-ip", "client-hostname", "server-ip", "server-hostname",
    "source-context", "connector-id", "source", "event-id", "internal-message-id", "message-id",
    "network-message-id", "recipient-address", "recipient-status", "total-bytes",
    "recipient-count", "related-recipient-address", "reference", "message-subject",
    "sender-address", "return-path", "message-info", "directionality"
};

struct mt_msgtrk_state_t {
    apr_pool_t *pool;
    int ncols;          /**< columns in #Fields; 0 before the first #Fields */
    int cap;            /**< allocated entries in colmap */
    short *colmap;      /**< per column: an F_* index, or -1 */
};

mt_msgtrk_state_t *mt_msgtrk_state_create(apr_pool_t *p)
{
    mt_msgtrk_state_t *st = apr_pcalloc(p, sizeof(*st));
    st->pool = p;
    return st;
}

static int field_lookup(const char *name, apr_size_t n)
{
    int f;
    for (f = 0; f < F_COUNT; f++)
        if (strncmp(field_names[f], name, n) == 0 && field_names[f][n] == '\0')
            return f;
    return -1;
}

/* "#Fields: a,b,c": install the column map. Returns 0, or -1 when the list
 * lacks a column every row needs (the map is installed all the same, so the
 * rows say what they miss). */
static int parse_fields(mt_msgtrk_state_t *st, const char *s, apr_size_t len,
                        const char **why)
{
    const char *end = s + len, *b, *e;
    int n = 1, col = 0, seen[F_COUNT];
    apr_size_t i;

    for (i = 0; i < len; i++)
        n += s[i] == ',';
    if (n > st->cap) {
        st->cap = n < 32 ? 32 : n;
        st->colmap = apr_palloc(st->pool, sizeof(*st->colmap) * (apr_size_t)st->cap);
    }
    memset(seen, 0, sizeof(seen));
    for (b = s; col < n; b = e + 1, col++) {
        const char *ne;
        int f;
        e = memchr(b, ',', (apr_size_t)(end - b));
        if (!e)
            e = end;
        for (ne = e; ne > b && (ne[-1] == ' ' || ne[-1] == '\t'); ne--)
            ;
        while (b < ne && (*b == ' ' || *b == '\t'))
            b++;
        f = field_lookup(b, (apr_size_t)(ne - b));
        if (f >= 0 && seen[f])          /* a name twice: the first one counts */
            f = -1;
        if (f >= 0)
            seen[f] = 1;
        st->colmap[col] = (short)f;
    }
    st->ncols = n;
    if (!seen[F_DATE_TIME])
        return *why = "#Fields has no date-time", -1;
    if (!seen[F_EVENT_ID])
        return *why = "#Fields has no event-id", -1;
    return 0;
}

/* A non-negative decimal number, or -1 (empty, not a number, too large). */
static long long number(const char *s)
{
    long long v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (0x7fffffffffffffffLL - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* Split a ';'-list in place (see the file comment for the quoting). */
static apr_array_header_t *split_list(apr_pool_t *rp, char *s)
{
    apr_array_header_t *arr;
    int n = 1;
    char *p;

    if (!s)
        return NULL;
    for (p = s; *p; p++)
        n += *p == ';';
    arr = apr_array_make(rp, n, sizeof(const char *));
    p = s;
    for (;;) {
        char *semi;
        if (*p == '\'') {
            char *r = p + 1;
            while (*r && !(*r == '\'' && r[1] != '\''))
                r += *r == '\'' ? 2 : 1;
            if (*r == '\'' && (r[1] == ';' || r[1] == '\0')) {
                /* a closed quoted member: unquote in place */
                char *q = p + 1, *w = p;
                int last = r[1] == '\0';
                while (q < r) {
                    *w++ = *q;
                    q += *q == '\'' ? 2 : 1;
                }
                *w = '\0';
                APR_ARRAY_PUSH(arr, const char *) = p;
                if (last)
                    break;
                p = r + 2;
                continue;
            }
        }
        semi = strchr(p, ';');
        if (semi)
            *semi = '\0';
        APR_ARRAY_PUSH(arr, const char *) = p;
        if (!semi)
            break;
        p = semi + 1;
    }
    return arr;
}

int mt_parse_msgtrk_line(mt_msgtrk_state_t *st, const mt_parse_opts_t *opts, const char *line,
                         apr_pool_t *rp, mt_logrec_t *rec, const char **why)
{
    char *val[F_COUNT];
    apr_size_t len, i;
    char *o;
    int col;
    long keep_line = rec->line;

    *why = NULL;
    mt_logrec_clear(rec);
    rec->line = keep_line;

    if ((unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB
        && (unsigned char)line[2] == 0xBF)
        line += 3;
    len = strlen(line);
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    if (len == 0)
        return 0;
    if (line[0] == '#') {
        if (len >= 8 && memcmp(line, "#Fields:", 8) == 0)
            return parse_fields(st, line + 8, len - 8, why);
        return 0;
    }
    if (st->ncols == 0)
        return *why = "row before #Fields", -1;

    memset(val, 0, sizeof(val));
    o = apr_palloc(rp, len + 1);
    for (i = 0, col = 0;; col++) {
        int f = col < st->ncols ? st->colmap[col] : -1;
        char *start = o;
        if (line[i] == '"') {
            for (i++;; i++) {
                if (i >= len)
                    return *why = apr_psprintf(rp, "unterminated quoted field in column %d",
                                               col + 1), -1;
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"')
                        i++;
                    else
                        break;
                }
                if (f >= 0)
                    *o++ = line[i];
            }
            i++;                        /* the closing quote */
            if (i < len && line[i] != ',')
                return *why = apr_psprintf(rp, "text after closing quote in column %d",
                                           col + 1), -1;
        }
        else {
            const char *c = memchr(line + i, ',', len - i);
            apr_size_t e = c ? (apr_size_t)(c - line) : len;
            if (f >= 0) {
                memcpy(o, line + i, e - i);
                o += e - i;
            }
            i = e;
        }
        if (f >= 0) {
            *o++ = '\0';
            if (o - start > 1)
                val[f] = start;
        }
        if (i >= len)
            break;
        i++;                            /* the ',' */
    }
    if (col + 1 != st->ncols)
        return *why = apr_psprintf(rp, "%d columns, #Fields has %d", col + 1, st->ncols), -1;

    if (!val[F_DATE_TIME])
        return *why = "no date-time", -1;
    if (mt_time_parse_xs(val[F_DATE_TIME], &rec->time) != 0)
        return *why = apr_psprintf(rp, "invalid date-time '%s'", val[F_DATE_TIME]), -1;
    if (!val[F_EVENT_ID])
        return *why = "empty event-id", -1;

    rec->format = MT_FORMAT_MSGTRK;
    rec->kind = MT_REC_MSGTRK;
    /* server-hostname names the destination of the hop: the logging server
     * on RECEIVE, DELIVER and the routing events, the remote one on SEND,
     * where the logging server is client-hostname. */
    if (strcmp(val[F_EVENT_ID], "SEND") == 0 || strcmp(val[F_EVENT_ID], "SENDEXTERNAL") == 0) {
        rec->host = val[F_CLIENT_HOSTNAME];
        rec->relay = val[F_SERVER_HOSTNAME];
    }
    else {
        rec->host = val[F_SERVER_HOSTNAME];
    }
    if (opts && opts->host)
        rec->host = opts->host;
    rec->client = val[F_CLIENT_HOSTNAME];
    rec->client_addr = val[F_CLIENT_IP];
    rec->msgtrk_server_ip = val[F_SERVER_IP];
    rec->msgtrk_event_id = val[F_EVENT_ID];
    rec->msgtrk_source = val[F_SOURCE];
    rec->msgtrk_source_context = val[F_SOURCE_CONTEXT];
    rec->msgtrk_connector_id = val[F_CONNECTOR_ID];
    rec->msgtrk_internal_id = val[F_INTERNAL_ID];
    rec->message_id = val[F_MESSAGE_ID];
    rec->msgtrk_network_id = val[F_NETWORK_ID];
    rec->recipients = split_list(rp, val[F_RCPT_ADDRESS]);
    rec->recipient_status = split_list(rp, val[F_RCPT_STATUS]);
    rec->size = number(val[F_TOTAL_BYTES]);
    {
        long long n = number(val[F_RCPT_COUNT]);
        rec->nrcpt = n > 0x7fffffff ? -1 : (int)n;
    }
    rec->msgtrk_related_recipient = val[F_RELATED_RCPT];
    rec->msgtrk_reference = val[F_REFERENCE];
    rec->subject = val[F_SUBJECT];
    rec->sender = val[F_SENDER];
    rec->msgtrk_return_path = val[F_RETURN_PATH];
    rec->msgtrk_message_info = val[F_MESSAGE_INFO];
    rec->msgtrk_directionality = val[F_DIRECTIONALITY];
    return 1;
}
