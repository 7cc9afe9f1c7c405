/**
 * @file mt_config.h
 * @brief Configuration values, their defaults, parsing and merging.
 *
 * The glue stores directive values here; the rules (what is valid, what the
 * defaults are, how a child section inherits from its parent) live in the
 * core so they are unit-tested without httpd. Every field has an explicit
 * unset state; merging takes the child's value if set, else the parent's.
 */
#ifndef MT_CONFIG_H
#define MT_CONFIG_H

#include <apr_pools.h>
#include <apr_tables.h>

#define MT_UNSET (-1)

#define MT_DEFAULT_MAX_RESULTS      1000
#define MT_DEFAULT_SEARCH_DAYS      14
#define MT_DEFAULT_READ_TRACKING    0
#define MT_DEFAULT_MAX_REQUEST_BODY 65536

/** Per-directory configuration. The two expressions are compiled by the
 *  glue (ap_expr) and opaque here. */
typedef struct {
    const void *mailbox_expr;     /**< MsgTrackMailbox, NULL when unset */
    const void *privileged_expr;  /**< MsgTrackPrivileged, NULL when unset */
    int max_results;              /**< MsgTrackMaxResults */
    int search_days;              /**< MsgTrackSearchDays */
    int read_tracking;            /**< MsgTrackReadTracking */
    long long max_request_body;   /**< MsgTrackMaxRequestBody */
} mt_dir_config_t;

/** Per-server configuration. */
typedef struct {
    const char *database_dir;     /**< MsgTrackDatabase, NULL when unset */
    const char *schema_dir;       /**< MsgTrackSchemaDir, NULL when unset */
    apr_array_header_t *domains;  /**< MsgTrackDomains (const char *), NULL when unset */
} mt_server_config_t;

mt_dir_config_t *mt_dir_config_create(apr_pool_t *p);
mt_dir_config_t *mt_dir_config_merge(apr_pool_t *p, const mt_dir_config_t *base,
                                     const mt_dir_config_t *add);
mt_server_config_t *mt_server_config_create(apr_pool_t *p);
mt_server_config_t *mt_server_config_merge(apr_pool_t *p, const mt_server_config_t *base,
                                           const mt_server_config_t *add);

/** Effective values: the configured value, or the default when unset. */
int mt_dir_config_max_results(const mt_dir_config_t *c);
int mt_dir_config_search_days(const mt_dir_config_t *c);
int mt_dir_config_read_tracking(const mt_dir_config_t *c);
long long mt_dir_config_max_request_body(const mt_dir_config_t *c);
/** @a default_dir when MsgTrackSchemaDir is unset. */
const char *mt_server_config_schema_dir(const mt_server_config_t *c, const char *default_dir);

/** Parse a whole decimal number in [min, max]. Returns NULL, or an error
 *  message naming @a what and the accepted range. */
const char *mt_config_parse_number(apr_pool_t *p, const char *what, const char *arg,
                                   long long min, long long max, long long *value);

/** Parse a byte count: a number with an optional K, M or G suffix (powers of 1024). */
const char *mt_config_parse_bytes(apr_pool_t *p, const char *what, const char *arg,
                                  long long min, long long max, long long *value);

/** Check and normalise a mail domain for MsgTrackDomains (lower case). */
const char *mt_config_parse_domain(apr_pool_t *p, const char *arg, const char **domain);

/** Ranges accepted by the directives. */
#define MT_MAX_RESULTS_MIN 1
#define MT_MAX_RESULTS_MAX 100000
#define MT_SEARCH_DAYS_MIN 1
#define MT_SEARCH_DAYS_MAX 3650
#define MT_MAX_REQUEST_BODY_MIN 1024
#define MT_MAX_REQUEST_BODY_MAX (16LL * 1024 * 1024)

#endif
