/* t/bin/gsoap_client.c: interoperability check with a gSOAP client.
 *
 * Not built by the project: t/gsoap.t fetches the WSDL from the running
 * server (wsdl2h -c), generates the C bindings (soapcpp2 -c), and compiles
 * this file against them and gSOAP's runtime, in a temporary directory.
 * The generated names come from gSOAP's typemap.dat, which binds the EWS
 * namespaces to the prefixes ewsmsg (messages) and ewstype (types);
 * xs:dateTime is a struct timeval (gSOAP's custom/struct_timeval.h), so
 * fractions of seconds survive.
 *
 * usage: gsoap_client [--endpoint URL] [--ca FILE] [--save DIR]
 *                     USER PASSWORD track
 *        gsoap_client [options] USER PASSWORD get ID [RECIPIENT]
 *
 *   track   what t/bin/zeep_client.py does: FindMessageTrackingReport for
 *           November 2026 (USER's own messages when USER is alice, else the
 *           messages alice sent to USER), GetMessageTrackingReport Summary
 *           for "Q3 results, final figures" with the report id gSOAP parsed
 *           out of Find, RecipientPath for bob and for erin (to whom it was
 *           not sent), and a Get with a report id that does not parse.
 *   get     one Summary (or, with RECIPIENT, RecipientPath) for report ID.
 *
 * Without --endpoint the calls go to the address the WSDL gave (the
 * generated default); --ca verifies an https endpoint against that CA;
 * --save copies each response, as gSOAP read it from the connection (HTTP
 * head and body, after TLS), to DIR/NAME.http.
 * With MSGTRACK_MARKER in the environment every request carries it in an
 * X-MsgTrack-Marker header (see t/conf/extra.conf.in).
 *
 * Prints one `key: value` line per fact, from the structures gSOAP
 * deserialized (in strict mode: SOAP_XML_STRICT), for t/gsoap.t to assert
 * on. Exit status 0 when every call got a response (whatever the server
 * answered), 1 when one failed (the gSOAP error is printed), 2 on usage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include "soapH.h"
#include "ExchangeServiceBinding.nsmap"

#define SUBJECT "Q3 results, final figures"

/* ------------------------------------------------------------------ state */

struct client {
    struct soap *soap;
    const char *endpoint;       /* NULL: the WSDL's address */
    const char *save_dir;
    const char *user, *password;
    const char *extra_header;   /* X-MsgTrack-Marker, or NULL */
    const char *name;           /* of the call in progress: key prefix, file name */
    FILE *saved;
    char posted_to[1024];
    int (*fpost)(struct soap *, const char *, const char *, int, const char *, const char *,
                 ULONG64);
    size_t (*frecv)(struct soap *, char *, size_t);
};

static struct client C;

/* ------------------------------------------------------------------ output */

