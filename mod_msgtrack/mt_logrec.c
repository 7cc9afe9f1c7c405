/* mt_logrec.c: the parsed-line record */
#include <string.h>
#include "mt_logrec.h"

void mt_logrec_clear(mt_logrec_t *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->pid = -1;
    rec->line = -1;
    rec->size = -1;
    rec->nrcpt = -1;
}

static const char *const names[] = { NULL, "msgtrk", "postfix", "dovecot" };

const char *mt_format_name(mt_format_e f)
{
    return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : NULL;
}

mt_format_e mt_format_lookup(const char *name)
{
    unsigned i;
    for (i = 1; name && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return (mt_format_e)i;
    return MT_FORMAT_UNKNOWN;
}
