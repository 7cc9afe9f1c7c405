/* test_parse_msgtrk.c: Exchange message tracking log rows (TAP)
 *
 * Rows are built from (column, raw CSV text) pairs in the column order of
 * a #Fields line, so the same facts are read back from every version's
 * layout; a few rows are also written out whole. */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "mt_parse.h"
#include "mt_time.h"

#define F2007 "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context," \
    "connector-id,source,event-id,internal-message-id,message-id,recipient-address," \
    "recipient-status,total-bytes,recipient-count,related-recipient-address,reference," \
    "message-subject,sender-address,return-path,message-info"
#define F2010 F2007 ",directionality,tenant-id,original-client-ip,original-server-ip,custom-data"
#define F2013 "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context," \
    "connector-id,source,event-id,internal-message-id,message-id,network-message-id," \
    "recipient-address,recipient-status,total-bytes,recipient-count," \
    "related-recipient-address,reference,message-subject,sender-address,return-path," \
    "message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data"
#define F2016 F2013 ",transport-traffic-type,log-id,schema-version"
/* Not a real version: another order, padding around names, unknown names. */
#define FODD " event-id , message-id,x-unknown,date-time,recipient-address,recipient-status," \
    "server-hostname,schema-version,message-subject,sender-address,total-bytes," \
    "recipient-count,network-message-id,directionality"

enum { L2007, L2010, L2013, L2016, LODD };
static const struct { const char *name, *fields; int ncols; } layouts[] = {
    { "2007", F2007, 21 }, { "2010", F2010, 26 }, { "2013", F2013, 27 },
    { "2016", F2016, 30 }, { "odd", FODD, 14 },
};

typedef struct { const char *col, *raw; } kv_t;

/* A DELIVER row with every column we read, CSV-encoded as Exchange would. */
static const kv_t base_row[] = {
    { "date-time", "2026-11-20T09:15:02.345Z" },
    { "client-ip", "192.0.2.21" },
    { "client-hostname", "MBX01.corp.example.org" },
    { "server-ip", "192.0.2.22" },
    { "server-hostname", "MBX02" },
    { "source-context",
      "\"MDB:8d1b3d4e-0a1f-4c1e-9a55-2f6e1c0d7b11, Mailbox:5a3c, Event:14, MessageClass:IPM.Note\"" },
    { "connector-id", "" },
    { "source", "STOREDRIVER" },
    { "event-id", "DELIVER" },
    { "internal-message-id", "24051" },
    { "message-id", "<b7e1a0c2f4d84c0f@MBX01.corp.example.org>" },
    { "network-message-id", "6f1d2e3c-4b5a-4c6d-8e9f-0a1b2c3d4e5f" },
    { "recipient-address", "bob@example.org;carol@example.org" },
    { "recipient-status", "250 2.1.5 Recipient OK;250 2.1.5 Recipient OK" },
    { "total-bytes", "18342" },
    { "recipient-count", "2" },
    { "related-recipient-address", "" },
    { "reference", "" },
    { "message-subject", "\"Q4 budget, \"\"final\"\" v2\"" },
    { "sender-address", "alice@example.org" },
    { "return-path", "alice@example.org" },
    { "message-info", "2026-11-20T09:15:01.901Z;SRV=MBX01.corp.example.org:TOTAL-SUB=0.210" },
    { "directionality", "Originating" },
    { "tenant-id", "" },
    { "original-client-ip", "192.0.2.21" },
    { "original-server-ip", "192.0.2.22" },
    { "custom-data", "S:DeliveryPriority=Normal;S:AccountForest=corp.example.org" },
    { "transport-traffic-type", "Email" },
    { "log-id", "0" },
    { "schema-version", "15.01.2507.006" },
};

/* What a record should hold; NULL: not checked; NUL_: must be NULL.
 * rcpts / statuses: members joined with '|'. size / nrcpt as decimal text. */
#define NUL_ "(null)"
typedef struct {
    const char *event, *time, *host, *client, *client_addr, *server_ip, *source, *context,
        *connector, *internal, *message_id, *network_id, *rcpts, *statuses, *size, *nrcpt,
        *related, *reference, *subject, *sender, *return_path, *info, *direction, *relay;
} want_t;

