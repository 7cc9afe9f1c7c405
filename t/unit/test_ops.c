/* test_ops.c: the two operations, request document to response document,
 * over a small index in a scratch directory: Find's filters, window, order
 * and cap, Domain and Scope, diagnostics; Get's templates, queue events,
 * read tracking, the fields from the index; the authorization matrix;
 * errors; the index missing and appearing (TAP). Every response is
 * validated against the bundled schemas. */
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include "tap.h"
#include "tmpdir.h"
#include "fixture.h"
#include "mt_config.h"
#include "mt_index.h"
#include "mt_log.h"
#include "mt_ops.h"
#include "mt_query.h"
#include "mt_request.h"
#include "mt_schema.h"
#include "mt_soap.h"
#include "mt_store.h"
#include "mt_time.h"

/* ------------------------------------------------------------------ log */

static char last_warning[1024];

static void log_cb(void *baton, const char *file, int line, mt_log_level_e level,
                   const char *msg)
{
    (void)baton; (void)file; (void)line;
    if (level <= MT_LOG_WARNING)
        apr_cpystrn(last_warning, msg, sizeof(last_warning));
}

static int log_enabled(void *baton, mt_log_level_e level)
{
    (void)baton;
    return level <= MT_LOG_WARNING;
}

/* ------------------------------------------------------------------ the index */

/* An event of the Postfix hop @a m (a Postfix log line's facts). */
static void ev(fx_t *fx, mt_msg_t *m, apr_time_t t, int fact, const char *rcpt,
               const char *relay, const char *dsn, const char *text)
{
    fx_evx_t x = { .relay = relay, .dsn = dsn, .text = text };
    fx_event(fx, m, t, fact, rcpt, NULL, &x, 1);
}

#define LMTP "imap.example.org[192.0.2.20]:24"
#define MID_O "<o-1@example.org>"
#define MID_A "<a-1@example.org>"
#define MID_B "<b-1@mail.example.net>"
#define MID_E "<e-1@example.org>"
#define MID_NDR "<ndr-1@mx1.example.org>"
#define MID_N "<\"q=1,+x y\"@caf\xc3\xa9.example>"
#define MID_L "<l-1@example.org>"

typedef struct {
    mt_msg_t *O, *A, *A_bob, *B, *E, *NDR, *N, *L;
} stories_t;

static void build(fx_t *fx, stories_t *s)
{
    /* (o) an older message: 5 November */
    s->O = fx_hop(fx, MT_HOP_POSTFIX, fx_td(5, 8, 0, 0), "mx1", "0A1", MID_O,
                  "alice@example.org", "Q3 draft", "ws-alice.example.org[192.0.2.101]",
                  MT_MSG_STARTED | MT_MSG_SUBMITTED, "bob@example.org", NULL);
    ev(fx, s->O, fx_td(5, 8, 0, 0), MT_FACT_SUBMIT, NULL, NULL, NULL, NULL);
    ev(fx, s->O, fx_td(5, 8, 0, 1), MT_FACT_DELIVER, "bob@example.org", LMTP, NULL, NULL);

    /* (a) alice to bob (To), carol (Cc), dave (Bcc: To/Cc headers logged);
     * carol's delivery deferred once; bob reads it */
    s->A = fx_hop(fx, MT_HOP_POSTFIX, fx_td(20, 9, 15, 3), "mx1", "4C1", MID_A, "alice@example.org",
                  "Q3 results", "ws-alice.example.org[192.0.2.101]",
                  MT_MSG_STARTED | MT_MSG_SUBMITTED,
                  "bob@example.org carol@example.org dave@example.org",
                  "bob@example.org carol@example.org");
    ev(fx, s->A, fx_td(20, 9, 15, 3), MT_FACT_SUBMIT, NULL, NULL, NULL, NULL);
    ev(fx, s->A, fx_td(20, 9, 15, 4), MT_FACT_DELIVER, "bob@example.org", LMTP, NULL, NULL);
    ev(fx, s->A, fx_td(20, 9, 15, 4), MT_FACT_DEFER, "carol@example.org", LMTP, "4.2.0",
       "452 4.2.0 try again");
    ev(fx, s->A, fx_td(20, 9, 16, 0), MT_FACT_DELIVER, "carol@example.org", LMTP, NULL, NULL);
    ev(fx, s->A, fx_td(20, 9, 16, 0), MT_FACT_DELIVER, "dave@example.org", LMTP, NULL, NULL);
    s->A_bob = fx_hop(fx, MT_HOP_MAILBOX, fx_td(20, 9, 15, 4), "imap", "bob@example.org", MID_A,
                      "alice@example.org", NULL, NULL, MT_MSG_READ, "bob@example.org", NULL);
    ev(fx, s->A_bob, fx_td(20, 9, 15, 4), MT_FACT_DELIVER, NULL, NULL, NULL, NULL);
    ev(fx, s->A_bob, fx_td(20, 9, 20, 0), MT_FACT_READ, NULL, NULL, NULL, NULL);

    /* (b) paula over SMTP to team@ (bob, erin) */
    s->B = fx_hop(fx, MT_HOP_POSTFIX, fx_td(20, 9, 18, 11), "mx1", "7E2", MID_B,
                  "paula@example.net", "Caf\xc3\xa9 menu", "mail.example.net[198.51.100.40]",
                  MT_MSG_STARTED,
                  "bob@example.org=team@example.org erin@example.org=team@example.org", NULL);
    ev(fx, s->B, fx_td(20, 9, 18, 11), MT_FACT_RECEIVE, NULL, NULL, NULL, NULL);
    ev(fx, s->B, fx_td(20, 9, 18, 12), MT_FACT_DELIVER, "bob@example.org", LMTP, NULL, NULL);
    ev(fx, s->B, fx_td(20, 9, 18, 12), MT_FACT_DELIVER, "erin@example.org", LMTP, NULL, NULL);

    /* (e) alice to nobody@example.net: bounced; the NDR goes back to alice */
    s->E = fx_hop(fx, MT_HOP_POSTFIX, fx_td(20, 9, 42, 11), "mx1", "5F0", MID_E,
                  "alice@example.org", "Supplier day", "ws-alice.example.org[192.0.2.101]",
                  MT_MSG_STARTED | MT_MSG_SUBMITTED, "nobody@example.net", NULL);
    ev(fx, s->E, fx_td(20, 9, 42, 11), MT_FACT_SUBMIT, NULL, NULL, NULL, NULL);
    ev(fx, s->E, fx_td(20, 9, 42, 12), MT_FACT_FAIL, "nobody@example.net",
       "mx.example.net[198.51.100.25]:25", "5.1.1", "550 5.1.1 User unknown");
    s->NDR = fx_hop(fx, MT_HOP_POSTFIX, fx_td(20, 9, 42, 12), "mx1", "6D4", MID_NDR, "",
                    "Undelivered Mail Returned to Sender", NULL,
                    MT_MSG_STARTED | MT_MSG_NOTIFICATION, "alice@example.org", NULL);
    s->NDR->ref_message_id = MID_E;
    s->NDR->ndr_of = s->E->key;
    s->NDR->notify_kind = "non-delivery";
    ev(fx, s->NDR, fx_td(20, 9, 42, 13), MT_FACT_DELIVER, "alice@example.org", LMTP, NULL, NULL);

    /* (n) a Message-ID with quotes, '=', ',', '+', a space and UTF-8 */
    s->N = fx_hop(fx, MT_HOP_POSTFIX, fx_td(20, 10, 0, 0), "mx1", "9A9", MID_N, "alice@example.org",
                  "Nasty id", "ws-alice.example.org[192.0.2.101]",
                  MT_MSG_STARTED | MT_MSG_SUBMITTED, "bob@example.org", NULL);
    ev(fx, s->N, fx_td(20, 10, 0, 0), MT_FACT_SUBMIT, NULL, NULL, NULL, NULL);
    ev(fx, s->N, fx_td(20, 10, 0, 1), MT_FACT_DELIVER, "bob@example.org", LMTP, NULL, NULL);

    /* (l) bob to alice */
    s->L = fx_hop(fx, MT_HOP_POSTFIX, fx_td(20, 11, 0, 0), "mx1", "B0B", MID_L, "bob@example.org",
                  "Lunch?", "unknown[192.0.2.102]", MT_MSG_STARTED | MT_MSG_SUBMITTED,
                  "alice@example.org", NULL);
    ev(fx, s->L, fx_td(20, 11, 0, 0), MT_FACT_SUBMIT, NULL, NULL, NULL, NULL);
    ev(fx, s->L, fx_td(20, 11, 0, 1), MT_FACT_DELIVER, "alice@example.org", LMTP, NULL, NULL);
}

