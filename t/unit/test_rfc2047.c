/* test_rfc2047.c: RFC 2047 encoded-words to UTF-8 (TAP) */
#include <apr_general.h>
#include <apr_strings.h>
#include "tap.h"
#include "mt_rfc2047.h"

static const struct { const char *in; const char *out; const char *name; } cases[] = {
    /* plain text */
    { "", "", "empty" },
    { "Quarterly results", "Quarterly results", "plain ASCII" },
    { "Are you coming? Yes", "Are you coming? Yes", "a question mark in text stays" },
    { "caf\xC3\xA9 ok", "caf\xC3\xA9 ok", "raw UTF-8 kept" },
    { "caf\xE9 ok", "caf\xEF\xBF\xBD ok", "raw Latin-1 byte: U+FFFD" },
    { "a\xC0\xAFz", "a\xEF\xBF\xBD\xEF\xBF\xBDz", "overlong sequence: U+FFFD per byte" },
    { "a\xED\xA0\x80z", "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz", "surrogate: U+FFFD" },
    { "a\xF0\x9F\x93\xA7z", "a\xF0\x9F\x93\xA7z", "4-byte UTF-8 kept" },
    { "=? not a word", "=? not a word", "lone =?" },
    { "a=b?c=", "a=b?c=", "= and ? in text" },

    /* Q */
    { "=?UTF-8?Q?r=C3=A9sultats?=", "r\xC3\xA9sultats", "Q UTF-8" },
    { "Quarterly =?UTF-8?Q?r=C3=A9sultats?=", "Quarterly r\xC3\xA9sultats", "text then word" },
    { "=?utf-8?q?hello_world?=", "hello world", "lower-case charset and encoding, _ is space" },
    { "=?UTF-8?Q?a=3Fb=3D?=", "a?b=", "=3F and =3D" },
    { "=?UTF-8?Q?50=_off?=", "50= off", "= without hex digits stays" },
    { "=?UTF-8?Q?a=e9b?=", "a\xEF\xBF\xBD" "b", "Q octet invalid in UTF-8: U+FFFD" },
    { "=?UTF-8?Q?a=00b?=", "a\xEF\xBF\xBD" "b", "NUL octet: U+FFFD" },
    { "=?UTF-8?Q?\?=", "", "empty encoded text" },

    /* B */
    { "=?UTF-8?B?csOpc3VsdGF0cw==?=", "r\xC3\xA9sultats", "B UTF-8 padded" },
    { "=?UTF-8?B?csOpc3VsdGF0cw?=", "r\xC3\xA9sultats", "B without padding" },
    { "=?UTF-8?b?SGk=?=", "Hi", "lower-case b" },
    { "=?UTF-8?B?SGk*?=", "=?UTF-8?B?SGk*?=", "invalid base64 left as is" },
    { "=?UTF-8?B?S?=", "=?UTF-8?B?S?=", "truncated base64 left as is" },

    /* other charsets */
    { "=?ISO-8859-1?Q?caf=E9?=", "caf\xC3\xA9", "ISO-8859-1 Q" },
    { "=?iso-8859-15?Q?=A4uro?=", "\xE2\x82\xAC" "uro", "ISO-8859-15 euro sign" },
    { "=?windows-1252?Q?=93quoted=94?=", "\xE2\x80\x9Cquoted\xE2\x80\x9D", "windows-1252" },
    { "=?KOI8-R?B?8NLJ18XU?=", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", "KOI8-R B" },
    { "=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88",
      "ISO-2022-JP (stateful)" },
    { "=?UTF-8*fr?Q?r=C3=A9sum=C3=A9?=", "r\xC3\xA9sum\xC3\xA9", "RFC 2231 language ignored" },
    { "=?US-ASCII?Q?plain?=", "plain", "US-ASCII" },
    { "=?X-NO-SUCH-CHARSET?Q?abc?=", "=?X-NO-SUCH-CHARSET?Q?abc?=", "unknown charset left as is" },
    { "=?UTF-8//TRANSLIT?Q?abc?=", "=?UTF-8//TRANSLIT?Q?abc?=", "no iconv options in a charset" },
    { "=?ISO-8859-1?X?abc?=", "=?ISO-8859-1?X?abc?=", "unknown encoding left as is" },
    { "=?UTF-8?Q?abc", "=?UTF-8?Q?abc", "unterminated word left as is" },
    { "=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?=", "space inside: not a word" },
    { "=?Shift_JIS?B?g2WDWINn?=", "\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88", "Shift_JIS" },

    /* joining */
    { "=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab", "space between words dropped" },
    { "=?UTF-8?Q?a?=\t \t=?UTF-8?Q?b?=", "ab", "any whitespace between words dropped" },
    { "=?UTF-8?Q?a?= b =?UTF-8?Q?c?=", "a b c", "whitespace next to text kept" },
    { "=?UTF-8?Q?a_?= =?UTF-8?Q?b?=", "a b", "encoded space kept" },
    { "=?ISO-8859-1?Q?caf=E9?= =?UTF-8?Q?_cr=C3=A8me?=", "caf\xC3\xA9 cr\xC3\xA8me",
      "different charsets joined" },
    { "=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=", "\xC3\xA9\xC3\xA9", "B words joined" },
    { "=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9t=C3=A9?=", "\xC3\xA9t\xC3\xA9",
      "a character split across two words" },
    { "=?UTF-8?B?w6n?= =?utf-8?B?pw==?=", "\xC3\xA9\xEF\xBF\xBD", "bad tail after a join" },
    { "=?X-NO-SUCH?Q?a?= =?UTF-8?Q?b?=", "=?X-NO-SUCH?Q?a?= b",
      "space next to an undecodable word kept" },
    { "x=?UTF-8?Q?a?=y", "xay", "a word touching text is still decoded" },

    /* Postfix's '?' for a folded line break */
    { "=?UTF-8?Q?r=C3=A9sultats?=? =?UTF-8?Q?_Q3?=", "r\xC3\xA9sultats Q3",
      "fold (LF space) between words" },
    { "=?UTF-8?Q?a?=?\?=?UTF-8?Q?b?=", "ab", "fold (LF tab) between words" },
    { "=?UTF-8?Q?caf=C3=A9?=? and more", "caf\xC3\xA9 and more", "fold before text" },
    { "=?UTF-8?Q?caf=C3=A9?=??and more", "caf\xC3\xA9 and more", "LF tab fold before text" },
    { "=?UTF-8?Q?caf=C3=A9?=?", "caf\xC3\xA9", "fold at the end (truncated)" },
    { "=?UTF-8?Q?caf=C3=A9?=?x", "caf\xC3\xA9?x", "a single ? before text is text" },
    { "Quarterly? report", "Quarterly? report", "? in plain text stays" },
};

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    size_t i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        is_str(mt_rfc2047_decode(p, cases[i].in), cases[i].out, "%s", cases[i].name);
    ok(mt_rfc2047_decode(p, NULL) == NULL, "NULL in, NULL out");
    {
        const char *in = "plain";
        const char *out = mt_rfc2047_decode(p, in);
        ok(out != in && strcmp(out, in) == 0, "plain text is copied into the pool");
    }
    {
        /* a long subject with many words: no fixed-size buffer anywhere */
        char *in = "", *want = "";
        int k;
        for (k = 0; k < 200; k++) {
            in = apr_pstrcat(p, in, k ? " " : "", "=?ISO-8859-1?Q?=E9=E8?=", NULL);
            want = apr_pstrcat(p, want, "\xC3\xA9\xC3\xA8", NULL);
        }
        is_str(mt_rfc2047_decode(p, in), want, "200 joined Latin-1 words");
    }

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