static const struct {
    const char *title;
    int layout;
    kv_t set[6];        /* replaces base_row values (raw CSV) */
    const char *host;   /* opts.host */
    int rc;
    const char *why;    /* expected in *why for rc -1 */
    want_t w;
} cases[] = {
    /* the same facts in each version's layout */
    { "2016 layout", L2016, { { NULL, NULL } }, NULL, 1, NULL,
      { "DELIVER", "2026-11-20T09:15:02.345Z", "MBX02", "MBX01.corp.example.org", "192.0.2.21",
        "192.0.2.22", "STOREDRIVER",
        "MDB:8d1b3d4e-0a1f-4c1e-9a55-2f6e1c0d7b11, Mailbox:5a3c, Event:14, MessageClass:IPM.Note",
        NUL_, "24051", "<b7e1a0c2f4d84c0f@MBX01.corp.example.org>",
        "6f1d2e3c-4b5a-4c6d-8e9f-0a1b2c3d4e5f", "bob@example.org|carol@example.org",
        "250 2.1.5 Recipient OK|250 2.1.5 Recipient OK", "18342", "2", NUL_, NUL_,
        "Q4 budget, \"final\" v2", "alice@example.org", "alice@example.org",
        "2026-11-20T09:15:01.901Z;SRV=MBX01.corp.example.org:TOTAL-SUB=0.210", "Originating",
        NUL_ } },
    { "2013 layout", L2013, { { NULL, NULL } }, NULL, 1, NULL,
      { "DELIVER", "2026-11-20T09:15:02.345Z", "MBX02", "MBX01.corp.example.org", "192.0.2.21",
        "192.0.2.22", "STOREDRIVER", NULL, NUL_, "24051",
        "<b7e1a0c2f4d84c0f@MBX01.corp.example.org>", "6f1d2e3c-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
        "bob@example.org|carol@example.org", "250 2.1.5 Recipient OK|250 2.1.5 Recipient OK",
        "18342", "2", NUL_, NUL_, "Q4 budget, \"final\" v2", "alice@example.org",
        "alice@example.org", NULL, "Originating", NUL_ } },
    { "2010 layout: no network-message-id", L2010, { { NULL, NULL } }, NULL, 1, NULL,
      { "DELIVER", "2026-11-20T09:15:02.345Z", "MBX02", "MBX01.corp.example.org", "192.0.2.21",
        "192.0.2.22", "STOREDRIVER", NULL, NUL_, "24051",
        "<b7e1a0c2f4d84c0f@MBX01.corp.example.org>", NUL_,
        "bob@example.org|carol@example.org", "250 2.1.5 Recipient OK|250 2.1.5 Recipient OK",
        "18342", "2", NUL_, NUL_, "Q4 budget, \"final\" v2", "alice@example.org",
        "alice@example.org", NULL, "Originating", NUL_ } },
    { "2007 layout: no directionality either", L2007, { { NULL, NULL } }, NULL, 1, NULL,
      { "DELIVER", "2026-11-20T09:15:02.345Z", "MBX02", "MBX01.corp.example.org", "192.0.2.21",
        "192.0.2.22", "STOREDRIVER", NULL, NUL_, "24051",
        "<b7e1a0c2f4d84c0f@MBX01.corp.example.org>", NUL_,
        "bob@example.org|carol@example.org", "250 2.1.5 Recipient OK|250 2.1.5 Recipient OK",
        "18342", "2", NUL_, NUL_, "Q4 budget, \"final\" v2", "alice@example.org",
        "alice@example.org", NULL, NUL_, NUL_ } },
    { "other order, unknown names, spaces around names", LODD, { { NULL, NULL } }, NULL, 1, NULL,
      { "DELIVER", "2026-11-20T09:15:02.345Z", "MBX02", NUL_, NUL_, NUL_, NUL_, NUL_, NUL_,
        NUL_, "<b7e1a0c2f4d84c0f@MBX01.corp.example.org>", "6f1d2e3c-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
        "bob@example.org|carol@example.org", "250 2.1.5 Recipient OK|250 2.1.5 Recipient OK",
        "18342", "2", NUL_, NUL_, "Q4 budget, \"final\" v2", "alice@example.org", NUL_, NUL_,
        "Originating", NUL_ } },

    /* host */
    { "--host replaces server-hostname", L2016, { { NULL, NULL } }, "mbx02.corp.example.org", 1,
      NULL, { .host = "mbx02.corp.example.org" } },
    { "no server-hostname, no --host: host NULL", L2016, { { "server-hostname", "" } }, NULL, 1,
      NULL, { .host = NUL_ } },
    { "no server-hostname, --host", L2016, { { "server-hostname", "" } }, "mbx09", 1, NULL,
      { .host = "mbx09" } },

    { "SEND: host is client-hostname, relay server-hostname", L2016,
      { { "event-id", "SEND" }, { "client-hostname", "MBX01.corp.example.org" },
        { "server-hostname", "mx1.example.net" }, { "server-ip", "198.51.100.25" } }, NULL, 1,
      NULL, { .host = "MBX01.corp.example.org", .client = "MBX01.corp.example.org",
              .server_ip = "198.51.100.25", .relay = "mx1.example.net" } },
    { "SENDEXTERNAL too", L2016,
      { { "event-id", "SENDEXTERNAL" }, { "client-hostname", "EDGE01" },
        { "server-hostname", "mx1.example.net" } }, NULL, 1, NULL, { .host = "EDGE01" } },
    { "SEND with --host", L2016, { { "event-id", "SEND" } }, "mbx01", 1, NULL,
      { .host = "mbx01" } },

    /* CSV quoting */
    { "quoted field without specials", L2016, { { "message-subject", "\"Lunch\"" } }, NULL, 1,
      NULL, { .subject = "Lunch" } },
    { "only a doubled quote", L2016, { { "message-subject", "\"\"\"\"" } }, NULL, 1, NULL,
      { .subject = "\"" } },
    { "quoted empty field is NULL", L2016, { { "message-subject", "\"\"" } }, NULL, 1, NULL,
      { .subject = NUL_ } },
    { "quote inside an unquoted field is literal", L2016,
      { { "message-subject", "6\" pipe" } }, NULL, 1, NULL, { .subject = "6\" pipe" } },
    { "\\r\\n sequences left as they are", L2016,
      { { "message-subject", "line one\\r\\nline two" } }, NULL, 1, NULL,
      { .subject = "line one\\r\\nline two" } },
    { "quoted field last in the row", LODD,
      { { "directionality", "\"Incoming, odd\"" } }, NULL, 1, NULL,
      { .direction = "Incoming, odd", .subject = "Q4 budget, \"final\" v2" } },
    { "UTF-8 subject", L2016, { { "message-subject", "Gr\xC3\xBC\xC3\x9F" "e aus K\xC3\xB6ln" } },
      NULL, 1, NULL, { .subject = "Gr\xC3\xBC\xC3\x9F" "e aus K\xC3\xB6ln" } },

    /* ';'-lists */
    { "To/Cc/Bcc statuses on SUBMIT", L2016,
      { { "event-id", "RECEIVE" },
        { "recipient-address", "bob@example.org;carol@example.org;dave@example.org" },
        { "recipient-status", "To;Cc;Bcc" }, { "recipient-count", "3" } }, NULL, 1, NULL,
      { .event = "RECEIVE", .rcpts = "bob@example.org|carol@example.org|dave@example.org",
        .statuses = "To|Cc|Bcc", .nrcpt = "3" } },
    { "quoted members: ' doubled, ; inside", L2016,
      { { "recipient-address", "'o''brien@example.org';'odd;name'@example.org;carol@example.org" },
        { "recipient-status", "To;Cc;Bcc" } }, NULL, 1, NULL,
      { .rcpts = "o'brien@example.org|'odd|name'@example.org|carol@example.org",
        .statuses = "To|Cc|Bcc" } },
    { "quoted members, properly closed", L2016,
      { { "recipient-address", "'odd;name@example.org';'x''y@example.org'" },
        { "recipient-status", "'550 5.1.1 RESOLVER.ADR.RecipNotFound; not found';250 2.1.5 OK" } },
      NULL, 1, NULL,
      { .rcpts = "odd;name@example.org|x'y@example.org",
        .statuses = "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found|250 2.1.5 OK" } },
    { "a CSV-quoted list with a quoted member", L2016,
      { { "recipient-status",
          "\"'550 5.1.1 RESOLVER.ADR.RecipNotFound; not found, sorry';250 2.1.5 OK\"" } },
      NULL, 1, NULL,
      { .statuses = "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found, sorry|250 2.1.5 OK" } },
    { "unclosed quoted member taken literally", L2016,
      { { "recipient-address", "'bob@example.org;carol@example.org" } }, NULL, 1, NULL,
      { .rcpts = "'bob@example.org|carol@example.org" } },
    { "empty member kept", L2016,
      { { "recipient-address", "bob@example.org;;carol@example.org" },
        { "recipient-status", "To;;Cc" } }, NULL, 1, NULL,
      { .rcpts = "bob@example.org||carol@example.org", .statuses = "To||Cc" } },
    { "quoted empty member", L2016,
      { { "recipient-address", "'';bob@example.org" } }, NULL, 1, NULL,
      { .rcpts = "|bob@example.org" } },
    { "no recipient-status: NULL", L2016, { { "recipient-status", "" } }, NULL, 1, NULL,
      { .rcpts = "bob@example.org|carol@example.org", .statuses = NUL_ } },
    { "no recipient-address: NULL", L2016,
      { { "recipient-address", "" }, { "recipient-status", "" } }, NULL, 1, NULL,
      { .rcpts = NUL_, .statuses = NUL_ } },
    { "counts differ: both kept as logged", L2016,
      { { "recipient-status", "250 2.1.5 Recipient OK" } }, NULL, 1, NULL,
      { .rcpts = "bob@example.org|carol@example.org", .statuses = "250 2.1.5 Recipient OK" } },

    /* numbers, other fields */
    { "numbers that are not", L2016,
      { { "total-bytes", "12kB" }, { "recipient-count", "-3" } }, NULL, 1, NULL,
      { .size = "-1", .nrcpt = "-1" } },
    { "empty numbers", L2016, { { "total-bytes", "" }, { "recipient-count", "" } }, NULL, 1,
      NULL, { .size = "-1", .nrcpt = "-1" } },
    { "DSN reference", L2016,
      { { "event-id", "DSN" }, { "reference", "<b7e1a0c2f4d84c0f@MBX01.corp.example.org>" },
        { "related-recipient-address", "bob@example.net" }, { "sender-address", "" } },
      NULL, 1, NULL,
      { .event = "DSN", .reference = "<b7e1a0c2f4d84c0f@MBX01.corp.example.org>",
        .related = "bob@example.net", .sender = NUL_ } },
    { "connector", L2016,
      { { "event-id", "SEND" }, { "source", "SMTP" },
        { "connector-id", "Outbound to Internet" } }, NULL, 1, NULL,
      { .event = "SEND", .source = "SMTP", .connector = "Outbound to Internet" } },
    { "time with zone offset", L2016, { { "date-time", "2026-11-20T10:15:02.345+01:00" } },
      NULL, 1, NULL, { .time = "2026-11-20T09:15:02.345Z" } },
    { "time with 7 fraction digits", L2016, { { "date-time", "2026-11-20T09:15:02.3456789Z" } },
      NULL, 1, NULL, { .time = "2026-11-20T09:15:02.345678Z" } },

    /* broken rows */
    { "no date-time", L2016, { { "date-time", "" } }, NULL, -1, "no date-time", { NULL } },
    { "bad date-time", L2016, { { "date-time", "2026-11-20 09:15:02" } }, NULL, -1,
      "invalid date-time '2026-11-20 09:15:02'", { NULL } },
    { "impossible date", L2016, { { "date-time", "2026-02-30T09:15:02Z" } }, NULL, -1,
      "invalid date-time", { NULL } },
    { "empty event-id", L2016, { { "event-id", "" } }, NULL, -1, "empty event-id", { NULL } },
    { "unterminated quote", L2016, { { "schema-version", "\"15.01" } }, NULL, -1,
      "unterminated quoted field in column 30", { NULL } },
    { "text after a closing quote", L2016, { { "message-subject", "\"Hi\" there" } }, NULL, -1,
      "text after closing quote in column 19", { NULL } },
    { "a comma too many", L2016, { { "message-subject", "Hi, there" } }, NULL, -1,
      "31 columns, #Fields has 30", { NULL } },
    { "2007 row under 2016 fields", L2016, { { NULL, NULL } }, NULL, -1,
      "21 columns, #Fields has 30", { NULL } },
};

