/* mt_out.c: streamed, always well-formed XML output */
#include <stdarg.h>
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif
#include <apr_strings.h>
#include "mt_ascii.h"
#include "mt_out.h"
#include "mt_utf8.h"

typedef struct {
    apr_pool_t *pool;
    char *data;
    apr_size_t len, cap;
} membuf_t;

static int membuf_write(void *baton, const char *data, apr_size_t len)
{
    membuf_t *mb = baton;
    if (mb->len + len + 1 > mb->cap) {
        apr_size_t cap = mb->cap ? mb->cap : 1024;
        char *n;
        while (cap < mb->len + len + 1)
            cap *= 2;
        n = apr_palloc(mb->pool, cap);
        if (mb->len)
            memcpy(n, mb->data, mb->len);
        mb->data = n;
        mb->cap = cap;
    }
    memcpy(mb->data + mb->len, data, len);
    mb->len += len;
    mb->data[mb->len] = '\0';
    return 0;
}

mt_out_t *mt_out_make(apr_pool_t *p, mt_out_write_fn *fn, void *baton)
{
    mt_out_t *out = apr_pcalloc(p, sizeof(*out));
    out->write = fn;
    out->baton = baton;
    return out;
}

mt_out_t *mt_out_make_buffered(apr_pool_t *p, mt_out_write_fn *fn, void *baton,
                               apr_size_t size)
{
    mt_out_t *out = mt_out_make(p, fn, baton);
    out->buf = apr_palloc(p, size);
    out->cap = size;
    return out;
}

void mt_out_flush(mt_out_t *out)
{
    if (out->len && !out->failed && out->write(out->baton, out->buf, out->len) != 0)
        out->failed = 1;
    out->len = 0;
}

mt_out_t *mt_out_buffer_make(apr_pool_t *p)
{
    membuf_t *mb = apr_pcalloc(p, sizeof(*mb));
    mb->pool = p;
    return mt_out_make(p, membuf_write, mb);
}

const char *mt_out_buffer_get(mt_out_t *out, apr_size_t *len)
{
    membuf_t *mb = out->baton;
    if (len)
        *len = mb->len;
    return mb->data ? mb->data : "";
}

void mt_out_write(mt_out_t *out, const char *data, apr_size_t len)
{
    if (out->failed || len == 0)
        return;
    if (out->cap) {
        if (len <= out->cap - out->len) {
            memcpy(out->buf + out->len, data, len);
            out->len += len;
            return;
        }
        mt_out_flush(out);
        if (len < out->cap) {
            memcpy(out->buf, data, len);
            out->len = len;
            return;
        }
        if (out->failed)
            return;
    }
    if (out->write(out->baton, data, len) != 0)
        out->failed = 1;
}

void mt_out_puts(mt_out_t *out, const char *s)
{
    mt_out_write(out, s, strlen(s));
}

void mt_out_printf(mt_out_t *out, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        mt_out_write(out, buf, (apr_size_t)n);
}

void mt_out_uint(mt_out_t *out, apr_uint64_t v)
{
    char b[20], *o = mt_ascii_u64_before(b + sizeof(b), v);

    mt_out_write(out, o, (apr_size_t)(b + sizeof(b) - o));
}

/* Length of the valid UTF-8 sequence at s encoding an XML Char, or 0. */
static apr_size_t utf8_xml_char(const unsigned char *s)
{
    apr_size_t n;

    if (s[0] < 0x80)
        return (s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') ? 1 : 0;
    n = mt_utf8_seq(s, 4);
    /* U+FFFE and U+FFFF are well-formed UTF-8 but not XML characters */
    if (n == 3 && s[0] == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))
        return 0;
    return n;
}

/* Bytes written as they are in element content (1) and in attribute
 * values (2): printable ASCII but the markup characters. */
static const unsigned char plain[256] = {
#define P3 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,      /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,      /* 0x10 */
    3, 3, 1, 3, 3, 3, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3,      /* 0x20: " & */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 3, 0, 3,      /* 0x30: < > */
    P3, P3, P3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0,      /* 0x70: DEL */
#undef P3
};

/* What the byte at @a p, not plain (above), becomes: a replacement of
 * *@a rn bytes, or NULL when the *@a n bytes there stay as they are (valid
 * UTF-8, or a quote or white space outside attributes). *@a n: the bytes
 * of @a p this covers. */
static const char *escaped(const unsigned char *p, int attr, apr_size_t *n, apr_size_t *rn)
{
    *n = 1;
    switch (*p) {
    case '&': *rn = 5; return "&amp;";
    case '<': *rn = 4; return "&lt;";
    case '>': *rn = 4; return "&gt;";
    case '"': *rn = 6; return attr ? "&quot;" : NULL;
    case '\t': *rn = 4; return attr ? "&#9;" : NULL;
    case '\n': *rn = 5; return attr ? "&#10;" : NULL;
    case '\r': *rn = 5; return "&#13;";
    default:
        if ((*n = utf8_xml_char(p)) != 0)
            return NULL;
        *n = 1;
        *rn = 3;
        return "\xEF\xBF\xBD"; /* U+FFFD */
    }
}

