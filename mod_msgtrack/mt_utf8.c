/* mt_utf8.c: UTF-8 well-formedness (RFC 3629) */
#include "mt_utf8.h"

static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

apr_size_t mt_utf8_seq(const unsigned char *s, apr_size_t n)
{
    unsigned char c = s[0];

    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && is_cont(s[1]) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || !is_cont(s[1]) || !is_cont(s[2]))
            return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
            return 0;   /* overlong, surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || !is_cont(s[1]) || !is_cont(s[2]) || !is_cont(s[3]))
            return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
            return 0;   /* overlong, beyond U+10FFFF */
        return 4;
    }
    return 0;
}
