/**
 * @file mt_utf8.h
 * @brief UTF-8 well-formedness, shared by everything that must emit valid text.
 */
#ifndef MT_UTF8_H
#define MT_UTF8_H

#include <apr.h>

/** Length (2 to 4) of the well-formed multi-byte UTF-8 sequence at @a s,
 *  reading at most @a n bytes, or 0: not a lead byte, truncated, overlong,
 *  a surrogate, or beyond U+10FFFF. ASCII bytes (< 0x80) give 0 too; the
 *  caller decides about them. On a NUL-terminated string any @a n is safe:
 *  reading stops at the first byte that is not a continuation. */
apr_size_t mt_utf8_seq(const unsigned char *s, apr_size_t n);

#endif
