/**
 * @file mt_ingest.h
 * @brief Reading log files into the index, exactly once.
 *
 * A source is one log file (or standard input). Its identity is its device,
 * inode and a hash of its first bytes; the index remembers, per identity, how
 * many bytes and lines were consumed. Lines are read in batches; each batch
 * is one write transaction holding the batch's hops and events *and* the
 * file's new offset, so a crash at any instant leaves the index at a batch
 * boundary with the matching offset: re-running adds exactly what is missing.
 * A last line without its newline is left for later (the writer may not have
 * finished it).
 *
 * Format detection ("auto"): an Exchange MSGTRK file is known by its BOM or
 * its "#Software"/"#Fields" header; anything else is read as syslog-style
 * text in which each line is tried as Postfix, then as Dovecot, so a mail.log
 * holding both daemons' lines works.
 */
#ifndef MT_INGEST_H
#define MT_INGEST_H

#include <apr_pools.h>
#include "mt_correlate.h"
#include "mt_logrec.h"
#include "mt_store.h"

/** One line that does not parse: file, 1-based line, reason. */
typedef void (*mt_ingest_diag_cb)(void *baton, const char *path, apr_uint64_t line,
                                  const char *why);
/** Called after each batch: bytes of the file done and its size. */
typedef void (*mt_ingest_progress_cb)(void *baton, const char *path, apr_uint64_t done,
                                      apr_uint64_t size);

typedef struct {
    mt_format_e format;          /**< MT_FORMAT_UNKNOWN: detect per file */
    const char *host;            /**< --host, or NULL */
    int year;                    /**< --year, or 0: from each file's mtime */
    unsigned batch_lines;        /**< lines per transaction; 0: the default (20000) */
    mt_ingest_diag_cb diag;
    mt_ingest_progress_cb progress;
    void *baton;
} mt_ingest_opts_t;

typedef struct {
    apr_uint64_t lines;          /**< lines read */
    apr_uint64_t bytes;          /**< bytes read */
    apr_uint64_t records;        /**< lines that stated facts */
    apr_uint64_t bad;            /**< lines that did not parse (diagnosed, skipped) */
    apr_uint64_t by_format[4];   /**< records by mt_format_e */
    apr_uint64_t batches;        /**< transactions committed */
    apr_uint64_t unfinished;     /**< bytes of unfinished last lines left for later */
    apr_uint64_t resumed;        /**< sources resumed at a stored offset */
    apr_uint64_t unchanged;      /**< sources with nothing new */
} mt_ingest_stats_t;

typedef struct mt_ingest_t mt_ingest_t;
typedef struct mt_source_t mt_source_t;

mt_ingest_t *mt_ingest_create(apr_pool_t *p, mt_store_t *store, const mt_ingest_opts_t *opts);

/** Open @a path ("-": standard input, read once, no offset kept), find where
 *  the index left it, and detect its format. The source lives in @a p. */
const char *mt_ingest_open(mt_ingest_t *in, apr_pool_t *p, const char *path,
                           mt_source_t **src);

/** Read @a src from its offset to its current end, committing batches. */
const char *mt_ingest_read(mt_ingest_t *in, mt_source_t *src);

/** What became of a followed file's path since it was opened. */
typedef enum {
    MT_SOURCE_SAME = 0,      /**< still the file we hold */
    MT_SOURCE_ROTATED,       /**< the path names another file now (rename rotation) */
    MT_SOURCE_TRUNCATED,     /**< the file we hold shrank below our offset (copytruncate) */
    MT_SOURCE_GONE           /**< the path does not exist (between rename and create) */
} mt_source_state_e;
mt_source_state_e mt_ingest_check(mt_ingest_t *in, mt_source_t *src);

/** Start over at the beginning of a truncated file (a new identity). */
const char *mt_ingest_restart(mt_ingest_t *in, mt_source_t *src);

void mt_ingest_close(mt_source_t *src);

const char *mt_source_path(const mt_source_t *src);
mt_format_e mt_source_format(const mt_source_t *src);

const mt_ingest_stats_t *mt_ingest_stats(const mt_ingest_t *in);
const mt_corr_stats_t *mt_ingest_corr_stats(const mt_ingest_t *in);

#endif