static void show(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void show(const char *key, const char *fmt, ...)
{
    va_list ap;
    printf("%s.%s: ", C.name, key);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* A list printed as one value: items joined by a separator. */
struct join {
    char buf[8192];
    size_t len;
    const char *sep;
    int n;
};

static void join_init(struct join *j, const char *sep)
{
    j->buf[0] = '\0';
    j->len = 0;
    j->sep = sep;
    j->n = 0;
}

static void join_add(struct join *j, const char *s)
{
    int w = snprintf(j->buf + j->len, sizeof j->buf - j->len, "%s%s",
                     j->n++ ? j->sep : "", s ? s : "-");
    if (w > 0)
        j->len += (size_t)w < sizeof j->buf - j->len ? (size_t)w : sizeof j->buf - j->len - 1;
}

/* xs:dateTime as Python's datetime.isoformat() writes an aware UTC time
 * (what t/bin/zeep_client.py prints): microseconds only when not zero. */
static const char *when(const struct timeval *tv, char *buf, size_t size)
{
    struct tm tm;
    time_t t;
    size_t n;

    if (!tv)
        return "-";
    t = tv->tv_sec;
    if (!gmtime_r(&t, &tm))
        return "?";
    n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (tv->tv_usec)
        n += (size_t)snprintf(buf + n, size - n, ".%06ld", (long)tv->tv_usec);
    snprintf(buf + n, size - n, "+00:00");
    return buf;
}

static const char *address(const struct ewstype__EmailAddressType *a)
{
    return a && a->EmailAddress ? a->EmailAddress : "-";
}

static const char *boolean(const enum xsd__boolean *b)
{
    return !b ? "-" : *b == xsd__boolean__true_ ? "true" : "false";
}

/* ------------------------------------------------------------------ transport hooks */

/* Remembers where the request went: the generated default is the WSDL's
 * soap:address. */
static int post(struct soap *soap, const char *endpoint, const char *host, int port,
                const char *path, const char *action, ULONG64 count)
{
    snprintf(C.posted_to, sizeof C.posted_to, "%s", endpoint ? endpoint : "-");
    return C.fpost(soap, endpoint, host, port, path, action, count);
}

/* Copies what gSOAP reads from the connection (after TLS): the response as
 * it came, HTTP head and (chunked) body, for t/gsoap.t to validate. */
static size_t recv_tee(struct soap *soap, char *buf, size_t len)
{
    size_t n = C.frecv(soap, buf, len);
    if (C.saved && n && fwrite(buf, 1, n, C.saved) != n) {
        fclose(C.saved);
        C.saved = NULL;
    }
    return n;
}

/* Before each call: the credentials and the extra HTTP header (gSOAP
 * forgets both after each call), a fresh RequestServerVersion header (gSOAP
 * replaces soap->header with the response's), the file to save the response
 * to. */
static void begin(const char *name)
{
    struct SOAP_ENV__Header *h = soap_malloc(C.soap, sizeof *h);
    struct _ewstype__RequestServerVersion *v = soap_malloc(C.soap, sizeof *v);

    soap_default_SOAP_ENV__Header(C.soap, h);
    soap_default__ewstype__RequestServerVersion(C.soap, v);
    v->Version = ewstype__ExchangeVersionType__Exchange2010_USCORESP1;
    h->ewstype__RequestServerVersion = v;
    C.soap->header = h;
    C.soap->userid = C.user;
    C.soap->passwd = C.password;
    C.soap->http_extra_header = C.extra_header;

    C.name = name;
    C.posted_to[0] = '\0';
    if (C.saved)
        fclose(C.saved);
    C.saved = NULL;
    if (C.save_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.http", C.save_dir, name);
        if (!(C.saved = fopen(path, "wb"))) {
            perror(path);
            exit(1);
        }
    }
}

/* After each call: the HTTP facts, the header, or the failure. */
static int end(int rc)
{
    if (C.saved) {
        fclose(C.saved);
        C.saved = NULL;
    }
    show("address", "%s", C.posted_to);
    show("http_status", "%d", C.soap->status);
    if (rc != SOAP_OK) {
        const char *code = *soap_faultcode(C.soap), *s = *soap_faultstring(C.soap);
        show("error", "%d %s: %s", C.soap->error, code ? code : "-", s ? s : "-");
        fflush(stdout);
        soap_print_fault(C.soap, stderr);
        return -1;
    }
    if (C.soap->header && C.soap->header->ewstype__ServerVersionInfo)
        show("ServerVersion", "%s", C.soap->header->ewstype__ServerVersionInfo->Version
                                    ? C.soap->header->ewstype__ServerVersionInfo->Version : "-");
    else
        show("ServerVersion", "-");
    return 0;
}

#define STATUS(resp, seqname) do { \
        show("ResponseClass", "%s", soap_ewstype__ResponseClassType2s(C.soap, (resp)->ResponseClass)); \
        show("ResponseCode", "%s", (resp)->seqname && (resp)->seqname->ResponseCode \
             ? soap_ewsmsg__ResponseCodeType2s(C.soap, *(resp)->seqname->ResponseCode) : "-"); \
        show("MessageText", "%s", (resp)->seqname && (resp)->seqname->MessageText \
             ? (resp)->seqname->MessageText : "-"); \
    } while (0)

/* ------------------------------------------------------------------ the operations */

static struct ewstype__EmailAddressType *mailbox(const char *addr)
{
    struct ewstype__EmailAddressType *a = soap_malloc(C.soap, sizeof *a);
    soap_default_ewstype__EmailAddressType(C.soap, a);
    a->EmailAddress = soap_strdup(C.soap, addr);
    return a;
}

static struct timeval *utc(int year, int month, int day)
{
    struct timeval *tv = soap_malloc(C.soap, sizeof *tv);
    struct tm tm = { 0 };
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tv->tv_sec = timegm(&tm);
    tv->tv_usec = 0;
    return tv;
}

/* FindMessageTrackingReport; returns the report id of SUBJECT or NULL. */
static char *find(const char *me)
{
    struct ewsmsg__FindMessageTrackingReportRequestType req;
    struct __ewsmsg__FindMessageTrackingReportResponse out;
    struct ewsmsg__FindMessageTrackingReportResponseMessageType *resp;
    struct ewstype__ArrayOfFindMessageTrackingSearchResultType *list;
    struct ewstype__FindMessageTrackingSearchResultType *target = NULL;
    struct join subjects, times;
    char buf[64], key[64];
    int i, j, n = 0;

    soap_default_ewsmsg__FindMessageTrackingReportRequestType(C.soap, &req);
    req.Scope = "Organization";
    req.Domain = "example.org";
    if (!strcmp(C.user, "alice")) {
        req.Sender = mailbox(me);
    }
    else {
        req.Sender = mailbox("alice@example.org");
        req.Recipient = mailbox(me);
    }
    req.StartDateTime = utc(2026, 11, 1);
    req.EndDateTime = utc(2026, 12, 1);

    begin("find");
    if (end(soap_call___ewsmsg__FindMessageTrackingReport(C.soap, C.endpoint, NULL, &req, &out)))
        exit(1);
    resp = out.ewsmsg__FindMessageTrackingReportResponse;
    STATUS(resp, __FindMessageTrackingReportResponseMessageType_sequence);
    show("ExecutedSearchScope", "%s", resp->ExecutedSearchScope ? resp->ExecutedSearchScope : "-");

    join_init(&subjects, " | ");
    join_init(&times, " ");
    list = resp->MessageTrackingSearchResults;
    if (list)
        n = list->__size_ArrayOfFindMessageTrackingSearchResultType;
    for (i = 0; i < n; i++) {
        struct ewstype__FindMessageTrackingSearchResultType *r =
            list->__union_ArrayOfFindMessageTrackingSearchResultType[i]
                .union_ArrayOfFindMessageTrackingSearchResultType.MessageTrackingSearchResult;
        struct join rcpts;

        join_add(&subjects, r->Subject);
        join_add(&times, when(&r->SubmittedTime, buf, sizeof buf));
        join_init(&rcpts, ",");
        for (j = 0; r->Recipients && j < r->Recipients->__size_ArrayOfRecipientsType; j++)
            join_add(&rcpts, address(r->Recipients->__union_ArrayOfRecipientsType[j]
                                     .union_ArrayOfRecipientsType.Mailbox));
        snprintf(key, sizeof key, "result.%d.subject", i);
        show(key, "%s", r->Subject);
        snprintf(key, sizeof key, "result.%d.recipients", i);
        show(key, "%s", rcpts.buf);
        snprintf(key, sizeof key, "result.%d.id", i);
        show(key, "%s", r->MessageTrackingReportId);
        if (!target && r->Subject && !strcmp(r->Subject, SUBJECT)) {
            target = r;
            show("target.recipients", "%s", rcpts.buf);
        }
    }
    show("count", "%d", n);
    show("subjects", "%s", subjects.buf);
    show("times", "%s", times.buf);
    if (!target) {
        show("target", "missing");
        return NULL;
    }
    show("target.sender", "%s", address(target->Sender));
    show("target.id", "%s", target->MessageTrackingReportId);
    show("target.PreviousHopServer", "%s", target->PreviousHopServer ? target->PreviousHopServer : "-");
    show("target.FirstHopServer", "%s", target->FirstHopServer ? target->FirstHopServer : "-");
    return soap_strdup(C.soap, target->MessageTrackingReportId);
}

/* GetMessageTrackingReport: Summary, or RecipientPath for `recipient`. */
static void get(const char *name, const char *id, const char *recipient)
{
    struct ewsmsg__GetMessageTrackingReportRequestType req;
    struct __ewsmsg__GetMessageTrackingReportResponse out;
    struct ewsmsg__GetMessageTrackingReportResponseMessageType *resp;
    struct ewstype__MessageTrackingReportType *rep;
    struct join orig, rcpts, statuses, descriptions, servers, dates, bcc, ids, paths;
    char buf[64];
    int i, n = 0;

    soap_default_ewsmsg__GetMessageTrackingReportRequestType(C.soap, &req);
    req.Scope = "Organization";
    req.MessageTrackingReportId = (char *)id;
    if (recipient) {
        req.ReportTemplate = ewstype__MessageTrackingReportTemplateType__RecipientPath;
        req.RecipientFilter = mailbox(recipient);
    }
    else {
        req.ReportTemplate = ewstype__MessageTrackingReportTemplateType__Summary;
    }

    begin(name);
    if (end(soap_call___ewsmsg__GetMessageTrackingReport(C.soap, C.endpoint, NULL, &req, &out)))
        exit(1);
    resp = out.ewsmsg__GetMessageTrackingReportResponse;
    STATUS(resp, __GetMessageTrackingReportResponseMessageType_sequence);
    rep = resp->MessageTrackingReport;
    show("Sender", "%s", rep->Sender ? address(rep->Sender) : "-");
    show("Subject", "%s", rep->Subject ? rep->Subject : "-");
    show("SubmitTime", "%s", when(rep->SubmitTime, buf, sizeof buf));
    join_init(&orig, ",");
    for (i = 0; rep->OriginalRecipients && i < rep->OriginalRecipients->__sizeAddress; i++)
        join_add(&orig, address(&rep->OriginalRecipients->Address[i]));
    show("OriginalRecipients", "%s", rep->OriginalRecipients ? orig.buf : "-");

    join_init(&rcpts, ",");
    join_init(&statuses, ",");
    join_init(&descriptions, ",");
    join_init(&servers, ",");
    join_init(&dates, " ");
    join_init(&bcc, ",");
    join_init(&ids, ",");
    join_init(&paths, ",");
    if (rep->RecipientTrackingEvents)
        n = rep->RecipientTrackingEvents->__size_ArrayOfRecipientTrackingEventType;
    for (i = 0; i < n; i++) {
        struct ewstype__RecipientTrackingEventType *e =
            rep->RecipientTrackingEvents->__union_ArrayOfRecipientTrackingEventType[i]
                .union_ArrayOfRecipientTrackingEventType.RecipientTrackingEvent;
        join_add(&rcpts, address(e->Recipient));
        join_add(&statuses, e->DeliveryStatus);
        join_add(&descriptions, e->EventDescription);
        join_add(&servers, e->Server);
        join_add(&dates, when(&e->Date, buf, sizeof buf));
        join_add(&bcc, boolean(e->BccRecipient));
        join_add(&ids, e->InternalId);
        join_add(&paths, e->UniquePathId);
    }
    show("events", "%d", n);
    show("recipients", "%s", rcpts.buf);
    show("statuses", "%s", statuses.buf);
    show("descriptions", "%s", descriptions.buf);
    show("servers", "%s", servers.buf);
    show("dates", "%s", dates.buf);
    show("bcc", "%s", bcc.buf);
    show("internal_ids", "%s", ids.buf);
    show("paths", "%s", paths.buf);
}

/* ------------------------------------------------------------------ main */

static int usage(void)
{
    fprintf(stderr, "usage: gsoap_client [--endpoint URL] [--ca FILE] [--save DIR] "
                    "USER PASSWORD track|get ID [RECIPIENT]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *ca = NULL, *cmd, *marker;
    char me[256], header[512];
    int i;

    for (i = 1; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
        if (!strcmp(argv[i], "--endpoint"))
            C.endpoint = argv[i + 1];
        else if (!strcmp(argv[i], "--ca"))
            ca = argv[i + 1];
        else if (!strcmp(argv[i], "--save"))
            C.save_dir = argv[i + 1];
        else
            return usage();
    }
    if (argc - i < 3)
        return usage();
    /* gSOAP reads an xs:dateTime without a zone as local time; the
     * protocol's "no time", 0001-01-01T00:00:00, has none. */
    setenv("TZ", "UTC0", 1);
    tzset();
    C.user = argv[i];
    C.password = argv[i + 1];
    cmd = argv[i + 2];
    if (!(!strcmp(cmd, "track") && argc - i == 3)
        && !(!strcmp(cmd, "get") && (argc - i == 4 || argc - i == 5)))
        return usage();
    snprintf(me, sizeof me, "%s@example.org", C.user);

    /* Strict: gSOAP validates what it reads against the generated bindings
     * (required elements, enumerations, occurrences). UTF-8 strings. */
    C.soap = soap_new1(SOAP_XML_STRICT | SOAP_C_UTFSTRING);
    if (!C.soap)
        return 1;
    soap_set_namespaces(C.soap, namespaces);
    C.soap->connect_timeout = 30;
    C.soap->recv_timeout = 30;
    C.soap->send_timeout = 30;
    if ((marker = getenv("MSGTRACK_MARKER")) && *marker) {
        snprintf(header, sizeof header, "X-MsgTrack-Marker: %s", marker);
        C.extra_header = header;
    }
    if (ca) {
        soap_ssl_init();
        if (soap_ssl_client_context(C.soap, SOAP_SSL_DEFAULT, NULL, NULL, ca, NULL, NULL)) {
            soap_print_fault(C.soap, stderr);
            return 1;
        }
    }
    C.fpost = C.soap->fpost;
    C.soap->fpost = post;
    C.frecv = C.soap->frecv;
    C.soap->frecv = recv_tee;

    if (!strcmp(cmd, "track")) {
        char *id = find(me);
        if (id) {
            get("get", id, NULL);
            get("path", id, "bob@example.org");
            get("empty", id, "erin@example.org");
        }
        get("bad", "this is not a report id", NULL);
    }
    else {
        get("get", argv[i + 3], argc - i == 5 ? argv[i + 4] : NULL);
    }

    soap_destroy(C.soap);
    soap_end(C.soap);
    soap_free(C.soap);
    return 0;
}