static int build_index(apr_pool_t *p, const char *dir, stories_t *s)
{
    mt_store_t *st;
    fx_t fx;
    const char *err = fx_open(p, dir, 0, &st, &fx);

    if (!err) {
        build(&fx, s);
        err = fx_commit(&fx);
    }
    if (st)
        mt_store_close(st);
    if (err)
        printf("# %s\n", err);
    return err ? -1 : 0;
}

/* ------------------------------------------------------------------ requests */

typedef struct {
    const char *mailbox;
    int privileged;
} who_t;

static const who_t ALICE = { "alice@example.org", 0 };
static const who_t BOB = { "bob@example.org", 0 };
static const who_t CAROL = { "Carol@Example.org", 0 };
static const who_t DAVE = { "dave@example.org", 0 };
static const who_t MALLORY = { "mallory@example.org", 0 };
static const who_t ADMIN = { "admin@example.org", 1 };
static const who_t ANON = { NULL, 0 };

/* Directory settings of a case. */
typedef struct {
    int days, max, read_tracking;
} dirconf_t;

static const dirconf_t D_DEFAULT = { 14, 1000, 0 };

typedef struct {
    apr_pool_t *p;
    mt_schema_set_t *schemas;
    mt_index_t *index;
    stories_t *s;
    apr_time_t now;
} env_t;

#define NS_DECL "xmlns:m=\"" MT_NS_MESSAGES "\" xmlns:t=\"" MT_NS_TYPES "\""
#define FIND_SD(scope, domain, children) \
    "<m:FindMessageTrackingReport " NS_DECL "><m:Scope>" scope "</m:Scope><m:Domain>" \
    domain "</m:Domain>" children "</m:FindMessageTrackingReport>"
#define FIND(children) FIND_SD("Organization", "example.org", children)
#define ADDR(el, a) "<m:" el "><t:EmailAddress>" a "</t:EmailAddress></m:" el ">"
#define SENDER(a) ADDR("Sender", a)
#define RCPT(a) ADDR("Recipient", a)
#define START(t) "<m:StartDateTime>" t "</m:StartDateTime>"
#define END(t) "<m:EndDateTime>" t "</m:EndDateTime>"
#define NOV START("2026-11-01T00:00:00Z") END("2026-11-22T00:00:00Z")
#define GET_T(scope, tmpl, extra) \
    "<m:GetMessageTrackingReport " NS_DECL "><m:Scope>" scope "</m:Scope><m:ReportTemplate>" \
    tmpl "</m:ReportTemplate><m:MessageTrackingReportId>%ID%</m:MessageTrackingReportId>" \
    extra "</m:GetMessageTrackingReport>"
#define SUMMARY(extra) GET_T("Organization", "Summary", extra)
#define PATH(a, extra) GET_T("Organization", "RecipientPath", ADDR("RecipientFilter", a) extra)
#define QUEUE "<m:ReturnQueueEvents>true</m:ReturnQueueEvents>"

static const char *xml_escape(apr_pool_t *p, const char *s)
{
    const char *r = "";
    for (; *s; s++) {
        switch (*s) {
        case '&': r = apr_pstrcat(p, r, "&amp;", NULL); break;
        case '<': r = apr_pstrcat(p, r, "&lt;", NULL); break;
        case '>': r = apr_pstrcat(p, r, "&gt;", NULL); break;
        case '"': r = apr_pstrcat(p, r, "&quot;", NULL); break;
        default: r = apr_pstrcat(p, r, apr_pstrndup(p, s, 1), NULL);
        }
    }
    return r;
}

/* @a op with "%ID%" replaced by @a id (escaped). */
static const char *with_id(apr_pool_t *p, const char *op, const char *id)
{
    const char *at = strstr(op, "%ID%");
    if (!at || !id)
        return op;
    return apr_pstrcat(p, apr_pstrmemdup(p, op, (apr_size_t)(at - op)), xml_escape(p, id),
                       at + 4, NULL);
}

static apr_status_t free_doc(void *d)
{
    xmlFreeDoc(d);
    return APR_SUCCESS;
}

