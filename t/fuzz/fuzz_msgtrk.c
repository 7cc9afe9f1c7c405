/* fuzz_msgtrk.c: libFuzzer target for mt_parse_msgtrk_line()
 *
 * Input: an Exchange message tracking log, or a piece of one: its lines go,
 * in order, through one parser state as msgtrack-index --format msgtrk reads
 * a file, so '#Fields' lines set the columns of the rows after them (a
 * first line may start with the UTF-8 BOM). Each line is parsed in a pool
 * cleared after it; the state lives in the input's pool. Checks mt_parse.h's
 * contract (a header line gives 0 or -1, a row with a record has an
 * event-id) and reads every string of a record and every recipient. */
#include <string.h>
#include "fuzz.h"

static void one_line(void *baton, const char *line, apr_pool_t *line_pool)
{
    mt_logrec_t rec;
    const char *why = NULL;
    mt_msgtrk_state_t *state = baton;
    int rc;

    mt_logrec_clear(&rec);
    rc = mt_parse_msgtrk_line(state, fuzz_parse_opts(), line, line_pool, &rec, &why);
    if (line[0] == '#' || strncmp(line, "\xEF\xBB\xBF#", 4) == 0) {
        /* a header line: 0, or -1 for a #Fields that lacks a needed column */
        FUZZ_ASSERT(rc == 0 || rc == -1, "header line gave %d: %s", rc, line);
    }
    fuzz_check_parse(rc, &rec, why, MT_FORMAT_MSGTRK, line);
    if (rc == 1)
        FUZZ_ASSERT(rec.msgtrk_event_id != NULL, "row without event-id: %s", line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_input_begin();
    fuzz_each_line(p, data, size, one_line, mt_msgtrk_state_create(p));
    fuzz_input_end();
    return 0;
}
