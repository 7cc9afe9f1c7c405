/* test_syslog.c: the syslog prefix parser, mt_syslog_parse() (TAP) */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "mt_syslog.h"
#include "mt_time.h"

/* year: --year (0: infer); ref: the file's mtime as xs:dateTime (NULL: 0);
 * time: expected UTC as mt_time_format_xs() writes it; NULL strings: NULL. */
typedef struct {
    const char *name;
    const char *line;
    int year;
    const char *ref;
    int rc;
    const char *time;
    const char *host;
    const char *program;
    long pid;
    const char *message;
} case_t;

#define REF "2026-06-15T12:00:00Z"

static const case_t utc_cases[] = {
    /* classic syslog: space-padded day, no year */
    { "classic, space-padded day", "Jun  3 10:40:57 mail postfix/smtpd[1234]: connect from x",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "postfix/smtpd", 1234, "connect from x" },
    { "classic, two-digit day", "Jun 13 10:40:57 mail postfix/qmgr[77]: 4F1A22C0D1E: removed",
      0, REF, 0, "2026-06-13T10:40:57Z", "mail", "postfix/qmgr", 77, "4F1A22C0D1E: removed" },
    /* Postfix maillog_file: zero-padded day, optional fraction */
    { "maillog_file, zero-padded day", "Jun 03 10:40:57 mail postfix/pickup[9]: x: uid=0 from=<r>",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "postfix/pickup", 9, "x: uid=0 from=<r>" },
    { "maillog_file with microseconds", "Jun 03 10:40:57.123456 mail postfix/smtp[9]: m",
      0, REF, 0, "2026-06-03T10:40:57.123456Z", "mail", "postfix/smtp", 9, "m" },
    { "fraction of three digits", "Jun 03 10:40:57.5 mail postfix/smtp[9]: m",
      0, REF, 0, "2026-06-03T10:40:57.5Z", "mail", "postfix/smtp", 9, "m" },
    { "fraction beyond microseconds truncated", "Jun 03 10:40:57.1234567 mail postfix/smtp[9]: m",
      0, REF, 0, "2026-06-03T10:40:57.123456Z", "mail", "postfix/smtp", 9, "m" },
    /* RFC 3339 (rsyslog high precision) */
    { "RFC 3339 with offset", "2026-06-03T10:40:57.123456+02:00 mail postfix/smtpd[1]: m",
      0, NULL, 0, "2026-06-03T08:40:57.123456Z", "mail", "postfix/smtpd", 1, "m" },
    { "RFC 3339 Z", "2026-06-03T10:40:57Z mail postfix/smtpd[1]: m",
      0, NULL, 0, "2026-06-03T10:40:57Z", "mail", "postfix/smtpd", 1, "m" },
    { "RFC 3339 lower-case t and z", "2026-06-03t10:40:57z mail postfix/smtpd[1]: m",
      0, NULL, 0, "2026-06-03T10:40:57Z", "mail", "postfix/smtpd", 1, "m" },
    { "RFC 3339 negative offset across midnight", "2026-06-03T22:00:00-05:00 mx postfix/smtpd[1]: m",
      0, NULL, 0, "2026-06-04T03:00:00Z", "mx", "postfix/smtpd", 1, "m" },
    { "RFC 3339 ignores --year", "2025-06-03T10:40:57Z mail postfix/smtpd[1]: m",
      2030, NULL, 0, "2025-06-03T10:40:57Z", "mail", "postfix/smtpd", 1, "m" },
    /* RFC 5424 */
    { "RFC 5424, no structured data", "<22>1 2026-06-03T10:40:57.123Z mail postfix/smtpd 1234 - - hello",
      0, NULL, 0, "2026-06-03T10:40:57.123Z", "mail", "postfix/smtpd", 1234, "hello" },
    { "RFC 5424 with structured data",
      "<22>1 2026-06-03T10:40:57+02:00 mail postfix/qmgr 5 ID47 [origin ip=\"192.0.2.1\"] 4F1A22C0D1E: removed",
      0, NULL, 0, "2026-06-03T08:40:57Z", "mail", "postfix/qmgr", 5, "4F1A22C0D1E: removed" },
    { "RFC 5424 with two SD elements and escapes",
      "<22>1 2026-06-03T10:40:57Z mail app 5 - [a x=\"q\\\"]\"][b y=\"]\"] msg",
      0, NULL, 0, "2026-06-03T10:40:57Z", "mail", "app", 5, "msg" },
    { "RFC 5424 NILVALUE host, app, procid", "<13>1 2026-06-03T10:40:57Z - - - - - msg",
      0, NULL, 0, "2026-06-03T10:40:57Z", NULL, NULL, -1, "msg" },
    { "RFC 5424 with BOM before MSG", "<13>1 2026-06-03T10:40:57Z h app 7 - - \xEF\xBB\xBFmsg",
      0, NULL, 0, "2026-06-03T10:40:57Z", "h", "app", 7, "msg" },
    { "RFC 5424 without MSG", "<13>1 2026-06-03T10:40:57Z h app 7 - -",
      0, NULL, 0, "2026-06-03T10:40:57Z", "h", "app", 7, "" },
    /* hosts, programs and pids */
    { "no host", "Jun  3 10:40:57 postfix/smtpd[1234]: connect from x",
      0, REF, 0, "2026-06-03T10:40:57Z", NULL, "postfix/smtpd", 1234, "connect from x" },
    { "no pid", "Jun  3 10:40:57 mail postfix/smtpd: hello",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "postfix/smtpd", -1, "hello" },
    { "no host, no pid", "Jun  3 10:40:57 postfix/smtpd: hello",
      0, REF, 0, "2026-06-03T10:40:57Z", NULL, "postfix/smtpd", -1, "hello" },
    { "multi-part program", "Jun  3 10:40:57 mail postfix/submission/smtpd[42]: x",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "postfix/submission/smtpd", 42, "x" },
    { "multi-instance program", "Jun  3 10:40:57 mail postfix-in/smtpd[42]: x",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "postfix-in/smtpd", 42, "x" },
    { "IPv4 address as host", "Jun  3 10:40:57 192.0.2.7 postfix/smtpd[42]: x",
      0, REF, 0, "2026-06-03T10:40:57Z", "192.0.2.7", "postfix/smtpd", 42, "x" },
    { "message with colons", "Jun  3 10:40:57 mail postfix/smtp[1]: A1B2C3D4E5: to=<a@b>, x: y",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "postfix/smtp", 1, "A1B2C3D4E5: to=<a@b>, x: y" },
    { "empty message", "Jun  3 10:40:57 mail prog[1]:",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "prog", 1, "" },
    { "non-numeric bracket is not a pid", "Jun  3 10:40:57 mail prog[x]: m",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "prog[x]", -1, "m" },
    { "syslog via dovecot", "Jun  3 10:40:57 mail dovecot: lmtp(bob@example.org)<1><s>: Info: x",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "dovecot", -1, "lmtp(bob@example.org)<1><s>: Info: x" },
    /* Dovecot's own log file: no host, the tag is what precedes ": " */
    { "Dovecot host-less", "Jun 03 10:40:57 lmtp(bob@example.org)<123><AbCdEf>: Info: msgid=<a@b>: saved mail to INBOX",
      0, REF, 0, "2026-06-03T10:40:57Z", NULL, "lmtp(bob@example.org)<123><AbCdEf>", -1,
      "Info: msgid=<a@b>: saved mail to INBOX" },
    { "Dovecot host-less, imap", "Jun 03 10:40:57 imap(alice)<9><xyz>: Info: expunge: box=INBOX",
      0, REF, 0, "2026-06-03T10:40:57Z", NULL, "imap(alice)<9><xyz>", -1, "Info: expunge: box=INBOX" },
    { "Dovecot master, host-less", "Jun 03 10:40:57 master: Info: Dovecot v2.3 starting up",
      0, REF, 0, "2026-06-03T10:40:57Z", NULL, "master", -1, "Info: Dovecot v2.3 starting up" },
    /* year inference: lines are not from after the reference (by more than a day) */
    { "Dec line read in January: previous year", "Dec 31 23:59:59 mail p[1]: m",
      0, "2026-01-02T00:00:00Z", 0, "2025-12-31T23:59:59Z", "mail", "p", 1, "m" },
    { "Jan line read in January: this year", "Jan  1 00:00:01 mail p[1]: m",
      0, "2026-01-02T00:00:00Z", 0, "2026-01-01T00:00:01Z", "mail", "p", 1, "m" },
    { "less than a day after the reference: this year", "Jun 16 10:00:00 mail p[1]: m",
      0, REF, 0, "2026-06-16T10:00:00Z", "mail", "p", 1, "m" },
    { "more than a day after the reference: last year", "Jun 17 10:00:00 mail p[1]: m",
      0, REF, 0, "2025-06-17T10:00:00Z", "mail", "p", 1, "m" },
    { "Feb 29 read in a common year: the leap year before", "Feb 29 12:00:00 mail p[1]: m",
      0, "2025-01-10T00:00:00Z", 0, "2024-02-29T12:00:00Z", "mail", "p", 1, "m" },
    { "--year wins", "Dec 31 23:59:59 mail p[1]: m",
      2020, "2026-01-02T00:00:00Z", 0, "2020-12-31T23:59:59Z", "mail", "p", 1, "m" },
    { "--year, Feb 29 of a leap year", "Feb 29 12:00:00 mail p[1]: m",
      2024, NULL, 0, "2024-02-29T12:00:00Z", "mail", "p", 1, "m" },
    { "leap second kept in order", "Jun 30 23:59:60 mail p[1]: m",
      2026, NULL, 0, "2026-06-30T23:59:59Z", "mail", "p", 1, "m" },
    /* malformed */
    { "--year, Feb 29 of a common year", "Feb 29 12:00:00 mail p[1]: m", 2023, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "Feb 30", "Feb 30 12:00:00 mail p[1]: m", 2024, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "empty line", "", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "no timestamp", "mail postfix/smtpd[1]: connect from x", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "unknown month", "Jux  3 10:40:57 mail p[1]: m", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "month in lower case", "jun  3 10:40:57 mail p[1]: m", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "day 32", "Jun 32 10:40:57 mail p[1]: m", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "day 0", "Jun 00 10:40:57 mail p[1]: m", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "hour 24", "Jun  3 24:40:57 mail p[1]: m", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "minute 60", "Jun  3 10:60:57 mail p[1]: m", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "time without seconds", "Jun  3 10:40 mail p[1]: m", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "timestamp only", "Jun  3 10:40:57", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "timestamp and one word", "Jun  3 10:40:57 mail", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "no program tag", "Jun  3 10:40:57 mail just some words", 2026, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "bad RFC 3339", "2026-06-03X10:40:57Z mail p[1]: m", 0, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "RFC 3339 month 13", "2026-13-03T10:40:57Z mail p[1]: m", 0, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "RFC 5424 version 2", "<13>2 2026-06-03T10:40:57Z h app 7 - - m", 0, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "RFC 5424 NILVALUE timestamp", "<13>1 - h app 7 - - m", 0, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "RFC 5424 truncated header", "<13>1 2026-06-03T10:40:57Z h app", 0, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "RFC 5424 unterminated SD", "<13>1 2026-06-03T10:40:57Z h app 7 - [a x=\"]", 0, NULL, -1, NULL, NULL, NULL, -1, NULL },
    { "RFC 5424 without '>'", "<13 1 2026-06-03T10:40:57Z h app 7 - - m", 0, NULL, -1, NULL, NULL, NULL, -1, NULL },
};

