/**
 * @file mt_schema.h
 * @brief The bundled WSDL and XSDs: compiled once, validated against, served.
 */
#ifndef MT_SCHEMA_H
#define MT_SCHEMA_H

#include <apr_pools.h>
#include <apr_time.h>
#include <libxml/tree.h>
#include "mt_error.h"
#include "mt_out.h"

/** The files of a schema directory. */
typedef enum {
    MT_SCHEMA_FILE_WSDL = 0,  /**< Services.wsdl */
    MT_SCHEMA_FILE_MESSAGES,  /**< messages.xsd */
    MT_SCHEMA_FILE_TYPES,     /**< types.xsd */
    MT_SCHEMA_FILE_COUNT
} mt_schema_file_e;

/** A loaded schema directory: the compiled schema (messages.xsd, which
 *  imports types.xsd) and the three files' bytes for serving. Read-only once
 *  loaded, and safe to share between threads. */
typedef struct mt_schema_set_t mt_schema_set_t;

/** Load and compile the schema directory @a dir. On failure returns a
 *  message naming the file and what is wrong with it (for a startup error). */
const char *mt_schema_set_load(apr_pool_t *p, const char *dir, mt_schema_set_t **set);

/** The directory a set was loaded from. */
const char *mt_schema_set_dir(const mt_schema_set_t *set);

/** File name of @a f, as served and as found in the directory. */
const char *mt_schema_file_name(mt_schema_file_e f);

/** Which file @a name (case-insensitive) is, or -1. */
int mt_schema_file_lookup(const char *name);

/** Bytes and modification time of file @a f. */
const char *mt_schema_file_data(const mt_schema_set_t *set, mt_schema_file_e f,
                                apr_size_t *len, apr_time_t *mtime);

/** Write the WSDL with its service address set to @a endpoint_url. */
void mt_schema_write_wsdl(const mt_schema_set_t *set, mt_out_t *out, const char *endpoint_url);

/** Validate element @a elem (a global element of the messages or types
 *  namespace) of a parsed request. Returns NULL when valid, else an
 *  ErrorSchemaValidation error with the first violation and its position. */
mt_error_t *mt_schema_validate(const mt_schema_set_t *set, apr_pool_t *p, xmlNodePtr elem);

#endif