/* Bytes from @a p on, before @a end, that are plain for @a mask: sixteen
 * at a time with SSE2 (x86-64 has it always), then four at a time while
 * four are left, then one at a time. */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *end,
                                      unsigned char mask)
{
#if defined(__SSE2__) && defined(__GNUC__)
    /* Not plain: bytes below 0x20 and from 0x80 up (as signed bytes both
     * compare below 0x20), DEL, the markup characters, and '"' in
     * attribute values (in text the last comparison repeats '&'). */
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F),
                  amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'),
                  quot = _mm_set1_epi8(mask & 1 ? '&' : '"');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i bad = _mm_or_si128(
            _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, lt)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, quot))));
        unsigned m = (unsigned)_mm_movemask_epi8(bad);
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (end - p >= 4 && (plain[p[0]] & plain[p[1]] & plain[p[2]] & plain[p[3]] & mask))
        p += 4;
    while (p < end && (plain[*p] & mask))
        p++;
    return p;
}

/* The piece by piece way: each plain run, then each replacement, handed
 * to mt_out_write(). */
static void write_escaped(mt_out_t *out, const char *s, apr_size_t len, int attr)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
    const unsigned char mask = attr ? 2 : 1;

    while ((p = plain_run(p, end, mask)) < end) {
        const char *rep;
        apr_size_t n, rn;

        if ((rep = escaped(p, attr, &n, &rn)) != NULL) {
            mt_out_write(out, (const char *)run, (apr_size_t)(p - run));
            mt_out_write(out, rep, rn);
            p += n;
            run = p;
        }
        else {
            p += n;
        }
    }
    mt_out_write(out, (const char *)run, (apr_size_t)(p - run));
}

/* Room for @a n more bytes in the buffer (flushing it first if need be):
 * where to write them, or NULL when the sink is not buffered, failed, or
 * @a n is more than the buffer holds. The caller adds to out->len. */
static char *reserve(mt_out_t *out, apr_size_t n)
{
    if (!out->cap || out->failed)
        return NULL;
    if (n > out->cap - out->len) {
        mt_out_flush(out);
        if (out->failed || n > out->cap)
            return NULL;
    }
    return out->buf + out->len;
}

/* write_escaped() into @a o, which has room for 6 bytes per byte of @a s
 * (the longest replacement, "&quot;", for one byte); returns the end. Each
 * plain run is copied at once. */
static char *escape_to(char *o, const char *s, apr_size_t len, int attr)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    const unsigned char mask = attr ? 2 : 1;

    for (;;) {
        const unsigned char *run = p;
        const char *rep;
        apr_size_t n, rn;

        p = plain_run(p, end, mask);
        memcpy(o, run, (apr_size_t)(p - run));
        o += p - run;
        if (p == end)
            return o;
        if ((rep = escaped(p, attr, &n, &rn)) != NULL) {
            memcpy(o, rep, rn);
            o += rn;
        }
        else {
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
}

/* @a open (@a on bytes), @a text escaped (for an attribute value when
 * @a attr), @a close (@a cn bytes): into the buffer at once when it has
 * room for the text escaped at worst, else piece by piece. */
static void enclose(mt_out_t *out, const char *open, apr_size_t on, const char *text,
                    const char *close, apr_size_t cn, int attr)
{
    apr_size_t t = text ? strlen(text) : 0;
    char *o;

    if (t < (APR_SIZE_MAX - on - cn) / 8 && (o = reserve(out, on + cn + 6 * t)) != NULL) {
        char *start = o;
        memcpy(o, open, on);
        o += on;
        if (text)
            o = escape_to(o, text, t, attr);
        memcpy(o, close, cn);
        o += cn;
        out->len += (apr_size_t)(o - start);
        return;
    }
    mt_out_write(out, open, on);
    if (text)
        write_escaped(out, text, t, attr);
    mt_out_write(out, close, cn);
}

void mt_out_text(mt_out_t *out, const char *s)
{
    enclose(out, "", 0, s, "", 0, 0);
}

void mt_out_attr(mt_out_t *out, const char *s)
{
    enclose(out, "", 0, s, "", 0, 1);
}

void mt_out_enclosed(mt_out_t *out, const char *open, const char *text, const char *close)
{
    enclose(out, open, strlen(open), text, close, strlen(close), 0);
}

/* Element names up to this long have their tags made on the stack. */
#define TAG_NAME_MAX 64

void mt_out_element(mt_out_t *out, const char *qname, const char *text)
{
    apr_size_t n = strlen(qname);
    char tags[2 * TAG_NAME_MAX + 5];

    if (n > TAG_NAME_MAX) {
        mt_out_write(out, "<", 1);
        mt_out_write(out, qname, n);
        mt_out_write(out, ">", 1);
        enclose(out, "", 0, text, "</", 2, 0);
        mt_out_write(out, qname, n);
        mt_out_write(out, ">", 1);
        return;
    }
    tags[0] = '<';
    memcpy(tags + 1, qname, n);
    tags[n + 1] = '>';
    tags[n + 2] = '<';
    tags[n + 3] = '/';
    memcpy(tags + n + 4, qname, n);
    tags[2 * n + 4] = '>';
    enclose(out, tags, n + 2, text, tags + n + 2, n + 3, 0);
}
