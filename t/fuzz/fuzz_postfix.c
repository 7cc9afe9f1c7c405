/* fuzz_postfix.c: libFuzzer target for mt_parse_postfix_line()
 *
 * Input: log text; each line is parsed as msgtrack-index --format postfix
 * parses it, in a pool cleared after the line. Checks mt_parse.h's contract,
 * reads every string of a record, and that a Subject is valid UTF-8. */
#include "fuzz.h"

static void one_line(void *baton, const char *line, apr_pool_t *line_pool)
{
    mt_logrec_t rec;
    const char *why = NULL;
    int rc;
    (void)baton;

    mt_logrec_clear(&rec);
    rc = mt_parse_postfix_line(fuzz_parse_opts(), line, line_pool, &rec, &why);
    fuzz_check_parse(rc, &rec, why, MT_FORMAT_POSTFIX, line);
    if (rc == 1 && rec.subject)
        FUZZ_ASSERT(fuzz_utf8_ok(rec.subject), "subject not UTF-8 for: %s", line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_each_line(fuzz_input_begin(), data, size, one_line, NULL);
    fuzz_input_end();
    return 0;
}
