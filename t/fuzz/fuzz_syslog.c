/* fuzz_syslog.c: libFuzzer target for the syslog prefix and time layer
 *
 * Input: log text; each line goes through
 *  - mt_syslog_parse(), with the year inferred from a reference time and
 *    with a fixed year (--year): 0 comes with a message that lies inside the
 *    line and, but for RFC 5424 lines, a non-empty program; -1 with a reason;
 *    through one mt_syslog_cache_t for the whole run, the same outcome and
 *    time as without it;
 *  - mt_time_parse_xs(): a time it accepts is formatted by
 *    mt_time_format_xs() and must parse back to the same instant (when that
 *    falls in years 0001 to 9999, the only ones xs:dateTime output can name).
 * Each line is handled in a pool cleared after it. */
#include <string.h>
#include "fuzz.h"
#include "mt_syslog.h"
#include "mt_time.h"

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z */
#define FIRST_XS MT_TIME_MIN
#define LAST_XS ((apr_time_t)253402300799LL * APR_USEC_PER_SEC + 999999)

static void check_syslog(apr_pool_t *line_pool, const char *line,
                         const mt_syslog_clock_t *clock)
{
    mt_syslog_line_t sl;
    const char *why = NULL;
    int rc = mt_syslog_parse(line_pool, line, clock, &sl, &why);
    size_t len = strlen(line);

    FUZZ_ASSERT(rc == 0 || rc == -1, "rc %d for: %s", rc, line);
    if (rc != 0) {
        FUZZ_ASSERT(why && *why, "-1 without a reason for: %s", line);
        return;
    }
    FUZZ_ASSERT(sl.message && sl.message >= line && sl.message <= line + len,
                "message outside the line for: %s", line);
    if (line[0] != '<')
        FUZZ_ASSERT(sl.program && *sl.program, "no program for: %s", line);
    if (sl.host)
        (void)strlen(sl.host);
    if (sl.program)
        (void)strlen(sl.program);
}

/* The same outcome and time through @a cache as without it. */
static void check_cache(apr_pool_t *line_pool, const char *line,
                        const mt_syslog_clock_t *clock, mt_syslog_cache_t *cache)
{
    mt_syslog_clock_t cached = *clock;
    mt_syslog_line_t a, b;
    const char *why = NULL;
    int ra, rb;

    cached.cache = cache;
    ra = mt_syslog_parse(line_pool, line, clock, &a, &why);
    rb = mt_syslog_parse(line_pool, line, &cached, &b, &why);
    FUZZ_ASSERT(ra == rb, "rc %d without the cache, %d with it, for: %s", ra, rb, line);
    FUZZ_ASSERT(ra != 0 || a.time == b.time,
                "time %" APR_TIME_T_FMT " without the cache, %" APR_TIME_T_FMT " with it, for: %s",
                a.time, b.time, line);
}

static void one_line(void *baton, const char *line, apr_pool_t *line_pool)
{
    /* One cache for the whole run, as an ingest keeps one per file. */
    static mt_syslog_cache_t *cache;
    mt_syslog_clock_t inferred = { 0, apr_time_from_sec(1795176000), NULL };
    mt_syslog_clock_t year = { 2026, 0, NULL };
    apr_time_t t, back;
    (void)baton;

    if (!cache)
        cache = mt_syslog_cache_create(fuzz_global_pool());
    check_syslog(line_pool, line, &inferred);
    check_syslog(line_pool, line, &year);
    check_cache(line_pool, line, &inferred, cache);
    check_cache(line_pool, line, &year, cache);

    if (mt_time_parse_xs(line, &t) == 0 && t >= FIRST_XS && t <= LAST_XS) {
        const char *s = mt_time_format_xs(line_pool, t);
        FUZZ_ASSERT(mt_time_parse_xs(s, &back) == 0 && back == t,
                    "'%s' formatted as '%s' does not parse back", line, s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_each_line(fuzz_input_begin(), data, size, one_line, NULL);
    fuzz_input_end();
    return 0;
}
