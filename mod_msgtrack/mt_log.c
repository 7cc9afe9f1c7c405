/* mt_log.c: forwards core log messages to the host's callback */
#include <stdarg.h>
#include <stdio.h>
#include "mt_log.h"

static int default_enabled(void *baton, mt_log_level_e level)
{
    (void)baton;
    return level <= MT_LOG_NOTICE;
}

static void default_log(void *baton, const char *file, int line, mt_log_level_e level,
                        const char *msg)
{
    (void)baton; (void)file; (void)line; (void)level;
    fprintf(stderr, "%s\n", msg);
}

/* Set once at start-up (mt_log_set), read-only afterwards. */
static mt_log_cb *log_cb = default_log;
static mt_log_enabled_cb *log_enabled = default_enabled;
static void *log_baton;

void mt_log_set(mt_log_cb *cb, mt_log_enabled_cb *enabled, void *baton)
{
    log_cb = cb ? cb : default_log;
    log_enabled = enabled ? enabled : default_enabled;
    log_baton = baton;
}

int mt_log_is_enabled(mt_log_level_e level)
{
    return log_enabled(log_baton, level);
}

void mt_log_at(const char *file, int line, mt_log_level_e level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    if (!log_enabled(log_baton, level))
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_cb(log_baton, file, line, level, buf);
}
