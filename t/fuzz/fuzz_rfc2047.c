/* fuzz_rfc2047.c: libFuzzer target for mt_rfc2047_decode()
 *
 * Input: a header value (up to its first NUL), as the Postfix parser hands
 * a logged Subject to the decoder. The result must be valid UTF-8, as
 * mt_rfc2047.h promises, whatever the charsets named (any iconv knows). */
#include <string.h>
#include "fuzz.h"
#include "mt_rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_input_begin();
    char *s = malloc(size + 1);
    const char *out;

    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    out = mt_rfc2047_decode(p, s);
    FUZZ_ASSERT(out != NULL, "NULL for a string");
    FUZZ_ASSERT(fuzz_utf8_ok(out), "not UTF-8: '%s' from '%s'", out, s);
    free(s);
    fuzz_input_end();
    return 0;
}
