/* test_out.c: escaping and well-formedness of written text (TAP) */
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "mt_out.h"

static const struct { const char *name, *in, *text, *attr; } cases[] = {
    { "plain", "hello", "hello", "hello" },
    { "markup", "a<b>&c", "a&lt;b&gt;&amp;c", "a&lt;b&gt;&amp;c" },
    { "quotes", "say \"hi\" 'x'", "say \"hi\" 'x'", "say &quot;hi&quot; 'x'" },
    { "whitespace", "a\tb\nc\rd", "a\tb\nc&#13;d", "a&#9;b&#10;c&#13;d" },
    { "control chars", "a\001b\033c", "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c",
      "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c" },
    { "valid UTF-8 kept", "Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80",
      "Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80",
      "Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80" },
    { "invalid UTF-8 replaced", "a\xC3(b", "a\xEF\xBF\xBD(b", "a\xEF\xBF\xBD(b" },
    { "overlong replaced", "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD", "\xEF\xBF\xBD\xEF\xBF\xBD" },
    { "surrogate replaced", "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
      "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
    { "U+FFFE replaced", "\xEF\xBF\xBE", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
      "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
    { "truncated at end", "ab\xE2\x82", "ab\xEF\xBF\xBD\xEF\xBF\xBD",
      "ab\xEF\xBF\xBD\xEF\xBF\xBD" },
    { "empty", "", "", "" },
    { "DEL and the last printable", "~\x7F~", "~\x7F~", "~\x7F~" },
    { "markup at both ends", "&x<", "&amp;x&lt;", "&amp;x&lt;" },
    /* Plain runs are checked four bytes at a time, then one at a time. */
    { "runs of every length", "<a<ab<abc<abcd<abcde<abcdefghi&",
      "&lt;a&lt;ab&lt;abc&lt;abcd&lt;abcde&lt;abcdefghi&amp;",
      "&lt;a&lt;ab&lt;abc&lt;abcd&lt;abcde&lt;abcdefghi&amp;" },
    { "plain, longer than four", "abcdefghijklm", "abcdefghijklm", "abcdefghijklm" },
    { "quote and tab after runs", "abcd\"efgh\tijklmnop\n",
      "abcd\"efgh\tijklmnop\n", "abcd&quot;efgh&#9;ijklmnop&#10;" },
    { "UTF-8 among runs", "abcde\xC3\xA9" "fghij\xC3(klmn\x01",
      "abcde\xC3\xA9" "fghij\xEF\xBF\xBD(klmn\xEF\xBF\xBD",
      "abcde\xC3\xA9" "fghij\xEF\xBF\xBD(klmn\xEF\xBF\xBD" },
};

/* One byte (or sequence) that is not plain, and what it becomes in text
 * and in an attribute value: put at every place of a run of plain bytes
 * longer than the blocks plain runs are checked in (16, then 4, then 1). */
static const struct { const char *in, *text, *attr; } specials[] = {
    { "<", "&lt;", "&lt;" }, { ">", "&gt;", "&gt;" }, { "&", "&amp;", "&amp;" },
    { "\"", "\"", "&quot;" }, { "\t", "\t", "&#9;" }, { "\n", "\n", "&#10;" },
    { "\r", "&#13;", "&#13;" }, { "\001", "\xEF\xBF\xBD", "\xEF\xBF\xBD" },
    { "\x1F", "\xEF\xBF\xBD", "\xEF\xBF\xBD" }, { "\x7F", "\x7F", "\x7F" },
    { "\x80", "\xEF\xBF\xBD", "\xEF\xBF\xBD" }, { "\xC3\xA9", "\xC3\xA9", "\xC3\xA9" },
    { "\xFF", "\xEF\xBF\xBD", "\xEF\xBF\xBD" },
};

/* A sink that records the sizes of the pieces it is handed, and what. */
typedef struct {
    apr_pool_t *p;
    const char *sizes;
    mt_out_t *all;
    int fail_at;        /* fail the nth call (1-based), 0: never */
    int calls;
} pieces_t;

static int pieces_write(void *baton, const char *data, apr_size_t len)
{
    pieces_t *pc = baton;
    pc->calls++;
    if (pc->fail_at && pc->calls >= pc->fail_at)
        return -1;
    pc->sizes = apr_psprintf(pc->p, "%s%s%lu", pc->sizes, *pc->sizes ? " " : "",
                             (unsigned long)len);
    mt_out_write(pc->all, data, len);
    return 0;
}

static int failing_write(void *baton, const char *data, apr_size_t len)
{
    int *calls = baton;
    (void)data; (void)len;
    (*calls)++;
    return -1;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *pool;
    size_t i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&pool, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mt_out_t *t = mt_out_buffer_make(pool), *a = mt_out_buffer_make(pool);
        mt_out_text(t, cases[i].in);
        mt_out_attr(a, cases[i].in);
        is_str(mt_out_buffer_get(t, NULL), cases[i].text, "text: %s", cases[i].name);
        is_str(mt_out_buffer_get(a, NULL), cases[i].attr, "attr: %s", cases[i].name);
    }
    for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
        /* Every place in 40 plain bytes ('~' and ' ', the plain bytes at
         * both ends of the range): the byte found where it is, wherever
         * the blocks begin and end. */
        enum { N = 40 };
        int at, bad_text = -1, bad_attr = -1;
        for (at = 0; at <= N; at++) {
            char *pre = apr_pstrndup(pool, "~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ", (apr_size_t)at);
            char *post = apr_pstrndup(pool, " ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~ ~",
                                      (apr_size_t)(N - at));
            const char *in = apr_pstrcat(pool, pre, specials[i].in, post, NULL);
            mt_out_t *t = mt_out_buffer_make(pool), *a = mt_out_buffer_make(pool);
            mt_out_text(t, in);
            mt_out_attr(a, in);
            if (bad_text < 0 && strcmp(mt_out_buffer_get(t, NULL),
                                       apr_pstrcat(pool, pre, specials[i].text, post, NULL)))
                bad_text = at;
            if (bad_attr < 0 && strcmp(mt_out_buffer_get(a, NULL),
                                       apr_pstrcat(pool, pre, specials[i].attr, post, NULL)))
                bad_attr = at;
        }
        ok(bad_text < 0 && bad_attr < 0, "special %d (\\x%02X) at each of %d places: text wrong "
           "first at %d, attribute at %d", (int)i, (unsigned char)specials[i].in[0], N + 1,
           bad_text, bad_attr);
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Text and attribute values written into a buffer with room (at
         * once) and into one without (piece by piece): the same bytes. */
        pieces_t big = { pool, "", mt_out_buffer_make(pool), 0, 0 };
        pieces_t small = { pool, "", mt_out_buffer_make(pool), 0, 0 };
        mt_out_t *b = mt_out_make_buffered(pool, pieces_write, &big, 4096);
        mt_out_t *s = mt_out_make_buffered(pool, pieces_write, &small, 4);
        const char *want;
        mt_out_text(b, cases[i].in);
        mt_out_puts(b, "|");
        mt_out_attr(b, cases[i].in);
        mt_out_enclosed(b, "<a><b>", cases[i].in, "</b></a>");
        mt_out_flush(b);
        mt_out_text(s, cases[i].in);
        mt_out_puts(s, "|");
        mt_out_attr(s, cases[i].in);
        mt_out_enclosed(s, "<a><b>", cases[i].in, "</b></a>");
        mt_out_flush(s);
        want = apr_pstrcat(pool, cases[i].text, "|", cases[i].attr, "<a><b>", cases[i].text,
                           "</b></a>", NULL);
        is_str(mt_out_buffer_get(big.all, NULL), want,
               "text, attr and enclosed text, buffered: %s", cases[i].name);
        is_str(mt_out_buffer_get(small.all, NULL), want,
               "text, attr and enclosed text, small buffer: %s", cases[i].name);
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* An element written into a buffer with room (at once) and into
         * one without (piece by piece): the same bytes. */
        pieces_t big = { pool, "", mt_out_buffer_make(pool), 0, 0 };
        pieces_t small = { pool, "", mt_out_buffer_make(pool), 0, 0 };
        mt_out_t *b = mt_out_make_buffered(pool, pieces_write, &big, 4096);
        mt_out_t *s = mt_out_make_buffered(pool, pieces_write, &small, 4);
        const char *want = apr_pstrcat(pool, "<t:Subject>", cases[i].text, "</t:Subject>", NULL);
        mt_out_puts(b, "x");
        mt_out_element(b, "t:Subject", cases[i].in);
        mt_out_flush(b);
        mt_out_element(s, "t:Subject", cases[i].in);
        mt_out_flush(s);
        is_str(mt_out_buffer_get(big.all, NULL), apr_pstrcat(pool, "x", want, NULL),
               "element, buffered: %s", cases[i].name);
        is_str(mt_out_buffer_get(small.all, NULL), want, "element, small buffer: %s",
               cases[i].name);
    }
    {
        /* Element names of every length around the one up to which the
         * tags are made on the stack (64), with text and without, into a
         * buffer with room and one without: the same bytes. */
        static const apr_size_t lens[] = { 1, 63, 64, 65, 200 };
        size_t k;
        for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
            char *name = apr_palloc(pool, lens[k] + 1);
            int withtext;
            memset(name, 'n', lens[k]);
            name[0] = 't';
            name[lens[k]] = '\0';
            for (withtext = 0; withtext < 2; withtext++) {
                const char *text = withtext ? "a<b" : NULL;
                const char *want = apr_pstrcat(pool, "<", name, ">", withtext ? "a&lt;b" : "",
                                               "</", name, ">", NULL);
                pieces_t big = { pool, "", mt_out_buffer_make(pool), 0, 0 };
                pieces_t small = { pool, "", mt_out_buffer_make(pool), 0, 0 };
                mt_out_t *bo = mt_out_make_buffered(pool, pieces_write, &big, 4096);
                mt_out_t *so = mt_out_make_buffered(pool, pieces_write, &small, 4);
                mt_out_element(bo, name, text);
                mt_out_flush(bo);
                mt_out_element(so, name, text);
                mt_out_flush(so);
                is_str(mt_out_buffer_get(big.all, NULL), want,
                       "element, buffered: a name of %d bytes, %s", (int)lens[k],
                       withtext ? "text" : "no text");
                is_str(mt_out_buffer_get(small.all, NULL), want,
                       "element, small buffer: a name of %d bytes, %s", (int)lens[k],
                       withtext ? "text" : "no text");
            }
        }
    }
    {
        /* A NULL text: an empty element, in either way. */
        pieces_t big = { pool, "", mt_out_buffer_make(pool), 0, 0 };
        mt_out_t *b = mt_out_make_buffered(pool, pieces_write, &big, 4096);
        mt_out_t *u = mt_out_buffer_make(pool);
        mt_out_element(b, "t:S", NULL);
        mt_out_flush(b);
        mt_out_element(u, "t:S", NULL);
        is_str(mt_out_buffer_get(big.all, NULL), "<t:S></t:S>", "element, buffered: NULL text");
        is_str(mt_out_buffer_get(u, NULL), "<t:S></t:S>", "element, unbuffered: NULL text");
    }
    {
        mt_out_t *o = mt_out_buffer_make(pool);
        apr_size_t len;
        mt_out_element(o, "t:X", "1<2");
        mt_out_printf(o, "%d", 42);
        mt_out_text(o, NULL);
        is_str(mt_out_buffer_get(o, &len), "<t:X>1&lt;2</t:X>42", "element and printf");
        is_int(len, 19, "buffer length");
    }
    {
        mt_out_t *o = mt_out_buffer_make(pool);
        mt_out_uint(o, 0);
        mt_out_puts(o, ",");
        mt_out_uint(o, 98522);
        mt_out_puts(o, ",");
        mt_out_uint(o, APR_UINT64_MAX);
        is_str(mt_out_buffer_get(o, NULL), "0,98522,18446744073709551615", "mt_out_uint");
    }
    {
        int calls = 0;
        mt_out_t *o = mt_out_make(pool, failing_write, &calls);
        mt_out_puts(o, "a");
        mt_out_puts(o, "b");
        ok(o->failed, "a failed write is remembered");
        is_int(calls, 1, "no writes after a failure");
    }
    {
        /* buffered: small writes gathered up to the size, a write larger
         * than the buffer handed on at once, the rest at the flush */
        pieces_t pc = { pool, "", mt_out_buffer_make(pool), 0, 0 };
        mt_out_t *o = mt_out_make_buffered(pool, pieces_write, &pc, 8);
        mt_out_puts(o, "abc");
        mt_out_puts(o, "defgh");
        is_int(pc.calls, 0, "buffered: nothing handed on while it fits");
        mt_out_puts(o, "ij");
        is_str(pc.sizes, "8", "buffered: a full buffer is handed on");
        mt_out_puts(o, "0123456789");
        is_str(pc.sizes, "8 2 10", "buffered: what was gathered, then a large write at once");
        mt_out_element(o, "t:X", "1<2");
        mt_out_flush(o);
        mt_out_flush(o);
        is_str(mt_out_buffer_get(pc.all, NULL), "abcdefghij0123456789<t:X>1&lt;2</t:X>",
               "buffered: everything, in order");
        ok(!o->failed, "buffered: no failure");
    }
    {
        pieces_t pc = { pool, "", mt_out_buffer_make(pool), 1, 0 };
        mt_out_t *o = mt_out_make_buffered(pool, pieces_write, &pc, 8);
        mt_out_puts(o, "abc");
        ok(!o->failed, "buffered: a failure shows only when the sink is called");
        mt_out_puts(o, "0123456789");
        ok(o->failed, "buffered: a failed write is remembered");
        mt_out_puts(o, "x");
        mt_out_flush(o);
        is_int(pc.calls, 1, "buffered: no writes after a failure");
    }
    {
        /* growth past the initial buffer */
        mt_out_t *o = mt_out_buffer_make(pool);
        apr_size_t len;
        int k;
        for (k = 0; k < 10000; k++)
            mt_out_puts(o, "0123456789");
        mt_out_buffer_get(o, &len);
        is_int(len, 100000, "large buffer");
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
