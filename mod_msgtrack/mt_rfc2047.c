/* mt_rfc2047.c: RFC 2047 encoded-words to UTF-8 (see mt_rfc2047.h) */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_xlate.h>
#include "mt_rfc2047.h"
#include "mt_utf8.h"

/* ------------------------------------------------------------ output buffer */

typedef struct {
    apr_pool_t *p;
    char *d;
    apr_size_t n, cap;
} buf_t;

static void buf_reserve(buf_t *b, apr_size_t more)
{
    if (b->n + more + 1 > b->cap) {
        apr_size_t cap = (b->cap + more + 1) * 2;
        char *d = apr_palloc(b->p, cap);
        if (b->n)
            memcpy(d, b->d, b->n);
        b->d = d;
        b->cap = cap;
    }
}

static void buf_add(buf_t *b, const char *s, apr_size_t n)
{
    buf_reserve(b, n);
    memcpy(b->d + b->n, s, n);
    b->n += n;
}

/* Append @a n bytes as UTF-8: invalid bytes and NUL become U+FFFD. */
static void put_utf8(buf_t *b, const char *src, apr_size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    apr_size_t i = 0, len;

    buf_reserve(b, n * 3);
    while (i < n) {
        if (s[i] >= 0x01 && s[i] < 0x80) {
            b->d[b->n++] = (char)s[i++];
        }
        else if (s[i] && (len = mt_utf8_seq(s + i, n - i)) != 0) {
            memcpy(b->d + b->n, s + i, len);
            b->n += len;
            i += len;
        }
        else {
            memcpy(b->d + b->n, "\xEF\xBF\xBD", 3);
            b->n += 3;
            i++;
        }
    }
}

/* ------------------------------------------------------------ tokens */

typedef enum { TOK_TEXT, TOK_WS, TOK_FOLD, TOK_WORD } tok_kind_e;

typedef struct {
    tok_kind_e kind;
    const char *src;            /* as it appears in the input */
    apr_size_t srclen;
    /* TOK_WORD only */
    const char *cs;             /* charset, without an RFC 2231 language */
    apr_size_t cslen;
    char *raw;                  /* decoded octets */
    apr_size_t rawlen;
    int usable;                 /* the charset converts */
    apr_xlate_t *x;             /* its converter; NULL: UTF-8 or US-ASCII */
} tok_t;

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2047 token characters allowed in a charset name: no especials, and no
 * '/' either (iconv would read "//TRANSLIT" and the like as options). */
static int is_cs_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || (c && strchr("!#$%&'+-^_`{}~", c));
}

/* The syntax of an encoded-word at @a s ("=?cs?e?text?="): returns the end,
 * or NULL. Fills @a t's charset and sets *enc and the text span. */
static const char *scan_word(const char *s, tok_t *t, char *enc, const char **txt,
                             apr_size_t *txtlen)
{
    const char *cs = s + 2, *q = cs, *star = NULL, *e;

    if (s[0] != '=' || s[1] != '?')
        return NULL;
    for (; is_cs_char(*q) || *q == '*'; q++)
        if (*q == '*' && !star)
            star = q;
    if (*q != '?' || q - cs > 64)
        return NULL;
    if ((star ? star : q) == cs)
        return NULL;
    if (!strchr("BbQq", q[1]) || !q[1] || q[2] != '?')
        return NULL;
    for (e = q + 3; *e > ' ' && *e < 0x7F && *e != '?'; e++)
        ;
    if (e[0] != '?' || e[1] != '=')
        return NULL;
    if (t) {
        t->cs = cs;
        t->cslen = (apr_size_t)((star ? star : q) - cs);
    }
    if (enc)
        *enc = (char)(q[1] | 0x20);
    if (txt) {
        *txt = q + 3;
        *txtlen = (apr_size_t)(e - (q + 3));
    }
    return e + 2;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Q: '_' is a space, =XX an octet; a '=' without two hex digits stays. */
static apr_size_t decode_q(const char *s, apr_size_t n, char *out)
{
    apr_size_t i, o = 0;
    int h, l;

    for (i = 0; i < n; i++) {
        if (s[i] == '_')
            out[o++] = ' ';
        else if (s[i] == '=' && i + 2 < n && (h = hexval(s[i + 1])) >= 0
                 && (l = hexval(s[i + 2])) >= 0) {
            out[o++] = (char)(h * 16 + l);
            i += 2;
        }
        else
            out[o++] = s[i];
    }
    return o;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* B: base64, padding optional. Returns the length, or -1 when invalid. */
static long decode_b(const char *s, apr_size_t n, char *out)
{
    apr_size_t i, o = 0, k = 0;
    unsigned long acc = 0;
    int v, pad = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '=') {
            pad = 1;
            continue;
        }
        if (pad || (v = b64val(s[i])) < 0)
            return -1;
        acc = (acc << 6) | (unsigned long)v;
        if (++k == 4) {
            out[o++] = (char)(acc >> 16);
            out[o++] = (char)(acc >> 8);
            out[o++] = (char)acc;
            acc = 0;
            k = 0;
        }
    }
    if (k == 1)
        return -1;
    if (k == 2)
        out[o++] = (char)(acc >> 4);
    else if (k == 3) {
        out[o++] = (char)(acc >> 10);
        out[o++] = (char)(acc >> 2);
    }
    return (long)o;
}