/* Build the row for case @a i: the base values in the layout's order. */
static const char *build_row(apr_pool_t *p, int layout, const kv_t *set, int ncols_override)
{
    const char *fields = layouts[layout].fields, *b = fields, *row = NULL;
    int col = 0;

    while (*b) {
        const char *e = strchr(b, ','), *v = "";
        char *name;
        size_t k;
        if (!e)
            e = b + strlen(b);
        name = apr_pstrmemdup(p, b, (size_t)(e - b));
        apr_collapse_spaces(name, name);
        for (k = 0; k < sizeof(base_row) / sizeof(base_row[0]); k++)
            if (strcmp(base_row[k].col, name) == 0)
                v = base_row[k].raw;
        for (k = 0; set && k < 6 && set[k].col; k++)
            if (strcmp(set[k].col, name) == 0)
                v = set[k].raw;
        if (ncols_override < 0 || col < ncols_override)
            row = row ? apr_pstrcat(p, row, ",", v, NULL) : v;
        col++;
        b = *e ? e + 1 : e;
    }
    return row;
}

static const char *joined(apr_pool_t *p, const apr_array_header_t *a)
{
    const char *s = NULL;
    int i;
    if (!a)
        return NUL_;
    for (i = 0; i < a->nelts; i++)
        s = s ? apr_pstrcat(p, s, "|", APR_ARRAY_IDX(a, i, const char *), NULL)
              : APR_ARRAY_IDX(a, i, const char *);
    return s ? s : "";
}

