/**
 * @file mt_error.h
 * @brief The one error object of mod_msgtrack.
 *
 * Every failure a client can see is described by an mt_error_t, built where the
 * failure is found and rendered in exactly one place: mt_soap_write_fault() for
 * SOAP faults, or an operation's own response for operation-level errors.
 */
#ifndef MT_ERROR_H
#define MT_ERROR_H

#include <apr_pools.h>

/** How an error reaches the client. */
typedef enum {
    /** SOAP 1.1 Fault, HTTP 500; faultcode in the EWS types namespace. */
    MT_FAULT_EWS = 0,
    /** SOAP 1.1 Fault with faultcode s:VersionMismatch. */
    MT_FAULT_VERSION_MISMATCH,
    /** SOAP 1.1 Fault with faultcode s:MustUnderstand. */
    MT_FAULT_MUST_UNDERSTAND,
    /** Operation-level error: an ordinary response with ResponseClass="Error". */
    MT_FAULT_NONE
} mt_fault_kind_e;

/** A client-visible error. All strings live in the pool the error was made in. */
typedef struct mt_error_t {
    mt_fault_kind_e kind;
    /** EWS ResponseCodeType value, e.g. "ErrorSchemaValidation". */
    const char *code;
    /** Human-readable message (faultstring / MessageText). */
    const char *message;
    /** What exactly was wrong (MessageXml/Violation); may be NULL. */
    const char *violation;
    /** Position in the request document, 0 when unknown. */
    int line;
    int column;
} mt_error_t;

/** Make an error; @a fmt is printf-style and gives the message. */
mt_error_t *mt_error_make(apr_pool_t *p, mt_fault_kind_e kind, const char *code,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Attach a violation text and a position to @a err; returns @a err. */
mt_error_t *mt_error_at(mt_error_t *err, const char *violation, int line, int column);

#endif
