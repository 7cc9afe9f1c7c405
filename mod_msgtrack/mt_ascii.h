/**
 * @file mt_ascii.h
 * @brief ASCII case folding for addresses, host names and header names;
 * unsigned numbers in decimal.
 *
 * Mail addresses and host names compare without regard to ASCII case,
 * whatever the locale; bytes outside ASCII must match exactly.
 */
#ifndef MT_ASCII_H
#define MT_ASCII_H

#include <apr_pools.h>
#include <apr_strings.h>

static inline int mt_ascii_lc(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/** Equal without regard to ASCII case; both strings must be non-NULL. */
static inline int mt_ascii_ieq(const char *a, const char *b)
{
    for (; *a && mt_ascii_lc((unsigned char)*a) == mt_ascii_lc((unsigned char)*b); a++, b++)
        ;
    return mt_ascii_lc((unsigned char)*a) == mt_ascii_lc((unsigned char)*b);
}

/** Copy @a n bytes of @a s into @a b lower-cased; returns the end of the copy. */
static inline char *mt_ascii_lower_to(char *b, const char *s, apr_size_t n)
{
    apr_size_t i;
    for (i = 0; i < n; i++)
        b[i] = (char)mt_ascii_lc((unsigned char)s[i]);
    return b + n;
}

/** A lower-cased copy of the first @a n bytes of @a s, in @a p. */
static inline char *mt_ascii_lower(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *r = apr_palloc(p, n + 1);
    *mt_ascii_lower_to(r, s, n) = '\0';
    return r;
}

/** @a v in decimal, as "%" APR_UINT64_T_FMT writes it, in the bytes just
 *  before @a end (20 at most); returns where the digits start. */
static inline char *mt_ascii_u64_before(char *end, apr_uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

#endif