/* Europe/Berlin: CET (+01:00) in winter, CEST (+02:00) in summer */
static const case_t berlin_cases[] = {
    { "Berlin summer", "Jun  3 10:40:57 mail p[1]: m", 2026, NULL, 0, "2026-06-03T08:40:57Z", "mail", "p", 1, "m" },
    { "Berlin winter", "Jan 15 10:00:00 mail p[1]: m", 2026, NULL, 0, "2026-01-15T09:00:00Z", "mail", "p", 1, "m" },
    { "Berlin, the day DST ends (after)", "Oct 25 12:00:00 mail p[1]: m", 2026, NULL, 0, "2026-10-25T11:00:00Z",
      "mail", "p", 1, "m" },
    /* 2025-12-31T23:30Z is already 2026-01-01 in Berlin: the year is Berlin's */
    { "Berlin, year from the local reference", "Jan  1 00:10:00 mail p[1]: m", 0, "2025-12-31T23:30:00Z", 0,
      "2025-12-31T23:10:00Z", "mail", "p", 1, "m" },
    { "Berlin, RFC 3339 keeps its offset", "2026-06-03T10:40:57Z mail p[1]: m", 0, NULL, 0,
      "2026-06-03T10:40:57Z", "mail", "p", 1, "m" },
    { "Berlin, maillog_file fraction", "Jun 03 10:40:57.25 mail p[1]: m", 2026, NULL, 0,
      "2026-06-03T08:40:57.25Z", "mail", "p", 1, "m" },
};

