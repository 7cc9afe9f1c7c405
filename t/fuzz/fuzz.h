/**
 * @file fuzz.h
 * @brief What the libFuzzer targets in t/fuzz share (see t/fuzz/build.sh).
 *
 * Pools. Each target runs every input in one pool, cleared when the input is
 * done, so an input leaves nothing behind and LeakSanitizer sees what the
 * core frees. APR pools hand out memory from large blocks, which would hide
 * overflows from AddressSanitizer; so the targets are linked with
 * --wrap=apr_palloc and friends (fuzz.c): every allocation the core makes
 * from a pool is a malloc() of its own, with ASan's red zones around it,
 * freed after the pool's other cleanups have run.
 */
#ifndef MT_FUZZ_H
#define MT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <apr_pools.h>
#include "mt_logrec.h"
#include "mt_parse.h"

/** libFuzzer's entry point, which every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Once per process: APR, a fixed time zone with daylight saving time
 *  (Europe/Berlin, unless TZ is set), the pools. fuzz_input_begin() calls
 *  it, so a target needs no LLVMFuzzerInitialize of its own unless it sets
 *  up more (and then calls this first). */
void fuzz_init(void);

/** A pool that lives as long as the process (schemas, per-run state). */
apr_pool_t *fuzz_global_pool(void);

/** The pool for one input; fuzz_input_end() clears it. */
apr_pool_t *fuzz_input_begin(void);
void fuzz_input_end(void);

/** Parser options for the log targets: year-less timestamps placed by a
 *  fixed reference time (2026-11-20T12:00:00Z), no --host. */
const mt_parse_opts_t *fuzz_parse_opts(void);

/** Calls @a fn for each line of @a data as msgtrack-index reads them: split
 *  at '\n', one trailing '\r' removed, NUL-terminated, in a heap block of
 *  exactly that size (so ASan sees a read past the NUL), empty lines
 *  skipped; with a pool for the line, a child of @a p cleared after each
 *  line. Returns the number of lines passed. */
typedef void fuzz_line_fn(void *baton, const char *line, apr_pool_t *line_pool);
size_t fuzz_each_line(apr_pool_t *p, const uint8_t *data, size_t size, fuzz_line_fn *fn,
                      void *baton);

/** A parser's answer must keep mt_parse.h's contract: rc is 1, 0 or -1; 1
 *  comes with a record of @a format, -1 with a reason, 0 and -1 with no
 *  record. Every string the record holds is read in full (ASan checks it). */
void fuzz_check_parse(int rc, const mt_logrec_t *rec, const char *why, mt_format_e format,
                      const char *line);

/** Is @a s (NUL-terminated) well-formed UTF-8? */
int fuzz_utf8_ok(const char *s);

/** Report a broken invariant and abort (libFuzzer saves the input). */
#define FUZZ_ASSERT(cond, ...) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            abort(); \
        } \
    } while (0)

#endif