/* Run one request; returns the response document (NULL when it does not
 * parse or is not valid: a failed test says why). */
static xmlDocPtr run_ctx(env_t *env, const mt_ops_ctx_t *ctx, const char *op, const char *name)
{
    apr_pool_t *p = env->p;
    const char *doc = apr_pstrcat(p, "<s:Envelope xmlns:s=\"" MT_NS_SOAP11 "\"><s:Body>", op,
                                  "</s:Body></s:Envelope>", NULL);
    const char *body;
    apr_size_t len;
    mt_soap_request_t sr;
    mt_request_t req;
    mt_error_t *err;
    mt_out_t *out = mt_out_buffer_make(p);
    xmlDocPtr d, rd;
    xmlNodePtr n;

    memset(&req, 0, sizeof(req));
    if ((err = mt_soap_parse(p, doc, strlen(doc), &d)) || (err = mt_soap_open(p, d, &sr))
        || (err = mt_schema_validate(env->schemas, p, sr.operation))
        || (err = mt_request_decode(p, sr.operation, &req))) {
        ok(0, "%s: the request is valid: %s", name, err->message);
        return NULL;
    }
    if ((err = mt_ops_run(p, ctx, &req, out))) {
        ok(0, "%s: no fault: %s", name, err->message);
        return NULL;
    }
    body = mt_out_buffer_get(out, &len);
    rd = xmlReadMemory(body, (int)len, NULL, NULL, XML_PARSE_NONET);
    if (!rd) {
        ok(0, "%s: the response parses", name);
        printf("# %s\n", body);
        return NULL;
    }
    /* s:Envelope / s:Body / the response */
    n = xmlDocGetRootElement(rd);
    for (n = n ? n->children : NULL; n && !mt_soap_is(n, MT_NS_SOAP11, "Body"); n = n->next)
        ;
    for (n = n ? n->children : NULL; n && n->type != XML_ELEMENT_NODE; n = n->next)
        ;
    err = n ? mt_schema_validate(env->schemas, p, n) : NULL;
    if (!ok(n && !err, "%s: the response is valid against the schemas", name)) {
        printf("# %s\n# %s\n", err ? err->message : "no response element", body);
        xmlFreeDoc(rd);
        return NULL;
    }
    apr_pool_cleanup_register(p, rd, free_doc, apr_pool_cleanup_null);
    return rd;
}

static xmlDocPtr run(env_t *env, const who_t *who, const dirconf_t *dc, const char *op,
                     const char *name)
{
    mt_dir_config_t *dir = mt_dir_config_create(env->p);
    mt_server_config_t *srv = mt_server_config_create(env->p);
    mt_ops_ctx_t ctx;

    dir->search_days = dc->days;
    dir->max_results = dc->max;
    dir->read_tracking = dc->read_tracking;
    srv->domains = apr_array_make(env->p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(srv->domains, const char *) = "example.org";
    memset(&ctx, 0, sizeof(ctx));
    ctx.dir = dir;
    ctx.server = srv;
    ctx.mailbox = who->mailbox;
    ctx.privileged = who->privileged;
    ctx.index = env->index;
    ctx.now = env->now;
    return run_ctx(env, &ctx, op, name);
}

/* The text of the nodes @a xpath selects, joined with '|'; a string,
 * number or boolean result as a string. */
static const char *xp(apr_pool_t *p, xmlDocPtr d, const char *xpath)
{
    xmlXPathContextPtr c = xmlXPathNewContext(d);
    xmlXPathObjectPtr o;
    const char *r = NULL;
    int i;

    xmlXPathRegisterNs(c, BAD_CAST "s", BAD_CAST MT_NS_SOAP11);
    xmlXPathRegisterNs(c, BAD_CAST "m", BAD_CAST MT_NS_MESSAGES);
    xmlXPathRegisterNs(c, BAD_CAST "t", BAD_CAST MT_NS_TYPES);
    o = xmlXPathEvalExpression(BAD_CAST xpath, c);
    if (o && o->type == XPATH_NODESET) {
        r = "";
        for (i = 0; o->nodesetval && i < o->nodesetval->nodeNr; i++) {
            xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
            r = apr_pstrcat(p, r, i ? "|" : "", t ? (const char *)t : "", NULL);
            xmlFree(t);
        }
    }
    else if (o) {
        xmlChar *t = xmlXPathCastToString(o);
        r = apr_pstrdup(p, (const char *)t);
        xmlFree(t);
    }
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    return r;
}

#define CODE "string(/s:Envelope/s:Body/*/m:ResponseCode)"
#define CLASS "string(/s:Envelope/s:Body/*/@ResponseClass)"
#define TEXT "string(/s:Envelope/s:Body/*/m:MessageText)"
#define RESULTS "//t:MessageTrackingSearchResult"
#define SUBJECTS RESULTS "/t:Subject"
#define EVENTS "//t:RecipientTrackingEvent"
#define EV_RCPTS EVENTS "/t:Recipient/t:EmailAddress"
#define EV_DESCR EVENTS "/t:EventDescription"

/* ------------------------------------------------------------------ table-driven cases */

typedef struct {
    const char *name;
    const who_t *who;
    const dirconf_t *dc;
    const char *story;         /* the report id put for %ID%, NULL */
    const char *op;
    const char *code;          /* ResponseCode */
    const char *xp1, *want1;   /* an XPath and the text it selects, or NULL */
    const char *xp2, *want2;
} case_t;

static const char *story_id(apr_pool_t *p, stories_t *s, const char *name)
{
    mt_msg_t tamper;
    if (!name)
        return NULL;
    if (!strcmp(name, "A")) return mt_query_report_id(p, s->A);
    if (!strcmp(name, "B")) return mt_query_report_id(p, s->B);
    if (!strcmp(name, "E")) return mt_query_report_id(p, s->E);
    if (!strcmp(name, "L")) return mt_query_report_id(p, s->L);
    if (!strcmp(name, "N")) return mt_query_report_id(p, s->N);
    if (!strcmp(name, "A_bob")) return mt_query_report_id(p, s->A_bob);
    /* crafted ids: another user's message with the caller as its sender,
     * and an id that names no hop */
    tamper = *s->B;
    if (!strcmp(name, "B as alice's")) {
        tamper.sender = "alice@example.org";
        return mt_query_report_id(p, &tamper);
    }
    if (!strcmp(name, "no hop")) {
        tamper.key = 987654;
        return mt_query_report_id(p, &tamper);
    }
    return "?";
}

static void run_cases(env_t *env, const case_t *cases, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        const case_t *c = &cases[i];
        const char *op = with_id(env->p, c->op, story_id(env->p, env->s, c->story));
        xmlDocPtr d = run(env, c->who, c->dc ? c->dc : &D_DEFAULT, op, c->name);
        if (!d)
            continue;
        is_str(xp(env->p, d, CODE), c->code, "%s: ResponseCode", c->name);
        is_str(xp(env->p, d, CLASS), strcmp(c->code, "NoError") ? "Error" : "Success",
               "%s: ResponseClass", c->name);
        if (c->xp1)
            is_str(xp(env->p, d, c->xp1), c->want1, "%s: %s", c->name, c->xp1);
        if (c->xp2)
            is_str(xp(env->p, d, c->xp2), c->want2, "%s: %s", c->name, c->xp2);
    }
}