#define CHECK(got, want, what) do { \
        if (want) \
            is_str((got) ? (got) : NUL_, want, "%s: %s", title, what); \
    } while (0)

static void check_record(apr_pool_t *p, const char *title, const mt_logrec_t *r, const want_t *w)
{
    CHECK(r->msgtrk_event_id, w->event, "event-id");
    CHECK(mt_time_format_xs(p, r->time), w->time, "time");
    CHECK(r->host, w->host, "host");
    CHECK(r->client, w->client, "client");
    CHECK(r->client_addr, w->client_addr, "client_addr");
    CHECK(r->msgtrk_server_ip, w->server_ip, "server-ip");
    CHECK(r->msgtrk_source, w->source, "source");
    CHECK(r->msgtrk_source_context, w->context, "source-context");
    CHECK(r->msgtrk_connector_id, w->connector, "connector-id");
    CHECK(r->msgtrk_internal_id, w->internal, "internal-message-id");
    CHECK(r->message_id, w->message_id, "message-id");
    CHECK(r->msgtrk_network_id, w->network_id, "network-message-id");
    CHECK(joined(p, r->recipients), w->rcpts, "recipients");
    CHECK(joined(p, r->recipient_status), w->statuses, "recipient-status");
    CHECK(apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)r->size), w->size, "size");
    CHECK(apr_psprintf(p, "%d", r->nrcpt), w->nrcpt, "nrcpt");
    CHECK(r->msgtrk_related_recipient, w->related, "related-recipient");
    CHECK(r->msgtrk_reference, w->reference, "reference");
    CHECK(r->subject, w->subject, "subject");
    CHECK(r->sender, w->sender, "sender");
    CHECK(r->msgtrk_return_path, w->return_path, "return-path");
    CHECK(r->msgtrk_message_info, w->info, "message-info");
    CHECK(r->msgtrk_directionality, w->direction, "directionality");
    CHECK(r->relay, w->relay, "relay");
}

