/* mod_msgtrack_config.c: directives; values and rules live in mt_config.c */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_expr.h"
#include "apr_strings.h"
#include "mod_msgtrack.h"

APLOG_USE_MODULE(msgtrack);

void *msgtrack_create_dir_config(apr_pool_t *p, char *dir)
{
    (void)dir;
    return mt_dir_config_create(p);
}

void *msgtrack_merge_dir_config(apr_pool_t *p, void *base, void *add)
{
    return mt_dir_config_merge(p, base, add);
}

void *msgtrack_create_server_config(apr_pool_t *p, server_rec *s)
{
    msgtrack_server_t *conf = apr_pcalloc(p, sizeof(*conf));
    (void)s;
    conf->core = mt_server_config_create(p);
    return conf;
}

void *msgtrack_merge_server_config(apr_pool_t *p, void *basev, void *addv)
{
    const msgtrack_server_t *base = basev, *add = addv;
    msgtrack_server_t *conf = apr_pcalloc(p, sizeof(*conf));
    conf->core = mt_server_config_merge(p, base->core, add->core);
    return conf;
}

static mt_server_config_t *server_core(cmd_parms *cmd)
{
    msgtrack_server_t *conf = ap_get_module_config(cmd->server->module_config,
                                                   &msgtrack_module);
    return conf->core;
}

/* ------------------------------------------------------------------ server */

/* MsgTrackDatabase and MsgTrackSchemaDir: cmd->info is the field's offset. */
static const char *set_server_dir(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    const char *path;
    (void)dc;
    if (err)
        return err;
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path)
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, arg);
    *(const char **)((char *)server_core(cmd) + (apr_size_t)cmd->info) = path;
    return NULL;
}

static const char *add_domain(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    mt_server_config_t *core = server_core(cmd);
    const char *domain;
    (void)dc;
    if (err)
        return err;
    if ((err = mt_config_parse_domain(cmd->pool, arg, &domain)))
        return err;
    if (!core->domains)
        core->domains = apr_array_make(cmd->pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(core->domains, const char *) = domain;
    return NULL;
}

/* ------------------------------------------------------------------ directory */

static const char *set_mailbox(cmd_parms *cmd, void *dc, const char *arg)
{
    mt_dir_config_t *conf = dc;
    const char *err = NULL;
    ap_expr_info_t *expr = ap_expr_parse_cmd(cmd, arg, AP_EXPR_FLAG_STRING_RESULT, &err, NULL);
    if (err)
        return apr_psprintf(cmd->pool, "MsgTrackMailbox: cannot parse '%s': %s", arg, err);
    conf->mailbox_expr = expr;
    return NULL;
}

static const char *set_privileged(cmd_parms *cmd, void *dc, const char *arg)
{
    mt_dir_config_t *conf = dc;
    const char *err = NULL;
    ap_expr_info_t *expr = ap_expr_parse_cmd(cmd, arg, 0, &err, NULL);
    if (err)
        return apr_psprintf(cmd->pool, "MsgTrackPrivileged: cannot parse '%s': %s", arg, err);
    conf->privileged_expr = expr;
    return NULL;
}

/* A bounded whole number: cmd->info describes the field and its range. */
typedef struct {
    apr_size_t offset;
    long long min, max;
} number_slot_t;

static const number_slot_t max_results_slot = {
    APR_OFFSETOF(mt_dir_config_t, max_results), MT_MAX_RESULTS_MIN, MT_MAX_RESULTS_MAX };
static const number_slot_t search_days_slot = {
    APR_OFFSETOF(mt_dir_config_t, search_days), MT_SEARCH_DAYS_MIN, MT_SEARCH_DAYS_MAX };

static const char *set_dir_number(cmd_parms *cmd, void *dc, const char *arg)
{
    const number_slot_t *slot = cmd->info;
    long long v;
    const char *err = mt_config_parse_number(cmd->pool, cmd->cmd->name, arg, slot->min,
                                             slot->max, &v);
    if (!err)
        *(int *)((char *)dc + slot->offset) = (int)v;
    return err;
}

static const char *set_read_tracking(cmd_parms *cmd, void *dc, int flag)
{
    mt_dir_config_t *conf = dc;
    (void)cmd;
    conf->read_tracking = flag ? 1 : 0;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dc, const char *arg)
{
    mt_dir_config_t *conf = dc;
    long long v;
    const char *err = mt_config_parse_bytes(cmd->pool, "MsgTrackMaxRequestBody", arg,
                                            MT_MAX_REQUEST_BODY_MIN, MT_MAX_REQUEST_BODY_MAX, &v);
    if (!err)
        conf->max_request_body = v;
    return err;
}

const command_rec msgtrack_cmds[] = {
    AP_INIT_TAKE1("MsgTrackDatabase", set_server_dir,
                  (void *)APR_OFFSETOF(mt_server_config_t, database_dir), RSRC_CONF,
                  "Berkeley DB environment directory built by msgtrack-index"),
    AP_INIT_TAKE1("MsgTrackSchemaDir", set_server_dir,
                  (void *)APR_OFFSETOF(mt_server_config_t, schema_dir), RSRC_CONF,
                  "Directory holding Services.wsdl, messages.xsd and types.xsd"),
    AP_INIT_ITERATE("MsgTrackDomains", add_domain, NULL, RSRC_CONF,
                    "Mail domains this server answers for"),
    AP_INIT_TAKE1("MsgTrackMailbox", set_mailbox, NULL, RSRC_CONF | ACCESS_CONF,
                  "Expression giving the caller's SMTP address (default %{REMOTE_USER})"),
    AP_INIT_TAKE1("MsgTrackPrivileged", set_privileged, NULL, RSRC_CONF | ACCESS_CONF,
                  "Condition under which the caller gets the help desk view (default false)"),
    AP_INIT_TAKE1("MsgTrackMaxResults", set_dir_number, (void *)&max_results_slot,
                  RSRC_CONF | ACCESS_CONF,
                  "Most results one FindMessageTrackingReport returns (default 1000)"),
    AP_INIT_TAKE1("MsgTrackSearchDays", set_dir_number, (void *)&search_days_slot,
                  RSRC_CONF | ACCESS_CONF,
                  "Days searched when StartDateTime is absent (default 14)"),
    AP_INIT_FLAG("MsgTrackReadTracking", set_read_tracking, NULL, RSRC_CONF | ACCESS_CONF,
                 "Report Read/NotRead events (default Off)"),
    AP_INIT_TAKE1("MsgTrackMaxRequestBody", set_max_body, NULL, RSRC_CONF | ACCESS_CONF,
                  "Largest SOAP request body in bytes; 413 beyond (default 65536)"),
    { NULL }
};