static const dirconf_t D_30 = { 30, 1000, 0 };
static const dirconf_t D_MAX2 = { 14, 2, 0 };
static const dirconf_t D_RT = { 14, 1000, 1 };

static void test_find(env_t *env)
{
    const case_t cases[] = {
        /* filters, order */
        { "find: own messages, newest first", &ALICE, NULL, NULL, FIND(SENDER("alice@example.org") NOV),
          "NoError", SUBJECTS, "Nasty id|Supplier day|Q3 results|Q3 draft",
          "string(//m:ExecutedSearchScope)", "Organization" },
        { "find: subject, case-insensitive substring", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") "<m:Subject>q3 </m:Subject>" NOV), "NoError", SUBJECTS,
          "Q3 results|Q3 draft", NULL, NULL },
        { "find: subject, non-ASCII letters are not case-folded", &BOB, NULL, NULL,
          FIND(SENDER("paula@example.net") RCPT("bob@example.org")
               "<m:Subject>CAF\xc3\x89</m:Subject>" NOV), "NoError", SUBJECTS, "", NULL, NULL },
        { "find: subject, UTF-8 exact", &BOB, NULL, NULL,
          FIND(SENDER("paula@example.net") RCPT("bob@example.org")
               "<m:Subject>caf\xc3\xa9 M</m:Subject>" NOV), "NoError", SUBJECTS, "Caf\xc3\xa9 menu",
          NULL, NULL },
        { "find: own messages to a recipient", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") RCPT("bob@example.org") NOV), "NoError", SUBJECTS,
          "Nasty id|Q3 results|Q3 draft", NULL, NULL },
        { "find: by MessageId, without brackets", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") "<m:MessageId>a-1@example.org</m:MessageId>" NOV),
          "NoError", SUBJECTS, "Q3 results", NULL, NULL },
        { "find: the fields of a result", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") "<m:MessageId>" "&lt;a-1@example.org&gt;"
               "</m:MessageId>" NOV), "NoError",
          "concat(" RESULTS "/t:Sender/t:EmailAddress, ' ', " RESULTS "/t:SubmittedTime, ' ', "
          RESULTS "/t:PreviousHopServer, ' ', " RESULTS "/t:FirstHopServer)",
          "alice@example.org 2026-11-20T09:15:03Z ws-alice.example.org mx1",
          RESULTS "/t:Recipients/t:Mailbox/t:EmailAddress",
          "bob@example.org|carol@example.org|dave@example.org" },
        { "find: an unknown previous hop name gives its address", &BOB, NULL, NULL,
          FIND(SENDER("bob@example.org") NOV), "NoError", RESULTS "/t:PreviousHopServer",
          "192.0.2.102", NULL, NULL },
        { "find: the null sender is an empty Sender", &ADMIN, NULL, NULL,
          FIND(RCPT("alice@example.org") "<m:Subject>Undelivered</m:Subject>" NOV), "NoError",
          "count(" RESULTS "/t:Sender/*)", "0", SUBJECTS, "Undelivered Mail Returned to Sender" },
        /* the window */
        { "find: EndDateTime is exclusive", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") START("2026-11-20T09:15:03Z")
               END("2026-11-20T09:42:11Z")), "NoError", SUBJECTS, "Q3 results", NULL, NULL },
        { "find: one microsecond later it is in", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") START("2026-11-20T09:15:03Z")
               END("2026-11-20T09:42:11.000001Z")), "NoError", SUBJECTS,
          "Supplier day|Q3 results", NULL, NULL },
        { "find: a microsecond after a message's time leaves it out", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") START("2026-11-20T09:15:03.000001Z")
               END("2026-11-21T00:00:00Z")), "NoError", SUBJECTS, "Nasty id|Supplier day",
          NULL, NULL },
        { "find: time zones", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") START("2026-11-20T10:15:03+01:00")
               END("2026-11-20T04:42:11-05:00")), "NoError", SUBJECTS, "Q3 results", NULL,
          NULL },
        { "find: start after end", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") START("2026-11-21T00:00:00Z")
               END("2026-11-20T00:00:00Z")), "NoError", "count(" RESULTS ")", "0", NULL, NULL },
        { "find: default window, 14 days back from the request", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org")), "NoError", SUBJECTS,
          "Nasty id|Supplier day|Q3 results", NULL, NULL },
        { "find: default window, 30 days back", &ALICE, &D_30, NULL,
          FIND(SENDER("alice@example.org")), "NoError", SUBJECTS,
          "Nasty id|Supplier day|Q3 results|Q3 draft", NULL, NULL },
        { "find: default window back from EndDateTime", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") END("2026-11-06T00:00:00Z")), "NoError", SUBJECTS,
          "Q3 draft", NULL, NULL },
        { "find: StartDateTime without EndDateTime: no end", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") START("2026-11-20T09:42:11Z")), "NoError",
          SUBJECTS, "Nasty id|Supplier day", NULL, NULL },
        /* the cap keeps the newest */
        { "find: MaxResults keeps the newest", &ALICE, &D_MAX2, NULL,
          FIND(SENDER("alice@example.org") NOV), "NoError", SUBJECTS, "Nasty id|Supplier day",
          NULL, NULL },
        /* Scope, Domain */
        { "find: Scope Forest echoed", &ALICE, NULL, NULL,
          FIND_SD("Forest", "example.org", SENDER("alice@example.org") NOV), "NoError",
          "string(//m:ExecutedSearchScope)", "Forest", "count(" RESULTS ")", "4" },
        { "find: Scope site, any case", &ALICE, NULL, NULL,
          FIND_SD("site", "example.org", SENDER("alice@example.org") NOV), "NoError",
          "string(//m:ExecutedSearchScope)", "Site", NULL, NULL },
        { "find: an unknown Scope", &ALICE, NULL, NULL,
          FIND_SD("Galaxy", "example.org", SENDER("alice@example.org") NOV),
          "ErrorInvalidArgument", TEXT, "Scope 'Galaxy' is not one of Organization, Forest, Site",
          "count(//m:MessageTrackingSearchResults/*)", "0" },
        { "find: a domain not served", &ALICE, NULL, NULL,
          FIND_SD("Organization", "example.com", SENDER("alice@example.org") NOV),
          "ErrorMessageTrackingNoSuchDomain", TEXT,
          "this server does not track messages for the domain 'example.com'", NULL, NULL },
        { "find: the domain in another case", &ALICE, NULL, NULL,
          FIND_SD("Organization", "Example.ORG", SENDER("alice@example.org") NOV), "NoError",
          "count(" RESULTS ")", "4", NULL, NULL },
        /* accepted and ignored */
        { "find: PurportedSender, ServerHint, Properties accepted", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") ADDR("PurportedSender", "eve@example.org")
               "<m:ServerHint>mx1</m:ServerHint><m:Properties><t:TrackingPropertyType>"
               "<t:Name>x</t:Name><t:Value>y</t:Value></t:TrackingPropertyType></m:Properties>"
               NOV), "NoError", "count(" RESULTS ")", "4", NULL, NULL },
        /* diagnostics */
        { "find: no Diagnostics unless asked", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") NOV), "NoError", "count(//m:Diagnostics)", "0",
          NULL, NULL },
        { "find: DiagnosticsLevel None", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") "<m:DiagnosticsLevel>None</m:DiagnosticsLevel>" NOV),
          "NoError", "count(//m:Diagnostics)", "0", NULL, NULL },
        { "find: Diagnostics: the plan", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") "<m:DiagnosticsLevel>Verbose</m:DiagnosticsLevel>"
               NOV), "NoError", "string(//m:Diagnostics/t:String[1])",
          "plan: sender index (alice@example.org), submitted from 2026-11-01T00:00:00Z "
          "to 2026-11-21T23:59:59.999999Z",
          "string(//m:Diagnostics/t:String[3])", "messages: 4 matched, 4 returned" },
        { "find: Diagnostics: rows and milliseconds", &ALICE, &D_MAX2, NULL,
          FIND(SENDER("alice@example.org") "<m:DiagnosticsLevel>Basic</m:DiagnosticsLevel>"
               NOV), "NoError",
          "concat(substring-before(//m:Diagnostics/t:String[2], ';'), ' / ', "
          "substring-before(//m:Diagnostics/t:String[4], ':'), ' / ', "
          "//m:Diagnostics/t:String[3])",
          /* alice sent 4 in November; newest first, the scan stops at the
           * third: more than the cap, so the list is known to be cut */
          "rows scanned: 3 (0 to choose the index, 3 by the scan) / milliseconds / "
          "messages: 3 matched, 2 returned (MsgTrackMaxResults 2)", NULL, NULL },
        { "find: Diagnostics: the recipient index is more selective", &DAVE, NULL, NULL,
          FIND(SENDER("alice@example.org") RCPT("dave@example.org")
               "<m:DiagnosticsLevel>Basic</m:DiagnosticsLevel>" NOV), "NoError",
          "substring-before(//m:Diagnostics/t:String[1], ',')",
          "plan: recipient index (dave@example.org)",
          "substring-before(//m:Diagnostics/t:String[2], ';')",
          "rows scanned: 6 (5 to choose the index, 1 by the scan)" },
        { "find: Diagnostics: the sender index is more selective", &BOB, NULL, NULL,
          FIND(SENDER("alice@example.org") RCPT("bob@example.org")
               "<m:DiagnosticsLevel>Basic</m:DiagnosticsLevel>" NOV), "NoError",
          "substring-before(//m:Diagnostics/t:String[1], ',')",
          "plan: sender index (alice@example.org)", NULL, NULL },
        { "find: Diagnostics: a subject alone scans the time index", &ADMIN, NULL, NULL,
          FIND("<m:Subject>q3</m:Subject><m:DiagnosticsLevel>1</m:DiagnosticsLevel>" NOV),
          "NoError", "substring-before(//m:Diagnostics/t:String[1], ',')", "plan: time index",
          SUBJECTS, "Q3 results|Q3 draft" },
        { "find: Diagnostics: the default window", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") "<m:DiagnosticsLevel>1</m:DiagnosticsLevel>"),
          "NoError", "substring-after(//m:Diagnostics/t:String[1], 'submitted ')",
          "from 2026-11-07T12:00:00Z to now and later", NULL, NULL },
    };
    run_cases(env, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Who may Find what: the rule, every shape, with the users and the admin. */
static void test_find_authz(env_t *env)
{
    const case_t cases[] = {
        { "find authz: alice, her own", &ALICE, NULL, NULL, FIND(SENDER("ALICE@example.org") NOV),
          "NoError", "count(" RESULTS ")", "4", NULL, NULL },
        { "find authz: bob names the sender and himself", &BOB, NULL, NULL,
          FIND(SENDER("alice@example.org") RCPT("bob@example.org") NOV), "NoError", SUBJECTS,
          "Nasty id|Q3 results|Q3 draft", RESULTS "/t:Recipients/t:Mailbox/t:EmailAddress",
          "bob@example.org|bob@example.org|bob@example.org" },
        { "find authz: bob through the alias", &BOB, NULL, NULL,
          FIND(SENDER("paula@example.net") RCPT("bob@example.org") NOV), "NoError",
          RESULTS "/t:Recipients/t:Mailbox/t:EmailAddress", "bob@example.org", NULL, NULL },
        { "find authz: bob as FederatedDeliveryMailbox", &BOB, NULL, NULL,
          FIND(SENDER("paula@example.net") ADDR("FederatedDeliveryMailbox", "bob@example.org")
               NOV), "NoError", SUBJECTS, "Caf\xc3\xa9 menu", NULL, NULL },
        { "find authz: dave (Bcc) sees only himself", &DAVE, NULL, NULL,
          FIND(SENDER("alice@example.org") RCPT("dave@example.org") NOV), "NoError", SUBJECTS,
          "Q3 results", RESULTS "/t:Recipients/t:Mailbox/t:EmailAddress", "dave@example.org" },
        { "find authz: alice sees Bcc recipients of her own", &ALICE, NULL, NULL,
          FIND(SENDER("alice@example.org") RCPT("dave@example.org") NOV), "NoError",
          RESULTS "/t:Recipients/t:Mailbox/t:EmailAddress",
          "bob@example.org|carol@example.org|dave@example.org", NULL, NULL },
        { "find authz: mallory names the sender and herself: nothing", &MALLORY, NULL, NULL,
          FIND(SENDER("alice@example.org") RCPT("mallory@example.org") NOV), "NoError",
          "count(" RESULTS ")", "0", NULL, NULL },
        { "find authz: bob without a sender", &BOB, NULL, NULL, FIND(RCPT("bob@example.org") NOV),
          "ErrorAccessDenied", TEXT,
          "bob@example.org may search for messages it sent (Sender bob@example.org) or for "
          "messages sent to it by a named sender (a Sender, and Recipient bob@example.org)",
          NULL, NULL },
        { "find authz: bob names another sender only", &BOB, NULL, NULL,
          FIND(SENDER("alice@example.org") NOV), "ErrorAccessDenied", NULL, NULL, NULL, NULL },
        { "find authz: bob names another sender and another recipient", &BOB, NULL, NULL,
          FIND(SENDER("alice@example.org") RCPT("carol@example.org") NOV), "ErrorAccessDenied",
          NULL, NULL, NULL, NULL },
        { "find authz: alice by MessageId alone", &ALICE, NULL, NULL,
          FIND("<m:MessageId>a-1@example.org</m:MessageId>" NOV), "ErrorAccessDenied", NULL,
          NULL, NULL, NULL },
        { "find authz: nothing named", &ALICE, NULL, NULL, FIND(NOV), "ErrorAccessDenied", NULL,
          NULL, NULL, NULL },
        { "find authz: a Sender without an address", &ALICE, NULL, NULL,
          FIND("<m:Sender><t:Name>Alice</t:Name></m:Sender>" NOV), "ErrorAccessDenied", NULL,
          NULL, NULL, NULL },
        { "find authz: no identity", &ANON, NULL, NULL, FIND(SENDER("alice@example.org") NOV),
          "ErrorAccessDenied", TEXT, "the caller has no mailbox to search messages for", NULL,
          NULL },
        { "find authz: no identity, bad domain: still denied", &ANON, NULL, NULL,
          FIND_SD("Organization", "example.com", SENDER("alice@example.org") NOV),
          "ErrorAccessDenied", NULL, NULL, NULL, NULL },
        { "find authz: the admin needs no sender", &ADMIN, NULL, NULL,
          FIND(RCPT("bob@example.org") NOV), "NoError", SUBJECTS,
          "Nasty id|Caf\xc3\xa9 menu|Q3 results|Q3 draft", NULL, NULL },
        { "find authz: the admin sees every recipient", &ADMIN, NULL, NULL,
          FIND("<m:MessageId>a-1@example.org</m:MessageId>" NOV), "NoError",
          RESULTS "/t:Recipients/t:Mailbox/t:EmailAddress",
          "bob@example.org|carol@example.org|dave@example.org", NULL, NULL },
    };
    run_cases(env, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_get(env_t *env)
{
    const case_t cases[] = {
        { "get: summary for the sender", &ALICE, NULL, "A", SUMMARY(""), "NoError",
          "concat(" EVENTS "[1]/t:DeliveryStatus, ' ', " EVENTS "[3]/t:BccRecipient)",
          "Delivered true", EV_RCPTS, "bob@example.org|carol@example.org|dave@example.org" },
        { "get: the report's fields", &ALICE, NULL, "A", SUMMARY(""), "NoError",
          "concat(//m:MessageTrackingReport/t:Sender/t:EmailAddress, ' ', "
          "//m:MessageTrackingReport/t:Subject, ' ', //m:MessageTrackingReport/t:SubmitTime)",
          "alice@example.org Q3 results 2026-11-20T09:15:03Z",
          "//t:OriginalRecipients/t:Address/t:EmailAddress",
          "bob@example.org|carol@example.org|dave@example.org" },
        { "get: summary, read tracking on", &ALICE, &D_RT, "A", SUMMARY(""), "NoError",
          EVENTS "/t:DeliveryStatus", "Read|Delivered|Delivered", EV_DESCR,
          "Read|Delivered|Delivered" },
        { "get: summary, read tracking off", &ALICE, NULL, "A", SUMMARY(""), "NoError",
          EV_DESCR, "Delivered|Delivered|Delivered", NULL, NULL },
        { "get: path, read tracking on", &BOB, &D_RT, "A", PATH("bob@example.org", ""), "NoError",
          EV_DESCR, "Submitted|Delivered|Read", EVENTS "/t:Server", "mx1|mx1|imap" },
        { "get: path, read tracking off", &BOB, NULL, "A", PATH("bob@example.org", ""),
          "NoError", EV_DESCR, "Submitted|Delivered", NULL, NULL },
        { "get: queue events for the admin", &ADMIN, NULL, "A",
          PATH("carol@example.org", QUEUE), "NoError", EV_DESCR,
          "Submitted|MessageDefer|Delivered", EVENTS "[2]/t:EventData/t:String",
          "4.2.0|452 4.2.0 try again" },
        { "get: no queue events unless asked", &ADMIN, NULL, "A", PATH("carol@example.org", ""),
          "NoError", EV_DESCR, "Submitted|Delivered", NULL, NULL },
        { "get: ReturnQueueEvents false", &ADMIN, NULL, "A",
          PATH("carol@example.org", "<m:ReturnQueueEvents>false</m:ReturnQueueEvents>"),
          "NoError", EV_DESCR, "Submitted|Delivered", NULL, NULL },
        { "get: no queue events for the sender", &ALICE, NULL, "A",
          PATH("carol@example.org", QUEUE), "NoError", EV_DESCR, "Submitted|Delivered", NULL,
          NULL },
        { "get: InternalId, UniquePathId", &ALICE, &D_RT, "A", PATH("bob@example.org", ""),
          "NoError", EVENTS "/t:UniquePathId",
          "bob@example.org|bob@example.org|bob@example.org", "count(" EVENTS "/t:InternalId)",
          "3" },
        { "get: RootAddress through an alias", &BOB, NULL, "B", PATH("bob@example.org", ""),
          "NoError", EVENTS "/t:RootAddress", "team@example.org|team@example.org",
          EVENTS "[1]/t:UniquePathId", "team@example.org/bob@example.org" },
        { "get: the NDR on a failed recipient's path", &ALICE, NULL, "E",
          PATH("nobody@example.net", ""), "NoError", EV_DESCR, "Submitted|FailedGeneral",
          EVENTS "[2]/t:EventData/t:String",
          "5.1.1|550 5.1.1 User unknown|non-delivery notification " MID_NDR
          " to alice@example.org" },
        { "get: the failed recipient in the summary", &ALICE, NULL, "E", SUMMARY(""), "NoError",
          EVENTS "/t:DeliveryStatus", "Unsuccessful", NULL, NULL },
        { "get: path of someone the message did not go to", &ALICE, NULL, "A",
          PATH("erin@example.org", ""), "NoError",
          "string(//m:MessageTrackingReport/t:SubmitTime)", "0001-01-01T00:00:00",
          "count(//m:MessageTrackingReport/*)", "2" },
        { "get: a mailbox hop's id is no report", &ADMIN, NULL, "A_bob",
          SUMMARY(""), "ErrorMessageTrackingPermanentError", NULL, NULL, NULL, NULL },
        { "get: Scope Site", &ALICE, NULL, "A", GET_T("Site", "Summary", ""), "NoError",
          "count(" EVENTS ")", "3", NULL, NULL },
        { "get: an unknown Scope", &ALICE, NULL, "A", GET_T("Nowhere", "Summary", ""),
          "ErrorInvalidArgument", "count(//m:MessageTrackingReport/t:RecipientTrackingEvents)",
          "1", NULL, NULL },
        { "get: RecipientPath without RecipientFilter", &ALICE, NULL, "A",
          GET_T("Organization", "RecipientPath", ""), "ErrorInvalidArgument", TEXT,
          "a RecipientPath report needs a RecipientFilter", NULL, NULL },
        { "get: a report id that does not parse", &ALICE, NULL, NULL,
          SUMMARY("") /* %ID% stays */, "ErrorInvalidArgument", TEXT,
          "the report id '%ID%' does not parse", NULL, NULL },
        { "get: an unknown message", &ADMIN, NULL, "no hop", SUMMARY(""),
          "ErrorMessageTrackingPermanentError", TEXT, "no message matches the report id", NULL,
          NULL },
        { "get: Diagnostics", &ALICE, NULL, "A",
          SUMMARY("<m:DiagnosticsLevel>Verbose</m:DiagnosticsLevel>"), "NoError",
          "string(//m:Diagnostics/t:String[2])", "events: 3 returned",
          "substring-before(//m:Diagnostics/t:String[3], ':')", "milliseconds" },
    };
    run_cases(env, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Who may Get what, and what each sees: alice (sender of A, E, N;
 * recipient of L), bob (recipient of A, B, N; sender of L), carol (Cc),
 * dave (Bcc), mallory (nothing), the admin; crafted ids. */
static void test_get_authz(env_t *env)
{
    const case_t cases[] = {
        { "get authz: the sender sees all, Bcc flagged", &ALICE, NULL, "A", SUMMARY(""),
          "NoError", EVENTS "/t:BccRecipient", "false|false|true", NULL, NULL },
        { "get authz: no HiddenRecipient for a user", &ALICE, NULL, "A", SUMMARY(""), "NoError",
          "count(" EVENTS "/t:HiddenRecipient)", "0", NULL, NULL },
        { "get authz: HiddenRecipient for the admin", &ADMIN, NULL, "A", SUMMARY(""), "NoError",
          EVENTS "/t:HiddenRecipient", "false|false|false", NULL, NULL },
        { "get authz: a recipient sees only itself", &BOB, NULL, "A", SUMMARY(""), "NoError",
          EV_RCPTS, "bob@example.org", "//t:OriginalRecipients/t:Address/t:EmailAddress",
          "bob@example.org" },
        { "get authz: Cc recipient, mailbox in another case", &CAROL, NULL, "A", SUMMARY(""),
          "NoError", EV_RCPTS, "carol@example.org", NULL, NULL },
        { "get authz: the Bcc recipient sees only itself", &DAVE, NULL, "A", SUMMARY(""),
          "NoError", EV_RCPTS, "dave@example.org", NULL, NULL },
        { "get authz: a recipient never sees the Bcc recipient's path", &BOB, NULL, "A",
          PATH("dave@example.org", ""), "NoError", "count(" EVENTS ")", "0",
          "string(//m:MessageTrackingReport/t:SubmitTime)", "0001-01-01T00:00:00" },
        { "get authz: nor another recipient's", &CAROL, NULL, "A", PATH("bob@example.org", ""),
          "NoError", "count(" EVENTS ")", "0", NULL, NULL },
        { "get authz: the sender sees the Bcc recipient's path", &ALICE, NULL, "A",
          PATH("dave@example.org", ""), "NoError", EVENTS "/t:BccRecipient", "true|true", NULL,
          NULL },
        { "get authz: queue events never for a recipient", &CAROL, NULL, "A",
          PATH("carol@example.org", QUEUE), "NoError", EV_DESCR, "Submitted|Delivered", NULL,
          NULL },
        { "get authz: a stranger", &MALLORY, NULL, "A", SUMMARY(""), "ErrorAccessDenied", TEXT,
          "the caller neither sent nor received this message", NULL, NULL },
        { "get authz: a stranger's path", &MALLORY, NULL, "A", PATH("mallory@example.org", ""),
          "ErrorAccessDenied", NULL, NULL, NULL, NULL },
        { "get authz: alice on bob's message to her", &ALICE, NULL, "L", SUMMARY(""), "NoError",
          EV_RCPTS, "alice@example.org", NULL, NULL },
        { "get authz: alice on a message she neither sent nor received", &ALICE, NULL, "B",
          SUMMARY(""), "ErrorAccessDenied", NULL, NULL, NULL, NULL },
        { "get authz: a crafted id naming alice as the sender", &ALICE, NULL, "B as alice's",
          SUMMARY(""), "ErrorMessageTrackingPermanentError", NULL, NULL, NULL, NULL },
        { "get authz: a crafted id for a hop that does not exist", &ALICE, NULL, "no hop",
          SUMMARY(""), "ErrorMessageTrackingPermanentError", NULL, NULL, NULL, NULL },
        { "get authz: bob on the message to team@", &BOB, NULL, "B", SUMMARY(""), "NoError",
          EV_RCPTS, "bob@example.org", NULL, NULL },
        { "get authz: the admin sees everyone", &ADMIN, NULL, "B", SUMMARY(""), "NoError",
          EV_RCPTS, "bob@example.org|erin@example.org", NULL, NULL },
        { "get authz: no identity", &ANON, NULL, "A", SUMMARY(""), "ErrorAccessDenied", TEXT,
          "the caller has no mailbox to track messages for", NULL, NULL },
        { "get authz: no identity, bad id: still denied", &ANON, NULL, NULL, SUMMARY(""),
          "ErrorAccessDenied", NULL, NULL, NULL, NULL },
    };
    run_cases(env, cases, sizeof(cases) / sizeof(cases[0]));
}

/* ------------------------------------------------------------------ Find, then Get */

static void test_round_trip(env_t *env)
{
    apr_pool_t *p = env->p;
    xmlDocPtr d;
    const char *id;

    d = run(env, &ALICE, &D_DEFAULT,
            FIND(SENDER("alice@example.org") "<m:MessageId>&lt;\"q=1,+x y\"@caf\xc3\xa9"
                 ".example&gt;</m:MessageId>" NOV), "round trip: find");
    id = d ? xp(p, d, "string(" RESULTS "/t:MessageTrackingReportId)") : NULL;
    like(id, "Message-Id=<\"q+3D1+2C+2Bx+20y\"@caf+C3+A9.example>,Server=mx1,",
         "round trip: the report id escapes the Message-ID");
    if (!id)
        return;
    d = run(env, &ALICE, &D_DEFAULT, with_id(p, SUMMARY(""), id), "round trip: get");
    is_str(d ? xp(p, d, CODE) : NULL, "NoError", "round trip: Get takes Find's id");
    is_str(d ? xp(p, d, EV_RCPTS) : NULL, "bob@example.org", "round trip: the report");
    is_str(d ? xp(p, d, "string(//m:MessageTrackingReport/t:Subject)") : NULL, "Nasty id",
           "round trip: its subject");
}

/* ------------------------------------------------------------------ the index unavailable */

static void test_unavailable(env_t *env, const char *root)
{
    apr_pool_t *p = env->p;
    const char *dir = apr_pstrcat(p, root, "/late", NULL);
    stories_t s2;
    env_t e2 = *env;
    xmlDocPtr d;

    e2.index = NULL;
    d = run(&e2, &ALICE, &D_DEFAULT, FIND(SENDER("alice@example.org") NOV),
            "no MsgTrackDatabase");
    is_str(d ? xp(p, d, CODE) : NULL, "ErrorMessageTrackingTransientError",
           "no MsgTrackDatabase: transient");
    like(last_warning, "MsgTrackDatabase is not set", "no MsgTrackDatabase: logged");

    ok(!mt_index_create(p, dir, 0, &e2.index), "a handle on a missing index");
    last_warning[0] = '\0';
    d = run(&e2, &ALICE, &D_DEFAULT, FIND(SENDER("alice@example.org") NOV), "index missing");
    is_str(d ? xp(p, d, CODE) : NULL, "ErrorMessageTrackingTransientError",
           "index missing: Find gets a transient error");
    is_str(d ? xp(p, d, TEXT) : NULL, MT_OPS_TRANSIENT_TEXT,
           "index missing: a generic MessageText");
    ok(d && !strstr(xp(p, d, TEXT), root), "index missing: the path is not told to the client");
    like(last_warning, dir, "index missing: the log names the directory");
    like(last_warning, "FindMessageTrackingReport: the index is not available",
         "index missing: the log says what failed");
    d = run(&e2, &ALICE, &D_DEFAULT, with_id(p, SUMMARY(""), story_id(p, env->s, "A")),
            "index missing, get");
    is_str(d ? xp(p, d, CODE) : NULL, "ErrorMessageTrackingTransientError",
           "index missing: Get gets a transient error");
    is_str(d ? xp(p, d, "count(//m:MessageTrackingReport/t:RecipientTrackingEvents)") : NULL,
           "1", "index missing: Get's error response still has its report element");

    ok(build_index(p, dir, &s2) == 0, "the index appears");
    d = run(&e2, &ALICE, &D_DEFAULT, FIND(SENDER("alice@example.org") NOV), "index appeared");
    is_str(d ? xp(p, d, CODE) : NULL, "NoError", "index appeared: answered without a restart");
    is_str(d ? xp(p, d, "count(" RESULTS ")") : NULL, "4", "index appeared: its messages");
}

/* ------------------------------------------------------------------ main */

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    const char *schema_dir = getenv("MSGTRACK_SCHEMA_DIR"), *err;
    char *root;
    stories_t s;
    env_t env;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    xmlInitParser();
    mt_log_set(log_cb, log_enabled, NULL);

    memset(&env, 0, sizeof(env));
    /* Index handles and responses live in a pool of their own, destroyed
     * before the scratch directory is removed. */
    apr_pool_create(&env.p, p);
    env.s = &s;
    env.now = fx_td(21, 12, 0, 0);
    err = mt_schema_set_load(p, schema_dir ? schema_dir : "../schemas", &env.schemas);
    ok(!err, "schemas loaded%s%s", err ? ": " : "", err ? err : "");
    root = tmpdir_make(p, "mt-ops");
    ok(root != NULL, "scratch directory");
    if (err || !root)
        return tap_done();
    ok(build_index(p, apr_pstrcat(p, root, "/db", NULL), &s) == 0, "index built");
    ok(!mt_index_create(p, apr_pstrcat(p, root, "/db", NULL), apr_time_from_sec(1), &env.index),
       "index handle");

    test_find(&env);
    test_find_authz(&env);
    test_get(&env);
    test_get_authz(&env);
    test_round_trip(&env);
    test_unavailable(&env, root);

    apr_pool_destroy(env.p);
    tmpdir_remove(p, root);
    apr_pool_destroy(p);
    xmlCleanupParser();
    apr_terminate();
    return tap_done();
}