/* Whole lines fed in order through one state. */
static const struct { const char *line; int rc; const char *why; const char *event; } file[] = {
    { "\xEF\xBB\xBF#Software: Microsoft Exchange Server\r", 0, NULL, NULL },
    { "#Version: 15.01.2507.006\r", 0, NULL, NULL },
    { "#Log-type: Message Tracking Log\r", 0, NULL, NULL },
    { "#Date: 2026-11-20T00:00:01.123Z\r", 0, NULL, NULL },
    { "2026-11-20T00:00:02.000Z,,,,MBX01,,,ROUTING,RESOLVE,1,<a@example.org>,,,,,,,,,,\r", -1,
      "row before #Fields", NULL },
    { "#Fields: " F2007 "\r", 0, NULL, NULL },
    { "", 0, NULL, NULL },
    { "\r", 0, NULL, NULL },
    { "# a comment\r", 0, NULL, NULL },
    { "2026-11-20T00:00:02.000Z,192.0.2.21,MBX01,192.0.2.22,HUB01,,,ROUTING,RESOLVE,31,"
      "<a@example.org>,bob@example.org,,2048,1,bobby@example.org,,Hello,alice@example.org,"
      "alice@example.org,\r", 1, NULL, "RESOLVE" },
    { "2026-11-20T00:00:02.000Z,192.0.2.21,MBX01,192.0.2.22,HUB01,,,ROUTING,RESOLVE,31,"
      "<a@example.org>,bob@example.org,,2048,1,bobby@example.org,,Hello,alice@example.org,"
      "alice@example.org,", 1, NULL, "RESOLVE" },
    /* a second header block (files concatenated) replaces the layout */
    { "\xEF\xBB\xBF#Fields: event-id,date-time\r", 0, NULL, NULL },
    { "EXPAND,2026-11-20T00:00:03Z", 1, NULL, "EXPAND" },
    { "#Fields: date-time,message-id\r", -1, "#Fields has no event-id", NULL },
    { "2026-11-20T00:00:03Z,<x@example.org>", -1, "empty event-id", NULL },
    { "#Fields: event-id,message-id", -1, "#Fields has no date-time", NULL },
    { "DELIVER,<x@example.org>", -1, "no date-time", NULL },
};

