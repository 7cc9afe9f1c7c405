/* test_config.c: directive values and merging (TAP) */
#include <apr_general.h>
#include "tap.h"
#include "mt_config.h"

static const struct {
    const char *arg; long long min, max; int bytes; const char *err_has; long long want;
} parse_cases[] = {
    { "1000", 1, 100000, 0, NULL, 1000 },
    { "1", 1, 100000, 0, NULL, 1 },
    { "0", 1, 100000, 0, "from 1 to 100000", 0 },
    { "100001", 1, 100000, 0, "from 1 to 100000", 0 },
    { "-5", 1, 100000, 0, "whole number", 0 },
    { "12abc", 1, 100000, 0, "'12abc'", 0 },
    { "", 1, 100000, 0, "whole number", 0 },
    { "99999999999999999999", 1, 100000, 0, "whole number", 0 },
    { "64K", 1024, 16777216, 1, NULL, 65536 },
    { "1m", 1024, 16777216, 1, NULL, 1048576 },
    { "16M", 1024, 16777216, 1, NULL, 16777216 },
    { "17M", 1024, 16777216, 1, "bytes", 0 },
    { "1G", 1024, 16777216, 1, "bytes", 0 },
    { "512", 1024, 16777216, 1, "from 1024", 0 },
    { "65536", 1024, 16777216, 1, NULL, 65536 },
    { "64KB", 1024, 16777216, 1, "'64KB'", 0 },
    { "64K", 1024, 16777216, 0, "'64K'", 0 },
};

static const struct { const char *arg; const char *want; } domain_cases[] = {
    { "example.org", "example.org" }, { "Example.ORG", "example.org" },
    { "localhost", "localhost" }, { "a-b.example", "a-b.example" },
    { "-a.example", NULL }, { "a-.example", NULL }, { "a..b", NULL }, { ".a", NULL },
    { "a.", NULL }, { "a b", NULL }, { "a@b", NULL }, { "", NULL },
};

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    size_t i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        long long v = -1;
        const char *err = parse_cases[i].bytes
            ? mt_config_parse_bytes(p, "X", parse_cases[i].arg, parse_cases[i].min,
                                    parse_cases[i].max, &v)
            : mt_config_parse_number(p, "X", parse_cases[i].arg, parse_cases[i].min,
                                     parse_cases[i].max, &v);
        if (parse_cases[i].err_has) {
            like(err, parse_cases[i].err_has, "'%s' refused", parse_cases[i].arg);
        }
        else {
            ok(err == NULL, "'%s' accepted", parse_cases[i].arg);
            is_int(v, parse_cases[i].want, "'%s' value", parse_cases[i].arg);
        }
    }
    for (i = 0; i < sizeof(domain_cases) / sizeof(domain_cases[0]); i++) {
        const char *d = NULL;
        const char *err = mt_config_parse_domain(p, domain_cases[i].arg, &d);
        if (domain_cases[i].want)
            is_str(err ? NULL : d, domain_cases[i].want, "domain '%s'", domain_cases[i].arg);
        else
            like(err, "not a mail domain", "domain '%s' refused", domain_cases[i].arg);
    }

    /* Defaults when nothing is set. */
    {
        mt_dir_config_t *c = mt_dir_config_create(p);
        is_int(mt_dir_config_max_results(c), 1000, "default MsgTrackMaxResults");
        is_int(mt_dir_config_search_days(c), 14, "default MsgTrackSearchDays");
        is_int(mt_dir_config_read_tracking(c), 0, "default MsgTrackReadTracking");
        is_int(mt_dir_config_max_request_body(c), 65536, "default MsgTrackMaxRequestBody");
        ok(c->mailbox_expr == NULL && c->privileged_expr == NULL, "expressions unset");
    }

    /* Merge: child if set, else parent; for every field, both ways. */
    {
        static int expr_a, expr_b;
        mt_dir_config_t *unset = mt_dir_config_create(p);
        mt_dir_config_t *parent = mt_dir_config_create(p);
        mt_dir_config_t *child = mt_dir_config_create(p);
        mt_dir_config_t *m;

        parent->max_results = 50; parent->search_days = 7; parent->read_tracking = 1;
        parent->max_request_body = 4096; parent->mailbox_expr = &expr_a;
        parent->privileged_expr = &expr_a;
        child->max_results = 5; child->read_tracking = 0; child->mailbox_expr = &expr_b;

        m = mt_dir_config_merge(p, parent, unset);
        is_int(m->max_results, 50, "unset child inherits max_results");
        is_int(m->search_days, 7, "unset child inherits search_days");
        is_int(m->read_tracking, 1, "unset child inherits read_tracking");
        is_int(m->max_request_body, 4096, "unset child inherits max_request_body");
        ok(m->mailbox_expr == &expr_a, "unset child inherits mailbox");
        ok(m->privileged_expr == &expr_a, "unset child inherits privileged");

        m = mt_dir_config_merge(p, parent, child);
        is_int(m->max_results, 5, "child overrides max_results");
        is_int(m->search_days, 7, "child without search_days inherits it");
        is_int(m->read_tracking, 0, "child Off overrides parent On");
        ok(m->mailbox_expr == &expr_b, "child overrides mailbox");
        ok(m->privileged_expr == &expr_a, "child without privileged inherits it");

        m = mt_dir_config_merge(p, unset, unset);
        is_int(m->max_results, MT_UNSET, "unset merged with unset stays unset");
        is_int(mt_dir_config_max_results(m), 1000, "... and reads as the default");

        /* three levels: server, Location, nested Location */
        m = mt_dir_config_merge(p, mt_dir_config_merge(p, parent, unset), child);
        is_int(m->max_request_body, 4096, "three levels: grandparent value reaches");
        is_int(m->max_results, 5, "three levels: nearest value wins");
    }
    {
        mt_server_config_t *base = mt_server_config_create(p), *vhost = mt_server_config_create(p);
        mt_server_config_t *m;
        base->database_dir = "/var/lib/msgtrack";
        base->schema_dir = "/s";
        base->domains = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(base->domains, const char *) = "example.org";
        m = mt_server_config_merge(p, base, vhost);
        is_str(m->database_dir, "/var/lib/msgtrack", "vhost inherits MsgTrackDatabase");
        ok(m->domains == base->domains, "vhost inherits MsgTrackDomains");
        vhost->domains = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(vhost->domains, const char *) = "example.net";
        vhost->schema_dir = "/v";
        m = mt_server_config_merge(p, base, vhost);
        is_str(APR_ARRAY_IDX(m->domains, 0, const char *), "example.net",
               "vhost MsgTrackDomains replaces the server's");
        is_int(m->domains->nelts, 1, "... not appended");
        is_str(mt_server_config_schema_dir(m, "/default"), "/v", "vhost schema dir");
        is_str(mt_server_config_schema_dir(mt_server_config_create(p), "/default"), "/default",
               "default schema dir when unset");
    }
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
