/**
 * @file mt_rfc2047.h
 * @brief RFC 2047 encoded-words ("=?UTF-8?Q?r=C3=A9sultats?=") to UTF-8.
 */
#ifndef MT_RFC2047_H
#define MT_RFC2047_H

#include <apr_pools.h>

/** Decode the RFC 2047 encoded-words in the header value @a s into a UTF-8
 *  string allocated in @a p (NULL for NULL).
 *  - B and Q encodings, any charset apr_xlate (iconv) knows; an RFC 2231
 *    language suffix ("UTF-8*fr") is ignored. Encoded-words are recognised
 *    even where they touch other text (a common sender mistake).
 *  - Whitespace between two decoded encoded-words is dropped; consecutive
 *    words in the same charset are decoded as one byte string, so a character
 *    split across words survives.
 *  - An encoded-word with an unknown or unusable charset, or with invalid
 *    base64, is left as it is, and so is the whitespace around it.
 *  - Postfix logs a folded header's line break as '?' (and a tab after it as
 *    a second '?'): one or two '?' right after an encoded-word's "?=" that
 *    are followed by whitespace, another encoded-word or the end, or two
 *    such '?' followed by anything, are taken as that fold. A '?' anywhere
 *    else is text.
 *  - The result is valid UTF-8: invalid bytes, in plain text or in what a
 *    charset converter cannot convert, become U+FFFD, as do NUL octets. */
const char *mt_rfc2047_decode(apr_pool_t *p, const char *s);

#endif
