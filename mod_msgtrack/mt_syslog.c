/* mt_syslog.c: timestamp, host and program of syslog-style lines */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "mt_syslog.h"
#include "mt_time.h"

static const char *const months[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* The month (0-11) named by the three letters at @a s, or 12. */
static int month_of(const char *s)
{
    int mon;
    for (mon = 0; mon < 12; mon++)
        if (s[0] == months[mon][0] && s[1] == months[mon][1] && s[2] == months[mon][2])
            break;
    return mon;
}

static int two_digits(const char *s, int *v)
{
    if (!apr_isdigit(s[0]) || !apr_isdigit(s[1]))
        return -1;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* mktime() of a local wall-clock time (the process's TZ); @a tm is left
 * normalised, as mktime() leaves it. */
static time_t mk_local(struct tm *tm, int year, int mon, int day, int h, int m, int s)
{
    memset(tm, 0, sizeof(*tm));
    tm->tm_year = year - 1900;
    tm->tm_mon = mon;
    tm->tm_mday = day;
    tm->tm_hour = h;
    tm->tm_min = m;
    tm->tm_sec = s;
    tm->tm_isdst = -1;
    return mktime(tm);
}

/* Local wall-clock time to UTC microseconds (the process's TZ). */
static int local_to_utc(int year, int mon, int day, int h, int m, int s, long usec,
                        apr_time_t *out)
{
    struct tm tm;
    time_t t = mk_local(&tm, year, mon, day, h, m, s);

    if (t == (time_t)-1 && !(year == 1969 || year == 1970))
        return -1;
    if (tm.tm_mday != day || tm.tm_mon != mon)   /* Feb 30 and the like */
        return -1;
    *out = (apr_time_t)t * APR_USEC_PER_SEC + usec;
    return 0;
}

/* ------------------------------------------------------------------ cache */

/* A local hour (year 0: an empty slot) and what it converts to. */
typedef struct {
    int year, mon, day, hour;
    int uniform;        /* 1: hh:mm:ss is base + mm * 60 + ss; 0: mktime() each time */
    time_t base;        /* hh:00:00 */
} hour_t;

#define CACHE_HOURS 8
/* An hour is uniform when the UTC offset is the same from this long before
 * it to this long after it: no local time in it repeats or is skipped (no
 * zone has moved its clocks by as much as three hours at once). */
#define UNIFORM_MARGIN (3 * 3600)

struct mt_syslog_cache_t {
    hour_t hours[CACHE_HOURS];
    apr_time_t ref;     /* the reference whose local year is ref_year */
    int ref_year;       /* 0: not worked out yet */
};

mt_syslog_cache_t *mt_syslog_cache_create(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(mt_syslog_cache_t));
}

/* The UTC offset, in seconds, of local time at @a t; *ok = 0 when unknown. */
static long utc_offset(time_t t, int *ok)
{
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        *ok = 0;
        return 0;
    }
    return (long)(mt_time_days_from_civil(tm.tm_year + 1900L, (unsigned)tm.tm_mon + 1,
                                          (unsigned)tm.tm_mday) * 86400
                  + tm.tm_hour * 3600L + tm.tm_min * 60L + tm.tm_sec - (long)t);
}

/* mktime() of a local time; 1 when the result is exactly that local time. */
static int mk_exact(int year, int mon, int day, int h, int m, int s, time_t *t)
{
    struct tm tm;

    *t = mk_local(&tm, year, mon, day, h, m, s);
    return *t != (time_t)-1 && tm.tm_year == year - 1900 && tm.tm_mon == mon
           && tm.tm_mday == day && tm.tm_hour == h && tm.tm_min == m && tm.tm_sec == s;
}

static void hour_fill(hour_t *e, int year, int mon, int day, int h)
{
    time_t t0, t1;
    long off;
    int ok = 1;

    e->year = year;
    e->mon = mon;
    e->day = day;
    e->hour = h;
    e->uniform = 0;
    if (!mk_exact(year, mon, day, h, 0, 0, &t0) || !mk_exact(year, mon, day, h, 59, 59, &t1)
        || t1 - t0 != 3599)
        return;
    off = utc_offset(t0, &ok);
    if (ok && utc_offset(t0 - UNIFORM_MARGIN, &ok) == off
        && utc_offset(t1 + UNIFORM_MARGIN, &ok) == off && ok) {
        e->uniform = 1;
        e->base = t0;
    }
}

/* local_to_utc() through @a cache (may be NULL). */
static int convert(mt_syslog_cache_t *cache, int year, int mon, int day, int h, int m, int s,
                   long usec, apr_time_t *out)
{
    hour_t *e;

    if (!cache)
        return local_to_utc(year, mon, day, h, m, s, usec, out);
    e = &cache->hours[(unsigned)(year + mon + day + h) % CACHE_HOURS];
    if (e->year != year || e->mon != mon || e->day != day || e->hour != h)
        hour_fill(e, year, mon, day, h);
    if (!e->uniform)
        return local_to_utc(year, mon, day, h, m, s, usec, out);
    *out = ((apr_time_t)e->base + m * 60 + s) * APR_USEC_PER_SEC + usec;
    return 0;
}

static int reference_year(const mt_syslog_clock_t *clock, apr_time_t *ref)
{
    mt_syslog_cache_t *cache = clock ? clock->cache : NULL;
    struct tm tm;
    time_t t;

    *ref = clock && clock->reference ? clock->reference : apr_time_now();
    /* Without a reference the current time is one, and it moves. */
    if (cache && clock->reference && cache->ref_year && cache->ref == *ref)
        return cache->ref_year;
    t = (time_t)apr_time_sec(*ref);
    localtime_r(&t, &tm);
    if (cache && clock->reference) {
        cache->ref = *ref;
        cache->ref_year = tm.tm_year + 1900;
    }
    return tm.tm_year + 1900;
}

/* "Mmm dd hh:mm:ss[.ffffff] " with dd space- or zero-padded. */
static const char *classic_time(const char *s, const mt_syslog_clock_t *clock, apr_time_t *out)
{
    mt_syslog_cache_t *cache = clock ? clock->cache : NULL;
    int mon, day, h, m, sec, year, i;
    long usec = 0;
    apr_time_t ref;

    mon = month_of(s);
    if (mon == 12 || s[3] != ' ')
        return NULL;
    s += 4;
    if (s[0] == ' ' && apr_isdigit(s[1]))
        day = s[1] - '0';
    else if (two_digits(s, &day) != 0)
        return NULL;
    s += 2;
    if (*s++ != ' ' || two_digits(s, &h) || s[2] != ':' || two_digits(s + 3, &m) || s[5] != ':'
        || two_digits(s + 6, &sec))
        return NULL;
    s += 8;
    if (*s == '.') {
        s++;
        for (i = 0; apr_isdigit(*s); s++, i++)
            if (i < 6)
                usec = usec * 10 + (*s - '0');
        for (; i < 6; i++)
            usec *= 10;
    }
    if (*s != ' ' || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60)
        return NULL;
    if (sec == 60)
        sec = 59;   /* a leap second: keep order, lose nothing that matters */

    if (clock && clock->year > 0) {
        if (convert(cache, clock->year, mon, day, h, m, sec, usec, out) != 0)
            return NULL;
        return s + 1;
    }
    year = reference_year(clock, &ref);
    /* Feb 29 read in a common year is from the leap year before */
    if (convert(cache, year, mon, day, h, m, sec, usec, out) != 0
        && convert(cache, --year, mon, day, h, m, sec, usec, out) != 0)
        return NULL;
    /* Not from the future: a December line read from a file last written in
     * January belongs to the year before. */
    if (*out > ref + (apr_time_t)86400 * APR_USEC_PER_SEC
        && convert(cache, year - 1, mon, day, h, m, sec, usec, out) != 0)
        return NULL;
    return s + 1;
}

/* An RFC 3339 timestamp token ending at a space. */
static const char *iso_time(apr_pool_t *p, const char *s, apr_time_t *out)
{
    const char *sp = strchr(s, ' ');
    char *tok;
    apr_size_t i, n;

    if (!sp || sp - s < 19 || !apr_isdigit(s[0]) || s[4] != '-')
        return NULL;
    n = (apr_size_t)(sp - s);
    tok = apr_pstrmemdup(p, s, n);
    for (i = 0; i < n; i++) {           /* RFC 3339 allows lower case */
        if (tok[i] == 't')
            tok[i] = 'T';
        else if (tok[i] == 'z')
            tok[i] = 'Z';
    }
    if (mt_time_parse_xs(tok, out) != 0)
        return NULL;
    return sp + 1;
}

static const char *word(apr_pool_t *p, const char **s)
{
    const char *b = *s, *e = strchr(b, ' ');
    if (!e)
        return NULL;
    *s = e + 1;
    return apr_pstrmemdup(p, b, (apr_size_t)(e - b));
}

/* The decimal number at @a s (digits), as strtol() reads it: LONG_MAX when
 * it is larger. */
static long decimal(const char *s)
{
    long v = 0;
    for (; apr_isdigit(*s); s++) {
        if (v > (LONG_MAX - (*s - '0')) / 10)
            return LONG_MAX;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG" */
static int rfc5424(apr_pool_t *p, const char *s, mt_syslog_line_t *out, const char **why)
{
    const char *host, *app, *procid, *msgid;

    s = strchr(s, '>');
    if (!s || s[1] != '1' || s[2] != ' ')
        return *why = "malformed RFC 5424 header", -1;
    s += 3;
    if (!(s = iso_time(p, s, &out->time)))
        return *why = "malformed RFC 5424 timestamp", -1;
    if (!(host = word(p, &s)) || !(app = word(p, &s)) || !(procid = word(p, &s))
        || !(msgid = word(p, &s)))
        return *why = "truncated RFC 5424 header", -1;
    (void)msgid;
    /* structured data: "-" or one or more [id k="v" ...] */
    if (*s == '-') {
        s++;
    }
    else {
        while (*s == '[') {
            int quoted = 0;
            for (s++; *s && (quoted || *s != ']'); s++) {
                if (*s == '\\' && s[1])
                    s++;
                else if (*s == '"')
                    quoted = !quoted;
            }
            if (*s != ']')
                return *why = "unterminated RFC 5424 structured data", -1;
            s++;
        }
    }
    if (*s == ' ')
        s++;
    if (strncmp(s, "\xEF\xBB\xBF", 3) == 0)   /* BOM before an UTF-8 MSG */
        s += 3;
    out->host = strcmp(host, "-") ? host : NULL;
    out->program = strcmp(app, "-") ? app : NULL;
    out->pid = strcmp(procid, "-") && apr_isdigit(*procid) ? atol(procid) : -1;
    out->message = s;
    return 0;
}

int mt_syslog_parse(apr_pool_t *p, const char *line, const mt_syslog_clock_t *clock,
                    mt_syslog_line_t *out, const char **why)
{
    const char *s = line, *tag_end, *first_end;
    int tagish = 0;

    memset(out, 0, sizeof(*out));
    out->pid = -1;
    *why = NULL;
    if (*s == '<')
        return rfc5424(p, s, out, why);
    if (apr_isdigit(*s))
        s = iso_time(p, s, &out->time);
    else
        s = classic_time(s, clock, &out->time);
    if (!s)
        return *why = "no recognisable timestamp", -1;
    while (*s == ' ')
        s++;

    /* host, unless the first word is already the program tag */
    for (first_end = s; *first_end && *first_end != ' '; first_end++)
        if (*first_end == '[' || *first_end == '(' || *first_end == ':')
            tagish = 1;
    if (!*first_end)
        return *why = "no program tag", -1;
    if (!tagish) {
        out->host = apr_pstrmemdup(p, s, (apr_size_t)(first_end - s));
        s = first_end + 1;
    }

    /* program[pid]: or Dovecot's service(user)<pid><session>: */
    tag_end = strstr(s, ": ");
    if (!tag_end) {
        apr_size_t n = strlen(s);
        if (n == 0 || s[n - 1] != ':')
            return *why = "no program tag", -1;
        tag_end = s + n - 1;
    }
    if (tag_end > s && tag_end[-1] == ']') {
        const char *lb = tag_end - 1;
        while (lb > s && *lb != '[')
            lb--;
        if (*lb == '[' && apr_isdigit(lb[1])) {
            out->pid = decimal(lb + 1);
            out->program = apr_pstrmemdup(p, s, (apr_size_t)(lb - s));
        }
        else {
            out->program = apr_pstrmemdup(p, s, (apr_size_t)(tag_end - s));
        }
    }
    else {
        out->program = apr_pstrmemdup(p, s, (apr_size_t)(tag_end - s));
    }
    if (!*out->program)
        return *why = "empty program tag", -1;
    out->message = *tag_end ? tag_end + (tag_end[1] ? 2 : 1) : tag_end;
    return 0;
}
