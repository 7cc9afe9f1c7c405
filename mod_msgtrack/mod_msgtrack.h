/**
 * @file mod_msgtrack.h
 * @brief Glue between httpd and the mod_msgtrack core.
 */
#ifndef MOD_MSGTRACK_H
#define MOD_MSGTRACK_H

#include "httpd.h"
#include "http_config.h"
#include "mt_config.h"
#include "mt_index.h"
#include "mt_schema.h"

extern module AP_MODULE_DECLARE_DATA msgtrack_module;

/** Per-server configuration as the glue keeps it. */
typedef struct {
    mt_server_config_t *core;
    /** Compiled in check_config from the effective MsgTrackSchemaDir. */
    const mt_schema_set_t *schemas;
    /** The index of MsgTrackDatabase, made in child_init (one per directory,
     *  shared by the virtual hosts that name it); NULL when unset. */
    mt_index_t *index;
} msgtrack_server_t;

/** The directive table, defined in mod_msgtrack_config.c. */
extern const command_rec msgtrack_cmds[];

void *msgtrack_create_dir_config(apr_pool_t *p, char *dir);
void *msgtrack_merge_dir_config(apr_pool_t *p, void *base, void *add);
void *msgtrack_create_server_config(apr_pool_t *p, server_rec *s);
void *msgtrack_merge_server_config(apr_pool_t *p, void *base, void *add);

#endif
