/* test_syslog.c: the syslog prefix parser, mt_syslog_parse() (TAP) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    { "pid beyond a long: the largest", "Jun  3 10:40:57 mail prog[99999999999999999999]: m",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "prog", LONG_MAX, "m" },
    { "pid: the digits before anything else", "Jun  3 10:40:57 mail prog[12x]: m",
      0, REF, 0, "2026-06-03T10:40:57Z", "mail", "prog", 12, "m" },
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

/* @a cache: NULL, or one shared by the cases run through it. */
static void run(apr_pool_t *p, const case_t *c, mt_syslog_cache_t *cache)
{
    mt_syslog_clock_t clock = { c->year, 0, cache };
    mt_syslog_line_t out;
    const char *why = NULL;
    int rc;

    if (c->ref && mt_time_parse_xs(c->ref, &clock.reference) != 0) {
        ok(0, "%s: bad reference in the test", c->name);
        return;
    }
    rc = mt_syslog_parse(p, c->line, &clock, &out, &why);
    if (cache && c->rc == 0 && rc == 0 && out.time != 0) {
        /* the same line again: now the cache holds its hour */
        mt_syslog_line_t again;
        ok(mt_syslog_parse(p, c->line, &clock, &again, &why) == 0 && again.time == out.time,
           "%s: again through the cache", c->name);
    }
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

/* ---- The cache (mt_syslog_cache_t) against the conversion without it. */

static const char *const month_names[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* A day to convert every few minutes of, in each zone: year (0: inferred
 * from ref), month 1-12, day. Daylight saving switches (hours that repeat
 * or do not exist), the turn of the year, leap and impossible days. */
typedef struct {
    const char *name;
    int year;
    const char *ref;
    int mon, day;
} cache_day_t;

static const cache_day_t cache_days[] = {
    { "an ordinary day", 2026, NULL, 6, 3 },
    { "EU DST starts", 2026, NULL, 3, 29 },
    { "EU DST ends", 2026, NULL, 10, 25 },
    { "US DST starts", 2026, NULL, 3, 8 },
    { "US DST ends", 2026, NULL, 11, 1 },
    { "Lord Howe DST starts", 2026, NULL, 10, 4 },
    { "Lord Howe DST ends", 2026, NULL, 4, 5 },
    { "New Year's Eve, --year", 2026, NULL, 12, 31 },
    { "New Year's Day, --year", 2026, NULL, 1, 1 },
    { "Dec 31 read in January", 0, "2027-01-02T00:00:00Z", 12, 31 },
    { "Jan 1 read in January", 0, "2027-01-02T00:00:00Z", 1, 1 },
    { "Jan 2 read on Jan 1 (within a day)", 0, "2027-01-01T12:00:00Z", 1, 2 },
    { "Feb 29, inferred: the leap year before", 0, "2025-01-10T00:00:00Z", 2, 29 },
    { "Feb 29 of a leap year", 2028, NULL, 2, 29 },
    { "Feb 29 of a common year", 2026, NULL, 2, 29 },
    { "Feb 30", 2028, NULL, 2, 30 },
    { "Apr 31", 0, "2026-06-15T12:00:00Z", 4, 31 },
};

static const char *const cache_zones[] = {
    "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"
};

/* Every 7 min 13 s of the day and the first and last second of each hour, parsed
 * without a cache and through one cache: the same outcome and the same
 * time, in repeated and skipped hours too. One TAP line per day and zone. */
static void cache_day(apr_pool_t *p, const cache_day_t *d, const char *zone)
{
    mt_syslog_clock_t plain = { d->year, 0, NULL }, cached;
    int secs, next, lines = 0, diffs = 0;
    char first_diff[160] = "";

    if (d->ref && mt_time_parse_xs(d->ref, &plain.reference) != 0) {
        ok(0, "%s: bad reference in the test", d->name);
        return;
    }
    cached = plain;
    cached.cache = mt_syslog_cache_create(p);
    for (secs = 0; secs < 86400; secs = next) {
        int last = secs / 3600 * 3600 + 3599;   /* hh:59:59 */
        char line[80];
        mt_syslog_line_t a, b;
        const char *why;
        int ra, rb, same;

        next = secs == last ? secs + 1 : secs + 433 > last ? last : secs + 433;
        snprintf(line, sizeof(line), "%s %2d %02d:%02d:%02d mail postfix/smtpd[1]: m",
                 month_names[d->mon - 1], d->day, secs / 3600, secs / 60 % 60, secs % 60);
        ra = mt_syslog_parse(p, line, &plain, &a, &why);
        rb = mt_syslog_parse(p, line, &cached, &b, &why);
        lines++;
        same = ra == rb && (ra != 0 || a.time == b.time);
        if (!same && !diffs++)
            snprintf(first_diff, sizeof(first_diff), "%s: %d %s against %d %s", line, ra,
                     ra ? "-" : mt_time_format_xs(p, a.time), rb,
                     rb ? "-" : mt_time_format_xs(p, b.time));
    }
    ok(diffs == 0, "%s, %s: %d times the same with the cache as without", zone, d->name, lines);
    if (diffs)
        printf("#   %d differ, first %s\n", diffs, first_diff);
}

/* Lines one after the other through one cache, each with its own clock:
 * what the cache holds from one line must not leak into the next. */
typedef struct {
    const char *name;
    int year;
    const char *ref;
    const char *line;
    const char *time;    /* NULL: refused */
} seq_t;

static const seq_t cache_seq[] = {
    { "--year 2026", 2026, NULL, "Jun  3 10:40:57 h p[1]: m", "2026-06-03T10:40:57Z" },
    { "same hour, --year 2034 (same slot)", 2034, NULL, "Jun  3 10:20:00 h p[1]: m",
      "2034-06-03T10:20:00Z" },
    { "same hour, --year 2026 again", 2026, NULL, "Jun  3 10:59:59 h p[1]: m",
      "2026-06-03T10:59:59Z" },
    { "year from a January reference", 0, "2027-01-02T00:00:00Z", "Dec 31 23:00:00 h p[1]: m",
      "2026-12-31T23:00:00Z" },
    { "another reference, another year", 0, "2030-06-15T12:00:00Z", "Dec 31 23:00:00 h p[1]: m",
      "2029-12-31T23:00:00Z" },
    { "the same line, a reference a year later", 0, "2031-06-15T12:00:00Z",
      "Dec 31 23:00:00 h p[1]: m", "2030-12-31T23:00:00Z" },
    { "Feb 29 after Feb 28 of a common year", 2026, NULL, "Feb 28 12:00:00 h p[1]: m",
      "2026-02-28T12:00:00Z" },
    { "Feb 29 of a common year, refused", 2026, NULL, "Feb 29 12:00:00 h p[1]: m", NULL },
    { "Feb 29 of a leap year", 2028, NULL, "Feb 29 12:00:00 h p[1]: m", "2028-02-29T12:00:00Z" },
    { "Feb 29 of a common year again, refused", 2026, NULL, "Feb 29 12:30:00 h p[1]: m", NULL },
    { "with a fraction", 2026, NULL, "Jun 03 10:40:57.25 h p[1]: m",
      "2026-06-03T10:40:57.25Z" },
};

static void run_seq(apr_pool_t *p)
{
    mt_syslog_cache_t *cache = mt_syslog_cache_create(p);
    size_t i;

    for (i = 0; i < sizeof(cache_seq) / sizeof(cache_seq[0]); i++) {
        const seq_t *c = &cache_seq[i];
        mt_syslog_clock_t clock = { c->year, 0, cache };
        mt_syslog_line_t out;
        const char *why;
        int rc;

        if (c->ref && mt_time_parse_xs(c->ref, &clock.reference) != 0) {
            ok(0, "%s: bad reference in the test", c->name);
            continue;
        }
        rc = mt_syslog_parse(p, c->line, &clock, &out, &why);
        if (!c->time)
            is_int(rc, -1, "cache sequence, %s", c->name);
        else
            is_str(rc ? "(refused)" : mt_time_format_xs(p, out.time), c->time,
                   "cache sequence, %s", c->name);
    }
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    size_t i, z;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);

    setenv("TZ", "UTC", 1);
    tzset();
    for (i = 0; i < sizeof(utc_cases) / sizeof(utc_cases[0]); i++)
        run(p, &utc_cases[i], NULL);
    {
        /* the same cases one after the other through one cache */
        mt_syslog_cache_t *cache = mt_syslog_cache_create(p);
        for (i = 0; i < sizeof(utc_cases) / sizeof(utc_cases[0]); i++)
            run(p, &utc_cases[i], cache);
    }

    {
        /* no reference: the current year (a line from "now" minus an hour) */
        mt_syslog_clock_t clock = { 0, 0, NULL };
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
            run(p, &berlin_cases[i], NULL);
        {
            mt_syslog_cache_t *cache = mt_syslog_cache_create(p);
            for (i = 0; i < sizeof(berlin_cases) / sizeof(berlin_cases[0]); i++)
                run(p, &berlin_cases[i], cache);
        }
        setenv("TZ", "UTC", 1);
        tzset();
    }
    else {
        ok(1, "# SKIP no tzdata for Europe/Berlin");
    }

    run_seq(p);
    for (z = 0; z < sizeof(cache_zones) / sizeof(cache_zones[0]); z++) {
        char path[128];
        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", cache_zones[z]);
        if (strcmp(cache_zones[z], "UTC") != 0 && access(path, R_OK) != 0) {
            ok(1, "# SKIP no tzdata for %s", cache_zones[z]);
            continue;
        }
        setenv("TZ", cache_zones[z], 1);
        tzset();
        for (i = 0; i < sizeof(cache_days) / sizeof(cache_days[0]); i++)
            cache_day(p, &cache_days[i], cache_zones[z]);
    }
    setenv("TZ", "UTC", 1);
    tzset();

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
