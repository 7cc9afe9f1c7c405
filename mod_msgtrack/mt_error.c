/* mt_error.c: the error object */
#include <apr_strings.h>
#include "mt_error.h"

mt_error_t *mt_error_make(apr_pool_t *p, mt_fault_kind_e kind, const char *code,
                          const char *fmt, ...)
{
    mt_error_t *err = apr_pcalloc(p, sizeof(*err));
    va_list ap;

    va_start(ap, fmt);
    err->message = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    err->kind = kind;
    err->code = code;
    return err;
}

mt_error_t *mt_error_at(mt_error_t *err, const char *violation, int line, int column)
{
    err->violation = violation;
    err->line = line > 0 ? line : 0;
    err->column = column > 0 ? column : 0;
    return err;
}
