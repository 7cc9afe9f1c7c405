/**
 * @file mt_log.h
 * @brief The core's one logging callback.
 *
 * The core never writes to stderr or to httpd's log itself: it calls mt_log(),
 * which forwards to the callback installed by its host (ap_log_error in the
 * module, stderr in msgtrack-index). Install the callback once, at start-up
 * (post_config or main), before any other thread exists.
 */
#ifndef MT_LOG_H
#define MT_LOG_H

/** Levels, in the order of httpd's APLOG_* levels. */
typedef enum {
    MT_LOG_EMERG = 0, MT_LOG_ALERT, MT_LOG_CRIT, MT_LOG_ERR, MT_LOG_WARNING,
    MT_LOG_NOTICE, MT_LOG_INFO, MT_LOG_DEBUG,
    MT_LOG_TRACE1, MT_LOG_TRACE2, MT_LOG_TRACE3
} mt_log_level_e;

/** Host callback: @a file and @a line are the core source position. */
typedef void mt_log_cb(void *baton, const char *file, int line, mt_log_level_e level,
                       const char *msg);
/** Host predicate: would @a level be logged? Lets the core skip formatting. */
typedef int mt_log_enabled_cb(void *baton, mt_log_level_e level);

/** Install the host's callbacks (NULL restores the default: stderr, up to NOTICE). */
void mt_log_set(mt_log_cb *cb, mt_log_enabled_cb *enabled, void *baton);

/** Is @a level enabled? */
int mt_log_is_enabled(mt_log_level_e level);

/** Log a printf-style message; use the MT_LOG macro to pass the position. */
void mt_log_at(const char *file, int line, mt_log_level_e level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define MT_LOG(level, ...) mt_log_at(__FILE__, __LINE__, (level), __VA_ARGS__)

#endif