static int same_charset(const tok_t *a, const tok_t *b)
{
    return a->cslen == b->cslen && strncasecmp(a->cs, b->cs, a->cslen) == 0;
}

static int is_utf8_name(const char *cs, apr_size_t n)
{
    return (n == 5 && strncasecmp(cs, "utf-8", 5) == 0) || (n == 4 && strncasecmp(cs, "utf8", 4) == 0)
        || (n == 8 && strncasecmp(cs, "us-ascii", 8) == 0) || (n == 5 && strncasecmp(cs, "ascii", 5) == 0);
}

/* ------------------------------------------------------------ conversion */

/* Convert @a n octets through @a x (NULL: they claim UTF-8) and append. */
static void convert(buf_t *out, apr_pool_t *p, apr_xlate_t *x, const char *in, apr_size_t n)
{
    apr_size_t tmpcap = n * 4 + 16, inleft = n, outleft;
    char *tmp;
    apr_status_t rv;

    if (!x) {
        put_utf8(out, in, n);
        return;
    }
    tmp = apr_palloc(p, tmpcap);
    while (inleft > 0) {
        apr_size_t before = inleft;
        outleft = tmpcap;
        rv = apr_xlate_conv_buffer(x, in, &inleft, tmp, &outleft);
        put_utf8(out, tmp, tmpcap - outleft);
        in += before - inleft;
        if (rv != APR_SUCCESS) {
            /* an octet the charset does not have, or a truncated sequence */
            put_utf8(out, "\xFF", 1);
            in++;
            inleft--;
        }
        else if (inleft == before && outleft == tmpcap) {
            break;  /* no progress and no error: give up on the rest */
        }
    }
    outleft = tmpcap;
    if (apr_xlate_conv_buffer(x, NULL, NULL, tmp, &outleft) == APR_SUCCESS)
        put_utf8(out, tmp, tmpcap - outleft);   /* back to the initial shift state */
}

/* ------------------------------------------------------------ the decoder */

static tok_t *push(apr_array_header_t *toks, tok_kind_e kind, const char *src, apr_size_t n)
{
    tok_t *t = apr_array_push(toks);
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    t->src = src;
    t->srclen = n;
    return t;
}

/* Index of the nearest token before (dir -1) or after (dir +1) @a i that is
 * not whitespace or a fold, or -1. */
static int neighbour(const apr_array_header_t *toks, int i, int dir)
{
    const tok_t *t = (const tok_t *)toks->elts;
    for (i += dir; i >= 0 && i < toks->nelts; i += dir)
        if (t[i].kind != TOK_WS && t[i].kind != TOK_FOLD)
            return i;
    return -1;
}

static int decoded_word(const apr_array_header_t *toks, int i)
{
    const tok_t *t = (const tok_t *)toks->elts;
    return i >= 0 && t[i].kind == TOK_WORD && t[i].usable;
}

