/**
 * @file mt_parse.h
 * @brief The log parsers: one per format, behind one line-at-a-time interface.
 *
 * Each parser returns, for one line (without its line end):
 *   1  the line stated facts: @a rec is filled (kind != MT_REC_NONE)
 *   0  a line of no interest (another program, a header or comment line,
 *      connection chatter): skipped silently
 *  -1  the line looks like one of ours but does not parse: @a why says what
 *      is wrong in a few words; the caller reports FILE:LINE: why, counts it,
 *      skips it, and goes on.
 * With 0 and -1 the record's kind is MT_REC_NONE (rec->line is kept).
 * Records and their strings are allocated in @a rp.
 */
#ifndef MT_PARSE_H
#define MT_PARSE_H

#include <apr_pools.h>
#include "mt_logrec.h"
#include "mt_syslog.h"

typedef struct {
    /** Placing year-less syslog timestamps (--year, the file's mtime). */
    mt_syslog_clock_t clock;
    /** --host: the server name for lines that carry none (Dovecot's own
     *  log files); when set it also replaces the syslog host of every line. */
    const char *host;
} mt_parse_opts_t;

/* ---- Postfix (mt_parse_postfix.c): stateless per line. */
int mt_parse_postfix_line(const mt_parse_opts_t *opts, const char *line, apr_pool_t *rp,
                          mt_logrec_t *rec, const char **why);

/* ---- Dovecot (mt_parse_dovecot.c): stateless per line. */
int mt_parse_dovecot_line(const mt_parse_opts_t *opts, const char *line, apr_pool_t *rp,
                          mt_logrec_t *rec, const char **why);

/* ---- Exchange MSGTRK (mt_parse_msgtrk.c): the #Fields header sets the
 * column positions for the rows after it, so a file has one state. */
typedef struct mt_msgtrk_state_t mt_msgtrk_state_t;
mt_msgtrk_state_t *mt_msgtrk_state_create(apr_pool_t *p);
/** @a line may start with a UTF-8 BOM (first line) and end with CR. */
int mt_parse_msgtrk_line(mt_msgtrk_state_t *st, const mt_parse_opts_t *opts, const char *line,
                         apr_pool_t *rp, mt_logrec_t *rec, const char **why);

#endif
