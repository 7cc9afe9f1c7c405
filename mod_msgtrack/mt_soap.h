/**
 * @file mt_soap.h
 * @brief SOAP 1.1 envelope: safe parsing, envelope checks, the fault renderer.
 */
#ifndef MT_SOAP_H
#define MT_SOAP_H

#include <apr_pools.h>
#include <libxml/tree.h>
#include "mt_error.h"
#include "mt_out.h"

#define MT_NS_SOAP11   "http://schemas.xmlsoap.org/soap/envelope/"
#define MT_NS_SOAP12   "http://www.w3.org/2003/05/soap-envelope"
#define MT_NS_MESSAGES "http://schemas.microsoft.com/exchange/services/2006/messages"
#define MT_NS_TYPES    "http://schemas.microsoft.com/exchange/services/2006/types"
#define MT_NS_ERRORS   "http://schemas.microsoft.com/exchange/services/2006/errors"

/** An incremental request parser. Configured so that it never touches the
 *  network or the file system, never loads or applies a DTD, never expands
 *  entities, and refuses any document with a DOCTYPE (SOAP 1.1 forbids it).
 *  Its document and parser state are freed with the pool it was made in. */
typedef struct mt_soap_parser_t mt_soap_parser_t;

mt_soap_parser_t *mt_soap_parser_create(apr_pool_t *p);

/** Feed the next bytes of the body. Returns an error (and ignores later
 *  input) as soon as the document is known to be unacceptable. */
mt_error_t *mt_soap_parser_feed(mt_soap_parser_t *sp, const char *data, apr_size_t len);

/** End of body: returns the error, or sets @a doc to the parsed document. */
mt_error_t *mt_soap_parser_finish(mt_soap_parser_t *sp, xmlDocPtr *doc);

/** Feed and finish in one call. */
mt_error_t *mt_soap_parse(apr_pool_t *p, const char *data, apr_size_t len, xmlDocPtr *doc);

/** The parts of a request envelope. */
typedef struct {
    xmlNodePtr envelope;
    xmlNodePtr header;       /**< s:Header or NULL */
    xmlNodePtr version;      /**< t:RequestServerVersion in the header, or NULL */
    xmlNodePtr operation;    /**< the one element child of s:Body */
} mt_soap_request_t;

/** Check the envelope of a parsed document and find its parts: root is a
 *  SOAP 1.1 Envelope (else VersionMismatch), every mustUnderstand header is one
 *  we understand (else MustUnderstand), and the Body holds exactly one element. */
mt_error_t *mt_soap_open(apr_pool_t *p, xmlDocPtr doc, mt_soap_request_t *req);

/** Line and column (1-based, in characters) where an element's start tag
 *  begins; 0 when unknown. Works on documents from mt_soap_parser_t. */
int mt_soap_node_line(xmlNodePtr node);
int mt_soap_node_column(xmlNodePtr node);

/** Is @a content_type a SOAP 1.1 media type (text/xml, any parameters)? */
int mt_soap_content_type_ok(const char *content_type);

/** Start a response document: XML declaration, Envelope, the ServerVersionInfo
 *  header, and the opening Body tag. */
void mt_soap_write_envelope_start(mt_out_t *out);
/** Close what mt_soap_write_envelope_start() opened. */
void mt_soap_write_envelope_end(mt_out_t *out);

/** The fault renderer: writes a complete SOAP 1.1 Fault document for @a err
 *  (faultcode, faultstring, and the EWS detail: ResponseCode, Message and,
 *  when the error has a position or violation, MessageXml). The HTTP status
 *  for it is 500 and the content type mt_soap_content_type(). */
void mt_soap_write_fault(mt_out_t *out, const mt_error_t *err);

/** Content type of every SOAP response. */
#define MT_SOAP_CONTENT_TYPE "text/xml; charset=utf-8"

/** "{namespace}local" of @a node (just "local" without a namespace). */
const char *mt_soap_qname(apr_pool_t *p, xmlNodePtr node);

/** Is @a node an element named {ns}local? */
int mt_soap_is(xmlNodePtr node, const char *ns, const char *local);

#endif