const char *mt_rfc2047_decode(apr_pool_t *p, const char *s)
{
    apr_array_header_t *toks;
    tok_t *t;
    buf_t out;
    const char *q, *end;
    int i, j;

    if (!s)
        return NULL;
    if (!strstr(s, "=?")) {     /* the common case: plain text */
        const unsigned char *u = (const unsigned char *)s;
        while (*u && *u < 0x80)
            u++;
        if (!*u)
            return apr_pstrdup(p, s);
    }

    out.p = p;
    out.d = NULL;
    out.n = out.cap = 0;
    buf_reserve(&out, strlen(s) + 16);
    toks = apr_array_make(p, 8, sizeof(tok_t));

    /* 1. tokens: encoded-words, folds after them, whitespace, other text */
    while (*s) {
        tok_t w;
        char enc;
        const char *txt;
        apr_size_t txtlen;

        if ((end = scan_word(s, &w, &enc, &txt, &txtlen)) != NULL) {
            char *raw = apr_palloc(p, txtlen + 1);
            long n = enc == 'q' ? (long)decode_q(txt, txtlen, raw) : decode_b(txt, txtlen, raw);
            if (n < 0) {
                push(toks, TOK_TEXT, s, (apr_size_t)(end - s));
            }
            else {
                t = push(toks, TOK_WORD, s, (apr_size_t)(end - s));
                t->cs = w.cs;
                t->cslen = w.cslen;
                t->raw = raw;
                t->rawlen = (apr_size_t)n;
            }
            s = end;
            for (q = s; *q == '?' && q - s < 2; q++)
                ;
            if (q > s && (q - s == 2 || is_ws(*q) || !*q || scan_word(q, NULL, NULL, NULL, NULL))) {
                push(toks, TOK_FOLD, s, (apr_size_t)(q - s));
                s = q;
            }
            continue;
        }
        if (is_ws(*s)) {
            for (q = s; is_ws(*q); q++)
                ;
            push(toks, TOK_WS, s, (apr_size_t)(q - s));
            s = q;
            continue;
        }
        for (q = s + 1; *q && !is_ws(*q); q++)
            if (*q == '=' && q[1] == '?' && scan_word(q, NULL, NULL, NULL, NULL))
                break;
        push(toks, TOK_TEXT, s, (apr_size_t)(q - s));
        s = q;
    }

    /* 2. which charsets convert; one converter per run of the same charset */
    t = (tok_t *)toks->elts;
    for (i = 0, j = -1; i < toks->nelts; i++) {
        if (t[i].kind != TOK_WORD)
            continue;
        if (j >= 0 && same_charset(&t[i], &t[j])) {
            t[i].usable = t[j].usable;
            t[i].x = t[j].x;
        }
        else if (is_utf8_name(t[i].cs, t[i].cslen)) {
            t[i].usable = 1;
        }
        else {
            char *cs = apr_pstrmemdup(p, t[i].cs, t[i].cslen);
            t[i].usable = apr_xlate_open(&t[i].x, "UTF-8", cs, p) == APR_SUCCESS;
            if (!t[i].usable)
                t[i].x = NULL;
        }
        j = i;
    }

    /* 3. output */
    for (i = 0; i < toks->nelts; i++) {
        switch (t[i].kind) {
        case TOK_WORD:
            if (!t[i].usable) {
                put_utf8(&out, t[i].src, t[i].srclen);
                break;
            }
            /* this word and the next ones in the same charset, as one string */
            {
                apr_size_t total = t[i].rawlen;
                char *all;
                for (j = i; (j = neighbour(toks, j, +1)) >= 0 && decoded_word(toks, j)
                     && same_charset(&t[j], &t[i]);)
                    total += t[j].rawlen;
                all = apr_palloc(p, total + 1);
                total = 0;
                for (j = i;; ) {
                    memcpy(all + total, t[j].raw, t[j].rawlen);
                    total += t[j].rawlen;
                    i = j;
                    j = neighbour(toks, j, +1);
                    if (j < 0 || !decoded_word(toks, j) || !same_charset(&t[j], &t[i]))
                        break;
                }
                convert(&out, p, t[i].x, all, total);
            }
            break;
        case TOK_WS:
        case TOK_FOLD:
            if (decoded_word(toks, neighbour(toks, i, -1)) && decoded_word(toks, neighbour(toks, i, +1)))
                break;  /* between two encoded-words: dropped */
            if (t[i].kind == TOK_WS)
                buf_add(&out, t[i].src, t[i].srclen);
            else if (i + 1 < toks->nelts && t[i + 1].kind != TOK_WS)
                buf_add(&out, " ", 1);  /* a fold directly before text */
            break;
        case TOK_TEXT:
            put_utf8(&out, t[i].src, t[i].srclen);
            break;
        }
    }
    for (i = 0, j = -1; i < toks->nelts; i++) {
        if (t[i].kind == TOK_WORD && t[i].x) {
            if (j < 0 || t[j].x != t[i].x)
                apr_xlate_close(t[i].x);
            j = i;
        }
    }
    out.d[out.n] = '\0';
    return out.d;
}
