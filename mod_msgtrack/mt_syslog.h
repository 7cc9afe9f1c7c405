/**
 * @file mt_syslog.h
 * @brief The prefix of a syslog-style log line: timestamp, host, program[pid].
 *
 * Shared by the Postfix and Dovecot parsers. Accepted timestamp forms:
 *  - classic syslog "Jun  3 10:40:57" (no year, local time)
 *  - Postfix maillog_file "Jun 03 10:40:57" and with a fraction "Jun 03 10:40:57.123456"
 *  - RFC 3339 "2026-06-03T10:40:57.123456+02:00" (rsyslog high precision)
 *  - RFC 5424 "<34>1 2026-06-03T10:40:57.123Z host app pid msgid [sd] msg"
 * then (except for RFC 5424, which carries them in its own fields) an
 * optional host name and "program[pid]: ". Dovecot's own log_path files have
 * no host: "Jun 03 10:40:57 lmtp(bob@example.org)<123><sess>: Info: ...";
 * for those, program is what precedes ": " ("lmtp(bob@example.org)<123><sess>").
 * Whether a host is present is decided by the first word after the time: a
 * host name never holds '[', '(' or ':', a program tag always ends in ':' or
 * holds one of them.
 */
#ifndef MT_SYSLOG_H
#define MT_SYSLOG_H

#include <apr_pools.h>
#include <apr_time.h>

/** Conversions of year-less local timestamps remembered from line to
 *  line (mt_syslog_cache_create()): one mktime() per local hour instead of
 *  one per line, and the year of the reference worked out once. Results
 *  are those of the conversion without it: an hour within three hours of a
 *  change of the UTC offset (a daylight saving switch, where local times
 *  repeat or do not exist) is converted line by line as before. One cache
 *  serves one thread; it assumes the process's TZ does not change. */
typedef struct mt_syslog_cache_t mt_syslog_cache_t;

/** How year-less local timestamps are placed in time. */
typedef struct {
    /** Year given with --year, or 0 to infer it from @a reference. */
    int year;
    /** The file's modification time: lines are assumed not to be from after
     *  it (by more than a day), which places a December line read in January
     *  in the previous year. 0: use the current time. */
    apr_time_t reference;
    /** Remembered conversions, or NULL: each line converts its own. */
    mt_syslog_cache_t *cache;
} mt_syslog_clock_t;

/** A cache for mt_syslog_clock_t, allocated in @a p. */
mt_syslog_cache_t *mt_syslog_cache_create(apr_pool_t *p);

typedef struct {
    apr_time_t time;        /**< UTC microseconds */
    const char *host;       /**< NULL when the line has none */
    const char *program;    /**< e.g. "postfix/smtpd", or Dovecot's "lmtp(u)<pid><s>" */
    long pid;               /**< -1 when none */
    const char *message;    /**< the rest of the line after "program[pid]: " */
} mt_syslog_line_t;

/** Parse the prefix of @a line (NUL-terminated, no line end). Returns 0, or -1
 *  with a short reason in @a why when the line has no recognisable prefix. */
int mt_syslog_parse(apr_pool_t *p, const char *line, const mt_syslog_clock_t *clock,
                    mt_syslog_line_t *out, const char **why);

#endif
