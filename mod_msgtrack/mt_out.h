/**
 * @file mt_out.h
 * @brief Streamed XML output.
 *
 * Responses are written through an mt_out_t, a sink with a write callback:
 * the module points it at an output brigade, the tests at a memory buffer.
 * Text written with mt_out_text()/mt_out_attr() is escaped and made valid
 * XML 1.0 whatever it holds: invalid UTF-8 and characters XML cannot carry
 * (C0 controls but TAB/LF/CR, U+FFFE/U+FFFF) become U+FFFD.
 */
#ifndef MT_OUT_H
#define MT_OUT_H

#include <apr_pools.h>

/** Sink callback: returns 0 on success; the first failure is remembered and
 *  later writes are skipped. */
typedef int mt_out_write_fn(void *baton, const char *data, apr_size_t len);

typedef struct mt_out_t {
    mt_out_write_fn *write;
    void *baton;
    /** Non-zero once a write failed. */
    int failed;
    /* Bytes not yet handed to the callback (mt_out_make_buffered()). */
    char *buf;
    apr_size_t len, cap;
} mt_out_t;

/** A sink writing to @a fn: each write is a call. */
mt_out_t *mt_out_make(apr_pool_t *p, mt_out_write_fn *fn, void *baton);

/** A sink writing to @a fn in pieces of up to @a size bytes: writes are
 *  gathered (a response is many small ones) and handed on when @a size is
 *  reached and by mt_out_flush(), which the caller must call at the end.
 *  A failure of @a fn shows in failed only from that call on. */
mt_out_t *mt_out_make_buffered(apr_pool_t *p, mt_out_write_fn *fn, void *baton,
                               apr_size_t size);

/** Hand what is gathered to the callback (nothing to do for an unbuffered sink). */
void mt_out_flush(mt_out_t *out);

/** A sink collecting everything in memory; see mt_out_buffer_get(). */
mt_out_t *mt_out_buffer_make(apr_pool_t *p);

/** What a buffer sink collected, NUL-terminated; @a len may be NULL. */
const char *mt_out_buffer_get(mt_out_t *out, apr_size_t *len);

/** Raw bytes: markup the caller knows to be well-formed. */
void mt_out_write(mt_out_t *out, const char *data, apr_size_t len);
void mt_out_puts(mt_out_t *out, const char *s);
void mt_out_printf(mt_out_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** @a v in decimal, as "%" APR_UINT64_T_FMT writes it, without a format. */
void mt_out_uint(mt_out_t *out, apr_uint64_t v);

/** Character data, escaped for element content. */
void mt_out_text(mt_out_t *out, const char *s);
/** Character data, escaped for a double-quoted attribute value. */
void mt_out_attr(mt_out_t *out, const char *s);

/** Writes @a open and @a close as they are (markup the caller knows to be
 *  well-formed) around @a text escaped for element content; NULL @a text
 *  is empty. */
void mt_out_enclosed(mt_out_t *out, const char *open, const char *text, const char *close);

/** Writes <prefix:name>text</prefix:name>; @a qname is "prefix:name". */
void mt_out_element(mt_out_t *out, const char *qname, const char *text);

#endif