/* Every line of a sample file: none refused; returns the rows, and the
 * record of the first row whose event-id is @a pick in @a picked. */
static int sample_file(apr_pool_t *p, const char *name, const char *pick, mt_logrec_t *picked,
                       int *refused)
{
    const char *srcdir = getenv("srcdir");
    const char *path = apr_pstrcat(p, srcdir ? srcdir : ".", "/t/data/msgtrk/", name, NULL);
    mt_msgtrk_state_t *st = mt_msgtrk_state_create(p);
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    int rows = 0, lineno = 0;

    *refused = 0;
    if (!f) {
        ok(0, "open %s", path);
        return -1;
    }
    while (fgets(buf, sizeof(buf), f)) {
        mt_logrec_t rec;
        const char *why = NULL;
        size_t n = strlen(buf);
        int rc;
        if (n && buf[n - 1] == '\n')
            buf[--n] = '\0';
        lineno++;
        rc = mt_parse_msgtrk_line(st, NULL, buf, p, &rec, &why);
        if (rc < 0) {
            (*refused)++;
            printf("# %s:%d: %s\n", name, lineno, why);
        }
        if (rc == 1) {
            rows++;
            if (pick && !picked->msgtrk_event_id && strcmp(rec.msgtrk_event_id, pick) == 0)
                *picked = rec;
        }
    }
    fclose(f);
    return rows;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p, *rp;
    size_t i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    apr_pool_create(&rp, p);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mt_msgtrk_state_t *st = mt_msgtrk_state_create(p);
        mt_parse_opts_t opts;
        mt_logrec_t rec;
        const char *why = "unset", *row, *title;
        int rc, ncols = -1;

        memset(&opts, 0, sizeof(opts));
        opts.host = cases[i].host;
        title = apr_psprintf(p, "%s (%s)", cases[i].title, layouts[cases[i].layout].name);
        rc = mt_parse_msgtrk_line(st, &opts,
                                  apr_pstrcat(p, "#Fields: ", layouts[cases[i].layout].fields,
                                              NULL), rp, &rec, &why);
        if (rc != 0)
            ok(0, "%s: #Fields accepted", title);
        if (strstr(cases[i].title, "2007 row"))
            ncols = 21;
        row = build_row(p, cases[i].layout, cases[i].set, ncols);
        rec.line = 42;
        rc = mt_parse_msgtrk_line(st, &opts, row, rp, &rec, &why);
        is_int(rc, cases[i].rc, "%s: returns %d", title, cases[i].rc);
        if (rc != cases[i].rc)
            printf("#   row: %s\n#   why: %s\n", row, why ? why : "(null)");
        if (cases[i].rc == -1) {
            like(why, cases[i].why, "%s: says why", title);
            continue;
        }
        if (rc != 1)
            continue;
        ok(rec.kind == MT_REC_MSGTRK && rec.format == MT_FORMAT_MSGTRK, "%s: kind", title);
        is_int(rec.line, 42, "%s: line number left alone", title);
        check_record(p, title, &rec, &cases[i].w);
        apr_pool_clear(rp);
    }

    /* Row length limits and a row of only commas. */
    {
        mt_msgtrk_state_t *st = mt_msgtrk_state_create(p);
        mt_logrec_t rec;
        const char *why;
        mt_parse_msgtrk_line(st, NULL, "#Fields: " F2016, rp, &rec, &why);
        is_int(mt_parse_msgtrk_line(st, NULL, ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,", rp, &rec, &why), -1,
               "30 empty columns: refused");
        like(why, "no date-time", "30 empty columns: no date-time");
        is_int(mt_parse_msgtrk_line(st, NULL, "2026-11-20T00:00:00Z", rp, &rec, &why), -1,
               "one column: refused");
        like(why, "1 columns, #Fields has 30", "one column: says so");
    }

    /* Header handling over one file. */
    {
        mt_msgtrk_state_t *st = mt_msgtrk_state_create(p);
        for (i = 0; i < sizeof(file) / sizeof(file[0]); i++) {
            mt_logrec_t rec;
            const char *why = NULL;
            int rc = mt_parse_msgtrk_line(st, NULL, file[i].line, rp, &rec, &why);
            is_int(rc, file[i].rc, "file line %zu returns %d", i + 1, file[i].rc);
            if (file[i].why)
                like(why, file[i].why, "file line %zu says why", i + 1);
            if (file[i].event && rc == 1)
                is_str(rec.msgtrk_event_id, file[i].event, "file line %zu event", i + 1);
            if (rc == 1 && i == 9) {
                is_str(rec.host, "HUB01", "2007 literal row: host");
                is_str(rec.msgtrk_related_recipient, "bobby@example.org",
                       "2007 literal row: related-recipient-address");
                is_str(rec.msgtrk_return_path, "alice@example.org", "2007 literal row: return-path");
                ok(rec.msgtrk_message_info == NULL, "2007 literal row: CR not kept");
                ok(rec.recipient_status == NULL, "2007 literal row: no status");
                is_int(rec.size, 2048, "2007 literal row: size");
            }
        }
    }

    /* The sample logs in t/data/msgtrk. */
    {
        mt_logrec_t r;
        int refused, n;

        memset(&r, 0, sizeof(r));
        n = sample_file(p, "MSGTRK20261120-1.LOG", "DEFER", &r, &refused);
        is_int(n, 41, "MSGTRK20261120-1.LOG: 41 rows");
        is_int(refused, 0, "MSGTRK20261120-1.LOG: no line refused");
        is_str(r.recipient_status ? APR_ARRAY_IDX(r.recipient_status, 0, const char *) : NULL,
               "451 4.4.0 Primary target IP address responded with: \"421 4.3.2 Service not "
               "available, closing transmission channel.\"", "sample DEFER: status unquoted");
        is_str(r.host, "MBX01.corp.example.org", "sample DEFER: host");
        memset(&r, 0, sizeof(r));
        sample_file(p, "MSGTRK20261120-1.LOG", "FAIL", &r, &refused);
        is_str(r.recipient_status ? APR_ARRAY_IDX(r.recipient_status, 0, const char *) : NULL,
               "550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found", "sample FAIL: status unwrapped");
        memset(&r, 0, sizeof(r));
        sample_file(p, "MSGTRK20261120-1.LOG", "AGENTINFO", &r, &refused);
        is_str(joined(p, r.recipients), "o'brien@example.org|kim@example.org",
               "sample AGENTINFO: quoted member unwrapped");
        memset(&r, 0, sizeof(r));
        sample_file(p, "MSGTRK20261120-1.LOG", "SEND", &r, &refused);
        is_str(r.host, "MBX01.corp.example.org", "sample SEND: host");
        is_str(r.relay, "MBX02.corp.example.org", "sample SEND: relay");
        is_str(r.subject, "Q4 budget, \"final\" v2", "sample SEND: subject");

        memset(&r, 0, sizeof(r));
        n = sample_file(p, "MSGTRK-2010.LOG", "FAIL", &r, &refused);
        is_int(n, 10, "MSGTRK-2010.LOG: 10 rows");
        is_int(refused, 0, "MSGTRK-2010.LOG: no line refused");
        ok(r.msgtrk_network_id == NULL, "MSGTRK-2010.LOG: no network-message-id");
        is_str(r.recipient_status ? APR_ARRAY_IDX(r.recipient_status, 0, const char *) : NULL,
               "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException."
               "MapiExceptionShutoffQuotaExceeded", "MSGTRK-2010.LOG: FAIL status unwrapped");
        is_str(r.subject, "Q1 planning workshop \xE2\x80\x93 agenda", "MSGTRK-2010.LOG: UTF-8 subject");
    }

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
