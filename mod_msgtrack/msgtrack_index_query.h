/**
 * @file msgtrack_index_query.h
 * @brief msgtrack-index find and report: run the query, print a table or JSON.
 *
 * Both run in one transaction of @a st as a privileged viewer with read
 * tracking and queue events on (the CLI is the operator's tool). Tables are
 * for people (UTC times, aligned columns, control characters shown as '?');
 * JSON is for programs and is always valid (UTF-8, invalid bytes replaced
 * by U+FFFD). Errors go to @a err as "msgtrack-index: CODE: message".
 * Both return the exit status: 0 ok, 1 runtime error (including an
 * operation-level error such as an unknown or malformed report id).
 */
#ifndef MSGTRACK_INDEX_QUERY_H
#define MSGTRACK_INDEX_QUERY_H

#include <stdio.h>
#include <apr_pools.h>
#include "mt_query.h"
#include "mt_store.h"

/** find: one row per message (submit time, sender, recipients, subject)
 *  with its report id on an indented line below, or a JSON array of
 *  {"submitted", "sender", "recipients", "subject", "message_id",
 *  "report_id", "first_hop", "previous_hop"}. A cut list (max_results)
 *  is said on @a err. */
int mtx_find(apr_pool_t *p, mt_store_t *st, const mt_find_t *q, int json, FILE *out,
             FILE *err);

/** report: @a id is a report id or a bare Message-ID ("<x@y>" or "x@y",
 *  meaning the message's origin hop). Without @a recipient a Summary, with
 *  it that recipient's RecipientPath. A header (Message-ID, Sender, Subject,
 *  Submitted, Recipients) and a table of events, or one JSON object
 *  {"message_id", "sender", "subject", "submitted", "original_recipients",
 *  "events": [{"date", "recipient", "delivery_status", "event_description",
 *  "event_data", "server", "internal_id", "bcc", "hidden", "root_address",
 *  "queue_event"}]}. */
int mtx_report(apr_pool_t *p, mt_store_t *st, const char *id, const char *recipient, int json,
               FILE *out, FILE *err);

/** Write @a s as a JSON string literal ("null" for NULL): control characters
 *  as \\u00XX (or their short escapes), invalid UTF-8 as U+FFFD. */
void mtx_json_string(FILE *out, const char *s);

#endif
