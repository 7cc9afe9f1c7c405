/**
 * @file mt_request.h
 * @brief Decoding a validated request into C structures.
 *
 * Input is an operation element that mt_schema_validate() accepted, so the
 * decoder relies on the schema for shape and checks only what the schema
 * cannot say (the server version, and values it leaves as strings).
 */
#ifndef MT_REQUEST_H
#define MT_REQUEST_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <libxml/tree.h>
#include "mt_error.h"

typedef enum {
    MT_OP_UNKNOWN = 0,
    MT_OP_FIND,   /**< FindMessageTrackingReport */
    MT_OP_GET     /**< GetMessageTrackingReport */
} mt_op_e;

/** Which operation the Body's element names; MT_OP_UNKNOWN otherwise. */
mt_op_e mt_request_op(xmlNodePtr operation);

/** NULL when the Body's element is one of the two operations, else the
 *  ErrorInvalidRequest fault naming it, at its position. */
mt_error_t *mt_request_check_op(apr_pool_t *p, xmlNodePtr operation);

/** The operation's name, e.g. "FindMessageTrackingReport". */
const char *mt_request_op_name(mt_op_e op);

/** An EmailAddressType. Absent children are NULL. */
typedef struct {
    const char *name;
    const char *address;
    const char *routing_type;
    const char *mailbox_type;
} mt_address_t;

/** A TrackingPropertyType. */
typedef struct {
    const char *name;
    const char *value;     /**< NULL when absent */
} mt_property_t;

typedef struct {
    const char *scope;                   /**< Scope (required) */
    const char *domain;                  /**< Domain (required) */
    const mt_address_t *sender;
    const mt_address_t *purported_sender; /**< accepted and ignored */
    const mt_address_t *recipient;
    const char *subject;
    int has_start, has_end;
    apr_time_t start, end;               /**< UTC microseconds when has_* */
    const char *message_id;
    const mt_address_t *federated_delivery_mailbox;
    const char *diagnostics_level;
    const char *server_hint;
    apr_array_header_t *properties;      /**< of mt_property_t; NULL when absent */
} mt_find_request_t;

typedef enum {
    MT_TEMPLATE_SUMMARY = 0,
    MT_TEMPLATE_RECIPIENT_PATH
} mt_report_template_e;

typedef struct {
    const char *scope;
    mt_report_template_e report_template;
    const mt_address_t *recipient_filter;
    const char *report_id;
    int return_queue_events;             /**< 1, 0, or -1 when absent */
    const char *diagnostics_level;
    apr_array_header_t *properties;
} mt_get_request_t;

/** A decoded request. */
typedef struct {
    mt_op_e op;
    /** RequestServerVersion's Version, or NULL when the header was absent. */
    const char *server_version;
    mt_find_request_t find;  /**< when op == MT_OP_FIND */
    mt_get_request_t get;    /**< when op == MT_OP_GET */
} mt_request_t;

/** Check a RequestServerVersion element (may be NULL: absent is accepted).
 *  Versions older than Exchange2010 get ErrorInvalidServerVersion. */
mt_error_t *mt_request_check_version(apr_pool_t *p, xmlNodePtr version, const char **value);

/** Decode the validated @a operation element into @a req. */
mt_error_t *mt_request_decode(apr_pool_t *p, xmlNodePtr operation, mt_request_t *req);

#endif
