/* mt_config.c: configuration rules, shared by the module and the tests */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "mt_ascii.h"
#include "mt_config.h"

mt_dir_config_t *mt_dir_config_create(apr_pool_t *p)
{
    mt_dir_config_t *c = apr_pcalloc(p, sizeof(*c));
    c->max_results = MT_UNSET;
    c->search_days = MT_UNSET;
    c->read_tracking = MT_UNSET;
    c->max_request_body = MT_UNSET;
    return c;
}

mt_dir_config_t *mt_dir_config_merge(apr_pool_t *p, const mt_dir_config_t *base,
                                     const mt_dir_config_t *add)
{
    mt_dir_config_t *c = apr_pcalloc(p, sizeof(*c));
    c->mailbox_expr = add->mailbox_expr ? add->mailbox_expr : base->mailbox_expr;
    c->privileged_expr = add->privileged_expr ? add->privileged_expr : base->privileged_expr;
    c->max_results = add->max_results != MT_UNSET ? add->max_results : base->max_results;
    c->search_days = add->search_days != MT_UNSET ? add->search_days : base->search_days;
    c->read_tracking = add->read_tracking != MT_UNSET ? add->read_tracking : base->read_tracking;
    c->max_request_body = add->max_request_body != MT_UNSET ? add->max_request_body
                                                            : base->max_request_body;
    return c;
}

mt_server_config_t *mt_server_config_create(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(mt_server_config_t));
}

mt_server_config_t *mt_server_config_merge(apr_pool_t *p, const mt_server_config_t *base,
                                           const mt_server_config_t *add)
{
    mt_server_config_t *c = apr_pcalloc(p, sizeof(*c));
    c->database_dir = add->database_dir ? add->database_dir : base->database_dir;
    c->schema_dir = add->schema_dir ? add->schema_dir : base->schema_dir;
    c->domains = add->domains ? add->domains : base->domains;
    return c;
}

int mt_dir_config_max_results(const mt_dir_config_t *c)
{
    return c->max_results != MT_UNSET ? c->max_results : MT_DEFAULT_MAX_RESULTS;
}

int mt_dir_config_search_days(const mt_dir_config_t *c)
{
    return c->search_days != MT_UNSET ? c->search_days : MT_DEFAULT_SEARCH_DAYS;
}

int mt_dir_config_read_tracking(const mt_dir_config_t *c)
{
    return c->read_tracking != MT_UNSET ? c->read_tracking : MT_DEFAULT_READ_TRACKING;
}

long long mt_dir_config_max_request_body(const mt_dir_config_t *c)
{
    return c->max_request_body != MT_UNSET ? c->max_request_body : MT_DEFAULT_MAX_REQUEST_BODY;
}

const char *mt_server_config_schema_dir(const mt_server_config_t *c, const char *default_dir)
{
    return c->schema_dir ? c->schema_dir : default_dir;
}

static const char *parse_scaled(apr_pool_t *p, const char *what, const char *arg,
                                long long min, long long max, long long *value,
                                int allow_suffix)
{
    const char *s = arg;
    char *end;
    long long v, scale = 1;

    if (!s || !apr_isdigit(*s))
        goto bad;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno == ERANGE)
        goto bad;
    if (allow_suffix && *end) {
        switch (apr_tolower(*end)) {
        case 'k': scale = 1024; break;
        case 'm': scale = 1024 * 1024; break;
        case 'g': scale = 1024LL * 1024 * 1024; break;
        default: goto bad;
        }
        end++;
    }
    if (*end || v > max / scale)
        goto bad;
    v *= scale;
    if (v < min || v > max)
        goto bad;
    *value = v;
    return NULL;
bad:
    return apr_psprintf(p, "%s takes a whole number from %" APR_INT64_T_FMT " to %"
                        APR_INT64_T_FMT "%s, not '%s'", what, (apr_int64_t)min, (apr_int64_t)max, allow_suffix ? " (bytes; K, M, G suffixes allowed)" : "",
                        arg ? arg : "");
}

const char *mt_config_parse_number(apr_pool_t *p, const char *what, const char *arg,
                                   long long min, long long max, long long *value)
{
    return parse_scaled(p, what, arg, min, max, value, 0);
}

const char *mt_config_parse_bytes(apr_pool_t *p, const char *what, const char *arg,
                                  long long min, long long max, long long *value)
{
    return parse_scaled(p, what, arg, min, max, value, 1);
}

const char *mt_config_parse_domain(apr_pool_t *p, const char *arg, const char **domain)
{
    const char *s;
    apr_size_t len = arg ? strlen(arg) : 0;
    int label = 0;

    if (len == 0 || len > 253)
        goto bad;
    for (s = arg; *s; s++) {
        if (*s == '.') {
            if (label == 0 || s[-1] == '-')
                goto bad;
            label = 0;
        }
        else if (apr_isalnum(*s) || (*s == '-' && label > 0) || (unsigned char)*s >= 0x80) {
            if (++label > 63)
                goto bad;
        }
        else {
            goto bad;
        }
    }
    if (label == 0)
        goto bad;
    *domain = mt_ascii_lower(p, arg, strlen(arg));
    return NULL;
bad:
    return apr_psprintf(p, "MsgTrackDomains: '%s' is not a mail domain", arg ? arg : "");
}