static void run(apr_pool_t *p, const case_t *c)
{
    mt_syslog_clock_t clock = { c->year, 0 };
    mt_syslog_line_t out;
    const char *why = NULL;
    int rc;

    if (c->ref && mt_time_parse_xs(c->ref, &clock.reference) != 0) {
        ok(0, "%s: bad reference in the test", c->name);
        return;
    }
    rc = mt_syslog_parse(p, c->line, &clock, &out, &why);
    if (c->rc != 0) {
        is_int(rc, -1, "%s: refused", c->name);
        ok(why && *why, "%s: with a reason (%s)", c->name, why ? why : "none");
        return;
    }
    is_int(rc, 0, "%s: parses", c->name);
    if (rc != 0) {
        printf("#   why: %s\n", why ? why : "(null)");
        return;
    }
    is_str(mt_time_format_xs(p, out.time), c->time, "%s: time", c->name);
    is_str(out.host, c->host, "%s: host", c->name);
    is_str(out.program, c->program, "%s: program", c->name);
    is_int(out.pid, c->pid, "%s: pid", c->name);
    is_str(out.message, c->message, "%s: message", c->name);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    size_t i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);

    setenv("TZ", "UTC", 1);
    tzset();
    for (i = 0; i < sizeof(utc_cases) / sizeof(utc_cases[0]); i++)
        run(p, &utc_cases[i]);

    {
        /* no reference: the current year (a line from "now" minus an hour) */
        mt_syslog_clock_t clock = { 0, 0 };
        mt_syslog_line_t out;
        const char *why;
        char line[64];
        time_t now = time(NULL) - 3600;
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(line, sizeof(line), "%b %d %H:%M:%S h p[1]: m", &tm);
        ok(mt_syslog_parse(p, line, &clock, &out, &why) == 0
           && apr_time_sec(out.time) == (apr_time_t)now, "no reference: the current time places it");
        ok(mt_syslog_parse(p, line, NULL, &out, &why) == 0
           && apr_time_sec(out.time) == (apr_time_t)now, "NULL clock: the current time places it");
    }

    if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) == 0) {
        setenv("TZ", "Europe/Berlin", 1);
        tzset();
        for (i = 0; i < sizeof(berlin_cases) / sizeof(berlin_cases[0]); i++)
            run(p, &berlin_cases[i]);
        setenv("TZ", "UTC", 1);
        tzset();
    }
    else {
        ok(1, "# SKIP no tzdata for Europe/Berlin");
    }

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
